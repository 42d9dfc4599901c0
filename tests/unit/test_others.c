/*
 * The broker's other access control inside the plugin's namespaces: a
 * re-routed request must pass the WRITE check a direct publish would, an
 * open return topic (off by default) must be writable by its requester, and
 * only a reader the other sources allow counts as reached.
 */
#include <string.h>

#include "core_fixture.h"
#include "core_parts.h"

/* acl_file as a test writes it: "mallory" may do nothing, others anything. */
static enum rcpt_others mallory_denied(const char *client, const char *topic, enum rcpt_others_access access)
{
	(void)topic;
	(void)access;
	return strcmp(client, "mallory") ? RCPT_OTHERS_ALLOW : RCPT_OTHERS_DENY;
}

static enum rcpt_others cannot_ask(const char *client, const char *topic, enum rcpt_others_access access)
{
	(void)client;
	(void)topic;
	(void)access;
	return RCPT_OTHERS_UNKNOWN;
}

static struct rcpt_publish rerouted(const char *sender)
{
	struct rcpt_publish m = t_req(sender, "devices/42/config", "ret/x/r", "c1");
	m.response_topic = !strcmp(sender, "mallory") ? "ret/mallory/r" : "ret/alice/r";
	m.subject_area_count = 1;
	m.subject_area = "A";
	return m;
}

static void assert_refused_no_receipt_elsewhere(struct rcpt_decision d, const char *reason)
{
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_str_eq(d.reason, reason);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_ptr_nonnull(strstr(fake_host__last_log(RCPT_LOG_NOTICE), reason));
}

START_TEST(test_open_return_off_by_default)
{
	struct rcpt_publish m = t_req("C", "req/A", "answers/C", "c1");
	struct rcpt_decision d = core_publish(&m);
	ck_assert_int_eq(d.action, RCPT_PASS);
	ck_assert_ptr_null(d.pending);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(core->pending.open_return_count, 0);
	/* An answer on that topic is ordinary traffic, whoever sends it. */
	struct rcpt_publish a = t_ans("R", "answers/C", "c1", 2);
	ck_assert_int_eq(core_publish(&a).action, RCPT_PASS);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 0);
}
END_TEST

START_TEST(test_reroute_needs_write_access)
{
	fake_host__set_others(mallory_denied);
	struct rcpt_publish m = rerouted("mallory");
	assert_refused_no_receipt_elsewhere(core_publish(&m), RECEIPTS_REJECT_NOT_AUTHORIZED);
	/* Its own return area still hears why. */
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/mallory/r", "c1", 2, 1, RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_NOT_AUTHORIZED);
	m = rerouted("alice");
	struct rcpt_decision d = core_publish(&m);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	ck_assert_str_eq(d.new_topic, "req/A");
}
END_TEST

START_TEST(test_reroute_refused_when_others_cannot_be_asked)
{
	fake_host__set_others(cannot_ask);
	struct rcpt_publish m = rerouted("alice");
	assert_refused_no_receipt_elsewhere(core_publish(&m), RECEIPTS_REJECT_NOT_AUTHORIZED);
	/* A direct request needs no question: the broker checked its WRITE. */
	m = t_req("alice", "req/A", "ret/alice/r", "c2");
	ck_assert_int_eq(core_publish(&m).action, RCPT_REQUEST);
}
END_TEST

START_TEST(test_open_return_needs_write_access)
{
	core_track_open_returns();
	fake_host__set_others(mallory_denied);
	struct rcpt_publish m = t_req("mallory", "req/A", "answers/victim", "c1");
	assert_refused_no_receipt_elsewhere(core_publish(&m), RECEIPTS_REJECT_RETURN_NOT_WRITABLE);
	/* No receipt where the requester may not publish. */
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(core->pending.open_return_count, 0);
	m = t_req("alice", "req/A", "answers/alice", "c1");
	ck_assert_int_eq(core_publish(&m).action, RCPT_REQUEST);
	ck_assert_uint_eq(core->pending.open_return_count, 1);
}
END_TEST

START_TEST(test_denied_reader_is_no_recipient)
{
	fake_host__set_others(mallory_denied);
	struct rcpt_publish m = t_req("alice", "req/A", "ret/alice/r", "c1");
	t_request(core, &m, t_key(1));
	struct rcpt_client_ref mallory = {.id = "mallory", .clean = true, .handle = "mallory"};
	struct rcpt_client_ref worker = {.id = "worker", .clean = true, .handle = "worker"};
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(1), "req/A", false, &mallory), RCPT_ACCESS_DENY);
	/* mallory may not answer: it was never reached. */
	rcpt_core__settle(core);
	struct rcpt_publish forged = t_ans("mallory", "ret/alice/r", "c1", 2);
	ck_assert_int_eq(core_publish(&forged).action, RCPT_REFUSE);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/alice/r", "c1", 2, 1, RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);

	m = t_req("alice", "req/A", "ret/alice/r", "c2");
	t_request(core, &m, t_key(2));
	ck_assert_int_eq(rcpt_core__on_read(core, t_key(2), "req/A", false, &worker), RCPT_ACCESS_ALLOW);
	rcpt_core__settle(core);
	struct rcpt_publish answer = t_ans("worker", "ret/alice/r", "c2", 2);
	ck_assert_int_eq(core_publish(&answer).action, RCPT_RECEIPT);
}
END_TEST

Suite *others_suite(void)
{
	Suite *s = suite_create("others");
	TCase *tc = core_tcase(s, "others");
	tcase_add_test(tc, test_open_return_off_by_default);
	tcase_add_test(tc, test_reroute_needs_write_access);
	tcase_add_test(tc, test_reroute_refused_when_others_cannot_be_asked);
	tcase_add_test(tc, test_open_return_needs_write_access);
	tcase_add_test(tc, test_denied_reader_is_no_recipient);
	return s;
}
