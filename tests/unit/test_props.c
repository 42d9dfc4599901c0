/*
 * props.c against libmosquitto's own property functions, no broker needed.
 *
 * Each test builds a PUBLISH's property list with the public add functions,
 * lets props.c read it and edit it in place as a request or a receipt, and
 * compares the result, node by node through the public readers, with the
 * list the contract asks for: the same list rebuilt by copying every kept
 * property through the public API and appending the broker's additions.
 * It also checks the one thing an in-place edit must never do: hand back a
 * different first node (props.h says why).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "props.h"
#include "receipts.h"
#include "suites.h"

/* A property as the tests describe it. */
struct prop {
	int id;
	const char *name;       /* user properties */
	const char *value;      /* strings, user property values */
	const void *bin;        /* correlation data */
	uint16_t bin_len;
	uint8_t byte;           /* payload format indicator */
};

#define RT(v) {.id = MQTT_PROP_RESPONSE_TOPIC, .value = (v)}
#define CORR(v) {.id = MQTT_PROP_CORRELATION_DATA, .bin = (v), .bin_len = (uint16_t)(sizeof(v) - 1)}
#define USER(n, v) {.id = MQTT_PROP_USER_PROPERTY, .name = (n), .value = (v)}
#define CT(v) {.id = MQTT_PROP_CONTENT_TYPE, .value = (v)}
#define PFI(v) {.id = MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, .byte = (v)}

static mosquitto_property *build(const struct prop *props, size_t n)
{
	mosquitto_property *list = NULL;
	for(size_t i = 0; i < n; i++){
		const struct prop *p = &props[i];
		int rc = MOSQ_ERR_INVAL;
		switch(p->id){
			case MQTT_PROP_RESPONSE_TOPIC:
			case MQTT_PROP_CONTENT_TYPE:
				rc = mosquitto_property_add_string(&list, p->id, p->value);
				break;
			case MQTT_PROP_CORRELATION_DATA:
				rc = mosquitto_property_add_binary(&list, p->id, p->bin, p->bin_len);
				break;
			case MQTT_PROP_USER_PROPERTY:
				rc = mosquitto_property_add_string_pair(&list, p->id, p->name, p->value);
				break;
			case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
				rc = mosquitto_property_add_byte(&list, p->id, p->byte);
				break;
		}
		ck_assert_int_eq(rc, MOSQ_ERR_SUCCESS);
	}
	return list;
}

/* One node, read through the public API, as text: "id name=value". */
static char *describe(const mosquitto_property *p)
{
	int id = mosquitto_property_identifier(p);
	char *name = NULL, *value = NULL, *out = NULL;
	void *bin = NULL;
	uint16_t len = 0;
	uint8_t byte = 0;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d ", id);
	if(id == MQTT_PROP_USER_PROPERTY){
		ck_assert_ptr_nonnull(mosquitto_property_read_string_pair(p, id, &name, &value, false));
		fprintf(f, "%s=%s", name ? name : "", value ? value : "");
	}else if(id == MQTT_PROP_CORRELATION_DATA){
		ck_assert_ptr_nonnull(mosquitto_property_read_binary(p, id, &bin, &len, false));
		for(uint16_t i = 0; i < len; i++) fprintf(f, "%02x", ((unsigned char *)bin)[i]);
	}else if(id == MQTT_PROP_PAYLOAD_FORMAT_INDICATOR){
		ck_assert_ptr_nonnull(mosquitto_property_read_byte(p, id, &byte, false));
		fprintf(f, "%u", byte);
	}else{
		ck_assert_ptr_nonnull(mosquitto_property_read_string(p, id, &value, false));
		fprintf(f, "%s", value ? value : "");
	}
	fclose(f);
	free(name);
	free(value);
	free(bin);
	return out;
}

static void assert_same_list(const mosquitto_property *got, const mosquitto_property *want)
{
	size_t i = 0;
	for(; got && want; got = mosquitto_property_next(got), want = mosquitto_property_next(want), i++){
		char *g = describe(got), *w = describe(want);
		ck_assert_msg(!strcmp(g, w), "property %zu: got '%s', expected '%s'", i, g, w);
		free(g);
		free(w);
	}
	ck_assert_msg(got == NULL, "property %zu: more than expected", i);
	ck_assert_msg(want == NULL, "property %zu: missing", i);
}

/* ---- the reference: copying through the public API ---- */

static bool reserved_on_request(const char *name)
{
	return !strcmp(name, RECEIPTS_PROP_SUBJECT_AREA) || !strcmp(name, RECEIPTS_PROP_RETURN_AREA)
		|| !strcmp(name, RECEIPTS_PROP_REQUESTER) || !strcmp(name, RECEIPTS_PROP_ORIGINAL_TOPIC)
		|| !strcmp(name, RECEIPTS_PROP_RECEIPT) || !strcmp(name, RECEIPTS_PROP_REASON);
}

/* A receipt loses the same names: a requester trusts them as the broker's. */
static bool reserved_on_receipt(const char *name)
{
	return reserved_on_request(name);
}

/* The description of what a list must become: every kept property of in,
 * in order, then the additions. */
static size_t expected(const struct prop *in, size_t n, bool drop_rt, bool drop_corr,
		bool (*reserved)(const char *), const struct prop *add, size_t n_add, struct prop *out)
{
	size_t k = 0;
	for(size_t i = 0; i < n; i++){
		if(in[i].id == MQTT_PROP_RESPONSE_TOPIC && drop_rt) continue;
		if(in[i].id == MQTT_PROP_CORRELATION_DATA && drop_corr) continue;
		if(in[i].id == MQTT_PROP_USER_PROPERTY && reserved(in[i].name)) continue;
		out[k++] = in[i];
	}
	for(size_t i = 0; i < n_add; i++) out[k++] = add[i];
	return k;
}

/* ---- requests ---- */

struct request_case {
	const char *what;
	struct prop in[8];
	size_t n;
	struct rcpt_decision d;
};

static void run_request(const struct request_case *c)
{
	mosquitto_property *list = build(c->in, c->n);
	const mosquitto_property *head = list;

	struct rcpt_publish msg = {0};
	rcpt_props__read(list, &msg);
	ck_assert_int_eq(rcpt_props__apply_request(&list, &c->d), MOSQ_ERR_SUCCESS);
	if(head) ck_assert_msg(list == head, "%s: the first node was replaced", c->what);

	struct prop add[4];
	size_t n_add = 0;
	if(c->d.set_response_topic) add[n_add++] = (struct prop)RT(c->d.set_response_topic);
	if(c->d.add_correlation.len){
		add[n_add++] = (struct prop){.id = MQTT_PROP_CORRELATION_DATA, .bin = c->d.add_correlation.ptr,
			.bin_len = (uint16_t)c->d.add_correlation.len};
	}
	add[n_add++] = (struct prop)USER(RECEIPTS_PROP_REQUESTER, c->d.requester);
	if(c->d.original_topic) add[n_add++] = (struct prop)USER(RECEIPTS_PROP_ORIGINAL_TOPIC, c->d.original_topic);
	struct prop want[16];
	/* The client's correlation always goes: responders get the token. */
	size_t n_want = expected(c->in, c->n, c->d.set_response_topic != NULL, true,
			reserved_on_request, add, n_add, want);
	mosquitto_property *reference = build(want, n_want);
	assert_same_list(list, reference);
	mosquitto_property_free_all(&reference);
	mosquitto_property_free_all(&list);
}

#define REQ(...) {__VA_ARGS__}
static const struct rcpt_decision plain_request = {.action = RCPT_REQUEST, .requester = "alice",
	.add_correlation = {"0123456789abcdef", 16}};

START_TEST(test_request_lists)
{
	static const struct request_case cases[] = {
		{"response topic alone", {RT("ret/alice/1")}, 1, plain_request},
		{"no properties at all", {{0}}, 0, plain_request},
		{"reserved first", {USER("requester", "mallory"), RT("ret/alice/1"), CORR("c1")}, 3, plain_request},
		{"reserved last", {RT("ret/alice/1"), CORR("c1"), USER("receipt", "ok")}, 3, plain_request},
		{"reserved alone", {USER("subject-area", "A")}, 1, plain_request},
		{"reserved repeated", {USER("requester", "m1"), USER("requester", "m2"), RT("ret/alice/1"),
				USER("requester", "m3"), USER("receipt-reason", "x")}, 5, plain_request},
		{"every reserved name", {USER("subject-area", "A"), USER("return-area", "r"), USER("requester", "m"),
				USER("original-topic", "t"), USER("receipt", "ok"), USER("receipt-reason", "x"),
				RT("ret/alice/1")}, 7, plain_request},
		{"others kept in order", {CT("text/plain"), USER("k1", "v1"), PFI(1), RT("ret/alice/1"),
				USER("k2", "v2"), CORR("c1")}, 6, plain_request},
		{"empty values", {USER("", ""), USER("requester", ""), RT("ret/alice/1"), USER("k", "")}, 4, plain_request},
		{"timeout property kept", {USER("receipt-timeout-ms", "500"), RT("ret/alice/1")}, 2, plain_request},
		{"broker correlation, response topic first", {RT("ret/alice/1")}, 1,
			{.action = RCPT_REQUEST, .requester = "alice", .add_correlation = {"\1\2\3\4\5\6\7\10", 8}}},
		{"empty correlation replaced, first", {CORR(""), RT("ret/alice/1")}, 2,
			{.action = RCPT_REQUEST, .requester = "alice", .add_correlation = {"\1\2\3\4\5\6\7\10", 8}}},
		{"return-area: response topic set, area first", {USER("return-area", "inbox"), USER("k", "v")}, 2,
			{.action = RCPT_REQUEST, .requester = "alice", .set_response_topic = "ret/alice/inbox",
				.add_correlation = {"\1\2\3\4\5\6\7\10", 8}}},
		{"re-routed: original topic added", {USER("subject-area", "echo"), RT("ret/alice/1"), CORR("c")}, 3,
			{.action = RCPT_REQUEST, .requester = "alice", .new_topic = "req/echo",
				.original_topic = "devices/42/config", .add_correlation = {"0123456789abcdef", 16}}},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) run_request(&cases[i]);
}
END_TEST

/* ---- receipts ---- */

struct receipt_case {
	const char *what;
	struct prop in[8];
	size_t n;
	const char *restore;   /* the requester's correlation; NULL: it sent none */
};

static void run_receipt(const struct receipt_case *c)
{
	mosquitto_property *list = build(c->in, c->n);
	const mosquitto_property *head = list;
	struct rcpt_bytes restore = {c->restore, c->restore ? strlen(c->restore) : 0};
	ck_assert_int_eq(rcpt_props__apply_receipt(&list, restore), MOSQ_ERR_SUCCESS);
	if(head) ck_assert_msg(list == head, "%s: the first node was replaced", c->what);
	/* Where the token's bytes hold the correlation and nothing but at most
	 * one `receipt: ok` is the broker's, it is written in place (and the
	 * `receipt: ok` appended if missing). */
	size_t corrs = 0, oks = 0, token_len = 0;
	bool other_reserved = false;
	for(size_t i = 0; i < c->n; i++){
		if(c->in[i].id == MQTT_PROP_CORRELATION_DATA){
			corrs++;
			token_len = c->in[i].bin_len;
		}else if(c->in[i].id == MQTT_PROP_USER_PROPERTY){
			if(!strcmp(c->in[i].name, RECEIPTS_PROP_RECEIPT) && !strcmp(c->in[i].value, RECEIPTS_STATUS_OK)) oks++;
			else if(reserved_on_receipt(c->in[i].name)) other_reserved = true;
		}
	}
	if(c->restore && corrs == 1 && restore.len <= token_len && !other_reserved && oks <= 1){
		struct prop want[16];
		for(size_t i = 0; i < c->n; i++){
			want[i] = c->in[i];
			if(want[i].id == MQTT_PROP_CORRELATION_DATA){
				want[i].bin = c->restore;
				want[i].bin_len = (uint16_t)restore.len;
			}
		}
		size_t n_want = c->n;
		if(oks == 0) want[n_want++] = (struct prop)USER(RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK);
		mosquitto_property *reference = build(want, n_want);
		assert_same_list(list, reference);
		mosquitto_property_free_all(&reference);
		mosquitto_property_free_all(&list);
		return;
	}
	struct prop add[2];
	size_t n_add = 0;
	if(c->restore){
		add[n_add++] = (struct prop){.id = MQTT_PROP_CORRELATION_DATA, .bin = c->restore,
			.bin_len = (uint16_t)restore.len};
	}
	add[n_add++] = (struct prop)USER(RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK);
	struct prop want[16];
	size_t n_want = expected(c->in, c->n, false, true, reserved_on_receipt, add, n_add, want);
	mosquitto_property *reference = build(want, n_want);
	assert_same_list(list, reference);
	mosquitto_property_free_all(&reference);
	mosquitto_property_free_all(&list);
}

START_TEST(test_receipt_lists)
{
	static const struct receipt_case cases[] = {
		{"token replaced by the requester's correlation", {CORR("0123456789abcdef")}, 1, "c1"},
		{"token taken off (mosquitto_rr)", {CORR("0123456789abcdef")}, 1, NULL},
		{"no properties at all", {{0}}, 0, "c1"},
		{"forged receipt first", {USER("receipt", "ok"), CORR("0123456789abcdef")}, 2, "c1"},
		{"forged reason last", {CORR("0123456789abcdef"), USER("k", "v"), USER("receipt-reason", "x")}, 3, "c1"},
		{"forged receipts repeated around the token", {USER("receipt", "a"), USER("receipt", "b"),
				CORR("0123456789abcdef"), USER("receipt", "c")}, 4, NULL},
		{"forged requester and request properties", {USER("requester", "r"), USER("subject-area", "A"),
				CORR("0123456789abcdef")}, 3, "c1"},
		{"others kept in order", {CT("application/json"), PFI(1), CORR("0123456789abcdef"), USER("k", "")}, 4, NULL},
		{"correlation in place, others kept in order", {CT("application/json"), CORR("0123456789abcdef"),
				USER("k", "")}, 3, "c1"},
		{"correlation longer than the token", {CORR("0123456789abcdef")}, 1, "0123456789abcdefXYZ"},
		{"two tokens", {CORR("0123456789abcdef"), CORR("0123456789abcdef")}, 2, "c1"},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) run_receipt(&cases[i]);
}
END_TEST

/* ---- reading ---- */

START_TEST(test_read_counts_and_first_values)
{
	static const struct prop in[] = {
		USER("subject-area", "A"), USER("subject-area", "B"), RT("ret/alice/1"), CORR("c\0d"),
		USER("return-area", "r1"), USER("receipt-timeout-ms", "500"), USER("receipt-timeout-ms", "9"),
		USER("other", "x"),
	};
	mosquitto_property *list = build(in, sizeof(in) / sizeof(in[0]));
	struct rcpt_publish msg = {0};
	rcpt_props__read(list, &msg);
	ck_assert(msg.has_response_topic);
	ck_assert_str_eq(msg.response_topic, "ret/alice/1");
	ck_assert(msg.has_correlation);
	ck_assert_uint_eq(msg.correlation.len, 3);
	ck_assert_mem_eq(msg.correlation.ptr, "c\0d", 3);
	ck_assert_uint_eq(msg.subject_area_count, 2);
	ck_assert_str_eq(msg.subject_area, "A");
	ck_assert_uint_eq(msg.return_area_count, 1);
	ck_assert_str_eq(msg.return_area, "r1");
	ck_assert_uint_eq(msg.timeout_count, 2);
	ck_assert_str_eq(msg.timeout, "500");

	struct rcpt_props_scan scan;
	rcpt_props__scan(list, &scan);
	ck_assert(scan.has_response_topic && scan.has_correlation && scan.has_user_properties);
	rcpt_props__scan(NULL, &scan);
	ck_assert(!scan.has_response_topic && !scan.has_correlation && !scan.has_user_properties);
	mosquitto_property_free_all(&list);
}
END_TEST

START_TEST(test_broker_made_receipt)
{
	struct rcpt_receipt_out r = {.topic = "ret/a/1", .correlation = {"c1", 2}, .qos = 1,
		.status = RECEIPTS_STATUS_TIMEOUT, .reason = RECEIPTS_REASON_DEADLINE};
	mosquitto_property *list = NULL;
	ck_assert_int_eq(rcpt_props__receipt(&r, &list), MOSQ_ERR_SUCCESS);
	static const struct prop want[] = {CORR("c1"), USER("receipt", "timeout"), USER("receipt-reason", "deadline-passed")};
	mosquitto_property *reference = build(want, 3);
	assert_same_list(list, reference);
	mosquitto_property_free_all(&reference);
	mosquitto_property_free_all(&list);

	/* No correlation of the requester's, no reason: just the status. */
	r.correlation.len = 0;
	r.reason = NULL;
	ck_assert_int_eq(rcpt_props__receipt(&r, &list), MOSQ_ERR_SUCCESS);
	static const struct prop want2[] = {USER("receipt", "timeout")};
	reference = build(want2, 1);
	assert_same_list(list, reference);
	mosquitto_property_free_all(&reference);
	mosquitto_property_free_all(&list);
}
END_TEST

/* In a network of brokers: what a peer vouched for stays in place, a
 * shorter timeout is written over the one sent, the requester's broker and
 * the routed return topic are added. */
START_TEST(test_request_lists_in_a_network)
{
	static const struct prop from_peer[] = {RT("ret/@edge-a/alice/r"), CORR("tok"), USER("requester", "alice"),
		USER("requester-broker", "edge-a"), USER("receipt-timeout-ms", "5000"), CT("text/plain")};
	static const struct prop want_peer[] = {USER("requester", "alice"), USER("requester-broker", "edge-a"),
		USER("receipt-timeout-ms", "4900"), CT("text/plain"), RT("ret/@core/@edge-a/alice/r"), CORR("0123456789abcdef")};
	struct rcpt_decision d = {.action = RCPT_REQUEST, .requester = "alice", .requester_broker = "edge-a",
		.keep_vouched = true, .set_timeout = "4900", .set_response_topic = "ret/@core/@edge-a/alice/r",
		.add_correlation = {"0123456789abcdef", 16}};
	mosquitto_property *list = build(from_peer, 6), *want = build(want_peer, 6);
	ck_assert_int_eq(rcpt_props__apply_request(&list, &d), MOSQ_ERR_SUCCESS);
	assert_same_list(list, want);
	mosquitto_property_free_all(&list);
	mosquitto_property_free_all(&want);

	/* From a client: its own vouching replaced, a timeout added. */
	static const struct prop from_client[] = {RT("ret/alice/r"), USER("requester-broker", "forged")};
	static const struct prop want_client[] = {RT("ret/@edge-a/alice/r"), USER("requester", "alice"),
		USER("requester-broker", "edge-a"), USER("receipt-timeout-ms", "29900")};
	struct rcpt_decision c = {.action = RCPT_REQUEST, .requester = "alice", .requester_broker = "edge-a",
		.set_timeout = "29900", .set_response_topic = "ret/@edge-a/alice/r"};
	list = build(from_client, 2);
	want = build(want_client, 4);
	ck_assert_int_eq(rcpt_props__apply_request(&list, &c), MOSQ_ERR_SUCCESS);
	/* the first node stays first: it took over the content of the next,
	 * the first of the additions */
	assert_same_list(list, want);
	mosquitto_property_free_all(&list);
	mosquitto_property_free_all(&want);
}
END_TEST

/* requester-user is vouched like requester: read from a peer, kept in
 * place with the others; a client's own is taken off and the broker's
 * added (none when the requester has no username). */
START_TEST(test_requester_user_vouched_in_lists)
{
	static const struct prop from_peer[] = {RT("ret/@edge-a/alice/r"), USER("requester", "alice"),
		USER("requester-user", "alice-user"), USER("requester-broker", "edge-a")};
	mosquitto_property *list = build(from_peer, 4);
	struct rcpt_publish msg = {0};
	rcpt_props__read(list, &msg);
	ck_assert_uint_eq(msg.broker_property_count, 3);
	ck_assert_str_eq(msg.requester_user, "alice-user");
	static const struct prop want_peer[] = {USER("requester", "alice"), USER("requester-user", "alice-user"),
		USER("requester-broker", "edge-a"), RT("ret/@core/@edge-a/alice/r")};
	struct rcpt_decision d = {.action = RCPT_REQUEST, .requester = "alice", .requester_user = "alice-user",
		.requester_broker = "edge-a", .keep_vouched = true, .set_response_topic = "ret/@core/@edge-a/alice/r"};
	mosquitto_property *want = build(want_peer, 4);
	ck_assert_int_eq(rcpt_props__apply_request(&list, &d), MOSQ_ERR_SUCCESS);
	assert_same_list(list, want);
	mosquitto_property_free_all(&list);
	mosquitto_property_free_all(&want);

	static const struct prop from_client[] = {RT("ret/mallory/r"), USER("requester-user", "alice-user")};
	static const struct prop want_client[] = {RT("ret/@core/mallory/r"), USER("requester", "mallory"),
		USER("requester-broker", "core")};
	struct rcpt_decision c = {.action = RCPT_REQUEST, .requester = "mallory", .requester_broker = "core",
		.set_response_topic = "ret/@core/mallory/r"};
	list = build(from_client, 2);
	want = build(want_client, 3);
	ck_assert_int_eq(rcpt_props__apply_request(&list, &c), MOSQ_ERR_SUCCESS);
	assert_same_list(list, want);
	mosquitto_property_free_all(&list);
	mosquitto_property_free_all(&want);
}
END_TEST

/* A receipt back from a peer broker: one `receipt: ok`, a token as long
 * as the correlation restored: written in place, nothing else changes. */
START_TEST(test_receipt_from_a_peer_in_place)
{
	static const struct prop in[] = {CT("text/plain"), CORR("0123456789abcdef"), USER("receipt", "ok")};
	static const struct prop want[] = {CT("text/plain"), CORR("fedcba9876543210"), USER("receipt", "ok")};
	mosquitto_property *list = build(in, 3), *want_list = build(want, 3);
	const mosquitto_property *head = list;
	ck_assert_int_eq(rcpt_props__apply_receipt(&list, (struct rcpt_bytes){"fedcba9876543210", 16}), MOSQ_ERR_SUCCESS);
	ck_assert_ptr_eq(list, head);
	assert_same_list(list, want_list);
	mosquitto_property_free_all(&list);
	mosquitto_property_free_all(&want_list);
	/* Another length, or a second broker property: the general edit. */
	static const struct prop in2[] = {CORR("0123456789abcdef"), USER("receipt", "ok"), USER("requester", "x")};
	static const struct prop want2[] = {CORR("c1"), USER("receipt", "ok")};
	list = build(in2, 3);
	want_list = build(want2, 2);
	ck_assert_int_eq(rcpt_props__apply_receipt(&list, (struct rcpt_bytes){"c1", 2}), MOSQ_ERR_SUCCESS);
	assert_same_list(list, want_list);
	mosquitto_property_free_all(&list);
	mosquitto_property_free_all(&want_list);
}
END_TEST

START_TEST(test_layout_recognised)
{
	/* libmosquitto's lists are laid out as the broker's: the start-up
	 * check passes on them (it refuses to start the plugin otherwise). */
	ck_assert(rcpt_props__layout_ok());
}
END_TEST

Suite *props_suite(void)
{
	Suite *s = suite_create("props");
	TCase *tc = tcase_create("in-place");
	tcase_add_test(tc, test_layout_recognised);
	tcase_add_test(tc, test_read_counts_and_first_values);
	tcase_add_test(tc, test_request_lists);
	tcase_add_test(tc, test_request_lists_in_a_network);
	tcase_add_test(tc, test_requester_user_vouched_in_lists);
	tcase_add_test(tc, test_receipt_from_a_peer_in_place);
	tcase_add_test(tc, test_receipt_lists);
	tcase_add_test(tc, test_broker_made_receipt);
	suite_add_tcase(s, tc);
	return s;
}
