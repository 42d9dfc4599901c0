/*
 * CRC-32 (the IEEE polynomial, as zlib computes it) of the state file's
 * snapshots and journal records. Thread-safe: the writer thread and the
 * broker's both compute checksums.
 */
#ifndef RCPT_CRC32_H
#define RCPT_CRC32_H

#include "types.h"

/* Continues crc over data; start with 0. */
uint32_t rcpt_crc32__update(uint32_t crc, const void *data, size_t len);

#endif
