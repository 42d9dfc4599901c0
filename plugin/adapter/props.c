/*
 * Property lists of a PUBLISH, read and edited in place.
 *
 * Values are read straight from the broker's nodes and lists are edited by
 * relinking nodes, both through a mirror of Mosquitto 2.0's node layout
 * (lib/property_mosq.h, the same from 2.0.0 to 2.0.20), which
 * rcpt_props__layout_ok checks against the public API at start. New nodes
 * come from the broker's own add functions and old ones go through its
 * mosquitto_property_free_all, so every node is allocated and freed by the
 * broker. The first node of a list is never replaced (props.h says why):
 * when it has to go, it takes over the content of the node after it.
 *
 * Every function returns MOSQ_ERR_* codes, as libmosquitto does.
 */
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "props.h"
#include "receipts.h"

/* Mosquitto 2.0's layout of a property node. */
struct mirror_string {
	char *v;
	uint16_t len;
};

struct mirror_property {
	struct mirror_property *next;
	union {
		uint8_t i8;
		uint16_t i16;
		uint32_t i32;
		uint32_t varint;
		struct mirror_string bin;
		struct mirror_string s;
	} value;
	struct mirror_string name;
	int32_t identifier;
	bool client_generated;
};

static struct mirror_property *mirror(const mosquitto_property *p)
{
	return (struct mirror_property *)(void *)p;
}

static mosquitto_property *node_next(const mosquitto_property *p)
{
	return (mosquitto_property *)(void *)mirror(p)->next;
}

static void set_next(mosquitto_property *p, mosquitto_property *next)
{
	mirror(p)->next = (struct mirror_property *)(void *)next;
}

/* The broker keeps an empty string as a NULL pointer. */
static const char *or_empty(const char *v)
{
	return v ? v : "";
}

void rcpt_props__scan(const mosquitto_property *list, struct rcpt_props_scan *out)
{
	memset(out, 0, sizeof(*out));
	for(const mosquitto_property *p = list; p; p = node_next(p)){
		switch(mirror(p)->identifier){
			case MQTT_PROP_RESPONSE_TOPIC: out->has_response_topic = true; break;
			case MQTT_PROP_CORRELATION_DATA: out->has_correlation = true; break;
			case MQTT_PROP_USER_PROPERTY: out->has_user_properties = true; break;
			default: break;
		}
	}
}

/* ---- the start-up check ---- */

/* Does the mirror see what the API sees, node for node? */
static bool mirror_matches(const mosquitto_property *list)
{
	const mosquitto_property *m = list;
	for(const mosquitto_property *p = list; p; p = mosquitto_property_next(p), m = node_next(m)){
		int id = mosquitto_property_identifier(p);
		if(m != p || mirror(m)->identifier != id) return false;
		const struct mirror_property *mp = mirror(m);
		char *name = NULL, *value = NULL;
		void *bin = NULL;
		uint16_t len = 0;
		uint8_t byte = 0;
		bool same = false;
		if(id == MQTT_PROP_USER_PROPERTY && mosquitto_property_read_string_pair(p, id, &name, &value, false)){
			same = mp->name.v && mp->value.s.v && !strcmp(mp->name.v, name) && !strcmp(mp->value.s.v, value)
				&& mp->name.len == strlen(name) && mp->value.s.len == strlen(value);
		}else if(id == MQTT_PROP_RESPONSE_TOPIC && mosquitto_property_read_string(p, id, &value, false)){
			same = mp->value.s.v && !strcmp(mp->value.s.v, value) && mp->value.s.len == strlen(value);
		}else if(id == MQTT_PROP_CORRELATION_DATA && mosquitto_property_read_binary(p, id, &bin, &len, false)){
			same = mp->value.bin.v && mp->value.bin.len == len && !memcmp(mp->value.bin.v, bin, len);
		}else if(id == MQTT_PROP_PAYLOAD_FORMAT_INDICATOR && mosquitto_property_read_byte(p, id, &byte, false)){
			same = mp->value.i8 == byte;
		}
		free(name);
		free(value);
		free(bin);
		if(!same) return false;
	}
	return m == NULL;
}

bool rcpt_props__layout_ok(void)
{
	mosquitto_property *list = NULL;
	bool ok = mosquitto_property_add_string_pair(&list, MQTT_PROP_USER_PROPERTY, "subject", "area-1") == MOSQ_ERR_SUCCESS
		&& mosquitto_property_add_binary(&list, MQTT_PROP_CORRELATION_DATA, "\x00xyz", 4) == MOSQ_ERR_SUCCESS
		&& mosquitto_property_add_byte(&list, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1) == MOSQ_ERR_SUCCESS
		&& mosquitto_property_add_string(&list, MQTT_PROP_RESPONSE_TOPIC, "ret/c/1") == MOSQ_ERR_SUCCESS
		&& mirror_matches(list);
	mosquitto_property_free_all(&list);
	return ok;
}

/* ---- reading ---- */

/* The first value of a property the core counts. */
static void take_first(const char **field, unsigned *count, const char *value)
{
	if((*count)++ == 0) *field = value;
}

/* What a peer broker vouches for: kept for the core, which trusts it only
 * from a peer. */
static void vouched_value(struct rcpt_publish *msg, const char *name, const char *value)
{
	const char **slot = NULL;
	if(!strcmp(name, RECEIPTS_PROP_REQUESTER)) slot = &msg->requester;
	else if(!strcmp(name, RECEIPTS_PROP_REQUESTER_BROKER)) slot = &msg->requester_broker;
	else if(!strcmp(name, RECEIPTS_PROP_REQUESTER_USER)) slot = &msg->requester_user;
	else if(!strcmp(name, RECEIPTS_PROP_RECEIPT)) slot = &msg->receipt_status;
	else if(!strcmp(name, RECEIPTS_PROP_REASON)) slot = &msg->receipt_reason;
	if(slot && *slot == NULL) *slot = value;
}

void rcpt_props__read(const mosquitto_property *list, struct rcpt_publish *msg)
{
	for(const mosquitto_property *p = list; p; p = node_next(p)){
		const struct mirror_property *m = mirror(p);
		switch(m->identifier){
			case MQTT_PROP_RESPONSE_TOPIC:
				/* The broker refuses a second one as a protocol error. */
				if(!msg->has_response_topic){
					msg->response_topic = or_empty(m->value.s.v);
					msg->has_response_topic = true;
				}
				break;
			case MQTT_PROP_CORRELATION_DATA:
				if(!msg->has_correlation){
					msg->correlation.ptr = or_empty(m->value.bin.v);
					msg->correlation.len = m->value.bin.len;
					msg->has_correlation = true;
				}
				break;
			case MQTT_PROP_USER_PROPERTY: {
				const char *name = or_empty(m->name.v), *value = or_empty(m->value.s.v);
				if(!strcmp(name, RECEIPTS_PROP_SUBJECT_AREA)){
					take_first(&msg->subject_area, &msg->subject_area_count, value);
				}else if(!strcmp(name, RECEIPTS_PROP_RETURN_AREA)){
					take_first(&msg->return_area, &msg->return_area_count, value);
				}else if(!strcmp(name, RECEIPTS_PROP_TIMEOUT_MS)){
					take_first(&msg->timeout, &msg->timeout_count, value);
				}else if(!strcmp(name, RECEIPTS_PROP_REQUESTER) || !strcmp(name, RECEIPTS_PROP_ORIGINAL_TOPIC)
						|| !strcmp(name, RECEIPTS_PROP_RECEIPT) || !strcmp(name, RECEIPTS_PROP_REASON)
						|| !strcmp(name, RECEIPTS_PROP_REQUESTER_BROKER)
						|| !strcmp(name, RECEIPTS_PROP_REQUESTER_USER)){
					take_first(&msg->broker_property, &msg->broker_property_count, name);
					vouched_value(msg, name, value);
				}
				break;
			}
			default:
				break;
		}
	}
}

/* ---- editing ---- */

/* Which nodes an edit takes out. */
struct edit_rules {
	bool drop_response_topic;
	bool drop_correlation;
	bool drop_timeout;
	bool keep_vouched;      /* requester, requester-broker, requester-user from a peer broker stay */
};

/* Every user property the plugin reads or vouches for: a client's own copy
 * never reaches a responder or a requester. */
static bool reserved(const char *name)
{
	return !strcmp(name, RECEIPTS_PROP_SUBJECT_AREA) || !strcmp(name, RECEIPTS_PROP_RETURN_AREA)
		|| !strcmp(name, RECEIPTS_PROP_REQUESTER) || !strcmp(name, RECEIPTS_PROP_REQUESTER_USER)
		|| !strcmp(name, RECEIPTS_PROP_ORIGINAL_TOPIC)
		|| !strcmp(name, RECEIPTS_PROP_RECEIPT) || !strcmp(name, RECEIPTS_PROP_REASON)
		|| !strcmp(name, RECEIPTS_PROP_REQUESTER_BROKER);
}

static bool goes(const mosquitto_property *p, const struct edit_rules *rules)
{
	const struct mirror_property *m = mirror(p);
	switch(m->identifier){
		case MQTT_PROP_RESPONSE_TOPIC: return rules->drop_response_topic;
		case MQTT_PROP_CORRELATION_DATA: return rules->drop_correlation;
		case MQTT_PROP_USER_PROPERTY: {
			const char *name = or_empty(m->name.v);
			if(rules->keep_vouched && (!strcmp(name, RECEIPTS_PROP_REQUESTER)
						|| !strcmp(name, RECEIPTS_PROP_REQUESTER_BROKER)
						|| !strcmp(name, RECEIPTS_PROP_REQUESTER_USER))){
				return false;
			}
			return reserved(name) || (rules->drop_timeout && !strcmp(name, RECEIPTS_PROP_TIMEOUT_MS));
		}
		default: return false;
	}
}

/* Swaps what two nodes hold, keeping their links. */
static void swap_content(mosquitto_property *a, mosquitto_property *b)
{
	struct mirror_property *x = mirror(a), *y = mirror(b);
	struct mirror_property *x_next = x->next, *y_next = y->next;
	struct mirror_property t = *x;
	*x = *y;
	*y = t;
	x->next = x_next;
	y->next = y_next;
}

/* Frees one node, already unlinked, with the broker's own function. */
static void free_node(mosquitto_property *p)
{
	set_next(p, NULL);
	mosquitto_property_free_all(&p);
}

/* Takes out the nodes the rules drop and appends additions (which must not
 * be empty), keeping *list's first node where it is. Cannot fail. */
static void edit(mosquitto_property **list, const struct edit_rules *rules, mosquitto_property *additions)
{
	mosquitto_property *head = *list;
	if(head == NULL){
		/* Nothing to replace: a list where there was none is the same on
		 * every release. */
		*list = additions;
		return;
	}
	mosquitto_property *tail = head;
	for(mosquitto_property *n = node_next(tail); n; n = node_next(tail)){
		if(goes(n, rules)){
			set_next(tail, node_next(n));
			free_node(n);
		}else{
			tail = n;
		}
	}
	set_next(tail, additions);
	if(goes(head, rules)){
		/* The first node stays the first node, holding the second's
		 * content; the second, now holding what went, is freed. */
		mosquitto_property *second = node_next(head);
		swap_content(head, second);
		set_next(head, node_next(second));
		free_node(second);
	}
}

/* The list's only Correlation Data node, or NULL (none, or two). */
static struct mirror_property *sole_correlation(mosquitto_property *list)
{
	struct mirror_property *found = NULL;
	for(mosquitto_property *p = list; p; p = node_next(p)){
		struct mirror_property *m = mirror(p);
		if(m->identifier != MQTT_PROP_CORRELATION_DATA) continue;
		if(found) return NULL;
		found = m;
	}
	return found;
}

/* Can value be written over this correlation's own bytes (the broker
 * allocated them for one at least as long)? */
static bool fits(const struct mirror_property *corr, struct rcpt_bytes value)
{
	return corr && corr->value.bin.v && value.len > 0 && value.len <= corr->value.bin.len;
}

/* The broker's additions to a request, as a list of their own. */
/* A shorter receipt-timeout-ms written over the one sent, in its own bytes
 * (the broker allocated them for the longer value): no node to allocate. */
static bool rewrite_timeout(mosquitto_property *list, const char *value)
{
	size_t len = strlen(value);
	struct mirror_property *found = NULL;
	for(mosquitto_property *p = list; p; p = node_next(p)){
		struct mirror_property *m = mirror(p);
		if(m->identifier == MQTT_PROP_USER_PROPERTY && !strcmp(or_empty(m->name.v), RECEIPTS_PROP_TIMEOUT_MS)){
			if(found) return false;   /* two: the core refused those; leave it to the general edit */
			found = m;
		}
	}
	if(found == NULL || found->value.s.v == NULL || len > found->value.s.len) return false;
	memcpy(found->value.s.v, value, len + 1);
	found->value.s.len = (uint16_t)len;
	return true;
}

static int request_additions(const struct rcpt_decision *d, bool timeout_rewritten, bool token_in_place,
		mosquitto_property **out)
{
	int rc = MOSQ_ERR_SUCCESS;
	*out = NULL;
	if(d->set_response_topic){
		rc = mosquitto_property_add_string(out, MQTT_PROP_RESPONSE_TOPIC, d->set_response_topic);
	}
	if(!rc && d->add_correlation.len > 0 && !token_in_place){
		rc = mosquitto_property_add_binary(out, MQTT_PROP_CORRELATION_DATA,
				d->add_correlation.ptr, (uint16_t)d->add_correlation.len);
	}
	if(!rc && !d->keep_vouched){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_REQUESTER, d->requester);
	}
	if(!rc && d->requester_user && !d->keep_vouched){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_REQUESTER_USER, d->requester_user);
	}
	if(!rc && d->requester_broker && !d->keep_vouched){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_REQUESTER_BROKER, d->requester_broker);
	}
	if(!rc && d->set_timeout && !timeout_rewritten){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_TIMEOUT_MS, d->set_timeout);
	}
	if(!rc && d->original_topic){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_ORIGINAL_TOPIC, d->original_topic);
	}
	if(rc) mosquitto_property_free_all(out);
	return rc;
}

int rcpt_props__apply_request(mosquitto_property **list, const struct rcpt_decision *d)
{
	mosquitto_property *additions;
	/* The token over a correlation at least as long (another broker's
	 * token, coming over a bridge): no node to allocate. */
	struct mirror_property *corr = sole_correlation(*list);
	bool token_in_place = fits(corr, d->add_correlation);
	bool timeout_rewritten = d->set_timeout && rewrite_timeout(*list, d->set_timeout);
	int rc = request_additions(d, timeout_rewritten, token_in_place, &additions);
	if(rc) return rc;
	if(token_in_place){
		memcpy(corr->value.bin.v, d->add_correlation.ptr, d->add_correlation.len);
		corr->value.bin.len = (uint16_t)d->add_correlation.len;
	}
	struct edit_rules rules = {
		.drop_response_topic = d->set_response_topic != NULL,
		.drop_correlation = !token_in_place,
		.drop_timeout = d->set_timeout != NULL && !timeout_rewritten,
		.keep_vouched = d->keep_vouched,
	};
	edit(list, &rules, additions);
	return MOSQ_ERR_SUCCESS;
}

/* A receipt with no broker property but at most one `receipt: ok` (one
 * from a responder, or coming back from a peer broker) whose token's bytes
 * hold the correlation to restore: written over the token in place, and
 * `receipt: ok` appended if it has none. False: nothing changed. */
static bool restore_in_place(mosquitto_property **list, struct rcpt_bytes correlation)
{
	struct mirror_property *corr = sole_correlation(*list);
	if(!fits(corr, correlation)) return false;
	int ok_receipts = 0;
	for(mosquitto_property *p = *list; p; p = node_next(p)){
		struct mirror_property *m = mirror(p);
		if(m->identifier != MQTT_PROP_USER_PROPERTY) continue;
		const char *name = or_empty(m->name.v);
		if(!strcmp(name, RECEIPTS_PROP_RECEIPT) && !strcmp(or_empty(m->value.s.v), RECEIPTS_STATUS_OK)){
			ok_receipts++;
		}else if(reserved(name)){
			return false;
		}
	}
	if(ok_receipts > 1) return false;
	mosquitto_property *additions = NULL;
	if(ok_receipts == 0 && mosquitto_property_add_string_pair(&additions, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK) != MOSQ_ERR_SUCCESS){
		mosquitto_property_free_all(&additions);
		return false;
	}
	memcpy(corr->value.bin.v, correlation.ptr, correlation.len);
	corr->value.bin.len = (uint16_t)correlation.len;
	if(additions){
		struct edit_rules none = {0};
		edit(list, &none, additions);
	}
	return true;
}

int rcpt_props__apply_receipt(mosquitto_property **list, struct rcpt_bytes correlation)
{
	if(restore_in_place(list, correlation)) return MOSQ_ERR_SUCCESS;
	mosquitto_property *additions = NULL;
	int rc = MOSQ_ERR_SUCCESS;
	if(correlation.len > 0){
		rc = mosquitto_property_add_binary(&additions, MQTT_PROP_CORRELATION_DATA,
				correlation.ptr, (uint16_t)correlation.len);
	}
	if(!rc){
		rc = mosquitto_property_add_string_pair(&additions, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK);
	}
	if(rc){
		mosquitto_property_free_all(&additions);
		return rc;
	}
	/* The token goes; the requester's own correlation, if any, comes back. */
	struct edit_rules rules = {.drop_correlation = true};
	edit(list, &rules, additions);
	return MOSQ_ERR_SUCCESS;
}

int rcpt_props__receipt(const struct rcpt_receipt_out *r, mosquitto_property **out)
{
	int rc = MOSQ_ERR_SUCCESS;
	*out = NULL;
	if(r->correlation.len > 0){
		rc = mosquitto_property_add_binary(out, MQTT_PROP_CORRELATION_DATA,
				r->correlation.ptr, (uint16_t)r->correlation.len);
	}
	if(!rc) rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY, RECEIPTS_PROP_RECEIPT, r->status);
	if(!rc && r->reason){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY, RECEIPTS_PROP_REASON, r->reason);
	}
	if(rc) mosquitto_property_free_all(out);
	return rc;
}
