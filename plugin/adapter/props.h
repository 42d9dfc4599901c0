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

/* Strings read from a list; free them with rcpt_props__release. */
struct rcpt_props_read {
	char *response_topic;
	void *correlation;
	char *subject_area;
	char *return_area;
	char *timeout;
};

/* Fills the property fields of msg. */
int rcpt_props__read(const mosquitto_property *list, struct rcpt_publish *msg,
		struct rcpt_props_read *owned);
void rcpt_props__release(struct rcpt_props_read *owned);

/* A new list for a tracked request: the client's properties without any it
 * may not set, plus the broker's. */
int rcpt_props__rewrite_request(const mosquitto_property *old, const struct rcpt_decision *d,
		mosquitto_property **out);
/* A new list for a matched receipt: `receipt: ok` replaces the responder's. */
int rcpt_props__rewrite_receipt(const mosquitto_property *old, bool strip_correlation,
		mosquitto_property **out);
/* The list of a broker-made receipt. */
int rcpt_props__receipt(const struct rcpt_receipt_out *r, mosquitto_property **out);

#endif
