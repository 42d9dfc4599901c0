/* The keyed hash (SipHash-1-3 against known answers, hash flooding) and the
 * intrusive hash table: power-of-two sizing, growth, removal. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htable.h"
#include "clients.h"
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
 * length (trailing NULs included), of the seed or of the key gives
 * another; and the
 * low bits the table uses spread keys that differ only in a counter. */
START_TEST(test_hash_bytes)
{
	const char key[] = "ret/client-17/replies\0\0";
	uint32_t h = rcpt_hash__bytes(RCPT_HASH_SEED, key, 21);
	ck_assert_uint_eq(rcpt_hash__bytes(RCPT_HASH_SEED, key, 21), h);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED + 1, key, 21), h);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED, key, 22), h);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED, key, 23), rcpt_hash__bytes(RCPT_HASH_SEED, key, 22));
	static const uint8_t other_key[16] = {1};
	rcpt_hash__set_key(other_key);
	ck_assert_uint_ne(rcpt_hash__bytes(RCPT_HASH_SEED, key, 21), h);
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

static const uint8_t key_00_0f[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The paper's vector (appendix A: key 00..0f, message 00..0e) checks the
 * rounds, the word order and the length byte that 1-3 shares with 2-4. */
START_TEST(test_siphash24_paper_vector)
{
	uint8_t msg[15];
	for(size_t i = 0; i < sizeof(msg); i++) msg[i] = (uint8_t)i;
	ck_assert_uint_eq(rcpt_hash__siphash24(key_00_0f, msg, sizeof(msg)), 0xa129ca6149be45e5u);
}
END_TEST

/* SipHash-1-3 of messages 00..n-1. The zero-key values agree with
 * CPython's own str/bytes hash (SipHash-1-3, key zero under
 * PYTHONHASHSEED=0); tests/unit/siphash13_vectors.py recomputes every value
 * with an independent implementation and checks it against CPython. */
START_TEST(test_siphash13_vectors)
{
	static const struct { size_t len; uint64_t zero_key; uint64_t key_00_0f; } v[] = {
		{0, 0xd1fba762150c532cu, 0xabac0158050fc4dcu},
		{1, 0x68a914128e01e473u, 0xc9f49bf37d57ca93u},
		{7, 0x2f098ab0c751325au, 0xd3927d989bb11140u},
		{8, 0xead411e67ebe2eeau, 0x369095118d299a8eu},
		{9, 0x75927f9d95124362u, 0x25a48eb36c063de4u},
		{15, 0xf30eb725bb91c9eau, 0xd320d86d2a519956u},
		{16, 0x8972188433a5c5b7u, 0xcc4fdd1a7d908b66u},
		{17, 0x4883c49a2c009c1du, 0x9cf2689063dbd80cu},
		{63, 0x385d3e39e5f37359u, 0x9d199062b7bbb3a8u},
	};
	static const uint8_t zero_key[16] = {0};
	uint8_t msg[64];
	for(size_t i = 0; i < sizeof(msg); i++) msg[i] = (uint8_t)i;
	for(size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++){
		ck_assert_uint_eq(rcpt_hash__siphash13(zero_key, msg, v[i].len), v[i].zero_key);
		ck_assert_uint_eq(rcpt_hash__siphash13(key_00_0f, msg, v[i].len), v[i].key_00_0f);
	}
	/* The tables' hash is SipHash-1-3 under the process key, folded. */
	rcpt_hash__set_key(key_00_0f);
	uint64_t h = v[3].key_00_0f;
	ck_assert_uint_eq(rcpt_hash__bytes(0, msg, 8), (uint32_t)(h ^ (h >> 32)));
}
END_TEST

/* The hash the tables used before: unkeyed, and invertible word by word. */
#define OLD_MULTIPLIER 0x517cc1b727220a95u

static uint64_t old_mix(uint64_t h, uint64_t word)
{
	return (((h << 5) | (h >> 59)) ^ word) * OLD_MULTIPLIER;
}

static uint32_t old_hash(uint32_t seed, const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = seed;
	for(; len >= 8; b += 8, len -= 8){
		uint64_t word;
		memcpy(&word, b, 8);
		h = old_mix(h, word);
	}
	if(len > 0){
		uint64_t word = 0;
		memcpy(&word, b, len);
		h = old_mix(h, word ^ ((uint64_t)len << 56));
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* 8-byte client ids that all hash to `target` under the old hash (the
 * client registry's key): pick 64-bit results that fold to it, and undo the
 * multiply and the xor. Words with a NUL byte cannot be ids: false. */
static bool craft_old_collision(uint32_t target, uint32_t i, char id[9])
{
	uint64_t inverse = OLD_MULTIPLIER;   /* Newton: each step doubles the correct low bits */
	for(int k = 0; k < 5; k++) inverse *= 2 - OLD_MULTIPLIER * inverse;
	uint64_t h = RCPT_HASH_SEED;
	uint64_t out = ((uint64_t)i << 32) | (uint32_t)(target ^ i);
	uint64_t word = (out * inverse) ^ ((h << 5) | (h >> 59));
	memcpy(id, &word, 8);
	id[8] = '\0';
	return memchr(id, '\0', 8) == NULL;
}

static size_t longest_chain(const struct rcpt_htable *t)
{
	size_t worst = 0;
	for(size_t i = 0; i <= t->mask; i++){
		size_t n = 0;
		for(struct rcpt_hnode *e = t->buckets[i]; e; e = e->next) n++;
		if(n > worst) worst = n;
	}
	return worst;
}

/* 100,000 client ids crafted to share one hash under the old function
 * spread over the client registry under the keyed one: every lookup,
 * insert and removal walks a short chain. */
START_TEST(test_flooding_spreads)
{
	enum { N = 100000 };
	char (*ids)[9] = malloc(N * sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	uint32_t made = 0;
	for(uint32_t i = 0; made < N; i++){
		if(!craft_old_collision(0x5eed5eedu, i, ids[made])) continue;
		ck_assert_uint_eq(old_hash(RCPT_HASH_SEED, ids[made], 8), 0x5eed5eedu);
		made++;
	}
	ck_assert(strcmp(ids[1], ids[2]));

	rcpt_hash__init_key();
	struct rcpt_clients clients;
	ck_assert_int_eq(rcpt_clients__init(&clients), RCPT_OK);
	for(uint32_t i = 0; i < N; i++){
		ck_assert_ptr_null(rcpt_clients__find(&clients, ids[i]));
		ck_assert_ptr_nonnull(rcpt_clients__add(&clients, ids[i], RCPT_SESSION_ONLINE_CLEAN));
	}
	ck_assert_uint_eq(rcpt_clients__count(&clients), N);
	/* Random keys at this load have a longest chain of about 8. */
	ck_assert_uint_le(longest_chain(&clients.table), 16);
	for(uint32_t i = 0; i < N; i++){
		struct rcpt_client *c = rcpt_clients__find(&clients, ids[i]);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(c->id, ids[i]);
		rcpt_clients__release_if_unused(&clients, c);
	}
	ck_assert_uint_eq(rcpt_clients__count(&clients), 0);
	rcpt_clients__free(&clients);
	free(ids);
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
	TCase *keyed = tcase_create("keyed");
	tcase_add_test(keyed, test_siphash24_paper_vector);
	tcase_add_test(keyed, test_siphash13_vectors);
	tcase_add_test(keyed, test_flooding_spreads);
	tcase_set_timeout(keyed, 30);
	suite_add_tcase(s, keyed);
	return s;
}
