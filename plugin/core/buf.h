/*
 * A growable output buffer that remembers a failed allocation instead of
 * reporting each one: writers append freely and check `failed` once.
 * Integers are written little-endian.
 */
#ifndef RCPT_BUF_H
#define RCPT_BUF_H

#include "types.h"

struct rcpt_buf {
	unsigned char *data;
	size_t len;
	size_t capacity;
	bool failed;      /* an allocation failed: the content is incomplete */
};

void rcpt_buf__free(struct rcpt_buf *b);
/* Makes room for at least len more bytes up front. */
void rcpt_buf__reserve(struct rcpt_buf *b, size_t len);
void rcpt_buf__put(struct rcpt_buf *b, const void *data, size_t len);
void rcpt_buf__put_uint(struct rcpt_buf *b, uint64_t v, int bytes);
/* u16 length, then the bytes. */
void rcpt_buf__put_str(struct rcpt_buf *b, const void *s, size_t len);

#endif
