/*
 * The state file format, version 2: encoding and decoding only, over
 * memory buffers, so that it can be tested and fuzzed without files.
 *
 * Snapshot, all integers little-endian:
 *   header   "RCPTSNAP" | u32 version | u64 generation | u64 saved_wall_ms | u64 record_count
 *   records  u64 created_wall_ms | u64 deadline_wall_ms | u8 qos | u8 flags
 *            | 16 bytes token | str return_topic | bin correlation (the
 *            requester's) | str requester | str area
 *            | u16 delivery_count | delivery_count x (u8 flags | str client_id)
 *            where str/bin = u16 length + bytes, flags bit 0 = persistent session
 *            (deliveries) and, on a record, bit 0 the requester sent no correlation,
 *            bit 1 requester persistent, bit 2 open return topic
 *   trailer  "RCPT_END" | u64 length of everything before the trailer | u32 CRC-32 of it
 * Journal of requests ended since the snapshot of the same generation:
 *   header   "RCPTJRNL" | u32 version | u64 generation
 *   records  16 bytes token | u32 CRC-32 of the token
 * Version 1 (before tokens) is refused as RCPT_STATE_OLD_VERSION: its
 * requests were delivered with correlations that no longer match anything.
 */
#ifndef RCPT_STATE_FORMAT_H
#define RCPT_STATE_FORMAT_H

#include "buf.h"
#include "token.h"

#define RCPT_STATE_VERSION 2
#define RCPT_STATE_MAX_DELIVERIES 1024

enum rcpt_state_error {
	RCPT_STATE_OK,
	RCPT_STATE_NOT_A_STATE_FILE,   /* wrong magic */
	RCPT_STATE_FUTURE_VERSION,
	RCPT_STATE_OLD_VERSION,
	RCPT_STATE_TRUNCATED,          /* shorter than it says, or no trailer */
	RCPT_STATE_CORRUPT,            /* checksum or structure wrong */
	RCPT_STATE_NOMEM,
};

const char *rcpt_state_format__error_text(enum rcpt_state_error e);

struct rcpt_state_str {
	const char *ptr;   /* points into the decoded buffer: not NUL-terminated */
	uint16_t len;
};

struct rcpt_state_delivery {
	struct rcpt_state_str client_id;
	bool persistent;
};

struct rcpt_state_record {
	uint64_t created_wall_ms;
	uint64_t deadline_wall_ms;
	uint8_t qos;
	bool no_correlation;
	bool requester_persistent;
	const uint8_t *token;   /* RCPT_TOKEN_LEN bytes */
	bool open_return;
	struct rcpt_state_str return_topic;
	struct rcpt_state_str correlation;
	struct rcpt_state_str requester;
	struct rcpt_state_str area;
	uint16_t delivery_count;
	struct rcpt_state_delivery deliveries[RCPT_STATE_MAX_DELIVERIES];
};

struct rcpt_state_header {
	uint32_t version;
	uint64_t generation;
	uint64_t saved_wall_ms;
	uint64_t record_count;
};

void rcpt_state_format__begin(struct rcpt_buf *b, uint64_t generation, uint64_t saved_wall_ms);
void rcpt_state_format__add(struct rcpt_buf *b, const struct rcpt_state_record *r);
/* Writes the record count into the header and appends the trailer: the
 * checksum over the whole file, so the writer thread does this, not the
 * broker's. */
void rcpt_state_format__finish(struct rcpt_buf *b, uint64_t record_count);

/* Checks the whole snapshot (magic, version, trailer, length, checksum)
 * and then calls each(ctx, record) for every record; stops at the first
 * malformed record. Nothing is passed on before the checks succeed, so a
 * damaged file is never half-loaded. */
enum rcpt_state_error rcpt_state_format__decode(const unsigned char *data, size_t len,
		struct rcpt_state_header *header,
		void (*each)(void *ctx, const struct rcpt_state_record *r), void *ctx);

void rcpt_state_format__journal_header(struct rcpt_buf *b, uint64_t generation);
void rcpt_state_format__journal_record(struct rcpt_buf *b, const uint8_t token[RCPT_TOKEN_LEN]);
/* Calls each(ctx, token) for every intact record, stopping at the
 * first damaged or cut one (a kill may cut the last). Returns the header's
 * generation in *generation. */
enum rcpt_state_error rcpt_state_format__journal_decode(const unsigned char *data, size_t len, uint64_t *generation,
		void (*each)(void *ctx, const uint8_t *token), void *ctx);

#endif
