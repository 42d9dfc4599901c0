/*
 * The state file format: see state_format.h for the layout. Every read is
 * bounds-checked: the file may have been cut, damaged or replaced.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "state_format.h"

static const char snapshot_magic[8] = {'R', 'C', 'P', 'T', 'S', 'N', 'A', 'P'};
static const char trailer_magic[8] = {'R', 'C', 'P', 'T', '_', 'E', 'N', 'D'};
static const char journal_magic[8] = {'R', 'C', 'P', 'T', 'J', 'R', 'N', 'L'};

#define HEADER_SIZE (8 + 4 + 8 + 8 + 8)
#define TRAILER_SIZE (8 + 8 + 4)
#define JOURNAL_HEADER_SIZE (8 + 4 + 8)

const char *rcpt_state__error_text(enum rcpt_state_error e)
{
	switch(e){
		case RCPT_STATE_OK: return "ok";
		case RCPT_STATE_NOT_A_STATE_FILE: return "not a receipts state file";
		case RCPT_STATE_FUTURE_VERSION: return "written by a newer version";
		case RCPT_STATE_TRUNCATED: return "truncated";
		case RCPT_STATE_CORRUPT: return "corrupt (checksum or structure)";
		case RCPT_STATE_NOMEM: return "out of memory";
	}
	return "?";
}

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void make_crc_table(void)
{
	for(uint32_t i = 0; i < 256; i++){
		uint32_t c = i;
		for(int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* The writer thread and the broker's both compute checksums. */
uint32_t rcpt_crc32(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc_table_once, make_crc_table);
	const uint32_t *table = crc_table;
	const unsigned char *p = data;
	crc = ~crc;
	for(size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* ---- writing ---- */

void rcpt_buf__free(struct rcpt_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool grow(struct rcpt_buf *b, size_t need)
{
	if(b->len + need <= b->capacity) return true;
	size_t cap = b->capacity ? b->capacity : 4096;
	while(cap < b->len + need) cap *= 2;
	unsigned char *d = realloc(b->data, cap);
	if(d == NULL){
		b->failed = true;
		return false;
	}
	b->data = d;
	b->capacity = cap;
	return true;
}

void rcpt_buf__reserve(struct rcpt_buf *b, size_t len)
{
	if(!b->failed) grow(b, len);
}

static void put(struct rcpt_buf *b, const void *data, size_t len)
{
	/* An empty string may come as NULL: memcpy must not see it. */
	if(b->failed || len == 0 || !grow(b, len)) return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_uint(struct rcpt_buf *b, uint64_t v, int bytes)
{
	unsigned char le[8];
	for(int i = 0; i < bytes; i++) le[i] = (unsigned char)(v >> (8 * i));
	put(b, le, (size_t)bytes);
}

static void put_str(struct rcpt_buf *b, const void *s, size_t len)
{
	put_uint(b, len, 2);
	put(b, s, len);
}

void rcpt_state__begin(struct rcpt_buf *b, uint64_t generation, uint64_t saved_wall_ms)
{
	put(b, snapshot_magic, 8);
	put_uint(b, RCPT_STATE_VERSION, 4);
	put_uint(b, generation, 8);
	put_uint(b, saved_wall_ms, 8);
	put_uint(b, 0, 8);   /* record count, set by rcpt_state__finish */
}

void rcpt_state__add(struct rcpt_buf *b, const struct rcpt_state_record *r)
{
	put_uint(b, r->created_wall_ms, 8);
	put_uint(b, r->deadline_wall_ms, 8);
	put_uint(b, r->qos, 1);
	put_uint(b, (r->broker_correlation ? 1u : 0u) | (r->requester_persistent ? 2u : 0u)
			| (r->open_return ? 4u : 0u), 1);
	put_str(b, r->return_topic.ptr, r->return_topic.len);
	put_str(b, r->correlation.ptr, r->correlation.len);
	put_str(b, r->requester.ptr, r->requester.len);
	put_str(b, r->area.ptr, r->area.len);
	put_uint(b, r->delivery_count, 2);
	for(uint16_t i = 0; i < r->delivery_count; i++){
		put_uint(b, r->deliveries[i].persistent ? 1 : 0, 1);
		put_str(b, r->deliveries[i].client_id.ptr, r->deliveries[i].client_id.len);
	}
}

void rcpt_state__finish(struct rcpt_buf *b, uint64_t record_count)
{
	if(b->failed || b->len < HEADER_SIZE) return;
	for(int i = 0; i < 8; i++) b->data[28 + i] = (unsigned char)(record_count >> (8 * i));
	uint64_t body = b->len;
	uint32_t crc = rcpt_crc32(0, b->data, b->len);
	put(b, trailer_magic, 8);
	put_uint(b, body, 8);
	put_uint(b, crc, 4);
}

void rcpt_journal__header(struct rcpt_buf *b, uint64_t generation)
{
	put(b, journal_magic, 8);
	put_uint(b, RCPT_STATE_VERSION, 4);
	put_uint(b, generation, 8);
}

void rcpt_journal__record(struct rcpt_buf *b, const char *topic, size_t topic_len,
		const void *corr, size_t corr_len)
{
	size_t start = b->len;
	put_str(b, topic, topic_len);
	put_str(b, corr, corr_len);
	if(b->failed) return;
	put_uint(b, rcpt_crc32(0, b->data + start, b->len - start), 4);
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
	rec->broker_correlation = flags & 1;
	rec->requester_persistent = flags & 2;
	rec->open_return = flags & 4;
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

enum rcpt_state_error rcpt_state__decode(const unsigned char *data, size_t len,
		struct rcpt_state_header *header,
		void (*each)(void *ctx, const struct rcpt_state_record *r), void *ctx)
{
	if(len < 8 || memcmp(data, snapshot_magic, 8)) return RCPT_STATE_NOT_A_STATE_FILE;
	struct reader r = {data + 8, len - 8, false};
	header->version = (uint32_t)get_uint(&r, 4);
	if(r.bad) return RCPT_STATE_TRUNCATED;
	if(header->version > RCPT_STATE_VERSION) return RCPT_STATE_FUTURE_VERSION;
	if(header->version == 0) return RCPT_STATE_CORRUPT;
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
	if(rcpt_crc32(0, data, (size_t)body) != crc) return RCPT_STATE_CORRUPT;

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

enum rcpt_state_error rcpt_journal__decode(const unsigned char *data, size_t len, uint64_t *generation,
		void (*each)(void *ctx, struct rcpt_state_str topic, struct rcpt_state_str corr), void *ctx)
{
	if(len < 8 || memcmp(data, journal_magic, 8)) return RCPT_STATE_NOT_A_STATE_FILE;
	struct reader r = {data + 8, len - 8, false};
	uint32_t version = (uint32_t)get_uint(&r, 4);
	*generation = get_uint(&r, 8);
	if(r.bad) return RCPT_STATE_TRUNCATED;
	if(version > RCPT_STATE_VERSION) return RCPT_STATE_FUTURE_VERSION;
	while(r.left > 0){
		const unsigned char *start = r.p;
		struct rcpt_state_str topic = get_str(&r);
		struct rcpt_state_str corr = get_str(&r);
		size_t used = (size_t)(r.p - start);
		uint32_t crc = (uint32_t)get_uint(&r, 4);
		if(r.bad) return RCPT_STATE_TRUNCATED;
		if(rcpt_crc32(0, start, used) != crc) return RCPT_STATE_CORRUPT;
		if(each) each(ctx, topic, corr);
	}
	return RCPT_STATE_OK;
}
