/* Sessions: what a requester's or responder's leaving does to the requests,
 * through the clean/persistent/taken-over state machine of clients.c. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core_fixture.h"
#include "fake_host.h"
#include "core_parts.h"
#include "sessions.h"
#include "suites.h"

/* A request from requester (clean start as given) delivered to responder. */
static void delivered(const char *requester, bool requester_clean, const char *corr,
		const char *responder, bool responder_clean, unsigned key)
{
	char rt[64];
	snprintf(rt, sizeof(rt), "ret/%s/x", requester);
	struct rcpt_publish m = t_req(requester, "req/A", rt, corr);
	m.sender.clean = requester_clean;
	t_request(core, &m, t_key(key));
	t_read_as(core, t_key(key), "req/A", responder, responder_clean);
	rcpt_core__settle(core);
}

static void seen_publishing(const char *id, bool clean)
{
	struct rcpt_publish m = t_msg(id, "other/topic");
	m.sender.clean = clean;
	ck_assert_int_eq(core_publish(&m).action, RCPT_PASS);
}

static void seen_reading(const char *id, bool clean)
{
	t_read_as(core, t_key(999), "req/Z", id, clean);
}

static struct rcpt_decision answer(const char *responder, const char *requester, const char *corr)
{
	char rt[64];
	snprintf(rt, sizeof(rt), "ret/%s/x", requester);
	struct rcpt_publish a = t_ans(responder, rt, corr, strlen(corr));
	return core_publish(&a);
}

/* A requester's session that ended (or may have) keeps its request: the
 * answer still ends it, and nothing was dropped. */
static void assert_still_answerable(const char *requester, const char *corr)
{
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_ABANDONED], 0);
	struct rcpt_decision d = answer("R", requester, corr);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
}

static void assert_kept(uint64_t pending)
{
	ck_assert_uint_eq(t_stats(core).pending, pending);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_ABANDONED], 0);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}

/* Every record gone once nothing is pending. */
static void assert_no_records(void)
{
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
	ck_assert_uint_eq(rcpt_areas__count(&core->areas), 0);
	ck_assert_uint_eq(rcpt_sessions__unresolved(core), 0);
}

/* ---- requesters ---- */

START_TEST(test_clean_requester_leaves)
{
	delivered("C", true, "c1", "R", true, 0);
	delivered("C", true, "c2", "R", true, 1);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	/* Its session may outlive the connection (clean start with a Session
	 * Expiry Interval): both requests stay, one answered, one timed out. */
	assert_kept(2);
	assert_still_answerable("C", "c1");
	fake_host__advance_ms(30000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c2", 2, 1, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	assert_no_records();
}
END_TEST

/* A clean client's own disconnect flag is not needed to end its session. */
START_TEST(test_clean_requester_leaves_flag_ignored)
{
	delivered("C", true, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	assert_kept(1);
	assert_still_answerable("C", "c1");
	assert_no_records();
}
END_TEST

START_TEST(test_persistent_requester_kept_through_reconnect)
{
	delivered("C", false, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	assert_kept(1);
	rcpt_core__on_disconnect(core, "C", NULL, true);    /* the takeover */
	assert_kept(1);
	seen_publishing("C", false);
	assert_kept(1);
	ck_assert_uint_eq(rcpt_sessions__unresolved(core), 0);
	struct rcpt_decision d = answer("R", "C", "c1");
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	assert_no_records();
}
END_TEST

START_TEST(test_persistent_requester_seen_by_read)
{
	delivered("C", false, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	seen_reading("C", false);
	assert_kept(1);
	ck_assert_uint_eq(rcpt_sessions__unresolved(core), 0);
	/* Back with a clean start: the request is still answered. */
	rcpt_core__on_disconnect(core, "C", NULL, false);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	seen_reading("C", true);
	assert_kept(1);
	assert_still_answerable("C", "c1");
	assert_no_records();
}
END_TEST

START_TEST(test_persistent_requester_back_clean)
{
	delivered("C", false, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	seen_publishing("C", true);
	assert_kept(1);
	assert_still_answerable("C", "c1");
	assert_no_records();
}
END_TEST

/* Offline without a takeover yet, then seen with a clean start. */
START_TEST(test_offline_requester_back_clean)
{
	delivered("C", false, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	seen_publishing("C", true);
	assert_kept(1);
	assert_still_answerable("C", "c1");
	assert_no_records();
}
END_TEST

/* A new connection took the session over and left before it was seen: its
 * own flag decides. */
START_TEST(test_taken_over_then_leaves)
{
	delivered("C", false, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	rcpt_core__on_disconnect(core, "C", NULL, false);
	assert_kept(1);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	assert_kept(1);
	/* Clean again: another takeover or the newer connection leaving with
	 * its own clean flag; the broker does not say which, so nothing ends. */
	rcpt_core__on_disconnect(core, "C", NULL, true);
	assert_kept(1);
	/* The client is seen subscribing with a clean start: its session is
	 * the new, empty one. */
	struct rcpt_client_ref who = {.id = "C", .clean = true};
	rcpt_core__on_subscribe(core, "ret/C/#", &who);
	assert_kept(1);
	ck_assert_uint_eq(rcpt_sessions__unresolved(core), 0);
	assert_still_answerable("C", "c1");
	assert_no_records();
}
END_TEST

/* Online persistent, then a DISCONNECT forced clean by a takeover. */
START_TEST(test_online_persistent_taken_over)
{
	delivered("C", false, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	assert_kept(1);
	seen_publishing("C", false);
	assert_kept(1);
	rcpt_core__on_disconnect(core, "C", NULL, true);
	seen_publishing("C", true);
	assert_kept(1);
	assert_still_answerable("C", "c1");
	assert_no_records();
}
END_TEST

/* ---- responders ---- */

START_TEST(test_clean_responder_leaves)
{
	delivered("C", true, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "R", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_RESPONDER_GONE], 1);
	assert_no_records();
	fake_host__advance_ms(30000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
}
END_TEST

START_TEST(test_one_of_two_responders_leaves)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &m, t_key(0));
	t_read(core, t_key(0), "req/A", "R1");
	t_read(core, t_key(0), "req/A", "R2");
	rcpt_core__on_disconnect(core, "R1", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_ptr_null(rcpt_clients__find(&core->clients, "R1"));
	rcpt_core__on_disconnect(core, "R2", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	assert_no_records();
}
END_TEST

START_TEST(test_remaining_responder_answers)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &m, t_key(0));
	t_read(core, t_key(0), "req/A", "R1");
	t_read(core, t_key(0), "req/A", "R2");
	rcpt_core__on_disconnect(core, "R2", NULL, true);
	/* The one that left may not answer any more, if it ever comes back. */
	struct rcpt_decision d = answer("R2", "C", "c1");
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_str_eq(d.reason, RECEIPTS_UNMATCHED_NOT_DELIVERED);
	d = answer("R1", "C", "c1");
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	assert_no_records();
}
END_TEST

START_TEST(test_persistent_responder_leaves)
{
	delivered("C", true, "c1", "R", false, 0);
	rcpt_core__on_disconnect(core, "R", NULL, false);
	assert_kept(1);
	fake_host__advance_ms(30000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	assert_no_records();
}
END_TEST

/* Its queued request survives a persistent reconnect; it can answer. */
START_TEST(test_persistent_responder_back_persistent)
{
	delivered("C", true, "c1", "R", false, 0);
	rcpt_core__on_disconnect(core, "R", NULL, false);
	rcpt_core__on_disconnect(core, "R", NULL, true);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c1", 2);
	a.sender.clean = false;
	ck_assert_int_eq(core_publish(&a).action, RCPT_RECEIPT);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	assert_no_records();
}
END_TEST

/* Back with a clean start: the queued request went with the old session. */
START_TEST(test_persistent_responder_back_clean)
{
	delivered("C", true, "c1", "R", false, 0);
	rcpt_core__on_disconnect(core, "R", NULL, false);
	rcpt_core__on_disconnect(core, "R", NULL, true);
	seen_reading("R", true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	assert_no_records();
}
END_TEST

START_TEST(test_unknown_client_leaves)
{
	delivered("C", true, "c1", "R", true, 0);
	rcpt_core__on_disconnect(core, "nobody", NULL, true);
	rcpt_core__on_disconnect(core, NULL, NULL, true);
	assert_kept(1);
}
END_TEST

/* A client both requester and responder: leaving ends, as responder-gone,
 * the requests only it received, and keeps its own. */
START_TEST(test_requester_and_responder_leaves)
{
	delivered("C", true, "c1", "R", true, 0);   /* R answers C */
	delivered("R", true, "r1", "C", true, 1);   /* C answers R */
	rcpt_core__on_disconnect(core, "R", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	struct rcpt_stats s = t_stats(core);
	ck_assert_uint_eq(s.totals[RCPT_OUTCOME_ABANDONED], 0);
	ck_assert_uint_eq(s.totals[RCPT_OUTCOME_RESPONDER_GONE], 1);
	ck_assert_uint_eq(s.pending, 1);
	struct rcpt_decision d = answer("C", "R", "r1");
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	assert_no_records();
}
END_TEST

Suite *sessions_suite(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = core_tcase(s, "requester");
	tcase_add_test(tc, test_clean_requester_leaves);
	tcase_add_test(tc, test_clean_requester_leaves_flag_ignored);
	tcase_add_test(tc, test_persistent_requester_kept_through_reconnect);
	tcase_add_test(tc, test_persistent_requester_seen_by_read);
	tcase_add_test(tc, test_persistent_requester_back_clean);
	tcase_add_test(tc, test_offline_requester_back_clean);
	tcase_add_test(tc, test_taken_over_then_leaves);
	tcase_add_test(tc, test_online_persistent_taken_over);

	tc = core_tcase(s, "responder");
	tcase_add_test(tc, test_clean_responder_leaves);
	tcase_add_test(tc, test_one_of_two_responders_leaves);
	tcase_add_test(tc, test_remaining_responder_answers);
	tcase_add_test(tc, test_persistent_responder_leaves);
	tcase_add_test(tc, test_persistent_responder_back_persistent);
	tcase_add_test(tc, test_persistent_responder_back_clean);
	tcase_add_test(tc, test_unknown_client_leaves);
	tcase_add_test(tc, test_requester_and_responder_leaves);
	return s;
}
