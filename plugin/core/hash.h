/*
 * The hash of the core's tables. Most are keyed by bytes a client
 * chooses (client ids, usernames, areas, QoS 2 senders), so the hash is
 * keyed: SipHash-1-3 with a per-process random key. Without the key nobody
 * can craft inputs that share a chain.
 */
#ifndef RCPT_HASH_H
#define RCPT_HASH_H

#include "types.h"

#define RCPT_HASH_SEED 2166136261u

/* Draws the process's key from the system's random source, once; later
 * calls do nothing. Called when a core is made. */
void rcpt_hash__init_key(void);
/* Sets the key (for tests: known-answer vectors, reproducible tables). Only
 * while no table holds anything. */
void rcpt_hash__set_key(const uint8_t key[16]);

/* The tables' hash: keyed by the process key and by seed, folded to 32 bits
 * (tables take the low bits). */
uint32_t rcpt_hash__bytes(uint32_t seed, const void *data, size_t len);

/* SipHash with a given key: 1-3 is what the tables use; 2-4 is the
 * paper's, for checking against its published vector. */
uint64_t rcpt_hash__siphash13(const uint8_t key[16], const void *data, size_t len);
uint64_t rcpt_hash__siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
