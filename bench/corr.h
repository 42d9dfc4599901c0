/*
 * Correlation Data for the fillers: each request's sequence number encoded
 * into 8 bytes that decode back to it, so the ledger still counts exactly one
 * receipt per request whatever the bytes look like.
 *
 *   CORR_SEQ      the sequence number itself (little-endian)
 *   CORR_RANDOM   a keyed bijective mix of it: spread like random bytes
 *   CORR_CRAFTED  bytes that all share one value under the pending table's
 *                 original hash (a fixed-seed, invertible "Fx" hash of the
 *                 return topic, then of the correlation), found by inverting
 *                 that hash: a hash-flooding attack on that table
 */
#ifndef RCPT_BENCH_CORR_H
#define RCPT_BENCH_CORR_H

#include <stddef.h>
#include <stdint.h>

enum corr_kind { CORR_SEQ, CORR_RANDOM, CORR_CRAFTED };

struct corr_codec {
	enum corr_kind kind;
	uint64_t key;     /* RANDOM: the run's key; CRAFTED: the hash state the correlation word meets */
};

/* The value every crafted correlation hashes to (any 32-bit value would do). */
#define CORR_CRAFTED_TARGET 0x0badc0deu

/* Sets c up for requests whose Response Topic is rtopic. */
void corr_codec_init(struct corr_codec *c, enum corr_kind kind, const char *rtopic, uint64_t run_key);
uint64_t corr_encode(const struct corr_codec *c, uint64_t seq);
uint64_t corr_decode(const struct corr_codec *c, uint64_t word);
/* "seq", "random", "crafted" -> kind; -1 when unknown. */
int corr_kind_parse(const char *name);

/* The pending table's original key hash (plugin/core/hash.c and pending.c as
 * first released), reproduced here so that the attack stays the same whatever
 * the plugin uses now. */
uint32_t corr_old_key_hash(const char *topic, size_t topic_len, const void *corr, size_t corr_len);

#endif
