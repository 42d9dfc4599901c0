/*
 * Sessions suite: what happens to pending requests when requesters and
 * responders leave, come back, or are taken over. Mosquitto tells a plugin
 * only the clean start flag and fires extra DISCONNECT events on reconnects
 * and takeovers; these tests hold the plugin to README's invariant through
 * all of that: exactly one receipt per request, also when the requester's
 * session may have ended (the plugin cannot see a Session Expiry Interval,
 * so it keeps the request and publishes its receipt like any message).
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* How late a broker-made timeout may be: deadlines are checked on the
 * broker's ~100 ms tick, plus scheduling. */
#define TICK_SLACK_MS 200
/* A request that must outlive the test's steps without timing out. */
#define LONG_TIMEOUT "3000"

static struct broker broker;

static void setup(void)
{
	broker_start(&broker, NULL);
}

static void teardown(void)
{
	broker_stop(&broker);
}

/* A client (clean or persistent) subscribed at QoS 1 to filter. */
static struct client *joined(const char *id, bool clean, const char *filter)
{
	return subscriber_at(&broker, id, clean, filter, 1);
}

/* alice's QoS 1 request to req/A, receipt to ret/alice/1 with
 * correlation c-1; returns the PUBACK reason code. */
static int alice_asks(struct client *alice, const char *timeout_ms)
{
	return publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", timeout_ms);
}

/* alice's request as delivered to a responder. */
static struct msg *takes_request(struct client *resp)
{
	struct msg *m = expect_request(resp, "req/A", "question", "alice");
	assert_token(m, "c-1");
	return m;
}

/* bob answers on req/A, alice asks him with `timeout_ms`, bob has the
 * request: where every test here starts. */
struct trip {
	struct client *bob, *alice;
	struct msg *request;
	int64_t sent;
};

static void trip_start(struct trip *t, bool bob_clean, bool alice_clean, const char *timeout_ms)
{
	t->bob = joined("bob", bob_clean, "req/A");
	t->alice = joined("alice", alice_clean, "ret/alice/#");
	t->sent = harness_now_ms();
	ck_assert_int_eq(alice_asks(t->alice, timeout_ms), 0);
	t->request = takes_request(t->bob);
}

static void trip_free(struct trip *t)
{
	msg_free(t->request);
	client_free(t->alice);
	client_free(t->bob);
}

/* alice's one receipt on ret/alice/1 at QoS 1, and nothing after it.
 * reason NULL: an answer (payload `answer`); otherwise a broker-made
 * receipt. */
static void gets_one_receipt(struct client *alice, const char *status, const char *reason)
{
	expect_receipt(alice, "ret/alice/1", reason ? "" : "answer", status, reason, "c-1", 1);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
}

/* Waits until the broker has logged the `count`-th `Client <id> <what>`:
 * the broker has then handled that connection's end, DISCONNECT event
 * included, before it reads anything the test sends next. */
static void broker_saw(const char *id, const char *what, int count)
{
	char needle[128];
	snprintf(needle, sizeof(needle), "Client %s %s", id, what);
	ck_assert_msg(broker_log_wait_count(&broker, needle, count, RCPT_ARRIVAL_MS), "log: no %d x '%s'", count, needle);
}

/* ---- requesters that leave ---- */

/* How a requester's connection ends. */
static int leave_by_disconnect(struct client *c)
{
	return client_disconnect(c);
}

static const struct {
	int (*leave)(struct client *c);
	const char *logged; /* the broker's line for that end */
} endings[] = {
	{leave_by_disconnect, "disconnected."},
	{client_drop, "closed its connection."},
};

/* A clean requester that leaves keeps its request: the plugin cannot see a
 * Session Expiry Interval, so it never drops what the broker may keep. The
 * answer is forwarded like any message: a new session of alice's that
 * subscribed gets it once. */
START_TEST(clean_requester_gone_keeps_its_request)
{
	struct trip t;
	trip_start(&t, true, true, LONG_TIMEOUT);

	ck_assert_int_eq(endings[_i].leave(t.alice), 0);
	broker_saw("alice", endings[_i].logged, 1);
	struct client *again = joined("alice", true, "ret/alice/#");

	ck_assert_int_eq(client_answer(t.bob, t.request, "answer", 1), 0);
	gets_one_receipt(again, RECEIPTS_STATUS_OK, NULL);
	ck_assert_int_eq(broker_log_count(&broker, "abandoned"), 0);
	ck_assert(client_quiet(t.bob, 0));
	client_free(again);
	trip_free(&t);
}
END_TEST

/* The same when nobody answers: the timeout receipt at the deadline. */
START_TEST(clean_requester_gone_gets_its_timeout)
{
	struct trip t;
	trip_start(&t, true, true, "600");

	ck_assert_int_eq(client_disconnect(t.alice), 0);
	broker_saw("alice", "disconnected.", 1);
	struct client *again = joined("alice", true, "ret/alice/#");
	gets_one_receipt(again, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	ck_assert_int_ge(harness_now_ms() - t.sent, 600);
	ck_assert(client_quiet(t.bob, 0));
	client_free(again);
	trip_free(&t);
}
END_TEST

/* Clean start 1 with Session Expiry Interval 300: the broker keeps the
 * session (and its subscription) after the disconnect, though the plugin
 * sees only the clean flag. The receipt, answer (_i 0) or timeout (_i 1),
 * is queued for it and arrives once when alice resumes with session
 * present. */
START_TEST(clean_start_requester_with_expiry_gets_receipt_on_resume)
{
	bool answered = _i == 0;
	struct client *bob = joined("bob", true, "req/A");
	struct connect_spec spec = {.id = "alice", .clean_start = true, .session_expiry = 300};
	struct client *alice = NULL;
	ck_assert_int_eq(client_connect_rc(&broker, &spec, &alice), 0);
	ck_assert_int_eq(client_subscribe(alice, "ret/alice/#", 1), 1);
	int64_t sent = harness_now_ms();
	ck_assert_int_eq(alice_asks(alice, answered ? LONG_TIMEOUT : "400"), 0);
	struct msg *request = takes_request(bob);

	ck_assert_int_eq(client_disconnect(alice), 0);
	broker_saw("alice", "disconnected.", 1);
	if(answered){
		/* The session has a subscriber: accepted and queued, not 0x10. */
		ck_assert_int_eq(client_answer(bob, request, "answer", 1), 0);
	}else{
		ck_assert(broker_log_wait(&broker, "receipt 'timeout' (" RECEIPTS_REASON_DEADLINE ") to 'ret/alice/1'",
				RCPT_ARRIVAL_MS));
	}

	struct client *back = client_connect(&broker, "alice", false);
	gets_one_receipt(back, answered ? RECEIPTS_STATUS_OK : RECEIPTS_STATUS_TIMEOUT,
			answered ? NULL : RECEIPTS_REASON_DEADLINE);
	if(!answered) ck_assert_int_ge(harness_now_ms() - sent, 400);
	ck_assert_int_eq(broker_log_count(&broker, "abandoned"), 0);
	ck_assert(client_quiet(bob, 0));
	msg_free(request);
	client_free(back);
	client_free(alice);
	client_free(bob);
}
END_TEST

START_TEST(persistent_requester_gets_answer_queued_while_away)
{
	struct trip t;
	trip_start(&t, true, false, LONG_TIMEOUT);

	ck_assert_int_eq(client_disconnect(t.alice), 0);
	broker_saw("alice", "disconnected.", 1);
	/* Queued for the offline session: accepted, not refused. */
	ck_assert_int_eq(client_answer(t.bob, t.request, "answer", 1), 0);

	struct client *back = client_connect(&broker, "alice", false);
	gets_one_receipt(back, RECEIPTS_STATUS_OK, NULL);
	ck_assert(client_quiet(t.bob, 0));
	client_free(back);
	trip_free(&t);
}
END_TEST

START_TEST(persistent_requester_gets_timeout_queued_while_away)
{
	struct trip t;
	trip_start(&t, true, false, "300");

	ck_assert_int_eq(client_disconnect(t.alice), 0);
	broker_saw("alice", "disconnected.", 1);
	ck_assert(broker_log_wait(&broker, "receipt 'timeout' (" RECEIPTS_REASON_DEADLINE ") to 'ret/alice/1'",
			RCPT_ARRIVAL_MS));

	struct client *back = client_connect(&broker, "alice", false);
	gets_one_receipt(back, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	ck_assert(client_quiet(t.bob, 0));
	client_free(back);
	trip_free(&t);
}
END_TEST

START_TEST(persistent_requester_back_with_clean_start_keeps_its_request)
{
	struct trip t;
	trip_start(&t, true, false, LONG_TIMEOUT);

	ck_assert_int_eq(client_disconnect(t.alice), 0);
	broker_saw("alice", "disconnected.", 1);
	/* The broker throws the old session away; the new one subscribes
	 * afresh, as a clean client must, and still gets the answer once. */
	struct client *fresh = joined("alice", true, "ret/alice/#");

	ck_assert_int_eq(client_answer(t.bob, t.request, "answer", 1), 0);
	gets_one_receipt(fresh, RECEIPTS_STATUS_OK, NULL);
	ck_assert_int_eq(broker_log_count(&broker, "abandoned"), 0);
	ck_assert(client_quiet(t.bob, 0));
	client_free(fresh);
	trip_free(&t);
}
END_TEST

/* Each way a persistent requester comes back twice in a row: after
 * leaving, or by taking its live session over. Both make the broker fire
 * DISCONNECT events that claim a clean session. */
START_TEST(persistent_requester_back_twice_keeps_its_request)
{
	bool takeover = _i == 1;
	struct trip t;
	trip_start(&t, true, false, LONG_TIMEOUT);
	struct client *conn[3] = {t.alice};

	for(int i = 1; i < 3; i++){
		if(!takeover){
			ck_assert_int_eq(client_disconnect(conn[i - 1]), 0);
			broker_saw("alice", "disconnected.", i);
		}
		conn[i] = client_connect(&broker, "alice", false);
		if(takeover) broker_saw("alice", "already connected, closing old connection.", i);
	}

	ck_assert_int_eq(client_answer(t.bob, t.request, "answer", 1), 0);
	gets_one_receipt(conn[2], RECEIPTS_STATUS_OK, NULL);
	ck_assert(client_quiet(conn[1], 0));
	ck_assert(client_quiet(t.alice, 0));
	client_free(conn[2]);
	client_free(conn[1]);
	trip_free(&t);
}
END_TEST

/* ---- responders that leave ---- */

START_TEST(offline_persistent_responder_gets_the_request_queued)
{
	struct client *bob = joined("bob", false, "req/A");
	ck_assert_int_eq(client_disconnect(bob), 0);
	broker_saw("bob", "disconnected.", 1);

	struct client *alice = joined("alice", true, "ret/alice/#");
	/* The offline session is a subscriber: the request is queued for it,
	 * not answered with no-responders. */
	ck_assert_int_eq(alice_asks(alice, LONG_TIMEOUT), 0);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));

	struct client *back = client_connect(&broker, "bob", false);
	struct msg *request = takes_request(back);
	ck_assert_int_eq(client_answer(back, request, "answer", 1), 0);
	gets_one_receipt(alice, RECEIPTS_STATUS_OK, NULL);
	ck_assert(client_quiet(back, 0));
	msg_free(request);
	client_free(back);
	client_free(alice);
	client_free(bob);
}
END_TEST

START_TEST(dropped_persistent_responder_leaves_the_request_to_time_out)
{
	struct trip t;
	trip_start(&t, false, true, "500");

	ck_assert_int_eq(client_drop(t.bob), 0);
	broker_saw("bob", "closed its connection.", 1);
	/* Its session lives on: the request ends by its deadline, not by
	 * responder-gone. */
	gets_one_receipt(t.alice, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	ck_assert_int_ge(harness_now_ms() - t.sent, 500);
	trip_free(&t);
}
END_TEST

START_TEST(dropped_clean_responder_gives_responder_gone)
{
	struct trip t;
	trip_start(&t, true, true, LONG_TIMEOUT);

	ck_assert_int_eq(client_drop(t.bob), 0);
	gets_one_receipt(t.alice, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	/* At once, not at the deadline. */
	ck_assert_int_lt(harness_now_ms() - t.sent, 1000);
	trip_free(&t);
}
END_TEST

START_TEST(taken_over_responder_answers_from_its_new_connection)
{
	struct trip t;
	trip_start(&t, false, true, LONG_TIMEOUT);
	/* The old connection's PUBACK first: a request still unacknowledged at
	 * the takeover is sent again to the new connection (DUP), as MQTT says
	 * (seen with 2.0.15, where the PUBACK lost the race to the CONNECT). */
	ck_assert(broker_log_wait(&broker, "Received PUBACK from bob (Mid: ", RCPT_ARRIVAL_MS));

	struct client *next = client_connect(&broker, "bob", false);
	broker_saw("bob", "already connected, closing old connection.", 1);
	/* The request is the session's, and the session is the new
	 * connection's now. */
	ck_assert_int_eq(client_answer(next, t.request, "answer", 1), 0);
	gets_one_receipt(t.alice, RECEIPTS_STATUS_OK, NULL);
	ck_assert(client_quiet(next, 0));
	ck_assert(client_quiet(t.bob, 0));
	client_free(next);
	trip_free(&t);
}
END_TEST

Suite *sessions_suite(void)
{
	Suite *s = suite_create("sessions");

	TCase *req = harness_tcase("requesters");
	tcase_add_checked_fixture(req, setup, teardown);
	tcase_add_loop_test(req, clean_requester_gone_keeps_its_request, 0,
			(int)(sizeof(endings) / sizeof(endings[0])));
	tcase_add_test(req, clean_requester_gone_gets_its_timeout);
	tcase_add_loop_test(req, clean_start_requester_with_expiry_gets_receipt_on_resume, 0, 2);
	tcase_add_test(req, persistent_requester_gets_answer_queued_while_away);
	tcase_add_test(req, persistent_requester_gets_timeout_queued_while_away);
	tcase_add_test(req, persistent_requester_back_with_clean_start_keeps_its_request);
	tcase_add_loop_test(req, persistent_requester_back_twice_keeps_its_request, 0, 2);
	suite_add_tcase(s, req);

	TCase *resp = harness_tcase("responders");
	tcase_add_checked_fixture(resp, setup, teardown);
	tcase_add_test(resp, offline_persistent_responder_gets_the_request_queued);
	tcase_add_test(resp, dropped_persistent_responder_leaves_the_request_to_time_out);
	tcase_add_test(resp, dropped_clean_responder_gives_responder_gone);
	tcase_add_test(resp, taken_over_responder_answers_from_its_new_connection);
	suite_add_tcase(s, resp);
	return s;
}
