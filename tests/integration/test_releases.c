/*
 * Releases suite: what differs between the Mosquitto 2.0 releases the
 * plugin supports (2.0.11 to 2.0.20), each test asserting the outcome of the
 * release under test (broker_version(); the version matrix, scripts/matrix.sh,
 * runs the suites against several). Differences that change a row of another
 * suite are handled there (test_bad_input.c on_this_broker(),
 * broker_drops_response_topic()).
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* How late a timeout receipt may be: the ~100 ms tick plus scheduling. */
#define TICK_SLACK_MS 200

static struct broker broker;
static char suppressions[32];

static void teardown(void)
{
	broker_stop(&broker);
	if(suppressions[0]) unlink(suppressions);
	suppressions[0] = '\0';
}

/* Every release here leaks a listener's own plugin configuration at exit
 * with per_listener_settings true (config__cleanup frees only the global
 * one). Under the sanitizers (RCPT_BROKER_PRELOAD, scripts/sanitize.sh)
 * that report is the broker's, allocated while it reads its configuration:
 * it is suppressed for this test's brokers only, with the full stacks that
 * show config__read in them. */
static void suppress_broker_config_leak(void)
{
	const char *preload = getenv("RCPT_BROKER_PRELOAD");
	if(preload == NULL || *preload == '\0') return;
	strcpy(suppressions, "/tmp/rcpt-lsan-XXXXXX");
	int fd = mkstemp(suppressions);
	ck_assert_int_ge(fd, 0);
	static const char rule[] = "leak:config__read\n";
	ck_assert_int_eq(write(fd, rule, sizeof(rule) - 1), (ssize_t)sizeof(rule) - 1);
	close(fd);
	char opts[512];
	const char *lsan = getenv("LSAN_OPTIONS");
	snprintf(opts, sizeof(opts), "%s%ssuppressions=%s", lsan ? lsan : "", lsan && *lsan ? ":" : "", suppressions);
	setenv("LSAN_OPTIONS", opts, 1);
	const char *asan = getenv("ASAN_OPTIONS");
	snprintf(opts, sizeof(opts), "%s%sfast_unwind_on_malloc=0", asan ? asan : "", asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

/* MOSQ_EVT_TICK drives timeouts. 2.0.11 to 2.0.14 send it to no plugin
 * when per_listener_settings is true; 2.0.15 on send it once per listener.
 * Answers need no tick: they pass on every release. */
START_TEST(per_listener_settings_timeout_needs_2_0_15)
{
	suppress_broker_config_leak();
	broker_start_first(&broker, "per_listener_settings true", NULL);
	struct client *resp = subscriber_at(&broker, "pl-resp", true, "req/A", 1);
	struct client *req = requester_at(&broker, "pl-req", true, 1);

	int64_t sent = harness_now_ms();
	ck_assert_int_eq(publish_request(req, "req/A", "question", "ret/pl-req/1", "c-1", "300"), 0);
	msg_free(expect_request(resp, "req/A", "question", "pl-req"));
	if(broker_version() >= BROKER_VERSION(2, 0, 15)){
		expect_receipt(req, "ret/pl-req/1", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-1", 1);
		ck_assert_int_le(harness_now_ms() - sent, 300 + TICK_SLACK_MS);
	}else{
		/* No tick, no verdict: the request stays pending. */
		ck_assert(client_quiet(req, 300 + 3 * TICK_SLACK_MS));
	}

	ck_assert_int_eq(publish_request(req, "req/A", "again", "ret/pl-req/2", "c-2", "60000"), 0);
	struct msg *m = expect_request(resp, "req/A", "again", "pl-req");
	answer_gets_ok(resp, m, req, "ret/pl-req/2", "c-2");
	msg_free(m);
	client_free(req);
	client_free(resp);
}
END_TEST

/* A will on the control topic never runs a command. 2.0.16 on refuse such
 * a CONNECT outright (no CONNACK); up to 2.0.15 the client connects and the
 * will, when it fires, is an ordinary message to the topic's subscribers:
 * the broker hands wills to no CONTROL callback. */
START_TEST(will_on_control_topic_runs_nothing)
{
	broker_start(&broker, "plugin_opt_" RECEIPTS_OPT_CONTROL_USERS " admin\n");
	struct client *resp = subscriber_at(&broker, "wc-resp", true, "req/A", 1);
	struct client *req = requester_at(&broker, "wc-req", true, 1);
	ck_assert_int_eq(publish_request(req, "req/A", "question", "ret/wc-req/1", "c-1", "60000"), 0);
	struct msg *request = expect_request(resp, "req/A", "question", "wc-req");
	/* A control user, so the plugin's ACL would let it write there. */
	struct client *watch = client_connect_auth(&broker, "wc-watch", true, "admin", NULL);
	ck_assert_int_eq(client_subscribe(watch, "$CONTROL/receipts/v1", 1), 1);

	static const char cancel_all[] =
		"{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"wc-req\",\"all\":true}]}";
	struct connect_spec spec = {.id = "wc-will", .clean_start = true, .username = "admin",
		.will_topic = "$CONTROL/receipts/v1", .will_payload = cancel_all};
	struct client *c;
	int rc = client_connect_rc(&broker, &spec, &c);
	if(broker_version() >= BROKER_VERSION(2, 0, 16)){
		ck_assert_int_eq(rc, -1);
	}else{
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(client_drop(c), 0);
		struct msg *will = expect_on(watch, "$CONTROL/receipts/v1");
		ck_assert_str_eq(will->payload, cancel_all);
		msg_free(will);
		client_free(c);
	}
	/* Still pending: the true answer is the receipt. */
	answer_gets_ok(resp, request, req, "ret/wc-req/1", "c-1");
	ck_assert_int_eq(broker_log_count(&broker, "receipts: control: cancelled"), 0);
	ck_assert(client_quiet(watch, 0));
	msg_free(request);
	client_free(watch);
	client_free(req);
	client_free(resp);
}
END_TEST

/* 2.0.19 keeps shared subscriptions in a tree of their own, which always
 * has a root for topics not starting with '$', and lets that tree's "no
 * subscribers" overwrite the plain tree's success: every QoS 1 PUBLISH that
 * reaches only plain subscribers gets PUBACK 0x10 (no matching subscribers),
 * requests and answers alike. 2.0.20 fixed it; up to 2.0.18 there is one
 * tree. The plugin counts deliveries itself: the request is answered, and
 * the answer forwarded as `ok`, on every release. (2.0.19 is not among the
 * vendored archives: seen with a build from its tag, not run in CI.) */
START_TEST(puback_0x10_for_delivered_messages_in_2_0_19)
{
	broker_start(&broker, NULL);
	struct client *resp = subscriber_at(&broker, "p19-resp", true, "req/A", 1);
	struct client *req = requester_at(&broker, "p19-req", true, 1);

	int want = broker_version() == BROKER_VERSION(2, 0, 19) ? MQTT_RC_NO_MATCHING_SUBSCRIBERS : 0;
	ck_assert_int_eq(publish_request(req, "req/A", "question", "ret/p19-req/1", "c-1", "60000"), want);
	struct msg *m = expect_request(resp, "req/A", "question", "p19-req");
	ck_assert_int_eq(client_answer(resp, m, "answer", 1), want);
	expect_receipt(req, "ret/p19-req/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-1", 1);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	msg_free(m);
	client_free(req);
	client_free(resp);
}
END_TEST

Suite *releases_suite(void)
{
	Suite *s = suite_create("releases");
	TCase *tc = harness_tcase("differences");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, per_listener_settings_timeout_needs_2_0_15);
	tcase_add_test(tc, will_on_control_topic_runs_nothing);
	tcase_add_test(tc, puback_0x10_for_delivered_messages_in_2_0_19);
	suite_add_tcase(s, tc);
	return s;
}
