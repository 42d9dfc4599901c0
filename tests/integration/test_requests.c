/*
 * Requests suite: the request half of README's contract against a real
 * broker. How a request is recognised and rewritten, the broker's own
 * verdicts (timeout, no-responders, responder-gone), which answers pass as
 * receipts, and every refusal a client can provoke.
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* How late a broker-made timeout receipt may be: deadlines are checked on
 * the broker's ~100 ms tick, plus scheduling. */
#define TICK_SLACK_MS 200
/* "At once": far below any timeout the requests here carry. */
#define AT_ONCE_MS 500
/* QoS 2 no-responders waits for the harness's 1 s grace period, checked on the tick. */
#define QOS2_GRACE_MS (1000 + TICK_SLACK_MS + 300)
/* A timeout that no test waits for: the request stays pending. */
#define LONG_TIMEOUT "5000"

static struct broker broker;

static void start_default(void)
{
	broker_start(&broker, NULL);
}

/* Requests with a Response Topic outside ret/ are plain MQTT 5 unless this
 * is set (see test_transparency.c for the default). */
static void start_open_returns_tracked(void)
{
	broker_start(&broker, "plugin_opt_" RECEIPTS_OPT_OPEN_RETURN_TOPICS " tracked\n");
}

static void start_max_timeout_400(void)
{
	/* The default may not exceed the maximum (the harness sets 2000). */
	broker_start(&broker, "plugin_opt_" RECEIPTS_OPT_MAX_TIMEOUT_MS " 400\n"
			"plugin_opt_" RECEIPTS_OPT_DEFAULT_TIMEOUT_MS " 300\n");
}

static void stop_broker(void)
{
	broker_stop(&broker);
}

/* ---- helpers ---- */

/* Subscribed at QoS 2 so that a message arrives at the QoS it was sent
 * with, which lets tests check the QoS of requests and receipts. */
static struct client *responder(const char *id, const char *filter)
{
	return subscriber_at(&broker, id, true, filter, 2);
}

static struct client *requester(const char *id)
{
	return requester_at(&broker, id, true, 2);
}

/* The two ends of most tests here: responder resp-<id> on req/A,
 * requester req-<id>, and the request as the responder received it. */
struct routed {
	struct client *resp, *req;
	struct msg *request;
};

static struct routed route(const char *id, const char *topic, const struct props_spec *props, int qos)
{
	char resp_id[32], req_id[32];
	snprintf(resp_id, sizeof(resp_id), "resp-%s", id);
	snprintf(req_id, sizeof(req_id), "req-%s", id);
	struct routed r = {.resp = responder(resp_id, "req/A"), .req = requester(req_id)};
	r.request = request_reaches(r.req, topic, "question", props, qos, r.resp, "req/A");
	return r;
}

static void route_free(struct routed *r)
{
	msg_free(r->request);
	client_free(r->req);
	client_free(r->resp);
}

/* The responder answers and the requester gets exactly that as `ok`. */
static void route_answered(struct routed *r, const char *return_topic, const char *corr)
{
	answer_gets_ok(r->resp, r->request, r->req, return_topic, corr);
	route_free(r);
}

/* A publish to a return topic that the broker must refuse as a receipt:
 * 0x87, the log line naming why, and nothing reaches the requester. */
static void answer_refused(struct client *from, const char *topic, const void *corr, uint16_t corr_len,
		const char *why, struct client *req)
{
	struct props_spec props = {.correlation = corr, .correlation_len = corr_len};
	ck_assert_int_eq(client_publish_str(from, topic, "forged", 1, false, &props), MQTT_RC_NOT_AUTHORIZED);
	char needle[256];
	snprintf(needle, sizeof(needle), "refused receipt from '%s' on '%s': %s\n", client_id(from), topic, why);
	ck_assert_msg(broker_log_wait(&broker, needle, RCPT_ARRIVAL_MS), "no log line: %s", needle);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
}

/* ---- routing: what makes a request and how it is delivered ---- */

static void check_area_topic(const char *topic)
{
	struct client *resp = responder("resp-route", "req/A/#");
	struct client *req = requester("req-route");
	struct props_spec props = {.response_topic = "ret/req-route/1", .correlation = "c-1", .correlation_len = 3};

	request_round_trip(req, topic, &props, resp, topic, "ret/req-route/1", "c-1");
	ck_assert(client_quiet(resp, 0));
	client_free(req);
	client_free(resp);
}

START_TEST(request_on_area_topic_is_delivered_and_answered)
{
	check_area_topic("req/A");
}
END_TEST

START_TEST(request_below_area_topic_is_delivered_and_answered)
{
	check_area_topic("req/A/sub");
}
END_TEST

START_TEST(subject_area_property_reroutes_to_the_area)
{
	struct client *resp = responder("resp-sa", "req/A");
	struct client *orig = responder("orig-sa", "devices/#");
	struct client *req = requester("req-sa");
	struct props_spec props = {.response_topic = "ret/req-sa/1", .correlation = "c-sa", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_SUBJECT_AREA, "A"}, {"keep", "me"})};

	struct msg *request = request_reaches(req, "devices/42/config", "question", &props, 1, resp, "req/A");
	ck_assert_int_eq(msg_user_count(request, RECEIPTS_PROP_ORIGINAL_TOPIC), 1);
	ck_assert_str_eq(msg_user(request, RECEIPTS_PROP_ORIGINAL_TOPIC), "devices/42/config");
	ck_assert_int_eq(msg_user_count(request, RECEIPTS_PROP_SUBJECT_AREA), 0);
	ck_assert_pstr_eq(msg_user(request, "keep"), "me");
	assert_token(request, "c-sa");
	answer_gets_ok(resp, request, req, "ret/req-sa/1", "c-sa");
	msg_free(request);
	/* Re-routed, not copied: the original topic's subscriber gets nothing. */
	ck_assert(client_quiet(orig, 0));
	ck_assert(client_quiet(resp, 0));
	client_free(req);
	client_free(orig);
	client_free(resp);
}
END_TEST

START_TEST(return_area_sets_the_response_topic)
{
	struct props_spec props = {.correlation = "c-ra", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_RETURN_AREA, "inbox"})};

	struct routed r = route("ra", "req/A", &props, 1);
	ck_assert_int_eq(msg_user_count(r.request, RECEIPTS_PROP_RETURN_AREA), 0);
	route_answered(&r, "ret/req-ra/inbox", "c-ra");
}
END_TEST

START_TEST(request_without_correlation_gets_broker_correlation)
{
	struct props_spec props = {.response_topic = "ret/req-nc/1"};

	struct routed r = route("nc", "req/A", &props, 1);
	assert_token(r.request, NULL);
	/* The broker takes its token off again. */
	route_answered(&r, "ret/req-nc/1", NULL);
}
END_TEST

START_TEST(forged_broker_properties_are_replaced)
{
	struct props_spec props = {.response_topic = "ret/req-fg/1", .correlation = "c-fg", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_REQUESTER, "mallory"}, {RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK},
				{RECEIPTS_PROP_REASON, "forged"}, {RECEIPTS_PROP_ORIGINAL_TOPIC, "elsewhere"},
				{RECEIPTS_PROP_REQUESTER, "eve"})};

	/* request_reaches asserts exactly one `requester`, the true id. */
	struct routed r = route("fg", "req/A", &props, 1);
	ck_assert_int_eq(msg_user_count(r.request, RECEIPTS_PROP_RECEIPT), 0);
	ck_assert_int_eq(msg_user_count(r.request, RECEIPTS_PROP_REASON), 0);
	ck_assert_int_eq(msg_user_count(r.request, RECEIPTS_PROP_ORIGINAL_TOPIC), 0);
	route_answered(&r, "ret/req-fg/1", "c-fg");
}
END_TEST

START_TEST(forged_original_topic_on_rerouted_request_is_replaced)
{
	struct props_spec props = {.response_topic = "ret/req-fo/1", .correlation = "c-fo", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_ORIGINAL_TOPIC, "forged/topic"}, {RECEIPTS_PROP_SUBJECT_AREA, "A"})};

	struct routed r = route("fo", "devices/7", &props, 1);
	ck_assert_int_eq(msg_user_count(r.request, RECEIPTS_PROP_ORIGINAL_TOPIC), 1);
	ck_assert_str_eq(msg_user(r.request, RECEIPTS_PROP_ORIGINAL_TOPIC), "devices/7");
	route_answered(&r, "ret/req-fo/1", "c-fo");
}
END_TEST

/* ---- timeout ---- */

/* A silent subscriber; the receipt must come once, between the deadline
 * and the deadline plus a tick, at the request's QoS. */
static void check_timeout(int qos, const char *timeout_ms, int expect_ms)
{
	struct client *resp = responder("resp-to", "req/T");
	struct client *req = requester("req-to");
	struct props_spec props = {.response_topic = "ret/req-to/1", .correlation = "c-to", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, timeout_ms})};

	int64_t sent = harness_now_ms();
	struct msg *request = request_reaches(req, "req/T", "question", &props, qos, resp, "req/T");
	struct msg *receipt = expect_on(req, "ret/req-to/1");
	int64_t elapsed = harness_now_ms() - sent;
	assert_broker_receipt(receipt, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-to", qos);
	ck_assert_int_ge(elapsed, expect_ms);
	ck_assert_int_le(elapsed, expect_ms + TICK_SLACK_MS);

	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(request);
	msg_free(receipt);
	client_free(req);
	client_free(resp);
}

START_TEST(timeout_receipt_qos1)
{
	check_timeout(1, "300", 300);
}
END_TEST

START_TEST(timeout_receipt_qos0)
{
	check_timeout(0, "300", 300);
}
END_TEST

START_TEST(timeout_receipt_qos2)
{
	check_timeout(2, "300", 300);
}
END_TEST

START_TEST(timeout_above_max_is_clamped)
{
	check_timeout(1, "5000", 400);
}
END_TEST

/* ---- no-responders ---- */

static void check_no_responders(int qos, int within_ms)
{
	struct client *req = requester("req-nr");
	struct props_spec props = {.response_topic = "ret/req-nr/1", .correlation = "c-nr", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, "3000"})};

	int64_t sent = harness_now_ms();
	/* Whether the broker also says "no matching subscribers" (0x10) is
	 * the broker's business; the plugin accepts the request. */
	int rc = client_publish_str(req, "req/nobody", "question", qos, false, &props);
	ck_assert_msg(rc == 0 || rc == MQTT_RC_NO_MATCHING_SUBSCRIBERS, "PUBACK %d", rc);
	struct msg *receipt = expect_on(req, "ret/req-nr/1");
	int64_t elapsed = harness_now_ms() - sent;
	assert_broker_receipt(receipt, RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER, "c-nr", qos);
	ck_assert_int_le(elapsed, within_ms);

	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	msg_free(receipt);
	client_free(req);
}

START_TEST(no_responders_qos0_at_once)
{
	check_no_responders(0, AT_ONCE_MS);
}
END_TEST

START_TEST(no_responders_qos1_at_once)
{
	check_no_responders(1, AT_ONCE_MS);
}
END_TEST

START_TEST(no_responders_qos2_within_grace)
{
	check_no_responders(2, QOS2_GRACE_MS);
}
END_TEST

/* ---- responder-gone ---- */

static void expect_responder_gone(struct client *req, const char *return_topic, const char *corr)
{
	struct msg *receipt = expect_on(req, return_topic);
	assert_broker_receipt(receipt, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED, corr, 1);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	msg_free(receipt);
}

static const struct props_spec gone_props = {.response_topic = "ret/req-rg/1",
	.correlation = "c-rg", .correlation_len = 4, USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, LONG_TIMEOUT})};

START_TEST(only_responder_dropped_gives_responder_gone)
{
	struct client *resp = responder("resp-rg", "req/G");
	struct client *req = requester("req-rg");

	msg_free(request_reaches(req, "req/G", "question", &gone_props, 1, resp, "req/G"));
	ck_assert_int_eq(client_drop(resp), 0);
	expect_responder_gone(req, "ret/req-rg/1", "c-rg");
	client_free(req);
	client_free(resp);
}
END_TEST

START_TEST(responder_gone_only_after_every_responder_left)
{
	struct client *resp1 = responder("resp-rg1", "req/G");
	struct client *resp2 = responder("resp-rg2", "req/G");
	struct client *req = requester("req-rg");

	msg_free(request_reaches(req, "req/G", "question", &gone_props, 1, resp1, "req/G"));
	struct msg *copy = expect_on(resp2, "req/G");
	msg_free(copy);
	ck_assert_int_eq(client_drop(resp1), 0);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert_int_eq(client_drop(resp2), 0);
	expect_responder_gone(req, "ret/req-rg/1", "c-rg");
	client_free(req);
	client_free(resp2);
	client_free(resp1);
}
END_TEST

START_TEST(shared_subscription_reaches_one_member)
{
	struct client *members[2] = {responder("resp-sh1", "$share/g/req/A"), responder("resp-sh2", "$share/g/req/A")};
	struct client *req = requester("req-rg");

	ck_assert_int_eq(client_publish_str(req, "req/A", "question", 1, false, &gone_props), 0);
	/* Which member gets it is the broker's choice: poll both. */
	struct msg *request = NULL;
	int got = -1;
	for(int64_t end = harness_now_ms() + RCPT_ARRIVAL_MS; request == NULL && harness_now_ms() < end;){
		for(int i = 0; i < 2 && request == NULL; i++){
			request = client_wait(members[i], 20);
			got = i;
		}
	}
	ck_assert_msg(request != NULL, "no member received the request");
	ck_assert_str_eq(request->topic, "req/A");
	ck_assert_pstr_eq(msg_user(request, RECEIPTS_PROP_REQUESTER), "req-rg");
	ck_assert(client_quiet(members[1 - got], RCPT_QUIET_MS));
	/* It reached one client only: that one leaving ends it, though the
	 * other member is still subscribed. */
	ck_assert_int_eq(client_drop(members[got]), 0);
	expect_responder_gone(req, "ret/req-rg/1", "c-rg");
	msg_free(request);
	client_free(req);
	client_free(members[0]);
	client_free(members[1]);
}
END_TEST

/* ---- receipts: which answers pass ---- */

static const struct props_spec answer_props = {.response_topic = "ret/req-rc/1",
	.correlation = "c-rc", .correlation_len = 4, USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, LONG_TIMEOUT})};

START_TEST(duplicate_answer_is_refused)
{
	struct routed r = route("rc", "req/A", &answer_props, 1);
	ck_assert_int_eq(client_answer(r.resp, r.request, "first", 1), 0);
	expect_receipt(r.req, "ret/req-rc/1", "first", RECEIPTS_STATUS_OK, NULL, "c-rc", 1);
	/* The same token again: that request has ended. */
	answer_refused(r.resp, "ret/req-rc/1", r.request->correlation, r.request->correlation_len,
			RECEIPTS_UNMATCHED_NOT_PENDING, r.req);
	route_free(&r);
}
END_TEST

START_TEST(late_answer_after_timeout_is_refused)
{
	struct props_spec props = {.response_topic = "ret/req-rc/1", .correlation = "c-rc", .correlation_len = 4,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, "300"})};

	struct routed r = route("rc", "req/A", &props, 1);
	expect_receipt(r.req, "ret/req-rc/1", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-rc", 1);
	ck_assert_int_eq(client_answer(r.resp, r.request, "late", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert(broker_log_wait(&broker, "refused receipt from 'resp-rc' on 'ret/req-rc/1': "
				RECEIPTS_UNMATCHED_NOT_PENDING "\n", RCPT_ARRIVAL_MS));
	ck_assert(client_quiet(r.req, RCPT_QUIET_MS));
	route_free(&r);
}
END_TEST

/* A refused answer leaves the request pending: the true answer still
 * passes afterwards. */
/* The token the responder got, as a forger's correlation. */
#define THE_TOKEN "(token)"

static void check_refused_then_answered(const char *forger_id, const char *corr, const char *why)
{
	struct routed r = route("rc", "req/A", &answer_props, 1);
	struct client *forger = forger_id ? client_connect(&broker, forger_id, true) : r.resp;

	if(corr && !strcmp(corr, THE_TOKEN)){
		answer_refused(forger, "ret/req-rc/1", r.request->correlation, r.request->correlation_len, why, r.req);
	}else{
		answer_refused(forger, "ret/req-rc/1", corr, corr ? (uint16_t)strlen(corr) : 0, why, r.req);
	}
	if(forger != r.resp) client_free(forger);
	route_answered(&r, "ret/req-rc/1", "c-rc");
}

START_TEST(answer_with_wrong_correlation_is_refused)
{
	check_refused_then_answered(NULL, "wrong", RECEIPTS_UNMATCHED_NOT_PENDING);
}
END_TEST

START_TEST(answer_from_client_not_reached_is_refused)
{
	check_refused_then_answered("intruder", THE_TOKEN, RECEIPTS_UNMATCHED_NOT_DELIVERED);
}
END_TEST

/* Only the token names the request: the requester's own correlation,
 * which the responder never saw, matches nothing. */
START_TEST(answer_with_the_requesters_correlation_is_refused)
{
	check_refused_then_answered(NULL, "c-rc", RECEIPTS_UNMATCHED_NOT_PENDING);
}
END_TEST

START_TEST(answer_without_correlation_is_refused)
{
	check_refused_then_answered(NULL, NULL, RECEIPTS_UNMATCHED_NO_CORRELATION);
}
END_TEST

START_TEST(responder_receipt_property_is_replaced_by_ok)
{
	struct props_spec answer = {USER_PROPS({RECEIPTS_PROP_RECEIPT, "bogus"})};

	struct routed r = route("rc", "req/A", &answer_props, 1);
	answer.correlation = r.request->correlation;
	answer.correlation_len = r.request->correlation_len;
	ck_assert_int_eq(client_publish_str(r.resp, "ret/req-rc/1", "answer", 1, false, &answer), 0);
	/* Exactly one `receipt`, and it is `ok`. */
	expect_receipt(r.req, "ret/req-rc/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-rc", 1);
	ck_assert(client_quiet(r.req, RCPT_QUIET_MS));
	route_free(&r);
}
END_TEST

START_TEST(retained_answer_is_forwarded_unretained)
{
	struct routed r = route("rc", "req/A", &answer_props, 1);
	struct props_spec answer = {.correlation = r.request->correlation,
		.correlation_len = r.request->correlation_len};
	ck_assert_int_eq(client_publish_str(r.resp, "ret/req-rc/1", "answer", 1, true, &answer), 0);
	expect_receipt(r.req, "ret/req-rc/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-rc", 1);
	/* Subscribing again would deliver a retained message at once. */
	ck_assert_int_eq(client_unsubscribe(r.req, "ret/req-rc/#"), 0);
	ck_assert_int_eq(client_subscribe(r.req, "ret/req-rc/#", 2), 2);
	ck_assert(client_quiet(r.req, RCPT_QUIET_MS));
	route_free(&r);
}
END_TEST

START_TEST(qos2_request_and_qos2_answer)
{
	struct routed r = route("rc", "req/A", &answer_props, 2);
	assert_token(r.request, "c-rc");
	ck_assert_int_eq(client_answer(r.resp, r.request, "answer", 2), 0);
	expect_receipt(r.req, "ret/req-rc/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-rc", 2);
	ck_assert(client_quiet(r.req, RCPT_QUIET_MS));
	ck_assert(client_quiet(r.resp, 0));
	route_free(&r);
}
END_TEST

/* ---- refusals, table-driven ---- */

#define A16 "aaaaaaaaaaaaaaaa"
#define AREA_129 A16 A16 A16 A16 A16 A16 A16 A16 "a"

struct refusal {
	const char *conf;            /* broker options, or NULL */
	const char *id;              /* the requester */
	const char *topic;
	const char *response_topic;  /* NULL: none */
	const char *corr;            /* NULL: none */
	struct user_pair user[2];
	int user_count;
	int qos;
	bool retain;
	const char *reason;
	const char *receipt_topic;   /* where `rejected` arrives; NULL: nowhere */
	const char *prior_corr[2];   /* requests accepted first, to response_topic */
	int prior_count;
	const char *filter;          /* the requester's subscription; NULL: ret/<id>/# */
	const char *ok_topic;        /* the follow-up's return topic; NULL: ret/<id>/ok */
};

#define TIMEOUT_PROP(v) .user = {{RECEIPTS_PROP_TIMEOUT_MS, v}}, .user_count = 1

static const struct refusal refusals[] = {
	{.id = "rf-dollar", .topic = "req/$x", .response_topic = "ret/rf-dollar/1", .corr = "c1", .qos = 2,
		.reason = RECEIPTS_REJECT_BAD_AREA, .receipt_topic = "ret/rf-dollar/1"},
	{.id = "rf-long", .topic = "req/" AREA_129, .response_topic = "ret/rf-long/1", .corr = "c1", .qos = 1,
		.reason = RECEIPTS_REJECT_BAD_AREA, .receipt_topic = "ret/rf-long/1"},
	{.id = "rf-plus", .topic = "dev/1", .response_topic = "ret/rf-plus/1", .corr = "c1", .qos = 1,
		.user = {{RECEIPTS_PROP_SUBJECT_AREA, "a+b"}}, .user_count = 1,
		.reason = RECEIPTS_REJECT_BAD_AREA, .receipt_topic = "ret/rf-plus/1"},
	/* From 2.0.20 the broker drops it before the plugin sees it. */
	{.id = "rf-wild", .topic = "req/A", .response_topic = "ret/rf-wild/+", .corr = "c1", .qos = 1,
		.reason = RECEIPTS_REJECT_BAD_RETURN_TOPIC},
	{.id = "rf-bare", .topic = "req/A", .response_topic = "ret/", .corr = "c1", .qos = 1,
		.reason = RECEIPTS_REJECT_BAD_RETURN_TOPIC},
	{.id = "rf-sys", .topic = "req/A", .response_topic = "$SYS/x", .corr = "c1", .qos = 1,
		.reason = RECEIPTS_REJECT_BAD_RETURN_TOPIC},
	{.id = "rf-rarea", .topic = "req/A", .corr = "c1", .qos = 1,
		.user = {{RECEIPTS_PROP_RETURN_AREA, "a/b"}}, .user_count = 1,
		.reason = RECEIPTS_REJECT_BAD_RETURN_AREA},
	{.id = "rf-foreign", .topic = "req/A", .response_topic = "ret/victim/1", .corr = "c1", .qos = 1,
		.reason = RECEIPTS_REJECT_FOREIGN_RETURN_AREA},
	/* An id with '/' has no return area; its follow-up uses an open one. */
	{.conf = "plugin_opt_" RECEIPTS_OPT_OPEN_RETURN_TOPICS " tracked\n", .id = "a/b", .topic = "req/A", .corr = "c1", .qos = 1,
		.user = {{RECEIPTS_PROP_RETURN_AREA, "x"}}, .user_count = 1,
		.reason = RECEIPTS_REJECT_BAD_CLIENT_ID, .filter = "open/ab", .ok_topic = "open/ab"},
	{.conf = "plugin_opt_" RECEIPTS_OPT_MAX_PENDING_PER_CLIENT " 2\n",
		.id = "rf-quota", .topic = "req/A", .response_topic = "ret/rf-quota/1", .corr = "q3", .qos = 1,
		.reason = RECEIPTS_REJECT_OVER_QUOTA, .receipt_topic = "ret/rf-quota/1",
		.prior_corr = {"q1", "q2"}, .prior_count = 2},
	{.id = "rf-t0", .topic = "req/A", .response_topic = "ret/rf-t0/1", .corr = "c1", .qos = 1,
		TIMEOUT_PROP("0"), .reason = RECEIPTS_REJECT_BAD_TIMEOUT, .receipt_topic = "ret/rf-t0/1"},
	{.id = "rf-tneg", .topic = "req/A", .response_topic = "ret/rf-tneg/1", .corr = "c1", .qos = 1,
		TIMEOUT_PROP("-5"), .reason = RECEIPTS_REJECT_BAD_TIMEOUT, .receipt_topic = "ret/rf-tneg/1"},
	/* QoS 0: dropped without an acknowledgement, the receipt still comes. */
	{.id = "rf-tabc", .topic = "req/A", .response_topic = "ret/rf-tabc/1", .corr = "c1", .qos = 0,
		TIMEOUT_PROP("abc"), .reason = RECEIPTS_REJECT_BAD_TIMEOUT, .receipt_topic = "ret/rf-tabc/1"},
	{.id = "rf-tsp", .topic = "req/A", .response_topic = "ret/rf-tsp/1", .corr = "c1", .qos = 1,
		TIMEOUT_PROP(" 5"), .reason = RECEIPTS_REJECT_BAD_TIMEOUT, .receipt_topic = "ret/rf-tsp/1"},
	/* The follow-up's 4-byte correlation shows that 4 is still accepted. */
	{.conf = "plugin_opt_" RECEIPTS_OPT_MAX_CORRELATION_LEN " 4\n",
		.id = "rf-corr", .topic = "req/A", .response_topic = "ret/rf-corr/1", .corr = "12345", .qos = 1,
		.reason = RECEIPTS_REJECT_CORRELATION_TOO_LONG, .receipt_topic = "ret/rf-corr/1"},
	{.id = "rf-2sa", .topic = "dev/1", .response_topic = "ret/rf-2sa/1", .corr = "c1", .qos = 1,
		.user = {{RECEIPTS_PROP_SUBJECT_AREA, "A"}, {RECEIPTS_PROP_SUBJECT_AREA, "B"}}, .user_count = 2,
		.reason = RECEIPTS_REJECT_AMBIGUOUS, .receipt_topic = "ret/rf-2sa/1"},
	/* Which of the two would be the return topic is the ambiguity itself. */
	{.id = "rf-rart", .topic = "req/A", .response_topic = "ret/rf-rart/1", .corr = "c1", .qos = 1,
		.user = {{RECEIPTS_PROP_RETURN_AREA, "x"}}, .user_count = 1,
		.reason = RECEIPTS_REJECT_AMBIGUOUS},
	{.id = "rf-ret", .topic = "req/A", .response_topic = "ret/rf-ret/1", .corr = "c1", .qos = 1, .retain = true,
		.reason = RECEIPTS_REJECT_RETAINED, .receipt_topic = "ret/rf-ret/1"},
};

static struct props_spec pending_props(const char *response_topic, const char *corr)
{
	static const struct user_pair long_timeout[] = {{RECEIPTS_PROP_TIMEOUT_MS, LONG_TIMEOUT}};
	return (struct props_spec){.response_topic = response_topic,
		.correlation = corr, .correlation_len = (uint16_t)strlen(corr),
		.user = long_timeout, .user_count = 1};
}

START_TEST(refused_request)
{
	const struct refusal *rf = &refusals[_i];
	char filter[160], ok_topic[160], needle[400];
	snprintf(filter, sizeof(filter), "ret/%s/#", rf->id);
	snprintf(ok_topic, sizeof(ok_topic), "ret/%s/ok", rf->id);
	broker_start(&broker, rf->conf);
	/* Whatever the request's topic, it must reach no subscriber. */
	struct client *resp = responder("resp-rf", "req/#");
	ck_assert_int_eq(client_subscribe(resp, "dev/#", 2), 2);
	struct client *req = responder(rf->id, rf->filter ? rf->filter : filter);

	struct msg *prior[2];
	for(int i = 0; i < rf->prior_count; i++){
		struct props_spec props = pending_props(rf->response_topic, rf->prior_corr[i]);
		prior[i] = request_reaches(req, "req/A", "question", &props, 1, resp, "req/A");
	}

	struct props_spec props = {.response_topic = rf->response_topic,
		.correlation = rf->corr, .correlation_len = rf->corr ? (uint16_t)strlen(rf->corr) : 0,
		.user = rf->user, .user_count = rf->user_count};
	int ack = client_publish_str(req, rf->topic, "refused", rf->qos, rf->retain, &props);
	if(rf->response_topic && broker_drops_response_topic(rf->response_topic)){
		/* 2.0.20 on: the broker's own protocol error, the plugin never sees it. */
		ck_assert_msg(ack == -1, "case %d (%s): PUBACK %d from a broker that drops it", _i, rf->id, ack);
		assert_dropped_for_protocol_error(&broker, req);
		ck_assert_int_eq(broker_log_count(&broker, "receipts: refused "), 0);
		ck_assert(client_quiet(resp, RCPT_QUIET_MS));
		/* The same client, back, is served as before. */
		client_free(req);
		req = responder(rf->id, rf->filter ? rf->filter : filter);
		struct props_spec fine = pending_props(rf->ok_topic ? rf->ok_topic : ok_topic, "fine");
		request_round_trip(req, "req/A", &fine, resp, "req/A", fine.response_topic, "fine");
		for(int i = 0; i < rf->prior_count; i++) msg_free(prior[i]);
		client_free(req);
		client_free(resp);
		broker_stop(&broker);
		return;
	}
	ck_assert_msg(ack == (rf->qos ? MQTT_RC_NOT_AUTHORIZED : 0), "case %d (%s, %s): PUBACK %d",
			_i, rf->id, rf->reason, ack);
	snprintf(needle, sizeof(needle), "refused request from '%s' on '%s': %s\n", rf->id, rf->topic, rf->reason);
	ck_assert_msg(broker_log_wait(&broker, needle, RCPT_ARRIVAL_MS), "no log line: %s", needle);
	if(rf->receipt_topic){
		struct msg *receipt = expect_on(req, rf->receipt_topic);
		assert_broker_receipt(receipt, RECEIPTS_STATUS_REJECTED, rf->reason, rf->corr, rf->qos);
		msg_free(receipt);
	}
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));

	/* What was pending before is untouched by the refusal. */
	for(int i = 0; i < rf->prior_count; i++){
		answer_gets_ok(resp, prior[i], req, rf->response_topic, rf->prior_corr[i]);
		msg_free(prior[i]);
	}
	/* The broker keeps serving the same connection. */
	ck_assert(client_is_connected(req));
	struct props_spec fine = pending_props(rf->ok_topic ? rf->ok_topic : ok_topic, "fine");
	request_round_trip(req, "req/A", &fine, resp, "req/A", fine.response_topic, "fine");
	ck_assert(client_quiet(resp, 0));

	client_free(req);
	client_free(resp);
	broker_stop(&broker);
}
END_TEST

/* ---- topic alias ---- */

START_TEST(request_by_topic_alias_is_tracked)
{
	struct client *resp = responder("resp-al", "req/A");
	struct client *req = requester("req-al");
	struct props_spec first = {.response_topic = "ret/req-al/1", .correlation = "c-a1", .correlation_len = 4,
		.topic_alias = 1};
	struct props_spec second = first;
	second.correlation = "c-a2";

	request_round_trip(req, "req/A", &first, resp, "req/A", "ret/req-al/1", "c-a1");
	request_round_trip(req, NULL, &second, resp, "req/A", "ret/req-al/1", "c-a2");
	ck_assert(client_quiet(resp, 0));
	client_free(req);
	client_free(resp);
}
END_TEST

/* ---- open return topics ---- */

START_TEST(open_return_topic_answer_gets_ok)
{
	struct client *resp = responder("resp-op", "req/A");
	struct client *req = responder("req-op", "replies/req-op");
	struct props_spec props = {.response_topic = "replies/req-op", .correlation = "c-op", .correlation_len = 4};

	request_round_trip(req, "req/A", &props, resp, "req/A", "replies/req-op", "c-op");
	client_free(req);
	client_free(resp);
}
END_TEST

START_TEST(open_return_topic_plain_publish_is_ordinary)
{
	struct client *resp = responder("resp-op", "req/A");
	struct client *req = responder("req-op", "replies/req-op");
	struct client *other = client_connect(&broker, "other-op", true);
	struct props_spec props = {.response_topic = "replies/req-op", .correlation = "c-op", .correlation_len = 4};

	struct msg *request = request_reaches(req, "req/A", "question", &props, 1, resp, "req/A");
	/* While the request is pending, traffic without correlation on its
	 * open return topic passes untouched. */
	ck_assert_int_eq(client_publish_str(other, "replies/req-op", "chatter", 1, false, NULL), 0);
	struct msg *plain = expect_on(req, "replies/req-op");
	ck_assert_str_eq(plain->payload, "chatter");
	ck_assert_int_eq(msg_user_count(plain, RECEIPTS_PROP_RECEIPT), 0);
	ck_assert(!plain->has_correlation);
	msg_free(plain);
	answer_gets_ok(resp, request, req, "replies/req-op", "c-op");
	msg_free(request);
	client_free(other);
	client_free(req);
	client_free(resp);
}
END_TEST

/* ---- suite ---- */

static TCase *fixture_tcase(Suite *s, const char *name, void (*setup)(void))
{
	TCase *tc = harness_tcase(name);
	/* Checked fixture: the broker starts and stops in each test's
	 * process, so it dies with the test if the test crashes. */
	tcase_add_checked_fixture(tc, setup, stop_broker);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *requests_suite(void)
{
	Suite *s = suite_create("requests");

	TCase *tc = fixture_tcase(s, "routing", start_default);
	tcase_add_test(tc, request_on_area_topic_is_delivered_and_answered);
	tcase_add_test(tc, request_below_area_topic_is_delivered_and_answered);
	tcase_add_test(tc, subject_area_property_reroutes_to_the_area);
	tcase_add_test(tc, return_area_sets_the_response_topic);
	tcase_add_test(tc, request_without_correlation_gets_broker_correlation);
	tcase_add_test(tc, forged_broker_properties_are_replaced);
	tcase_add_test(tc, forged_original_topic_on_rerouted_request_is_replaced);

	tc = fixture_tcase(s, "timeout", start_default);
	tcase_add_test(tc, timeout_receipt_qos1);
	tcase_add_test(tc, timeout_receipt_qos0);
	tcase_add_test(tc, timeout_receipt_qos2);

	tc = fixture_tcase(s, "timeout-clamp", start_max_timeout_400);
	tcase_add_test(tc, timeout_above_max_is_clamped);

	tc = fixture_tcase(s, "no-responders", start_default);
	tcase_add_test(tc, no_responders_qos0_at_once);
	tcase_add_test(tc, no_responders_qos1_at_once);
	tcase_add_test(tc, no_responders_qos2_within_grace);

	tc = fixture_tcase(s, "responder-gone", start_default);
	tcase_add_test(tc, only_responder_dropped_gives_responder_gone);
	tcase_add_test(tc, responder_gone_only_after_every_responder_left);
	tcase_add_test(tc, shared_subscription_reaches_one_member);

	tc = fixture_tcase(s, "receipts", start_default);
	tcase_add_test(tc, duplicate_answer_is_refused);
	tcase_add_test(tc, late_answer_after_timeout_is_refused);
	tcase_add_test(tc, answer_with_wrong_correlation_is_refused);
	tcase_add_test(tc, answer_from_client_not_reached_is_refused);
	tcase_add_test(tc, answer_with_the_requesters_correlation_is_refused);
	tcase_add_test(tc, answer_without_correlation_is_refused);
	tcase_add_test(tc, responder_receipt_property_is_replaced_by_ok);
	tcase_add_test(tc, retained_answer_is_forwarded_unretained);
	tcase_add_test(tc, qos2_request_and_qos2_answer);

	/* Each case starts its own broker: some need options. */
	tc = harness_tcase("refusals");
	tcase_add_loop_test(tc, refused_request, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	suite_add_tcase(s, tc);

	tc = fixture_tcase(s, "topic-alias", start_default);
	tcase_add_test(tc, request_by_topic_alias_is_tracked);

	tc = fixture_tcase(s, "open-return", start_open_returns_tracked);
	tcase_add_test(tc, open_return_topic_answer_gets_ok);
	tcase_add_test(tc, open_return_topic_plain_publish_is_ordinary);
	return s;
}
