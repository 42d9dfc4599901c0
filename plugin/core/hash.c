/*
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012),
 * written from the paper's description: four 64-bit words of state set from
 * the key, c rounds of SipRound per 8-byte little-endian word of input, the
 * last word carrying the length in its top byte, then 0xff into v2 and d
 * rounds. 1-3 (one round a word, three at the end) is the variant hash
 * tables commonly use: short keys stay cheap and the output is still
 * unpredictable without the key.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

static uint8_t process_key[16];
static bool process_key_set;

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for(int i = 7; i >= 0; i--) v = (v << 8) | p[i];
	return v;
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1; s->v1 = rotl(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3; s->v3 = rotl(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = rotl(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = rotl(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl(s->v2, 32);
}

static inline void sip_word(struct sip_state *s, uint64_t m, unsigned c_rounds)
{
	s->v3 ^= m;
	for(unsigned i = 0; i < c_rounds; i++) sip_round(s);
	s->v0 ^= m;
}

static inline uint64_t siphash(uint64_t k0, uint64_t k1, unsigned c_rounds, unsigned d_rounds,
		const void *data, size_t len)
{
	struct sip_state s = {
		.v0 = k0 ^ 0x736f6d6570736575u,   /* "somepseu" */
		.v1 = k1 ^ 0x646f72616e646f6du,   /* "dorandom" */
		.v2 = k0 ^ 0x6c7967656e657261u,   /* "lygenera" */
		.v3 = k1 ^ 0x7465646279746573u,   /* "tedbytes" */
	};
	const uint8_t *b = data;
	size_t left = len;
	while(left >= 8){
		sip_word(&s, load_le64(b), c_rounds);
		b += 8;
		left -= 8;
	}
	uint8_t tail[8] = {0};
	if(left) memcpy(tail, b, left);
	sip_word(&s, load_le64(tail) | ((uint64_t)(len & 0xff) << 56), c_rounds);
	s.v2 ^= 0xff;
	for(unsigned i = 0; i < d_rounds; i++) sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t rcpt_hash__siphash13(const uint8_t key[16], const void *data, size_t len)
{
	return siphash(load_le64(key), load_le64(key + 8), 1, 3, data, len);
}

uint64_t rcpt_hash__siphash24(const uint8_t key[16], const void *data, size_t len)
{
	return siphash(load_le64(key), load_le64(key + 8), 2, 4, data, len);
}

void rcpt_hash__set_key(const uint8_t key[16])
{
	memcpy(process_key, key, sizeof(process_key));
	process_key_set = true;
}

void rcpt_hash__init_key(void)
{
	if(process_key_set) return;
	size_t got = 0;
	while(got < sizeof(process_key)){
		ssize_t n = getrandom(process_key + got, sizeof(process_key) - got, 0);
		if(n > 0){
			got += (size_t)n;
		}else if(n < 0 && errno != EINTR){
			break;
		}
	}
	if(got < sizeof(process_key)){
		/* No random source (a very old kernel): still differ per process
		 * and per start, which beats a fixed key. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t mix[2] = {(uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32), (uint64_t)time(NULL) ^ (uint64_t)ts.tv_sec};
		for(size_t i = got; i < sizeof(process_key); i++) process_key[i] ^= ((uint8_t *)mix)[i];
	}
	process_key_set = true;
}

uint32_t rcpt_hash__bytes(uint32_t seed, const void *data, size_t len)
{
	uint64_t h = siphash(load_le64(process_key) ^ seed, load_le64(process_key + 8), 1, 3, data, len);
	return (uint32_t)(h ^ (h >> 32));
}
