/*
 * The original pending-table hash, forwards and backwards. For an 8-byte
 * correlation its last step is h = (rotl(s, 5) ^ word) * K with s fixed by
 * the return topic, folded to 32 bits as h ^ (h >> 32). Every 64-bit h whose
 * halves xor to the target folds to it; multiplying by K's inverse and
 * xoring rotl(s, 5) back gives the word that produces it. Putting the
 * sequence number in h's high half makes 2^32 distinct colliding words, and
 * makes decoding one multiply.
 */
#include <string.h>

#include "corr.h"

#define OLD_HASH_SEED 2166136261u
#define OLD_HASH_K 0x517cc1b727220a95u

static inline uint64_t rotl5(uint64_t h)
{
	return (h << 5) | (h >> 59);
}

static inline uint64_t old_mix(uint64_t h, uint64_t word)
{
	return (rotl5(h) ^ word) * OLD_HASH_K;
}

static uint32_t old_hash_bytes(uint32_t seed, const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = seed;
	while(len >= 8){
		uint64_t word;
		memcpy(&word, b, 8);
		h = old_mix(h, word);
		b += 8;
		len -= 8;
	}
	if(len > 0){
		uint64_t word = 0;
		memcpy(&word, b, len);
		h = old_mix(h, word ^ ((uint64_t)len << 56));
	}
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t corr_old_key_hash(const char *topic, size_t topic_len, const void *corr, size_t corr_len)
{
	uint32_t h = old_hash_bytes(OLD_HASH_SEED, topic, topic_len);
	return old_hash_bytes(h ^ (uint32_t)corr_len, corr, corr_len);
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration doubles the
 * correct low bits each step: 5 steps from 3 bits reach 96). */
static uint64_t inverse(uint64_t a)
{
	uint64_t x = a;
	for(int i = 0; i < 5; i++) x *= 2 - a * x;
	return x;
}

#define MIX_A 0x9e3779b97f4a7c15u
#define MIX_B 0xbf58476d1ce4e5b9u

void corr_codec_init(struct corr_codec *c, enum corr_kind kind, const char *rtopic, uint64_t run_key)
{
	c->kind = kind;
	c->key = run_key;
	if(kind == CORR_CRAFTED){
		uint32_t s = old_hash_bytes(OLD_HASH_SEED, rtopic, strlen(rtopic)) ^ 8u;
		c->key = rotl5(s);
	}
}

uint64_t corr_encode(const struct corr_codec *c, uint64_t seq)
{
	switch(c->kind){
		case CORR_RANDOM: {
			/* Each step is invertible: xor with the key, odd multiplies, xorshifts by 32. */
			uint64_t z = (seq ^ c->key) * MIX_A;
			z ^= z >> 32;
			z *= MIX_B;
			return z ^ (z >> 32);
		}
		case CORR_CRAFTED: {
			uint64_t x = (uint32_t)seq;
			uint64_t h = (x << 32) | (x ^ CORR_CRAFTED_TARGET);
			return (h * inverse(OLD_HASH_K)) ^ c->key;
		}
		default:
			return seq;
	}
}

uint64_t corr_decode(const struct corr_codec *c, uint64_t word)
{
	switch(c->kind){
		case CORR_RANDOM: {
			uint64_t z = word ^ (word >> 32);
			z *= inverse(MIX_B);
			z ^= z >> 32;
			return (z * inverse(MIX_A)) ^ c->key;
		}
		case CORR_CRAFTED:
			return ((word ^ c->key) * OLD_HASH_K) >> 32;
		default:
			return word;
	}
}

int corr_kind_parse(const char *name)
{
	if(!strcmp(name, "seq")) return CORR_SEQ;
	if(!strcmp(name, "random")) return CORR_RANDOM;
	if(!strcmp(name, "crafted")) return CORR_CRAFTED;
	return -1;
}
