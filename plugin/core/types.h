/*
 * Plain types every part of the receipts core shares: return codes, log
 * levels, and byte strings.
 */
#ifndef RCPT_TYPES_H
#define RCPT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rcpt_rc {
	RCPT_OK = 0,
	RCPT_ERR_NOMEM = 1,
	RCPT_ERR_INVAL = 2,
};

enum rcpt_log_level {
	RCPT_LOG_DEBUG,
	RCPT_LOG_INFO,
	RCPT_LOG_NOTICE,
	RCPT_LOG_WARNING,
	RCPT_LOG_ERR,
	RCPT_LOG_LEVEL_COUNT
};

/* A byte string that is not necessarily NUL-terminated. */
struct rcpt_bytes {
	const void *ptr;
	size_t len;
};

/* The client in an event: the sender of a publish, or the receiver in a
 * READ check. */
struct rcpt_client_ref {
	const char *id;
	const char *username;   /* NULL: none */
	bool clean;             /* clean start of its current connection */
	const void *handle;     /* the host's own client object; NULL: none */
};

#define RCPT_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
