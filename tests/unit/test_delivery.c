/* Which subscribers a request reached, and the receipts the broker makes
 * when nobody got it or nobody answered in time. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_fixture.h"
#include "fake_host.h"
#include "core_parts.h"
#include "suites.h"

static void assert_no_responders(size_t i, const char *topic, const char *corr, uint8_t qos)
{
	t_assert_receipt(i, topic, corr, corr ? strlen(corr) : 0, qos,
			RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
}

/* ---- QoS 0 and 1: settled at the next event ---- */

START_TEST(test_nobody_reached)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &m, t_key(0));
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	assert_no_responders(0, "ret/C/x", "c1", 1);
	/* Exactly one: nothing more at the timeout. */
	assert_ended_once(RCPT_OUTCOME_NO_RESPONDERS, 1, 30000);
}
END_TEST

/* Any event ends the READ checks of the request before it. */
START_TEST(test_nobody_reached_each_event)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	m.qos = 0;
	t_request(core, &m, t_key(0));
	struct rcpt_publish other = t_msg("Z", "other/topic");
	struct rcpt_decision d;
	switch(_i){
		case 0: rcpt_core__settle(core); break;
		case 1: rcpt_core__on_publish(core, &other, &d); t_note(&d); ck_assert_int_eq(d.action, RCPT_PASS); break;
		case 2: rcpt_core__on_disconnect(core, "Z", NULL, true); break;
		case 3: rcpt_core__on_disconnect(core, NULL, NULL, true); break;
		case 4: rcpt_core__on_tick(core); break;
	}
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	assert_no_responders(0, "ret/C/x", "c1", 0);
	ck_assert_uint_eq(t_stats(core).pending, 0);
}
END_TEST

START_TEST(test_nobody_reached_broker_correlation)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", NULL);
	t_request(core, &m, t_key(0));
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	assert_no_responders(0, "ret/C/x", NULL, 1);
}
END_TEST

START_TEST(test_reached_one)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	struct rcpt_pending *p = d.pending;
	t_read(core, t_key(0), "req/A", "R");
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	struct rcpt_client *r = rcpt_clients__find(&core->clients, "R");
	ck_assert_ptr_nonnull(r);
	ck_assert(rcpt_pending__delivered_to(p, r));
	ck_assert_uint_eq(p->live_deliveries, 1);
	ck_assert_int_eq(p->track_state, RCPT_TRACK_SETTLED);
}
END_TEST

/* A READ check counts only for the message it names: same key and topic. */
START_TEST(test_read_of_other_message)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &m, t_key(0));
	t_read(core, t_key(1), "req/A", "R");        /* another message */
	t_read(core, t_key(0), "req/B", "R");        /* a reused key */
	t_read(core, t_key(0), "req/AA", "R");
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	assert_no_responders(0, "ret/C/x", "c1", 1);
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
}
END_TEST

START_TEST(test_two_requests_one_iteration)
{
	struct rcpt_publish a = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_publish b = t_req("D", "req/A", "ret/D/x", "c2");
	/* Both stored before any READ check, as with two messages in one
	 * loop iteration. */
	struct rcpt_decision d;
	rcpt_core__on_publish(core, &a, &d); t_note(&d);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	rcpt_core__request_stored(core, d.pending, t_key(0), "req/A");
	rcpt_core__on_publish(core, &b, &d); t_note(&d);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	/* a got no READ check before b's event: it reached nobody. */
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	assert_no_responders(0, "ret/C/x", "c1", 1);
	rcpt_core__request_stored(core, d.pending, t_key(1), "req/A");
	t_read(core, t_key(1), "req/A", "R");
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

START_TEST(test_same_responder_twice)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	struct rcpt_pending *p = d.pending;
	t_read(core, t_key(0), "req/A", "R");
	t_read(core, t_key(0), "req/A", "R");        /* two matching subscriptions */
	t_read(core, t_key(0), "req/A", "S");
	ck_assert_uint_eq(p->live_deliveries, 2);
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* ---- QoS 2: READ checks come at PUBREL ---- */

START_TEST(test_qos2_never_released)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	m.qos = 2;
	t_request(core, &m, t_key(0));
	rcpt_core__settle(core);
	rcpt_core__on_tick(core);
	fake_host__advance_ms(core->cfg.qos2_release_grace_ms - 1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	fake_host__advance_ms(1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	assert_no_responders(0, "ret/C/x", "c1", 2);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(rcpt_tracking__waiting(&core->tracking), 0);
}
END_TEST

START_TEST(test_qos2_released)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	m.qos = 2;
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	struct rcpt_pending *p = d.pending;
	fake_host__advance_ms(500);
	rcpt_core__on_tick(core);
	t_read(core, t_key(0), "req/A", "R");        /* PUBREL */
	t_read(core, t_key(0), "req/A", "S");
	fake_host__advance_ms(500);
	rcpt_core__on_tick(core);
	ck_assert_int_eq(p->track_state, RCPT_TRACK_SETTLED);
	fake_host__advance_ms(10000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	fake_host__advance_ms(30000 - 11000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 2, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
}
END_TEST

/* A PUBLISH sent again before PUBREL is the same request. */
START_TEST(test_qos2_retransmission)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	m.qos = 2;
	t_request(core, &m, t_key(0));
	fake_host__advance_ms(200);
	struct rcpt_decision d = core_publish(&m);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	ck_assert_ptr_null(d.pending);
	ck_assert_str_eq(d.requester, "C");
	/* Rewritten as the first copy was: the same token. */
	ck_assert_uint_eq(d.add_correlation.len, RCPT_TOKEN_LEN);
	ck_assert_mem_eq(d.add_correlation.ptr, t_token_of("ret/C/x", "c1", 2), RCPT_TOKEN_LEN);
	rcpt_core__request_stored(core, d.pending, t_key(0), "req/A");
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_REJECTED], 0);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 0);

	t_read(core, t_key(0), "req/A", "R");
	rcpt_core__settle(core);
	/* Released and settled: the broker has forgotten the message id, and
	 * a copy sent now is a request of its own, with its own token. */
	d = core_publish(&m);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	ck_assert_ptr_nonnull(d.pending);
	rcpt_core__request_abort(core, d.pending);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).pending, 1);
}
END_TEST

START_TEST(test_qos2_retransmission_broker_correlation)
{
	struct rcpt_publish m = t_req("C", "req/A", NULL, NULL);
	m.qos = 2;
	m.return_area_count = 1;
	m.return_area = "N";
	struct rcpt_decision d = t_request(core, &m, t_key(0));
	unsigned char token[RCPT_TOKEN_LEN];
	ck_assert_uint_eq(d.add_correlation.len, RCPT_TOKEN_LEN);
	memcpy(token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
	d = core_publish(&m);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	ck_assert_ptr_null(d.pending);
	/* Rewritten as the first copy was. */
	ck_assert_str_eq(d.set_response_topic, "ret/C/N");
	ck_assert_uint_eq(d.add_correlation.len, RCPT_TOKEN_LEN);
	ck_assert_mem_eq(d.add_correlation.ptr, token, RCPT_TOKEN_LEN);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

START_TEST(test_qos2_other_payload)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	m.qos = 2;
	t_request(core, &m, t_key(0));
	struct rcpt_publish changed = m;
	changed.payload.ptr = "other";
	changed.payload.len = 5;
	/* Another payload is another message: a request of its own. */
	struct rcpt_decision d = t_request(core, &changed, t_key(3));
	ck_assert_ptr_nonnull(d.pending);
	/* Without a correlation too. */
	struct rcpt_publish n = t_req("C", "req/A", "ret/C/x", NULL);
	n.qos = 2;
	t_request(core, &n, t_key(1));
	n.payload = changed.payload;
	d = t_request(core, &n, t_key(2));
	ck_assert_ptr_nonnull(d.pending);
	ck_assert_uint_eq(t_stats(core).pending, 4);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* ---- timeouts ---- */

START_TEST(test_timeout)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	fake_host__advance_ms(29999);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	fake_host__advance_ms(1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	assert_ended_once(RCPT_OUTCOME_TIMEOUT, 1, 100000);
}
END_TEST

START_TEST(test_timeout_custom_and_broker_correlation)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", NULL);
	m.timeout_count = 1;
	m.timeout = "250";
	m.qos = 0;
	t_request(core, &m, t_key(0));
	t_read(core, t_key(0), "req/A", "R");
	fake_host__advance_ms(249);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	fake_host__advance_ms(1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", NULL, 0, 0, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
}
END_TEST

/* Earlier deadlines fire first whatever the order of the requests. */
START_TEST(test_timeouts_in_deadline_order)
{
	const char *timeouts[] = {"300", "100", "200"};
	for(unsigned i = 0; i < 3; i++){
		char corr[8];
		snprintf(corr, sizeof(corr), "c%u", i);
		struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", corr);
		m.timeout_count = 1;
		m.timeout = timeouts[i];
		t_request(core, &m, t_key(i));
		t_read(core, t_key(i), "req/A", "R");
	}
	fake_host__advance_ms(100);
	rcpt_core__on_tick(core);
	fake_host__advance_ms(100);
	rcpt_core__on_tick(core);
	fake_host__advance_ms(100);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 3);
	ck_assert_mem_eq(fake_host__published(0)->corr, "c1", 2);
	ck_assert_mem_eq(fake_host__published(1)->corr, "c2", 2);
	ck_assert_mem_eq(fake_host__published(2)->corr, "c0", 2);
}
END_TEST

START_TEST(test_mass_expiry)
{
	enum { PER_TICK = RCPT_EXPIRIES_PER_TICK, N = 2 * PER_TICK + PER_TICK / 2 };
	for(unsigned i = 0; i < N; i++){
		char corr[16];
		snprintf(corr, sizeof(corr), "m%u", i);
		t_delivered(core, "C", "A", "ret/C/x", corr, "R", i);
	}
	ck_assert_uint_eq(t_stats(core).pending, N);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	fake_host__advance_ms(30000);
	size_t expect[] = {PER_TICK, 2 * PER_TICK, N, N};
	for(size_t t = 0; t < 4; t++){
		rcpt_core__on_tick(core);
		ck_assert_uint_eq(fake_host__publish_count(), expect[t]);
	}
	unsigned char *seen = calloc(N, 1);
	ck_assert_ptr_nonnull(seen);
	for(size_t i = 0; i < N; i++){
		const struct fake_receipt *r = fake_host__published(i);
		ck_assert_str_eq(r->status, RECEIPTS_STATUS_TIMEOUT);
		char corr[16];
		ck_assert_uint_lt(r->corr_len, sizeof(corr));
		memcpy(corr, r->corr, r->corr_len);
		corr[r->corr_len] = '\0';
		unsigned k = (unsigned)strtoul(corr + 1, NULL, 10);
		ck_assert_uint_lt(k, N);
		ck_assert_uint_eq(seen[k], 0);
		seen[k] = 1;
	}
	free(seen);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_TIMEOUT], N);
}
END_TEST

/* Without TICKs timeouts cannot fire: said once, when a request arrives. */
START_TEST(test_tick_silence_warned_once)
{
	fake_host__advance_ms(4999);
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_WARNING), 0);
	fake_host__advance_ms(1);
	t_delivered(core, "C", "A", "ret/C/x", "c2", "R", 1);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_WARNING), 1);
	fake_host__advance_ms(10000);
	t_delivered(core, "C", "A", "ret/C/x", "c3", "R", 2);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_WARNING), 1);
}
END_TEST

START_TEST(test_ticks_keep_it_quiet)
{
	for(int i = 0; i < 10; i++){
		fake_host__advance_ms(1000);
		rcpt_core__on_tick(core);
	}
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_WARNING), 0);
}
END_TEST

/* A host that cannot queue a receipt is logged; the request still ends. */
START_TEST(test_publish_failure_logged)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	fake_host__set_publish_rc(RCPT_ERR_NOMEM);
	fake_host__advance_ms(30000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	ck_assert_uint_eq(t_stats(core).pending, 0);
}
END_TEST

/* ---- fan-out: linear in the recipients ---- */

/* One request to 200,000 recipients, each READ-checked twice (two
 * matching subscriptions, and a check of another recipient between), then
 * answered-to-check and disconnected one by one. Work per delivery or per
 * disconnect that grew with the recipients would take minutes here (the
 * sum over 200,000 steps of up to 200,000 each), far past the test's
 * timeout. */
START_TEST(test_fan_out_linear)
{
	enum { N = 200000 };
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_pending *p = t_request(core, &m, t_key(0)).pending;
	char id[32], prev[32] = "";
	for(unsigned i = 0; i < N; i++){
		snprintf(id, sizeof(id), "R%u", i);
		t_read(core, t_key(0), "req/A", id);
		t_read(core, t_key(0), "req/A", id);
		if(prev[0]) t_read(core, t_key(0), "req/A", prev);
		memcpy(prev, id, sizeof(id));
	}
	ck_assert_uint_eq(p->live_deliveries, N);
	rcpt_core__settle(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	/* A receipt from someone it did not reach costs the shorter list. */
	struct rcpt_publish stranger = t_ans("S", "ret/C/x", "c1", 2);
	core_publish(&stranger);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	for(unsigned i = 0; i < N; i++){
		snprintf(id, sizeof(id), "R%u", i);
		rcpt_core__on_disconnect(core, id, NULL, true);
		if(i + 1 < N) ck_assert_uint_eq(fake_host__publish_count(), 0);
	}
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
}
END_TEST

/* A recipient leaving from the middle, the front and the back of a
 * request's list keeps the others; a receipt from each one left is taken. */
START_TEST(test_fan_out_leave_any_order)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_pending *p = t_request(core, &m, t_key(0)).pending;
	static const char *const ids[] = {"R0", "R1", "R2", "R3", "R4"};
	for(int i = 0; i < 5; i++) t_read(core, t_key(0), "req/A", ids[i]);
	rcpt_core__settle(core);
	rcpt_core__on_disconnect(core, "R2", NULL, true);
	rcpt_core__on_disconnect(core, "R0", NULL, true);
	rcpt_core__on_disconnect(core, "R4", NULL, true);
	ck_assert_uint_eq(p->live_deliveries, 2);
	ck_assert(rcpt_pending__delivered_to(p, rcpt_clients__find(&core->clients, "R1")));
	ck_assert(rcpt_pending__delivered_to(p, rcpt_clients__find(&core->clients, "R3")));
	ck_assert_ptr_null(rcpt_clients__find(&core->clients, "R2"));
	rcpt_core__on_disconnect(core, "R1", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	rcpt_core__on_disconnect(core, "R3", NULL, true);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
}
END_TEST

/* 200,000 QoS 2 requests waiting for their PUBREL: each new one is checked
 * against them for a retransmission without walking them all (a walk
 * would take minutes here: the sum over 200,000 of up to 200,000 each). A
 * retransmission deep among them is still recognised, and their
 * no-responders verdicts are spread over ticks like expiries. */
START_TEST(test_qos2_many_waiting)
{
	enum { N = 200000, IDS = 40 };
	/* Each its own return area: payloads are told apart by a 32-bit hash
	 * only, which two of 200,000 may share. */
	char id[16], area[16];
	struct rcpt_publish middle;
	char middle_id[16], middle_area[16];
	for(unsigned i = 0; i < N; i++){
		snprintf(id, sizeof(id), "C%u", i % IDS);
		snprintf(area, sizeof(area), "N%u", i);
		struct rcpt_publish m = t_req(id, "req/A", NULL, NULL);
		m.qos = 2;
		m.return_area_count = 1;
		m.return_area = area;
		m.payload = (struct rcpt_bytes){"question", 8};
		t_request(core, &m, t_key(i % 8192));
		if(i == N / 2){
			memcpy(middle_id, id, sizeof(id));
			memcpy(middle_area, area, sizeof(area));
		}
	}
	ck_assert_uint_eq(rcpt_tracking__waiting(&core->tracking), N);
	middle = t_req(middle_id, "req/A", NULL, NULL);
	middle.qos = 2;
	middle.return_area_count = 1;
	middle.return_area = middle_area;
	middle.payload = (struct rcpt_bytes){"question", 8};
	struct rcpt_decision d = core_publish(&middle);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	ck_assert_ptr_null(d.pending);
	ck_assert_uint_eq(t_stats(core).pending, N);
	/* Past the grace period all end no-responders, a tick's worth at a
	 * time; none is left waiting. */
	fake_host__advance_ms(core->cfg.qos2_release_grace_ms);
	size_t seen = 0;
	while(t_stats(core).pending > 0){
		rcpt_core__on_tick(core);
		ck_assert_uint_le(fake_host__publish_count() - seen, RCPT_EXPIRIES_PER_TICK);
		ck_assert_uint_gt(fake_host__publish_count(), seen);
		seen = fake_host__publish_count();
	}
	ck_assert_uint_eq(rcpt_tracking__waiting(&core->tracking), 0);
	ck_assert_uint_eq(fake_host__publish_count(), N);
}
END_TEST

Suite *delivery_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = core_tcase(s, "settle");
	tcase_add_test(tc, test_nobody_reached);
	tcase_add_loop_test(tc, test_nobody_reached_each_event, 0, 5);
	tcase_add_test(tc, test_nobody_reached_broker_correlation);
	tcase_add_test(tc, test_reached_one);
	tcase_add_test(tc, test_read_of_other_message);
	tcase_add_test(tc, test_two_requests_one_iteration);
	tcase_add_test(tc, test_same_responder_twice);

	tc = core_tcase(s, "fan-out");
	tcase_add_test(tc, test_fan_out_linear);
	tcase_add_test(tc, test_fan_out_leave_any_order);
	/* Linear takes about a second; quadratic, minutes. */
	tcase_set_timeout(tc, 20);

	tc = core_tcase(s, "qos2");
	tcase_add_test(tc, test_qos2_never_released);
	tcase_add_test(tc, test_qos2_released);
	tcase_add_test(tc, test_qos2_retransmission);
	tcase_add_test(tc, test_qos2_retransmission_broker_correlation);
	tcase_add_test(tc, test_qos2_other_payload);

	tc = core_tcase(s, "qos2-scale");
	tcase_add_test(tc, test_qos2_many_waiting);
	/* Linear takes about a second; a walk per request, minutes. */
	tcase_set_timeout(tc, 20);

	tc = core_tcase(s, "timeouts");
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_custom_and_broker_correlation);
	tcase_add_test(tc, test_timeouts_in_deadline_order);
	tcase_add_test(tc, test_mass_expiry);
	tcase_add_test(tc, test_tick_silence_warned_once);
	tcase_add_test(tc, test_ticks_keep_it_quiet);
	tcase_add_test(tc, test_publish_failure_logged);
	return s;
}
