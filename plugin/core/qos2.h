/*
 * What QoS 2 needs beyond READ-check tracking: answers that wait for their
 * PUBREL, and tombstones of messages whose fate was decided before theirs.
 *
 * A QoS 2 answer is matched at PUBLISH but reaches the requester only at
 * PUBREL, which may never come (the responder's clean session ends first).
 * So a matched QoS 2 answer waits here by message key, and its request ends
 * `ok` when the requester's READ check of it runs; a DUP of it from the same
 * responder is accepted again without a second wait.
 *
 * A tombstone marks a stored QoS 2 message whose request already got its
 * receipt while the message still waited for its PUBREL: a request declared
 * no-responders after the grace period, timed out or cancelled, or an answer
 * whose request ended meanwhile. Its READ checks are denied when the PUBREL
 * comes after all (nobody receives a request that is over, no requester a
 * second receipt), and a request that is the same PUBLISH sent again is
 * refused. Tombstones are bounded: the oldest goes when the ring is full.
 */
#ifndef RCPT_QOS2_H
#define RCPT_QOS2_H

#include "clients.h"
#include "htable.h"

struct rcpt_pending;

#define RCPT_TOMBSTONES_MAX 4096

/* A stored message, as READ checks name it. */
struct rcpt_message_ref {
	const void *key;          /* the broker's stored topic pointer */
	uint32_t topic_hash;      /* guards against a reused key */
	uint32_t topic_len;
};

struct rcpt_answer_wait;

struct rcpt_tombstone {
	struct rcpt_hnode by_key;
	struct rcpt_hnode by_content;
	struct rcpt_message_ref msg;
	uint32_t content;         /* 0: none (an answer) */
	bool used;
};

struct rcpt_qos2 {
	struct rcpt_htable answers_by_key;
	struct rcpt_htable answers_by_pending;
	struct rcpt_htable stones_by_key;
	struct rcpt_htable stones_by_content;
	struct rcpt_tombstone *ring;      /* RCPT_TOMBSTONES_MAX, allocated on first use */
	size_t ring_next;
};

int rcpt_qos2__init(struct rcpt_qos2 *q);
void rcpt_qos2__free(struct rcpt_qos2 *q);
struct rcpt_message_ref rcpt_qos2__message(const void *key, const char *topic);

/* ---- answers ---- */

/* p's answer from `by` is stored as msg and waits for its PUBREL. */
int rcpt_qos2__answer_wait(struct rcpt_qos2 *q, struct rcpt_pending *p, const struct rcpt_message_ref *msg,
		const struct rcpt_client *by, uint32_t payload_hash);
/* True when p's waiting answer came from `by` with this payload: the same
 * answer sent again. */
bool rcpt_qos2__answer_is(const struct rcpt_qos2 *q, const struct rcpt_pending *p,
		const struct rcpt_client *by, uint32_t payload_hash);
/* The request whose waiting answer msg is, taken off the wait; NULL: none. */
struct rcpt_pending *rcpt_qos2__answer_released(struct rcpt_qos2 *q, const struct rcpt_message_ref *msg);
/* Forgets p's waiting answer and tombstones it (p is ending, or its
 * responder's session ended before the PUBREL). */
void rcpt_qos2__drop_answer(struct rcpt_qos2 *q, struct rcpt_pending *p);
/* p's waiting answer came from `by`. */
bool rcpt_qos2__answer_by(const struct rcpt_qos2 *q, const struct rcpt_pending *p, const struct rcpt_client *by);
static inline bool rcpt_qos2__busy(const struct rcpt_qos2 *q)
{
	return rcpt_htable__count(&q->answers_by_key) > 0 || rcpt_htable__count(&q->stones_by_key) > 0;
}

/* ---- tombstones ---- */

/* A request's identity for retransmissions: requester, return topic,
 * client correlation (NULL: broker-made) and payload. Never 0. */
uint32_t rcpt_qos2__content(const char *requester, const char *topic, size_t topic_len,
		const void *corr, size_t corr_len, uint32_t payload_hash);
void rcpt_qos2__tombstone(struct rcpt_qos2 *q, const struct rcpt_message_ref *msg, uint32_t content);
/* A READ check of a tombstoned message: deny it. */
bool rcpt_qos2__is_tombstoned(const struct rcpt_qos2 *q, const struct rcpt_message_ref *msg);
/* A PUBLISH that is a tombstoned request sent again. */
bool rcpt_qos2__is_resent(const struct rcpt_qos2 *q, uint32_t content);
size_t rcpt_qos2__tombstones(const struct rcpt_qos2 *q);

#endif
