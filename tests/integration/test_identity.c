/*
 * Identity suite: with authentication (password_file + acl_file, as in
 * examples/secure) a client id belongs to the user that first used it. Each
 * test replays one way of taking another user's client id (a live session,
 * a resumed persistent one, a responder's session) and asserts that the
 * attacker is refused at CONNECT and that the real receipt still arrives
 * exactly once, to its requester alone. The last tests show what binding
 * does not cover: a broker without authentication.
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

#define LONG_TIMEOUT "5000"

static struct broker broker;
static char pw_dir[64];
static char pw_file[96];
static char acl_file[96];

static const char *const users[] = {"alice", "bob", "worker", "eve", "admin"};

/* Passwords are the user's name + "-secret", as in examples/secure. */
static void make_auth_files(void)
{
	snprintf(pw_dir, sizeof(pw_dir), "/tmp/rcpt-id-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pw_dir));
	snprintf(pw_file, sizeof(pw_file), "%s/passwd", pw_dir);
	snprintf(acl_file, sizeof(acl_file), "%s/acl", pw_dir);
	for(size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++){
		char pass[64];
		snprintf(pass, sizeof(pass), "%s-secret", users[i]);
		const char *create[] = {"mosquitto_passwd", "-b", "-c", pw_file, users[i], pass, NULL};
		const char *add[] = {"mosquitto_passwd", "-b", pw_file, users[i], pass, NULL};
		ck_assert_int_eq(run_command(i == 0 ? create : add, 5000, NULL), 0);
	}
	FILE *f = fopen(acl_file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "user alice\ntopic write req/A\n\nuser bob\ntopic write req/A\n\n"
			"user eve\ntopic write req/A\ntopic read req/A\n\nuser worker\ntopic read req/A\n");
	ck_assert_int_eq(fclose(f), 0);
}

static void remove_auth_files(void)
{
	const char *rm[] = {"rm", "-rf", pw_dir, NULL};
	if(pw_dir[0]) run_command(rm, 5000, NULL);
	pw_dir[0] = '\0';
}

/* The secure example's setup. Anonymous clients stay allowed so that the
 * tests can show that they cannot take a bound id either. */
static void setup_secure(void)
{
	/* Each test starts with no saved bindings or requests. */
	const char *rm[] = {"sh", "-c", "rm -f \"$0\"/receipts.state*", pw_dir, NULL};
	ck_assert_int_eq(run_command(rm, 5000, NULL), 0);
	char conf[512];
	snprintf(conf, sizeof(conf), "password_file %s\nacl_file %s\nplugin_opt_acl_fallback defer\n"
			"plugin_opt_control_users admin\nplugin_opt_state_file %s/receipts.state\n"
			"plugin_opt_save_interval_s 1\npersistence true\nautosave_interval 1",
			pw_file, acl_file, pw_dir);
	broker_start(&broker, conf);
}

static void setup_open(void)
{
	broker_start(&broker, NULL);
}

static void teardown(void)
{
	broker_stop(&broker);
}

/* CONNACK of `user` (NULL: anonymous) connecting as client id `id`. */
static int connack_of(const char *id, const char *user, bool clean, struct client **out)
{
	char pass[64];
	snprintf(pass, sizeof(pass), "%s-secret", user ? user : "");
	struct connect_spec spec = {.id = id, .clean_start = clean, .username = user, .password = user ? pass : NULL};
	return client_connect_rc(&broker, &spec, out);
}

/* A client of `user` with client id `id`, subscribed to filter at QoS 1. */
static struct client *as_user(const char *id, const char *user, bool clean, const char *filter)
{
	struct client *c = NULL;
	ck_assert_int_eq(connack_of(id, user, clean, &c), 0);
	if(filter) ck_assert_int_eq(client_subscribe(c, filter, 1), 1);
	return c;
}

/* `who` (user, client id `id`) is refused at CONNECT: 0x87, and the log
 * names the binding. */
static void refused(const char *id, const char *user, bool clean)
{
	struct client *c = (struct client *)1;
	ck_assert_int_eq(connack_of(id, user, clean, &c), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_ptr_null(c);
	char needle[160];
	snprintf(needle, sizeof(needle), "refused CONNECT of client id '%s' by %s%s%s", id,
			user ? "user '" : "a client without a username", user ? user : "", user ? "'" : "");
	ck_assert_msg(broker_log_wait(&broker, needle, RCPT_ARRIVAL_MS), "log: no '%s'", needle);
}

/* alice asks on req/A, receipt to ret/alice/1, correlation c-1. */
static void alice_asks(struct client *alice)
{
	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", LONG_TIMEOUT), 0);
}

/* The request as the worker sees it: requester and requester-user alice. */
static struct msg *worker_takes(struct client *worker)
{
	struct msg *m = expect_request(worker, "req/A", "question", "alice");
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REQUESTER_USER), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_REQUESTER_USER), "alice");
	assert_token(m, "c-1");
	return m;
}

static void gets_one_ok(struct client *alice)
{
	expect_receipt(alice, "ret/alice/1", "answer", RECEIPTS_STATUS_OK, NULL, "c-1", 1);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
}

/* ---- attack 3: another user's client id ---- */

/* bob presents alice's id while alice waits offline (persistent session)
 * for a queued receipt: refused, and alice gets it herself, once. */
START_TEST(other_user_cannot_resume_requester_session)
{
	struct client *worker = as_user("worker", "worker", true, "req/A");
	struct client *alice = as_user("alice", "alice", false, "ret/alice/#");
	alice_asks(alice);
	struct msg *request = worker_takes(worker);
	ck_assert_int_eq(client_disconnect(alice), 0);
	ck_assert_int_eq(client_answer(worker, request, "answer", 1), 0);

	refused("alice", "bob", false);
	refused("alice", "bob", true);
	refused("alice", NULL, false);

	struct client *back = as_user("alice", "alice", false, NULL);
	gets_one_ok(back);
	msg_free(request);
	client_free(back);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* bob takes over alice's live connection: refused, alice stays connected,
 * and her receipt reaches her alone. */
START_TEST(other_user_cannot_take_over_live_requester)
{
	struct client *worker = as_user("worker", "worker", true, "req/A");
	struct client *alice = as_user("alice", "alice", true, "ret/alice/#");
	alice_asks(alice);
	struct msg *request = worker_takes(worker);

	refused("alice", "bob", true);
	ck_assert(client_is_connected(alice));
	ck_assert_int_eq(client_answer(worker, request, "answer", 1), 0);
	gets_one_ok(alice);
	msg_free(request);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* eve presents the worker's id to take over its live session and answer in
 * its name: refused. (From 2.0.15 the broker fires a DISCONNECT for her
 * refused CONNECT with the worker's id: it must not end the worker's
 * session as responder-gone.) The worker's own answer arrives once. */
START_TEST(other_user_cannot_take_over_live_responder)
{
	struct client *worker = as_user("worker", "worker", true, "req/A");
	struct client *alice = as_user("alice", "alice", true, "ret/alice/#");
	alice_asks(alice);
	struct msg *request = worker_takes(worker);

	refused("worker", "eve", true);
	refused("worker", "eve", false);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	ck_assert(client_is_connected(worker));
	ck_assert_int_eq(client_answer(worker, request, "answer", 1), 0);
	gets_one_ok(alice);
	ck_assert_int_eq(broker_log_count(&broker, "responder-gone"), 0);
	msg_free(request);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* The worker's persistent session holds alice's request while it is
 * offline; eve tries to resume it and answer: refused. The worker comes
 * back, gets the request and answers: alice gets that answer, once. */
START_TEST(other_user_cannot_resume_responder_session)
{
	struct client *worker = as_user("worker", "worker", false, "req/A");
	ck_assert_int_eq(client_disconnect(worker), 0);
	struct client *alice = as_user("alice", "alice", true, "ret/alice/#");
	alice_asks(alice);

	refused("worker", "eve", false);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));

	struct client *back = as_user("worker", "worker", false, NULL);
	struct msg *request = worker_takes(back);
	ck_assert_int_eq(client_answer(back, request, "answer", 1), 0);
	gets_one_ok(alice);
	msg_free(request);
	client_free(back);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* The broker names the user behind a request, and a client cannot forge
 * either name. */
START_TEST(requests_carry_requester_user)
{
	struct client *worker = as_user("worker", "worker", true, "req/A");
	struct client *bob = as_user("bob-1", "bob", true, "ret/bob-1/#");
	struct props_spec p = {.response_topic = "ret/bob-1/r", .correlation = "b", .correlation_len = 1,
		USER_PROPS({RECEIPTS_PROP_REQUESTER_USER, "alice"}, {RECEIPTS_PROP_REQUESTER, "alice"})};
	ck_assert_int_eq(client_publish_str(bob, "req/A", "q", 1, false, &p), 0);
	struct msg *m = expect_request(worker, "req/A", "q", "bob-1");
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REQUESTER_USER), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_REQUESTER_USER), "bob");
	ck_assert_int_eq(client_answer(worker, m, "answer", 1), 0);
	expect_receipt(bob, "ret/bob-1/r", "answer", RECEIPTS_STATUS_OK, NULL, "b", 1);
	ck_assert(client_quiet(bob, RCPT_QUIET_MS));
	msg_free(m);
	client_free(bob);
	client_free(worker);
}
END_TEST

/* A clean session that ended with nothing pending frees its id; an
 * operator frees a persistent one with releaseClientId. */
START_TEST(binding_released_by_clean_end_and_by_operator)
{
	struct client *alice = as_user("shared-1", "alice", true, "ret/shared-1/#");
	refused("shared-1", "bob", true);
	ck_assert_int_eq(client_disconnect(alice), 0);
	ck_assert(broker_log_wait(&broker, "Client shared-1 disconnected", RCPT_ARRIVAL_MS));
	struct client *bob = as_user("shared-1", "bob", true, "ret/shared-1/#");
	client_free(bob);

	struct client *worker = as_user("worker", "worker", false, "req/A");
	ck_assert_int_eq(client_disconnect(worker), 0);
	refused("worker", "eve", false);
	struct client *admin = as_user("admin", "admin", true, RECEIPTS_CONTROL_RESPONSE_TOPIC);
	ck_assert_int_eq(client_publish_str(admin, RECEIPTS_CONTROL_TOPIC,
			"{\"commands\":[{\"command\":\"releaseClientId\",\"clientId\":\"worker\"}]}", 1, false, NULL), 0);
	struct msg *reply = expect_on(admin, RECEIPTS_CONTROL_RESPONSE_TOPIC);
	ck_assert_str_eq(reply->payload, "{\"responses\":[{\"command\":\"releaseClientId\",\"data\":{\"released\":true}}]}");
	ck_assert(broker_log_wait(&broker, "control: client id 'worker' released from user 'worker'", RCPT_ARRIVAL_MS));
	struct client *eve = as_user("worker", "eve", true, NULL);
	msg_free(reply);
	client_free(eve);
	client_free(admin);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* A persistent session survives a restart (mosquitto.db): so does its
 * binding (<state_file>.ids). */
START_TEST(binding_survives_restart)
{
	struct client *worker = as_user("worker", "worker", false, "req/A");
	ck_assert_int_eq(client_disconnect(worker), 0);
	broker_restart(&broker);
	refused("worker", "eve", false);
	struct client *back = as_user("worker", "worker", false, NULL);
	client_free(back);
	client_free(worker);
}
END_TEST

/* ---- without authentication ---- */

/* Nothing vouches for a username, so nothing is bound: any client can take
 * any client id, as MQTT allows (README, Security model). */
START_TEST(without_authentication_ids_are_not_bound)
{
	struct client *alice = as_user("alice", "alice", false, "ret/alice/#");
	ck_assert(broker_log_wait(&broker, "bind_client_ids=false", 0));
	struct client *bob = NULL;
	ck_assert_int_eq(connack_of("alice", "bob", false, &bob), 0);
	ck_assert_int_eq(broker_log_count(&broker, "refused CONNECT"), 0);
	client_free(bob);
	client_free(alice);
}
END_TEST

Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = harness_tcase("with-authentication");
	tcase_add_unchecked_fixture(tc, make_auth_files, remove_auth_files);
	tcase_add_checked_fixture(tc, setup_secure, teardown);
	tcase_add_test(tc, other_user_cannot_resume_requester_session);
	tcase_add_test(tc, other_user_cannot_take_over_live_requester);
	tcase_add_test(tc, other_user_cannot_take_over_live_responder);
	tcase_add_test(tc, other_user_cannot_resume_responder_session);
	tcase_add_test(tc, requests_carry_requester_user);
	tcase_add_test(tc, binding_released_by_clean_end_and_by_operator);
	tcase_add_test(tc, binding_survives_restart);
	suite_add_tcase(s, tc);

	tc = harness_tcase("without-authentication");
	tcase_add_checked_fixture(tc, setup_open, teardown);
	tcase_add_test(tc, without_authentication_ids_are_not_bound);
	suite_add_tcase(s, tc);
	return s;
}
