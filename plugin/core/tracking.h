/*
 * Which subscribers a request reached: READ-check tracking.
 *
 * The broker runs one READ check per subscriber as it queues a message, and
 * passes the stored message's topic pointer: that pointer is the message
 * key. For QoS 0 and 1 the checks run right after the MESSAGE event, so a
 * request stays "unsettled" only until the next event; for QoS 2 they run at
 * PUBREL, which no event marks, so the request waits in a table by key with
 * a grace period. A key may be reused once a message is freed, so the
 * topic's length and hash guard every match.
 *
 * Tracking never ends a request: it hands settled ones back to its caller,
 * which gives the verdict.
 */
#ifndef RCPT_TRACKING_H
#define RCPT_TRACKING_H

#include "pending.h"

/* A request's place in tracking (struct rcpt_pending's track_state). */
enum rcpt_track_state {
	RCPT_TRACK_SETTLED = 0,          /* delivered or not: waits for a receipt */
	RCPT_TRACK_UNSETTLED,            /* READ checks of its PUBLISH may still come */
	RCPT_TRACK_AWAITING_RELEASE,     /* QoS 2: delivery happens at PUBREL */
};


struct rcpt_unsettled {
	const void *message_key;
	struct rcpt_pending *pending;
	uint32_t topic_hash;      /* guards against a reused key */
	uint32_t topic_len;
};

struct rcpt_release_wait;

struct rcpt_tracking {
	uint64_t grace_ms;                     /* how long a QoS 2 request waits for its PUBREL */
	struct {
		struct rcpt_unsettled *items;
		size_t count;
		size_t capacity;
	} unsettled;                           /* requests stored in this loop iteration */
	struct rcpt_htable waits;              /* QoS 2 requests by message key */
	struct rcpt_htable waits_by_sender;    /* ... by requester, return topic, correlation and payload:
	                                        * a retransmission is found without a walk */
	struct rcpt_release_wait *waits_oldest;   /* FIFO by grace deadline */
	struct rcpt_release_wait *waits_newest;
	struct rcpt_release_wait *waits_released; /* PUBREL seen: settle next */
};

int rcpt_tracking__init(struct rcpt_tracking *tr, uint32_t release_grace_ms);
void rcpt_tracking__free(struct rcpt_tracking *tr);

/* Makes room to track p, so that tracking it cannot fail later. A QoS 2
 * request remembers its payload's hash, to tell a retransmission. */
int rcpt_tracking__reserve(struct rcpt_tracking *tr, struct rcpt_pending *p, uint32_t payload_hash);
/* p was stored as message_key with this topic. */
void rcpt_tracking__track(struct rcpt_tracking *tr, struct rcpt_pending *p,
		const void *message_key, const char *topic, uint64_t now);
/* A restored request: settled at the next settle, with no message key. */
int rcpt_tracking__settle_later(struct rcpt_tracking *tr, struct rcpt_pending *p);
/* The request a READ check's message belongs to, if any. */
struct rcpt_pending *rcpt_tracking__lookup(struct rcpt_tracking *tr, const void *key, const char *topic);
/* Forgets p (it is ending). */
void rcpt_tracking__untrack(struct rcpt_tracking *tr, struct rcpt_pending *p);

/* True when earlier PUBLISHes' READ checks are over and wait to be settled. */
static inline bool rcpt_tracking__has_settled(const struct rcpt_tracking *tr)
{
	return tr->unsettled.count > 0 || tr->waits_released != NULL;
}
/* The next request whose READ checks are over, marked settled; NULL: none. */
struct rcpt_pending *rcpt_tracking__next_settled(struct rcpt_tracking *tr);
/* The oldest QoS 2 request whose PUBREL did not come within the grace
 * period, still awaiting it (its caller ends it); NULL: none. */
struct rcpt_pending *rcpt_tracking__overdue(const struct rcpt_tracking *tr, uint64_t now);
/* The stored message of a request awaiting its PUBREL, and its payload's
 * hash (what a retransmission of it would carry). */
void rcpt_tracking__release_message(const struct rcpt_pending *p, const void **key, uint32_t *topic_hash,
		uint32_t *topic_len, uint32_t *payload_hash);

/* A QoS 2 request still awaiting its PUBREL that the same requester sent
 * with the same return topic, correlation and payload: the same request
 * sent again. corr NULL: the requester set none (the broker made one). */
struct rcpt_pending *rcpt_tracking__awaiting_release(const struct rcpt_tracking *tr, const char *requester_id,
		const char *topic, size_t topic_len, const void *corr, size_t corr_len, uint32_t payload_hash);
/* QoS 2 requests awaiting their PUBREL. */
size_t rcpt_tracking__waiting(const struct rcpt_tracking *tr);
static inline bool rcpt_tracking__is_unsettled(const struct rcpt_pending *p)
{
	return p->track_state == RCPT_TRACK_UNSETTLED;
}
/* Its READ checks are over: who it reached is known. */
static inline bool rcpt_tracking__is_settled(const struct rcpt_pending *p)
{
	return p->track_state == RCPT_TRACK_SETTLED;
}

#endif
