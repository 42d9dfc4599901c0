/*
 * Tokens (see the header).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "token.h"

void rcpt_token__init(struct rcpt_token_source *s)
{
	memset(s->batch, 0, sizeof(s->batch));
	s->used = sizeof(s->batch);
}

static int refill(struct rcpt_token_source *s)
{
	size_t got = 0;
	while(got < sizeof(s->batch)){
		ssize_t n = getrandom(s->batch + got, sizeof(s->batch) - got, 0);
		if(n < 0){
			if(errno == EINTR) continue;
			return RCPT_ERR_INVAL;
		}
		got += (size_t)n;
	}
	s->used = 0;
	return RCPT_OK;
}

int rcpt_token__new(struct rcpt_token_source *s, uint8_t out[RCPT_TOKEN_LEN])
{
	if(s->used + RCPT_TOKEN_LEN > sizeof(s->batch) && refill(s) != RCPT_OK) return RCPT_ERR_INVAL;
	memcpy(out, s->batch + s->used, RCPT_TOKEN_LEN);
	memset(s->batch + s->used, 0, RCPT_TOKEN_LEN);
	s->used += RCPT_TOKEN_LEN;
	return RCPT_OK;
}

bool rcpt_token__equal(const uint8_t a[RCPT_TOKEN_LEN], const void *b)
{
	const uint8_t *y = b;
	uint8_t diff = 0;
	for(int i = 0; i < RCPT_TOKEN_LEN; i++) diff |= (uint8_t)(a[i] ^ y[i]);
	return diff == 0;
}

uint32_t rcpt_token__hash(const void *token)
{
	const uint8_t *t = token;
	return (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
}
