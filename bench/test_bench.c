/*
 * The benchmark's own arithmetic, checked without a broker: the reproduced
 * original pending-table hash, the correlation codecs (each decodes back; the
 * crafted ones are distinct and all collide), and MQTT fixed-header framing.
 * A hostile figure built on a wrong inversion or a misread packet would
 * measure nothing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "corr.h"
#include "swarm.h"

volatile int bench_stop = 0;

/* Computed with plugin/core/hash.c as first released: key_hash(topic, corr). */
static const struct { const char *topic, *corr; uint32_t hash; } golden[] = {
	{"ret/alice/r", "12345678", 0x2f5cb995u},
	{"", "", 0x811c9dc5u},
	{"ret/bench-1234-fill0/r", "abc", 0x8a10808cu},
	{"open/topic/with/more/than/sixteen/bytes", "correlation-0123456789", 0xb90aa598u},
};

START_TEST(test_old_hash_matches_the_original)
{
	for(size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++){
		ck_assert_uint_eq(corr_old_key_hash(golden[i].topic, strlen(golden[i].topic), golden[i].corr,
				strlen(golden[i].corr)), golden[i].hash);
	}
}
END_TEST

#define N 100000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Encodes seq 0..N-1; each decodes back and no two are equal. */
static uint64_t *encode_all(const struct corr_codec *c)
{
	uint64_t *w = malloc(N * sizeof(*w));
	ck_assert_ptr_nonnull(w);
	for(uint64_t s = 0; s < N; s++){
		w[s] = corr_encode(c, s);
		ck_assert_uint_eq(corr_decode(c, w[s]), s);
	}
	uint64_t *sorted = malloc(N * sizeof(*sorted));
	ck_assert_ptr_nonnull(sorted);
	memcpy(sorted, w, N * sizeof(*w));
	qsort(sorted, N, sizeof(*sorted), cmp_u64);
	for(size_t i = 1; i < N; i++) ck_assert_uint_ne(sorted[i - 1], sorted[i]);
	free(sorted);
	return w;
}

START_TEST(test_crafted_correlations_all_collide)
{
	static const char *topics[] = {"ret/bench-1-fill0/r", "ret/bench-987654-fill3/r", "x"};
	for(size_t t = 0; t < 3; t++){
		struct corr_codec c;
		corr_codec_init(&c, CORR_CRAFTED, topics[t], 0);
		uint64_t *w = encode_all(&c);
		for(size_t s = 0; s < N; s++){
			ck_assert_uint_eq(corr_old_key_hash(topics[t], strlen(topics[t]), &w[s], 8), CORR_CRAFTED_TARGET);
		}
		free(w);
	}
}
END_TEST

START_TEST(test_random_correlations_spread)
{
	const char *topic = "ret/bench-1-fill0/r";
	struct corr_codec c;
	corr_codec_init(&c, CORR_RANDOM, topic, 0x0123456789abcdefu);
	uint64_t *w = encode_all(&c);
	/* Under the original hash they fill a 2^16-bucket table about evenly. */
	static unsigned buckets[1 << 16];
	memset(buckets, 0, sizeof(buckets));
	unsigned longest = 0;
	for(size_t s = 0; s < N; s++){
		unsigned *b = &buckets[corr_old_key_hash(topic, strlen(topic), &w[s], 8) & 0xffff];
		if(++*b > longest) longest = *b;
	}
	ck_assert_uint_le(longest, 16);
	free(w);
	corr_codec_init(&c, CORR_SEQ, topic, 0);
	ck_assert_uint_eq(corr_encode(&c, 42), 42);
	ck_assert_int_eq(corr_kind_parse("crafted"), CORR_CRAFTED);
	ck_assert_int_eq(corr_kind_parse("random"), CORR_RANDOM);
	ck_assert_int_eq(corr_kind_parse("Crafted"), -1);
}
END_TEST

START_TEST(test_swarm_frames_fixed_headers)
{
	size_t hdr = 0, len = 0;
	static const uint8_t connack[] = {0x20, 0x03, 0x00, 0x00, 0x00};
	ck_assert_int_eq(swarm_frame(connack, sizeof(connack), &hdr, &len), 1);
	ck_assert_uint_eq(hdr, 2);
	ck_assert_uint_eq(len, 3);
	/* Remaining length 200 takes two bytes: 0xc8 0x01. */
	static const uint8_t publish[] = {0x30, 0xc8, 0x01};
	ck_assert_int_eq(swarm_frame(publish, sizeof(publish), &hdr, &len), 1);
	ck_assert_uint_eq(hdr, 3);
	ck_assert_uint_eq(len, 200);
	ck_assert_int_eq(swarm_frame(publish, 2, &hdr, &len), 0);
	ck_assert_int_eq(swarm_frame(publish, 1, &hdr, &len), 0);
	static const uint8_t disconnect[] = {0xe0, 0x00};
	ck_assert_int_eq(swarm_frame(disconnect, sizeof(disconnect), &hdr, &len), 1);
	ck_assert_uint_eq(len, 0);
	/* Five length bytes is malformed. */
	static const uint8_t bad[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
	ck_assert_int_eq(swarm_frame(bad, sizeof(bad), &hdr, &len), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("corr");
	tcase_add_test(tc, test_old_hash_matches_the_original);
	tcase_add_test(tc, test_crafted_correlations_all_collide);
	tcase_add_test(tc, test_random_correlations_spread);
	suite_add_tcase(s, tc);
	tc = tcase_create("swarm");
	tcase_add_test(tc, test_swarm_frames_fixed_headers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
