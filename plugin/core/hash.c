/*
 * Eight bytes a step, a rotate, xor and multiply each (the "Fx" hash): keys
 * are short and hashed on every request and receipt, so speed matters more
 * than strength. Tables take the low bits, so the result is folded down
 * from 64 bits.
 */
#include <string.h>

#include "hash.h"

static inline uint64_t mix(uint64_t h, uint64_t word)
{
	return (((h << 5) | (h >> 59)) ^ word) * 0x517cc1b727220a95u;
}

uint32_t rcpt_hash__bytes(uint32_t seed, const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = seed;
	while(len >= 8){
		uint64_t word;
		memcpy(&word, b, 8);
		h = mix(h, word);
		b += 8;
		len -= 8;
	}
	if(len > 0){
		uint64_t word = 0;
		memcpy(&word, b, len);
		h = mix(h, word ^ ((uint64_t)len << 56));
	}
	return (uint32_t)(h ^ (h >> 32));
}
