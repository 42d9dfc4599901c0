/* The intrusive hash table: FNV-1a, power-of-two sizing, growth, removal. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htable.h"
#include "suites.h"

struct item {
	struct rcpt_hnode node;
	unsigned value;
};

static bool contains(const struct rcpt_htable *t, const struct item *it)
{
	for(struct rcpt_hnode *n = rcpt_htable__chain(t, it->node.hash); n; n = n->next){
		if(n == &it->node) return true;
	}
	return false;
}

static size_t walk_count(const struct rcpt_htable *t)
{
	size_t n = 0;
	for(size_t i = 0; i <= t->mask; i++){
		for(struct rcpt_hnode *e = t->buckets[i]; e; e = e->next) n++;
	}
	return n;
}

/* The same bytes give the same hash; a change of one byte, of the
 * length (trailing NULs included) or of the seed gives another; and the
 * low bits the table uses spread keys that differ only in a counter. */
START_TEST(test_hash_bytes)
{
	const char key[] = "ret/client-17/replies\0\0";
	uint32_t h = rcpt_hash__bytes(RCPT_HASH_SEED, key, 21);
	ck_assert_uint_eq(rcpt_hash__bytes(RCPT_HASH_SEED, key, 21), h);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED + 1, key, 21), h);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED, key, 22), h);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED, key, 23), rcpt_hash__bytes(RCPT_HASH_SEED, key, 22));
	char other[21];
	for(size_t i = 0; i < sizeof(other); i++){
		memcpy(other, key, sizeof(other));
		other[i] ^= 1;
		ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED, other, sizeof(other)), h);
	}
	enum { KEYS = 4096, SLOTS = 1024 };
	unsigned used[SLOTS] = {0};
	for(unsigned i = 0; i < KEYS; i++){
		char k[32];
		int n = snprintf(k, sizeof(k), "ret/c/x%u", i);
		used[rcpt_hash__bytes(RCPT_HASH_SEED, k, (size_t)n) % SLOTS]++;
	}
	unsigned worst = 0;
	for(size_t i = 0; i < SLOTS; i++) if(used[i] > worst) worst = used[i];
	/* 4 keys a slot on average; a poor spread would pile dozens up. */
	ck_assert_uint_le(worst, 16);
}
END_TEST

START_TEST(test_init_sizes)
{
	static const size_t asked[] = {0, 1, 8, 9, 64, 1000, 1024};
	static const size_t got[] = {8, 8, 8, 16, 64, 1024, 1024};
	for(size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++){
		struct rcpt_htable t;
		ck_assert_int_eq(rcpt_htable__init(&t, asked[i]), RCPT_OK);
		ck_assert_uint_eq(t.mask + 1, got[i]);
		ck_assert_uint_eq(t.count, 0);
		ck_assert_uint_eq(walk_count(&t), 0);
		rcpt_htable__free(&t);
		ck_assert_ptr_null(t.buckets);
	}
}
END_TEST

START_TEST(test_insert_grow_remove)
{
	enum { N = 1000 };
	struct rcpt_htable t;
	struct item *items = calloc(N, sizeof(*items));
	ck_assert_ptr_nonnull(items);
	ck_assert_int_eq(rcpt_htable__init(&t, 8), RCPT_OK);
	for(unsigned i = 0; i < N; i++){
		items[i].value = i;
		rcpt_htable__insert(&t, &items[i].node, rcpt_hash__bytes(RCPT_HASH_SEED, &i, sizeof(i)));
	}
	ck_assert_uint_eq(t.count, N);
	ck_assert_uint_eq(walk_count(&t), N);
	/* It doubled while filling, keeping chains short. */
	ck_assert_uint_ge(t.mask + 1, N / 2);
	ck_assert_uint_eq((t.mask + 1) & t.mask, 0);
	for(unsigned i = 0; i < N; i++) ck_assert(contains(&t, &items[i]));

	for(unsigned i = 0; i < N; i += 2) rcpt_htable__remove(&t, &items[i].node);
	ck_assert_uint_eq(t.count, N / 2);
	ck_assert_uint_eq(walk_count(&t), N / 2);
	for(unsigned i = 0; i < N; i++) ck_assert(contains(&t, &items[i]) == (i % 2 == 1));
	for(unsigned i = 1; i < N; i += 2) rcpt_htable__remove(&t, &items[i].node);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_uint_eq(walk_count(&t), 0);
	rcpt_htable__free(&t);
	free(items);
}
END_TEST

/* Entries with one hash share a chain; removing from its middle keeps the
 * others. */
START_TEST(test_collisions)
{
	struct rcpt_htable t;
	struct item it[5];
	memset(it, 0, sizeof(it));
	ck_assert_int_eq(rcpt_htable__init(&t, 8), RCPT_OK);
	for(int i = 0; i < 5; i++) rcpt_htable__insert(&t, &it[i].node, 42);
	rcpt_htable__remove(&t, &it[2].node);
	rcpt_htable__remove(&t, &it[4].node);   /* chain head */
	rcpt_htable__remove(&t, &it[0].node);   /* chain tail */
	ck_assert_uint_eq(t.count, 2);
	ck_assert(contains(&t, &it[1]));
	ck_assert(contains(&t, &it[3]));
	ck_assert(!contains(&t, &it[2]));
	ck_assert_uint_eq(walk_count(&t), 2);
	rcpt_htable__free(&t);
}
END_TEST

START_TEST(test_remove_absent_is_noop)
{
	struct rcpt_htable t;
	struct item in, out;
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(rcpt_htable__init(&t, 8), RCPT_OK);
	rcpt_htable__insert(&t, &in.node, 7);
	out.node.hash = 7;
	rcpt_htable__remove(&t, &out.node);
	ck_assert_uint_eq(t.count, 1);
	ck_assert(contains(&t, &in));
	rcpt_htable__remove(&t, &in.node);
	rcpt_htable__remove(&t, &in.node);
	ck_assert_uint_eq(t.count, 0);
	rcpt_htable__free(&t);
}
END_TEST

Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("htable");
	tcase_add_test(tc, test_hash_bytes);
	tcase_add_test(tc, test_init_sizes);
	tcase_add_test(tc, test_insert_grow_remove);
	tcase_add_test(tc, test_collisions);
	tcase_add_test(tc, test_remove_absent_is_noop);
	suite_add_tcase(s, tc);
	return s;
}
