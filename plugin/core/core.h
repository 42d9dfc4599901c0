/*
 * The receipts core: every decision the plugin makes, with no broker in
 * sight. This is its whole interface to the adapter (and to the tests).
 *
 * The adapter turns broker events into the plain values of events.h and
 * carries the decisions back; the core calls out only through the host
 * (host.h). Unit tests drive it with a fake host.
 */
#ifndef RCPT_CORE_H
#define RCPT_CORE_H

#include "access.h"
#include "config.h"
#include "events.h"
#include "host.h"
#include "stats.h"

struct rcpt_core;

/* ---- life ---- */

/* Takes ownership of cfg's strings and zeroes cfg (also on failure, once
 * the core was allocated), so freeing cfg afterwards is always safe. */
struct rcpt_core *rcpt_core__new(const struct rcpt_host *host, struct rcpt_config *cfg);
void rcpt_core__free(struct rcpt_core *core);
/* Saves the pending requests to the state file, if there is one: at a clean
 * shutdown, before rcpt_core__free. */
void rcpt_core__save_state(struct rcpt_core *core);
const struct rcpt_config *rcpt_core__config(const struct rcpt_core *core);
void rcpt_core__stats(const struct rcpt_core *core, struct rcpt_stats *out);

/* ---- PUBLISH ---- */

/* Quick test for the hot path: could this publish concern the core at all?
 * has_user_properties/has_correlation say whether the message carries any. */
bool rcpt_core__may_concern(const struct rcpt_core *core, const char *topic,
		bool has_response_topic, bool has_user_properties, bool has_correlation);
/* Ends the READ checks of earlier PUBLISHes. Cheap; call it at the start of
 * every MESSAGE event, also when may_concern says no. */
void rcpt_core__settle(struct rcpt_core *core);
/* Decide a PUBLISH. */
void rcpt_core__on_publish(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out);
/* The adapter has rewritten an accepted request; message_key identifies the
 * stored message in the READ checks that follow (the broker passes its topic
 * pointer). */
void rcpt_core__request_stored(struct rcpt_core *core, struct rcpt_pending *p,
		const void *message_key, const char *topic);
/* A QoS 2 answer (RCPT_RECEIPT with d->pending set) was stored as
 * message_key: its request ends when the answer's PUBREL delivers it. */
void rcpt_core__answer_stored(struct rcpt_core *core, const struct rcpt_decision *d, const void *message_key,
		const char *topic);
/* The adapter could not rewrite an accepted request: forget it, no receipt. */
void rcpt_core__request_abort(struct rcpt_core *core, struct rcpt_pending *p);

/* ---- access checks ---- */

/* A message is about to be queued to a subscriber; retained: it is the
 * broker's retained copy (or a retained message delivered live). */
enum rcpt_access rcpt_core__on_read(struct rcpt_core *core, const void *message_key,
		const char *topic, bool retained, const struct rcpt_client_ref *receiver);
enum rcpt_access rcpt_core__on_write(struct rcpt_core *core, const char *topic,
		const struct rcpt_client_ref *sender);
enum rcpt_access rcpt_core__on_subscribe(struct rcpt_core *core, const char *filter,
		const struct rcpt_client_ref *subscriber);

/* ---- other events ---- */

/* How many deadlines one tick may expire: a mass expiry is spread over
 * ticks so that the broker loop is never held long. Each expiry costs the
 * broker a receipt to deliver at the top of its next loop (~15 us seen),
 * far more than the expiry itself, so this bounds the stall to ~5 ms. */
#define RCPT_EXPIRIES_PER_TICK 300
/* ... and to this much of the host's clock, checked every 32. Queued mass
 * cancellations share both bounds with the expiries. */
#define RCPT_EXPIRY_BUDGET_MS 2

/* A CONNECT with this client id and username (NULL: none), before the
 * broker checks the password: false (refuse it, one log line) when the id
 * is bound to another user, is this broker's own bridge's, or is a peer
 * broker's used by anyone but that peer. Never binds: the client is not
 * authenticated yet. */
bool rcpt_core__on_connect(struct rcpt_core *core, const char *client_id, const char *username);
/* Whether client ids are bound to users (plugin_opt_bind_client_ids, with
 * auto resolved by the adapter before rcpt_core__new). */
bool rcpt_core__binds_client_ids(const struct rcpt_core *core);

/* clean is what the broker says now: forced true when a newer connection
 * takes the session over. username: the disconnecting connection's. */
void rcpt_core__on_disconnect(struct rcpt_core *core, const char *client_id, const char *username, bool clean);
void rcpt_core__on_tick(struct rcpt_core *core);
/* A command payload published to RECEIPTS_CONTROL_TOPIC by a control user
 * (the ACL checks keep everyone else out). Sends the JSON reply to the
 * client through publish_plain. */
void rcpt_core__on_control(struct rcpt_core *core, const char *client_id,
		const void *payload, size_t len);

#endif
