/*
 * A PUBLISH as the core sees it, and what the core decides about it: the
 * plain values the adapter passes in and applies back.
 */
#ifndef RCPT_EVENTS_H
#define RCPT_EVENTS_H

#include "types.h"

struct rcpt_pending;
struct rcpt_client;

/* The parts of a PUBLISH the core looks at. Counts are how many user
 * properties of that name the message had; the value is the first one. */
struct rcpt_publish {
	struct rcpt_client_ref sender;
	const char *topic;
	uint8_t qos;
	bool retain;
	struct rcpt_bytes payload;
	bool has_response_topic;
	const char *response_topic;
	bool has_correlation;
	struct rcpt_bytes correlation;
	unsigned subject_area_count;
	const char *subject_area;
	unsigned return_area_count;
	const char *return_area;
	unsigned timeout_count;
	const char *timeout;
	/* user properties only the broker may set (requester, receipt, ...):
	 * how many, and the name of the first */
	unsigned broker_property_count;
	const char *broker_property;
	/* first values of what a peer broker vouches for (a client's are
	 * refused or replaced): requester, requester-broker, requester-user,
	 * and a verdict's receipt and receipt-reason; NULL: absent */
	const char *requester;
	const char *requester_broker;
	const char *requester_user;
	const char *receipt_status;
	const char *receipt_reason;
};

enum rcpt_action {
	RCPT_PASS,      /* not ours: deliver untouched */
	RCPT_REQUEST,   /* a tracked request: rewrite as the decision says */
	RCPT_RECEIPT,   /* a matched receipt: rewrite as the decision says */
	RCPT_REFUSE,    /* refuse it (reason code 0x87) */
};

/* What to do with a PUBLISH. Pointers stay valid until the next core call. */
struct rcpt_decision {
	enum rcpt_action action;
	const char *reason;                 /* RCPT_REFUSE */
	/* RCPT_REQUEST */
	const char *new_topic;              /* NULL: keep the topic */
	const char *original_topic;         /* set with new_topic: user property to add */
	const char *set_response_topic;     /* NULL: keep the one given */
	struct rcpt_bytes add_correlation;  /* the token, replacing the client's correlation */
	const char *requester;
	const char *requester_user;         /* NULL: the requester has no username (or none vouched) */
	const char *requester_broker;       /* NULL: add none (not in a network) */
	const char *set_timeout;            /* NULL: keep receipt-timeout-ms as sent */
	/* requester, requester-broker (and requester-user when sent) came from a
	 * peer broker, one of each: keep them in place instead of replacing
	 * them with the same values */
	bool keep_vouched;
	struct rcpt_pending *pending;       /* NULL for a QoS 2 retransmission; RCPT_RECEIPT: a
	                                     * QoS 2 answer to hand back with answer_stored */
	/* RCPT_RECEIPT: the requester's own correlation replaces the token
	 * (len 0: it sent none, the receipt carries none) */
	struct rcpt_bytes restore_correlation;
	const struct rcpt_client *answer_by;
	uint32_t answer_hash;               /* of the answer's payload */
	/* new_topic also serves a receipt coming back through this broker: the
	 * return topic it was sent on, without this broker's level */
};

#endif
