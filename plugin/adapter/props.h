/*
 * MQTT 5 property lists of a PUBLISH: reading what the core needs, and
 * rewriting them as the core decides, without ever handing the broker a
 * list head it did not give us.
 *
 * Why the head matters: a MOSQ_EVT_MESSAGE callback may replace the
 * message's property list, but who frees the list it replaced depends on
 * the broker's release (2.0.11 to 2.0.14: the plugin; 2.0.15 on: the
 * broker), and the plugin API does not say which release runs it. So every
 * edit keeps the broker's own first node as the first node: nothing is
 * replaced, and nothing is freed twice or leaked on any release.
 */
#ifndef RCPT_PROPS_H
#define RCPT_PROPS_H

#include <mosquitto.h>

#include "core.h"

/* What a list holds, found without allocating. */
struct rcpt_props_scan {
	bool has_response_topic;
	bool has_correlation;
	bool has_user_properties;
};

void rcpt_props__scan(const mosquitto_property *list, struct rcpt_props_scan *out);

/* Checks, on lists built by the running broker's own functions, that its
 * property nodes have the layout this file reads and edits in place (Mosquitto
 * 2.0's lib/property_mosq.h, unchanged from 2.0.0 to 2.0.20). false: they do
 * not, and the plugin must not start. */
bool rcpt_props__layout_ok(void);

/* Fills the property fields of msg with values borrowed from the list: they
 * stay valid until the list is edited. Never allocates. */
void rcpt_props__read(const mosquitto_property *list, struct rcpt_publish *msg);

/* A tracked request: takes out what the client may not set and adds the
 * broker's properties. Returns MOSQ_ERR_SUCCESS, or an error with the list
 * unchanged. */
int rcpt_props__apply_request(mosquitto_property **list, const struct rcpt_decision *d);
/* A matched receipt: `receipt: ok` replaces the responder's, the
 * requester's own correlation (none when len is 0) replaces the token, and
 * every other user property only the broker sets is taken out. Returns as
 * above. */
int rcpt_props__apply_receipt(mosquitto_property **list, struct rcpt_bytes correlation);
/* The list of a broker-made receipt. */
int rcpt_props__receipt(const struct rcpt_receipt_out *r, mosquitto_property **out);

#endif
