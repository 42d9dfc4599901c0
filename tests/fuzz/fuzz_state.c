/*
 * Fuzz target: decoding state files and journals, which may be cut,
 * damaged or replaced by anything.
 */
#include "state_format.h"

static void each_record(void *ctx, const struct rcpt_state_record *r)
{
	/* Read every byte a record points at. */
	unsigned *sum = ctx;
	for(uint16_t i = 0; i < r->return_topic.len; i++) *sum += (unsigned char)r->return_topic.ptr[i];
	for(uint16_t i = 0; i < r->correlation.len; i++) *sum += (unsigned char)r->correlation.ptr[i];
	for(uint16_t d = 0; d < r->delivery_count; d++){
		for(uint16_t i = 0; i < r->deliveries[d].client_id.len; i++) *sum += (unsigned char)r->deliveries[d].client_id.ptr[i];
	}
}

static void each_ended(void *ctx, const uint8_t *token)
{
	unsigned *sum = ctx;
	for(int i = 0; i < RCPT_TOKEN_LEN; i++) *sum += token[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sum = 0;
	struct rcpt_state_header h;
	rcpt_state_format__decode(data, size, &h, each_record, &sum);
	uint64_t generation;
	rcpt_state_format__journal_decode(data, size, &generation, each_ended, &sum);
	return (int)(sum & 0);
}
