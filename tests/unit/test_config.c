/* Plugin options: defaults, parsing, refusals that name the option, and the
 * cross-option checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "core_parts.h"
#include "suites.h"

static struct rcpt_config cfg;
static char err[512];

static void setup(void)
{
	ck_assert_int_eq(rcpt_config__init(&cfg), RCPT_OK);
	err[0] = '\0';
}

static void teardown(void)
{
	rcpt_config__free(&cfg);
}

static const char *const numeric[] = {
	RECEIPTS_OPT_DEFAULT_TIMEOUT_MS, RECEIPTS_OPT_MAX_TIMEOUT_MS, RECEIPTS_OPT_MAX_PENDING,
	RECEIPTS_OPT_MAX_PENDING_PER_CLIENT, RECEIPTS_OPT_MAX_CORRELATION_LEN, RECEIPTS_OPT_SYS_INTERVAL_S,
	RECEIPTS_OPT_MAX_PENDING_PER_USER, RECEIPTS_OPT_MAX_PENDING_ANONYMOUS, RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN,
};
#define NUMERIC_COUNT ((int)(sizeof(numeric) / sizeof(numeric[0])))

static uint32_t *numeric_slot(const char *name)
{
	if(!strcmp(name, RECEIPTS_OPT_DEFAULT_TIMEOUT_MS)) return &cfg.default_timeout_ms;
	if(!strcmp(name, RECEIPTS_OPT_MAX_TIMEOUT_MS)) return &cfg.max_timeout_ms;
	if(!strcmp(name, RECEIPTS_OPT_MAX_PENDING)) return &cfg.max_pending;
	if(!strcmp(name, RECEIPTS_OPT_MAX_PENDING_PER_CLIENT)) return &cfg.max_pending_per_client;
	if(!strcmp(name, RECEIPTS_OPT_MAX_CORRELATION_LEN)) return &cfg.max_correlation_len;
	if(!strcmp(name, RECEIPTS_OPT_MAX_PENDING_PER_USER)) return &cfg.max_pending_per_user;
	if(!strcmp(name, RECEIPTS_OPT_MAX_PENDING_ANONYMOUS)) return &cfg.max_pending_anonymous;
	if(!strcmp(name, RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN)) return &cfg.max_return_topic_len;
	return &cfg.sys_interval_s;
}

static void assert_err_names(const char *name)
{
	char want[64];
	snprintf(want, sizeof(want), "plugin_opt_%s", name);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' does not name %s", err, want);
}

START_TEST(test_defaults)
{
	ck_assert_str_eq(cfg.request_prefix, "req");
	ck_assert_str_eq(cfg.return_prefix, "ret");
	ck_assert_uint_eq(cfg.default_timeout_ms, 30000);
	ck_assert_uint_eq(cfg.max_timeout_ms, 300000);
	ck_assert_uint_eq(cfg.max_pending, 1000000);
	ck_assert_uint_eq(cfg.max_pending_per_client, 10000);
	ck_assert_uint_eq(cfg.max_correlation_len, 256);
	ck_assert_uint_eq(cfg.max_pending_per_user, 10000);
	ck_assert_uint_eq(cfg.max_pending_anonymous, 0);
	ck_assert_uint_eq(cfg.max_return_topic_len, 256);
	ck_assert_uint_eq(cfg.max_pending_bytes, 268435456u);
	ck_assert_int_eq(cfg.acl_fallback, RCPT_FALLBACK_AUTO);
	ck_assert_int_eq(cfg.open_return_topics, RCPT_OPEN_RETURN_OFF);
	ck_assert_uint_eq(cfg.sys_interval_s, 10);
	ck_assert_ptr_null(cfg.control_users);
	ck_assert(!rcpt_config__is_control_user(&cfg, "admin"));
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_OK);
}
END_TEST

START_TEST(test_describe)
{
	char line[1024];
	rcpt_config__describe(&cfg, line, sizeof(line));
	ck_assert_str_eq(line, "request_prefix=req return_prefix=ret default_timeout_ms=30000 "
			"max_timeout_ms=300000 max_pending=1000000 max_pending_per_client=10000 "
			"max_pending_per_user=10000 max_pending_anonymous=0 max_pending_bytes=268435456 "
			"max_correlation_len=256 max_return_topic_len=256 acl_fallback=auto open_return_topics=off sys_interval_s=10 "
			"state_file=(none) save_interval_s=5 journal_sync=false bind_client_ids=auto "
			"qos2_release_grace_ms=10000 control_users=(none: control API off)");
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_CONTROL_USERS, "admin,ops", err, sizeof(err)), RCPT_OK);
	rcpt_config__describe(&cfg, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, " control_users=admin,ops"));
	/* A short buffer truncates, never overruns. */
	char small[40];
	memset(small, 'z', sizeof(small));
	rcpt_config__describe(&cfg, small, 32);
	ck_assert_uint_eq(strlen(small), 31);
	ck_assert_int_eq(small[32], 'z');
}
END_TEST

START_TEST(test_prefixes_parsed)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_REQUEST_PREFIX, "svc/ask", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_RETURN_PREFIX, "back", err, sizeof(err)), RCPT_OK);
	ck_assert_str_eq(cfg.request_prefix, "svc/ask");
	ck_assert_str_eq(cfg.return_prefix, "back");
	/* 256 bytes is the longest prefix. */
	char longest[257];
	memset(longest, 'p', 256);
	longest[256] = '\0';
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_REQUEST_PREFIX, longest, err, sizeof(err)), RCPT_OK);
	ck_assert_str_eq(cfg.request_prefix, longest);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_RETURN_PREFIX, "r\xC3\xA9t", err, sizeof(err)), RCPT_OK);
}
END_TEST

START_TEST(test_acl_fallback_parsed)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_ACL_FALLBACK, "defer", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(cfg.acl_fallback, RCPT_FALLBACK_DEFER);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_ACL_FALLBACK, "allow", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(cfg.acl_fallback, RCPT_FALLBACK_ALLOW);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_ACL_FALLBACK, "auto", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(cfg.acl_fallback, RCPT_FALLBACK_AUTO);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_ACL_FALLBACK, "deny", err, sizeof(err)), RCPT_ERR_INVAL);
	assert_err_names(RECEIPTS_OPT_ACL_FALLBACK);
	ck_assert_int_eq(cfg.acl_fallback, RCPT_FALLBACK_AUTO);
}
END_TEST

START_TEST(test_open_return_topics_parsed)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_OPEN_RETURN_TOPICS, "tracked", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(cfg.open_return_topics, RCPT_OPEN_RETURN_TRACKED);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_OPEN_RETURN_TOPICS, "off", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(cfg.open_return_topics, RCPT_OPEN_RETURN_OFF);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_OPEN_RETURN_TOPICS, "on", err, sizeof(err)), RCPT_ERR_INVAL);
	assert_err_names(RECEIPTS_OPT_OPEN_RETURN_TOPICS);
	ck_assert_int_eq(cfg.open_return_topics, RCPT_OPEN_RETURN_OFF);
}
END_TEST

/* Each numeric option takes its bounds and a value between. */
START_TEST(test_numeric_bounds_accepted)
{
	static const struct { const char *min, *mid, *max; uint32_t vmin, vmid, vmax; } b[] = {
		{"1", "12345", "86400000", 1, 12345, 86400000},
		{"1", "12345", "86400000", 1, 12345, 86400000},
		{"1", "777", "100000000", 1, 777, 100000000},
		{"1", "777", "100000000", 1, 777, 100000000},
		{"1", "42", "65535", 1, 42, 65535},
		{"0", "60", "86400", 0, 60, 86400},
		{"1", "777", "100000000", 1, 777, 100000000},
		{"0", "777", "100000000", 0, 777, 100000000},
		{"1", "42", "65535", 1, 42, 65535},
	};
	const char *name = numeric[_i];
	uint32_t *slot = numeric_slot(name);
	ck_assert_int_eq(rcpt_config__set(&cfg, name, b[_i].min, err, sizeof(err)), RCPT_OK);
	ck_assert_uint_eq(*slot, b[_i].vmin);
	ck_assert_int_eq(rcpt_config__set(&cfg, name, b[_i].mid, err, sizeof(err)), RCPT_OK);
	ck_assert_uint_eq(*slot, b[_i].vmid);
	ck_assert_int_eq(rcpt_config__set(&cfg, name, b[_i].max, err, sizeof(err)), RCPT_OK);
	ck_assert_uint_eq(*slot, b[_i].vmax);
}
END_TEST

START_TEST(test_numeric_bad_refused)
{
	static const char *const over[] = {"86400001", "86400001", "100000001", "100000001", "65536", "86401",
		"100000001", "100000001", "65536"};
	static const char *const under[] = {"0", "0", "0", "0", "0", "-0", "0", "-0", "0"};
	const char *bad[] = {under[_i], "-1", "", " 5", "5 ", "+5", "1x", "abc", "1.5",
		"18446744073709551616", "4294967297", over[_i]};
	const char *name = numeric[_i];
	uint32_t *slot = numeric_slot(name);
	uint32_t before = *slot;
	for(size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++){
		err[0] = '\0';
		ck_assert_msg(rcpt_config__set(&cfg, name, bad[k], err, sizeof(err)) == RCPT_ERR_INVAL,
				"%s='%s' accepted", name, bad[k]);
		assert_err_names(name);
		ck_assert_uint_eq(*slot, before);
	}
}
END_TEST

START_TEST(test_journal_sync_parsed)
{
	ck_assert(!cfg.journal_sync);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_JOURNAL_SYNC, "true", err, sizeof(err)), RCPT_OK);
	ck_assert(cfg.journal_sync);
	const char *bad[] = {"", "1", "yes", "TRUE", "true ", "on"};
	for(size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++){
		ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_JOURNAL_SYNC, bad[k], err, sizeof(err)), RCPT_ERR_INVAL);
		assert_err_names(RECEIPTS_OPT_JOURNAL_SYNC);
		ck_assert(cfg.journal_sync);
	}
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_JOURNAL_SYNC, "false", err, sizeof(err)), RCPT_OK);
	ck_assert(!cfg.journal_sync);
}
END_TEST

/* A byte count from 4 KiB to 1 TiB. */
START_TEST(test_pending_bytes_parsed)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_PENDING_BYTES, "4096", err, sizeof(err)), RCPT_OK);
	ck_assert_uint_eq(cfg.max_pending_bytes, 4096);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_PENDING_BYTES, "1099511627776", err, sizeof(err)), RCPT_OK);
	ck_assert_uint_eq(cfg.max_pending_bytes, 1099511627776u);
	const char *bad[] = {"4095", "1099511627777", "0", "-1", "", " 5", "1M", "18446744073709551616"};
	for(size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++){
		err[0] = '\0';
		ck_assert_msg(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_PENDING_BYTES, bad[k], err, sizeof(err)) == RCPT_ERR_INVAL,
				"'%s' accepted", bad[k]);
		assert_err_names(RECEIPTS_OPT_MAX_PENDING_BYTES);
		ck_assert_uint_eq(cfg.max_pending_bytes, 1099511627776u);
	}
}
END_TEST

START_TEST(test_control_users_parsed)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_CONTROL_USERS, " admin ,\tops,, x y ", err, sizeof(err)), RCPT_OK);
	ck_assert_ptr_nonnull(cfg.control_users);
	ck_assert_str_eq(cfg.control_users[0], "admin");
	ck_assert_str_eq(cfg.control_users[1], "ops");
	ck_assert_str_eq(cfg.control_users[2], "x y");
	ck_assert_ptr_null(cfg.control_users[3]);
	ck_assert(rcpt_config__is_control_user(&cfg, "ops"));
	ck_assert(!rcpt_config__is_control_user(&cfg, "op"));
	ck_assert(!rcpt_config__is_control_user(&cfg, NULL));
	/* Set again: replaced, not appended; empty turns the API off. */
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_CONTROL_USERS, "root", err, sizeof(err)), RCPT_OK);
	ck_assert(!rcpt_config__is_control_user(&cfg, "admin"));
	ck_assert(rcpt_config__is_control_user(&cfg, "root"));
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_CONTROL_USERS, " , ", err, sizeof(err)), RCPT_OK);
	ck_assert_ptr_null(cfg.control_users);
}
END_TEST

START_TEST(test_unknown_option_refused)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, "max_pendings", "5", err, sizeof(err)), RCPT_ERR_INVAL);
	assert_err_names("max_pendings");
	ck_assert_int_eq(rcpt_config__set(&cfg, NULL, "5", err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_PENDING, NULL, err, sizeof(err)), RCPT_ERR_INVAL);
	ck_assert_uint_eq(cfg.max_pending, 1000000);
}
END_TEST

START_TEST(test_bad_prefix_refused)
{
	char too_long[258];
	memset(too_long, 'p', 257);
	too_long[257] = '\0';
	const char *bad[] = {"", "a/+", "+", "#", "a/#", "$SYS", "$x/y", "/a", "a/", "a//b", "/",
		"\xC3", "a\xFF", too_long};
	const char *keys[] = {RECEIPTS_OPT_REQUEST_PREFIX, RECEIPTS_OPT_RETURN_PREFIX};
	for(size_t k = 0; k < 2; k++){
		for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
			err[0] = '\0';
			ck_assert_msg(rcpt_config__set(&cfg, keys[k], bad[i], err, sizeof(err)) == RCPT_ERR_INVAL,
					"%s='%s' accepted", keys[k], bad[i]);
			assert_err_names(keys[k]);
		}
	}
	ck_assert_str_eq(cfg.request_prefix, "req");
	ck_assert_str_eq(cfg.return_prefix, "ret");
}
END_TEST

START_TEST(test_validate_timeouts)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_TIMEOUT_MS, "30000", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_TIMEOUT_MS, "29999", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_ERR_INVAL);
	assert_err_names(RECEIPTS_OPT_DEFAULT_TIMEOUT_MS);
	assert_err_names(RECEIPTS_OPT_MAX_TIMEOUT_MS);
}
END_TEST

START_TEST(test_validate_pending)
{
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_PENDING, "10000", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_MAX_PENDING, "9999", err, sizeof(err)), RCPT_OK);
	ck_assert_int_eq(rcpt_config__validate(&cfg, err, sizeof(err)), RCPT_ERR_INVAL);
	assert_err_names(RECEIPTS_OPT_MAX_PENDING_PER_CLIENT);
	assert_err_names(RECEIPTS_OPT_MAX_PENDING);
}
END_TEST

START_TEST(test_validate_overlapping_prefixes)
{
	static const char *const pairs[][2] = {
		{"req", "req"}, {"req", "req/ret"}, {"a/b", "a"}, {"x/y/z", "x/y"},
	};
	for(size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++){
		ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_REQUEST_PREFIX, pairs[i][0], err, sizeof(err)), RCPT_OK);
		ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_RETURN_PREFIX, pairs[i][1], err, sizeof(err)), RCPT_OK);
		err[0] = '\0';
		ck_assert_msg(rcpt_config__validate(&cfg, err, sizeof(err)) == RCPT_ERR_INVAL,
				"'%s' and '%s' pass", pairs[i][0], pairs[i][1]);
		assert_err_names(RECEIPTS_OPT_REQUEST_PREFIX);
		assert_err_names(RECEIPTS_OPT_RETURN_PREFIX);
	}
	/* Sharing leading characters is not sharing a level. */
	static const char *const apart[][2] = {{"req", "request"}, {"a/b", "a/bc"}, {"ret", "req"}};
	for(size_t i = 0; i < sizeof(apart) / sizeof(apart[0]); i++){
		ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_REQUEST_PREFIX, apart[i][0], err, sizeof(err)), RCPT_OK);
		ck_assert_int_eq(rcpt_config__set(&cfg, RECEIPTS_OPT_RETURN_PREFIX, apart[i][1], err, sizeof(err)), RCPT_OK);
		ck_assert_msg(rcpt_config__validate(&cfg, err, sizeof(err)) == RCPT_OK,
				"'%s' and '%s' refused: %s", apart[i][0], apart[i][1], err);
	}
}
END_TEST

/* The core works with the prefixes it is given, not the defaults. */
START_TEST(test_core_uses_configured_prefixes)
{
	fake_host__reset();
	static const char *const opts[] = {RECEIPTS_OPT_REQUEST_PREFIX, "svc/ask",
		RECEIPTS_OPT_RETURN_PREFIX, "back", NULL};
	struct rcpt_core *core = t_core_new(opts);
	struct rcpt_decision d;
	struct rcpt_publish m = t_req("C", "svc/ask/A", "back/C/x", "c1");
	rcpt_core__on_publish(core, &m, &d); t_note(&d);
	ck_assert_int_eq(d.action, RCPT_REQUEST);
	rcpt_core__request_abort(core, d.pending);

	m = t_req("C", "req/A", "ret/C/x", "c2");
	rcpt_core__on_publish(core, &m, &d); t_note(&d);
	ck_assert_int_eq(d.action, RCPT_PASS);

	m = t_msg("C", "back/D/x");
	rcpt_core__on_publish(core, &m, &d); t_note(&d);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	ck_assert_str_eq(d.reason, RECEIPTS_UNMATCHED_NO_CORRELATION);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	rcpt_core__free(core);
	fake_host__reset();
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_pending_bytes_parsed);
	tcase_add_test(tc, test_journal_sync_parsed);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_prefixes_parsed);
	tcase_add_test(tc, test_acl_fallback_parsed);
	tcase_add_test(tc, test_open_return_topics_parsed);
	tcase_add_loop_test(tc, test_numeric_bounds_accepted, 0, NUMERIC_COUNT);
	tcase_add_test(tc, test_control_users_parsed);
	tcase_add_test(tc, test_core_uses_configured_prefixes);
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_numeric_bad_refused, 0, NUMERIC_COUNT);
	tcase_add_test(tc, test_unknown_option_refused);
	tcase_add_test(tc, test_bad_prefix_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_validate_timeouts);
	tcase_add_test(tc, test_validate_pending);
	tcase_add_test(tc, test_validate_overlapping_prefixes);
	suite_add_tcase(s, tc);
	return s;
}
