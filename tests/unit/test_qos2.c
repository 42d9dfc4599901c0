/* QoS 2: answers that wait for their PUBREL, and requests whose receipt was
 * given before their PUBREL (tombstones). Every test asserts that the
 * requester gets exactly one receipt. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core_fixture.h"
#include "core_parts.h"
#include "fake_host.h"
#include "suites.h"

#define ANSWER_KEY 40

static void settled(void)
{
	rcpt_core__settle(core);
}

/* C's QoS 1 request delivered to R (clean as given). */
static void delivered_to(const char *responder, bool clean)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &m, t_key(0));
	t_read_as(core, t_key(0), "req/A", responder, clean);
	settled();
}

/* Whether the responder's connections have clean start. */
static bool responder_clean = true;

/* responder's QoS 2 answer with payload; stored as key when accepted. */
static struct rcpt_decision answers(const char *responder, const char *payload, unsigned key)
{
	struct rcpt_publish a = t_ans(responder, "ret/C/x", "c1", 2);
	a.sender.clean = responder_clean;
	a.qos = 2;
	a.payload.ptr = payload;
	a.payload.len = strlen(payload);
	struct rcpt_decision d = core_publish(&a);
	if(d.action == RCPT_RECEIPT) rcpt_core__answer_stored(core, &d, t_key(key), "ret/C/x");
	return d;
}

/* The PUBREL of the answer stored as key: C's READ check of it. */
static enum rcpt_access released_to_c(unsigned key)
{
	struct rcpt_client_ref c = {.id = "C", .clean = true};
	return rcpt_core__on_read(core, t_key(key), "ret/C/x", false, &c);
}

static uint64_t total(enum rcpt_outcome o)
{
	return t_stats(core).totals[o];
}

/* ---- answers ---- */

START_TEST(test_answer_ends_at_pubrel)
{
	delivered_to("R", true);
	struct rcpt_decision d = answers("R", "a", ANSWER_KEY);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert_ptr_nonnull(d.pending);
	/* Not over until the PUBREL delivers it. */
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_int_eq(released_to_c(ANSWER_KEY), RCPT_ACCESS_ALLOW);
	ck_assert_uint_eq(total(RCPT_OUTCOME_OK), 1);
	assert_ended_once(RCPT_OUTCOME_OK, 0, 30000);
}
END_TEST

/* PUBREC lost: the responder sends the same answer again (DUP). */
START_TEST(test_resent_answer_accepted_again)
{
	responder_clean = false;
	delivered_to("R", false);
	answers("R", "a", ANSWER_KEY);
	rcpt_core__on_disconnect(core, "R", NULL, false);   /* persistent: its session lives */
	struct rcpt_decision d = answers("R", "a", ANSWER_KEY + 1);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert_ptr_null(d.pending);
	ck_assert_uint_eq(total(RCPT_OUTCOME_UNMATCHED), 0);
	/* The broker held the first copy: its PUBREL ends the request. */
	ck_assert_int_eq(released_to_c(ANSWER_KEY), RCPT_ACCESS_ALLOW);
	responder_clean = true;
	assert_ended_once(RCPT_OUTCOME_OK, 0, 30000);
}
END_TEST

START_TEST(test_other_answer_while_one_waits)
{
	delivered_to("R", true);
	answers("R", "a", ANSWER_KEY);
	struct rcpt_decision d = answers("R", "different", ANSWER_KEY + 1);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_str_eq(d.reason, RECEIPTS_UNMATCHED_ALREADY_ANSWERED);
	struct rcpt_publish q1 = t_ans("R", "ret/C/x", "c1", 2);
	d = core_publish(&q1);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_int_eq(released_to_c(ANSWER_KEY), RCPT_ACCESS_ALLOW);
	assert_ended_once(RCPT_OUTCOME_OK, 0, 30000);
}
END_TEST

/* The responder's clean session ends before its PUBREL: the request ends
 * responder-gone, and a PUBREL after all is held back. */
START_TEST(test_responder_gone_before_pubrel)
{
	delivered_to("R", true);
	answers("R", "a", ANSWER_KEY);
	rcpt_core__on_disconnect(core, "R", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	ck_assert_int_eq(released_to_c(ANSWER_KEY), RCPT_ACCESS_DENY);
	assert_ended_once(RCPT_OUTCOME_RESPONDER_GONE, 1, 30000);
}
END_TEST

START_TEST(test_timeout_before_pubrel)
{
	delivered_to("R", false);
	answers("R", "a", ANSWER_KEY);
	fake_host__advance_ms(30000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_TIMEOUT);
	ck_assert_int_eq(released_to_c(ANSWER_KEY), RCPT_ACCESS_DENY);
	ck_assert_uint_eq(total(RCPT_OUTCOME_OK), 0);
	/* Other messages to C pass as before. */
	ck_assert_int_eq(released_to_c(ANSWER_KEY + 7), RCPT_ACCESS_ALLOW);
}
END_TEST

/* ---- requests ---- */

static struct rcpt_publish qos2_request(const char *payload, const char *corr)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", corr);
	m.qos = 2;
	m.payload.ptr = payload;
	m.payload.len = strlen(payload);
	return m;
}

/* No PUBREL within the grace period: no-responders. The PUBREL after all
 * delivers it to nobody, and the same PUBLISH again is no new request. */
START_TEST(test_late_pubrel_and_resend_after_verdict)
{
	struct rcpt_publish m = qos2_request("q", _i ? NULL : "c1");
	t_request(core, &m, t_key(0));
	fake_host__advance_ms(core->cfg.qos2_release_grace_ms);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_NO_RESPONDERS);

	struct rcpt_client_ref r = {.id = "R", .clean = true};
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "req/A", false, &r), RCPT_ACCESS_DENY);
	struct rcpt_decision d = core_publish(&m);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_str_eq(d.reason, RECEIPTS_REJECT_RESENT);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_uint_eq(t_stats(core).pending, 0);

	/* Another request (other payload) is one. */
	struct rcpt_publish other = qos2_request("other", _i ? NULL : "c1");
	t_request(core, &other, t_key(1));
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

START_TEST(test_grace_is_the_option)
{
	const char *const opts[] = {RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS, "1500", NULL};
	core_recreate(opts);
	struct rcpt_publish m = qos2_request("q", "c1");
	t_request(core, &m, t_key(0));
	fake_host__advance_ms(1499);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	/* A PUBREL in time: delivered, no verdict. */
	t_read(core, t_key(0), "req/A", "R");
	fake_host__advance_ms(5000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

/* Cancelled before its PUBREL: the late PUBREL delivers it to nobody. */
START_TEST(test_cancel_before_pubrel)
{
	struct rcpt_publish m = qos2_request("q", "c1");
	t_request(core, &m, t_key(0));
	const char *cmd = "{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"C\",\"all\":true}]}";
	rcpt_core__on_control(core, "ctl", cmd, strlen(cmd));
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	struct rcpt_client_ref r = {.id = "R", .clean = true};
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "req/A", false, &r), RCPT_ACCESS_DENY);
	r.id = "R2";
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(0), "req/A", false, &r), RCPT_ACCESS_DENY);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
}
END_TEST

START_TEST(test_tombstones_bounded)
{
	struct rcpt_message_ref m = rcpt_qos2__message(t_key(0), "req/A");
	rcpt_qos2__tombstone(&core->qos2, &m, 7);
	for(unsigned i = 1; i < RCPT_TOMBSTONES_MAX + 10; i++){
		struct rcpt_message_ref o = rcpt_qos2__message(t_key(i % 1000 + 1), "req/B");
		rcpt_qos2__tombstone(&core->qos2, &o, 1000 + i);
	}
	ck_assert_uint_eq(rcpt_qos2__tombstones(&core->qos2), RCPT_TOMBSTONES_MAX);
	ck_assert(!rcpt_qos2__is_tombstoned(&core->qos2, &m));
	ck_assert(!rcpt_qos2__is_resent(&core->qos2, 7));
	ck_assert(rcpt_qos2__is_resent(&core->qos2, 1000 + RCPT_TOMBSTONES_MAX));
}
END_TEST

Suite *qos2_suite(void)
{
	Suite *s = suite_create("qos2");
	TCase *tc = core_tcase(s, "answers");
	tcase_add_test(tc, test_answer_ends_at_pubrel);
	tcase_add_test(tc, test_resent_answer_accepted_again);
	tcase_add_test(tc, test_other_answer_while_one_waits);
	tcase_add_test(tc, test_responder_gone_before_pubrel);
	tcase_add_test(tc, test_timeout_before_pubrel);
	tc = core_tcase(s, "requests");
	tcase_add_loop_test(tc, test_late_pubrel_and_resend_after_verdict, 0, 2);
	tcase_add_test(tc, test_grace_is_the_option);
	tcase_add_test(tc, test_cancel_before_pubrel);
	tcase_add_test(tc, test_tombstones_bounded);
	return s;
}
