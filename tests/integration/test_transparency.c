/*
 * Drop-in transparency: loading the plugin with its default options never
 * widens or narrows what the broker's other access control decides, on a
 * broker with no other access control, with acl_file and with
 * dynamic-security; inside the plugin's namespaces the other sources still
 * count (re-routes, readers of requests, open return topics).
 */
#include <check.h>
#include <errno.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

#define DYNSEC_PLUGIN "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
#define DYNSEC_TOPIC "$CONTROL/dynamic-security/v1"

static struct broker broker;
static char side_dir[64];   /* acl file, dynsec json: outside the broker's own directory */
static char side_path[128];

static void make_side_dir(void)
{
	strcpy(side_dir, "/tmp/rcpt-it-side-XXXXXX");
	ck_assert_msg(mkdtemp(side_dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void remove_side_dir(void)
{
	if(side_path[0]) unlink(side_path);
	side_path[0] = '\0';
	char backup[160];
	snprintf(backup, sizeof(backup), "%s/dynsec.json.new", side_dir);
	unlink(backup);
	rmdir(side_dir);
}

/* Who may do what, in acl_file's words. alice may re-route to req/A and
 * write answers/alice; mallory writes devices/ only; eve may write req/A
 * but not alerts/; carol reads devices/ only (never a request). */
static const char acl_text[] =
	"user alice\n"
	"topic write devices/#\n"
	"topic write req/A\n"
	"topic readwrite answers/alice\n"
	"user mallory\n"
	"topic write devices/#\n"
	"user eve\n"
	"topic write req/A\n"
	"user worker\n"
	"topic read req/#\n"
	"user carol\n"
	"topic read devices/#\n"
	"user victim\n"
	"topic read alerts/#\n";

static void start_with_acl_file(const char *more)
{
	make_side_dir();
	snprintf(side_path, sizeof(side_path), "%s/acl", side_dir);
	FILE *f = fopen(side_path, "w");
	ck_assert_msg(f != NULL, "open %s: %s", side_path, strerror(errno));
	fputs(acl_text, f);
	ck_assert_int_eq(fclose(f), 0);
	char conf[512];
	snprintf(conf, sizeof(conf), "acl_file %s\n%s", side_path, more ? more : "");
	broker_start(&broker, conf);
}

static void stop_all(void)
{
	broker_stop(&broker);
	remove_side_dir();
}

static struct client *user_at(const char *name)
{
	return client_connect_auth(&broker, name, true, name, NULL);
}

static struct client *user_subscribed(const char *name, const char *filter)
{
	struct client *c = user_at(name);
	/* acl_file never refuses a SUBSCRIBE in 2.0: it filters at READ. */
	ck_assert_int_eq(client_subscribe(c, filter, 1), 1);
	return c;
}

static void assert_log_has(const char *needle)
{
	ck_assert_msg(broker_log_wait(&broker, needle, RCPT_ARRIVAL_MS), "not in the broker log: %s", needle);
}

/* The plugin asks the other access control through mosquitto_acl_check:
 * exported by Debian's broker, found in the symbol table of one built from
 * the release sources (the release matrix). A stripped binary that does
 * not export it has neither, and the plugin says so at start. */
static bool others_can_be_asked(void)
{
	assert_log_has("receipts: started: ");
	return broker_log_count(&broker, "does not export mosquitto_acl_check") == 0;
}

/* ---- a broker whose only access control is the plugin ---- */

START_TEST(alone_behaves_as_plain_mosquitto)
{
	broker_start(&broker, NULL);
	assert_log_has("topics not ours: allowed (acl_fallback auto: no acl_file, auth_plugin or other plugin in");
	struct client *sub = subscriber_at(&broker, "sub", true, "news/#", 1);
	/* $ topics: what the broker allows with no ACL source at all. */
	ck_assert_int_eq(client_subscribe(sub, "$SYS/broker/uptime", 1), 1);
	msg_free(expect_on(sub, "$SYS/broker/uptime"));   /* retained, and readable */
	ck_assert_int_eq(client_subscribe(sub, "$CONTROL/other/#", 1), 1);
	struct client *pub = client_connect(&broker, "pub", true);
	ck_assert_int_eq(client_publish_str(pub, "news/x", "hello", 1, false, NULL), 0);
	struct msg *m = expect_on(sub, "news/x");
	ck_assert_str_eq(m->payload, "hello");
	msg_free(m);
	/* Allowed (the broker hands $CONTROL publishes to their plugin, never
	 * to subscribers). */
	ck_assert_int_eq(client_publish_str(pub, "$CONTROL/other/v1", "cmd", 1, false, NULL), 0);
	ck_assert(client_quiet(sub, RCPT_QUIET_MS));
	client_free(pub);
	client_free(sub);
	broker_stop(&broker);
}
END_TEST

/* Off by default: plain MQTT 5, untouched and untracked, and nobody's
 * publishes on the topic are refused. */
START_TEST(open_return_topics_untracked_by_default)
{
	broker_start(&broker, NULL);
	struct client *worker = subscriber_at(&broker, "worker", true, "req/A", 1);
	struct client *alice = subscriber_at(&broker, "alice", true, "answers/alice", 1);
	struct client *bob = client_connect(&broker, "bob", true);

	ck_assert_int_eq(publish_request(alice, "req/A", "q", "answers/alice", "c3", "300"), 0);
	struct msg *req = expect_on(worker, "req/A");
	ck_assert_int_eq(msg_user_count(req, RECEIPTS_PROP_REQUESTER), 0);
	ck_assert_str_eq(msg_user(req, RECEIPTS_PROP_TIMEOUT_MS), "300");
	assert_correlation(req, "c3");
	ck_assert_str_eq(req->response_topic, "answers/alice");

	/* Anyone may publish there, with that correlation or none. */
	struct props_spec corr = {.correlation = "c3", .correlation_len = 2};
	ck_assert_int_eq(client_publish_str(bob, "answers/alice", "not a receipt", 1, false, &corr), 0);
	ck_assert_int_eq(client_publish_str(bob, "answers/alice", "plain", 1, false, NULL), 0);
	ck_assert_int_eq(client_answer(worker, req, "answer", 1), 0);
	for(int i = 0; i < 3; i++){
		struct msg *m = expect_on(alice, "answers/alice");
		ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_RECEIPT), 0);
		msg_free(m);
	}
	/* No timeout receipt follows: nothing was tracked. */
	ck_assert(client_quiet(alice, 800));
	ck_assert_int_eq(broker_log_count(&broker, "receipts: refused"), 0);
	msg_free(req);
	client_free(bob);
	client_free(alice);
	client_free(worker);
	broker_stop(&broker);
}
END_TEST

/* ---- acl_file ---- */

START_TEST(acl_file_decides_topics_not_ours)
{
	start_with_acl_file(NULL);
	assert_log_has("topics not ours: left to the other access control (acl_fallback auto: acl_file ");
	struct client *carol = user_subscribed("carol", "#");
	struct client *alice = user_at("alice");
	ck_assert_int_eq(client_publish_str(alice, "devices/1", "granted", 1, false, NULL), 0);
	struct msg *m = expect_on(carol, "devices/1");
	msg_free(m);
	/* Not in the file: denied, as without the plugin. */
	ck_assert_int_eq(client_publish_str(alice, "other/x", "denied", 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_publish_str(alice, "$CONTROL/other/v1", "denied", 1, false, NULL),
			MQTT_RC_NOT_AUTHORIZED);
	ck_assert(client_quiet(carol, RCPT_QUIET_MS));
	client_free(alice);
	client_free(carol);
	stop_all();
}
END_TEST

START_TEST(reroute_passes_the_same_write_check)
{
	start_with_acl_file(NULL);
	struct client *worker = user_subscribed("worker", "req/#");
	struct client *mallory = user_subscribed("mallory", "ret/mallory/#");
	struct client *alice = user_subscribed("alice", "ret/alice/#");
	const struct user_pair area[] = {{RECEIPTS_PROP_SUBJECT_AREA, "A"}};

	struct props_spec p = {.response_topic = "ret/mallory/r", .correlation = "c1", .correlation_len = 2,
		.user = area, .user_count = 1};
	/* mallory may write devices/, not req/A. */
	ck_assert_int_eq(client_publish_str(mallory, "devices/42/config", "sneak", 1, false, &p),
			MQTT_RC_NOT_AUTHORIZED);
	expect_receipt(mallory, "ret/mallory/r", "", RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_NOT_AUTHORIZED, "c1", 1);
	ck_assert(client_quiet(worker, RCPT_QUIET_MS));

	p.response_topic = "ret/alice/r";
	if(!others_can_be_asked()){
		/* README, Limits: re-routes are refused when acl_file cannot be asked. */
		ck_assert_int_eq(client_publish_str(alice, "devices/42/config", "fine", 1, false, &p), MQTT_RC_NOT_AUTHORIZED);
		expect_receipt(alice, "ret/alice/r", "", RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_NOT_AUTHORIZED, "c1", 1);
	}else{
		ck_assert_int_eq(client_publish_str(alice, "devices/42/config", "fine", 1, false, &p), 0);
		struct msg *req = expect_request(worker, "req/A", "fine", "alice");
		answer_gets_ok(worker, req, alice, "ret/alice/r", "c1");
		msg_free(req);
	}
	ck_assert(client_quiet(worker, RCPT_QUIET_MS));
	ck_assert(client_quiet(mallory, 0));
	client_free(alice);
	client_free(mallory);
	client_free(worker);
	stop_all();
}
END_TEST

START_TEST(denied_reader_is_no_recipient)
{
	start_with_acl_file(NULL);
	struct client *alice = user_subscribed("alice", "ret/alice/#");
	struct client *carol = user_subscribed("carol", "req/A");
	if(!others_can_be_asked()){
		/* README, Limits: then a denied reader counts as reached (she gets
		 * nothing), and the request ends by timeout. */
		ck_assert_int_eq(publish_request(alice, "req/A", "q1", "ret/alice/r", "c1", "300"), 0);
		expect_receipt(alice, "ret/alice/r", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c1", 1);
		ck_assert(client_quiet(carol, 0));
		client_free(carol);
		client_free(alice);
		stop_all();
		return;
	}

	/* carol alone: acl_file keeps the request from her, so nobody got it. */
	ck_assert_int_eq(publish_request(alice, "req/A", "q1", "ret/alice/r", "c1", "2000"), 0);
	expect_receipt(alice, "ret/alice/r", "", RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER, "c1", 1);
	ck_assert(client_quiet(carol, RCPT_QUIET_MS));

	/* With a real responder too, carol still cannot answer. */
	struct client *worker = user_subscribed("worker", "req/A");
	ck_assert_int_eq(publish_request(alice, "req/A", "q2", "ret/alice/r", "c2", "2000"), 0);
	struct msg *req = expect_request(worker, "req/A", "q2", "alice");
	struct props_spec forged = {.correlation = "c2", .correlation_len = 2};
	ck_assert_int_eq(client_publish_str(carol, "ret/alice/r", "forged", 1, false, &forged), MQTT_RC_NOT_AUTHORIZED);
	answer_gets_ok(worker, req, alice, "ret/alice/r", "c2");
	ck_assert(client_quiet(carol, 0));
	msg_free(req);
	client_free(worker);
	client_free(carol);
	client_free(alice);
	stop_all();
}
END_TEST

/* Tracked open return topics: the broker never publishes a receipt where
 * the requester could not publish itself. */
START_TEST(no_receipt_where_requester_cannot_write)
{
	start_with_acl_file("plugin_opt_" RECEIPTS_OPT_OPEN_RETURN_TOPICS " tracked");
	struct client *victim = user_subscribed("victim", "alerts/#");
	struct client *worker = user_subscribed("worker", "req/A");
	struct client *eve = user_at("eve");
	struct client *alice = user_subscribed("alice", "answers/alice");

	ck_assert_int_eq(publish_request(eve, "req/A", "q", "alerts/victim", "c1", "300"), MQTT_RC_NOT_AUTHORIZED);
	assert_log_has(RECEIPTS_REJECT_RETURN_NOT_WRITABLE);
	ck_assert(client_quiet(worker, RCPT_QUIET_MS));

	if(!others_can_be_asked()){
		/* README, Limits: every open return topic is refused then. */
		ck_assert_int_eq(publish_request(alice, "req/A", "q", "answers/alice", "c2", "300"), MQTT_RC_NOT_AUTHORIZED);
		ck_assert(client_quiet(alice, RCPT_QUIET_MS));
		ck_assert(client_quiet(worker, 0));
		ck_assert(client_quiet(victim, 0));
		client_free(alice);
		client_free(eve);
		client_free(worker);
		client_free(victim);
		stop_all();
		return;
	}
	/* alice may write her answers topic: tracked, and it times out there. */
	ck_assert_int_eq(publish_request(alice, "req/A", "q", "answers/alice", "c2", "300"), 0);
	struct msg *req = expect_request(worker, "req/A", "q", "alice");
	expect_receipt(alice, "answers/alice", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c2", 1);
	ck_assert(client_quiet(victim, RCPT_QUIET_MS));
	msg_free(req);
	client_free(alice);
	client_free(eve);
	client_free(worker);
	client_free(victim);
	stop_all();
}
END_TEST

/* ---- dynamic-security ---- */

static void start_with_dynsec_and(const char *more);

static void start_with_dynsec(void)
{
	start_with_dynsec_and(NULL);
}

static void start_with_dynsec_and(const char *more)
{
	make_side_dir();
	/* The broker may rewrite the file beside it. */
	ck_assert_int_eq(chmod(side_dir, 0777), 0);
	snprintf(side_path, sizeof(side_path), "%s/dynsec.json", side_dir);
	const char *const argv[] = {"mosquitto_ctrl", "dynsec", "init", side_path, "admin", "admin-secret", NULL};
	ck_assert_int_eq(run_command(argv, 5000, NULL), 0);
	char conf[512];
	snprintf(conf, sizeof(conf), "%s\nplugin %s\nplugin_opt_config_file %s", more ? more : "",
			DYNSEC_PLUGIN, side_path);
	broker_start(&broker, conf);
}

static char *dynsec_command(struct client *admin, const char *command)
{
	ck_assert_int_eq(client_publish_str(admin, DYNSEC_TOPIC, command, 1, false, NULL), 0);
	struct msg *m = expect_on(admin, DYNSEC_TOPIC "/response");
	char *payload = strdup(m->payload);
	msg_free(m);
	return payload;
}

START_TEST(dynsec_anonymous_create_client_fails)
{
	start_with_dynsec();
	assert_log_has("topics not ours: left to the other access control (acl_fallback auto: plugin " DYNSEC_PLUGIN);
	struct client *anon = client_connect(&broker, "anon", true);
	ck_assert_int_eq(client_publish_str(anon, DYNSEC_TOPIC,
			"{\"commands\":[{\"command\":\"createClient\",\"username\":\"mallory\",\"password\":\"x\"}]}",
			1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_publish_str(anon, DYNSEC_TOPIC,
			"{\"commands\":[{\"command\":\"addClientRole\",\"username\":\"admin\",\"rolename\":\"admin\"}]}",
			1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	/* Default deny kept for ordinary topics, and for subscribing. */
	ck_assert_int_eq(client_publish_str(anon, "news/x", "denied", 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(anon, "news/#", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(anon, DYNSEC_TOPIC "/#", 1), MQTT_RC_NOT_AUTHORIZED);

	/* The admin dynamic-security knows still administers it. */
	struct client *admin = client_connect_auth(&broker, "admin-c", true, "admin", "admin-secret");
	ck_assert_int_eq(client_subscribe(admin, DYNSEC_TOPIC "/response", 1), 1);
	char *reply = dynsec_command(admin, "{\"commands\":[{\"command\":\"listClients\"}]}");
	ck_assert_msg(strstr(reply, "\"admin\"") != NULL, "listClients: %s", reply);
	ck_assert_msg(strstr(reply, "mallory") == NULL, "anonymous createClient went through: %s", reply);
	free(reply);
	ck_assert(client_quiet(anon, RCPT_QUIET_MS));
	client_free(admin);
	client_free(anon);
	stop_all();
}
END_TEST

/* acl_fallback allow forced over dynamic-security: ordinary topics are the
 * operator's choice (and a warning), $ topics never. */
START_TEST(dynsec_forced_allow_never_opens_dollar_topics)
{
	start_with_dynsec_and("plugin_opt_" RECEIPTS_OPT_ACL_FALLBACK " allow");
	assert_log_has("receipts: plugin_opt_acl_fallback allow, but plugin " DYNSEC_PLUGIN);
	struct client *anon = client_connect(&broker, "anon", true);
	ck_assert_int_eq(client_publish_str(anon, DYNSEC_TOPIC,
			"{\"commands\":[{\"command\":\"createClient\",\"username\":\"mallory\",\"password\":\"x\"}]}",
			1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(anon, "$SYS/#", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(anon, "news/#", 1), 1);
	ck_assert_int_eq(client_publish_str(anon, "news/x", "allowed", 1, false, NULL), 0);
	msg_free(expect_on(anon, "news/x"));
	struct client *admin = client_connect_auth(&broker, "admin-c", true, "admin", "admin-secret");
	ck_assert_int_eq(client_subscribe(admin, DYNSEC_TOPIC "/response", 1), 1);
	char *reply = dynsec_command(admin, "{\"commands\":[{\"command\":\"listClients\"}]}");
	ck_assert_msg(strstr(reply, "mallory") == NULL, "anonymous createClient went through: %s", reply);
	free(reply);
	client_free(admin);
	client_free(anon);
	stop_all();
}
END_TEST

/* Requests and receipts through dynamic-security: the roles decide who
 * may write req/A and read it, the plugin keeps return areas private. */
START_TEST(dynsec_requests_and_receipts)
{
	start_with_dynsec();
	struct client *admin = client_connect_auth(&broker, "admin-c", true, "admin", "admin-secret");
	ck_assert_int_eq(client_subscribe(admin, DYNSEC_TOPIC "/response", 1), 1);
	char *reply = dynsec_command(admin, "{\"commands\":["
			"{\"command\":\"createRole\",\"rolename\":\"asker\",\"acls\":["
				"{\"acltype\":\"publishClientSend\",\"topic\":\"req/#\",\"allow\":true}]},"
			"{\"command\":\"createRole\",\"rolename\":\"answerer\",\"acls\":["
				"{\"acltype\":\"subscribePattern\",\"topic\":\"req/#\",\"allow\":true}]},"
			"{\"command\":\"createClient\",\"username\":\"alice\",\"password\":\"a\",\"roles\":[{\"rolename\":\"asker\"}]},"
			"{\"command\":\"createClient\",\"username\":\"worker\",\"password\":\"w\",\"roles\":[{\"rolename\":\"answerer\"}]}"
			"]}");
	ck_assert_msg(strstr(reply, "error") == NULL, "dynsec setup: %s", reply);
	free(reply);

	struct client *worker = client_connect_auth(&broker, "worker", true, "worker", "w");
	ck_assert_int_eq(client_subscribe(worker, "req/A", 1), 1);
	struct client *alice = client_connect_auth(&broker, "alice", true, "alice", "a");
	ck_assert_int_eq(client_subscribe(alice, "ret/alice/#", 1), 1);
	ck_assert_int_eq(publish_request(alice, "req/A", "q", "ret/alice/r", "c1", "2000"), 0);
	struct msg *req = expect_request(worker, "req/A", "q", "alice");
	answer_gets_ok(worker, req, alice, "ret/alice/r", "c1");
	msg_free(req);
	client_free(alice);
	client_free(worker);
	client_free(admin);
	stop_all();
}
END_TEST

/* Order matters: the first plugin that does not defer decides. One line
 * says so when another plugin comes first. */
START_TEST(plugin_loaded_before_ours_is_warned)
{
	make_side_dir();
	ck_assert_int_eq(chmod(side_dir, 0777), 0);
	snprintf(side_path, sizeof(side_path), "%s/dynsec.json", side_dir);
	const char *const argv[] = {"mosquitto_ctrl", "dynsec", "init", side_path, "admin", "admin-secret", NULL};
	ck_assert_int_eq(run_command(argv, 5000, NULL), 0);
	char first[512];
	snprintf(first, sizeof(first), "plugin %s\nplugin_opt_config_file %s", DYNSEC_PLUGIN, side_path);
	broker_start_first(&broker, first, NULL);
	assert_log_has("receipts: plugin " DYNSEC_PLUGIN " is loaded before this one: the first plugin that "
			"does not defer decides");
	ck_assert_int_eq(broker_log_count(&broker, "is loaded before this one"), 1);
	stop_all();
}
END_TEST

Suite *transparency_suite(void)
{
	Suite *s = suite_create("transparency");
	TCase *tc = harness_tcase("alone");
	tcase_add_test(tc, alone_behaves_as_plain_mosquitto);
	tcase_add_test(tc, open_return_topics_untracked_by_default);
	suite_add_tcase(s, tc);
	tc = harness_tcase("acl-file");
	tcase_add_test(tc, acl_file_decides_topics_not_ours);
	tcase_add_test(tc, reroute_passes_the_same_write_check);
	tcase_add_test(tc, denied_reader_is_no_recipient);
	tcase_add_test(tc, no_receipt_where_requester_cannot_write);
	suite_add_tcase(s, tc);
	tc = harness_tcase("dynamic-security");
	tcase_add_test(tc, dynsec_anonymous_create_client_fails);
	tcase_add_test(tc, dynsec_requests_and_receipts);
	tcase_add_test(tc, plugin_loaded_before_ours_is_warned);
	tcase_add_test(tc, dynsec_forced_allow_never_opens_dollar_topics);
	suite_add_tcase(s, tc);
	return s;
}
