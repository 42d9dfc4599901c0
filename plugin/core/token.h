/*
 * Tokens: the Correlation Data the broker hands responders in place of the
 * requester's. Sixteen bytes from the kernel's CSPRNG (getrandom(2)), so no
 * client can derive one request's token from another's; a receipt is
 * matched by its token alone.
 */
#ifndef RCPT_TOKEN_H
#define RCPT_TOKEN_H

#include "types.h"

#define RCPT_TOKEN_LEN 16

/* Where fresh random bytes come from, refilled a batch at a time so that a
 * request costs a copy, not a system call. Bytes handed out are wiped from
 * the batch: no token is ever given twice. */
struct rcpt_token_source {
	uint8_t batch[RCPT_TOKEN_LEN * 32];
	size_t used;
};

void rcpt_token__init(struct rcpt_token_source *s);
/* A fresh token; RCPT_ERR_INVAL when the kernel gives no random bytes
 * (then out is untouched and the caller must refuse). */
int rcpt_token__new(struct rcpt_token_source *s, uint8_t out[RCPT_TOKEN_LEN]);
/* Compares in time independent of where the tokens differ. */
bool rcpt_token__equal(const uint8_t a[RCPT_TOKEN_LEN], const void *b);
/* The table hash of a token: its bytes are already uniform and secret. */
uint32_t rcpt_token__hash(const void *token);

#endif
