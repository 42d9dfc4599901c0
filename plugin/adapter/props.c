/*
 * Property lists through libmosquitto's public API. The readers copy with
 * malloc (free with free); the add functions are the broker's own, so the
 * lists we build are the broker's to free.
 *
 * Rewriting a request or a receipt edits its list in place: the broker's
 * properties are appended, the few the client may not set are unlinked.
 * That needs one fact the API does not give, that a node's link to the next
 * is its first member; rcpt_props__init checks it on lists the broker
 * builds, and where it does not hold the lists are copied instead.
 */
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "props.h"
#include "receipts.h"

void rcpt_props__scan(const mosquitto_property *list, struct rcpt_props_scan *out)
{
	memset(out, 0, sizeof(*out));
	for(const mosquitto_property *p = list; p; p = mosquitto_property_next(p)){
		switch(mosquitto_property_identifier(p)){
			case MQTT_PROP_RESPONSE_TOPIC: out->has_response_topic = true; break;
			case MQTT_PROP_CORRELATION_DATA: out->has_correlation = true; break;
			case MQTT_PROP_USER_PROPERTY: out->has_user_properties = true; break;
			default: break;
		}
	}
}

void rcpt_props__release(struct rcpt_props_read *owned)
{
	free(owned->response_topic);
	free(owned->correlation);
	free(owned->subject_area);
	free(owned->return_area);
	free(owned->timeout);
	memset(owned, 0, sizeof(*owned));
}

static bool request_property(const char *name)
{
	return !strcmp(name, RECEIPTS_PROP_SUBJECT_AREA) || !strcmp(name, RECEIPTS_PROP_RETURN_AREA)
		|| !strcmp(name, RECEIPTS_PROP_REQUESTER) || !strcmp(name, RECEIPTS_PROP_ORIGINAL_TOPIC);
}

static bool receipt_property(const char *name)
{
	return !strcmp(name, RECEIPTS_PROP_RECEIPT) || !strcmp(name, RECEIPTS_PROP_REASON);
}

/* Mosquitto 2.0's own layout of a property node (lib/property_mosq.h).
 * Reading values in place saves a copy per value on every request and
 * receipt; rcpt_props__init checks the layout against the API first. */
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

static bool edit_in_place;
static bool read_in_place;

/* Does the mirror read what the API reads, for each kind of value a
 * PUBLISH carries? Values live in NUL-terminated buffers (the broker's
 * packet reader and add functions both allocate len + 1). */
static bool mirror_matches(const mosquitto_property *list)
{
	const struct mirror_property *m = (const void *)list;
	for(const mosquitto_property *p = list; p; p = mosquitto_property_next(p), m = m->next){
		int id = mosquitto_property_identifier(p);
		if(m == NULL || m != (const void *)p || m->identifier != id) return false;
		char *name = NULL, *value = NULL;
		void *bin = NULL;
		uint16_t len = 0;
		bool same = false;
		if(id == MQTT_PROP_USER_PROPERTY && mosquitto_property_read_string_pair(p, id, &name, &value, false)){
			same = m->name.v && m->value.s.v && !strcmp(m->name.v, name) && !strcmp(m->value.s.v, value)
				&& m->name.len == strlen(name) && m->value.s.len == strlen(value);
		}else if(id == MQTT_PROP_RESPONSE_TOPIC && mosquitto_property_read_string(p, id, &value, false)){
			same = m->value.s.v && !strcmp(m->value.s.v, value) && m->value.s.len == strlen(value);
		}else if(id == MQTT_PROP_CORRELATION_DATA && mosquitto_property_read_binary(p, id, &bin, &len, false)){
			same = m->value.bin.v && m->value.bin.len == len && !memcmp(m->value.bin.v, bin, len);
		}
		free(name);
		free(value);
		free(bin);
		if(!same) return false;
	}
	return m == NULL;
}

bool rcpt_props__init(void)
{
	mosquitto_property *list = NULL;
	edit_in_place = read_in_place = false;
	/* The copying path is also the way out should a broker pass the checks
	 * below yet lay its lists out otherwise; the test suite runs it too. */
	if(getenv("MOSQUITTO_RECEIPTS_COPY_PROPERTIES")) return false;
	if(mosquitto_property_add_string_pair(&list, MQTT_PROP_USER_PROPERTY, "subject", "area-1") == MOSQ_ERR_SUCCESS
			&& mosquitto_property_add_binary(&list, MQTT_PROP_CORRELATION_DATA, "\x00xyz", 4) == MOSQ_ERR_SUCCESS
			&& mosquitto_property_add_string(&list, MQTT_PROP_RESPONSE_TOPIC, "ret/c/1") == MOSQ_ERR_SUCCESS){
		const mosquitto_property *second = mosquitto_property_next(list);
		edit_in_place = second != NULL
			&& *(mosquitto_property *const *)(const void *)list == second
			&& *(mosquitto_property *const *)(const void *)second == mosquitto_property_next(second);
		read_in_place = edit_in_place && mirror_matches(list);
	}
	mosquitto_property_free_all(&list);
	return read_in_place;
}

static mosquitto_property **link_of(mosquitto_property *node)
{
	return (mosquitto_property **)(void *)node;
}

static void mark(struct rcpt_props_read *r, const mosquitto_property *p, enum rcpt_props_mark as)
{
	if(r->marked_count == RCPT_PROPS_MAX_MARKED){
		r->too_many_marked = true;
		return;
	}
	r->marked[r->marked_count] = p;
	r->marked_as[r->marked_count] = as;
	r->marked_count++;
}

/* The broker keeps an empty string as a NULL pointer. */
static const char *or_empty(const char *v)
{
	return v ? v : "";
}

/* A string or binary value of a node: borrowed from the node when its
 * layout is known (read_in_place), else copied into *copy, which the
 * caller frees. */
static bool view_string(const mosquitto_property *p, int id, const char **out, char **copy)
{
	if(read_in_place){
		*out = or_empty(((const struct mirror_property *)(const void *)p)->value.s.v);
		return true;
	}
	if(!mosquitto_property_read_string(p, id, copy, false)) return false;
	*out = *copy;
	return true;
}

static bool view_binary(const mosquitto_property *p, const void **out, uint16_t *len, void **copy)
{
	if(read_in_place){
		const struct mirror_property *m = (const void *)p;
		*out = or_empty(m->value.bin.v);
		*len = m->value.bin.len;
		return true;
	}
	if(!mosquitto_property_read_binary(p, MQTT_PROP_CORRELATION_DATA, copy, len, false)) return false;
	*out = *copy;
	return true;
}

static bool view_pair(const mosquitto_property *p, const char **name, const char **value,
		char **name_copy, char **value_copy)
{
	if(read_in_place){
		const struct mirror_property *m = (const void *)p;
		*name = or_empty(m->name.v);
		*value = or_empty(m->value.s.v);
		return true;
	}
	if(!mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, name_copy, value_copy, false)) return false;
	*name = *name_copy;
	*value = *value_copy;
	return true;
}

/* The first value of a property the core counts; a copy, if any, is kept
 * in *keep until rcpt_props__release. */
static void take_first(const char **field, unsigned *count, const char *value, char **keep, char **copy)
{
	if((*count)++ > 0) return;
	*field = value;
	*keep = *copy;
	*copy = NULL;
}

int rcpt_props__read(const mosquitto_property *list, struct rcpt_publish *msg,
		struct rcpt_props_read *owned)
{
	memset(owned, 0, sizeof(*owned));
	for(const mosquitto_property *p = list; p; p = mosquitto_property_next(p)){
		int id = mosquitto_property_identifier(p);
		if(id == MQTT_PROP_RESPONSE_TOPIC){
			mark(owned, p, RCPT_MARK_RESPONSE_TOPIC);
			if(msg->has_response_topic) continue;
			if(!view_string(p, id, &msg->response_topic, &owned->response_topic)) goto nomem;
			msg->has_response_topic = true;
		}else if(id == MQTT_PROP_CORRELATION_DATA){
			mark(owned, p, RCPT_MARK_CORRELATION);
			if(msg->has_correlation) continue;
			uint16_t len = 0;
			if(!view_binary(p, &msg->correlation.ptr, &len, &owned->correlation)) goto nomem;
			msg->has_correlation = true;
			msg->correlation.len = len;
		}else if(id == MQTT_PROP_USER_PROPERTY){
			const char *name, *value;
			char *name_copy = NULL, *value_copy = NULL;
			if(!view_pair(p, &name, &value, &name_copy, &value_copy)) goto nomem;
			if(request_property(name)) mark(owned, p, RCPT_MARK_REQUEST_PROPERTY);
			if(receipt_property(name)) mark(owned, p, RCPT_MARK_RECEIPT_PROPERTY);
			if(!strcmp(name, RECEIPTS_PROP_SUBJECT_AREA)){
				take_first(&msg->subject_area, &msg->subject_area_count, value, &owned->subject_area, &value_copy);
			}else if(!strcmp(name, RECEIPTS_PROP_RETURN_AREA)){
				take_first(&msg->return_area, &msg->return_area_count, value, &owned->return_area, &value_copy);
			}else if(!strcmp(name, RECEIPTS_PROP_TIMEOUT_MS)){
				take_first(&msg->timeout, &msg->timeout_count, value, &owned->timeout, &value_copy);
			}
			free(name_copy);
			free(value_copy);
		}
	}
	return RCPT_OK;
nomem:
	rcpt_props__release(owned);
	return RCPT_ERR_NOMEM;
}

/* User properties only the broker may set on what it forwards. */
static bool reserved_on_request(const char *name)
{
	return request_property(name) || receipt_property(name);
}

static bool reserved_on_receipt(const char *name)
{
	return receipt_property(name);
}

static bool keep_all(const char *name)
{
	(void)name;
	return false;
}

struct copy_rules {
	bool drop_response_topic;
	bool drop_correlation;
	bool (*reserved)(const char *name);
};

/* Copies one property unless the rules drop it. */
static int copy_one(const mosquitto_property *p, const struct copy_rules *rules, mosquitto_property **out)
{
	int id = mosquitto_property_identifier(p);
	int rc = MOSQ_ERR_SUCCESS;
	switch(id){
		case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: {
			uint8_t v;
			if(!mosquitto_property_read_byte(p, id, &v, false)) return MOSQ_ERR_NOMEM;
			return mosquitto_property_add_byte(out, id, v);
		}
		case MQTT_PROP_CONTENT_TYPE:
		case MQTT_PROP_RESPONSE_TOPIC: {
			if(id == MQTT_PROP_RESPONSE_TOPIC && rules->drop_response_topic) return MOSQ_ERR_SUCCESS;
			char *s = NULL;
			if(!mosquitto_property_read_string(p, id, &s, false)) return MOSQ_ERR_NOMEM;
			rc = mosquitto_property_add_string(out, id, s);
			free(s);
			return rc;
		}
		case MQTT_PROP_CORRELATION_DATA: {
			if(rules->drop_correlation) return MOSQ_ERR_SUCCESS;
			void *v = NULL;
			uint16_t len = 0;
			if(!mosquitto_property_read_binary(p, id, &v, &len, false)) return MOSQ_ERR_NOMEM;
			rc = mosquitto_property_add_binary(out, id, v, len);
			free(v);
			return rc;
		}
		case MQTT_PROP_USER_PROPERTY: {
			char *name = NULL, *value = NULL;
			if(!mosquitto_property_read_string_pair(p, id, &name, &value, false)) return MOSQ_ERR_NOMEM;
			if(!rules->reserved(name)) rc = mosquitto_property_add_string_pair(out, id, name, value);
			free(name);
			free(value);
			return rc;
		}
		default:
			/* A PUBLISH reaching plugins carries only the five above. */
			return MOSQ_ERR_SUCCESS;
	}
}

static int copy_all(const mosquitto_property *old, const struct copy_rules *rules, mosquitto_property **out)
{
	for(const mosquitto_property *p = old; p; p = mosquitto_property_next(p)){
		int rc = copy_one(p, rules, out);
		if(rc) return rc;
	}
	return MOSQ_ERR_SUCCESS;
}

/* The broker's additions to a request, as a list of their own. */
static int request_additions(const struct rcpt_decision *d, mosquitto_property **out)
{
	int rc = MOSQ_ERR_SUCCESS;
	*out = NULL;
	if(d->set_response_topic){
		rc = mosquitto_property_add_string(out, MQTT_PROP_RESPONSE_TOPIC, d->set_response_topic);
	}
	if(!rc && d->add_correlation.len > 0){
		rc = mosquitto_property_add_binary(out, MQTT_PROP_CORRELATION_DATA,
				d->add_correlation.ptr, (uint16_t)d->add_correlation.len);
	}
	if(!rc){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_REQUESTER, d->requester);
	}
	if(!rc && d->original_topic){
		rc = mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY,
				RECEIPTS_PROP_ORIGINAL_TOPIC, d->original_topic);
	}
	if(rc) mosquitto_property_free_all(out);
	return rc;
}

static bool taken_out(const struct rcpt_props_read *read, unsigned i, bool request, const struct rcpt_decision *d,
		bool strip_correlation)
{
	switch(read->marked_as[i]){
		case RCPT_MARK_RESPONSE_TOPIC: return request && d->set_response_topic != NULL;
		case RCPT_MARK_CORRELATION: return request ? d->add_correlation.len > 0 : strip_correlation;
		case RCPT_MARK_REQUEST_PROPERTY: return request;
		case RCPT_MARK_RECEIPT_PROPERTY: return true;
	}
	return false;
}

/* Unlinks and frees the marked nodes that go, then appends additions. */
static void edit(mosquitto_property **list, const struct rcpt_props_read *read, bool request,
		const struct rcpt_decision *d, bool strip_correlation, mosquitto_property *additions)
{
	for(unsigned i = 0; i < read->marked_count; i++){
		if(!taken_out(read, i, request, d, strip_correlation)) continue;
		mosquitto_property **link = list;
		while(*link && *link != read->marked[i]) link = link_of(*link);
		if(*link == NULL) continue;
		mosquitto_property *node = *link;
		*link = *link_of(node);
		*link_of(node) = NULL;
		mosquitto_property_free_all(&node);
	}
	mosquitto_property **tail = list;
	while(*tail) tail = link_of(*tail);
	*tail = additions;
}

int rcpt_props__apply_request(mosquitto_property **list, const struct rcpt_props_read *read,
		const struct rcpt_decision *d)
{
	if(edit_in_place && !read->too_many_marked){
		mosquitto_property *additions;
		int rc = request_additions(d, &additions);
		if(rc == MOSQ_ERR_SUCCESS) edit(list, read, true, d, false, additions);
		return rc;
	}
	struct copy_rules rules = {
		.drop_response_topic = d->set_response_topic != NULL,
		.drop_correlation = d->add_correlation.len > 0,
		.reserved = reserved_on_request,
	};
	mosquitto_property *copy = NULL, *additions = NULL;
	int rc = copy_all(*list, &rules, &copy);
	if(!rc) rc = request_additions(d, &additions);
	if(rc){
		mosquitto_property_free_all(&copy);
		return rc;
	}
	/* Without the in-place edit the lists are joined by copying too. */
	for(const mosquitto_property *p = additions; p && !rc; p = mosquitto_property_next(p)){
		rc = copy_one(p, &(struct copy_rules){.reserved = keep_all}, &copy);
	}
	mosquitto_property_free_all(&additions);
	if(rc){
		mosquitto_property_free_all(&copy);
		return rc;
	}
	mosquitto_property_free_all(list);
	*list = copy;
	return MOSQ_ERR_SUCCESS;
}

int rcpt_props__apply_receipt(mosquitto_property **list, const struct rcpt_props_read *read,
		bool strip_correlation)
{
	mosquitto_property *additions = NULL;
	int rc = mosquitto_property_add_string_pair(&additions, MQTT_PROP_USER_PROPERTY,
			RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK);
	if(rc) return rc;
	if(edit_in_place && !read->too_many_marked){
		edit(list, read, false, NULL, strip_correlation, additions);
		return MOSQ_ERR_SUCCESS;
	}
	struct copy_rules rules = {
		.drop_correlation = strip_correlation,
		.reserved = reserved_on_receipt,
	};
	mosquitto_property *copy = NULL;
	rc = copy_all(*list, &rules, &copy);
	if(!rc) rc = copy_one(additions, &(struct copy_rules){.reserved = keep_all}, &copy);
	mosquitto_property_free_all(&additions);
	if(rc){
		mosquitto_property_free_all(&copy);
		return rc;
	}
	mosquitto_property_free_all(list);
	*list = copy;
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
