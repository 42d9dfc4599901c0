/*
 * Smoke suite: the harness works and the plugin keeps its central promise,
 * exactly one receipt per request, in the four basic outcomes.
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "receipts.h"
#include "suites.h"

/* Long enough for any delivery on loopback, short enough for the suite. */
#define ARRIVAL_MS 2000
/* The window that proves "nothing else arrives". */
#define QUIET_MS 300
/* How late a broker-made timeout receipt may be: the plugin checks
 * deadlines on the broker's ~100 ms tick, plus scheduling. */
#define TICK_SLACK_MS 200

static struct broker broker;

static void setup(void)
{
	broker_start(&broker, NULL);
}

static void teardown(void)
{
	broker_stop(&broker);
}

/* The next message of c, which must arrive on topic. */
static struct msg *expect_on(struct client *c, const char *topic)
{
	struct msg *m = client_wait(c, ARRIVAL_MS);
	ck_assert_msg(m != NULL, "%s: nothing arrived on %s", client_id(c), topic);
	ck_assert_str_eq(m->topic, topic);
	return m;
}

/* A responder subscribed to req/<area>. */
static struct client *responder(const char *id, const char *area_filter)
{
	struct client *c = client_connect(&broker, id, true);
	ck_assert_int_eq(client_subscribe(c, area_filter, 1), 1);
	return c;
}

/* A requester subscribed to its own return topics. */
static struct client *requester(const char *id)
{
	char filter[128];
	snprintf(filter, sizeof(filter), "ret/%s/#", id);
	struct client *c = client_connect(&broker, id, true);
	ck_assert_int_eq(client_subscribe(c, filter, 1), 1);
	return c;
}

/* Asserts a broker-made receipt: empty payload, the status and reason,
 * the request's correlation, no second `receipt`. */
static void assert_broker_receipt(const struct msg *m, const char *status, const char *reason,
		const char *correlation)
{
	ck_assert_int_eq(m->payload_len, 0);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_RECEIPT), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_RECEIPT), status);
	ck_assert_pstr_eq(msg_user(m, RECEIPTS_PROP_REASON), reason);
	ck_assert(msg_correlation_is(m, correlation, strlen(correlation)));
}

START_TEST(answered_request_gets_the_answer_as_ok_receipt)
{
	struct client *resp = responder("resp-a", "req/A");
	struct client *req = requester("req-a");
	struct props_spec props = {.response_topic = "ret/req-a/1",
		.correlation = "c-1", .correlation_len = 3};

	ck_assert_int_eq(client_publish_str(req, "req/A", "question", 1, false, &props), 0);
	struct msg *request = expect_on(resp, "req/A");
	ck_assert_str_eq(request->payload, "question");
	ck_assert_pstr_eq(msg_user(request, RECEIPTS_PROP_REQUESTER), "req-a");
	ck_assert_pstr_eq(request->response_topic, "ret/req-a/1");
	ck_assert(msg_correlation_is(request, "c-1", 3));

	ck_assert_int_eq(client_answer(resp, request, "answer", 1), 0);
	struct msg *receipt = expect_on(req, "ret/req-a/1");
	ck_assert_str_eq(receipt->payload, "answer");
	ck_assert_int_eq(msg_user_count(receipt, RECEIPTS_PROP_RECEIPT), 1);
	ck_assert_str_eq(msg_user(receipt, RECEIPTS_PROP_RECEIPT), RECEIPTS_STATUS_OK);
	ck_assert(msg_correlation_is(receipt, "c-1", 3));

	ck_assert(client_quiet(req, QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(request);
	msg_free(receipt);
	client_free(req);
	client_free(resp);
}
END_TEST

START_TEST(request_without_subscriber_gets_no_responders)
{
	struct client *req = requester("req-b");
	struct props_spec props = {.response_topic = "ret/req-b/1",
		.correlation = "c-2", .correlation_len = 3};

	/* The plugin accepts the request; whether the broker then says "no
	 * matching subscribers" (0x10) is the broker's business. */
	int rc = client_publish_str(req, "req/nobody", "question", 1, false, &props);
	ck_assert_msg(rc == 0 || rc == MQTT_RC_NO_MATCHING_SUBSCRIBERS, "PUBACK %d", rc);
	struct msg *receipt = expect_on(req, "ret/req-b/1");
	assert_broker_receipt(receipt, RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER, "c-2");

	ck_assert(client_quiet(req, QUIET_MS));
	msg_free(receipt);
	client_free(req);
}
END_TEST

START_TEST(unanswered_request_times_out_once)
{
	struct client *resp = responder("resp-c", "req/C");
	struct client *req = requester("req-c");
	struct props_spec props = {.response_topic = "ret/req-c/1",
		.correlation = "c-3", .correlation_len = 3,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, "300"})};

	int64_t sent = harness_now_ms();
	ck_assert_int_eq(client_publish_str(req, "req/C", "question", 1, false, &props), 0);
	struct msg *request = expect_on(resp, "req/C");
	struct msg *receipt = expect_on(req, "ret/req-c/1");
	int64_t elapsed = harness_now_ms() - sent;
	assert_broker_receipt(receipt, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-3");
	ck_assert_int_ge(elapsed, 300);
	ck_assert_int_le(elapsed, 300 + TICK_SLACK_MS);

	ck_assert(client_quiet(req, QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(request);
	msg_free(receipt);
	client_free(req);
	client_free(resp);
}
END_TEST

START_TEST(mosquitto_rr_gets_the_answer)
{
	struct client *resp = responder("resp-d", "req/D");
	const char *argv[] = {"mosquitto_rr", "-h", "127.0.0.1", "-p", broker.port_str,
		"-i", "rr-d", "-q", "1", "--nodelay", "-t", "req/D", "-e", "ret/rr-d/1",
		"-m", "question", "-W", "5", NULL};
	struct command rr;

	/* mosquitto_rr publishes only after its SUBACK, so the answer cannot
	 * overtake its subscription. */
	ck_assert_int_eq(command_start(&rr, argv), 0);
	struct msg *request = expect_on(resp, "req/D");
	ck_assert_str_eq(request->payload, "question");
	ck_assert_pstr_eq(msg_user(request, RECEIPTS_PROP_REQUESTER), "rr-d");
	ck_assert_int_eq(client_answer(resp, request, "answer", 1), 0);

	char *out;
	ck_assert_int_eq(command_collect(&rr, 5000, &out), 0);
	ck_assert_str_eq(out, "answer\n");
	ck_assert(client_quiet(resp, QUIET_MS));
	free(out);
	msg_free(request);
	client_free(resp);
}
END_TEST

Suite *smoke_suite(void)
{
	Suite *s = suite_create("smoke");
	TCase *tc = harness_tcase("receipts");
	/* Checked fixture: the broker starts and stops in each test's
	 * process, so it dies with the test if the test crashes. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, answered_request_gets_the_answer_as_ok_receipt);
	tcase_add_test(tc, request_without_subscriber_gets_no_responders);
	tcase_add_test(tc, unanswered_request_times_out_once);
	tcase_add_test(tc, mosquitto_rr_gets_the_answer);
	suite_add_tcase(s, tc);
	return s;
}
