/* Receipts: answers matched to pending requests, and everything refused
 * into a private return area or passed on an open one. */
#include <check.h>
#include <string.h>

#include "core_fixture.h"
#include "fake_host.h"
#include "core_parts.h"
#include "suites.h"

/* none: the requester sent no correlation, so the receipt carries none;
 * otherwise the requester's own comes back in place of the token. */
static void expect_receipt(const struct rcpt_publish *m, bool none)
{
	size_t pubs = fake_host__publish_count();
	size_t notices = fake_host__log_count(RCPT_LOG_NOTICE);
	uint64_t ok = t_stats(core).totals[RCPT_OUTCOME_OK];
	struct rcpt_decision d = core_publish(m);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert(none == (d.restore_correlation.len == 0));
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_OK], ok + 1);
	ck_assert_uint_eq(fake_host__publish_count(), pubs);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), notices);
}

/* Refused as unmatched: one NOTICE and nothing else, no receipt sent. */
static void expect_unmatched(const struct rcpt_publish *m, const char *why)
{
	size_t pubs = fake_host__publish_count();
	size_t logs = fake_host__log_total();
	size_t notices = fake_host__log_count(RCPT_LOG_NOTICE);
	struct rcpt_stats before = t_stats(core);
	struct rcpt_decision d = core_publish(m);
	ck_assert_msg(d.action == RCPT_REFUSE, "action %d, expected refusal %s", (int)d.action, why);
	ck_assert_str_eq(d.reason, why);
	ck_assert_uint_eq(fake_host__log_total(), logs + 1);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), notices + 1);
	ck_assert_ptr_nonnull(strstr(fake_host__last_log(RCPT_LOG_NOTICE), why));
	ck_assert_uint_eq(fake_host__publish_count(), pubs);
	struct rcpt_stats after = t_stats(core);
	ck_assert_uint_eq(after.totals[RCPT_OUTCOME_UNMATCHED], before.totals[RCPT_OUTCOME_UNMATCHED] + 1);
	ck_assert_uint_eq(after.pending, before.pending);
}

static void expect_pass(const struct rcpt_publish *m)
{
	size_t logs = fake_host__log_total();
	struct rcpt_decision d = core_publish(m);
	ck_assert_int_eq(d.action, RCPT_PASS);
	ck_assert_uint_eq(fake_host__log_total(), logs);
}

START_TEST(test_answer_from_responder)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c1", 2);
	expect_receipt(&a, false);
	ck_assert_uint_eq(rcpt_areas__count(&core->areas), 0);
	/* Nothing is left to time out. */
	assert_ended_once(RCPT_OUTCOME_OK, 0, 300000);
}
END_TEST

START_TEST(test_answer_with_broker_correlation)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", NULL);
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	unsigned char token[RCPT_TOKEN_LEN];
	ck_assert_uint_eq(d.add_correlation.len, RCPT_TOKEN_LEN);
	memcpy(token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
	t_read(core, t_key(0), "req/A", "R");
	struct rcpt_publish a = t_ans("R", "ret/C/x", token, RCPT_TOKEN_LEN);
	expect_receipt(&a, true);
	fake_host__advance_ms(300000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 0);
}
END_TEST

START_TEST(test_answer_to_return_area)
{
	struct rcpt_publish m = t_req("C", "plant/x", NULL, "c1");
	m.return_area_count = 1;
	m.return_area = "N";
	m.subject_area_count = 1;
	m.subject_area = "A";
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	ck_assert_str_eq(d.new_topic, "req/A");
	/* READ checks see the rewritten topic. */
	t_read(core, t_key(0), "req/A", "R");
	struct rcpt_publish a = t_ans("R", "ret/C/N", "c1", 2);
	expect_receipt(&a, false);
	ck_assert_uint_eq(t_stats(core).pending, 0);
}
END_TEST

START_TEST(test_answer_from_other_client)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	struct rcpt_publish a = t_ans("X", "ret/C/x", "c1", 2);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_DELIVERED);
	/* Not even the requester may answer its own request. */
	a = t_ans("C", "ret/C/x", "c1", 2);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_DELIVERED);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	a = t_ans("R", "ret/C/x", "c1", 2);
	expect_receipt(&a, false);
}
END_TEST

START_TEST(test_answer_wrong_correlation)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c2", 2);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_PENDING);
	a = t_ans("R", "ret/C/x", "c1\0", 3);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_PENDING);
	a = t_ans("R", "ret/C/y", "c1", 2);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_PENDING);
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

START_TEST(test_answer_without_correlation)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	struct rcpt_publish a = t_ans("R", "ret/C/x", NULL, 0);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NO_CORRELATION);
	a = t_ans("R", "ret/C/x", "", 0);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NO_CORRELATION);
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

START_TEST(test_late_answer)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	fake_host__advance_ms(30000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c1", 2);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_PENDING);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_OK], 0);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_TIMEOUT], 1);
}
END_TEST

START_TEST(test_second_answer)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c1", 2);
	expect_receipt(&a, false);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_PENDING);
	struct rcpt_stats s = t_stats(core);
	ck_assert_uint_eq(s.totals[RCPT_OUTCOME_OK], 1);
	ck_assert_uint_eq(s.totals[RCPT_OUTCOME_UNMATCHED], 1);
}
END_TEST

START_TEST(test_open_return_answer)
{
	core_track_open_returns();
	t_delivered(core, "C", "A", "answers/C", "c1", "R", 0);
	ck_assert_uint_eq(core->pending.open_return_count, 1);
	struct rcpt_publish a = t_ans("R", "answers/C", "c1", 2);
	expect_receipt(&a, false);
	ck_assert_uint_eq(core->pending.open_return_count, 0);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	/* Once answered, the same message is ordinary traffic again. */
	expect_pass(&a);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 0);
}
END_TEST

START_TEST(test_open_return_other_traffic_passes)
{
	core_track_open_returns();
	t_delivered(core, "C", "A", "answers/C", "c1", "R", 0);
	struct rcpt_publish a = t_ans("R", "answers/C", "c2", 2);
	expect_pass(&a);
	a = t_ans("R", "answers/C", NULL, 0);
	expect_pass(&a);
	a = t_ans("X", "answers/D", "c1", 2);
	expect_pass(&a);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_UNMATCHED], 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* A matching answer from a client the request never reached is refused even
 * on an open topic: it would end the request without an answer. */
START_TEST(test_open_return_not_delivered)
{
	core_track_open_returns();
	t_delivered(core, "C", "A", "answers/C", "c1", "R", 0);
	struct rcpt_publish a = t_ans("X", "answers/C", "c1", 2);
	expect_unmatched(&a, RECEIPTS_UNMATCHED_NOT_DELIVERED);
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

START_TEST(test_may_concern)
{
	core_track_open_returns();
	ck_assert(rcpt_core__may_concern(core, "req/A", false, false, false));
	ck_assert(rcpt_core__may_concern(core, "req", false, false, false));
	ck_assert(rcpt_core__may_concern(core, "ret/C/x", false, false, false));
	ck_assert(!rcpt_core__may_concern(core, "other/x", false, false, false));
	ck_assert(!rcpt_core__may_concern(core, "requests", false, false, false));
	ck_assert(rcpt_core__may_concern(core, "other/x", true, false, false));
	ck_assert(rcpt_core__may_concern(core, "other/x", false, true, false));
	/* Correlation alone matters only while an open return topic waits. */
	ck_assert(!rcpt_core__may_concern(core, "other/x", false, false, true));
	t_delivered(core, "C", "A", "answers/C", "c1", "R", 0);
	ck_assert(rcpt_core__may_concern(core, "other/x", false, false, true));
	ck_assert(!rcpt_core__may_concern(core, "other/x", false, false, false));
}
END_TEST

Suite *receipts_suite(void)
{
	Suite *s = suite_create("receipts");
	TCase *tc = core_tcase(s, "matched");
	tcase_add_test(tc, test_answer_from_responder);
	tcase_add_test(tc, test_answer_with_broker_correlation);
	tcase_add_test(tc, test_answer_to_return_area);

	tc = core_tcase(s, "unmatched");
	tcase_add_test(tc, test_answer_from_other_client);
	tcase_add_test(tc, test_answer_wrong_correlation);
	tcase_add_test(tc, test_answer_without_correlation);
	tcase_add_test(tc, test_late_answer);
	tcase_add_test(tc, test_second_answer);

	tc = core_tcase(s, "open_return");
	tcase_add_test(tc, test_open_return_answer);
	tcase_add_test(tc, test_open_return_other_traffic_passes);
	tcase_add_test(tc, test_open_return_not_delivered);
	tcase_add_test(tc, test_may_concern);
	return s;
}
