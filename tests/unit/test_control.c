/* The control API ($CONTROL/receipts/v1) and the $SYS gauges: both speak
 * through publish_plain, so the fake host's plain records are the output. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core_fixture.h"
#include "fake_host.h"
#include "core_parts.h"
#include "suites.h"

static cJSON *reply;

static void setup(void)
{
	core_setup();
	reply = NULL;
}

static void teardown(void)
{
	cJSON_Delete(reply);
	reply = NULL;
	core_teardown();
}

/* Runs one batch; returns its responses array (owned by `reply`). */
static const cJSON *control(const char *json)
{
	size_t before = fake_host__plain_count();
	rcpt_core__on_control(core, "ctl", json, strlen(json));
	ck_assert_uint_eq(fake_host__plain_count(), before + 1);
	const struct fake_plain *m = fake_host__plain(before);
	ck_assert_str_eq(m->to_client, "ctl");
	ck_assert_str_eq(m->topic, RECEIPTS_CONTROL_RESPONSE_TOPIC);
	ck_assert(!m->retain);
	cJSON_Delete(reply);
	reply = cJSON_Parse(m->payload);
	ck_assert_msg(reply != NULL, "reply is not JSON: %s", m->payload);
	const cJSON *responses = cJSON_GetObjectItemCaseSensitive(reply, "responses");
	ck_assert(cJSON_IsArray(responses));
	return responses;
}

/* The only response of a one-command batch must carry data, not error. */
static const cJSON *data_of(const cJSON *responses, const char *command)
{
	ck_assert_int_eq(cJSON_GetArraySize(responses), 1);
	const cJSON *r = cJSON_GetArrayItem(responses, 0);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "command")->valuestring, command);
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(r, "error");
	ck_assert_msg(error == NULL, "error: %s", cJSON_IsString(error) ? error->valuestring : "?");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
	ck_assert(cJSON_IsObject(data));
	return data;
}

static const char *error_of(const cJSON *responses, int i)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(responses, i), "error");
	ck_assert_msg(cJSON_IsString(e), "response %d has no error", i);
	return e->valuestring;
}

static double number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", name);
	return v->valuedouble;
}

START_TEST(test_get_stats)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	t_delivered(core, "C", "B", "ret/C/x", "c2", "R", 1);
	struct rcpt_publish dup = t_req("C", "req/A", "ret/C/x", "c1");
	struct rcpt_decision d;
	rcpt_core__on_publish(core, &dup, &d);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	fake_host__advance_ms(40);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c2", 2);
	rcpt_core__on_publish(core, &a, &d);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);

	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"getStats\",\"correlationData\":\"k\"}]}"),
			"getStats");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(reply, "responses"), 0), "correlationData")->valuestring, "k");
	ck_assert_int_eq((int)number(data, "pending"), 1);
	ck_assert_int_eq((int)number(data, "pendingHighWater"), 2);
	const cJSON *by_area = cJSON_GetObjectItemCaseSensitive(data, "pendingByArea");
	ck_assert_int_eq(cJSON_GetArraySize(by_area), 1);
	ck_assert_int_eq((int)number(by_area, "A"), 1);
	const cJSON *totals = cJSON_GetObjectItemCaseSensitive(data, "totals");
	ck_assert_int_eq((int)number(totals, "ok"), 1);
	ck_assert_int_eq((int)number(totals, "rejected"), 1);
	const cJSON *by_reason = cJSON_GetObjectItemCaseSensitive(data, "rejectedByReason");
	ck_assert_int_eq((int)number(by_reason, RECEIPTS_REJECT_DUPLICATE), 1);
	ck_assert_int_eq((int)number(by_reason, RECEIPTS_REJECT_BAD_AREA), 0);
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(data, "receiptMs");
	ck_assert_int_eq((int)number(ms, "samples"), 1);
	ck_assert_int_eq((int)number(ms, "p50"), 40);
	ck_assert_int_eq((int)number(ms, "p99"), 40);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

START_TEST(test_list_pending)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	fake_host__advance_ms(100);
	t_delivered(core, "D", "A", "ret/D/x", "\x01\xff", "R", 1);
	fake_host__advance_ms(100);
	t_delivered(core, "C", "B", "ret/C/x", "c3", "S", 2);

	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"listPending\"}]}"), "listPending");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, "pending");
	ck_assert_int_eq(cJSON_GetArraySize(list), 3);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(data, "more")));
	/* Oldest first. */
	const cJSON *e = cJSON_GetArrayItem(list, 0);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "requester")->valuestring, "C");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "correlation")->valuestring, "6331");
	ck_assert_int_eq((int)number(e, "ageMs"), 200);
	ck_assert_int_eq((int)number(e, "remainingMs"), 29800);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "deliveredTo"), 0)->valuestring, "R");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 1), "correlation")->valuestring, "01ff");

	data = data_of(control("{\"commands\":[{\"command\":\"listPending\",\"requester\":\"C\",\"count\":1}]}"),
			"listPending");
	list = cJSON_GetObjectItemCaseSensitive(data, "pending");
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "more")));

	data = data_of(control("{\"commands\":[{\"command\":\"listPending\",\"area\":\"A\",\"offset\":1}]}"),
			"listPending");
	list = cJSON_GetObjectItemCaseSensitive(data, "pending");
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "requester")->valuestring, "D");

	data = data_of(control("{\"commands\":[{\"command\":\"listPending\",\"olderThanMs\":150}]}"), "listPending");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "pending")), 1);
}
END_TEST

START_TEST(test_cancel_one)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	t_delivered(core, "C", "A", "ret/C/x", "c2", "R", 1);
	/* Another requester's request is not cancelled by naming it. */
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"D\","
			"\"returnTopic\":\"ret/C/x\",\"correlation\":\"6331\"}]}"), "cancelPending");
	ck_assert_int_eq((int)number(data, "cancelled"), 0);
	data = data_of(control("{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"C\","
			"\"returnTopic\":\"ret/C/x\",\"correlation\":\"6331\"}]}"), "cancelPending");
	ck_assert_int_eq((int)number(data, "cancelled"), 1);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_CANCELLED], 1);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 2);
}
END_TEST

START_TEST(test_cancel_all)
{
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	t_delivered(core, "C", "B", "ret/C/x", "c2", "R", 1);
	t_delivered(core, "D", "A", "ret/D/x", "d1", "R", 2);
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"C\","
			"\"all\":true,\"reason\":\"maintenance\"}]}"), "cancelPending");
	ck_assert_int_eq((int)number(data, "cancelled"), 2);
	ck_assert_uint_eq(fake_host__publish_count(), 2);
	t_assert_receipt(0, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_CANCELLED, "maintenance");
	t_assert_receipt(1, "ret/C/x", "c2", 2, 1, RECEIPTS_STATUS_CANCELLED, "maintenance");
	data = data_of(control("{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"A\",\"all\":true}]}"),
			"cancelPending");
	ck_assert_int_eq((int)number(data, "cancelled"), 1);
	t_assert_receipt(2, "ret/D/x", "d1", 2, 1, RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED);
	ck_assert_uint_eq(t_stats(core).pending, 0);
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
	ck_assert_uint_eq(rcpt_areas__count(&core->areas), 0);
}
END_TEST

START_TEST(test_bad_commands)
{
	const cJSON *r = control("not json");
	ck_assert_int_eq(cJSON_GetArraySize(r), 1);
	ck_assert_str_eq(error_of(r, 0), "payload is not valid JSON");
	r = control("{\"cmds\":[]}");
	ck_assert_int_eq(cJSON_GetArraySize(r), 1);
	error_of(r, 0);
	r = control("{\"commands\":[{\"command\":\"nope\"}, 5, {\"command\":7},"
			"{\"command\":\"listPending\",\"count\":\"x\"},"
			"{\"command\":\"listPending\",\"offset\":1.5},"
			"{\"command\":\"cancelPending\",\"all\":true},"
			"{\"command\":\"cancelPending\",\"requester\":\"C\",\"returnTopic\":\"ret/C/x\",\"correlation\":\"6\"}]}");
	ck_assert_int_eq(cJSON_GetArraySize(r), 7);
	ck_assert_str_eq(error_of(r, 0), "unknown command");
	for(int i = 1; i < 7; i++) error_of(r, i);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

START_TEST(test_too_many_commands)
{
	char json[4096];
	size_t n = (size_t)snprintf(json, sizeof(json), "{\"commands\":[");
	for(int i = 0; i <= RECEIPTS_CONTROL_MAX_COMMANDS; i++){
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s{\"command\":\"getConfig\"}", i ? "," : "");
	}
	snprintf(json + n, sizeof(json) - n, "]}");
	const cJSON *r = control(json);
	ck_assert_int_eq(cJSON_GetArraySize(r), 1);
	error_of(r, 0);
}
END_TEST

START_TEST(test_get_config)
{
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"getConfig\"}]}"), "getConfig");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(data, RECEIPTS_OPT_REQUEST_PREFIX)->valuestring, "req");
	ck_assert_int_eq((int)number(data, RECEIPTS_OPT_MAX_TIMEOUT_MS), 300000);
	ck_assert_int_eq((int)number(data, RECEIPTS_OPT_MAX_PENDING_PER_USER), 10000);
	ck_assert_int_eq((int)number(data, RECEIPTS_OPT_MAX_PENDING_ANONYMOUS), 0);
	ck_assert_int_eq((int)number(data, RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN), 256);
	ck_assert_int_eq((int)number(data, RECEIPTS_OPT_MAX_PENDING_BYTES), 268435456);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, RECEIPTS_OPT_CONTROL_USERS)), 0);
}
END_TEST

/* ---- $SYS ---- */

static size_t sys_values(size_t from)
{
	size_t n = 0;
	for(size_t i = from; i < fake_host__plain_count(); i++){
		const struct fake_plain *m = fake_host__plain(i);
		ck_assert_ptr_null(m->to_client);
		ck_assert(m->retain);
		ck_assert_ptr_nonnull(strstr(m->topic, RECEIPTS_SYS_PREFIX "/"));
		n++;
	}
	return n;
}

START_TEST(test_sys_only_changes)
{
	rcpt_core__on_tick(core);
	/* pending, high water, and one total per outcome. */
	ck_assert_uint_eq(sys_values(0), 2 + RCPT_OUTCOME_COUNT);
	size_t seen = fake_host__plain_count();
	fake_host__advance_ms(9999);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__plain_count(), seen);
	fake_host__advance_ms(1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__plain_count(), seen);
	t_delivered(core, "C", "A", "ret/C/x", "c1", "R", 0);
	fake_host__advance_ms(10000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(sys_values(seen), 2);
	ck_assert_str_eq(fake_host__plain(seen)->topic, RECEIPTS_SYS_PREFIX "/pending");
	ck_assert_str_eq(fake_host__plain(seen)->payload, "1");
}
END_TEST

START_TEST(test_sys_off)
{
	static const char *const opts[] = {RECEIPTS_OPT_SYS_INTERVAL_S, "0", NULL};
	core_recreate(opts);
	rcpt_core__on_tick(core);
	fake_host__advance_ms(100000);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__plain_count(), 0);
}
END_TEST

Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_get_stats);
	tcase_add_test(tc, test_list_pending);
	tcase_add_test(tc, test_cancel_one);
	tcase_add_test(tc, test_cancel_all);
	tcase_add_test(tc, test_bad_commands);
	tcase_add_test(tc, test_too_many_commands);
	tcase_add_test(tc, test_get_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("sys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sys_only_changes);
	tcase_add_test(tc, test_sys_off);
	suite_add_tcase(s, tc);
	return s;
}
