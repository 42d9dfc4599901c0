/* Topic rules: what a level may be, and where a topic stands against a
 * prefix. */
#include <check.h>
#include <string.h>

#include "names.h"
#include "receipts.h"
#include "suites.h"

static bool level(const char *s)
{
	return rcpt_names__valid_level(s, strlen(s));
}

START_TEST(test_level_plain)
{
	ck_assert(level("A"));
	ck_assert(level("sensor-7_x.y"));
	ck_assert(level("a$b"));       /* only a leading '$' is the broker's */
	ck_assert(level("a b"));
}
END_TEST

START_TEST(test_level_refused_chars)
{
	ck_assert(!rcpt_names__valid_level("", 0));
	ck_assert(!level("a/b"));
	ck_assert(!level("/"));
	ck_assert(!level("+"));
	ck_assert(!level("a+"));
	ck_assert(!level("#"));
	ck_assert(!level("a#"));
	ck_assert(!level("$SYS"));
	ck_assert(!level("$"));
	/* An embedded NUL inside the given length. */
	ck_assert(!rcpt_names__valid_level("ab\0c", 4));
}
END_TEST

START_TEST(test_level_length_limit)
{
	char s[RECEIPTS_MAX_AREA_LEN + 2];
	memset(s, 'x', sizeof(s));
	ck_assert(rcpt_names__valid_level(s, RECEIPTS_MAX_AREA_LEN));
	ck_assert(!rcpt_names__valid_level(s, RECEIPTS_MAX_AREA_LEN + 1));
	/* The limit counts bytes, not characters. */
	s[126] = (char)0xC3;
	s[127] = (char)0xA9;
	ck_assert(rcpt_names__valid_level(s, 128));
	s[127] = (char)0xC3;
	s[128] = (char)0xA9;
	ck_assert(!rcpt_names__valid_level(s, 129));
}
END_TEST

/* Only the first len bytes count: a level may be a slice of a topic. */
START_TEST(test_level_slice)
{
	ck_assert(rcpt_names__valid_level("A/sub", 1));
	ck_assert(!rcpt_names__valid_level("A/sub", 2));
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert(level("\xC3\xA9"));                 /* é */
	ck_assert(level("\xE2\x82\xAC"));             /* € */
	ck_assert(level("\xF0\x9F\x98\x80"));         /* U+1F600 */
	ck_assert(level("\xF4\x8F\xBF\xBF"));         /* U+10FFFF */
	ck_assert(level("\xED\x9F\xBF"));             /* U+D7FF, just below the surrogates */
	ck_assert(level("\xEE\x80\x80"));             /* U+E000, just above */
}
END_TEST

START_TEST(test_utf8_invalid)
{
	static const char *const bad[] = {
		"\x80",                 /* lone continuation */
		"a\xBF",
		"\xC3",                 /* truncated */
		"\xE2\x82",
		"\xF0\x9F\x98",
		"\xC3(",                /* bad continuation */
		"\xFF", "\xFE", "\xF5\x80\x80\x80",
		"\xC0\xAF", "\xC1\xBF",            /* overlong 2-byte */
		"\xE0\x80\xAF", "\xE0\x9F\xBF",    /* overlong 3-byte */
		"\xF0\x80\x80\xAF", "\xF0\x8F\xBF\xBF",   /* overlong 4-byte */
		"\xED\xA0\x80", "\xED\xBF\xBF",    /* surrogates */
		"\xF4\x90\x80\x80",                /* past U+10FFFF */
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ck_assert_msg(!level(bad[i]), "invalid UTF-8 #%zu accepted", i);
	}
}
END_TEST

START_TEST(test_below)
{
	ck_assert_str_eq(rcpt_names__below("req", "req", 3), "");
	ck_assert_str_eq(rcpt_names__below("req/A", "req", 3), "A");
	ck_assert_str_eq(rcpt_names__below("req/A/sub", "req", 3), "A/sub");
	ck_assert_str_eq(rcpt_names__below("req//x", "req", 3), "/x");
	ck_assert_str_eq(rcpt_names__below("a/b/c", "a/b", 3), "c");
	ck_assert_ptr_null(rcpt_names__below("reqx", "req", 3));
	ck_assert_ptr_null(rcpt_names__below("requests/A", "req", 3));
	ck_assert_ptr_null(rcpt_names__below("re", "req", 3));
	ck_assert_ptr_null(rcpt_names__below("", "req", 3));
	ck_assert_ptr_null(rcpt_names__below("other/req/A", "req", 3));
	ck_assert_ptr_null(rcpt_names__below("Req/A", "req", 3));
}
END_TEST

START_TEST(test_level_len)
{
	ck_assert_uint_eq(rcpt_names__level_len(""), 0);
	ck_assert_uint_eq(rcpt_names__level_len("A"), 1);
	ck_assert_uint_eq(rcpt_names__level_len("abc/def"), 3);
	ck_assert_uint_eq(rcpt_names__level_len("/x"), 0);
	ck_assert_uint_eq(rcpt_names__level_len("ab/"), 2);
}
END_TEST

START_TEST(test_has_wildcard)
{
	ck_assert(rcpt_names__has_wildcard("a/+/b"));
	ck_assert(rcpt_names__has_wildcard("#"));
	ck_assert(rcpt_names__has_wildcard("a#"));
	ck_assert(!rcpt_names__has_wildcard("a/b/c"));
	ck_assert(!rcpt_names__has_wildcard(""));
}
END_TEST

START_TEST(test_filter_matches)
{
	ck_assert(rcpt_names__filter_matches("a/b", "a/b"));
	ck_assert(rcpt_names__filter_matches("a/+", "a/b"));
	ck_assert(rcpt_names__filter_matches("+/+", "a/b"));
	ck_assert(rcpt_names__filter_matches("#", "a/b"));
	ck_assert(rcpt_names__filter_matches("a/#", "a/b/c"));
	ck_assert(rcpt_names__filter_matches("a/#", "a"));
	ck_assert(rcpt_names__filter_matches("a/+/c", "a//c"));
	ck_assert(!rcpt_names__filter_matches("a/b", "a/bc"));
	ck_assert(!rcpt_names__filter_matches("a/+", "a/b/c"));
	ck_assert(!rcpt_names__filter_matches("a/b/c", "a/b"));
	ck_assert(!rcpt_names__filter_matches("+", "a/b"));
	ck_assert(!rcpt_names__filter_matches("a/b/#", "a"));
	/* $ topics are reached only by naming their first level. */
	ck_assert(!rcpt_names__filter_matches("#", "$SYS/x"));
	ck_assert(!rcpt_names__filter_matches("+/x", "$SYS/x"));
	ck_assert(rcpt_names__filter_matches("$SYS/#", "$SYS/x"));
	ck_assert(rcpt_names__filter_matches("$SYS/+", "$SYS/x"));
}
END_TEST

Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("valid_level");
	tcase_add_test(tc, test_level_plain);
	tcase_add_test(tc, test_level_refused_chars);
	tcase_add_test(tc, test_level_length_limit);
	tcase_add_test(tc, test_level_slice);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_utf8_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("topics");
	tcase_add_test(tc, test_below);
	tcase_add_test(tc, test_level_len);
	tcase_add_test(tc, test_has_wildcard);
	tcase_add_test(tc, test_filter_matches);
	suite_add_tcase(s, tc);
	return s;
}
