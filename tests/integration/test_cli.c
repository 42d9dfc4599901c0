/*
 * CLI suite: the command lines README.md shows, run as they are written
 * (plus `-h 127.0.0.1 -p <port>`, since each test's broker is on a free
 * port, and `-i` where the test must know when a background subscriber is
 * live), with their output compared to what README.md prints.
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "receipts.h"
#include "suites.h"

#define RUN_MS 5000
#define ARRIVAL_MS 2000
#define QUIET_MS 250

static struct broker broker;
/* <build>/examples/, next to <build>/plugin/ where the plugin is built. */
static char examples_dir[512];

static void setup(void)
{
	const char *path = RCPT_PLUGIN_PATH;
	const char *plugin_dir_end = strrchr(path, '/');
	ck_assert_ptr_nonnull(plugin_dir_end);
	size_t len = (size_t)(plugin_dir_end - path);
	while(len > 0 && path[len - 1] != '/') len--;
	ck_assert_uint_gt(len, 0);
	snprintf(examples_dir, sizeof(examples_dir), "%.*sexamples/", (int)len, path);
	broker_start(&broker, NULL);
}

static void teardown(void)
{
	broker_stop(&broker);
}

static const char *example(const char *name)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s%s", examples_dir, name);
	return path;
}

/* Runs argv with stderr merged into stdout (some clients print their
 * errors there) and asserts the exit status and the whole output. */
static void expect_output(const char *const argv[], int status, const char *expected)
{
	const char *merged[40] = {"sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
	size_t n = 3;
	for(size_t i = 0; argv[i]; i++){
		ck_assert_uint_lt(n, sizeof(merged) / sizeof(merged[0]) - 1);
		merged[n++] = argv[i];
	}
	merged[n] = NULL;
	char *out = NULL;
	int rc = run_command(merged, RUN_MS, &out);
	ck_assert_msg(out != NULL, "%s: no output", argv[0]);
	ck_assert_str_eq(out, expected);
	ck_assert_int_eq(rc, status);
	free(out);
}

/* A background command that must already be subscribed as client_id. */
static void start_subscribed(struct command *cmd, const char *const argv[], const char *client_id)
{
	ck_assert_int_eq(command_start(cmd, argv), 0);
	ck_assert_msg(broker_wait_subscribed(&broker, client_id, 1, ARRIVAL_MS), "%s never subscribed", client_id);
}

/* Ends a background command and asserts everything it printed. */
static void stop_expect(struct command *cmd, const char *expected)
{
	kill(cmd->pid, SIGTERM);
	char *out = NULL;
	command_collect(cmd, RUN_MS, &out);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, expected);
	free(out);
}

/* The example responder for area echo, as README starts it. */
static void start_echo_responder(struct command *cmd)
{
	const char *argv[] = {example("responder"), "-p", broker.port_str, "-i", "echo-responder", "echo", NULL};
	start_subscribed(cmd, argv, "echo-responder");
}

#define RR "mosquitto_rr", "-h", "127.0.0.1", "-p", broker.port_str

START_TEST(your_first_receipt)
{
	struct command resp;
	start_echo_responder(&resp);
	const char *rr[] = {RR, "-V", "5", "-i", "alice", "-t", "req/echo", "-e", "ret/alice/replies",
		"-m", "hello", "-F", "%p %P", NULL};
	expect_output(rr, 0, "HELLO receipt:ok\n");
	stop_expect(&resp, "responder: answering requests on req/echo\n"
			"responder: answered ret/alice/replies for alice\n");
}
END_TEST

START_TEST(your_first_timeout)
{
	struct command sub;
	const char *silent[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", broker.port_str, "-i", "silent",
		"-V", "5", "-t", "req/silent", NULL};
	start_subscribed(&sub, silent, "silent");
	const char *rr[] = {RR, "-V", "5", "-i", "alice", "-t", "req/silent", "-e", "ret/alice/replies",
		"-m", "anyone?", "-D", "publish", "user-property", RECEIPTS_PROP_TIMEOUT_MS, "1000", "-F", "%P", NULL};
	int64_t start = harness_now_ms();
	expect_output(rr, 0, "receipt:timeout receipt-reason:deadline-passed\n");
	ck_assert_int_ge(harness_now_ms() - start, 1000);
	stop_expect(&sub, "anyone?\n");
}
END_TEST

START_TEST(no_responders_at_once)
{
	const char *rr[] = {RR, "-V", "5", "-i", "alice", "-t", "req/nobody", "-e", "ret/alice/replies",
		"-m", "?", "-F", "%P", NULL};
	int64_t start = harness_now_ms();
	expect_output(rr, 0, "receipt:no-responders receipt-reason:no-subscriber\n");
	/* At once, not after the 2 s default timeout of the test broker. */
	ck_assert_int_lt(harness_now_ms() - start, 1000);
}
END_TEST

START_TEST(foreign_return_area_not_authorized)
{
	struct command resp;
	start_echo_responder(&resp);
	const char *rr[] = {RR, "-V", "5", "-i", "alice", "-t", "req/echo", "-e", "ret/bob/replies", "-m", "?", NULL};
	expect_output(rr, 0, "Not authorized\n");
	ck_assert(broker_log_wait(&broker,
			"refused subscription of 'alice' to 'ret/bob/replies': not its return area", ARRIVAL_MS));
	/* mosquitto_rr gives up at the refused SUBACK: the request itself is
	 * never sent, so nothing reaches the responder. */
	ck_assert_int_eq(broker_log_count(&broker, "refused request from 'alice'"), 0);
	stop_expect(&resp, "responder: answering requests on req/echo\n");
}
END_TEST

/* README: mosquitto_rr always sets a Response Topic, so adding
 * return-area makes the request ambiguous-property. With two return topics
 * named, neither is "the" return topic, and no rejected receipt is sent:
 * mosquitto_rr waits until its -W gives up (exit 27). subject-area, on the
 * other hand, works with mosquitto_rr. */
START_TEST(mosquitto_rr_with_the_user_property_forms)
{
	struct command resp;
	start_echo_responder(&resp);
	const char *ambiguous[] = {RR, "-V", "5", "-i", "alice", "-t", "req/echo", "-e", "ret/alice/replies",
		"-m", "hello", "-D", "publish", "user-property", RECEIPTS_PROP_RETURN_AREA, "inbox", "-F", "%p %P",
		"-W", "1", NULL};
	expect_output(ambiguous, 27, "Timed out\n");
	ck_assert(broker_log_wait(&broker, "refused request from 'alice' on 'req/echo': ambiguous-property",
			ARRIVAL_MS));

	const char *rerouted[] = {RR, "-V", "5", "-i", "alice", "-t", "devices/42/config", "-e", "ret/alice/replies",
		"-m", "hello", "-D", "publish", "user-property", RECEIPTS_PROP_SUBJECT_AREA, "echo", "-F", "%p %P", NULL};
	expect_output(rerouted, 0, "HELLO receipt:ok\n");
	stop_expect(&resp, "responder: answering requests on req/echo\n"
			"responder: answered ret/alice/replies for alice\n");
}
END_TEST

START_TEST(example_requester_user_property_forms)
{
	struct command resp;
	start_echo_responder(&resp);
	const char *req[] = {example("requester"), "-p", broker.port_str, "-i", "alice", "-r", "inbox",
		"-o", "devices/42/config", "echo", "get config", NULL};
	expect_output(req, 0, "ret/alice/inbox receipt: ok payload: GET CONFIG\n");
	stop_expect(&resp, "responder: answering requests on req/echo\n"
			"responder: answered ret/alice/inbox for alice\n");
}
END_TEST

START_TEST(mosquitto_pub_bad_area_is_refused_and_logged)
{
	struct command resp;
	start_echo_responder(&resp);
	const char *pub[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", broker.port_str, "-V", "5", "-i", "pub-bad",
		"-q", "1", "-t", "devices/42/config", "-m", "hi",
		"-D", "publish", "response-topic", "ret/pub-bad/x", "-D", "publish", "correlation-data", "42",
		"-D", "publish", "user-property", RECEIPTS_PROP_SUBJECT_AREA, "a+b", NULL};
	expect_output(pub, 0, "Warning: Publish 1 failed: Not authorized.\n");
	ck_assert(broker_log_wait(&broker, "refused request from 'pub-bad' on 'devices/42/config': bad-area",
			ARRIVAL_MS));
	ck_assert_int_eq(broker_log_count(&broker, "refused request from"), 1);
	stop_expect(&resp, "responder: answering requests on req/echo\n");
}
END_TEST

/* The control API's example line, on a broker that checks passwords and
 * lets admin use the API. */
START_TEST(control_api_example_line)
{
	broker_stop(&broker);
	char dir[] = "/tmp/rcpt-cli-pw-XXXXXX", file[64], conf[160];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/passwd", dir);
	const char *passwd[] = {"mosquitto_passwd", "-b", "-c", file, "admin", "secret", NULL};
	ck_assert_int_eq(run_command(passwd, RUN_MS, NULL), 0);
	snprintf(conf, sizeof(conf), "password_file %s\nplugin_opt_" RECEIPTS_OPT_CONTROL_USERS " admin", file);
	broker_start(&broker, conf);

	const char *rr[] = {RR, "-V", "5", "-u", "admin", "-P", "secret", "-t", "$CONTROL/receipts/v1",
		"-e", "$CONTROL/receipts/v1/response",
		"-m", "{\"commands\":[{\"command\":\"getStats\",\"correlationData\":\"1\"}]}", NULL};
	expect_output(rr, 0, "{\"responses\":[{\"command\":\"getStats\",\"data\":{"
			"\"pending\":0,\"pendingHighWater\":0,\"pendingBytes\":0,\"pendingByArea\":{},"
			"\"totals\":{\"ok\":0,\"timeout\":0,\"no-responders\":0,\"responder-gone\":0,\"rejected\":0,"
			"\"cancelled\":0,\"unmatched\":0,\"abandoned\":0},"
			"\"rejectedByReason\":{\"bad-area\":0,\"bad-return-topic\":0,\"bad-return-area\":0,"
			"\"foreign-return-area\":0,\"bad-client-id\":0,\"over-quota\":0,\"bad-timeout\":0,"
			"\"correlation-too-long\":0,\"ambiguous-property\":0,\"retained-request\":0,\"no-memory\":0,\"topic-too-short\":0,\"not-authorized\":0,\"return-topic-not-writable\":0,"
			"\"return-topic-too-long\":0,\"resent-after-receipt\":0},"
			"\"receiptMs\":{\"p50\":0,\"p99\":0,\"samples\":0},\"boundClientIds\":1},\"correlationData\":\"1\"}]}\n");

	/* The same line with a wrong password is turned away at CONNECT. */
	rr[10] = "wrong";
	expect_output(rr, MQTT_RC_NOT_AUTHORIZED, "Connection error: Not authorized\n");
	const char *rm[] = {"rm", "-rf", dir, NULL};
	run_command(rm, RUN_MS, NULL);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = harness_tcase("readme");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, your_first_receipt);
	tcase_add_test(tc, your_first_timeout);
	tcase_add_test(tc, no_responders_at_once);
	tcase_add_test(tc, foreign_return_area_not_authorized);
	tcase_add_test(tc, mosquitto_rr_with_the_user_property_forms);
	tcase_add_test(tc, example_requester_user_property_forms);
	tcase_add_test(tc, mosquitto_pub_bad_area_is_refused_and_logged);
	tcase_add_test(tc, control_api_example_line);
	suite_add_tcase(s, tc);
	return s;
}
