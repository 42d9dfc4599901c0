/* Client ids bound to users: who may CONNECT with a bound id, what binds
 * it, what releases it, and the saved form of the bindings. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core_fixture.h"
#include "core_parts.h"
#include "fake_host.h"
#include "identity.h"
#include "suites.h"

static const char *const binding_on[] = {RECEIPTS_OPT_BIND_CLIENT_IDS, "true", NULL};

static void setup_bound(void)
{
	core_setup();
	core_recreate(binding_on);
}

static struct rcpt_client_ref user_ref(const char *id, const char *user, bool clean)
{
	return (struct rcpt_client_ref){.id = id, .username = user, .clean = clean};
}

static void subscribes(const char *id, const char *user, bool clean)
{
	struct rcpt_client_ref who = user_ref(id, user, clean);
	rcpt_core__on_subscribe(core, "other/#", &who);
}

/* alice's request from client id `id` as user `user`. */
static struct rcpt_decision asks(const char *id, const char *user, const char *corr, unsigned key)
{
	char rt[64];
	snprintf(rt, sizeof(rt), "ret/%s/x", id);
	struct rcpt_publish m = t_req(id, "req/A", rt, corr);
	m.sender.username = user;
	return t_request(core, &m, t_key(key));
}

START_TEST(test_connect_alone_never_binds)
{
	/* BASIC_AUTH runs before the password check: bob's attempt must not
	 * take the id, whatever becomes of it. */
	ck_assert(rcpt_core__on_connect(core, "alice", "bob"));
	ck_assert(rcpt_core__on_connect(core, "alice", "alice"));
	ck_assert_uint_eq(rcpt_identity__count(&core->identity), 0);
}
END_TEST

START_TEST(test_subscribe_binds_to_the_user)
{
	subscribes("alice", "alice", true);
	ck_assert_uint_eq(rcpt_identity__count(&core->identity), 1);
	ck_assert(rcpt_core__on_connect(core, "alice", "alice"));
	ck_assert(!rcpt_core__on_connect(core, "alice", "bob"));
	ck_assert(!rcpt_core__on_connect(core, "alice", NULL));
	ck_assert_str_eq(fake_host__last_log(RCPT_LOG_NOTICE),
			"refused CONNECT of client id 'alice' by a client without a username: the id is bound to another user");
	/* Other ids stay free. */
	ck_assert(rcpt_core__on_connect(core, "carol", "bob"));
}
END_TEST

START_TEST(test_request_binds_and_names_the_user)
{
	struct rcpt_decision d = asks("alice", "alice", "c1", 0);
	ck_assert_str_eq(d.requester, "alice");
	ck_assert_str_eq(d.requester_user, "alice");
	ck_assert(!rcpt_core__on_connect(core, "alice", "bob"));
}
END_TEST

START_TEST(test_delivery_binds_the_responder)
{
	asks("alice", "alice", "c1", 0);
	struct rcpt_client_ref worker = user_ref("worker", "worker", false);
	rcpt_core__on_read(core, t_key(0), "req/A", false, &worker);
	ck_assert(!rcpt_core__on_connect(core, "worker", "eve"));
	ck_assert(rcpt_core__on_connect(core, "worker", "worker"));
}
END_TEST

START_TEST(test_no_username_binds_nothing)
{
	subscribes("alice", NULL, true);
	ck_assert_uint_eq(rcpt_identity__count(&core->identity), 0);
	ck_assert(rcpt_core__on_connect(core, "alice", "bob"));
}
END_TEST

START_TEST(test_clean_disconnect_releases)
{
	subscribes("alice", "alice", true);
	rcpt_core__on_disconnect(core, "alice", "alice", true);
	ck_assert_uint_eq(rcpt_identity__count(&core->identity), 0);
	ck_assert(rcpt_core__on_connect(core, "alice", "bob"));
}
END_TEST

/* Its receipts may still come: the next holder of the id would read them. */
START_TEST(test_clean_disconnect_with_pending_keeps)
{
	asks("alice", "alice", "c1", 0);
	t_read(core, t_key(0), "req/A", "R");
	rcpt_core__on_disconnect(core, "alice", "alice", true);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert(!rcpt_core__on_connect(core, "alice", "bob"));
}
END_TEST

/* A persistent session survives its disconnect, and the takeover's forced
 * clean flag says nothing about it. */
START_TEST(test_persistent_disconnect_keeps)
{
	subscribes("alice", "alice", false);
	rcpt_core__on_disconnect(core, "alice", "alice", false);
	rcpt_core__on_disconnect(core, "alice", "alice", true);
	ck_assert(!rcpt_core__on_connect(core, "alice", "bob"));
	/* Back with a clean start: its next clean end releases it. */
	subscribes("alice", "alice", true);
	rcpt_core__on_disconnect(core, "alice", "alice", true);
	ck_assert(rcpt_core__on_connect(core, "alice", "bob"));
}
END_TEST

/* 2.0.15 on: the DISCONNECT of bob's refused CONNECT carries the id he
 * asked for; the worker's live session is not over. */
START_TEST(test_refused_connect_disconnect_ends_nothing)
{
	asks("alice", "alice", "c1", 0);
	struct rcpt_client_ref worker = user_ref("worker", "worker", true);
	rcpt_core__on_read(core, t_key(0), "req/A", false, &worker);
	rcpt_core__settle(core);
	ck_assert(!rcpt_core__on_connect(core, "worker", "eve"));
	rcpt_core__on_disconnect(core, "worker", "eve", true);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert(!rcpt_core__on_connect(core, "worker", "eve"));
	/* The worker's own clean end is one. */
	rcpt_core__on_disconnect(core, "worker", "worker", true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_RESPONDER_GONE);
}
END_TEST

START_TEST(test_binding_off)
{
	core_recreate(NULL);
	ck_assert(!rcpt_core__binds_client_ids(core));
	subscribes("alice", "alice", false);
	ck_assert_uint_eq(rcpt_identity__count(&core->identity), 0);
	ck_assert(rcpt_core__on_connect(core, "alice", "bob"));
	/* requester-user is still set: it says who asked. */
	struct rcpt_decision d = asks("alice", "alice", "c1", 0);
	ck_assert_str_eq(d.requester_user, "alice");
}
END_TEST

START_TEST(test_control_release_and_count)
{
	subscribes("alice", "alice", false);
	subscribes("bob", "bob", false);
	const char *stats = "{\"commands\":[{\"command\":\"getStats\"}]}";
	rcpt_core__on_control(core, "ctl", stats, strlen(stats));
	ck_assert_ptr_nonnull(strstr(fake_host__plain(0)->payload, "\"boundClientIds\":2"));
	const char *rel = "{\"commands\":[{\"command\":\"releaseClientId\",\"clientId\":\"alice\"},"
			"{\"command\":\"releaseClientId\",\"clientId\":\"nobody\"},{\"command\":\"releaseClientId\"}]}";
	rcpt_core__on_control(core, "ctl", rel, strlen(rel));
	ck_assert_str_eq(fake_host__plain(1)->payload, "{\"responses\":["
			"{\"command\":\"releaseClientId\",\"data\":{\"released\":true}},"
			"{\"command\":\"releaseClientId\",\"data\":{\"released\":false}},"
			"{\"command\":\"releaseClientId\",\"error\":\"'clientId' is required\"}]}");
	ck_assert(rcpt_core__on_connect(core, "alice", "eve"));
	ck_assert(!rcpt_core__on_connect(core, "bob", "eve"));
}
END_TEST

/* ---- the saved form ---- */

START_TEST(test_text_round_trip_keeps_persistent_only)
{
	struct rcpt_identity ids, back;
	ck_assert_int_eq(rcpt_identity__init(&ids, true), RCPT_OK);
	ck_assert_int_eq(rcpt_identity__init(&back, true), RCPT_OK);
	rcpt_identity__bind(&ids, "worker", "worker", true);
	rcpt_identity__bind(&ids, "alice", "alice", false);
	rcpt_identity__bind(&ids, "tab\tid", "x", true);
	ck_assert(ids.dirty);
	size_t len;
	char *text = rcpt_identity__save_text(&ids, &len);
	ck_assert_str_eq(text, "worker\tworker\n");
	ck_assert_uint_eq(rcpt_identity__load_text(&back, text, len), 1);
	ck_assert(!back.dirty);
	ck_assert_int_eq(rcpt_identity__check(&back, "worker", "worker"), RCPT_ID_MINE);
	ck_assert_int_eq(rcpt_identity__check(&back, "worker", "eve"), RCPT_ID_OTHERS);
	ck_assert_int_eq(rcpt_identity__check(&back, "alice", "eve"), RCPT_ID_FREE);
	free(text);
	/* A cut-off or odd line is skipped, never half-read. */
	const char *bad = "a\tb\n\tx\ny\t\nno-tab\nc\td";
	rcpt_identity__free(&back);
	rcpt_identity__init(&back, true);
	ck_assert_uint_eq(rcpt_identity__load_text(&back, bad, strlen(bad)), 1);
	ck_assert_int_eq(rcpt_identity__check(&back, "a", "b"), RCPT_ID_MINE);
	ck_assert_int_eq(rcpt_identity__check(&back, "c", "d"), RCPT_ID_FREE);
	rcpt_identity__free(&back);
	rcpt_identity__free(&ids);
}
END_TEST

START_TEST(test_conf_authenticates)
{
	const char *own = "mosquitto_receipts";
	ck_assert(!rcpt_config__conf_authenticates("listener 1883\nallow_anonymous true\n", own));
	ck_assert(rcpt_config__conf_authenticates("listener 1883\n  password_file /etc/pw\n", own));
	ck_assert(!rcpt_config__conf_authenticates("plugin /usr/lib/mosquitto_receipts.so\n", own));
	ck_assert(rcpt_config__conf_authenticates("plugin /usr/lib/mosquitto_dynamic_security.so\n", own));
	ck_assert(rcpt_config__conf_authenticates("auth_plugin /x/auth.so", own));
	ck_assert(!rcpt_config__conf_authenticates("# password_file /etc/pw\npassword_filex y\n", own));
	ck_assert(!rcpt_config__conf_authenticates("plugin_opt_state_file /x\n", own));
}
END_TEST

START_TEST(test_bind_option_values)
{
	struct rcpt_config cfg;
	char err[200];
	rcpt_config__init(&cfg);
	ck_assert_int_eq(cfg.bind_client_ids, RCPT_BIND_AUTO);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BIND_CLIENT_IDS, "false", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(cfg.bind_client_ids, RCPT_BIND_OFF);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BIND_CLIENT_IDS, "yes", err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_str_eq(err, "plugin_opt_bind_client_ids 'yes': must be 'auto', 'true' or 'false'");
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS, "0", err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS, "1500", err, sizeof(err)), RCPT_OK);
	ck_assert_uint_eq(cfg.qos2_release_grace_ms, 1500);
	rcpt_config__free(&cfg);
}
END_TEST

Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("binding");
	tcase_add_checked_fixture(tc, setup_bound, core_teardown);
	tcase_add_test(tc, test_connect_alone_never_binds);
	tcase_add_test(tc, test_subscribe_binds_to_the_user);
	tcase_add_test(tc, test_request_binds_and_names_the_user);
	tcase_add_test(tc, test_delivery_binds_the_responder);
	tcase_add_test(tc, test_no_username_binds_nothing);
	tcase_add_test(tc, test_clean_disconnect_releases);
	tcase_add_test(tc, test_clean_disconnect_with_pending_keeps);
	tcase_add_test(tc, test_persistent_disconnect_keeps);
	tcase_add_test(tc, test_refused_connect_disconnect_ends_nothing);
	tcase_add_test(tc, test_binding_off);
	tcase_add_test(tc, test_control_release_and_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("saved");
	tcase_add_test(tc, test_text_round_trip_keeps_persistent_only);
	tcase_add_test(tc, test_conf_authenticates);
	tcase_add_test(tc, test_bind_option_values);
	suite_add_tcase(s, tc);
	return s;
}
