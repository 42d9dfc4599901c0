/*
 * The hash of the core's tables: short keys (topics, client ids,
 * correlations), hashed on every request and receipt.
 */
#ifndef RCPT_HASH_H
#define RCPT_HASH_H

#include "types.h"

#define RCPT_HASH_SEED 2166136261u

uint32_t rcpt_hash__bytes(uint32_t seed, const void *data, size_t len);

#endif
