/*
 * Control suite: the JSON control API on $CONTROL/receipts/v1 (getStats,
 * listPending, cancelPending, getConfig, bad input), who may use it, the
 * $SYS gauges and the start-up warning about trusting usernames.
 *
 * Replies are compared as the exact compact JSON the plugin prints, with
 * only the time-dependent numbers (ages, remaining time, latency
 * percentiles) blanked to '#' after their range is checked.
 */
#include <check.h>
#include <ctype.h>
#include <mqtt_protocol.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* Pending requests that must outlive the test's checks. */
#define LONG_TIMEOUT "60000"
#define LONG_TIMEOUT_MS 60000
/* Time for a $SYS update at sys_interval_s 1, with slack. */
#define SYS_WAIT_MS 3500

#define ADMIN_USER "admin"
#define ADMIN_PASS "secret"
#define BOB_USER "bob"
#define BOB_PASS "bobpw"

#define WARNING_LINE "receipts: the control API trusts usernames"
#define NO_SELECTOR_ERROR "select requests with requester + returnTopic + correlation, " \
	"requester + \\\"all\\\": true, or area + \\\"all\\\": true"

static struct broker broker;
static char pw_dir[64];
static char pw_file[96];

/* ---- fixtures ---- */

static void make_password_file(void)
{
	snprintf(pw_dir, sizeof(pw_dir), "/tmp/rcpt-ctl-pw-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pw_dir));
	snprintf(pw_file, sizeof(pw_file), "%s/passwd", pw_dir);
	const char *create[] = {"mosquitto_passwd", "-b", "-c", pw_file, ADMIN_USER, ADMIN_PASS, NULL};
	const char *add[] = {"mosquitto_passwd", "-b", pw_file, BOB_USER, BOB_PASS, NULL};
	ck_assert_int_eq(run_command(create, 5000, NULL), 0);
	ck_assert_int_eq(run_command(add, 5000, NULL), 0);
}

/* Starts the broker with password authentication (anonymous clients are
 * still let in by the harness's `allow_anonymous true`, so that they can be
 * refused by the plugin) and the given plugin options. */
static void start_broker(const char *options)
{
	char conf[1536];
	snprintf(conf, sizeof(conf), "password_file %s\nallow_anonymous true\n%s", pw_file, options);
	broker_start(&broker, conf);
}

/* The password file lives for the whole test case (unchecked fixture, in
 * the runner's process), so a failed test does not leave one behind. */
static void remove_password_file(void)
{
	/* The state file test leaves the plugin's files there too. */
	const char *rm[] = {"rm", "-rf", pw_dir, NULL};
	if(pw_dir[0]) run_command(rm, 5000, NULL);
	pw_dir[0] = '\0';
}

static void setup_with_admin(void)
{
	start_broker("plugin_opt_" RECEIPTS_OPT_CONTROL_USERS " " ADMIN_USER);
}

static void teardown(void)
{
	broker_stop(&broker);
}

/* ---- clients ---- */

static struct client *admin_connect(const char *id)
{
	struct client *c = client_connect_auth(&broker, id, true, ADMIN_USER, ADMIN_PASS);
	ck_assert_int_eq(client_subscribe(c, RECEIPTS_CONTROL_RESPONSE_TOPIC, 1), 1);
	return c;
}

static struct client *subscriber(const char *id, const char *filter)
{
	return subscriber_at(&broker, id, true, filter, 1);
}

static struct client *requester(const char *id)
{
	return requester_at(&broker, id, true, 1);
}

/* Sends an accepted QoS 1 request from req (return topic ret/<req>/<slot>,
 * correlation corr) and returns it as resp received it, so that the
 * delivery is recorded before the test looks at it. */
static struct msg *send_request(struct client *req, const char *area, const char *slot,
		const void *corr, uint16_t corr_len, const char *timeout_ms, struct client *resp)
{
	char topic[160], ret[160];
	snprintf(topic, sizeof(topic), "req/%s", area);
	snprintf(ret, sizeof(ret), "ret/%s/%s", client_id(req), slot);
	struct props_spec props = {.response_topic = ret, .correlation = corr, .correlation_len = corr_len,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, timeout_ms})};
	ck_assert_int_eq(client_publish_str(req, topic, "question", 1, false, &props), 0);
	struct msg *m = expect_request(resp, topic, "question", client_id(req));
	ck_assert_int_eq(m->correlation_len, RCPT_TOKEN_BYTES);
	ck_assert(corr_len == 0 || !msg_correlation_is(m, corr, corr_len));
	return m;
}

/* ---- control commands ---- */

/* Publishes one control payload and returns the one reply (caller frees). */
static char *control_len(struct client *admin, const char *payload, int len)
{
	ck_assert_int_eq(client_publish(admin, RECEIPTS_CONTROL_TOPIC, payload, len, 1, false, NULL), 0);
	struct msg *m = client_wait(admin, RCPT_ARRIVAL_MS);
	ck_assert_msg(m != NULL, "no control reply to %.100s", payload);
	ck_assert_str_eq(m->topic, RECEIPTS_CONTROL_RESPONSE_TOPIC);
	char *reply = strdup(m->payload);
	msg_free(m);
	return reply;
}

static char *control(struct client *admin, const char *payload)
{
	return control_len(admin, payload, (int)strlen(payload));
}

static void control_expect(struct client *admin, const char *payload, const char *expected)
{
	char *reply = control(admin, payload);
	ck_assert_str_eq(reply, expected);
	free(reply);
}

/* Replaces every `"key":<whole number>` in s by `"key":#`, after checking
 * that the number lies in [min, max]. */
static void blank_number(char *s, const char *key, long min, long max)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"%s\":", key);
	for(char *p = strstr(s, needle); p; p = strstr(p, needle)){
		char *digits = p + strlen(needle), *end;
		ck_assert_msg(isdigit((unsigned char)*digits), "%s is not a whole number in %s", key, s);
		long v = strtol(digits, &end, 10);
		ck_assert_msg(v >= min && v <= max, "%s %ld not in [%ld, %ld]", key, v, min, max);
		*digits = '#';
		memmove(digits + 1, end, strlen(end) + 1);
		p = digits;
	}
}

/* One listPending entry, with ageMs and remainingMs blanked. */
static void pending_entry(char *buf, size_t size, const char *requester, const char *area, const char *slot,
		const char *hex, const char *delivered_to)
{
	snprintf(buf, size, "{\"requester\":\"%s\",\"area\":\"%s\",\"returnTopic\":\"ret/%s/%s\","
			"\"correlation\":\"%s\",\"ageMs\":#,\"remainingMs\":#,\"qos\":1,\"deliveredTo\":[\"%s\"]}",
			requester, area, requester, slot, hex, delivered_to);
}

static char *list_reply(struct client *admin, const char *payload)
{
	char *reply = control(admin, payload);
	blank_number(reply, "ageMs", 0, LONG_TIMEOUT_MS);
	blank_number(reply, "remainingMs", 1, LONG_TIMEOUT_MS);
	return reply;
}

/* ---- getStats ---- */

static void expect_stats(struct client *admin, const char *by_area_a, const char *by_area_b)
{
	static const char *const reasons[] = {
		RECEIPTS_REJECT_BAD_AREA, RECEIPTS_REJECT_BAD_RETURN_TOPIC, RECEIPTS_REJECT_BAD_RETURN_AREA,
		RECEIPTS_REJECT_FOREIGN_RETURN_AREA, RECEIPTS_REJECT_BAD_CLIENT_ID,
		RECEIPTS_REJECT_OVER_QUOTA, RECEIPTS_REJECT_BAD_TIMEOUT, RECEIPTS_REJECT_CORRELATION_TOO_LONG,
		RECEIPTS_REJECT_AMBIGUOUS, RECEIPTS_REJECT_RETAINED, RECEIPTS_REJECT_NO_MEMORY,
		RECEIPTS_REJECT_TOPIC_TOO_SHORT, RECEIPTS_REJECT_NOT_AUTHORIZED, RECEIPTS_REJECT_RETURN_NOT_WRITABLE,
		RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG,
		RECEIPTS_REJECT_RESENT,
	};
	char by_reason[600] = "";
	for(size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++){
		size_t n = strlen(by_reason);
		snprintf(by_reason + n, sizeof(by_reason) - n, "%s\"%s\":%d", i ? "," : "", reasons[i],
				!strcmp(reasons[i], RECEIPTS_REJECT_BAD_TIMEOUT));
	}
	char *reply = control(admin, "{\"commands\":[{\"command\":\"getStats\",\"correlationData\":\"s-1\"}]}");
	blank_number(reply, "p50", 0, 5000);
	blank_number(reply, "p99", 300, 5000);
	blank_number(reply, "pendingBytes", 2 * 170, 2 * 400);
	/* pendingByArea is in hash-table order: either order is right. */
	char expected[2][1500];
	for(int i = 0; i < 2; i++){
		snprintf(expected[i], sizeof(expected[i]), "{\"responses\":[{\"command\":\"getStats\",\"data\":{"
				"\"pending\":2,\"pendingHighWater\":2,\"pendingBytes\":#,\"pendingByArea\":{%s,%s},"
				"\"totals\":{\"ok\":1,\"timeout\":1,\"no-responders\":1,\"responder-gone\":0,\"rejected\":1,"
				"\"cancelled\":0,\"unmatched\":0,\"abandoned\":0},"
				"\"rejectedByReason\":{%s},"
				/* With password_file the ids of users are bound: admin's alone
				 * here (the other clients have no username). */
				"\"receiptMs\":{\"p50\":#,\"p99\":#,\"samples\":3},\"boundClientIds\":1},"
				"\"correlationData\":\"s-1\"}]}",
				i ? by_area_b : by_area_a, i ? by_area_a : by_area_b, by_reason);
	}
	ck_assert_msg(!strcmp(reply, expected[0]) || !strcmp(reply, expected[1]),
			"getStats:\n  got      %s\n  expected %s", reply, expected[0]);
	free(reply);
}

START_TEST(get_stats_counts_each_outcome_once)
{
	struct client *admin = admin_connect("ctl-admin-st");
	struct client *resp1 = subscriber("resp-st1", "req/st1");
	struct client *resp2 = subscriber("resp-st2", "req/st2");
	struct client *req = requester("rq-st");

	struct msg *r = send_request(req, "st1", "ok", "ok", 2, LONG_TIMEOUT, resp1);
	answer_gets_ok(resp1, r, req, "ret/rq-st/ok", "ok");
	msg_free(r);

	msg_free(send_request(req, "st1", "to", "to", 2, "300", resp1));
	expect_receipt(req, "ret/rq-st/to", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "to", 1);

	struct props_spec nobody = {.response_topic = "ret/rq-st/nr", .correlation = "nr", .correlation_len = 2};
	int rc = client_publish_str(req, "req/st-nobody", "question", 1, false, &nobody);
	ck_assert_msg(rc == 0 || rc == MQTT_RC_NO_MATCHING_SUBSCRIBERS, "PUBACK %d", rc);
	expect_receipt(req, "ret/rq-st/nr", "", RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER, "nr", 1);

	struct props_spec bad = {.response_topic = "ret/rq-st/bad", .correlation = "bad", .correlation_len = 3,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, "0"})};
	ck_assert_int_eq(client_publish_str(req, "req/st1", "question", 1, false, &bad), MQTT_RC_NOT_AUTHORIZED);
	expect_receipt(req, "ret/rq-st/bad", "", RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_BAD_TIMEOUT, "bad", 1);

	struct msg *p1 = send_request(req, "st1", "p1", "p1", 2, LONG_TIMEOUT, resp1);
	struct msg *p2 = send_request(req, "st2", "p2", "p2", 2, LONG_TIMEOUT, resp2);
	expect_stats(admin, "\"st1\":1", "\"st2\":1");

	ck_assert(client_quiet(admin, RCPT_QUIET_MS));
	ck_assert(client_quiet(req, 0));
	ck_assert(client_quiet(resp1, 0));
	ck_assert(client_quiet(resp2, 0));
	msg_free(p1);
	msg_free(p2);
	client_free(req);
	client_free(resp1);
	client_free(resp2);
	client_free(admin);
}
END_TEST

/* ---- listPending ---- */

START_TEST(list_pending_filters_and_pages)
{
	struct client *admin = admin_connect("ctl-admin-ls");
	struct client *resp_a = subscriber("resp-la", "req/la");
	struct client *resp_b = subscriber("resp-lb", "req/lb");
	struct client *req_a = requester("rq-la");
	struct client *req_b = requester("rq-lb");
	static const unsigned char corr1[] = {0x01, 0xab, 0x00, 0xff};

	struct msg *m[3];
	m[0] = send_request(req_a, "la", "1", corr1, sizeof(corr1), LONG_TIMEOUT, resp_a);
	m[1] = send_request(req_a, "lb", "2", "b", 1, LONG_TIMEOUT, resp_b);
	m[2] = send_request(req_b, "la", "1", "c", 1, LONG_TIMEOUT, resp_a);

	char e[3][300];
	pending_entry(e[0], sizeof(e[0]), "rq-la", "la", "1", "01ab00ff", "resp-la");
	pending_entry(e[1], sizeof(e[1]), "rq-la", "lb", "2", "62", "resp-lb");
	pending_entry(e[2], sizeof(e[2]), "rq-lb", "la", "1", "63", "resp-la");

	/* One batch: each command answers in its own entry, in order. */
	char *reply = list_reply(admin, "{\"commands\":["
			"{\"command\":\"listPending\"},"
			"{\"command\":\"listPending\",\"area\":\"la\"},"
			"{\"command\":\"listPending\",\"requester\":\"rq-lb\"},"
			"{\"command\":\"listPending\",\"area\":\"la\",\"requester\":\"rq-la\"},"
			"{\"command\":\"listPending\",\"olderThanMs\":0},"
			"{\"command\":\"listPending\",\"olderThanMs\":600000},"
			"{\"command\":\"listPending\",\"count\":1},"
			"{\"command\":\"listPending\",\"offset\":1,\"count\":1},"
			"{\"command\":\"listPending\",\"offset\":2,\"count\":5000},"
			"{\"command\":\"listPending\",\"area\":\"nowhere\"}]}");
	char expected[6000];
#define LIST "{\"command\":\"listPending\",\"data\":{\"pending\":["
	snprintf(expected, sizeof(expected), "{\"responses\":["
			LIST "%s,%s,%s],\"offset\":0,\"count\":3,\"more\":false}},"
			LIST "%s,%s],\"offset\":0,\"count\":2,\"more\":false}},"
			LIST "%s],\"offset\":0,\"count\":1,\"more\":false}},"
			LIST "%s],\"offset\":0,\"count\":1,\"more\":false}},"
			LIST "%s,%s,%s],\"offset\":0,\"count\":3,\"more\":false}},"
			LIST "],\"offset\":0,\"count\":0,\"more\":false}},"
			LIST "%s],\"offset\":0,\"count\":1,\"more\":true,\"cursor\":\"0.1\"}},"
			LIST "%s],\"offset\":1,\"count\":1,\"more\":true,\"cursor\":\"1.2\"}},"
			LIST "%s],\"offset\":2,\"count\":1,\"more\":false}},"
			LIST "],\"offset\":0,\"count\":0,\"more\":false}}]}",
			e[0], e[1], e[2], e[0], e[2], e[2], e[0], e[0], e[1], e[2], e[0], e[1], e[2]);
	ck_assert_str_eq(reply, expected);
	free(reply);

	/* The first page's cursor goes on from the second request, once. */
	reply = list_reply(admin, "{\"commands\":[{\"command\":\"listPending\",\"count\":1,\"cursor\":\"0.1\"},"
			"{\"command\":\"listPending\",\"count\":1,\"cursor\":\"0.1\"}]}");
	snprintf(expected, sizeof(expected), "{\"responses\":["
			LIST "%s],\"offset\":0,\"count\":1,\"more\":true,\"cursor\":\"2.3\"}},"
			"{\"command\":\"listPending\",\"error\":\"'cursor' is not one this selection's last page gave, "
			"or has expired: list again from the start\"}]}", e[1]);
#undef LIST
	ck_assert_str_eq(reply, expected);
	free(reply);

	ck_assert(client_quiet(admin, RCPT_QUIET_MS));
	ck_assert(client_quiet(req_a, 0));
	ck_assert(client_quiet(req_b, 0));
	for(int i = 0; i < 3; i++) msg_free(m[i]);
	client_free(req_a);
	client_free(req_b);
	client_free(resp_a);
	client_free(resp_b);
	client_free(admin);
}
END_TEST

/* ---- cancelPending ---- */

/* Three pending requests: rq-ca's "c1" (slot 1) and "c2" (slot 2) in area
 * ca, rq-cb's "c3" (slot 1) in area cb, all reaching one responder. */
struct cancel_scene {
	struct client *admin, *resp, *req_a, *req_b;
	struct msg *c1, *c2, *c3;
};

static void cancel_scene_start(struct cancel_scene *s)
{
	s->admin = admin_connect("ctl-admin-cx");
	s->resp = subscriber("resp-cx", "req/ca");
	ck_assert_int_eq(client_subscribe(s->resp, "req/cb", 1), 1);
	s->req_a = requester("rq-ca");
	s->req_b = requester("rq-cb");
	s->c1 = send_request(s->req_a, "ca", "1", "c1", 2, LONG_TIMEOUT, s->resp);
	s->c2 = send_request(s->req_a, "ca", "2", "c2", 2, LONG_TIMEOUT, s->resp);
	s->c3 = send_request(s->req_b, "cb", "1", "c3", 2, LONG_TIMEOUT, s->resp);
}

static void cancel_scene_end(struct cancel_scene *s)
{
	ck_assert(client_quiet(s->admin, RCPT_QUIET_MS));
	ck_assert(client_quiet(s->req_a, 0));
	ck_assert(client_quiet(s->req_b, 0));
	ck_assert(client_quiet(s->resp, 0));
	msg_free(s->c1);
	msg_free(s->c2);
	msg_free(s->c3);
	client_free(s->req_a);
	client_free(s->req_b);
	client_free(s->resp);
	client_free(s->admin);
}

static void expect_cancelled(struct client *admin, const char *command, int count)
{
	char payload[400], expected[160];
	snprintf(payload, sizeof(payload), "{\"commands\":[{\"command\":\"cancelPending\",%s}]}", command);
	snprintf(expected, sizeof(expected), "{\"responses\":[{\"command\":\"cancelPending\",\"data\":"
			"{\"cancelled\":%d,\"selected\":%d,\"queued\":0}}]}", count, count);
	control_expect(admin, payload, expected);
}

/* A cancelled request's late answer is refused like any unmatched one. */
static void late_answer_refused(struct client *resp, const struct msg *request)
{
	ck_assert_int_eq(client_answer(resp, request, "late", 1), MQTT_RC_NOT_AUTHORIZED);
}

START_TEST(cancel_one_by_correlation)
{
	struct cancel_scene s;
	cancel_scene_start(&s);
	expect_cancelled(s.admin, "\"requester\":\"rq-ca\",\"returnTopic\":\"ret/rq-ca/1\","
			"\"correlation\":\"6331\",\"reason\":\"maintenance\"", 1);
	expect_receipt(s.req_a, "ret/rq-ca/1", "", RECEIPTS_STATUS_CANCELLED, "maintenance", "c1", 1);
	ck_assert(client_quiet(s.req_a, RCPT_QUIET_MS));
	ck_assert(broker_log_wait(&broker, "control: cancelled 1 pending request(s): maintenance", RCPT_ARRIVAL_MS));
	late_answer_refused(s.resp, s.c1);
	/* The other two are untouched. */
	answer_gets_ok(s.resp, s.c2, s.req_a, "ret/rq-ca/2", "c2");
	answer_gets_ok(s.resp, s.c3, s.req_b, "ret/rq-cb/1", "c3");
	cancel_scene_end(&s);
}
END_TEST

START_TEST(cancel_all_of_a_requester)
{
	struct cancel_scene s;
	cancel_scene_start(&s);
	expect_cancelled(s.admin, "\"requester\":\"rq-ca\",\"all\":true", 2);
	/* Newest first. */
	expect_receipt(s.req_a, "ret/rq-ca/2", "", RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED, "c2", 1);
	expect_receipt(s.req_a, "ret/rq-ca/1", "", RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED, "c1", 1);
	ck_assert(client_quiet(s.req_a, RCPT_QUIET_MS));
	late_answer_refused(s.resp, s.c2);
	answer_gets_ok(s.resp, s.c3, s.req_b, "ret/rq-cb/1", "c3");
	cancel_scene_end(&s);
}
END_TEST

START_TEST(cancel_all_of_an_area)
{
	struct cancel_scene s;
	cancel_scene_start(&s);
	expect_cancelled(s.admin, "\"area\":\"cb\",\"all\":true,\"reason\":\"area closed\"", 1);
	expect_receipt(s.req_b, "ret/rq-cb/1", "", RECEIPTS_STATUS_CANCELLED, "area closed", "c3", 1);
	ck_assert(client_quiet(s.req_b, RCPT_QUIET_MS));
	ck_assert(client_quiet(s.req_a, 0));
	late_answer_refused(s.resp, s.c3);
	answer_gets_ok(s.resp, s.c1, s.req_a, "ret/rq-ca/1", "c1");
	answer_gets_ok(s.resp, s.c2, s.req_a, "ret/rq-ca/2", "c2");
	cancel_scene_end(&s);
}
END_TEST


/* Cancelling 700 of an area: 300 at once (one tick's worth), the rest over
 * the next ticks; every one gets its cancelled receipt, newest first, and
 * the log says when the queued part is done. */
START_TEST(mass_cancel_spread_over_ticks)
{
	enum { N = 700 };
	struct client *admin = admin_connect("ctl-admin-mc");
	struct client *resp = subscriber("resp-mc", "req/mc");
	struct client *req = requester("rq-mc");
	char corr[16];
	for(int i = 0; i < N; i++){
		int len = snprintf(corr, sizeof(corr), "%d", i);
		msg_free(send_request(req, "mc", "1", corr, (uint16_t)len, LONG_TIMEOUT, resp));
	}
	control_expect(admin, "{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"mc\",\"all\":true}]}",
			"{\"responses\":[{\"command\":\"cancelPending\",\"data\":{\"cancelled\":300,\"selected\":700,\"queued\":400}}]}");
	for(int i = N - 1; i >= 0; i--){
		snprintf(corr, sizeof(corr), "%d", i);
		expect_receipt(req, "ret/rq-mc/1", "", RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED, corr, 1);
	}
	ck_assert(broker_log_wait(&broker, "receipts: control: queued cancellation of area 'mc' done", RCPT_ARRIVAL_MS));
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	control_expect(admin, "{\"commands\":[{\"command\":\"listPending\"}]}",
			"{\"responses\":[{\"command\":\"listPending\",\"data\":{\"pending\":[],\"offset\":0,\"count\":0,\"more\":false}}]}");
	client_free(req);
	client_free(resp);
	client_free(admin);
}
END_TEST

#define X16 "rrrrrrrrrrrrrrrr"
#define REASON_257 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 "r"

/* Commands that must be refused with an error and cancel nothing. */
static const struct {
	const char *args;
	const char *error;
} bad_cancels[] = {
	{"\"reason\":\"x\"", NO_SELECTOR_ERROR},
	{"\"requester\":\"rq-ca\"", NO_SELECTOR_ERROR},
	{"\"all\":true", NO_SELECTOR_ERROR},
	{"\"requester\":\"rq-ca\",\"area\":\"ca\",\"all\":true", NO_SELECTOR_ERROR},
	{"\"requester\":\"rq-ca\",\"returnTopic\":\"ret/rq-ca/1\"", NO_SELECTOR_ERROR},
	{"\"requester\":\"rq-ca\",\"returnTopic\":\"ret/rq-ca/1\",\"correlation\":\"6g31\"",
		"'correlation' must be hexadecimal, two digits a byte"},
	{"\"requester\":\"rq-ca\",\"returnTopic\":\"ret/rq-ca/1\",\"correlation\":\"633\"",
		"'correlation' must be hexadecimal, two digits a byte"},
	{"\"area\":\"ca\",\"all\":\"yes\"", "'all' must be true or false"},
	{"\"area\":7,\"all\":true", "'area' must be a string"},
	{"\"area\":\"ca\",\"all\":true,\"reason\":\"" REASON_257 "\"",
		"'reason' must be valid UTF-8 of at most 256 bytes"},
};

START_TEST(cancel_errors_cancel_nothing)
{
	struct cancel_scene s;
	cancel_scene_start(&s);
	for(size_t i = 0; i < sizeof(bad_cancels) / sizeof(bad_cancels[0]); i++){
		char payload[700], expected[400];
		snprintf(payload, sizeof(payload), "{\"commands\":[{\"command\":\"cancelPending\",%s}]}", bad_cancels[i].args);
		snprintf(expected, sizeof(expected), "{\"responses\":[{\"command\":\"cancelPending\",\"error\":\"%s\"}]}",
				bad_cancels[i].error);
		control_expect(s.admin, payload, expected);
	}
	ck_assert(client_quiet(s.req_a, RCPT_QUIET_MS));
	ck_assert(client_quiet(s.req_b, 0));
	answer_gets_ok(s.resp, s.c1, s.req_a, "ret/rq-ca/1", "c1");
	answer_gets_ok(s.resp, s.c2, s.req_a, "ret/rq-ca/2", "c2");
	answer_gets_ok(s.resp, s.c3, s.req_b, "ret/rq-cb/1", "c3");
	cancel_scene_end(&s);
}
END_TEST

/* ---- bad input ---- */

static const struct {
	const char *payload;
	const char *reply;
} bad_inputs[] = {
	{"{\"commands\":[", "{\"responses\":[{\"command\":\"\",\"error\":\"payload is not valid JSON\"}]}"},
	{"", "{\"responses\":[{\"command\":\"\",\"error\":\"payload is not valid JSON\"}]}"},
	{"{\"commands\":{}}", "{\"responses\":[{\"command\":\"\",\"error\":\"payload must be {\\\"commands\\\": [...]}\"}]}"},
	{"[]", "{\"responses\":[{\"command\":\"\",\"error\":\"payload must be {\\\"commands\\\": [...]}\"}]}"},
	{"{\"commands\":[{\"command\":\"dropAll\",\"correlationData\":\"u\"}]}",
		"{\"responses\":[{\"command\":\"dropAll\",\"error\":\"unknown command\",\"correlationData\":\"u\"}]}"},
	{"{\"commands\":[{\"command\":5}]}", "{\"responses\":[{\"command\":\"\",\"error\":\"'command' must be a string\"}]}"},
	{"{\"commands\":[7]}", "{\"responses\":[{\"command\":\"\",\"error\":\"each command must be a JSON object\"}]}"},
	{"{\"commands\":[{\"command\":\"listPending\",\"count\":-1}]}",
		"{\"responses\":[{\"command\":\"listPending\",\"error\":\"'count' must be a whole number from 1 to 1000\"}]}"},
	{"{\"commands\":[{\"command\":\"listPending\",\"count\":0}]}",
		"{\"responses\":[{\"command\":\"listPending\",\"error\":\"'count' must be a whole number from 1 to 1000\"}]}"},
	{"{\"commands\":[{\"command\":\"listPending\",\"count\":1.5}]}",
		"{\"responses\":[{\"command\":\"listPending\",\"error\":\"'count' must be a whole number from 1 to 1000\"}]}"},
	{"{\"commands\":[{\"command\":\"listPending\",\"count\":\"x\"}]}",
		"{\"responses\":[{\"command\":\"listPending\",\"error\":\"'count' must be a number\"}]}"},
	{"{\"commands\":[{\"command\":\"listPending\",\"olderThanMs\":-5}]}",
		"{\"responses\":[{\"command\":\"listPending\",\"error\":\"'olderThanMs' must be a whole number from 0 to 4294967295\"}]}"},
	{"{\"commands\":[{\"command\":\"listPending\",\"area\":[]}]}",
		"{\"responses\":[{\"command\":\"listPending\",\"error\":\"'area' must be a string\"}]}"},
};

/* {"commands":[ cancelPending area bi all, ... n times ]} (caller frees). */
static char *cancel_batch(int n)
{
	static const char one[] = "{\"command\":\"cancelPending\",\"area\":\"bi\",\"all\":true}";
	size_t size = 32 + (size_t)n * sizeof(one);
	char *p = malloc(size);
	ck_assert_ptr_nonnull(p);
	strcpy(p, "{\"commands\":[");
	for(int i = 0; i < n; i++){
		if(i) strcat(p, ",");
		strcat(p, one);
	}
	strcat(p, "]}");
	return p;
}

START_TEST(bad_input_gets_errors_and_runs_nothing)
{
	struct client *admin = admin_connect("ctl-admin-bi");
	struct client *resp = subscriber("resp-bi", "req/bi");
	struct client *req = requester("rq-bi");
	struct msg *pending = send_request(req, "bi", "1", "b1", 2, LONG_TIMEOUT, resp);

	for(size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++){
		control_expect(admin, bad_inputs[i].payload, bad_inputs[i].reply);
	}
	/* Over the batch limit: none of them runs, so the pending request
	 * in area bi is not cancelled. */
	char *batch = cancel_batch(RECEIPTS_CONTROL_MAX_COMMANDS + 1);
	control_expect(admin, batch, "{\"responses\":[{\"command\":\"\",\"error\":"
			"\"101 commands in one batch; at most 100 are run at once, none were\"}]}");
	free(batch);

	/* Over 1 MiB: valid JSON whitespace, refused before parsing. */
	int big_len = RECEIPTS_CONTROL_MAX_PAYLOAD + 1;
	char *big = malloc((size_t)big_len);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', (size_t)big_len);
	static const char head[] = "{\"commands\":[{\"command\":\"getStats\"}]}";
	memcpy(big, head, sizeof(head) - 1);
	char *reply = control_len(admin, big, big_len);
	ck_assert_str_eq(reply, "{\"responses\":[{\"command\":\"\",\"error\":"
			"\"payload of 1048577 bytes is over the limit of 1048576; not parsed\"}]}");
	free(reply);
	free(big);

	ck_assert(client_quiet(req, 0));
	/* Still answering: a normal command, and a normal request. */
	reply = control(admin, "{\"commands\":[{\"command\":\"getStats\"}]}");
	static const char stats_head[] = "{\"responses\":[{\"command\":\"getStats\",\"data\":{\"pending\":1,";
	ck_assert_msg(!strncmp(reply, stats_head, sizeof(stats_head) - 1), "%s", reply);
	ck_assert_ptr_nonnull(strstr(reply, "\"cancelled\":0,"));
	free(reply);
	answer_gets_ok(resp, pending, req, "ret/rq-bi/1", "b1");
	struct msg *r = send_request(req, "bi", "2", "b2", 2, LONG_TIMEOUT, resp);
	answer_gets_ok(resp, r, req, "ret/rq-bi/2", "b2");

	ck_assert(client_quiet(admin, 0));
	ck_assert(client_quiet(resp, 0));
	msg_free(r);
	msg_free(pending);
	client_free(req);
	client_free(resp);
	client_free(admin);
}
END_TEST

/* ---- access ---- */

/* c may not read the control topics, and a cancelPending it sends is
 * refused and not run. */
static void control_refused(struct client *c)
{
	ck_assert_int_eq(client_subscribe(c, RECEIPTS_CONTROL_RESPONSE_TOPIC, 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(c, "$CONTROL/receipts/#", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(c, "$share/g/" RECEIPTS_CONTROL_RESPONSE_TOPIC, 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_publish_str(c, RECEIPTS_CONTROL_TOPIC,
			"{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"ac\",\"all\":true}]}", 1, false, NULL),
			MQTT_RC_NOT_AUTHORIZED);
	char line[160];
	snprintf(line, sizeof(line), "refused subscription of '%s' to '%s': not a control user",
			client_id(c), RECEIPTS_CONTROL_RESPONSE_TOPIC);
	ck_assert(broker_log_wait(&broker, line, RCPT_ARRIVAL_MS));
}

START_TEST(only_control_users_may_use_the_api)
{
	struct client *resp = subscriber("resp-ac", "req/ac");
	struct client *req = requester("rq-ac");
	struct msg *pending = send_request(req, "ac", "1", "a1", 2, LONG_TIMEOUT, resp);

	struct client *bob = client_connect_auth(&broker, "ctl-bob", true, BOB_USER, BOB_PASS);
	struct client *anon = client_connect(&broker, "ctl-anon", true);
	control_refused(bob);
	control_refused(anon);

	/* Not run: the request is still pending, and admin can cancel it. */
	struct client *admin = admin_connect("ctl-admin-ac");
	char *reply = list_reply(admin, "{\"commands\":[{\"command\":\"listPending\",\"area\":\"ac\"}]}");
	char entry[300], expected[500];
	pending_entry(entry, sizeof(entry), "rq-ac", "ac", "1", "6131", "resp-ac");
	snprintf(expected, sizeof(expected), "{\"responses\":[{\"command\":\"listPending\",\"data\":{\"pending\":[%s],"
			"\"offset\":0,\"count\":1,\"more\":false}}]}", entry);
	ck_assert_str_eq(reply, expected);
	free(reply);
	expect_cancelled(admin, "\"area\":\"ac\",\"all\":true", 1);
	expect_receipt(req, "ret/rq-ac/1", "", RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED, "a1", 1);

	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(bob, 0));
	ck_assert(client_quiet(anon, 0));
	ck_assert(client_quiet(admin, 0));
	msg_free(pending);
	client_free(bob);
	client_free(anon);
	client_free(admin);
	client_free(req);
	client_free(resp);
}
END_TEST

/* The reply goes to the client that sent the commands, not to every
 * subscriber of the response topic. */
START_TEST(reply_goes_to_the_sender_only)
{
	struct client *admin1 = admin_connect("ctl-admin-r1");
	struct client *admin2 = admin_connect("ctl-admin-r2");
	control_expect(admin1, "{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"none\",\"all\":true}]}",
			"{\"responses\":[{\"command\":\"cancelPending\",\"data\":{\"cancelled\":0,\"selected\":0,\"queued\":0}}]}");
	ck_assert(client_quiet(admin2, RCPT_QUIET_MS));
	ck_assert(client_quiet(admin1, 0));
	client_free(admin1);
	client_free(admin2);
}
END_TEST

START_TEST(control_users_start_with_a_warning)
{
	ck_assert(broker_log_wait(&broker, WARNING_LINE, RCPT_ARRIVAL_MS));
	ck_assert(broker_log_wait(&broker, "receipts: started: ", 0));
	ck_assert(broker_log_wait(&broker, "control_users=" ADMIN_USER "; ", 0));
	ck_assert_int_eq(broker_log_count(&broker, WARNING_LINE), 1);
}
END_TEST

START_TEST(without_control_users_nobody_may)
{
	start_broker("");
	ck_assert(broker_log_wait(&broker, "control_users=(none: control API off)", RCPT_ARRIVAL_MS));
	ck_assert_int_eq(broker_log_count(&broker, WARNING_LINE), 0);

	struct client *admin = client_connect_auth(&broker, "ctl-admin-off", true, ADMIN_USER, ADMIN_PASS);
	control_refused(admin);
	ck_assert(client_quiet(admin, RCPT_QUIET_MS));
	client_free(admin);
}
END_TEST

/* ---- getConfig ---- */

START_TEST(get_config_reflects_the_options)
{
	char state[128], options[900], expected[1200];
	snprintf(state, sizeof(state), "%s/receipts.state", pw_dir);
	snprintf(options, sizeof(options),
			"plugin_opt_" RECEIPTS_OPT_CONTROL_USERS " " ADMIN_USER ", ops\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_TIMEOUT_MS " 60000\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_PENDING " 50\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_PENDING_PER_CLIENT " 7\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_CORRELATION_LEN " 32\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_PENDING_PER_USER " 6\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_PENDING_ANONYMOUS " 40\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN " 100\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_PENDING_BYTES " 2097152\n"
			"plugin_opt_" RECEIPTS_OPT_ACL_FALLBACK " defer\n"
			"plugin_opt_" RECEIPTS_OPT_SYS_INTERVAL_S " 0\n"
			"plugin_opt_" RECEIPTS_OPT_STATE_FILE " %s\n"
			"plugin_opt_" RECEIPTS_OPT_SAVE_INTERVAL_S " 9\n"
			"plugin_opt_" RECEIPTS_OPT_JOURNAL_SYNC " true", state);
	start_broker(options);
	snprintf(expected, sizeof(expected),
			"{\"responses\":[{\"command\":\"getConfig\",\"data\":{\"request_prefix\":\"req\",\"return_prefix\":\"ret\","
			"\"default_timeout_ms\":2000,\"max_timeout_ms\":60000,\"max_pending\":50,\"max_pending_per_client\":7,"
			"\"max_pending_per_user\":6,\"max_pending_anonymous\":40,\"max_pending_bytes\":2097152,"
			"\"max_correlation_len\":32,\"max_return_topic_len\":100,\"acl_fallback\":\"defer\",\"open_return_topics\":\"off\","
			"\"sys_interval_s\":0,\"state_file\":\"%s\",\"save_interval_s\":9,\"journal_sync\":true,"
			"\"control_users\":[\"admin\",\"ops\"],\"bind_client_ids\":true,\"qos2_release_grace_ms\":1000},"
			"\"correlationData\":\"cf\"}]}", state);
	/* With acl_fallback defer and no other ACL source the broker denies
	 * what the plugin defers; the control topics are the plugin's own. */
	struct client *admin = admin_connect("ctl-admin-cf");
	control_expect(admin, "{\"commands\":[{\"command\":\"getConfig\",\"correlationData\":\"cf\"}]}", expected);
	ck_assert(client_quiet(admin, RCPT_QUIET_MS));
	client_free(admin);
}
END_TEST

/* ---- $SYS ---- */

#define SYS_TOPICS 10

static const char *const sys_topics[SYS_TOPICS] = {
	RECEIPTS_SYS_PREFIX "/pending", RECEIPTS_SYS_PREFIX "/pending-high-water",
	RECEIPTS_SYS_PREFIX "/totals/ok", RECEIPTS_SYS_PREFIX "/totals/timeout",
	RECEIPTS_SYS_PREFIX "/totals/no-responders", RECEIPTS_SYS_PREFIX "/totals/responder-gone",
	RECEIPTS_SYS_PREFIX "/totals/rejected", RECEIPTS_SYS_PREFIX "/totals/cancelled",
	RECEIPTS_SYS_PREFIX "/totals/unmatched", RECEIPTS_SYS_PREFIX "/totals/abandoned",
};

static int sys_index(const char *topic)
{
	for(int i = 0; i < SYS_TOPICS; i++){
		if(!strcmp(sys_topics[i], topic)) return i;
	}
	ck_abort_msg("unexpected $SYS topic %s", topic);
	return -1;
}

/* Waits until each of the ten values has arrived once, all "0". */
static void expect_all_zero(struct client *c, bool retained)
{
	bool seen[SYS_TOPICS] = {false};
	for(int n = 0; n < SYS_TOPICS; n++){
		struct msg *m = client_wait(c, SYS_WAIT_MS);
		ck_assert_msg(m != NULL, "%s: %d of %d $SYS values arrived", client_id(c), n, SYS_TOPICS);
		int i = sys_index(m->topic);
		ck_assert_msg(!seen[i], "%s twice", m->topic);
		seen[i] = true;
		ck_assert_str_eq(m->payload, "0");
		if(retained) ck_assert(m->retain);
		msg_free(m);
	}
}

START_TEST(sys_values_follow_the_totals)
{
	start_broker("plugin_opt_" RECEIPTS_OPT_SYS_INTERVAL_S " 1");
	struct client *sys = subscriber("sys-watch", RECEIPTS_SYS_PREFIX "/#");
	expect_all_zero(sys, false);

	struct client *resp = subscriber("resp-sy", "req/sy");
	struct client *req = requester("rq-sy");
	struct msg *r = send_request(req, "sy", "1", "s1", 2, LONG_TIMEOUT, resp);
	answer_gets_ok(resp, r, req, "ret/rq-sy/1", "s1");

	/* Only changed values are sent: ok and the high water become 1;
	 * pending is sent only if an update fell inside the round trip. */
	bool ok_seen = false, high_seen = false;
	int64_t deadline = harness_now_ms() + SYS_WAIT_MS;
	while(!(ok_seen && high_seen)){
		int left = (int)(deadline - harness_now_ms());
		struct msg *m = client_wait(sys, left > 0 ? left : 0);
		ck_assert_msg(m != NULL, "no $SYS update with totals/ok 1 (ok %d, high water %d)", ok_seen, high_seen);
		int i = sys_index(m->topic);
		if(i == 0){
			ck_assert_msg(!strcmp(m->payload, "1") || !strcmp(m->payload, "0"), "pending %s", m->payload);
		}else{
			ck_assert_msg(i == 1 || i == 2, "%s changed to %s", m->topic, m->payload);
			ck_assert_str_eq(m->payload, "1");
			if(i == 1) high_seen = true;
			else ok_seen = true;
		}
		ck_assert(m->retain == false);
		msg_free(m);
	}
	ck_assert(client_quiet(sys, RCPT_QUIET_MS));

	/* They are retained: a late subscriber gets the current values. */
	struct client *late = subscriber("sys-late", RECEIPTS_SYS_PREFIX "/totals/ok");
	struct msg *m = expect_on(late, RECEIPTS_SYS_PREFIX "/totals/ok");
	ck_assert_str_eq(m->payload, "1");
	ck_assert(m->retain);
	ck_assert(client_quiet(late, RCPT_QUIET_MS));

	msg_free(m);
	msg_free(r);
	client_free(late);
	client_free(req);
	client_free(resp);
	client_free(sys);
}
END_TEST

Suite *control_suite(void)
{
	Suite *s = suite_create("control");

	/* A broker with password authentication and admin as control user. */
	TCase *commands = harness_tcase("commands");
	tcase_add_unchecked_fixture(commands, make_password_file, remove_password_file);
	tcase_add_checked_fixture(commands, setup_with_admin, teardown);
	tcase_add_test(commands, get_stats_counts_each_outcome_once);
	tcase_add_test(commands, list_pending_filters_and_pages);
	tcase_add_test(commands, cancel_one_by_correlation);
	tcase_add_test(commands, cancel_all_of_a_requester);
	tcase_add_test(commands, cancel_all_of_an_area);
	tcase_add_test(commands, mass_cancel_spread_over_ticks);
	tcase_add_test(commands, cancel_errors_cancel_nothing);
	tcase_add_test(commands, bad_input_gets_errors_and_runs_nothing);
	tcase_add_test(commands, only_control_users_may_use_the_api);
	tcase_add_test(commands, reply_goes_to_the_sender_only);
	tcase_add_test(commands, control_users_start_with_a_warning);
	suite_add_tcase(s, commands);

	/* Each test starts its broker with its own options; the state file goes
	 * next to the password file, which outlives each test's broker. */
	TCase *config = harness_tcase("config");
	tcase_add_unchecked_fixture(config, make_password_file, remove_password_file);
	tcase_add_checked_fixture(config, NULL, teardown);
	tcase_add_test(config, without_control_users_nobody_may);
	tcase_add_test(config, get_config_reflects_the_options);
	tcase_add_test(config, sys_values_follow_the_totals);
	suite_add_tcase(s, config);
	return s;
}
