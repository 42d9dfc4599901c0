/*
 * Privacy suite: a return area `ret/C/#` is readable by C alone and
 * writable only by the receipts the broker matches, whatever other clients
 * subscribe to or publish; traffic the plugin does not govern is left to
 * acl_fallback (and to acl_file with `defer`).
 */
#define _GNU_SOURCE /* mkdtemp */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* A refusal is logged while the PUBLISH/SUBSCRIBE is handled, before its
 * ack: the line is there by the time the ack is, this only covers the
 * file write. */
#define LOG_MS 1000

static struct broker broker;

static void setup(void)
{
	broker_start(&broker, NULL);
}

static void teardown(void)
{
	broker_stop(&broker);
}

/* A clean client subscribed (QoS 1, granted) to one filter. */
static struct client *subscribed(const char *id, const char *filter)
{
	return subscriber_at(&broker, id, true, filter, 1);
}

/* The next message of c: it must be `payload` on `topic`. */
static struct msg *next_is(struct client *c, const char *topic, const char *payload)
{
	struct msg *m = expect_on(c, topic);
	ck_assert_str_eq(m->payload, payload);
	return m;
}

/* A QoS 1 request naming its return area by `return-area: x`; returns
 * the PUBACK reason code. */
static int ask_by_area(struct client *req)
{
	struct props_spec props = {.correlation = "c-2", .correlation_len = 3,
		USER_PROPS({RECEIPTS_PROP_RETURN_AREA, "x"})};
	return client_publish_str(req, "req/A", "question", 1, false, &props);
}

/* Asserts that the broker logged one line ending in the formatted text. */
__attribute__((format(printf, 1, 2)))
static void assert_logged(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	ck_assert_msg(broker_log_wait(&broker, line, LOG_MS), "log: no line ending in '%s'", line);
}

/* Waits for alice's request (correlation c-1) on req/A at c, as the
 * broker delivers it. */
static struct msg *request_at(struct client *c, const char *requester)
{
	struct msg *m = expect_request(c, "req/A", "question", requester);
	assert_token(m, "c-1");
	return m;
}

/* The responder answers `request` (freed); the requester gets exactly
 * that answer as `ok` on ret_topic, and nothing after it. */
static void answer_reaches(struct client *resp, struct msg *request, struct client *req, const char *ret_topic,
		const char *corr)
{
	answer_gets_ok(resp, request, req, ret_topic, corr);
	msg_free(request);
}

/* alice asks bob (on req/A) and gets bob's answer on ret/alice/1. */
static void round_trip(struct client *alice, struct client *bob)
{
	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", "2000"), 0);
	answer_reaches(bob, request_at(bob, "alice"), alice, "ret/alice/1", "c-1");
}

/* ---- subscriptions to return areas ---- */

struct filter_case {
	const char *filter;
	const char *logged; /* the filter as the refusal names it */
};

static const struct filter_case foreign_filters[] = {
	{"ret/alice/#", "ret/alice/#"},
	{"ret/alice/x", "ret/alice/x"},
	{"ret/#", "ret/#"},
	{"ret/+/x", "ret/+/x"},
	/* A shared subscription is judged by the filter it shares. */
	{"$share/g/ret/alice/#", "ret/alice/#"},
};

START_TEST(foreign_return_filter_is_refused)
{
	const struct filter_case *fc = &foreign_filters[_i];
	struct client *bob = subscribed("bob", "req/A");
	struct client *alice = subscribed("alice", "ret/alice/#");
	struct client *mallory = client_connect(&broker, "mallory", true);

	ck_assert_int_eq(client_subscribe(mallory, fc->filter, 1), MQTT_RC_NOT_AUTHORIZED);
	assert_logged("refused subscription of 'mallory' to '%s': not its return area", fc->logged);
	ck_assert_int_eq(broker_log_count(&broker, "refused subscription of"), 1);

	/* The refused filter holds nothing: alice's receipt passes mallory by. */
	round_trip(alice, bob);
	ck_assert(client_quiet(mallory, 0));
	ck_assert(client_quiet(bob, 0));
	client_free(mallory);
	client_free(alice);
	client_free(bob);
}
END_TEST

static const char *const own_filters[] = {"ret/alice/#", "ret/alice/1", "$share/g/ret/alice/#"};

START_TEST(own_return_filter_is_granted_and_receives)
{
	struct client *bob = subscribed("bob", "req/A");
	struct client *alice = subscribed("alice", own_filters[_i]);

	round_trip(alice, bob);
	ck_assert(client_quiet(bob, 0));
	ck_assert_int_eq(broker_log_count(&broker, "refused subscription of"), 0);
	client_free(alice);
	client_free(bob);
}
END_TEST

/* ---- wildcard subscribers over the prefix ---- */

START_TEST(wildcard_subscribers_get_traffic_but_not_receipts)
{
	struct client *bob = subscribed("bob", "req/A");
	struct client *alice = subscribed("alice", "ret/alice/#");
	/* Both filters are granted: they are not return-area filters. */
	struct client *eve = subscribed("eve", "#");
	struct client *eve2 = subscribed("eve2", "+/alice/#");

	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", "2000"), 0);
	/* eve subscribes to the subject area through `#`: the request is
	 * ordinary delivery to her. */
	struct msg *seen = request_at(eve, "alice");
	answer_reaches(bob, request_at(bob, "alice"), alice, "ret/alice/1", "c-1");

	/* Ordinary traffic after the receipt: the next thing the wildcards see
	 * is this, so the receipt between did not reach them. */
	ck_assert_int_eq(client_publish_str(bob, "news/alice/x", "hello", 1, false, NULL), 0);
	struct msg *news = next_is(eve, "news/alice/x", "hello");
	struct msg *news2 = next_is(eve2, "news/alice/x", "hello");

	ck_assert(client_quiet(eve, RCPT_QUIET_MS));
	ck_assert(client_quiet(eve2, 0));
	ck_assert(client_quiet(alice, 0));
	ck_assert(client_quiet(bob, 0));
	msg_free(seen);
	msg_free(news);
	msg_free(news2);
	client_free(eve2);
	client_free(eve);
	client_free(alice);
	client_free(bob);
}
END_TEST

START_TEST(broker_made_receipts_do_not_reach_wildcards)
{
	struct client *alice = subscribed("alice", "ret/alice/#");
	struct client *eve = subscribed("eve", "#");
	struct client *eve2 = subscribed("eve2", "+/alice/#");

	/* eve is the only subscriber of req/A and never answers. */
	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", "300"), 0);
	struct msg *seen = request_at(eve, "alice");
	expect_receipt(alice, "ret/alice/1", "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "c-1", 1);

	/* A refused request: its `rejected` receipt goes to alice only. */
	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/2", "c-2", "soon"), MQTT_RC_NOT_AUTHORIZED);
	expect_receipt(alice, "ret/alice/2", "", RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_BAD_TIMEOUT, "c-2", 1);

	ck_assert(client_quiet(alice, RCPT_QUIET_MS));
	ck_assert(client_quiet(eve, 0));
	ck_assert(client_quiet(eve2, 0));
	msg_free(seen);
	client_free(eve2);
	client_free(eve);
	client_free(alice);
}
END_TEST

/* ---- forged receipts ---- */

struct forgery {
	const char *topic;
	const char *corr;   /* NULL: no Correlation Data; THE_TOKEN: the token bob got */
	const char *why;    /* the refusal's log reason */
};

#define THE_TOKEN "(token)"

static const struct forgery forgeries[] = {
	/* The pending token, guessed right: still not from a client the
	 * request reached. */
	{"ret/alice/1", THE_TOKEN, RECEIPTS_UNMATCHED_NOT_DELIVERED},
	{"ret/alice/x", NULL, RECEIPTS_UNMATCHED_NO_CORRELATION},
	{"ret/alice/1", "c-9", RECEIPTS_UNMATCHED_NOT_PENDING},
	/* alice's own correlation names nothing: only tokens do. */
	{"ret/alice/1", "c-1", RECEIPTS_UNMATCHED_NOT_PENDING},
};

START_TEST(forged_receipt_is_refused_and_the_real_one_passes)
{
	const struct forgery *f = &forgeries[_i];
	struct client *bob = subscribed("bob", "req/A");
	struct client *alice = subscribed("alice", "ret/alice/#");
	struct client *mallory = client_connect(&broker, "mallory", true);

	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", "2000"), 0);
	struct msg *request = request_at(bob, "alice");

	struct props_spec forged = {.correlation = f->corr,
		.correlation_len = f->corr ? (uint16_t)strlen(f->corr) : 0,
		USER_PROPS({RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK})};
	if(f->corr && !strcmp(f->corr, THE_TOKEN)){
		forged.correlation = request->correlation;
		forged.correlation_len = request->correlation_len;
	}
	ck_assert_int_eq(client_publish_str(mallory, f->topic, "forged", 1, false, &forged),
			MQTT_RC_NOT_AUTHORIZED);
	assert_logged("refused receipt from 'mallory' on '%s': %s", f->topic, f->why);
	ck_assert(client_quiet(alice, RCPT_QUIET_MS));

	/* The forgery ended nothing: the request is still bob's to answer. */
	answer_reaches(bob, request, alice, "ret/alice/1", "c-1");
	ck_assert(client_quiet(mallory, 0));
	client_free(mallory);
	client_free(alice);
	client_free(bob);
}
END_TEST

/* ---- client ids that are not one topic level ---- */

START_TEST(slash_id_owns_no_return_area)
{
	struct client *ab = client_connect(&broker, "a/b", true);

	/* ret/a/b/# lies in the area of client `a`, not of `a/b`. */
	ck_assert_int_eq(client_subscribe(ab, "ret/a/b/#", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(ab, "ret/a/#", 1), MQTT_RC_NOT_AUTHORIZED);
	assert_logged("refused subscription of 'a/b' to 'ret/a/b/#': not its return area");
	assert_logged("refused subscription of 'a/b' to 'ret/a/#': not its return area");
	client_free(ab);
}
END_TEST

START_TEST(slash_id_request_into_prefix_client_area_is_refused)
{
	struct client *bob = subscribed("bob", "req/A");
	struct client *a = subscribed("a", "ret/a/#");
	struct client *ab = client_connect(&broker, "a/b", true);

	ck_assert_int_eq(publish_request(ab, "req/A", "question", "ret/a/b/x", "c-1", "2000"), MQTT_RC_NOT_AUTHORIZED);
	assert_logged("refused request from 'a/b' on 'req/A': %s", RECEIPTS_REJECT_FOREIGN_RETURN_AREA);

	/* `return-area` cannot name an area for an id that is no topic level. */
	ck_assert_int_eq(ask_by_area(ab), MQTT_RC_NOT_AUTHORIZED);
	assert_logged("refused request from 'a/b' on 'req/A': %s", RECEIPTS_REJECT_BAD_CLIENT_ID);

	/* Neither was delivered, and no `rejected` receipt went into the
	 * area of `a`, which never asked anything. */
	ck_assert(client_quiet(a, RCPT_QUIET_MS));
	ck_assert(client_quiet(bob, 0));
	client_free(ab);
	client_free(a);
	client_free(bob);
}
END_TEST

/* Ids with `+` or `#` are accepted by mosquitto 2.0.11 at CONNECT; they own
 * no return area, and cannot ask for receipts into a private one. */
START_TEST(wildcard_char_ids_own_no_return_area)
{
	static const char *const ids[] = {"c+d", "e#f"};
	struct client *bob = subscribed("bob", "req/A");
	for(size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++){
		struct client *c = client_connect(&broker, ids[i], true);
		char topic[32];
		snprintf(topic, sizeof(topic), "ret/%s/x", ids[i]);
		/* Broker and plugin refuse a Response Topic with wildcards: up to
		 * 2.0.19 the plugin, from 2.0.20 the broker (it disconnects). */
		if(broker_drops_response_topic(topic)){
			ck_assert_int_eq(publish_request(c, "req/A", "question", topic, "c-1", "2000"), -1);
			assert_dropped_for_protocol_error(&broker, c);
			client_free(c);
			c = client_connect(&broker, ids[i], true);
		}else{
			ck_assert_int_eq(publish_request(c, "req/A", "question", topic, "c-1", "2000"),
					MQTT_RC_NOT_AUTHORIZED);
			assert_logged("refused request from '%s' on 'req/A': %s", ids[i], RECEIPTS_REJECT_BAD_RETURN_TOPIC);
		}
		ck_assert_int_eq(ask_by_area(c), MQTT_RC_NOT_AUTHORIZED);
		assert_logged("refused request from '%s' on 'req/A': %s", ids[i], RECEIPTS_REJECT_BAD_CLIENT_ID);
		client_free(c);
	}
	ck_assert(client_quiet(bob, RCPT_QUIET_MS));
	client_free(bob);
}
END_TEST

/* ---- acl_fallback ---- */

/* The acl_file of the `defer` cases, for anonymous clients (top section):
 * it says nothing about ret/. */
static const char acl_text[] =
	"topic readwrite req/#\n"
	"topic readwrite news/#\n"
	"topic write secret/#\n"
	"pattern readwrite own/%c/#\n";

static char acl_dir[64];
static char acl_path[96];

/* The broker's directory is made inside broker_start(), so the acl file
 * lives in a directory of its own. */
static void setup_defer(void)
{
	strcpy(acl_dir, "/tmp/rcpt-it-acl-XXXXXX");
	ck_assert_msg(mkdtemp(acl_dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(acl_path, sizeof(acl_path), "%s/acl", acl_dir);
	FILE *f = fopen(acl_path, "w");
	ck_assert_msg(f != NULL, "open %s: %s", acl_path, strerror(errno));
	fputs(acl_text, f);
	ck_assert_int_eq(fclose(f), 0);

	char conf[192];
	snprintf(conf, sizeof(conf), "plugin_opt_" RECEIPTS_OPT_ACL_FALLBACK " defer\nacl_file %s", acl_path);
	broker_start(&broker, conf);
}

static void teardown_defer(void)
{
	broker_stop(&broker);
	unlink(acl_path);
	rmdir(acl_dir);
}

START_TEST(defer_leaves_other_topics_to_acl_file)
{
	struct client *bob = subscribed("bob", "own/bob/#");
	/* acl_file never refuses a SUBSCRIBE in 2.0.11: it filters at READ. */
	struct client *eve = subscribed("eve", "#");

	ck_assert_int_eq(client_publish_str(bob, "news/x", "granted", 1, false, NULL), 0);
	struct msg *news = next_is(eve, "news/x", "granted");

	/* Written, never read: eve's READ is denied. */
	ck_assert_int_eq(client_publish_str(bob, "secret/x", "hidden", 1, false, NULL), 0);
	/* Not in the file at all: the WRITE is denied. */
	ck_assert_int_eq(client_publish_str(bob, "other/x", "denied", 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	/* One denied WRITE only: secret/x was written. */
	ck_assert(broker_log_wait(&broker, "Denied PUBLISH from bob", LOG_MS));
	ck_assert_int_eq(broker_log_count(&broker, "Denied PUBLISH from"), 1);
	/* A pattern: bob may read his own/bob/, eve may not. */
	ck_assert_int_eq(client_publish_str(bob, "own/bob/x", "mine", 1, false, NULL), 0);
	struct msg *own = next_is(bob, "own/bob/x", "mine");

	ck_assert(client_quiet(eve, RCPT_QUIET_MS));
	ck_assert(client_quiet(bob, 0));
	msg_free(news);
	msg_free(own);
	client_free(eve);
	client_free(bob);
}
END_TEST

START_TEST(defer_keeps_return_areas_private_and_usable)
{
	struct client *bob = subscribed("bob", "req/A");
	/* acl_file says nothing of ret/: the plugin grants alice her area. */
	struct client *alice = subscribed("alice", "ret/alice/#");
	struct client *eve = subscribed("eve", "#");
	struct client *mallory = client_connect(&broker, "mallory", true);

	ck_assert_int_eq(client_subscribe(mallory, "ret/alice/#", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(publish_request(alice, "req/A", "question", "ret/alice/1", "c-1", "2000"), 0);
	struct msg *seen = request_at(eve, "alice");
	answer_reaches(bob, request_at(bob, "alice"), alice, "ret/alice/1", "c-1");

	ck_assert(client_quiet(eve, RCPT_QUIET_MS));
	ck_assert(client_quiet(mallory, 0));
	ck_assert(client_quiet(bob, 0));
	msg_free(seen);
	client_free(mallory);
	client_free(eve);
	client_free(alice);
	client_free(bob);
}
END_TEST

START_TEST(allow_passes_ungoverned_traffic)
{
	struct client *sub = client_connect(&broker, "sub", true);
	ck_assert_int_eq(client_subscribe(sub, "news/#", 2), 2);
	struct client *all = subscribed("all", "#");
	struct client *pub = client_connect(&broker, "pub", true);

	for(int qos = 0; qos <= 2; qos++){
		char payload[8];
		snprintf(payload, sizeof(payload), "q%d", qos);
		ck_assert_int_eq(client_publish_str(pub, "news/x", payload, qos, false, NULL), 0);
		struct msg *m = next_is(sub, "news/x", payload);
		ck_assert_int_eq(m->qos, qos);
		msg_free(m);
		msg_free(next_is(all, "news/x", payload));
	}
	ck_assert_int_eq(client_publish_str(pub, "news/kept", "retained", 1, true, NULL), 0);
	msg_free(next_is(sub, "news/kept", "retained"));
	msg_free(next_is(all, "news/kept", "retained"));
	struct client *late = subscribed("late", "news/kept");
	struct msg *kept = next_is(late, "news/kept", "retained");
	ck_assert(kept->retain);

	ck_assert(client_quiet(sub, RCPT_QUIET_MS));
	ck_assert(client_quiet(all, 0));
	ck_assert(client_quiet(late, 0));
	msg_free(kept);
	client_free(late);
	client_free(pub);
	client_free(all);
	client_free(sub);
}
END_TEST

/* README: with `defer` and no other ACL source, Mosquitto 2.0 denies what
 * every callback defers; the plugin still governs the return areas. */
START_TEST(defer_without_other_source_denies_ungoverned_traffic)
{
	broker_start(&broker, "plugin_opt_" RECEIPTS_OPT_ACL_FALLBACK " defer");
	struct client *c = client_connect(&broker, "carol", true);

	ck_assert_int_eq(client_subscribe(c, "news/#", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_publish_str(c, "news/x", "denied", 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_subscribe(c, "ret/carol/#", 1), 1);
	ck_assert(client_quiet(c, RCPT_QUIET_MS));
	client_free(c);
	broker_stop(&broker);
}
END_TEST

Suite *privacy_suite(void)
{
	Suite *s = suite_create("privacy");

	TCase *tc = harness_tcase("return-areas");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, foreign_return_filter_is_refused, 0,
			(int)(sizeof(foreign_filters) / sizeof(foreign_filters[0])));
	tcase_add_loop_test(tc, own_return_filter_is_granted_and_receives, 0,
			(int)(sizeof(own_filters) / sizeof(own_filters[0])));
	tcase_add_test(tc, wildcard_subscribers_get_traffic_but_not_receipts);
	tcase_add_test(tc, broker_made_receipts_do_not_reach_wildcards);
	tcase_add_loop_test(tc, forged_receipt_is_refused_and_the_real_one_passes, 0,
			(int)(sizeof(forgeries) / sizeof(forgeries[0])));
	tcase_add_test(tc, slash_id_owns_no_return_area);
	tcase_add_test(tc, slash_id_request_into_prefix_client_area_is_refused);
	tcase_add_test(tc, wildcard_char_ids_own_no_return_area);
	tcase_add_test(tc, allow_passes_ungoverned_traffic);
	suite_add_tcase(s, tc);

	TCase *defer = harness_tcase("acl-fallback-defer");
	tcase_add_checked_fixture(defer, setup_defer, teardown_defer);
	tcase_add_test(defer, defer_leaves_other_topics_to_acl_file);
	tcase_add_test(defer, defer_keeps_return_areas_private_and_usable);
	suite_add_tcase(s, defer);

	TCase *bare = harness_tcase("acl-fallback-defer-alone");
	tcase_add_test(bare, defer_without_other_source_denies_ungoverned_traffic);
	suite_add_tcase(s, bare);
	return s;
}
