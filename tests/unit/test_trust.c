/* Trust: tokens no client can derive, wills under the prefixes refused,
 * and no broker property set by a client reaching a responder. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "fake_host.h"
#include "core_parts.h"
#include "suites.h"
#include "token.h"

/* ---- tokens ---- */

#define TOKEN_SAMPLE 4096

static int compare_tokens(const void *a, const void *b)
{
	return memcmp(a, b, RCPT_TOKEN_LEN);
}

/* More than a batch of them: every token distinct, none a neighbour of the
 * one before it (as a counter's would be), and the bits balanced. */
START_TEST(test_tokens_distinct_and_unrelated)
{
	static uint8_t t[TOKEN_SAMPLE][RCPT_TOKEN_LEN];
	struct rcpt_token_source src;
	rcpt_token__init(&src);
	unsigned long ones = 0;
	for(int i = 0; i < TOKEN_SAMPLE; i++){
		if(rcpt_token__new(&src, t[i]) != RCPT_OK) ck_abort_msg("no token %d", i);
		for(int b = 0; b < RCPT_TOKEN_LEN; b++) ones += (unsigned long)__builtin_popcount(t[i][b]);
	}
	/* Neighbours in order of making share neither half. */
	int close = 0;
	for(int i = 1; i < TOKEN_SAMPLE; i++){
		close += memcmp(t[i], t[i - 1], 8) == 0 || memcmp(t[i] + 8, t[i - 1] + 8, 8) == 0;
	}
	ck_assert_int_eq(close, 0);
	/* Sorted, equal tokens would sit side by side. */
	qsort(t, TOKEN_SAMPLE, RCPT_TOKEN_LEN, compare_tokens);
	int same = 0;
	for(int i = 1; i < TOKEN_SAMPLE; i++) same += memcmp(t[i], t[i - 1], RCPT_TOKEN_LEN) == 0;
	ck_assert_int_eq(same, 0);
	unsigned long bits = (unsigned long)TOKEN_SAMPLE * RCPT_TOKEN_LEN * 8;
	/* 524288 fair bits: 50% within 0.5% is > 7 standard deviations. */
	ck_assert_uint_gt(ones, bits / 2 - bits / 200);
	ck_assert_uint_lt(ones, bits / 2 + bits / 200);
}
END_TEST

/* Two cores (two broker runs) never hand out the same tokens. */
START_TEST(test_tokens_differ_between_sources)
{
	struct rcpt_token_source a, b;
	rcpt_token__init(&a);
	rcpt_token__init(&b);
	uint8_t x[RCPT_TOKEN_LEN], y[RCPT_TOKEN_LEN];
	ck_assert_int_eq(rcpt_token__new(&a, x), RCPT_OK);
	ck_assert_int_eq(rcpt_token__new(&b, y), RCPT_OK);
	ck_assert(!rcpt_token__equal(x, y));
	ck_assert(rcpt_token__equal(x, x));
	/* A token handed out is wiped from the batch. */
	static const uint8_t zero[RCPT_TOKEN_LEN];
	ck_assert_mem_eq(a.batch, zero, RCPT_TOKEN_LEN);
}
END_TEST

START_TEST(test_token_equal_every_byte)
{
	uint8_t x[RCPT_TOKEN_LEN] = "0123456789abcde";
	for(int i = 0; i < RCPT_TOKEN_LEN; i++){
		uint8_t y[RCPT_TOKEN_LEN];
		memcpy(y, x, sizeof(y));
		y[i] ^= 0x80;
		ck_assert(!rcpt_token__equal(x, y));
	}
}
END_TEST

/* Requests through the core: a token each, and a receipt names its request
 * by token alone, on that request's return topic only. */
START_TEST(test_receipt_matched_by_token_only)
{
	struct rcpt_publish a = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_decision da = t_request(core, &a, t_key(0));
	t_read(core, t_key(0), "req/A", "R");
	struct rcpt_publish b = t_req("D", "req/A", "ret/D/x", NULL);
	struct rcpt_decision db = t_request(core, &b, t_key(1));
	t_read(core, t_key(1), "req/A", "R");
	ck_assert_mem_ne(da.pending->token, db.pending->token, RCPT_TOKEN_LEN);
	uint8_t ta[RCPT_TOKEN_LEN], tb[RCPT_TOKEN_LEN];
	memcpy(ta, da.pending->token, RCPT_TOKEN_LEN);
	memcpy(tb, db.pending->token, RCPT_TOKEN_LEN);

	/* C's correlation itself, D's token on C's topic, a token cut short:
	 * none of them names a request. */
	struct rcpt_publish wrong[] = {
		t_msg("R", "ret/C/x"), t_msg("R", "ret/C/x"), t_msg("R", "ret/C/x"),
	};
	wrong[0].has_correlation = true;
	wrong[0].correlation = (struct rcpt_bytes){"c1", 2};
	wrong[1].has_correlation = true;
	wrong[1].correlation = (struct rcpt_bytes){tb, RCPT_TOKEN_LEN};
	wrong[2].has_correlation = true;
	wrong[2].correlation = (struct rcpt_bytes){ta, RCPT_TOKEN_LEN - 1};
	for(size_t i = 0; i < 3; i++){
		struct rcpt_decision d = core_publish(&wrong[i]);
		ck_assert_int_eq(d.action, RCPT_REFUSE);
		ck_assert_str_eq(d.reason, RECEIPTS_UNMATCHED_NOT_PENDING);
	}
	ck_assert_uint_eq(t_stats(core).pending, 2);

	struct rcpt_publish ok = t_msg("R", "ret/C/x");
	ok.has_correlation = true;
	ok.correlation = (struct rcpt_bytes){ta, RCPT_TOKEN_LEN};
	struct rcpt_decision d = core_publish(&ok);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert_uint_eq(d.restore_correlation.len, 2);
	ck_assert_mem_eq(d.restore_correlation.ptr, "c1", 2);

	struct rcpt_publish ok_d = t_msg("R", "ret/D/x");
	ok_d.has_correlation = true;
	ok_d.correlation = (struct rcpt_bytes){tb, RCPT_TOKEN_LEN};
	d = core_publish(&ok_d);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert_uint_eq(d.restore_correlation.len, 0);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* The token table grows past its first buckets and finds every request,
 * before and after others left it. */
START_TEST(test_token_table_grows_and_finds)
{
	enum { N = 5000 };
	static struct rcpt_pending *made[N];
	for(int i = 0; i < N; i++){
		struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", NULL);
		made[i] = t_request(core, &m, t_key(0)).pending;
		t_read(core, t_key(0), "req/A", "R");
	}
	ck_assert_uint_gt(core->pending.by_token.mask + 1, N / 2);
	int found = 0;
	for(int i = 0; i < N; i++) found += rcpt_pending__find(&core->pending, made[i]->token) == made[i];
	ck_assert_int_eq(found, N);
	for(int i = 0; i < N; i += 2) rcpt_core__request_abort(core, made[i]);
	found = 0;
	for(int i = 1; i < N; i += 2) found += rcpt_pending__find(&core->pending, made[i]->token) == made[i];
	ck_assert_int_eq(found, N / 2);
	ck_assert_uint_eq(core->pending.by_token.count, N / 2);
	ck_assert_uint_eq(t_stats(core).pending, N / 2);
}
END_TEST

/* A broker-made receipt carries the requester's correlation, never the
 * token. */
START_TEST(test_broker_receipt_carries_requesters_correlation)
{
	struct rcpt_publish a = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &a, t_key(0));
	rcpt_core__settle(core);
	struct rcpt_publish b = t_req("C", "req/A", "ret/C/y", NULL);
	t_request(core, &b, t_key(1));
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 2);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
	t_assert_receipt(1, "ret/C/y", NULL, 0, 1, RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
}
END_TEST

/* ---- wills ---- */

static const struct rcpt_client_ref mallory = {.id = "M", .clean = true};
static const struct rcpt_client_ref victim = {.id = "V", .clean = true};

static const char *will_line(void)
{
	return fake_host__last_log(RCPT_LOG_NOTICE);
}

/* The broker sends a dropped connection's will right after its DISCONNECT. */
START_TEST(test_will_after_disconnect_refused_at_write)
{
	rcpt_core__on_disconnect(core, "M", NULL, true);
	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &mallory), RCPT_ACCESS_DENY);
	ck_assert_str_eq(will_line(), "refused will of 'M' on 'ret/V/r': " RECEIPTS_REFUSED_WILL);
	rcpt_core__on_disconnect(core, "M", NULL, true);
	ck_assert_int_eq(rcpt_core__on_write(core, "req/A", &mallory), RCPT_ACCESS_DENY);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 2);
	/* Outside the prefixes it is not ours to judge. */
	rcpt_core__on_disconnect(core, "M", NULL, true);
	ck_assert_int_eq(rcpt_core__on_write(core, "status/M", &mallory), RCPT_ACCESS_FALLBACK);
	/* Another client's write after M's DISCONNECT is a publish. */
	rcpt_core__on_disconnect(core, "M", NULL, true);
	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &victim), RCPT_ACCESS_ALLOW);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 2);
}
END_TEST

/* Sent elsewhere (will delay, takeover, expiry, shutdown): a write no
 * MESSAGE follows, then its READ checks. */
START_TEST(test_will_without_message_refused_at_read)
{
	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &mallory), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/r", false, &victim), RCPT_ACCESS_DENY);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/r", false, &victim), RCPT_ACCESS_DENY);
	/* One line per will, however many subscribers it had. */
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 1);
	ck_assert_str_eq(will_line(), "refused will of 'M' on 'ret/V/r': " RECEIPTS_REFUSED_WILL);

	ck_assert_int_eq(rcpt_core__on_write(core, "req/A", &mallory), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(1), "req/A", false, &victim), RCPT_ACCESS_DENY);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 2);
}
END_TEST

/* A publish: WRITE, then MESSAGE, then its READ checks pass. */
START_TEST(test_publish_confirmed_by_message)
{
	ck_assert_int_eq(rcpt_core__on_write(core, "req/A", &victim), RCPT_ACCESS_FALLBACK);
	struct rcpt_publish m = t_req("V", "req/A", "ret/V/x", "c1");
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	ck_assert_ptr_nonnull(d.pending);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "req/A", false, &mallory), RCPT_ACCESS_FALLBACK);
	ck_assert(rcpt_pending__delivered_to(d.pending, rcpt_clients__find(&core->clients, "M")));
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 0);
}
END_TEST

/* Any other event closes the window: a write that no MESSAGE followed (a
 * later ACL source refused it) cannot taint a later delivery. */
START_TEST(test_window_closed_by_other_events)
{
	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &mallory), RCPT_ACCESS_ALLOW);
	rcpt_core__on_tick(core);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/r", false, &victim), RCPT_ACCESS_ALLOW);

	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &mallory), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(rcpt_core__on_subscribe(core, "x/#", &victim), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/r", false, &victim), RCPT_ACCESS_ALLOW);

	/* A READ of another message: the write reached nobody. */
	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &mallory), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/other", false, &victim), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/r", false, &victim), RCPT_ACCESS_ALLOW);

	/* A DISCONNECT and then another event before the write. */
	rcpt_core__on_disconnect(core, "M", NULL, true);
	rcpt_core__on_tick(core);
	ck_assert_int_eq(rcpt_core__on_write(core, "ret/V/r", &mallory), RCPT_ACCESS_ALLOW);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 0);
}
END_TEST

/* Retained copies under the prefixes reach nobody; elsewhere they are not
 * ours to judge. */
START_TEST(test_retained_under_prefixes_never_delivered)
{
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "ret/V/r", true, &victim), RCPT_ACCESS_DENY);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "req/A", true, &victim), RCPT_ACCESS_DENY);
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "status/x", true, &victim), RCPT_ACCESS_FALLBACK);
	ck_assert_uint_eq(fake_host__log_total(), 0);
}
END_TEST

/* ---- broker properties from a client ---- */

static void expect_refused_plain(struct rcpt_publish *m, const char *reason, const char *line)
{
	size_t notices = fake_host__log_count(RCPT_LOG_NOTICE);
	struct rcpt_decision d = core_publish(m);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_str_eq(d.reason, reason);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), notices + 1);
	ck_assert_str_eq(fake_host__last_log(RCPT_LOG_NOTICE), line);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 0);
}

START_TEST(test_broker_property_without_response_topic_refused)
{
	static const char *const names[] = {RECEIPTS_PROP_REQUESTER, RECEIPTS_PROP_ORIGINAL_TOPIC,
		RECEIPTS_PROP_RECEIPT, RECEIPTS_PROP_REASON};
	for(size_t i = 0; i < 4; i++){
		struct rcpt_publish m = t_msg("M", i % 2 ? "req/A/deeper" : "req/A");
		m.broker_property_count = 1;
		m.broker_property = names[i];
		char line[200];
		snprintf(line, sizeof(line), "refused publish from 'M' on '%s': " RECEIPTS_REFUSED_BROKER_PROPERTY
				" ('%s' is set by the broker only)", m.topic, names[i]);
		expect_refused_plain(&m, RECEIPTS_REFUSED_BROKER_PROPERTY, line);
	}
	/* Outside the request prefix it is ordinary traffic. */
	struct rcpt_publish m = t_msg("M", "status/M");
	m.broker_property_count = 1;
	m.broker_property = RECEIPTS_PROP_REQUESTER;
	ck_assert_int_eq(core_publish(&m).action, RCPT_PASS);
	/* Under it, without them, too. */
	struct rcpt_publish plain = t_msg("M", "req/A");
	ck_assert_int_eq(core_publish(&plain).action, RCPT_PASS);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 4);
}
END_TEST

START_TEST(test_retained_without_response_topic_refused)
{
	struct rcpt_publish m = t_msg("M", "req/A");
	m.retain = true;
	expect_refused_plain(&m, RECEIPTS_REFUSED_RETAINED,
			"refused publish from 'M' on 'req/A': " RECEIPTS_REFUSED_RETAINED);
	struct rcpt_publish elsewhere = t_msg("M", "status/M");
	elsewhere.retain = true;
	ck_assert_int_eq(core_publish(&elsewhere).action, RCPT_PASS);
}
END_TEST

Suite *trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *tokens = core_tcase(s, "tokens");
	tcase_add_test(tokens, test_tokens_distinct_and_unrelated);
	tcase_add_test(tokens, test_tokens_differ_between_sources);
	tcase_add_test(tokens, test_token_equal_every_byte);
	tcase_add_test(tokens, test_receipt_matched_by_token_only);
	tcase_add_test(tokens, test_token_table_grows_and_finds);
	tcase_add_test(tokens, test_broker_receipt_carries_requesters_correlation);
	TCase *wills = core_tcase(s, "wills");
	tcase_add_test(wills, test_will_after_disconnect_refused_at_write);
	tcase_add_test(wills, test_will_without_message_refused_at_read);
	tcase_add_test(wills, test_publish_confirmed_by_message);
	tcase_add_test(wills, test_window_closed_by_other_events);
	tcase_add_test(wills, test_retained_under_prefixes_never_delivered);
	TCase *vouching = core_tcase(s, "vouching");
	tcase_add_test(vouching, test_broker_property_without_response_topic_refused);
	tcase_add_test(vouching, test_retained_without_response_topic_refused);
	return s;
}
