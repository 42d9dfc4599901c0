/*
 * Bridges suite: README's "A network of brokers" against three real brokers
 * started from examples/bridged/ (core, edge-a, edge-b; only their ports and
 * the plugin's path replaced). Each test starts the network, waits until both
 * bridges have subscribed on the core, and checks one promise of the
 * contract across the bridges: answers, the fast no-responders, the
 * responder that leaves, the deadline, private return areas for clients that
 * share a client id on two brokers, refusals, a client posing as a bridge,
 * and a broker that dies with requests in flight and comes back.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* Receipts after a broker failure may take up to the deadline plus this. */
#define FAILURE_SLACK_MS 2000
/* No-responders from the far end of the network: "within ~1 s". */
#define FAST_MS 1000
/* Broker-made timeouts go out on the ~100 ms tick. */
#define TICK_SLACK_MS 300
/* Bridges reconnect within restart_timeout 1 5. */
#define RECONNECT_MS 10000

enum { CORE, EDGE_A, EDGE_B, BROKERS };

static const char *const names[BROKERS] = {"core", "edge-a", "edge-b"};
static const char *const example_ports[BROKERS] = {"18830", "18831", "18832"};
static struct broker net[BROKERS];
static int ports[BROKERS];

/* ---- the example network on free ports ---- */

/* text with every `from` replaced by `to`; caller frees. */
static char *replace_all(const char *text, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	for(const char *p = strstr(text, from); p; p = strstr(p + fl, from)) n++;
	char *out = malloc(strlen(text) + n * tl + 1);
	ck_assert_ptr_nonnull(out);
	char *w = out;
	const char *r = text;
	for(const char *p = strstr(r, from); p; p = strstr(r, from)){
		memcpy(w, r, (size_t)(p - r));
		w += p - r;
		memcpy(w, to, tl);
		w += tl;
		r = p + fl;
	}
	strcpy(w, r);
	return out;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	char *buf = calloc(1, 65536);
	ck_assert_ptr_nonnull(buf);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* An example configuration as a test runs it: other ports, the plugin just
 * built, files of examples/bridged/ found from any working directory. */
static char *example_conf(int which)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/examples/bridged/%s.conf", RCPT_SOURCE_ROOT, names[which]);
	char *text = read_text(path);
	for(int i = 0; i < BROKERS; i++){
		char port[8];
		snprintf(port, sizeof(port), "%d", ports[i]);
		char *next = replace_all(text, example_ports[i], port);
		free(text);
		text = next;
	}
	char *next = replace_all(text, "/usr/lib/x86_64-linux-gnu/mosquitto_receipts.so", RCPT_PLUGIN_PATH);
	free(text);
	text = replace_all(next, "examples/bridged/", RCPT_SOURCE_ROOT "/examples/bridged/");
	free(next);
	return text;
}

static void start_one(int which)
{
	char *conf = example_conf(which);
	broker_start_conf(&net[which], ports[which], conf);
	free(conf);
}

/* Both edges' bridges have subscribed on the core (req/# and their own
 * return level: two SUBSCRIBEs a connection) `times` times. */
static void wait_bridges(int times)
{
	ck_assert_msg(broker_wait_subscribed(&net[CORE], "bridge-edge-a", 2 * times, RECONNECT_MS),
			"edge-a's bridge did not subscribe on the core");
	ck_assert_msg(broker_wait_subscribed(&net[CORE], "bridge-edge-b", 2 * times, RECONNECT_MS),
			"edge-b's bridge did not subscribe on the core");
}

static void start_network(void)
{
	for(int i = 0; i < BROKERS; i++) ports[i] = harness_free_port();
	for(int i = 0; i < BROKERS; i++) start_one(i);
	wait_bridges(1);
}

static void stop_network(void)
{
	for(int i = BROKERS - 1; i >= 0; i--) broker_stop(&net[i]);
}

/* ---- helpers ---- */

static const struct props_spec *request_props(const char *return_topic, const char *corr, const char *timeout)
{
	static struct props_spec p;
	static struct user_pair u[1];
	memset(&p, 0, sizeof(p));
	p.response_topic = return_topic;
	if(corr){
		p.correlation = corr;
		p.correlation_len = (uint16_t)strlen(corr);
	}
	if(timeout){
		u[0] = (struct user_pair){RECEIPTS_PROP_TIMEOUT_MS, timeout};
		p.user = u;
		p.user_count = 1;
	}
	return &p;
}

/* The request as a responder on another broker gets it: the return topic
 * routed back through each broker on the way, the token, and the
 * requester vouched for with its broker. */
static struct msg *expect_remote_request(struct client *resp, const char *topic, const char *payload,
		const char *return_topic, const char *requester, const char *requester_broker)
{
	struct msg *m = expect_on(resp, topic);
	ck_assert_str_eq(m->payload, payload);
	ck_assert_ptr_nonnull(m->response_topic);
	ck_assert_str_eq(m->response_topic, return_topic);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REQUESTER), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_REQUESTER), requester);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REQUESTER_BROKER), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_REQUESTER_BROKER), requester_broker);
	ck_assert_int_eq(m->correlation_len, RCPT_TOKEN_BYTES);
	return m;
}

/* ---- tests ---- */

START_TEST(test_answer_crosses_two_bridges)
{
	struct client *worker = subscriber_at(&net[EDGE_B], "worker", true, "req/echo", 1);
	struct client *alice = requester_at(&net[EDGE_A], "alice", true, 1);
	ck_assert_int_eq(client_publish_str(alice, "req/echo", "hello", 1, false,
			request_props("ret/alice/r", "c-1", "5000")), 0);
	struct msg *req = expect_remote_request(worker, "req/echo", "hello", "ret/@core/@edge-a/alice/r",
			"alice", "edge-a");
	/* Every hop shortened the deadline it passed on. */
	ck_assert_int_eq(msg_user_count(req, RECEIPTS_PROP_TIMEOUT_MS), 1);
	ck_assert_int_lt(atoi(msg_user(req, RECEIPTS_PROP_TIMEOUT_MS)), 5000 - 150);
	ck_assert_int_eq(client_answer(worker, req, "HELLO", 1), 0);
	expect_receipt(alice, "ret/alice/r", "HELLO", RECEIPTS_STATUS_OK, NULL, "c-1", 1);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	ck_assert(client_quiet(worker, 0));
	/* The same the other way, from a client of the core. */
	struct client *carol = requester_at(&net[CORE], "carol", true, 1);
	ck_assert_int_eq(client_publish_str(carol, "req/echo", "again", 1, false,
			request_props("ret/carol/r", NULL, NULL)), 0);
	msg_free(req);
	req = expect_remote_request(worker, "req/echo", "again", "ret/@core/carol/r", "carol", "core");
	ck_assert_int_eq(client_answer(worker, req, "AGAIN", 1), 0);
	expect_receipt(carol, "ret/carol/r", "AGAIN", RECEIPTS_STATUS_OK, NULL, NULL, 1);
	ck_assert(client_quiet(carol, RCPT_QUIET_MS));
	msg_free(req);
	client_free(carol);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* requester-user is vouched for hop by hop like requester: the one alice's
 * broker set reaches the responder on another edge, exactly once; one a
 * client sets itself, with requester and requester-broker, is replaced on
 * its own broker and never crosses. */
START_TEST(test_requester_user_vouched_across_bridges)
{
	struct client *worker = subscriber_at(&net[EDGE_B], "worker", true, "req/echo", 1);
	struct client *alice = NULL;
	struct connect_spec as_user = {.id = "alice", .clean_start = true, .username = "alice-user"};
	ck_assert_int_eq(client_connect_rc(&net[EDGE_A], &as_user, &alice), 0);
	ck_assert_int_eq(client_subscribe(alice, "ret/alice/#", 1), 1);
	ck_assert_int_eq(client_publish_str(alice, "req/echo", "hello", 1, false,
			request_props("ret/alice/r", "c-u", "5000")), 0);
	struct msg *req = expect_remote_request(worker, "req/echo", "hello", "ret/@core/@edge-a/alice/r",
			"alice", "edge-a");
	ck_assert_int_eq(msg_user_count(req, RECEIPTS_PROP_REQUESTER_USER), 1);
	ck_assert_str_eq(msg_user(req, RECEIPTS_PROP_REQUESTER_USER), "alice-user");
	ck_assert_int_eq(client_answer(worker, req, "HELLO", 1), 0);
	expect_receipt(alice, "ret/alice/r", "HELLO", RECEIPTS_STATUS_OK, NULL, "c-u", 1);
	msg_free(req);

	/* mallory on the core sets what only brokers vouch for. */
	struct client *mallory = requester_at(&net[CORE], "mallory", true, 1);
	struct user_pair forged[] = {
		{RECEIPTS_PROP_REQUESTER_USER, "alice-user"},
		{RECEIPTS_PROP_REQUESTER, "alice"},
		{RECEIPTS_PROP_REQUESTER_BROKER, "edge-a"},
	};
	struct props_spec p = {.response_topic = "ret/mallory/r", .user = forged, .user_count = 3};
	ck_assert_int_eq(client_publish_str(mallory, "req/echo", "forged", 1, false, &p), 0);
	req = expect_remote_request(worker, "req/echo", "forged", "ret/@core/mallory/r", "mallory", "core");
	ck_assert_int_eq(msg_user_count(req, RECEIPTS_PROP_REQUESTER_USER), 0);
	ck_assert_int_eq(client_answer(worker, req, "FORGED", 1), 0);
	expect_receipt(mallory, "ret/mallory/r", "FORGED", RECEIPTS_STATUS_OK, NULL, NULL, 1);
	ck_assert(client_quiet(worker, RCPT_QUIET_MS));
	msg_free(req);
	client_free(mallory);
	client_free(alice);
	client_free(worker);
}
END_TEST

START_TEST(test_no_responders_anywhere_is_fast)
{
	struct client *alice = requester_at(&net[EDGE_A], "alice", true, 1);
	int64_t t0 = harness_now_ms();
	ck_assert_int_eq(client_publish_str(alice, "req/nobody", "?", 1, false,
			request_props("ret/alice/r", "c-2", "20000")), 0);
	expect_receipt(alice, "ret/alice/r", "", RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER, "c-2", 1);
	ck_assert_int_lt(harness_now_ms() - t0, FAST_MS);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	client_free(alice);
}
END_TEST

START_TEST(test_responder_gone_across_bridges)
{
	struct client *worker = subscriber_at(&net[EDGE_B], "worker", true, "req/echo", 1);
	struct client *alice = requester_at(&net[EDGE_A], "alice", true, 1);
	ck_assert_int_eq(client_publish_str(alice, "req/echo", "hello", 1, false,
			request_props("ret/alice/r", "c-3", "20000")), 0);
	msg_free(expect_remote_request(worker, "req/echo", "hello", "ret/@core/@edge-a/alice/r", "alice", "edge-a"));
	ck_assert_int_eq(client_disconnect(worker), 0);
	expect_receipt(alice, "ret/alice/r", "", RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED, "c-3", 1);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	client_free(alice);
	client_free(worker);
}
END_TEST

START_TEST(test_timeout_at_the_requesters_deadline)
{
	struct client *silent = subscriber_at(&net[EDGE_B], "silent", true, "req/silent", 1);
	struct client *alice = requester_at(&net[EDGE_A], "alice", true, 1);
	int64_t t0 = harness_now_ms();
	ck_assert_int_eq(client_publish_str(alice, "req/silent", "x", 1, false,
			request_props("ret/alice/r", "c-4", "1000")), 0);
	struct msg *m = client_wait(alice, 1000 + TICK_SLACK_MS + 500);
	int64_t took = harness_now_ms() - t0;
	ck_assert_ptr_nonnull(m);
	assert_broker_receipt(m, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-4", 1);
	/* Not the earlier deadline of a hop: the requester's own. */
	ck_assert_int_ge(took, 1000 - 20);
	ck_assert_int_le(took, 1000 + TICK_SLACK_MS);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	msg_free(m);
	client_free(alice);
	client_free(silent);
}
END_TEST

START_TEST(test_same_client_id_on_two_edges)
{
	struct client *worker = subscriber_at(&net[EDGE_B], "worker", true, "req/echo", 1);
	struct client *alice_a = requester_at(&net[EDGE_A], "alice", true, 1);
	struct client *alice_b = requester_at(&net[EDGE_B], "alice", true, 1);
	/* edge-b's alice also watches every return topic of the shapes in
	 * play (wildcards over the prefix are allowed; READ checks keep others'
	 * receipts out). */
	ck_assert_int_eq(client_subscribe(alice_b, "+/+/+", 1), 1);
	ck_assert_int_eq(client_subscribe(alice_b, "+/+/+/+/+", 1), 1);
	ck_assert_int_eq(client_publish_str(alice_a, "req/echo", "mine", 1, false,
			request_props("ret/alice/r", "c-5", "5000")), 0);
	struct msg *req = expect_remote_request(worker, "req/echo", "mine", "ret/@core/@edge-a/alice/r",
			"alice", "edge-a");
	/* Even with the token the request carries on her broker she cannot
	 * answer it (it was never delivered to her) ... */
	ck_assert_int_eq(client_answer(alice_b, req, "FORGED", 1), 0x87);
	/* ... nor read the receipt, which goes back to edge-a's alice alone. */
	ck_assert_int_eq(client_answer(worker, req, "MINE", 1), 0);
	expect_receipt(alice_a, "ret/alice/r", "MINE", RECEIPTS_STATUS_OK, NULL, "c-5", 1);
	ck_assert(client_quiet(alice_a, RCPT_QUIET_MS));
	ck_assert(client_quiet(alice_b, RCPT_QUIET_MS));
	/* Her own return area on her own broker stays hers. (A filter she does
	 * not hold yet: Mosquitto 2.0.11 itself leaks 28 bytes for every
	 * repeated SUBSCRIBE of a filter a client already holds, seen with no
	 * plugin loaded, and the sanitizer runs would report it.) */
	ck_assert_int_eq(client_subscribe(alice_b, "ret/alice/+", 1), 1);
	msg_free(req);
	client_free(alice_b);
	client_free(alice_a);
	client_free(worker);
}
END_TEST

START_TEST(test_forged_and_misrouted_refused)
{
	static const char token[16] = "0123456789abcdef";
	struct client *mallory = client_connect(&net[CORE], "mallory", true);
	/* A return level of a broker is no client's. */
	ck_assert_int_eq(client_subscribe(mallory, "ret/@edge-a/#", 1), 0x87);
	struct props_spec forged = {.correlation = token, .correlation_len = 16};
	ck_assert_int_eq(client_publish_str(mallory, "ret/@edge-a/alice/r", "FAKE", 1, false, &forged), 0x87);
	/* A request naming a broker's return level, or vouching for itself. */
	ck_assert_int_eq(client_publish_str(mallory, "req/echo", "?", 1, false,
			request_props("ret/@edge-a/alice/r", NULL, NULL)), 0x87);
	struct user_pair vouch[] = {{RECEIPTS_PROP_REQUESTER_BROKER, "edge-a"}};
	struct props_spec plain = {.user = vouch, .user_count = 1};
	ck_assert_int_eq(client_publish_str(mallory, "req/echo", "?", 1, false, &plain), 0x87);
	/* On an edge too: the core's return level there is the bridge's. */
	struct client *eve = client_connect(&net[EDGE_B], "eve", true);
	ck_assert_int_eq(client_subscribe(eve, "ret/@core/#", 1), 0x87);
	ck_assert_int_eq(client_publish_str(eve, "ret/@core/@edge-a/alice/r", "FAKE", 1, false, &forged), 0x87);
	ck_assert(broker_log_wait(&net[CORE], "refused receipt from 'mallory'", RCPT_ARRIVAL_MS));
	client_free(eve);
	client_free(mallory);
}
END_TEST

START_TEST(test_client_posing_as_a_bridge_refused)
{
	struct client *c = NULL;
	/* The peer's username without its password. */
	struct connect_spec wrong = {.id = "x1", .clean_start = true, .username = "edge-a", .password = "guess"};
	ck_assert_int_ne(client_connect_rc(&net[CORE], &wrong, &c), 0);
	ck_assert_ptr_null(c);
	/* The peer's client id without its username. */
	struct connect_spec id_only = {.id = "bridge-edge-a", .clean_start = true};
	ck_assert_int_eq(client_connect_rc(&net[CORE], &id_only, &c), 0x87);
	/* The client id of an edge's own bridge. */
	struct connect_spec local = {.id = "local.bridge-edge-a", .clean_start = true};
	ck_assert_int_eq(client_connect_rc(&net[EDGE_A], &local, &c), 0x87);
	ck_assert(broker_log_wait(&net[EDGE_A], "refused CONNECT of client id 'local.bridge-edge-a'", RCPT_ARRIVAL_MS));
	/* The bridges were not disturbed: requests still cross. */
	struct client *worker = subscriber_at(&net[EDGE_B], "worker", true, "req/echo", 1);
	struct client *alice = requester_at(&net[EDGE_A], "alice", true, 1);
	ck_assert_int_eq(client_publish_str(alice, "req/echo", "still", 1, false,
			request_props("ret/alice/r", "c-6", "5000")), 0);
	struct msg *req = expect_remote_request(worker, "req/echo", "still", "ret/@core/@edge-a/alice/r",
			"alice", "edge-a");
	ck_assert_int_eq(client_answer(worker, req, "STILL", 1), 0);
	expect_receipt(alice, "ret/alice/r", "STILL", RECEIPTS_STATUS_OK, NULL, "c-6", 1);
	msg_free(req);
	client_free(alice);
	client_free(worker);
}
END_TEST

/* Sends requests to req/echo until one is answered ok (the network is back). */
static void ok_again_within(struct client *alice, struct broker *responder_broker, int timeout_ms)
{
	struct client *worker = subscriber_at(responder_broker, "worker2", true, "req/echo", 1);
	int64_t deadline = harness_now_ms() + timeout_ms;
	bool ok = false;
	for(int i = 0; !ok && harness_now_ms() < deadline; i++){
		char corr[24];
		snprintf(corr, sizeof(corr), "again-%d", i);
		ck_assert_int_eq(client_publish_str(alice, "req/echo", "back?", 1, false,
				request_props("ret/alice/again", corr, "1000")), 0);
		struct msg *req = client_wait(worker, 300);
		if(req){
			ck_assert_int_eq(client_answer(worker, req, "BACK", 1), 0);
			msg_free(req);
		}
		struct msg *r = client_wait(alice, 1000 + TICK_SLACK_MS + 200);
		ck_assert_ptr_nonnull(r);
		ok = !strcmp(msg_user(r, RECEIPTS_PROP_RECEIPT), RECEIPTS_STATUS_OK);
		if(ok) assert_receipt(r, "BACK", RECEIPTS_STATUS_OK, NULL, corr, 1);
		msg_free(r);
	}
	ck_assert_msg(ok, "no ok receipt within %d ms of the restart", timeout_ms);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	client_free(worker);
}

#define IN_FLIGHT 3

/* requests to a silent subscriber on edge-b, pending when `victim` dies:
 * each gets exactly one receipt by its deadline plus the slack. */
static void broker_dies_midway(int victim)
{
	struct client *silent = subscriber_at(&net[EDGE_B], "silent", true, "req/echo", 1);
	struct client *alice = requester_at(&net[EDGE_A], "alice", true, 1);
	for(int i = 0; i < IN_FLIGHT; i++){
		char corr[8];
		snprintf(corr, sizeof(corr), "k-%d", i);
		ck_assert_int_eq(client_publish_str(alice, "req/echo", "wait", 1, false,
				request_props("ret/alice/r", corr, "1500")), 0);
		msg_free(expect_on(silent, "req/echo"));
	}
	int64_t t0 = harness_now_ms();
	broker_kill(&net[victim]);
	if(victim == EDGE_B) client_free(silent);
	bool seen[IN_FLIGHT] = {false};
	for(int i = 0; i < IN_FLIGHT; i++){
		struct msg *m = client_wait(alice, (int)(1500 + FAILURE_SLACK_MS - (harness_now_ms() - t0)));
		ck_assert_msg(m != NULL, "only %d of %d receipts by the deadline + %d ms", i, IN_FLIGHT, FAILURE_SLACK_MS);
		ck_assert_str_eq(m->topic, "ret/alice/r");
		ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_RECEIPT), 1);
		ck_assert_int_eq(m->correlation_len, 3);
		int k = ((const char *)m->correlation)[2] - '0';
		ck_assert(k >= 0 && k < IN_FLIGHT && !seen[k]);
		seen[k] = true;
		msg_free(m);
	}
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	/* It comes back; its bridges (or the edges' bridges to it) reconnect. */
	broker_restart(&net[victim]);
	if(victim == CORE) wait_bridges(2);
	else ck_assert(broker_wait_subscribed(&net[CORE], "bridge-edge-b", 4, RECONNECT_MS));
	ok_again_within(alice, &net[EDGE_B], RECONNECT_MS);
	client_free(alice);
	if(victim != EDGE_B) client_free(silent);
}

START_TEST(test_core_killed_with_requests_pending)
{
	broker_dies_midway(CORE);
}
END_TEST

START_TEST(test_edge_killed_then_its_bridge_reconnects)
{
	broker_dies_midway(EDGE_B);
}
END_TEST

Suite *bridges_suite(void)
{
	Suite *s = suite_create("bridges");
	TCase *tc = harness_tcase("network");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, start_network, stop_network);
	tcase_add_test(tc, test_answer_crosses_two_bridges);
	tcase_add_test(tc, test_requester_user_vouched_across_bridges);
	tcase_add_test(tc, test_no_responders_anywhere_is_fast);
	tcase_add_test(tc, test_responder_gone_across_bridges);
	tcase_add_test(tc, test_timeout_at_the_requesters_deadline);
	tcase_add_test(tc, test_same_client_id_on_two_edges);
	tcase_add_test(tc, test_forged_and_misrouted_refused);
	tcase_add_test(tc, test_client_posing_as_a_bridge_refused);
	tcase_add_test(tc, test_core_killed_with_requests_pending);
	tcase_add_test(tc, test_edge_killed_then_its_bridge_reconnects);
	suite_add_tcase(s, tc);
	return s;
}
