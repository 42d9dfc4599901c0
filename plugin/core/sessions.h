/*
 * Sessions: what the core knows of each client's session, and what ends
 * with one.
 *
 * Mosquitto 2.0 says little about sessions: a DISCONNECT event with a clean
 * flag that is forced true when a newer connection takes the session over,
 * and no event when a session expires. So each client record keeps a small
 * state machine, and a client that comes back resolves it by its new clean
 * flag. When a session ends, the requests it was to answer lose a
 * responder; its own requests stay until answered or expired, because a
 * clean start may still come with a Session Expiry Interval the plugin
 * cannot see (the safe side: a receipt nobody reads, never a lost one).
 */
#ifndef RCPT_SESSIONS_H
#define RCPT_SESSIONS_H

#include "clients.h"

struct rcpt_core;

/* Finds or creates the record of a client seen now, resolving a session
 * the core was unsure of. NULL: out of memory. */
struct rcpt_client *rcpt_sessions__seen(struct rcpt_core *core, const struct rcpt_client_ref *ref);
/* A client seen now that may have no record: only resolves its session. */
void rcpt_sessions__notice(struct rcpt_core *core, const struct rcpt_client_ref *ref);
/* clean is what the broker says now: forced true when a newer connection
 * takes the session over. */
void rcpt_sessions__disconnected(struct rcpt_core *core, const char *id, bool clean);
/* Records whose session the core is unsure of. */
uint32_t rcpt_sessions__unresolved(const struct rcpt_core *core);

#endif
