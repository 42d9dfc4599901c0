/*
 * The soak's clients: requesters, responders on a shared subscription, an
 * eavesdropper and a control user, all driven by one poll() loop.
 *
 * Driving libmosquitto by hand (loop_read/loop_write/loop_misc) rather than
 * with a thread per client keeps every callback on this thread: the request
 * records are then plain memory, and "cut a connection now" means exactly
 * now, between two packets, not whenever another thread gets round to it.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "receipts.h"
#include "soak.h"

/* Behaviour odds per 10,000 requests; SOAK_B_ANSWER takes the rest. */
static const unsigned behaviour_odds[SOAK_B_COUNT] = {
	[SOAK_B_LATE] = 600,
	[SOAK_B_NEVER] = 600,
	[SOAK_B_TWICE] = 600,
	[SOAK_B_WRONG] = 500,
	[SOAK_B_WRONG_RIGHT] = 600,
	[SOAK_B_DISCONNECT] = 5,
};
/* Odds per 10,000 requests sent that the requester then leaves. */
#define SOAK_LEAVE_ODDS 5

/* The eavesdropper's filters and what README says the broker grants:
 * wildcards over the prefix are allowed (the READ check keeps receipts out),
 * other clients' return areas are refused. A plain `#` is left out on
 * purpose: a `#` subscriber receives every request, so it is a recipient
 * that never disconnects, and no request could ever end `responder-gone`. */
static const char *const eavesdrop_filters[] = {"+/+/+", "+/+/r", "ret/#", "ret/soak-q0/#"};
static const int eavesdrop_granted[] = {1, 1, MQTT_RC_NOT_AUTHORIZED, MQTT_RC_NOT_AUTHORIZED};
#define EAVESDROP_FILTERS 4

static bool is_requester(const struct soak_client *c)
{
	return c->index < SOAK_REQUESTERS;
}

static bool is_responder(const struct soak_client *c)
{
	return c->index >= SOAK_REQUESTERS && c->index < SOAK_EAVESDROPPER;
}

/* ---- late answers: a min-heap by due time ---- */

static bool timer_push(struct soak *s, struct soak_timer t)
{
	if(s->n_timers == s->cap_timers){
		size_t cap = s->cap_timers ? s->cap_timers * 2 : 256;
		struct soak_timer *n = realloc(s->timers, cap * sizeof(*n));
		if(n == NULL) return false;
		s->timers = n;
		s->cap_timers = cap;
	}
	size_t i = s->n_timers++;
	while(i > 0 && s->timers[(i - 1) / 2].due_ms > t.due_ms){
		s->timers[i] = s->timers[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->timers[i] = t;
	return true;
}

static struct soak_timer timer_pop(struct soak *s)
{
	struct soak_timer top = s->timers[0], last = s->timers[--s->n_timers];
	size_t i = 0;
	for(;;){
		size_t k = 2 * i + 1;
		if(k >= s->n_timers) break;
		if(k + 1 < s->n_timers && s->timers[k + 1].due_ms < s->timers[k].due_ms) k++;
		if(s->timers[k].due_ms >= last.due_ms) break;
		s->timers[i] = s->timers[k];
		i = k;
	}
	if(s->n_timers) s->timers[i] = last;
	return top;
}

/* ---- requests and their correlation ---- */

static void put_correlation(uint8_t out[SOAK_CORRELATION_LEN], uint64_t id)
{
	for(int i = SOAK_CORRELATION_LEN - 1; i >= 0; i--){
		out[i] = (uint8_t)id;
		id >>= 8;
	}
}

static struct soak_request *find_request(struct soak *s, const mosquitto_property *props, uint32_t *id_out)
{
	void *data = NULL;
	uint16_t len = 0;
	if(!mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &data, &len, false)) return NULL;
	uint64_t id = 0;
	bool ok = len == SOAK_CORRELATION_LEN;
	for(uint16_t i = 0; ok && i < len; i++) id = (id << 8) | ((uint8_t *)data)[i];
	free(data);
	if(!ok || id >= s->issued) return NULL;
	*id_out = (uint32_t)id;
	return &s->reqs[id];
}

/* A request as a responder got it: named by its payload "q<id>", carrying
 * the broker's token, which the answer must carry back. */
static struct soak_request *find_delivered(struct soak *s, const struct mosquitto_message *msg,
		const mosquitto_property *props, uint32_t *id_out)
{
	char text[16];
	if(msg->payloadlen < 2 || msg->payloadlen >= (int)sizeof(text)) return NULL;
	memcpy(text, msg->payload, (size_t)msg->payloadlen);
	text[msg->payloadlen] = '\0';
	char *end;
	unsigned long id = strtoul(text + 1, &end, 10);
	if(text[0] != 'q' || *end != '\0' || id >= s->issued) return NULL;
	void *data = NULL;
	uint16_t len = 0;
	if(!mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &data, &len, false)) return NULL;
	bool token = len == SOAK_TOKEN_LEN;
	if(token) memcpy(s->reqs[id].token, data, SOAK_TOKEN_LEN);
	free(data);
	if(!token) return NULL;
	*id_out = (uint32_t)id;
	return &s->reqs[id];
}

static void remember_mid(struct soak_client *c, int mid, uint32_t id, enum soak_answer kind)
{
	c->mid_req[(uint16_t)mid] = id + 1;
	c->mid_kind[(uint16_t)mid] = (uint8_t)kind;
	c->unacked++;
}

/* ---- responders ---- */

static enum soak_behaviour pick_behaviour(struct soak *s)
{
	unsigned r = (unsigned)(soak_random(s) % 10000), sum = 0;
	for(int b = 0; b < SOAK_B_COUNT; b++){
		sum += behaviour_odds[b];
		if(r < sum) return (enum soak_behaviour)b;
	}
	return SOAK_B_ANSWER;
}

static void publish_answer(struct soak *s, struct soak_client *c, uint32_t id, enum soak_answer kind, bool forge)
{
	const struct soak_request *r = &s->reqs[id];
	uint8_t corr[SOAK_TOKEN_LEN + 1];
	size_t corr_len = SOAK_TOKEN_LEN;
	memcpy(corr, r->token, SOAK_TOKEN_LEN);
	if(kind == SOAK_A_WRONG){
		/* One byte longer than any token: it can never match another
		 * pending request by accident. */
		memmove(corr + 1, corr, SOAK_TOKEN_LEN);
		corr[0] = 'W';
		corr_len++;
	}
	mosquitto_property *props = NULL;
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, (uint16_t)corr_len);
	if(forge){
		/* README: the broker replaces any `receipt` a responder sets. */
		mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, RECEIPTS_PROP_RECEIPT, "forged");
	}
	char payload[32];
	int n = snprintf(payload, sizeof(payload), "%c%u", kind == SOAK_A_WRONG ? 'w' : 'a', id);
	int mid = 0;
	int rc = mosquitto_publish_v5(c->mosq, &mid, s->clients[r->requester].return_topic, n, payload, 1,
			false, props);
	mosquitto_property_free_all(&props);
	if(rc == MOSQ_ERR_SUCCESS) remember_mid(c, mid, id, kind);
	else s->counts.unexpected_disconnects++;   /* only a dead connection refuses a publish */
}

/* How many user properties are called `name`; *value (when not NULL) gets
 * the last one's value, to be freed. */
static int user_prop(const mosquitto_property *props, const char *name, char **value)
{
	char *n = NULL, *v = NULL;
	int count = 0;
	bool skip = false;
	if(value) *value = NULL;
	for(const mosquitto_property *p = props;
			(p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &n, &v, skip)) != NULL;
			skip = true){
		if(!strcmp(n, name)){
			count++;
			if(value){
				free(*value);
				*value = v;
				v = NULL;
			}
		}
		free(n);
		free(v);
		n = v = NULL;
	}
	return count;
}

static bool delivery_ok(const struct soak *s, const struct mosquitto_message *msg,
		const mosquitto_property *props, const struct soak_request *r)
{
	const struct soak_client *q = &s->clients[r->requester];
	char *topic = NULL, *requester = NULL;
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &topic, false);
	/* The broker vouches for the requester: exactly one `requester`. */
	int requesters = user_prop(props, RECEIPTS_PROP_REQUESTER, &requester);
	bool ok = !strcmp(msg->topic, SOAK_REQUEST_TOPIC) && topic && !strcmp(topic, q->return_topic)
		&& requesters == 1 && !strcmp(requester, q->id);
	free(topic);
	free(requester);
	return ok;
}

static void on_request(struct soak *s, struct soak_client *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	uint32_t id;
	struct soak_request *r = find_delivered(s, msg, props, &id);
	if(r == NULL || !delivery_ok(s, msg, props, r)){
		s->counts.bad_delivery++;
		if(r == NULL) return;
	}
	if(r->seen++ > 0){
		s->counts.multi_delivery++;
		return;
	}
	r->responder = (int8_t)(c->index - SOAK_REQUESTERS);
	r->responder_epoch = c->epoch;
	r->seen_ms = soak_now_ms(s);
	/* Requests read after the decision to cut are held: they go with it. */
	if(c->cut) return;
	enum soak_behaviour b = pick_behaviour(s);
	r->behaviour = (uint8_t)b;
	s->counts.behaviours[b]++;
	switch(b){
		case SOAK_B_ANSWER:
			publish_answer(s, c, id, SOAK_A_RIGHT, false);
			break;
		case SOAK_B_TWICE:
			publish_answer(s, c, id, SOAK_A_RIGHT, false);
			publish_answer(s, c, id, SOAK_A_DUPLICATE, false);
			break;
		case SOAK_B_WRONG:
			publish_answer(s, c, id, SOAK_A_WRONG, false);
			break;
		case SOAK_B_WRONG_RIGHT:
			publish_answer(s, c, id, SOAK_A_WRONG, false);
			publish_answer(s, c, id, SOAK_A_RIGHT, true);
			break;
		case SOAK_B_LATE: {
			struct soak_timer t = {
				.due_ms = r->seen_ms + r->timeout_ms + SOAK_LATE_MARGIN_MS,
				.request = id,
				.epoch = c->epoch,
				.responder = (uint8_t)c->index,
			};
			if(!timer_push(s, t)) s->counts.late_unsent++;
			break;
		}
		case SOAK_B_DISCONNECT:
			c->cut = true;
			break;
		default:
			break;
	}
}

static void fire_timers(struct soak *s)
{
	uint32_t now = soak_now_ms(s);
	while(s->n_timers && s->timers[0].due_ms <= now){
		struct soak_timer t = timer_pop(s);
		struct soak_client *c = &s->clients[t.responder];
		/* The connection that held the request is gone: so is the answer. */
		if(c->epoch != t.epoch || c->state != SOAK_READY || c->cut){
			s->counts.late_unsent++;
			continue;
		}
		publish_answer(s, c, t.request, SOAK_A_LATE, false);
	}
}

/* ---- requesters ---- */

static const char *const status_names[SOAK_S_COUNT] = {
	[SOAK_S_OK] = RECEIPTS_STATUS_OK,
	[SOAK_S_TIMEOUT] = RECEIPTS_STATUS_TIMEOUT,
	[SOAK_S_NO_RESPONDERS] = RECEIPTS_STATUS_NO_RESPONDERS,
	[SOAK_S_RESPONDER_GONE] = RECEIPTS_STATUS_RESPONDER_GONE,
	[SOAK_S_REJECTED] = RECEIPTS_STATUS_REJECTED,
	[SOAK_S_CANCELLED] = RECEIPTS_STATUS_CANCELLED,
};

/* The receipt-reason README gives each broker verdict; NULL: none (ok), or
 * any (rejected and cancelled, which carry their own reasons). */
static const char *const status_reasons[SOAK_S_COUNT] = {
	[SOAK_S_TIMEOUT] = RECEIPTS_REASON_DEADLINE,
	[SOAK_S_NO_RESPONDERS] = RECEIPTS_REASON_NO_SUBSCRIBER,
	[SOAK_S_RESPONDER_GONE] = RECEIPTS_REASON_DISCONNECTED,
};

const char *soak_status_name(int status)
{
	return status > SOAK_S_NONE && status < SOAK_S_COUNT ? status_names[status] : "none";
}

/* Reads `receipt` and `receipt-reason`; returns the status, SOAK_S_NONE when
 * the receipt's shape breaks README. */
static enum soak_status receipt_status(const mosquitto_property *props, const struct mosquitto_message *msg,
		uint32_t id)
{
	char *value = NULL, *reason = NULL;
	int receipts = user_prop(props, RECEIPTS_PROP_RECEIPT, &value);
	int reasons = user_prop(props, RECEIPTS_PROP_REASON, &reason);
	enum soak_status status = SOAK_S_NONE;
	for(int st = SOAK_S_OK; value && st < SOAK_S_COUNT; st++){
		if(!strcmp(value, status_names[st])) status = (enum soak_status)st;
	}
	/* Receipts travel at the request's QoS (1 here), never retained. */
	bool ok = receipts == 1 && status != SOAK_S_NONE && msg->qos == 1 && !msg->retain;
	if(ok && status == SOAK_S_OK){
		char want[32];
		int n = snprintf(want, sizeof(want), "a%u", id);
		ok = reasons == 0 && msg->payloadlen == n && !memcmp(msg->payload, want, (size_t)n);
	}else if(ok){
		ok = reasons == 1 && msg->payloadlen == 0
			&& (status_reasons[status] == NULL || !strcmp(reason, status_reasons[status]));
	}
	free(value);
	free(reason);
	return ok ? status : SOAK_S_NONE;
}

static void close_request(struct soak_client *c, uint32_t id)
{
	for(int i = 0; i < c->n_open; i++){
		if(c->open[i] == id){
			c->open[i] = c->open[--c->n_open];
			return;
		}
	}
}

static void on_receipt(struct soak *s, struct soak_client *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	uint32_t id;
	struct soak_request *r = find_request(s, props, &id);
	/* Only this client id's own requests may come back to it. */
	if(r == NULL || r->requester != c->index || strcmp(msg->topic, c->return_topic)){
		s->counts.misrouted++;
		if(s->opts.verbose) fprintf(stderr, "soak: misrouted receipt on '%s' at %s\n", msg->topic, c->id);
		return;
	}
	/* A request of an earlier session of this client id: its receipt is
	 * published like any message and reaches the session subscribed now.
	 * Still at most one per request; the tally counts it as lost with the
	 * requester that left. */
	if(r->requester_epoch != c->epoch){
		if(r->receipts++ > 0) s->counts.extra_receipts++;
		else s->counts.inherited++;
		return;
	}
	if(r->receipts++ > 0){
		s->counts.extra_receipts++;
		if(s->opts.verbose) fprintf(stderr, "soak: request %u got receipt #%u\n", id, r->receipts);
		return;
	}
	enum soak_status st = receipt_status(props, msg, id);
	if(st == SOAK_S_NONE) s->counts.bad_shape++;
	r->status = (uint8_t)st;
	r->receipt_ms = soak_now_ms(s);
	s->counts.receipts[st]++;
	close_request(c, id);
}

static bool issue_request(struct soak *s, struct soak_client *c)
{
	uint32_t id = (uint32_t)s->issued;
	struct soak_request *r = &s->reqs[id];
	memset(r, 0, sizeof(*r));
	r->requester = (uint8_t)c->index;
	r->requester_epoch = c->epoch;
	r->responder = -1;
	r->behaviour = SOAK_B_NONE;
	r->pub_rc = 0xff;
	r->timeout_ms = (uint16_t)(SOAK_TIMEOUT_MIN_MS + soak_random(s) % (SOAK_TIMEOUT_MAX_MS - SOAK_TIMEOUT_MIN_MS + 1));
	uint8_t corr[SOAK_CORRELATION_LEN];
	put_correlation(corr, id);
	char timeout[16], payload[32];
	snprintf(timeout, sizeof(timeout), "%u", r->timeout_ms);
	int n = snprintf(payload, sizeof(payload), "q%u", id);
	mosquitto_property *props = NULL;
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, sizeof(corr));
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, c->return_topic);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, RECEIPTS_PROP_TIMEOUT_MS, timeout);
	int mid = 0;
	/* The record must be valid before the publish: a fast broker can
	 * answer before mosquitto_publish_v5 returns. */
	s->issued++;
	r->sent_ms = soak_now_ms(s);
	int rc = mosquitto_publish_v5(c->mosq, &mid, SOAK_REQUEST_TOPIC, n, payload, 1, false, props);
	mosquitto_property_free_all(&props);
	if(rc != MOSQ_ERR_SUCCESS){
		s->issued--;
		s->counts.unexpected_disconnects++;
		return false;
	}
	remember_mid(c, mid, id, SOAK_A_RIGHT);
	c->open[c->n_open++] = id;
	return true;
}

/* A requester leaves once the broker has acknowledged every request it
 * sent: a request still in the socket when the broker drops the connection
 * (it does, when writing a PUBACK to a closed socket fails) would never
 * reach the plugin, and the books could no longer balance exactly. Its
 * open requests, whose receipts have not come, are what the leave drops. */
static void leave(struct soak_client *c)
{
	c->leave_on_purpose = true;
	c->state = SOAK_LEAVING;
	c->soak->counts.requester_leaves++;
	if(mosquitto_disconnect_v5(c->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL) != MOSQ_ERR_SUCCESS) c->left = true;
}

static void top_up(struct soak *s, struct soak_client *c)
{
	if(c->leave_soon && c->unacked == 0 && c->state == SOAK_READY) leave(c);
	while(s->issuing && !c->leave_soon && c->state == SOAK_READY && c->n_open < SOAK_IN_FLIGHT
			&& s->issued < s->opts.requests){
		if(!issue_request(s, c)) return;
		if(soak_random(s) % 10000 < SOAK_LEAVE_ODDS) c->leave_soon = true;
	}
}

/* ---- callbacks ---- */

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)flags;
	(void)props;
	struct soak_client *c = obj;
	if(rc != 0){
		c->soak->counts.connect_failures++;
		c->left = true;
		return;
	}
	c->state = SOAK_SUBSCRIBING;
	if(is_requester(c)){
		rc = mosquitto_subscribe_v5(m, NULL, c->return_topic, 1, 0, NULL);
	}else if(is_responder(c)){
		rc = mosquitto_subscribe_v5(m, NULL, SOAK_SHARED_FILTER, 1, 0, NULL);
	}else if(c->index == SOAK_EAVESDROPPER){
		rc = mosquitto_subscribe_multiple(m, NULL, EAVESDROP_FILTERS, (char *const *)eavesdrop_filters, 1, 0, NULL);
	}else{
		rc = mosquitto_subscribe_v5(m, NULL, RECEIPTS_CONTROL_RESPONSE_TOPIC, 0, 0, NULL);
	}
	if(rc != MOSQ_ERR_SUCCESS) c->soak->counts.unexpected_disconnects++;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted,
		const mosquitto_property *props)
{
	(void)m;
	(void)mid;
	(void)props;
	struct soak_client *c = obj;
	if(c->index == SOAK_EAVESDROPPER){
		for(int i = 0; i < count && i < EAVESDROP_FILTERS; i++){
			if(granted[i] != eavesdrop_granted[i]) c->soak->counts.bad_suback++;
		}
		if(count != EAVESDROP_FILTERS) c->soak->counts.bad_suback++;
	}else{
		int want = c->index == SOAK_ADMIN ? 0 : 1;
		if(count != 1 || granted[0] != want) c->soak->counts.bad_suback++;
	}
	c->state = SOAK_READY;
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason, const mosquitto_property *props)
{
	(void)m;
	(void)props;
	struct soak_client *c = obj;
	struct soak *s = c->soak;
	if(c->mid_req == NULL || c->mid_req[(uint16_t)mid] == 0) return;
	uint32_t id = c->mid_req[(uint16_t)mid] - 1;
	enum soak_answer kind = (enum soak_answer)c->mid_kind[(uint16_t)mid];
	c->mid_req[(uint16_t)mid] = 0;
	c->unacked--;
	struct soak_request *r = &s->reqs[id];
	bool accepted = reason < 0x80;
	if(is_requester(c)){
		r->pub_rc = (uint8_t)reason;
		s->counts.request_pubacks[reason == MQTT_RC_SUCCESS ? 0 : reason == MQTT_RC_NO_MATCHING_SUBSCRIBERS ? 1 : 2]++;
		return;
	}
	if(accepted) s->counts.answers_ok++;
	else s->counts.answers_refused++;
	if(kind == SOAK_A_WRONG){
		if(accepted) s->counts.wrong_accepted++;
		return;
	}
	if(kind == SOAK_A_LATE && accepted) s->counts.late_accepted++;
	if(accepted) r->right_ok++;
	else r->right_refused++;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	(void)m;
	(void)props;
	struct soak_client *c = obj;
	if(!c->leave_on_purpose && !c->cut){
		c->soak->counts.unexpected_disconnects++;
		fprintf(stderr, "soak: %s lost its connection (rc %d)\n", c->id, rc);
	}
	c->left = true;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)m;
	struct soak_client *c = obj;
	struct soak *s = c->soak;
	if(is_requester(c)){
		on_receipt(s, c, msg, props);
	}else if(is_responder(c)){
		on_request(s, c, msg, props);
	}else if(c->index == SOAK_EAVESDROPPER){
		s->counts.eavesdropped++;
		if(!strncmp(msg->topic, "ret/", 4)) s->counts.eavesdropped_ret++;
		fprintf(stderr, "soak: the eavesdropper got a message on '%s'\n", msg->topic);
	}else{
		soak_control_reply(s, msg->payload, msg->payloadlen);
	}
}

/* ---- connections ---- */

static bool client_connect(struct soak *s, struct soak_client *c)
{
	c->mosq = mosquitto_new(c->id, true, c);
	if(c->mosq == NULL) return false;
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	/* Request/reply stalls ~40 ms per round trip with Nagle on. */
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if(c->index == SOAK_ADMIN) mosquitto_username_pw_set(c->mosq, "admin", NULL);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	c->epoch++;
	c->state = SOAK_CONNECTING;
	c->left = c->leave_on_purpose = c->cut = c->leave_soon = false;
	if(mosquitto_connect_bind_v5(c->mosq, "127.0.0.1", s->opts.port, 60, NULL, NULL) != MOSQ_ERR_SUCCESS){
		mosquitto_destroy(c->mosq);
		c->mosq = NULL;
		c->state = SOAK_DOWN;
		return false;
	}
	return true;
}

/* The connection is over (cut, left, or lost): settle what it held. */
static void end_connection(struct soak *s, struct soak_client *c)
{
	if(is_responder(c)){
		if(c->n_cut == c->cap_cut){
			size_t cap = c->cap_cut ? c->cap_cut * 2 : 16;
			uint32_t *n = realloc(c->cut_ms, cap * sizeof(*n));
			if(n){
				c->cut_ms = n;
				c->cap_cut = cap;
			}
		}
		if(c->n_cut < c->cap_cut) c->cut_ms[c->n_cut++] = soak_now_ms(s);
	}
	if(c->cut){
		/* Abrupt: no DISCONNECT packet, whatever libmosquitto still
		 * queued is lost, and the broker sees the socket close. */
		shutdown(mosquitto_socket(c->mosq), SHUT_RDWR);
		s->counts.responder_cuts++;
	}
	for(uint32_t mid = 0; c->unacked && mid <= UINT16_MAX; mid++){
		if(c->mid_req[mid] == 0) continue;
		/* A request or answer whose PUBACK never came: the broker may or
		 * may not have taken it. */
		if(is_responder(c)){
			s->reqs[c->mid_req[mid] - 1].unknown++;
			s->counts.answers_unknown++;
		}
		c->mid_req[mid] = 0;
		c->unacked--;
	}
	for(int i = 0; i < c->n_open; i++){
		s->reqs[c->open[i]].flags |= SOAK_F_DROPPED;
		s->counts.dropped++;
	}
	c->n_open = 0;
	mosquitto_destroy(c->mosq);
	c->mosq = NULL;
	c->state = SOAK_DOWN;
}

static void turn(struct soak *s, struct soak_client *c)
{
	if(c->mosq && (c->cut || c->left)) end_connection(s, c);
	if(c->state == SOAK_DOWN && !client_connect(s, c)) s->counts.connect_failures++;
	if(c->mosq && c->state != SOAK_DOWN){
		if(mosquitto_want_write(c->mosq)) mosquitto_loop_write(c->mosq, 1);
		mosquitto_loop_misc(c->mosq);
	}
	if(is_requester(c)) top_up(s, c);
}

void soak_clients_pump(struct soak *s, uint32_t max_wait_ms)
{
	struct pollfd pfd[SOAK_CLIENTS];
	struct soak_client *who[SOAK_CLIENTS];
	nfds_t n = 0;
	for(int i = 0; i < SOAK_CLIENTS; i++){
		struct soak_client *c = &s->clients[i];
		int fd = c->mosq ? mosquitto_socket(c->mosq) : -1;
		if(fd < 0) continue;
		pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN | (mosquitto_want_write(c->mosq) ? POLLOUT : 0)};
		who[n++] = c;
	}
	uint32_t wait = max_wait_ms, now = soak_now_ms(s);
	if(s->n_timers){
		uint32_t due = s->timers[0].due_ms;
		uint32_t until = due > now ? due - now : 0;
		if(until < wait) wait = until;
	}
	if(poll(pfd, n, (int)wait) > 0){
		for(nfds_t i = 0; i < n; i++){
			struct soak_client *c = who[i];
			if(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) mosquitto_loop_read(c->mosq, 64);
			if(!c->left && !c->cut && (pfd[i].revents & POLLOUT)) mosquitto_loop_write(c->mosq, 1);
		}
	}
	fire_timers(s);
	for(int i = 0; i < SOAK_CLIENTS; i++) turn(s, &s->clients[i]);
}

bool soak_clients_start(struct soak *s)
{
	for(int i = 0; i < SOAK_CLIENTS; i++){
		struct soak_client *c = &s->clients[i];
		c->soak = s;
		c->index = i;
		c->state = SOAK_DOWN;
		if(is_requester(c)){
			snprintf(c->id, sizeof(c->id), "soak-q%d", i);
			snprintf(c->return_topic, sizeof(c->return_topic), "ret/%s/r", c->id);
		}else if(is_responder(c)){
			snprintf(c->id, sizeof(c->id), "soak-w%d", i - SOAK_REQUESTERS);
		}else{
			snprintf(c->id, sizeof(c->id), i == SOAK_EAVESDROPPER ? "soak-eve" : "soak-admin");
		}
		c->mid_req = calloc(UINT16_MAX + 1, sizeof(*c->mid_req));
		c->mid_kind = calloc(UINT16_MAX + 1, sizeof(*c->mid_kind));
		if(c->mid_req == NULL || c->mid_kind == NULL) return false;
		if(!client_connect(s, c)) return false;
	}
	return true;
}

bool soak_clients_all_ready(const struct soak *s)
{
	for(int i = 0; i < SOAK_CLIENTS; i++){
		if(s->clients[i].state != SOAK_READY) return false;
	}
	return true;
}

bool soak_clients_settled(const struct soak *s)
{
	if(s->n_timers) return false;
	for(int i = 0; i < SOAK_CLIENTS; i++){
		const struct soak_client *c = &s->clients[i];
		if(c->state != SOAK_READY || c->n_open || c->unacked) return false;
	}
	return true;
}

bool soak_client_publish(struct soak *s, int index, const char *topic, const char *payload, int qos)
{
	struct soak_client *c = &s->clients[index];
	if(c->state != SOAK_READY) return false;
	return mosquitto_publish_v5(c->mosq, NULL, topic, (int)strlen(payload), payload, qos, false, NULL)
		== MOSQ_ERR_SUCCESS;
}

void soak_clients_stop(struct soak *s)
{
	for(int i = 0; i < SOAK_CLIENTS; i++){
		struct soak_client *c = &s->clients[i];
		if(c->mosq){
			c->leave_on_purpose = true;
			mosquitto_disconnect(c->mosq);
			mosquitto_destroy(c->mosq);
			c->mosq = NULL;
		}
		free(c->mid_req);
		free(c->mid_kind);
		free(c->cut_ms);
	}
	free(s->timers);
}
