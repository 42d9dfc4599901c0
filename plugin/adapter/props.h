/*
 * MQTT 5 property lists of a PUBLISH: reading what the core needs, and
 * rewriting them as the core decides. Uses libmosquitto's property API only.
 */
#ifndef RCPT_PROPS_H
#define RCPT_PROPS_H

#include <mosquitto.h>

#include "rcpt.h"

/* What a list holds, found without allocating. */
struct rcpt_props_scan {
	bool has_response_topic;
	bool has_correlation;
	bool has_user_properties;
};

void rcpt_props__scan(const mosquitto_property *list, struct rcpt_props_scan *out);

/* Checks once, at start, that a list can be read and edited in place (see
 * props.c). Returns false when it cannot: values are then copied and lists
 * rebuilt, which is slower, with the same result. */
bool rcpt_props__init(void);

/* What an edit may take out of a list. */
enum rcpt_props_mark {
	RCPT_MARK_RESPONSE_TOPIC,
	RCPT_MARK_CORRELATION,
	RCPT_MARK_REQUEST_PROPERTY,   /* subject-area, return-area, requester, original-topic */
	RCPT_MARK_RECEIPT_PROPERTY,   /* receipt, receipt-reason */
};

#define RCPT_PROPS_MAX_MARKED 16

/* Copies of values read from a list, where they could not be read in place
 * (free them with rcpt_props__release), and the nodes an edit may have to
 * take out. The values the core sees stay valid until the list is edited. */
struct rcpt_props_read {
	char *response_topic;
	void *correlation;
	char *subject_area;
	char *return_area;
	char *timeout;
	const mosquitto_property *marked[RCPT_PROPS_MAX_MARKED];
	enum rcpt_props_mark marked_as[RCPT_PROPS_MAX_MARKED];
	unsigned marked_count;
	bool too_many_marked;
};

/* Fills the property fields of msg. */
int rcpt_props__read(const mosquitto_property *list, struct rcpt_publish *msg,
		struct rcpt_props_read *owned);
void rcpt_props__release(struct rcpt_props_read *owned);

/* A tracked request: takes out what the client may not set and adds the
 * broker's properties. On failure the list is unchanged. */
int rcpt_props__apply_request(mosquitto_property **list, const struct rcpt_props_read *read,
		const struct rcpt_decision *d);
/* A matched receipt: `receipt: ok` replaces the responder's. On failure
 * the list is unchanged. */
int rcpt_props__apply_receipt(mosquitto_property **list, const struct rcpt_props_read *read,
		bool strip_correlation);
/* The list of a broker-made receipt. */
int rcpt_props__receipt(const struct rcpt_receipt_out *r, mosquitto_property **out);

#endif
