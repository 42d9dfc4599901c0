/*
 * The growable output buffer (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

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

void rcpt_buf__put(struct rcpt_buf *b, const void *data, size_t len)
{
	/* An empty string may come as NULL: memcpy must not see it. */
	if(b->failed || len == 0 || !grow(b, len)) return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void rcpt_buf__put_uint(struct rcpt_buf *b, uint64_t v, int bytes)
{
	unsigned char le[8];
	for(int i = 0; i < bytes; i++) le[i] = (unsigned char)(v >> (8 * i));
	rcpt_buf__put(b, le, (size_t)bytes);
}

void rcpt_buf__put_str(struct rcpt_buf *b, const void *s, size_t len)
{
	rcpt_buf__put_uint(b, len, 2);
	rcpt_buf__put(b, s, len);
}
