/*
 * Wills under the plugin's prefixes. A will never passes the MESSAGE event:
 * the broker gives it only a WRITE check (properties unseen) and then the
 * READ checks of its subscribers. Two things tell it from a publish:
 *  - a WRITE check right after the DISCONNECT event of the same client is
 *    the will of that connection (the broker sends it there);
 *  - a WRITE check that no MESSAGE event follows, whose READ checks come
 *    anyway, is a will sent elsewhere (after a will delay, at a session
 *    takeover, at session expiry or at shutdown).
 * Any other event closes both windows.
 */
#ifndef RCPT_WILLS_H
#define RCPT_WILLS_H

#include "types.h"

#define RCPT_WILLS_ID_MAX 128   /* of a client id kept for the log line */

struct rcpt_wills {
	bool disconnected;              /* the last event was this client's DISCONNECT */
	bool unconfirmed;               /* the last event was a WRITE check under the prefixes */
	bool logged;                    /* the unconfirmed write was already reported */
	uint32_t topic_hash;
	size_t topic_len;
	size_t id_len;
	char id[RCPT_WILLS_ID_MAX + 1];
};

void rcpt_wills__init(struct rcpt_wills *w);
/* Any event but a READ or WRITE check: both windows close. */
void rcpt_wills__other_event(struct rcpt_wills *w);
void rcpt_wills__disconnected(struct rcpt_wills *w, const char *client_id);
/* A WRITE check on a topic under the prefixes; true: it is the will of a
 * connection that just ended. Otherwise the write stays unconfirmed until
 * the next event. */
bool rcpt_wills__write(struct rcpt_wills *w, const char *topic, const char *client_id);
/* A READ check on a topic under the prefixes; true: it delivers a will. */
bool rcpt_wills__read(struct rcpt_wills *w, const char *topic);
/* Who sent the will just found (possibly cut short), and whether it is
 * the first READ check of that will (to log it once). */
const char *rcpt_wills__sender(const struct rcpt_wills *w);
bool rcpt_wills__first_report(struct rcpt_wills *w);

#endif
