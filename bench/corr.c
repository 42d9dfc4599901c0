/*
 * Correlation codecs (see the header). The crafted ones invert the original
 * pending-table hash (tests/support/old_hash.h).
 */
#include <string.h>

#include "corr.h"
#include "old_hash.h"

uint32_t corr_old_key_hash(const char *topic, size_t topic_len, const void *corr, size_t corr_len)
{
	uint32_t h = old_hash_bytes(OLD_HASH_SEED, topic, topic_len);
	return old_hash_bytes(h ^ (uint32_t)corr_len, corr, corr_len);
}

#define MIX_A 0x9e3779b97f4a7c15u
#define MIX_B 0xbf58476d1ce4e5b9u

void corr_codec_init(struct corr_codec *c, enum corr_kind kind, const char *rtopic, uint64_t run_key)
{
	c->kind = kind;
	c->key = run_key;
	if(kind == CORR_CRAFTED){
		/* The hash of the return topic, then the correlation's length. */
		c->key = old_hash_bytes(OLD_HASH_SEED, rtopic, strlen(rtopic)) ^ 8u;
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
		case CORR_CRAFTED:
			return old_hash_colliding_word(c->key, CORR_CRAFTED_TARGET, (uint32_t)seq);
		default:
			return seq;
	}
}

uint64_t corr_decode(const struct corr_codec *c, uint64_t word)
{
	switch(c->kind){
		case CORR_RANDOM: {
			uint64_t z = word ^ (word >> 32);
			z *= inverse_mod_2_64(MIX_B);
			z ^= z >> 32;
			return (z * inverse_mod_2_64(MIX_A)) ^ c->key;
		}
		case CORR_CRAFTED:
			return old_hash_colliding_index(c->key, word);
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
