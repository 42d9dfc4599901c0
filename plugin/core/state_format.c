/*
 * The state file format: see state_format.h for the layout. Every read is
 * bounds-checked: the file may have been cut, damaged or replaced.
 */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "state_format.h"

static const char snapshot_magic[8] = {'R', 'C', 'P', 'T', 'S', 'N', 'A', 'P'};
static const char trailer_magic[8] = {'R', 'C', 'P', 'T', '_', 'E', 'N', 'D'};
static const char journal_magic[8] = {'R', 'C', 'P', 'T', 'J', 'R', 'N', 'L'};

#define HEADER_SIZE (8 + 4 + 8 + 8 + 8)
#define TRAILER_SIZE (8 + 8 + 4)
#define JOURNAL_HEADER_SIZE (8 + 4 + 8)

const char *rcpt_state_format__error_text(enum rcpt_state_error e)
{
	switch(e){
		case RCPT_STATE_OK: return "ok";
		case RCPT_STATE_NOT_A_STATE_FILE: return "not a receipts state file";
		case RCPT_STATE_FUTURE_VERSION: return "written by a newer version";
		case RCPT_STATE_OLD_VERSION: return "written by an older version (format 1, before broker tokens: "
				"its requests cannot be matched any more)";
		case RCPT_STATE_TRUNCATED: return "truncated";
		case RCPT_STATE_CORRUPT: return "corrupt (checksum or structure)";
		case RCPT_STATE_NOMEM: return "out of memory";
	}
	return "?";
}

void rcpt_state_format__begin(struct rcpt_buf *b, uint64_t generation, uint64_t saved_wall_ms)
{
	rcpt_buf__put(b, snapshot_magic, 8);
	rcpt_buf__put_uint(b, RCPT_STATE_VERSION, 4);
	rcpt_buf__put_uint(b, generation, 8);
	rcpt_buf__put_uint(b, saved_wall_ms, 8);
	rcpt_buf__put_uint(b, 0, 8);   /* record count, set by rcpt_state_format__finish */
}

void rcpt_state_format__add(struct rcpt_buf *b, const struct rcpt_state_record *r)
{
	rcpt_buf__put_uint(b, r->created_wall_ms, 8);
	rcpt_buf__put_uint(b, r->deadline_wall_ms, 8);
	rcpt_buf__put_uint(b, r->qos, 1);
	rcpt_buf__put_uint(b, (r->no_correlation ? 1u : 0u) | (r->requester_persistent ? 2u : 0u)
			| (r->open_return ? 4u : 0u), 1);
	rcpt_buf__put(b, r->token, RCPT_TOKEN_LEN);
	rcpt_buf__put_str(b, r->return_topic.ptr, r->return_topic.len);
	rcpt_buf__put_str(b, r->correlation.ptr, r->correlation.len);
	rcpt_buf__put_str(b, r->requester.ptr, r->requester.len);
	rcpt_buf__put_str(b, r->area.ptr, r->area.len);
	rcpt_buf__put_uint(b, r->delivery_count, 2);
	for(uint16_t i = 0; i < r->delivery_count; i++){
		rcpt_buf__put_uint(b, r->deliveries[i].persistent ? 1 : 0, 1);
		rcpt_buf__put_str(b, r->deliveries[i].client_id.ptr, r->deliveries[i].client_id.len);
	}
}

void rcpt_state_format__finish(struct rcpt_buf *b, uint64_t record_count)
{
	if(b->failed || b->len < HEADER_SIZE) return;
	for(int i = 0; i < 8; i++) b->data[28 + i] = (unsigned char)(record_count >> (8 * i));
	uint64_t body = b->len;
	uint32_t crc = rcpt_crc32__update(0, b->data, b->len);
	rcpt_buf__put(b, trailer_magic, 8);
	rcpt_buf__put_uint(b, body, 8);
	rcpt_buf__put_uint(b, crc, 4);
}

void rcpt_state_format__journal_header(struct rcpt_buf *b, uint64_t generation)
{
	rcpt_buf__put(b, journal_magic, 8);
	rcpt_buf__put_uint(b, RCPT_STATE_VERSION, 4);
	rcpt_buf__put_uint(b, generation, 8);
}

void rcpt_state_format__journal_record(struct rcpt_buf *b, const uint8_t token[RCPT_TOKEN_LEN])
{
	rcpt_buf__put(b, token, RCPT_TOKEN_LEN);
	rcpt_buf__put_uint(b, rcpt_crc32__update(0, token, RCPT_TOKEN_LEN), 4);
}

/* ---- reading ---- */

struct reader {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static uint64_t get_uint(struct reader *r, int bytes)
{
	if(r->bad || r->left < (size_t)bytes){
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for(int i = 0; i < bytes; i++) v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	r->left -= (size_t)bytes;
	return v;
}

static const uint8_t *get_bytes(struct reader *r, size_t len)
{
	if(r->bad || r->left < len){
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += len;
	r->left -= len;
	return p;
}

static struct rcpt_state_str get_str(struct reader *r)
{
	struct rcpt_state_str s = {NULL, 0};
	uint16_t len = (uint16_t)get_uint(r, 2);
	if(r->bad || r->left < len){
		r->bad = true;
		return s;
	}
	s.ptr = (const char *)r->p;
	s.len = len;
	r->p += len;
	r->left -= len;
	return s;
}

static bool read_record(struct reader *r, struct rcpt_state_record *rec)
{
	rec->created_wall_ms = get_uint(r, 8);
	rec->deadline_wall_ms = get_uint(r, 8);
	rec->qos = (uint8_t)get_uint(r, 1);
	uint8_t flags = (uint8_t)get_uint(r, 1);
	rec->no_correlation = flags & 1;
	rec->requester_persistent = flags & 2;
	rec->open_return = flags & 4;
	rec->token = get_bytes(r, RCPT_TOKEN_LEN);
	rec->return_topic = get_str(r);
	rec->correlation = get_str(r);
	rec->requester = get_str(r);
	rec->area = get_str(r);
	rec->delivery_count = (uint16_t)get_uint(r, 2);
	if(r->bad || rec->qos > 2 || (flags & ~7u) || rec->delivery_count > RCPT_STATE_MAX_DELIVERIES
			|| rec->return_topic.len == 0 || rec->requester.len == 0 || rec->area.len == 0){
		return false;
	}
	for(uint16_t i = 0; i < rec->delivery_count; i++){
		uint8_t dflags = (uint8_t)get_uint(r, 1);
		rec->deliveries[i].persistent = dflags & 1;
		rec->deliveries[i].client_id = get_str(r);
		if(r->bad || (dflags & ~1u) || rec->deliveries[i].client_id.len == 0) return false;
	}
	return true;
}

enum rcpt_state_error rcpt_state_format__decode(const unsigned char *data, size_t len,
		struct rcpt_state_header *header,
		void (*each)(void *ctx, const struct rcpt_state_record *r), void *ctx)
{
	if(len < 8 || memcmp(data, snapshot_magic, 8)) return RCPT_STATE_NOT_A_STATE_FILE;
	struct reader r = {data + 8, len - 8, false};
	header->version = (uint32_t)get_uint(&r, 4);
	if(r.bad) return RCPT_STATE_TRUNCATED;
	if(header->version > RCPT_STATE_VERSION) return RCPT_STATE_FUTURE_VERSION;
	if(header->version == 0) return RCPT_STATE_CORRUPT;
	if(header->version < RCPT_STATE_VERSION) return RCPT_STATE_OLD_VERSION;
	header->generation = get_uint(&r, 8);
	header->saved_wall_ms = get_uint(&r, 8);
	header->record_count = get_uint(&r, 8);
	if(r.bad || len < HEADER_SIZE + TRAILER_SIZE) return RCPT_STATE_TRUNCATED;

	const unsigned char *t = data + len - TRAILER_SIZE;
	if(memcmp(t, trailer_magic, 8)) return RCPT_STATE_TRUNCATED;
	struct reader tr = {t + 8, TRAILER_SIZE - 8, false};
	uint64_t body = get_uint(&tr, 8);
	uint32_t crc = (uint32_t)get_uint(&tr, 4);
	if(body != len - TRAILER_SIZE) return RCPT_STATE_TRUNCATED;
	if(rcpt_crc32__update(0, data, (size_t)body) != crc) return RCPT_STATE_CORRUPT;

	struct rcpt_state_record *rec = malloc(sizeof(*rec));
	if(rec == NULL) return RCPT_STATE_NOMEM;
	enum rcpt_state_error rc = RCPT_STATE_OK;
	/* First pass checks every record, second passes them on. */
	for(int pass = 0; pass < (each ? 2 : 1) && rc == RCPT_STATE_OK; pass++){
		struct reader rr = {data + HEADER_SIZE, (size_t)body - HEADER_SIZE, false};
		for(uint64_t i = 0; i < header->record_count; i++){
			if(!read_record(&rr, rec)){
				rc = RCPT_STATE_CORRUPT;
				break;
			}
			if(pass == 1 && each) each(ctx, rec);
		}
		if(rc == RCPT_STATE_OK && rr.left != 0) rc = RCPT_STATE_CORRUPT;
	}
	free(rec);
	return rc;
}

enum rcpt_state_error rcpt_state_format__journal_decode(const unsigned char *data, size_t len, uint64_t *generation,
		void (*each)(void *ctx, const uint8_t *token), void *ctx)
{
	if(len < 8 || memcmp(data, journal_magic, 8)) return RCPT_STATE_NOT_A_STATE_FILE;
	struct reader r = {data + 8, len - 8, false};
	uint32_t version = (uint32_t)get_uint(&r, 4);
	*generation = get_uint(&r, 8);
	if(r.bad) return RCPT_STATE_TRUNCATED;
	if(version > RCPT_STATE_VERSION) return RCPT_STATE_FUTURE_VERSION;
	if(version < RCPT_STATE_VERSION) return RCPT_STATE_OLD_VERSION;
	while(r.left > 0){
		const uint8_t *token = get_bytes(&r, RCPT_TOKEN_LEN);
		uint32_t crc = (uint32_t)get_uint(&r, 4);
		if(r.bad) return RCPT_STATE_TRUNCATED;
		if(rcpt_crc32__update(0, token, RCPT_TOKEN_LEN) != crc) return RCPT_STATE_CORRUPT;
		if(each) each(ctx, token);
	}
	return RCPT_STATE_OK;
}
