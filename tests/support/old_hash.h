/*
 * The hash the plugin's tables used before they were keyed (plugin/core/hash.c
 * as first released): fixed seed, no key, and each 8-byte word mixed in as
 * h = (rotl(h, 5) ^ word) * K, folded to 32 bits as h ^ (h >> 32). Every
 * step can be undone, so keys that all share one value can be made at will.
 * Kept apart from the plugin so that the flooding test, the perf run and the
 * benchmark attack this very function whatever the plugin uses now.
 *
 * Making a collision: every 64-bit h whose halves xor to the target folds to
 * it; multiplying by K's inverse and xoring rotl(state, 5) back gives the
 * word that produces it. Putting a number i in h's high half gives 2^32
 * distinct colliding words, and makes reading i back one multiply.
 */
#ifndef RCPT_TEST_OLD_HASH_H
#define RCPT_TEST_OLD_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OLD_HASH_SEED 2166136261u
#define OLD_HASH_K 0x517cc1b727220a95u

static inline uint64_t old_hash_rotl5(uint64_t h)
{
	return (h << 5) | (h >> 59);
}

static inline uint64_t old_hash_mix(uint64_t state, uint64_t word)
{
	return (old_hash_rotl5(state) ^ word) * OLD_HASH_K;
}

static inline uint32_t old_hash_bytes(uint32_t seed, const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = seed;
	for(; len >= 8; b += 8, len -= 8){
		uint64_t word;
		memcpy(&word, b, 8);
		h = old_hash_mix(h, word);
	}
	if(len > 0){
		uint64_t word = 0;
		memcpy(&word, b, len);
		h = old_hash_mix(h, word ^ ((uint64_t)len << 56));
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration doubles the
 * correct low bits each step: 5 steps from 3 bits reach 96). */
static inline uint64_t inverse_mod_2_64(uint64_t odd)
{
	uint64_t x = odd;
	for(int k = 0; k < 5; k++) x *= 2 - odd * x;
	return x;
}

/* The i-th 8-byte word that, mixed last into state (the hash of what came
 * before it), makes the old hash fold to target. */
static inline uint64_t old_hash_colliding_word(uint64_t state, uint32_t target, uint32_t i)
{
	uint64_t h = ((uint64_t)i << 32) | (uint32_t)(target ^ i);
	return (h * inverse_mod_2_64(OLD_HASH_K)) ^ old_hash_rotl5(state);
}

/* The i a colliding word was made with. */
static inline uint32_t old_hash_colliding_index(uint64_t state, uint64_t word)
{
	return (uint32_t)(old_hash_mix(state, word) >> 32);
}

#endif
