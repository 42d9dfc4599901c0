/*
 * The life of a request: every pending request starts here and ends here,
 * in exactly one place (rcpt_life__finish), which sends its receipt,
 * journals it, counts it and frees it. The modules above decide when;
 * tracking, the state file and the pending table below are told in the
 * right order.
 */
#ifndef RCPT_LIFE_H
#define RCPT_LIFE_H

#include "pending.h"
#include "stats.h"

struct rcpt_core;

/* A new pending request, ready to be tracked; NULL: out of memory (nothing
 * changed). */
struct rcpt_pending *rcpt_life__start(struct rcpt_core *core, const struct rcpt_pending_spec *spec,
		uint32_t payload_hash);
/* Ends a request: sends the receipt when status is not NULL, journals it,
 * counts the outcome, and frees it. */
void rcpt_life__finish(struct rcpt_core *core, struct rcpt_pending *p,
		enum rcpt_outcome outcome, const char *status, const char *reason);
/* Frees a request that never was (the broker could not store it), counting
 * nothing. */
void rcpt_life__discard(struct rcpt_core *core, struct rcpt_pending *p);

#endif
