/*
 * QoS 2 suite: the exchanges a client library will not produce, replayed
 * with the raw client of raw_mqtt.h against a real broker. A responder
 * whose PUBREC was lost sends its answer again with DUP; a responder's
 * clean session ends between PUBLISH and PUBREL; a requester sends its
 * PUBREL late, or its PUBLISH again with DUP, before or after the verdict.
 * Each test asserts the secure outcome and that the requester gets exactly
 * one receipt, and nothing else arrives anywhere.
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "raw_mqtt.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

#define ANSWER_MID 7
#define REQUEST_MID 3
/* A PUBREL later than the harness's 1 s grace, and what the attack used. */
#define LATE_MS 1500

static struct broker broker;

static void setup(void)
{
	broker_start(&broker, NULL);
}

/* The default grace (10 s) and a timeout that outlasts the test's steps. */
static void setup_default_grace(void)
{
	broker_start(&broker, "plugin_opt_" RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS " 10000\n"
			"plugin_opt_" RECEIPTS_OPT_DEFAULT_TIMEOUT_MS " 8000\n");
}

static void teardown(void)
{
	broker_stop(&broker);
}

static struct raw *raw_at(const char *id, bool clean, uint32_t expiry, bool expect_present)
{
	struct raw_connect spec = {.id = id, .clean_start = clean, .session_expiry = expiry};
	struct raw *r = NULL;
	bool present = false;
	ck_assert_int_eq(raw_connect(&broker, &spec, &r, &present), 0);
	ck_assert_int_eq(present, expect_present);
	return r;
}

/* ---- attack 5: QoS 2 answers ---- */

/* A raw responder subscribed to req/A at QoS 1; its session persists
 * unless clean. */
static struct raw *raw_worker(bool clean)
{
	struct raw *w = raw_at("worker", clean, clean ? 0 : 3600, false);
	ck_assert_int_eq(raw_subscribe(w, "req/A", 1, 1), 1);
	return w;
}

/* The request as the raw worker receives it (acknowledged). */
static void worker_takes(struct raw *w, struct raw_packet *req)
{
	ck_assert(raw_expect(w, RAW_PUBLISH, RCPT_ARRIVAL_MS, req));
	ck_assert_str_eq(req->topic, "req/A");
	ck_assert_str_eq(raw_user(req, RECEIPTS_PROP_REQUESTER), "alice");
	ck_assert_str_eq(req->response_topic, "ret/alice/1");
	ck_assert_int_eq(raw_ack(w, RAW_PUBACK, req->mid), 0);
}

/* The worker's QoS 2 answer to req (dup as given); returns the PUBREC's
 * reason code. */
static int worker_answers(struct raw *w, const struct raw_packet *req, bool dup)
{
	struct raw_publish a = {.topic = req->response_topic, .payload = "answer", .payload_len = 6,
		.qos = 2, .dup = dup, .mid = ANSWER_MID,
		.correlation = req->correlation, .correlation_len = req->correlation_len};
	ck_assert_int_eq(raw_publish(w, &a), 0);
	struct raw_packet rec;
	ck_assert(raw_expect(w, RAW_PUBREC, RCPT_ARRIVAL_MS, &rec));
	ck_assert_int_eq(rec.mid, ANSWER_MID);
	int rc = rec.reason;
	raw_packet_free(&rec);
	return rc;
}

static void worker_releases(struct raw *w)
{
	ck_assert_int_eq(raw_ack(w, RAW_PUBREL, ANSWER_MID), 0);
	struct raw_packet comp;
	ck_assert(raw_expect(w, RAW_PUBCOMP, RCPT_ARRIVAL_MS, &comp));
	ck_assert_int_eq(comp.mid, ANSWER_MID);
	raw_packet_free(&comp);
}

/* alice (libmosquitto, QoS 1 on her return area) asks; the raw worker has
 * the request. */
static struct client *alice_asks(struct raw *w, struct raw_packet *req, const char *timeout_ms)
{
	struct client *alice = requester_at(&broker, "alice", true, 1);
	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", timeout_ms), 0);
	worker_takes(w, req);
	return alice;
}

/* A worker that never answers leaves nothing behind either. */
static void raw_quiet(struct raw *r, int window_ms)
{
	struct raw_packet p;
	bool got = raw_read(r, window_ms, &p);
	if(got){
		fprintf(stderr, "raw: unexpected packet type %u\n", p.type);
		raw_packet_free(&p);
	}
	ck_assert(!got);
}

/* The PUBREC is lost: the worker reconnects (session present) and sends the
 * answer again with DUP, as MQTT 5 requires. Accepted again, forwarded
 * once, counted once. */
START_TEST(resent_answer_after_lost_pubrec)
{
	struct raw *w = raw_worker(false);
	struct raw_packet req;
	struct client *alice = alice_asks(w, &req, "5000");
	ck_assert_int_eq(worker_answers(w, &req, false), 0);
	raw_drop(w);
	ck_assert(broker_log_wait(&broker, "Client worker closed its connection.", RCPT_ARRIVAL_MS));

	w = raw_at("worker", false, 3600, true);
	ck_assert_int_eq(worker_answers(w, &req, true), 0);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	worker_releases(w);
	expect_receipt(alice, "ret/alice/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-1", 1);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	ck_assert_int_eq(broker_log_count(&broker, "refused receipt"), 0);
	raw_packet_free(&req);
	raw_disconnect(w);
	client_free(alice);
}
END_TEST

/* The worker's clean session ends between its PUBLISH and PUBREL: the
 * broker discards the answer, so the request ends responder-gone (not `ok`
 * with nothing delivered). A DUP from its next session is refused. */
START_TEST(answer_lost_with_clean_session)
{
	struct raw *w = raw_worker(true);
	struct raw_packet req;
	struct client *alice = alice_asks(w, &req, "5000");
	ck_assert_int_eq(worker_answers(w, &req, false), 0);
	raw_drop(w);

	expect_receipt(alice, "ret/alice/1", "", RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED, "c-1", 1);
	w = raw_at("worker", true, 0, false);
	ck_assert_int_eq(worker_answers(w, &req, true), MQTT_RC_NOT_AUTHORIZED);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	raw_packet_free(&req);
	raw_disconnect(w);
	client_free(alice);
}
END_TEST

/* The worker withholds its PUBREL past the request's deadline: alice gets
 * the timeout, and the stale answer released afterwards reaches nobody. */
START_TEST(answer_released_after_timeout_held_back)
{
	struct raw *w = raw_worker(false);
	struct raw_packet req;
	struct client *alice = alice_asks(w, &req, "600");
	ck_assert_int_eq(worker_answers(w, &req, false), 0);
	expect_receipt(alice, "ret/alice/1", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-1", 1);
	worker_releases(w);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	raw_packet_free(&req);
	raw_disconnect(w);
	client_free(alice);
}
END_TEST

/* ---- attack 6: QoS 2 requests ---- */

/* A raw requester alice, subscribed to her return area at QoS 1. */
static struct raw *raw_alice(void)
{
	struct raw *a = raw_at("alice", true, 0, false);
	ck_assert_int_eq(raw_subscribe(a, "ret/alice/#", 1, 1), 1);
	return a;
}

/* alice's QoS 2 request (dup as given); returns the PUBREC reason code. */
static int alice_sends(struct raw *a, bool dup)
{
	struct raw_publish p = {.topic = "req/A", .payload = "question", .payload_len = 8, .qos = 2,
		.dup = dup, .mid = REQUEST_MID, .response_topic = "ret/alice/1", .correlation = "c-1",
		.correlation_len = 3};
	ck_assert_int_eq(raw_publish(a, &p), 0);
	struct raw_packet rec;
	ck_assert(raw_expect(a, RAW_PUBREC, RCPT_ARRIVAL_MS, &rec));
	ck_assert_int_eq(rec.mid, REQUEST_MID);
	int rc = rec.reason;
	raw_packet_free(&rec);
	return rc;
}

static void alice_releases(struct raw *a)
{
	ck_assert_int_eq(raw_ack(a, RAW_PUBREL, REQUEST_MID), 0);
	struct raw_packet comp;
	ck_assert(raw_expect(a, RAW_PUBCOMP, RCPT_ARRIVAL_MS, &comp));
	raw_packet_free(&comp);
}

/* alice's one receipt, with status (reason NULL: the worker's answer). */
static void alice_gets_one(struct raw *a, const char *status, const char *reason)
{
	struct raw_packet r;
	ck_assert(raw_expect(a, RAW_PUBLISH, RCPT_ARRIVAL_MS, &r));
	ck_assert_str_eq(r.topic, "ret/alice/1");
	ck_assert_str_eq(raw_user(&r, RECEIPTS_PROP_RECEIPT), status);
	if(reason) ck_assert_str_eq(raw_user(&r, RECEIPTS_PROP_REASON), reason);
	else ck_assert_str_eq(r.payload, "answer");
	ck_assert(r.has_correlation && r.correlation_len == 3 && !memcmp(r.correlation, "c-1", 3));
	if(r.mid) ck_assert_int_eq(raw_ack(a, RAW_PUBACK, r.mid), 0);
	raw_packet_free(&r);
	raw_quiet(a, RCPT_QUIET_MS);
}

/* PUBREL 1.5 s after the PUBLISH, within the default grace: the request is
 * delivered and answered, not declared no-responders. */
START_TEST(late_pubrel_within_grace_is_answered)
{
	struct client *worker = subscriber_at(&broker, "worker", true, "req/A", 1);
	struct raw *a = raw_alice();
	ck_assert_int_eq(alice_sends(a, false), 0);
	ck_assert(client_quiet(worker, LATE_MS));
	alice_releases(a);
	struct msg *req = expect_request(worker, "req/A", "question", "alice");
	ck_assert_int_eq(client_answer(worker, req, "answer", 1), 0);
	alice_gets_one(a, RECEIPTS_STATUS_OK, NULL);
	ck_assert(client_quiet(worker, 0));
	msg_free(req);
	raw_disconnect(a);
	client_free(worker);
}
END_TEST

/* The PUBLISH again with DUP 1.5 s later, before the PUBREL: the same
 * request, delivered once, one receipt. */
START_TEST(dup_publish_before_pubrel_is_one_request)
{
	struct client *worker = subscriber_at(&broker, "worker", true, "req/A", 1);
	struct raw *a = raw_alice();
	ck_assert_int_eq(alice_sends(a, false), 0);
	ck_assert(client_quiet(worker, LATE_MS));
	ck_assert_int_eq(alice_sends(a, true), 0);
	alice_releases(a);
	struct msg *req = expect_request(worker, "req/A", "question", "alice");
	ck_assert(client_quiet(worker, RCPT_QUIET_MS));
	ck_assert_int_eq(client_answer(worker, req, "answer", 1), 0);
	alice_gets_one(a, RECEIPTS_STATUS_OK, NULL);
	msg_free(req);
	raw_disconnect(a);
	client_free(worker);
}
END_TEST

/* PUBREL after the (harness's 1 s) grace: alice already has no-responders,
 * so the late PUBREL delivers the request to nobody, and a DUP PUBLISH
 * after the verdict is refused (0x87) without a second receipt. */
START_TEST(after_the_verdict_nothing_more)
{
	bool dup_first = _i == 1;
	struct client *worker = subscriber_at(&broker, "worker", true, "req/A", 1);
	struct raw *a = raw_alice();
	ck_assert_int_eq(alice_sends(a, false), 0);
	alice_gets_one(a, RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
	if(dup_first){
		ck_assert_int_eq(alice_sends(a, true), MQTT_RC_NOT_AUTHORIZED);
		ck_assert(broker_log_wait(&broker, "refused request from 'alice' on 'req/A': " RECEIPTS_REJECT_RESENT,
				RCPT_ARRIVAL_MS));
	}else{
		alice_releases(a);
		ck_assert_int_eq(alice_sends(a, true), MQTT_RC_NOT_AUTHORIZED);
	}
	ck_assert(client_quiet(worker, RCPT_QUIET_MS));
	raw_quiet(a, RCPT_QUIET_MS);
	raw_disconnect(a);
	client_free(worker);
}
END_TEST

Suite *qos2_suite(void)
{
	Suite *s = suite_create("qos2");
	TCase *tc = harness_tcase("answers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, resent_answer_after_lost_pubrec);
	tcase_add_test(tc, answer_lost_with_clean_session);
	tcase_add_test(tc, answer_released_after_timeout_held_back);
	suite_add_tcase(s, tc);

	tc = harness_tcase("requests");
	tcase_add_checked_fixture(tc, setup_default_grace, teardown);
	tcase_add_test(tc, late_pubrel_within_grace_is_answered);
	tcase_add_test(tc, dup_publish_before_pubrel_is_one_request);
	suite_add_tcase(s, tc);

	tc = harness_tcase("after-the-verdict");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, after_the_verdict_nothing_more, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
