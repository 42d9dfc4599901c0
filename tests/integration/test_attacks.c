/*
 * Attacks on the receipt contract, tried as a client with a connection
 * would: wills into a return area or a subject area, broker properties set
 * by a client, retained requests, and guessing the correlation a responder
 * answers with. Each runs twice: with anonymous clients, and behind
 * password_file + acl_file as in examples/secure (users alice, worker and
 * mallory, made by the test).
 *
 * Every test asserts the secure outcome, and that alice's real request
 * still gets exactly one receipt (worker's answer, with alice's own
 * correlation) and that nothing else reaches alice or worker.
 */
#include <check.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* How long a will may take: a Will Delay Interval of 1 s is sent by the
 * broker's once-a-second will check. */
#define WILL_DELAY_S 1
#define WILL_ARRIVAL_MS 4000

static struct broker broker;
static bool authenticated;
static char pw_dir[64];
static char pw_file[96];
static char acl_file[96];

/* ---- the two setups ---- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Once per test case, in the runner's process: the password and ACL files. */
static void make_auth_files(void)
{
	snprintf(pw_dir, sizeof(pw_dir), "/tmp/rcpt-attacks-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pw_dir));
	snprintf(pw_file, sizeof(pw_file), "%s/passwords", pw_dir);
	snprintf(acl_file, sizeof(acl_file), "%s/acl", pw_dir);
	const char *create[] = {"mosquitto_passwd", "-b", "-c", pw_file, "alice", "alice-secret", NULL};
	ck_assert_int_eq(run_command(create, 10000, NULL), 0);
	static const char *const others[] = {"worker", "mallory"};
	for(size_t i = 0; i < 2; i++){
		char pass[32];
		snprintf(pass, sizeof(pass), "%s-secret", others[i]);
		const char *add[] = {"mosquitto_passwd", "-b", pw_file, others[i], pass, NULL};
		ck_assert_int_eq(run_command(add, 10000, NULL), 0);
	}
	/* mallory is a user like alice: it may ask in every area, answer in
	 * area B, and subscribe to area A, where acl_file lets it read
	 * nothing. */
	write_file(acl_file,
			"user alice\ntopic write req/#\ntopic read status/#\n\n"
			"user worker\ntopic read req/A\ntopic read req/A/#\n\n"
			"user mallory\ntopic write req/#\ntopic read req/B\ntopic write status/mallory\n");
}

static void remove_auth_files(void)
{
	unlink(pw_file);
	unlink(acl_file);
	rmdir(pw_dir);
}

static void start_anonymous(void)
{
	authenticated = false;
	broker_start(&broker, NULL);
}

static void start_authenticated(void)
{
	authenticated = true;
	char conf[512];
	snprintf(conf, sizeof(conf), "allow_anonymous false\npassword_file %s\nacl_file %s\n"
			"plugin_opt_" RECEIPTS_OPT_ACL_FALLBACK " defer", pw_file, acl_file);
	broker_start(&broker, conf);
}

static void stop_broker(void)
{
	broker_stop(&broker);
}

/* ---- clients ---- */

/* A connect spec for client id as user (with its password when the broker
 * authenticates). */
static struct connect_spec as_user_id(const char *user, const char *id)
{
	static char pass[4][32];
	static unsigned next;
	struct connect_spec spec = {.id = id, .clean_start = true};
	if(authenticated){
		char *p = pass[next++ % 4];
		snprintf(p, sizeof(pass[0]), "%s-secret", user);
		spec.username = user;
		spec.password = p;
	}
	return spec;
}

/* The same with the user's name as client id. */
static struct connect_spec as_user(const char *id)
{
	return as_user_id(id, id);
}

static struct client *connect_spec(struct connect_spec spec)
{
	struct client *c;
	int rc = client_connect_rc(&broker, &spec, &c);
	ck_assert_msg(rc == 0, "client %s: CONNACK %d (-1: none)", spec.id, rc);
	return c;
}

static struct client *connect_as(const char *id)
{
	return connect_spec(as_user(id));
}

/* ---- the real request ---- */

/* alice's request to area A, as worker received it. */
struct scene {
	struct client *alice, *worker;
	struct msg *request;
	const char *corr;        /* alice's correlation; NULL: none (mosquitto_rr) */
	int qos;
};

static void scene_open(struct scene *s, int qos, const char *corr)
{
	memset(s, 0, sizeof(*s));
	s->qos = qos;
	s->corr = corr;
	s->alice = connect_as("alice");
	ck_assert_int_eq(client_subscribe(s->alice, "ret/alice/#", 2), 2);
	s->worker = connect_as("worker");
	ck_assert_int_eq(client_subscribe(s->worker, "req/A", 2), 2);
	struct props_spec props = {.response_topic = "ret/alice/r",
		.correlation = corr, .correlation_len = corr ? (uint16_t)strlen(corr) : 0,
		USER_PROPS({RECEIPTS_PROP_TIMEOUT_MS, "30000"})};
	s->request = request_reaches(s->alice, "req/A", "question", &props, qos, s->worker, "req/A");
	assert_token(s->request, corr);
	ck_assert_pstr_eq(s->request->response_topic, "ret/alice/r");
}

/* worker answers: alice gets exactly that, once, with its own correlation;
 * then nothing more reaches alice or worker. */
static void scene_close(struct scene *s)
{
	ck_assert_int_eq(client_answer(s->worker, s->request, "answer", s->qos), 0);
	expect_receipt(s->alice, "ret/alice/r", "answer", RECEIPTS_STATUS_OK, NULL, s->corr, s->qos);
	ck_assert(client_quiet(s->alice, RCPT_QUIET_MS));
	ck_assert(client_quiet(s->worker, 0));
	msg_free(s->request);
	client_free(s->alice);
	client_free(s->worker);
}

static void expect_log(const char *line)
{
	ck_assert_msg(broker_log_wait(&broker, line, WILL_ARRIVAL_MS), "log: no line '%s'", line);
	ck_assert_int_eq(broker_log_count(&broker, line), 1);
}

/* ---- 1. wills ---- */

enum will_path {
	WILL_AT_DROP,        /* the connection drops: the broker sends it at once */
	WILL_DELAYED,        /* Will Delay Interval: sent a second later */
	WILL_AT_TAKEOVER,    /* a new connection with the same id takes over */
};

/* mallory leaves a will carrying what a receipt would: worker's token,
 * `receipt: ok`; on topic (with Response Topic rt, when set). */
static void leave_will(const struct scene *s, const char *topic, const char *rt, int qos, bool retain,
		enum will_path path)
{
	struct props_spec props = {.response_topic = rt,
		.correlation = s->request->correlation, .correlation_len = s->request->correlation_len,
		USER_PROPS({RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK}, {RECEIPTS_PROP_REQUESTER, "alice"})};
	struct connect_spec spec = as_user("mallory");
	spec.will_topic = topic;
	spec.will_payload = "forged";
	spec.will_qos = qos;
	spec.will_retain = retain;
	spec.will_props = &props;
	spec.will_delay_s = path == WILL_DELAYED ? WILL_DELAY_S : 0;
	struct client *mallory = connect_spec(spec);
	if(path == WILL_AT_TAKEOVER){
		/* Clean start: the old connection's will goes out as it is taken over. */
		struct client *again = connect_as("mallory");
		client_free(mallory);
		client_free(again);
	}else{
		ck_assert_int_eq(client_drop(mallory), 0);
		client_free(mallory);
	}
	char line[256];
	snprintf(line, sizeof(line), "refused will of 'mallory' on '%s': " RECEIPTS_REFUSED_WILL "\n", topic);
	expect_log(line);
}

static void check_will_into_return_area(int qos, bool retain, enum will_path path)
{
	struct scene s;
	scene_open(&s, qos, "c-1");
	leave_will(&s, "ret/alice/r", NULL, qos, retain, path);
	ck_assert(client_quiet(s.alice, RCPT_QUIET_MS));
	if(retain){
		/* Nothing was kept for a new subscription either. */
		ck_assert_int_eq(client_unsubscribe(s.alice, "ret/alice/#"), 0);
		ck_assert_int_eq(client_subscribe(s.alice, "ret/alice/#", 2), 2);
		ck_assert(client_quiet(s.alice, RCPT_QUIET_MS));
	}
	scene_close(&s);
}

START_TEST(will_into_return_area_qos0)
{
	check_will_into_return_area(0, false, WILL_AT_DROP);
}
END_TEST

START_TEST(will_into_return_area_qos1)
{
	check_will_into_return_area(1, false, WILL_AT_DROP);
}
END_TEST

START_TEST(will_into_return_area_qos2)
{
	check_will_into_return_area(2, false, WILL_AT_DROP);
}
END_TEST

START_TEST(will_into_return_area_retained)
{
	check_will_into_return_area(1, true, WILL_AT_DROP);
}
END_TEST

START_TEST(will_into_return_area_delayed)
{
	check_will_into_return_area(1, false, WILL_DELAYED);
}
END_TEST

START_TEST(will_into_return_area_delayed_retained)
{
	check_will_into_return_area(1, true, WILL_DELAYED);
}
END_TEST

START_TEST(will_into_return_area_at_takeover)
{
	check_will_into_return_area(1, false, WILL_AT_TAKEOVER);
}
END_TEST

/* A will on req/A naming alice's return area never reaches worker as a
 * request from alice. */
static void check_will_into_subject_area(bool retain, enum will_path path)
{
	struct scene s;
	scene_open(&s, 1, "c-1");
	leave_will(&s, "req/A", "ret/alice/x", 1, retain, path);
	ck_assert(client_quiet(s.worker, RCPT_QUIET_MS));
	if(retain){
		struct client *late = connect_spec(as_user_id("worker", "worker-late"));
		ck_assert_int_eq(client_subscribe(late, "req/A", 2), 2);
		ck_assert(client_quiet(late, RCPT_QUIET_MS));
		client_free(late);
	}
	scene_close(&s);
}

START_TEST(will_into_subject_area)
{
	check_will_into_subject_area(false, WILL_AT_DROP);
}
END_TEST

START_TEST(will_into_subject_area_retained)
{
	check_will_into_subject_area(true, WILL_AT_DROP);
}
END_TEST

START_TEST(will_into_subject_area_delayed)
{
	check_will_into_subject_area(false, WILL_DELAYED);
}
END_TEST

/* A will outside the prefixes is none of the plugin's business, and the
 * same client's ordinary publishes under them still work. */
START_TEST(will_elsewhere_untouched)
{
	struct scene s;
	scene_open(&s, 1, "c-1");
	struct client *watcher = connect_spec(as_user_id("alice", "alice-watch"));
	ck_assert_int_eq(client_subscribe(watcher, "status/mallory", 1), 1);
	struct connect_spec spec = as_user("mallory");
	spec.will_topic = "status/mallory";
	spec.will_payload = "gone";
	spec.will_qos = 1;
	struct client *mallory = connect_spec(spec);
	/* Its own requests pass as before. */
	ck_assert_int_eq(client_subscribe(mallory, "ret/mallory/#", 1), 1);
	ck_assert_int_eq(publish_request(mallory, "req/nobody", "q", "ret/mallory/1", "m-1", NULL), MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	expect_receipt(mallory, "ret/mallory/1", "", RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER, "m-1", 1);
	ck_assert_int_eq(client_drop(mallory), 0);
	client_free(mallory);
	struct msg *m = expect_on(watcher, "status/mallory");
	ck_assert_str_eq(m->payload, "gone");
	msg_free(m);
	ck_assert(client_quiet(watcher, RCPT_QUIET_MS));
	client_free(watcher);
	ck_assert_int_eq(broker_log_count(&broker, "refused will"), 0);
	scene_close(&s);
}
END_TEST

/* ---- 2. broker properties set by a client ---- */

/* Under the request prefix without a Response Topic: refused with 0x87
 * (QoS 0: dropped), one log line, nothing reaches worker. */
static void check_forged_properties(int qos, bool retain, const char *name)
{
	struct scene s;
	scene_open(&s, 1, "c-1");
	struct client *mallory = connect_as("mallory");
	struct props_spec props = {.correlation = s.request->correlation,
		.correlation_len = s.request->correlation_len, USER_PROPS({name, "alice"})};
	int ack = client_publish_str(mallory, "req/A", "forged", qos, retain, &props);
	ck_assert_int_eq(ack, qos ? MQTT_RC_NOT_AUTHORIZED : 0);
	char line[256];
	snprintf(line, sizeof(line), "refused publish from 'mallory' on 'req/A': " RECEIPTS_REFUSED_BROKER_PROPERTY
			" ('%s' is set by the broker only)\n", name);
	expect_log(line);
	ck_assert(client_quiet(s.worker, RCPT_QUIET_MS));
	ck_assert(client_is_connected(mallory));
	client_free(mallory);
	scene_close(&s);
}

START_TEST(forged_requester_qos0)
{
	check_forged_properties(0, false, RECEIPTS_PROP_REQUESTER);
}
END_TEST

START_TEST(forged_requester_qos1)
{
	check_forged_properties(1, false, RECEIPTS_PROP_REQUESTER);
}
END_TEST

START_TEST(forged_requester_qos2)
{
	check_forged_properties(2, false, RECEIPTS_PROP_REQUESTER);
}
END_TEST

START_TEST(forged_requester_retained)
{
	check_forged_properties(1, true, RECEIPTS_PROP_REQUESTER);
}
END_TEST

START_TEST(forged_receipt_property)
{
	check_forged_properties(1, false, RECEIPTS_PROP_RECEIPT);
}
END_TEST

START_TEST(forged_receipt_reason)
{
	check_forged_properties(1, false, RECEIPTS_PROP_REASON);
}
END_TEST

/* A retained publish under the request prefix without broker properties:
 * refused too, so no later subscriber takes it for a request. */
START_TEST(retained_plain_publish_under_request_prefix)
{
	struct scene s;
	scene_open(&s, 1, "c-1");
	struct client *mallory = connect_as("mallory");
	ck_assert_int_eq(client_publish_str(mallory, "req/A", "stale", 1, true, NULL), MQTT_RC_NOT_AUTHORIZED);
	expect_log("refused publish from 'mallory' on 'req/A': " RECEIPTS_REFUSED_RETAINED "\n");
	ck_assert(client_quiet(s.worker, RCPT_QUIET_MS));
	client_free(mallory);
	scene_close(&s);
}
END_TEST

/* A retained request is refused (`retained-request`) and never stored. */
START_TEST(retained_request_never_stored)
{
	struct scene s;
	scene_open(&s, 1, "c-1");
	struct client *mallory = connect_as("mallory");
	ck_assert_int_eq(client_subscribe(mallory, "ret/mallory/#", 1), 1);
	struct props_spec props = {.response_topic = "ret/mallory/1", .correlation = "m-1", .correlation_len = 3};
	ck_assert_int_eq(client_publish_str(mallory, "req/A", "kept?", 1, true, &props), MQTT_RC_NOT_AUTHORIZED);
	expect_receipt(mallory, "ret/mallory/1", "", RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_RETAINED, "m-1", 1);
	ck_assert(client_quiet(s.worker, RCPT_QUIET_MS));
	/* A new subscription gets nothing stored. */
	ck_assert_int_eq(client_unsubscribe(s.worker, "req/A"), 0);
	ck_assert_int_eq(client_subscribe(s.worker, "req/A", 2), 2);
	ck_assert(client_quiet(s.worker, RCPT_QUIET_MS));
	client_free(mallory);
	scene_close(&s);
}
END_TEST

/* ---- 4. guessing the correlation ---- */

/* The token of mallory's own request, as a responder in area B sees it. */
static struct msg *own_token(struct client *mallory)
{
	ck_assert_int_eq(client_subscribe(mallory, "req/B", 1), 1);
	ck_assert_int_eq(client_subscribe(mallory, "ret/mallory/#", 1), 1);
	ck_assert_int_eq(publish_request(mallory, "req/B", "mine", "ret/mallory/1", NULL, "30000"), 0);
	struct msg *m = expect_request(mallory, "req/B", "mine", "mallory");
	assert_token(m, NULL);
	return m;
}

/* Each guess into alice's return area: refused as matching nothing. */
static void guess(struct client *mallory, const void *corr, uint16_t len)
{
	struct props_spec props = {.correlation = corr, .correlation_len = len};
	int before = broker_log_count(&broker, "refused receipt from 'mallory' on 'ret/alice/r': ");
	ck_assert_int_eq(client_publish_str(mallory, "ret/alice/r", "guessed", 1, false, &props),
			MQTT_RC_NOT_AUTHORIZED);
	ck_assert(broker_log_wait_count(&broker, "refused receipt from 'mallory' on 'ret/alice/r': ", before + 1,
				RCPT_ARRIVAL_MS));
}

/* mosquitto_rr sets no correlation: what worker gets is all the broker
 * made. mallory reads its own token, then answers alice's request with
 * its neighbours; where acl_file denies mallory the reading of area A
 * its subscription still counts as a delivery, so only the token's
 * secrecy stands in the way. */
START_TEST(guessing_the_next_token)
{
	struct client *mallory = connect_as("mallory");
	struct msg *mine = own_token(mallory);
	if(authenticated) ck_assert_int_eq(client_subscribe(mallory, "req/A", 1), 1);

	struct scene s;
	scene_open(&s, 1, NULL);
	ck_assert(client_quiet(mallory, RCPT_QUIET_MS));   /* acl_file (or no subscription) keeps it out */

	unsigned char t[RCPT_TOKEN_BYTES];
	memcpy(t, mine->correlation, RCPT_TOKEN_BYTES);
	for(int step = -2; step <= 2; step++){
		if(step == 0) continue;
		unsigned char g[RCPT_TOKEN_BYTES];
		memcpy(g, t, sizeof(g));
		/* As a big-endian counter: add step to the last bytes. */
		int carry = step;
		for(int i = RCPT_TOKEN_BYTES - 1; i >= 0 && carry != 0; i--){
			int v = g[i] + carry;
			g[i] = (unsigned char)(v & 0xff);
			carry = v >> 8;
		}
		guess(mallory, g, RCPT_TOKEN_BYTES);
		/* The 8-byte counter the broker used to make. */
		guess(mallory, g + 8, 8);
	}
	guess(mallory, t, RCPT_TOKEN_BYTES);
	/* The token of a request is worker's to know: alice gets worker's answer. */
	scene_close(&s);
	ck_assert_int_eq(client_answer(mallory, mine, "mine-answer", 1), 0);
	expect_receipt(mallory, "ret/mallory/1", "mine-answer", RECEIPTS_STATUS_OK, NULL, NULL, 1);
	msg_free(mine);
	client_free(mallory);
}
END_TEST

/* A receipt's correlation is never a token: what worker saw stays with the
 * broker, alice gets back exactly what it sent. */
START_TEST(receipt_carries_the_requesters_correlation)
{
	struct scene s;
	scene_open(&s, 2, "c-\x01\xff-bytes");
	scene_close(&s);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, will_into_return_area_qos0);
	tcase_add_test(tc, will_into_return_area_qos1);
	tcase_add_test(tc, will_into_return_area_qos2);
	tcase_add_test(tc, will_into_return_area_retained);
	tcase_add_test(tc, will_into_return_area_delayed);
	tcase_add_test(tc, will_into_return_area_delayed_retained);
	tcase_add_test(tc, will_into_return_area_at_takeover);
	tcase_add_test(tc, will_into_subject_area);
	tcase_add_test(tc, will_into_subject_area_retained);
	tcase_add_test(tc, will_into_subject_area_delayed);
	tcase_add_test(tc, will_elsewhere_untouched);
	tcase_add_test(tc, forged_requester_qos0);
	tcase_add_test(tc, forged_requester_qos1);
	tcase_add_test(tc, forged_requester_qos2);
	tcase_add_test(tc, forged_requester_retained);
	tcase_add_test(tc, forged_receipt_property);
	tcase_add_test(tc, forged_receipt_reason);
	tcase_add_test(tc, retained_plain_publish_under_request_prefix);
	tcase_add_test(tc, retained_request_never_stored);
	tcase_add_test(tc, guessing_the_next_token);
	tcase_add_test(tc, receipt_carries_the_requesters_correlation);
}

Suite *attacks_suite(void)
{
	Suite *s = suite_create("attacks");
	TCase *anonymous = harness_tcase("anonymous");
	tcase_add_checked_fixture(anonymous, start_anonymous, stop_broker);
	add_tests(anonymous);
	suite_add_tcase(s, anonymous);

	TCase *auth = harness_tcase("authenticated");
	tcase_add_unchecked_fixture(auth, make_auth_files, remove_auth_files);
	tcase_add_checked_fixture(auth, start_authenticated, stop_broker);
	add_tests(auth);
	suite_add_tcase(s, auth);
	return s;
}
