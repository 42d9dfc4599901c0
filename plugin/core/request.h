/*
 * Requests: a PUBLISH with a Response Topic (or a `return-area`) to a subject
 * area. Decides its return topic, checks every rule, and either starts a
 * pending request or refuses it with a reason (and a `rejected` receipt
 * where one can go).
 */
#ifndef RCPT_REQUEST_H
#define RCPT_REQUEST_H

#include "events.h"

struct rcpt_core;

/* Sets up the core's `requests` part. */
int rcpt_request__init(struct rcpt_core *core);
void rcpt_request__free(struct rcpt_core *core);

/* A request to the subject area area (area_len bytes, not necessarily
 * NUL-terminated). */
void rcpt_request__decide(struct rcpt_core *core, const struct rcpt_publish *msg,
		const char *area, size_t area_len, struct rcpt_decision *out);

#endif
