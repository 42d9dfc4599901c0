/* Privacy of return areas: READ, SUBSCRIBE and WRITE checks. */
#include <check.h>
#include <string.h>

#include "core_fixture.h"
#include "fake_host.h"
#include "core_parts.h"
#include "suites.h"

static enum rcpt_access read_as(const char *topic, const char *id)
{
	struct rcpt_client_ref who = {.id = id, .clean = true};
	return rcpt_core__on_read(core, t_key(0), topic, false, &who);
}

static enum rcpt_access write_as(const char *topic, const char *id, const char *username)
{
	struct rcpt_client_ref who = {.id = id, .username = username, .clean = true};
	return rcpt_core__on_write(core, topic, &who);
}

static enum rcpt_access read_user(const char *topic, const char *username)
{
	struct rcpt_client_ref who = {.id = "ctl", .username = username, .clean = true};
	return rcpt_core__on_read(core, t_key(0), topic, false, &who);
}

static enum rcpt_access sub_user(const char *filter, const char *username)
{
	struct rcpt_client_ref who = {.id = "ctl", .username = username, .clean = true};
	return rcpt_core__on_subscribe(core, filter, &who);
}

static enum rcpt_access sub_as(const char *filter, const char *id)
{
	struct rcpt_client_ref who = {.id = id, .clean = true};
	return rcpt_core__on_subscribe(core, filter, &who);
}

START_TEST(test_read_return_area)
{
	ck_assert_int_eq(read_as("ret/C/x", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(read_as("ret/C", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(read_as("ret/C/x/y", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(read_as("ret/C/x", "D"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(read_as("ret/C/x", "CC"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(read_as("ret/CC/x", "C"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(read_as("ret/C/x", ""), RCPT_ACCESS_DENY);
	/* Nobody owns the prefix itself or an empty owner level. */
	ck_assert_int_eq(read_as("ret", "C"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(read_as("ret//x", ""), RCPT_ACCESS_DENY);
	ck_assert_uint_eq(fake_host__log_total(), 0);
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
}
END_TEST

START_TEST(test_read_elsewhere_falls_back)
{
	ck_assert_int_eq(read_as("req/A", "C"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_as("req", "C"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_as("other/topic", "C"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_as("retx/C", "D"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_as("x/ret/C", "D"), RCPT_ACCESS_FALLBACK);
	ck_assert_uint_eq(fake_host__log_total(), 0);
	/* A READ check of no tracked request keeps no record. */
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
}
END_TEST

START_TEST(test_subscribe_own_area)
{
	ck_assert_int_eq(sub_as("ret/C/#", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(sub_as("ret/C/x", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(sub_as("ret/C/+", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(sub_as("ret/C", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(sub_as("$share/g/ret/C/#", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_uint_eq(fake_host__log_total(), 0);
}
END_TEST

START_TEST(test_subscribe_foreign_denied)
{
	const char *filters[] = {"ret/#", "ret/+/x", "ret/+", "ret/D/#", "ret/CC/#", "ret//x",
		"$share/g/ret/D/#", "$share/g/ret/#"};
	size_t n = sizeof(filters) / sizeof(filters[0]);
	for(size_t i = 0; i < n; i++){
		ck_assert_msg(sub_as(filters[i], "C") == RCPT_ACCESS_DENY, "'%s' not denied", filters[i]);
		ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), i + 1);
	}
	ck_assert_uint_eq(fake_host__log_total(), n);
}
END_TEST

/* A client id that is itself a wildcard must not open every area. */
START_TEST(test_subscribe_wildcard_client_id)
{
	ck_assert_int_eq(sub_as("ret/+/x", "+"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(sub_as("ret/#", "#"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(sub_as("ret/$x/#", "$x"), RCPT_ACCESS_DENY);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), 3);
}
END_TEST

START_TEST(test_subscribe_elsewhere_falls_back)
{
	const char *filters[] = {"#", "+/C/x", "+/+/+", "other/topic", "req/A", "req/#", "ret",
		"retx/#", "$share/g/other/#", "$share/g", "$SYS/#"};
	for(size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++){
		ck_assert_msg(sub_as(filters[i], "C") == RCPT_ACCESS_FALLBACK, "'%s' not FALLBACK", filters[i]);
	}
	ck_assert_uint_eq(fake_host__log_total(), 0);
}
END_TEST

START_TEST(test_write)
{
	ck_assert_int_eq(write_as("ret/C/x", "C", NULL), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(write_as("ret/D", "C", NULL), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(write_as("ret", "C", NULL), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(write_as("req/A", "C", NULL), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(write_as("other", "C", NULL), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(write_as("retx/C", "C", NULL), RCPT_ACCESS_FALLBACK);
	ck_assert_uint_eq(fake_host__log_total(), 0);
}
END_TEST

START_TEST(test_configured_return_prefix)
{
	rcpt_core__free(core);
	static const char *const opts[] = {RECEIPTS_OPT_RETURN_PREFIX, "inbox/replies", NULL};
	core = t_core_new(opts);
	ck_assert_int_eq(read_as("inbox/replies/C/x", "C"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(read_as("inbox/replies/C/x", "D"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(read_as("ret/C/x", "D"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_as("inbox/C", "D"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(sub_as("inbox/replies/D/#", "C"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(sub_as("inbox/+/D/#", "C"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(sub_as("ret/D/#", "C"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(write_as("inbox/replies/C", "C", NULL), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(write_as("ret/C", "C", NULL), RCPT_ACCESS_FALLBACK);
}
END_TEST

/* $CONTROL answers control users only, whatever acl_fallback says. */
START_TEST(test_control_topics)
{
	rcpt_core__free(core);
	static const char *const opts[] = {RECEIPTS_OPT_CONTROL_USERS, "admin", NULL};
	core = t_core_new(opts);
	ck_assert_int_eq(read_user(RECEIPTS_CONTROL_RESPONSE_TOPIC, "admin"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(read_user(RECEIPTS_CONTROL_RESPONSE_TOPIC, "eve"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(read_user(RECEIPTS_CONTROL_RESPONSE_TOPIC, NULL), RCPT_ACCESS_DENY);
	ck_assert_int_eq(write_as(RECEIPTS_CONTROL_TOPIC, "ctl", "admin"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(write_as(RECEIPTS_CONTROL_TOPIC, "ctl", "eve"), RCPT_ACCESS_DENY);
	ck_assert_int_eq(write_as("$SYS/broker/x", "ctl", "eve"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_user("$SYS/broker/x", "eve"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(read_user("$CONTROL/dynamic-security/v1", "eve"), RCPT_ACCESS_FALLBACK);
	ck_assert_uint_eq(fake_host__log_total(), 0);

	ck_assert_int_eq(sub_user(RECEIPTS_CONTROL_RESPONSE_TOPIC, "admin"), RCPT_ACCESS_ALLOW);
	ck_assert_int_eq(sub_user("$CONTROL/receipts/#", "admin"), RCPT_ACCESS_ALLOW);
	const char *denied[] = {RECEIPTS_CONTROL_RESPONSE_TOPIC, RECEIPTS_CONTROL_TOPIC, "$CONTROL/receipts/#",
		"$CONTROL/receipts/+/response", "$CONTROL/receipts/v1/#", "$share/g/$CONTROL/receipts/v1/response"};
	for(size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++){
		ck_assert_msg(sub_user(denied[i], "eve") == RCPT_ACCESS_DENY, "'%s' not denied", denied[i]);
	}
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), sizeof(denied) / sizeof(denied[0]));
	/* Wildcards at the start never reach $ topics. */
	ck_assert_int_eq(sub_user("#", "eve"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(sub_user("+/receipts/v1", "eve"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(sub_user("$CONTROL/dynamic-security/#", "eve"), RCPT_ACCESS_FALLBACK);
	/* Wildcards that merely cover the control API are the other access
	 * control's to judge: the broker never delivers $CONTROL publishes. */
	ck_assert_int_eq(sub_user("$CONTROL/#", "eve"), RCPT_ACCESS_FALLBACK);
	ck_assert_int_eq(sub_user("$CONTROL/+/v1", "eve"), RCPT_ACCESS_FALLBACK);
}
END_TEST

Suite *access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc = core_tcase(s, "read");
	tcase_add_test(tc, test_read_return_area);
	tcase_add_test(tc, test_read_elsewhere_falls_back);

	tc = core_tcase(s, "subscribe");
	tcase_add_test(tc, test_subscribe_own_area);
	tcase_add_test(tc, test_subscribe_foreign_denied);
	tcase_add_test(tc, test_subscribe_wildcard_client_id);
	tcase_add_test(tc, test_subscribe_elsewhere_falls_back);

	tc = core_tcase(s, "write");
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_configured_return_prefix);
	tcase_add_test(tc, test_control_topics);
	return s;
}
