/* The fuzz targets' host: see fuzz_host.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_host.h"

static uint64_t now_ms(void *ctx)
{
	return ((struct fuzz_host *)ctx)->now;
}

static uint64_t wall_ms(void *ctx)
{
	return 1700000000000u + ((struct fuzz_host *)ctx)->now;
}

static int publish(void *ctx, const struct rcpt_receipt_out *r)
{
	/* Touch every field: the sanitizers then check they are valid. */
	struct fuzz_host *h = ctx;
	h->published += strlen(r->topic) + strlen(r->status) + (r->reason ? strlen(r->reason) : 0);
	if(r->correlation.len) h->published += ((const uint8_t *)r->correlation.ptr)[r->correlation.len - 1];
	return RCPT_OK;
}

static int publish_plain(void *ctx, const char *to, const char *topic, const char *payload, size_t len, bool retain)
{
	struct fuzz_host *h = ctx;
	(void)retain;
	h->published += (to ? strlen(to) : 0) + strlen(topic) + (len ? (uint8_t)payload[len - 1] : 0);
	return RCPT_OK;
}

/* Formats every line, so the sanitizers check each format's arguments. */
static void log_printf(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)level;
}

void fuzz_host__init(struct fuzz_host *h)
{
	memset(h, 0, sizeof(*h));
	h->ops.ctx = h;
	h->ops.now_ms = now_ms;
	h->ops.wall_ms = wall_ms;
	h->ops.publish = publish;
	h->ops.publish_plain = publish_plain;
	h->ops.log_printf = log_printf;
	for(int i = 0; i < RCPT_LOG_LEVEL_COUNT; i++) h->ops.log_levels[i] = i;
	h->now = 1000;
}

uint8_t fuzz_input__byte(struct fuzz_input *in)
{
	if(in->left == 0) return 0;
	in->left--;
	return *in->data++;
}

const char *fuzz_input__string(struct fuzz_input *in, char *buf, size_t max)
{
	size_t len = fuzz_input__byte(in);
	if(len > max) len = max;
	if(len > in->left) len = in->left;
	memcpy(buf, in->data, len);
	buf[len] = '\0';
	in->data += len;
	in->left -= len;
	return buf;
}
