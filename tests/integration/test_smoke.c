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
#include "receipts_helpers.h"
#include "suites.h"

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

/* Both subscribe at QoS 1: receipts arrive at the requests' QoS 1. */
static struct client *responder(const char *id, const char *area_filter)
{
	return subscriber_at(&broker, id, true, area_filter, 1);
}

static struct client *requester(const char *id)
{
	return requester_at(&broker, id, true, 1);
}

START_TEST(answered_request_gets_the_answer_as_ok_receipt)
{
	struct client *resp = responder("resp-a", "req/A");
	struct client *req = requester("req-a");

	ck_assert_int_eq(publish_request(req, "req/A", "question", "ret/req-a/1", "c-1", NULL), 0);
	struct msg *request = expect_request(resp, "req/A", "question", "req-a");
	ck_assert_pstr_eq(request->response_topic, "ret/req-a/1");
	assert_token(request, "c-1");

	ck_assert_int_eq(client_answer(resp, request, "answer", 1), 0);
	expect_receipt(req, "ret/req-a/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-1", 1);

	ck_assert(client_quiet(req, QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(request);
	client_free(req);
	client_free(resp);
}
END_TEST

START_TEST(request_without_subscriber_gets_no_responders)
{
	struct client *req = requester("req-b");

	/* The plugin accepts the request; whether the broker then says "no
	 * matching subscribers" (0x10) is the broker's business. */
	int rc = publish_request(req, "req/nobody", "question", "ret/req-b/1", "c-2", NULL);
	ck_assert_msg(rc == 0 || rc == MQTT_RC_NO_MATCHING_SUBSCRIBERS, "PUBACK %d", rc);
	expect_receipt(req, "ret/req-b/1", "", RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER,
			"c-2", 1);

	ck_assert(client_quiet(req, QUIET_MS));
	client_free(req);
}
END_TEST

START_TEST(unanswered_request_times_out_once)
{
	struct client *resp = responder("resp-c", "req/C");
	struct client *req = requester("req-c");

	int64_t sent = harness_now_ms();
	ck_assert_int_eq(publish_request(req, "req/C", "question", "ret/req-c/1", "c-3", "300"), 0);
	struct msg *request = expect_on(resp, "req/C");
	struct msg *receipt = expect_on(req, "ret/req-c/1");
	int64_t elapsed = harness_now_ms() - sent;
	assert_broker_receipt(receipt, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-3", 1);
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
	struct msg *request = expect_request(resp, "req/D", "question", "rr-d");
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
