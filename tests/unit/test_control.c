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
	struct rcpt_publish bad = t_req("C", "req/A", "ret/C/x", "c3");
	bad.timeout_count = 1;
	bad.timeout = "0";
	struct rcpt_decision d;
	rcpt_core__on_publish(core, &bad, &d);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	fake_host__advance_ms(40);
	struct rcpt_publish a = t_ans("R", "ret/C/x", "c2", 2);
	rcpt_core__on_publish(core, &a, &d); t_note(&d);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);

	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"getStats\",\"correlationData\":\"k\"}]}"),
			"getStats");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(reply, "responses"), 0), "correlationData")->valuestring, "k");
	ck_assert_int_eq((int)number(data, "pending"), 1);
	ck_assert_int_eq((int)number(data, "pendingHighWater"), 2);
	ck_assert_int_eq((int)number(data, "pendingBytes"), (int)core->pending.bytes);
	ck_assert_int_gt((int)number(data, "pendingBytes"), 0);
	const cJSON *by_area = cJSON_GetObjectItemCaseSensitive(data, "pendingByArea");
	ck_assert_int_eq(cJSON_GetArraySize(by_area), 1);
	ck_assert_int_eq((int)number(by_area, "A"), 1);
	const cJSON *totals = cJSON_GetObjectItemCaseSensitive(data, "totals");
	ck_assert_int_eq((int)number(totals, "ok"), 1);
	ck_assert_int_eq((int)number(totals, "rejected"), 1);
	const cJSON *by_reason = cJSON_GetObjectItemCaseSensitive(data, "rejectedByReason");
	ck_assert_int_eq((int)number(by_reason, RECEIPTS_REJECT_BAD_TIMEOUT), 1);
	ck_assert_int_eq((int)number(by_reason, RECEIPTS_REJECT_BAD_AREA), 0);
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(data, "receiptMs");
	ck_assert_int_eq((int)number(ms, "samples"), 1);
	ck_assert_int_eq((int)number(ms, "p50"), 40);
	ck_assert_int_eq((int)number(ms, "p99"), 40);
	/* The refused request's `rejected` receipt, and nothing else. */
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	ck_assert_str_eq(fake_host__published(0)->status, RECEIPTS_STATUS_REJECTED);
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
	/* Newest first. */
	t_assert_receipt(0, "ret/C/x", "c2", 2, 1, RECEIPTS_STATUS_CANCELLED, "maintenance");
	t_assert_receipt(1, "ret/C/x", "c1", 2, 1, RECEIPTS_STATUS_CANCELLED, "maintenance");
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
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(data, RECEIPTS_OPT_JOURNAL_SYNC)));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, RECEIPTS_OPT_CONTROL_USERS)), 0);
}
END_TEST

/* ---- bounded replies, paging by cursor, queued mass cancellation ---- */

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", name);
	return v->valuestring;
}

/* A request to 150 names 100 of them, says so, and counts them all. */
START_TEST(test_delivered_to_capped)
{
	struct rcpt_publish m = t_req("C", "req/A", "ret/C/x", "c1");
	t_request(core, &m, t_key(0));
	char id[16];
	for(int i = 0; i < 150; i++){
		snprintf(id, sizeof(id), "R%d", i);
		t_read(core, t_key(0), "req/A", id);
	}
	rcpt_core__settle(core);
	t_delivered(core, "C", "A", "ret/C/x", "c2", "S", 1);
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"listPending\"}]}"), "listPending");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, "pending");
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	const cJSON *big = cJSON_GetArrayItem(list, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(big, "deliveredTo")),
			RECEIPTS_LIST_MAX_DELIVERED_TO);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(big, "deliveredToTruncated")));
	ck_assert_int_eq((int)number(big, "deliveredToCount"), 150);
	/* A short list is whole and says nothing more. */
	const cJSON *small = cJSON_GetArrayItem(list, 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(small, "deliveredTo")), 1);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(small, "deliveredToTruncated"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(small, "deliveredToCount"));
}
END_TEST

/* Pages by cursor: every request listed once, in order, though requests
 * end between pages (the one the cursor points at included) and new ones
 * come; a cursor serves once; a bad one is refused. */
START_TEST(test_list_by_cursor)
{
	enum { N = 250 };
	char corr[16];
	for(unsigned i = 0; i < N; i++){
		snprintf(corr, sizeof(corr), "%04u", i);
		t_delivered(core, "C", "A", "ret/C/x", corr, "R", i);
	}
	char json[256], cursor[32];
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"listPending\",\"count\":100}]}"),
			"listPending");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "pending")), 100);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "more")));
	snprintf(cursor, sizeof(cursor), "%s", str(data, "cursor"));

	/* 100 (where the cursor points) and 101 end; 102 is the next page's
	 * first. A newer request is listed at the end. */
	static const char *const cancel = "{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"C\","
			"\"returnTopic\":\"ret/C/x\",\"correlation\":\"%s\"}]}";
	snprintf(json, sizeof(json), cancel, "30313030");
	data_of(control(json), "cancelPending");
	snprintf(json, sizeof(json), cancel, "30313031");
	data_of(control(json), "cancelPending");
	t_delivered(core, "C", "A", "ret/C/x", "late", "R", N);

	unsigned expect = 102, pages = 1;
	for(;;){
		snprintf(json, sizeof(json), "{\"commands\":[{\"command\":\"listPending\",\"count\":100,\"cursor\":\"%s\"}]}",
				cursor);
		data = data_of(control(json), "listPending");
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, "pending");
		const cJSON *e;
		cJSON_ArrayForEach(e, list){
			const char *got = str(e, "correlation");
			if(expect < N){
				char hex[16];
				snprintf(corr, sizeof(corr), "%04u", expect);
				for(int k = 0; k < 4; k++) snprintf(hex + 2 * k, 3, "%02x", (unsigned char)corr[k]);
				ck_assert_str_eq(got, hex);
			}else{
				ck_assert_str_eq(got, "6c617465");   /* "late" */
			}
			expect++;
		}
		pages++;
		if(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "more"))){
			ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(data, "cursor"));
			break;
		}
		/* Used once: the same cursor again is refused. */
		char used[32];
		snprintf(used, sizeof(used), "%s", cursor);
		snprintf(cursor, sizeof(cursor), "%s", str(data, "cursor"));
		snprintf(json, sizeof(json), "{\"commands\":[{\"command\":\"listPending\",\"cursor\":\"%s\"}]}", used);
		ck_assert_ptr_nonnull(strstr(error_of(control(json), 0), "cursor"));
	}
	ck_assert_uint_eq(expect, N + 1);
	ck_assert_uint_eq(pages, 3);

	static const char *const bad[] = {"", "x", "9.1", "0.0", "0.", ".1", "0.1x", "-1.1", "0.99999999999"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		snprintf(json, sizeof(json), "{\"commands\":[{\"command\":\"listPending\",\"cursor\":\"%s\"}]}", bad[i]);
		ck_assert_ptr_nonnull(strstr(error_of(control(json), 0), "cursor"));
	}
	ck_assert_ptr_nonnull(strstr(error_of(control("{\"commands\":[{\"command\":\"listPending\",\"cursor\":\"0.1\","
			"\"offset\":2}]}"), 0), "not both"));
	/* A cursor of the whole list is not one of an area's. */
	data = data_of(control("{\"commands\":[{\"command\":\"listPending\",\"count\":1}]}"), "listPending");
	snprintf(cursor, sizeof(cursor), "%s", str(data, "cursor"));
	snprintf(json, sizeof(json), "{\"commands\":[{\"command\":\"listPending\",\"area\":\"A\",\"cursor\":\"%s\"}]}",
			cursor);
	error_of(control(json), 0);
}
END_TEST

/* Big entries: a reply stops near RECEIPTS_CONTROL_MAX_REPLY, with a
 * cursor to go on from. */
START_TEST(test_reply_size_bounded)
{
	static const char *const opts[] = {RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN, "60000", NULL};
	core_recreate(opts);
	static char topic[60001];
	memset(topic, 'x', 60000);
	memcpy(topic, "ret/C/", 6);
	char corr[16];
	for(unsigned i = 0; i < 40; i++){
		snprintf(corr, sizeof(corr), "c%u", i);
		t_delivered(core, "C", "A", topic, corr, "R", i);
	}
	size_t before = fake_host__plain_count();
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"listPending\",\"count\":1000}]}"),
			"listPending");
	size_t listed = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, "pending"));
	ck_assert_uint_lt(listed, 40);
	ck_assert_uint_ge(listed, RECEIPTS_CONTROL_MAX_REPLY / 61000);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "more")));
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(data, "cursor"));
	ck_assert_uint_le(strlen(fake_host__plain(before)->payload), RECEIPTS_CONTROL_MAX_REPLY + 61000);
	/* Two such commands in one batch share the bound. */
	const cJSON *r = control("{\"commands\":[{\"command\":\"listPending\",\"count\":1000},"
			"{\"command\":\"listPending\",\"count\":1000}]}");
	const cJSON *second = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r, 1), "data");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(second, "pending")), 1);
}
END_TEST

/* Cancelling an area of 1000: one tick's worth at once, the rest over the
 * next ticks at most RCPT_EXPIRIES_PER_TICK each, newest first, though
 * some end otherwise meanwhile (the one it was to cancel next included); a
 * request sent after the command is not among them. */
START_TEST(test_mass_cancel_queued)
{
	enum { N = 1000 };
	char corr[16];
	for(unsigned i = 0; i < N; i++){
		snprintf(corr, sizeof(corr), "%u", i);
		t_delivered(core, "C", "A", "ret/C/x", corr, "R", i);
	}
	fake_host__advance_ms(1);
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"A\","
			"\"all\":true}]}"), "cancelPending");
	ck_assert_int_eq((int)number(data, "selected"), N);
	ck_assert_int_eq((int)number(data, "cancelled"), RCPT_EXPIRIES_PER_TICK);
	ck_assert_int_eq((int)number(data, "queued"), N - RCPT_EXPIRIES_PER_TICK);
	ck_assert_uint_eq(fake_host__publish_count(), RCPT_EXPIRIES_PER_TICK);
	ck_assert_ptr_nonnull(strstr(fake_host__last_log(RCPT_LOG_NOTICE), "queued"));
	fake_host__advance_ms(1);
	t_delivered(core, "D", "A", "ret/D/x", "after", "R", N);
	/* 699 is next to go, 10 is far ahead: both are cancelled by hand. */
	static const char *const by_hand = "{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"C\","
			"\"returnTopic\":\"ret/C/x\",\"correlation\":\"%s\",\"reason\":\"by hand\"}]}";
	char json[256];
	snprintf(json, sizeof(json), by_hand, "363939");
	data_of(control(json), "cancelPending");
	snprintf(json, sizeof(json), by_hand, "3130");
	data_of(control(json), "cancelPending");

	size_t seen = fake_host__publish_count();
	int ticks = 0;
	while(t_stats(core).pending > 1){
		rcpt_core__on_tick(core);
		size_t now = fake_host__publish_count();
		ck_assert_uint_le(now - seen, RCPT_EXPIRIES_PER_TICK);
		ck_assert_uint_gt(now - seen, 0);
		seen = now;
		ck_assert_int_lt(++ticks, 10);
	}
	ck_assert_int_eq(ticks, 3);
	ck_assert_uint_eq(fake_host__publish_count(), N);
	/* 999..700 at the command, 699 and 10 by hand, then 698..11, 9..0. */
	size_t at = 0;
	for(int i = N - 1; i >= 0; i--){
		if(i == 699 || i == 10) continue;
		if(at == RCPT_EXPIRIES_PER_TICK) at += 2;
		snprintf(corr, sizeof(corr), "%d", i);
		t_assert_receipt(at++, "ret/C/x", corr, strlen(corr), 1, RECEIPTS_STATUS_CANCELLED, RECEIPTS_REASON_CANCELLED);
	}
	t_assert_receipt(RCPT_EXPIRIES_PER_TICK, "ret/C/x", "699", 3, 1, RECEIPTS_STATUS_CANCELLED, "by hand");
	t_assert_receipt(RCPT_EXPIRIES_PER_TICK + 1, "ret/C/x", "10", 2, 1, RECEIPTS_STATUS_CANCELLED, "by hand");
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), N);
	ck_assert_uint_eq(t_stats(core).pending, 1);
	ck_assert_ptr_null(core->cancels.first);
}
END_TEST

/* Queued cancellations go when the core does. */
START_TEST(test_mass_cancel_freed)
{
	char corr[16];
	for(unsigned i = 0; i < 400; i++){
		snprintf(corr, sizeof(corr), "%u", i);
		t_delivered(core, "C", "A", "ret/C/x", corr, "R", i);
	}
	const cJSON *data = data_of(control("{\"commands\":[{\"command\":\"cancelPending\",\"requester\":\"C\","
			"\"all\":true}]}"), "cancelPending");
	ck_assert_int_eq((int)number(data, "queued"), 100);
	ck_assert_ptr_nonnull(core->cancels.first);
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
	tcase_add_test(tc, test_delivered_to_capped);
	tcase_add_test(tc, test_list_by_cursor);
	tcase_add_test(tc, test_reply_size_bounded);
	tcase_add_test(tc, test_mass_cancel_queued);
	tcase_add_test(tc, test_mass_cancel_freed);
	suite_add_tcase(s, tc);

	tc = tcase_create("sys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sys_only_changes);
	tcase_add_test(tc, test_sys_off);
	suite_add_tcase(s, tc);
	return s;
}
