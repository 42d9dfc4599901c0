/*
 * The control API: JSON commands on $CONTROL/receipts/v1 (getStats,
 * listPending, cancelPending, getConfig), answered in the shape the
 * dynamic-security plugin uses. Every bad input gets an `error` in its
 * response entry; nothing here trusts the payload.
 */
#ifndef RCPT_CONTROL_H
#define RCPT_CONTROL_H

#include "types.h"

struct rcpt_core;

/* Runs a command payload from client_id (the ACL checks keep everyone but
 * control users out) and sends the reply to that client only. */
void rcpt_control__run(struct rcpt_core *core, const char *client_id, const void *payload, size_t len);
/* Runs queued cancellations: at most `room` requests, and none once the
 * host's clock is budget_ms past since_ms. Returns how many it ended. */
unsigned rcpt_control__tick(struct rcpt_core *core, unsigned room, uint64_t since_ms, uint64_t budget_ms);
/* Drops queued cancellations (the core is going away). */
void rcpt_control__free(struct rcpt_core *core);

#endif
