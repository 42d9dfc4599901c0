/*
 * Network: the core of an edge broker (one uplink, its own bridge to the
 * core) and of a core broker (two peers), driven through the fake host.
 * What a request that may leave carries, the uplink counted as a
 * recipient, receipts coming back through a broker's "@name" level, other
 * brokers' verdicts, links whose silence is no verdict, the return levels
 * of brokers, and the options.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridges.h"
#include "core_fixture.h"
#include "core_parts.h"
#include "fake_host.h"
#include "network.h"
#include "token.h"
#include "suites.h"


#define UPLINK_ID "local.bridge-edge-a"

/* edge-a: bridge "core" carries req/# and ret/@core/# out; client ids
 * bound to users or not. */
static void edge_start(bool bind_client_ids)
{
	fake_host__reset();
	struct rcpt_config cfg;
	char err[256] = "";
	ck_assert_int_eq(rcpt_config__init(&cfg), RCPT_OK);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BROKER_NAME, "edge-a", err, sizeof(err)), RCPT_OK);
	if(bind_client_ids){
		ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BIND_CLIENT_IDS, "true", err, sizeof(err)), RCPT_OK);
	}
	const char *const out[] = {"req/#", "ret/@core/#"};
	ck_assert_int_eq(rcpt_netconf__add_uplink(&cfg.network, "core", UPLINK_ID, out, 2), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_OK);
	core = rcpt_core__new(fake_host__host(), &cfg);
	ck_assert_ptr_nonnull(core);
}

static void edge_setup(void)
{
	edge_start(false);
}

static void edge_binding_setup(void)
{
	edge_start(true);
}

/* core: peers edge-a and edge-b, client ids bound to users. */
static void core_binding_setup(void)
{
	fake_host__reset();
	const char *const opts[] = {RECEIPTS_OPT_BROKER_NAME, "core", RECEIPTS_OPT_PEERS, "edge-a, edge-b",
		RECEIPTS_OPT_BIND_CLIENT_IDS, "true", NULL};
	core = t_core_new(opts);
}

/* core: peers edge-a and edge-b. */
static void core_net_setup(void)
{
	fake_host__reset();
	const char *const opts[] = {RECEIPTS_OPT_BROKER_NAME, "core", RECEIPTS_OPT_PEERS, "edge-a, edge-b", NULL};
	core = t_core_new(opts);
}


static struct rcpt_publish from_uplink(const char *topic)
{
	struct rcpt_publish m = t_msg(UPLINK_ID, topic);
	m.sender.username = "edge-a";
	m.sender.clean = false;
	return m;
}

static struct rcpt_publish from_peer(const char *peer, const char *topic)
{
	static char id[64];
	snprintf(id, sizeof(id), "bridge-%s", peer);
	struct rcpt_publish m = t_msg(id, topic);
	m.sender.username = peer;
	return m;
}

static void with_token(struct rcpt_publish *m, const uint8_t *token)
{
	m->has_correlation = true;
	m->correlation.ptr = token;
	m->correlation.len = RCPT_TOKEN_LEN;
}

/* ---- edge ---- */

START_TEST(test_leaving_request_carries_the_way_back)
{
	struct rcpt_publish m = t_req("alice", "req/echo", "ret/alice/r", "c1");
	m.timeout = "5000";
	m.timeout_count = 1;
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_str_eq(d.set_response_topic, "ret/@edge-a/alice/r");
	ck_assert_str_eq(d.requester, "alice");
	ck_assert_str_eq(d.requester_broker, "edge-a");
	ck_assert_str_eq(d.set_timeout, "4900");
	/* Nobody here read it, but the bridge took it: no verdict yet. */
	rcpt_core__settle(core);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

START_TEST(test_answer_back_through_this_broker)
{
	struct rcpt_publish m = t_req("alice", "req/echo", "ret/alice/r", "c1");
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	uint8_t token[RCPT_TOKEN_LEN];
	memcpy(token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
	rcpt_core__settle(core);
	/* Some other client cannot answer in the bridge's place. */
	struct rcpt_publish forged = t_msg("mallory", "ret/@edge-a/alice/r");
	with_token(&forged, token);
	ck_assert_int_eq(core_publish(&forged).action, RCPT_REFUSE);
	struct rcpt_publish a = from_uplink("ret/@edge-a/alice/r");
	with_token(&a, token);
	struct rcpt_decision r;
	rcpt_core__on_publish(core, &a, &r);
	ck_assert_int_eq(r.action, RCPT_RECEIPT);
	ck_assert_str_eq(r.new_topic, "ret/alice/r");
	ck_assert_int_eq(r.restore_correlation.len, 2);
	ck_assert_int_eq(memcmp(r.restore_correlation.ptr, "c1", 2), 0);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

START_TEST(test_verdict_of_the_next_broker_passed_back)
{
	struct rcpt_publish m = t_req("alice", "req/nobody", "ret/alice/r", "c1");
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	uint8_t token[RCPT_TOKEN_LEN];
	memcpy(token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
	rcpt_core__settle(core);
	struct rcpt_publish v = from_uplink("ret/@edge-a/alice/r");
	with_token(&v, token);
	v.receipt_status = RECEIPTS_STATUS_NO_RESPONDERS;
	v.receipt_reason = RECEIPTS_REASON_NO_SUBSCRIBER;
	struct rcpt_decision r;
	rcpt_core__on_publish(core, &v, &r);
	ck_assert_int_eq(r.action, RCPT_REFUSE);   /* taken: its own receipt goes out */
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	const struct fake_receipt *out = fake_host__published(0);
	ck_assert_str_eq(out->topic, "ret/alice/r");
	ck_assert_str_eq(out->status, RECEIPTS_STATUS_NO_RESPONDERS);
	ck_assert_str_eq(out->reason, RECEIPTS_REASON_NO_SUBSCRIBER);
	ck_assert_int_eq(out->corr_len, 2);
	assert_ended_once(RCPT_OUTCOME_NO_RESPONDERS, 1, 60000);
}
END_TEST

START_TEST(test_hop_timeout_and_dropped_link_wait_for_the_deadline)
{
	struct rcpt_publish m = t_req("alice", "req/silent", "ret/alice/r", "c1");
	m.timeout = "1000";
	m.timeout_count = 1;
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	uint8_t token[RCPT_TOKEN_LEN];
	memcpy(token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
	rcpt_core__settle(core);
	/* The bridge drops: silence, no verdict. */
	rcpt_core__on_disconnect(core, UPLINK_ID, NULL, true);
	fake_host__advance_ms(900);
	/* The next broker's earlier deadline passes: no verdict for us either. */
	struct rcpt_publish v = from_uplink("ret/@edge-a/alice/r");
	with_token(&v, token);
	v.receipt_status = RECEIPTS_STATUS_TIMEOUT;
	struct rcpt_decision r;
	rcpt_core__on_publish(core, &v, &r);
	ck_assert_int_eq(r.action, RCPT_REFUSE);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	fake_host__advance_ms(100);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_TIMEOUT);
	assert_ended_once(RCPT_OUTCOME_TIMEOUT, 1, 60000);
}
END_TEST

START_TEST(test_nobody_may_take_the_bridges_client_id)
{
	const char *why = NULL;
	ck_assert(!rcpt_network__connect_allowed(core, UPLINK_ID, NULL, &why));
	ck_assert_ptr_nonnull(why);
	ck_assert(rcpt_network__connect_allowed(core, "alice", NULL, &why));
	ck_assert(rcpt_network__is_link(core, UPLINK_ID));
	ck_assert(!rcpt_network__is_link(core, "alice"));
}
END_TEST

START_TEST(test_request_from_the_uplink_stays_when_nothing_else_carries_it)
{
	/* It came over the only bridge: it does not go back over it. */
	struct rcpt_publish m = from_uplink("req/echo");
	m.has_response_topic = true;
	m.response_topic = "ret/@core/@edge-b/bob/r";
	m.requester = "bob";
	m.requester_broker = "edge-b";
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_ptr_null(d.set_response_topic);
	ck_assert_str_eq(d.requester, "bob");
	ck_assert_str_eq(d.requester_broker, "edge-b");
	ck_assert(!d.keep_vouched);   /* not counted one of each: replaced */
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->topic, "ret/@core/@edge-b/bob/r");
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_NO_RESPONDERS);
}
END_TEST

START_TEST(test_hop_without_a_timeout_takes_its_default_shortened)
{
	/* Over the bridge, two brokers back (two "@" levels), no timeout sent:
	 * the default (30000) shortened twice, as the brokers behind did. */
	struct rcpt_publish m = from_uplink("req/silent");
	m.has_response_topic = true;
	m.response_topic = "ret/@core/@edge-b/bob/r";
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_ptr_null(d.set_timeout);
	t_read(core, t_key(1), "req/silent", "silent");
	rcpt_core__settle(core);
	fake_host__advance_ms(29800 - 1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	fake_host__advance_ms(1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_TIMEOUT);
	ck_assert_str_eq(fake_host__published(0)->topic, "ret/@core/@edge-b/bob/r");
}
END_TEST

START_TEST(test_late_verdict_refused_quietly)
{
	uint8_t token[RCPT_TOKEN_LEN] = {1, 2, 3};
	struct rcpt_publish v = from_uplink("ret/@edge-a/alice/r");
	with_token(&v, token);
	v.receipt_status = RECEIPTS_STATUS_NO_RESPONDERS;
	struct rcpt_decision r;
	rcpt_core__on_publish(core, &v, &r);
	ck_assert_int_eq(r.action, RCPT_REFUSE);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_UNMATCHED], 0);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 0);
	/* The same from a client is a forged receipt, logged and counted. */
	struct rcpt_publish f = t_msg("mallory", "ret/@edge-a/alice/r");
	with_token(&f, token);
	f.receipt_status = RECEIPTS_STATUS_NO_RESPONDERS;
	rcpt_core__on_publish(core, &f, &r);
	ck_assert_int_eq(r.action, RCPT_REFUSE);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_UNMATCHED], 1);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 1);
}
END_TEST

/* ---- core ---- */

START_TEST(test_peer_request_vouched_and_routed_on)
{
	struct rcpt_publish m = from_peer("edge-a", "req/echo");
	m.has_response_topic = true;
	m.response_topic = "ret/@edge-a/alice/r";
	m.requester = "alice";
	m.requester_broker = "edge-a";
	m.broker_property = RECEIPTS_PROP_REQUESTER;
	m.broker_property_count = 2;
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_str_eq(d.requester, "alice");
	ck_assert_str_eq(d.requester_broker, "edge-a");
	ck_assert(d.keep_vouched);   /* one of each: kept where they are */
	ck_assert_str_eq(d.set_response_topic, "ret/@core/@edge-a/alice/r");
	uint8_t token[RCPT_TOKEN_LEN];
	memcpy(token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
	/* Delivered to edge-b's bridge, which answers for its responder. */
	struct rcpt_client_ref b = {.id = "bridge-edge-b", .username = "edge-b", .clean = true, .handle = "b"};
	rcpt_core__on_read(core, t_key(1), "req/echo", false, &b);
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	struct rcpt_publish a = from_peer("edge-b", "ret/@core/@edge-a/alice/r");
	with_token(&a, token);
	a.receipt_status = RECEIPTS_STATUS_OK;
	struct rcpt_decision r;
	rcpt_core__on_publish(core, &a, &r);
	ck_assert_int_eq(r.action, RCPT_RECEIPT);
	ck_assert_str_eq(r.new_topic, "ret/@edge-a/alice/r");
	ck_assert_int_eq(r.restore_correlation.len, 0);
}
END_TEST

/* requester-user is vouched like requester: taken from the peer, never the
 * peer's own username; absent from the peer, absent here. */
START_TEST(test_peer_requester_user_vouched)
{
	struct rcpt_publish m = from_peer("edge-a", "req/echo");
	m.has_response_topic = true;
	m.response_topic = "ret/@edge-a/alice/r";
	m.requester = "alice";
	m.requester_broker = "edge-a";
	m.requester_user = "alice-user";
	m.broker_property = RECEIPTS_PROP_REQUESTER;
	m.broker_property_count = 3;
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	ck_assert_str_eq(d.requester_user, "alice-user");
	ck_assert(d.keep_vouched);
	/* Two requester-user: not one of each, so all are replaced. */
	m.broker_property_count = 4;
	d = t_request(core, &m, t_key(2));
	ck_assert_str_eq(d.requester_user, "alice-user");
	ck_assert(!d.keep_vouched);
	/* None vouched: none added (the username "edge-a" is the peer's). */
	m.requester_user = NULL;
	m.broker_property_count = 2;
	d = t_request(core, &m, t_key(3));
	ck_assert_ptr_null(d.requester_user);
	ck_assert(d.keep_vouched);
}
END_TEST

/* With binding on, a peer's bridge id is bound to the peer's username once
 * it acts, by the network and by client id binding alike; nobody else may
 * log in with it. */
START_TEST(test_peer_id_bound_to_its_username)
{
	struct rcpt_client_ref a = {.id = "bridge-edge-a", .username = "edge-a", .clean = false, .handle = "a"};
	ck_assert(rcpt_core__on_connect(core, "bridge-edge-a", "edge-a"));
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "ret/@edge-a/#", &a), RCPT_ACCESS_ALLOW);
	const struct rcpt_binding *b = rcpt_identity__find(&core->identity, "bridge-edge-a");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->user, "edge-a");
	ck_assert(rcpt_core__on_connect(core, "bridge-edge-a", "edge-a"));
	ck_assert(!rcpt_core__on_connect(core, "bridge-edge-a", NULL));
	ck_assert(!rcpt_core__on_connect(core, "bridge-edge-a", "edge-b"));
	ck_assert_str_eq(fake_host__last_log(RCPT_LOG_NOTICE),
			"refused CONNECT of client id 'bridge-edge-a' by user 'edge-b': the client id of a peer broker");
	/* Its link dropping is silence, and keeps the binding. */
	rcpt_core__on_disconnect(core, "bridge-edge-a", "edge-a", true);
	ck_assert(!rcpt_core__on_connect(core, "bridge-edge-a", "edge-b"));
}
END_TEST

/* This broker's own bridge acts without logging in here: it is neither
 * bound to the username it carries (its account on the other broker) nor
 * refused, and nobody may log in with its id. */
START_TEST(test_uplink_not_bound_nor_refused)
{
	struct rcpt_publish m = t_req("alice", "req/echo", "ret/alice/r", "c1");
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	struct rcpt_publish v = from_uplink("ret/@edge-a/alice/r");
	with_token(&v, d.add_correlation.ptr);
	struct rcpt_decision r;
	rcpt_core__on_publish(core, &v, &r);
	ck_assert_int_eq(r.action, RCPT_RECEIPT);
	struct rcpt_client_ref u = {.id = UPLINK_ID, .username = "edge-a", .clean = false, .handle = "u"};
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "req/#", &u), RCPT_ACCESS_FALLBACK);
	ck_assert_ptr_null(rcpt_identity__find(&core->identity, UPLINK_ID));
	ck_assert(!rcpt_core__on_connect(core, UPLINK_ID, "edge-a"));
	ck_assert(!rcpt_core__on_connect(core, UPLINK_ID, NULL));
	/* alice acted with no username: her id stays free. */
	ck_assert(rcpt_core__on_connect(core, "alice", "bob"));
}
END_TEST

START_TEST(test_peer_request_nobody_anywhere_answered_at_once)
{
	struct rcpt_publish m = from_peer("edge-a", "req/nobody");
	m.has_response_topic = true;
	m.response_topic = "ret/@edge-a/alice/r";
	m.requester = "alice";
	m.requester_broker = "edge-a";
	t_request(core, &m, t_key(1));
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->topic, "ret/@edge-a/alice/r");
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_NO_RESPONDERS);
}
END_TEST

START_TEST(test_return_levels_of_brokers_are_theirs_alone)
{
	/* A client cannot name one, whatever its id ... */
	struct rcpt_publish m = t_req("mallory", "req/echo", "ret/@edge-a/alice/r", NULL);
	ck_assert_int_eq(core_publish(&m).action, RCPT_REFUSE);
	m = t_req("@edge-a", "req/echo", "ret/@edge-a/alice/r", NULL);
	ck_assert_int_eq(core_publish(&m).action, RCPT_REFUSE);
	/* ... nor a peer another peer's. */
	m = from_peer("edge-b", "req/echo");
	m.has_response_topic = true;
	m.response_topic = "ret/@edge-a/alice/r";
	ck_assert_int_eq(core_publish(&m).action, RCPT_REFUSE);
	/* Reading and subscribing: only the peer it names. */
	struct rcpt_client_ref a = {.id = "bridge-edge-a", .username = "edge-a", .clean = true, .handle = "a"};
	struct rcpt_client_ref b = {.id = "bridge-edge-b", .username = "edge-b", .clean = true, .handle = "b"};
	struct rcpt_client_ref fake = {.id = "@edge-a", .clean = true, .handle = "f"};
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "ret/@edge-a/#", &a), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "ret/@edge-a/#", &b), RCPT_ACCESS_DENY);
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "ret/@edge-a/#", &fake), RCPT_ACCESS_DENY);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(9), "ret/@edge-a/alice/r", false, &a), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(9), "ret/@edge-a/alice/r", false, &b), RCPT_ACCESS_DENY);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(9), "ret/@edge-a/alice/r", false, &fake), RCPT_ACCESS_DENY);
	/* A peer's client id, once seen, is its alone. */
	const char *why = NULL;
	ck_assert(!rcpt_network__connect_allowed(core, "bridge-edge-a", NULL, &why));
	ck_assert(!rcpt_network__connect_allowed(core, "bridge-edge-a", "edge-b", &why));
	ck_assert(rcpt_network__connect_allowed(core, "bridge-edge-a", "edge-a", &why));
	ck_assert(rcpt_network__is_link(core, "bridge-edge-a"));
}
END_TEST

START_TEST(test_clients_keep_their_single_broker_contract)
{
	/* A client's own return area as before; ids starting with '@' own none. */
	struct rcpt_publish m = t_req("carol", "req/echo", "ret/carol/r", NULL);
	struct rcpt_decision d = t_request(core, &m, t_key(1));
	ck_assert_str_eq(d.requester, "carol");
	ck_assert_str_eq(d.requester_broker, "core");
	ck_assert_str_eq(d.set_response_topic, "ret/@core/carol/r");
	struct rcpt_client_ref c = {.id = "carol", .clean = true, .handle = "c"};
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "ret/carol/#", &c), RCPT_ACCESS_ALLOW);
}
END_TEST

/* ---- options ---- */

START_TEST(test_network_options)
{
	struct rcpt_config cfg;
	char err[256];
	ck_assert_int_eq(rcpt_config__init(&cfg), RCPT_OK);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BROKER_NAME, "@x", err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BROKER_NAME, "a/b", err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_PEERS, "edge-a,+", err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_PEERS, "edge-a, core", err, sizeof(err)), RCPT_OK);
	/* peers need a broker name, and not this broker's own */
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(err, RECEIPTS_OPT_BROKER_NAME));
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_BROKER_NAME, "core", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(err, "itself"));
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_PEERS, "edge-a,edge-b", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_OK);
	char line[1024];
	rcpt_config__describe(&cfg, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "broker_name=core peers=edge-a,edge-b"));
	rcpt_config__free(&cfg);
}
END_TEST

START_TEST(test_topic_filters)
{
	static const struct { const char *filter, *topic; bool match; } cases[] = {
		{"req/#", "req/echo", true}, {"req/#", "req", true}, {"req/#", "ret/a", false},
		{"#", "req/echo", true}, {"#", "$SYS/x", false}, {"+/echo", "req/echo", true},
		{"req/+", "req/echo/x", false}, {"ret/@core/#", "ret/@core/@edge-a/alice/r", true},
		{"ret/@core/#", "ret/@corex/a", false}, {"req/echo", "req/echo", true}, {"req/echo", "req/ech", false},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ck_assert_msg(rcpt_netconf__filter_matches(cases[i].filter, cases[i].topic) == cases[i].match,
				"%s vs %s", cases[i].filter, cases[i].topic);
	}
}
END_TEST

/* ---- this broker's own bridges, read from its configuration ---- */

static char conf_dir[64];

static const char *write_conf(const char *name, const char *text)
{
	static char path[128];
	if(conf_dir[0] == '\0'){
		strcpy(conf_dir, "/tmp/rcpt-unit-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(conf_dir));
	}
	snprintf(path, sizeof(path), "%s/%s", conf_dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(test_bridges_discovered_with_mosquittos_defaults)
{
	char dir_line[160];
	write_conf("more.conf", "connection far\naddress 127.0.0.1:1\nremote_clientid r2\nlocal_clientid mine\n"
			"topic x/# in 1\ntopic \"\" out 0 out/ in/\n");
	snprintf(dir_line, sizeof(dir_line), "include_dir %s\n", conf_dir);
	/* more.conf is read through include_dir: keep the main file elsewhere */
	char main_path[160];
	snprintf(main_path, sizeof(main_path), "%s.main", conf_dir);
	FILE *f = fopen(main_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "listener 1883\nallow_anonymous true\npassword_file /x\n"
			"connection core\naddress 127.0.0.1:18830\nremote_clientid bridge-edge-a\n"
			"topic req/# both 1\ntopic ret/@edge-a/# in 1\ntopic ret/@core/#\n%s", dir_line);
	fclose(f);
	struct rcpt_netconf n = {0};
	n.broker_name = strdup("edge-a");
	struct rcpt_bridges_found found;
	ck_assert(rcpt_bridges__discover(main_path, &n, &found));
	ck_assert_uint_eq(found.connections, 2);
	ck_assert(found.authenticates);
	ck_assert(found.allow_anonymous);
	ck_assert_uint_eq(n.uplink_count, 2);
	ck_assert_str_eq(n.uplinks[0].name, "core");
	ck_assert_str_eq(n.uplinks[0].local_id, "local.bridge-edge-a");
	ck_assert_str_eq(n.uplinks[0].out_filters[0], "req/#");
	ck_assert_str_eq(n.uplinks[0].out_filters[1], "ret/@core/#");   /* out by default */
	ck_assert_ptr_null(n.uplinks[0].out_filters[2]);
	ck_assert_str_eq(n.uplinks[1].local_id, "mine");
	ck_assert_str_eq(n.uplinks[1].out_filters[0], "out/");          /* the local prefix */
	ck_assert_ptr_null(n.uplinks[1].out_filters[1]);
	ck_assert(rcpt_netconf__leaves(&n, "req/echo", NULL));
	ck_assert(!rcpt_netconf__leaves(&n, "req/echo", &n.uplinks[0]));
	rcpt_netconf__free(&n);
	remove(main_path);
	remove(write_conf("more.conf", ""));
	rmdir(conf_dir);
	conf_dir[0] = '\0';
}
END_TEST

START_TEST(test_bridges_unreadable_configuration)
{
	struct rcpt_netconf n = {0};
	struct rcpt_bridges_found found;
	ck_assert(!rcpt_bridges__discover("/nonexistent/mosquitto.conf", &n, &found));
	ck_assert_ptr_nonnull(strstr(found.why, "/nonexistent/mosquitto.conf"));
	ck_assert_uint_eq(n.uplink_count, 0);
}
END_TEST

Suite *network_suite(void)
{
	Suite *s = suite_create("network");
	TCase *edge = tcase_create("edge");
	tcase_add_checked_fixture(edge, edge_setup, core_teardown);
	tcase_add_test(edge, test_leaving_request_carries_the_way_back);
	tcase_add_test(edge, test_answer_back_through_this_broker);
	tcase_add_test(edge, test_verdict_of_the_next_broker_passed_back);
	tcase_add_test(edge, test_hop_timeout_and_dropped_link_wait_for_the_deadline);
	tcase_add_test(edge, test_nobody_may_take_the_bridges_client_id);
	tcase_add_test(edge, test_request_from_the_uplink_stays_when_nothing_else_carries_it);
	tcase_add_test(edge, test_hop_without_a_timeout_takes_its_default_shortened);
	tcase_add_test(edge, test_late_verdict_refused_quietly);
	suite_add_tcase(s, edge);
	TCase *core_tc = tcase_create("core");
	tcase_add_checked_fixture(core_tc, core_net_setup, core_teardown);
	tcase_add_test(core_tc, test_peer_request_vouched_and_routed_on);
	tcase_add_test(core_tc, test_peer_requester_user_vouched);
	tcase_add_test(core_tc, test_peer_request_nobody_anywhere_answered_at_once);
	tcase_add_test(core_tc, test_return_levels_of_brokers_are_theirs_alone);
	tcase_add_test(core_tc, test_clients_keep_their_single_broker_contract);
	suite_add_tcase(s, core_tc);
	TCase *binding = tcase_create("binding");
	tcase_add_checked_fixture(binding, core_binding_setup, core_teardown);
	tcase_add_test(binding, test_peer_id_bound_to_its_username);
	suite_add_tcase(s, binding);
	TCase *edge_binding = tcase_create("edge binding");
	tcase_add_checked_fixture(edge_binding, edge_binding_setup, core_teardown);
	tcase_add_test(edge_binding, test_uplink_not_bound_nor_refused);
	suite_add_tcase(s, edge_binding);
	TCase *opts = tcase_create("options");
	tcase_add_test(opts, test_network_options);
	tcase_add_test(opts, test_topic_filters);
	tcase_add_test(opts, test_bridges_discovered_with_mosquittos_defaults);
	tcase_add_test(opts, test_bridges_unreadable_configuration);
	suite_add_tcase(s, opts);
	return s;
}
