/*
 * The control API (see the header).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "control.h"
#include "core.h"
#include "core_parts.h"
#include "life.h"
#include "names.h"

#define ERR_SIZE 160

/* reply_left: what the whole reply may still grow by (RECEIPTS_CONTROL_MAX_REPLY). */
typedef bool (*command_fn)(struct rcpt_core *core, const cJSON *cmd, cJSON *data, char *err, size_t *reply_left);

/* ---- reading arguments ---- */

/* An optional whole number from min up. Above max is clamped when clamp is
 * set, refused otherwise. */
static bool get_uint(const cJSON *cmd, const char *name, uint64_t min, uint64_t max, bool clamp,
		uint64_t fallback, uint64_t *out, char *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cmd, name);
	*out = fallback;
	if(v == NULL) return true;
	if(!cJSON_IsNumber(v)){
		snprintf(err, ERR_SIZE, "'%s' must be a number", name);
		return false;
	}
	double d = v->valuedouble;
	bool too_big = d > (double)max;
	/* NaN, below the minimum, a fraction, or too big without clamping. */
	if(d != d || d < (double)min || (too_big && !clamp) || (!too_big && d != (double)(uint64_t)d)){
		snprintf(err, ERR_SIZE, "'%s' must be a whole number from %" PRIu64 " to %" PRIu64, name, min, max);
		return false;
	}
	*out = too_big ? max : (uint64_t)d;
	return true;
}

/* An optional string; *out stays NULL when absent. */
static bool get_string(const cJSON *cmd, const char *name, const char **out, char *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cmd, name);
	*out = NULL;
	if(v == NULL) return true;
	if(!cJSON_IsString(v) || v->valuestring == NULL){
		snprintf(err, ERR_SIZE, "'%s' must be a string", name);
		return false;
	}
	*out = v->valuestring;
	return true;
}

static int hex_value(char c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Hex to bytes; out must hold strlen(hex)/2 bytes. */
static bool decode_hex(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = strlen(hex);
	if(n % 2) return false;
	for(size_t i = 0; i < n; i += 2){
		int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
		if(hi < 0 || lo < 0) return false;
		out[i / 2] = (unsigned char)(hi * 16 + lo);
	}
	*len = n / 2;
	return true;
}

static char *encode_hex(const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(len * 2 + 1);
	if(s == NULL) return NULL;
	const unsigned char *b = data;
	for(size_t i = 0; i < len; i++){
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[len * 2] = '\0';
	return s;
}

/* ---- getStats ---- */

#define MAX_AREAS_LISTED 1000

static bool cmd_get_stats(struct rcpt_core *core, const cJSON *cmd, cJSON *data, char *err, size_t *reply_left)
{
	(void)cmd;
	(void)reply_left;
	snprintf(err, ERR_SIZE, "out of memory");
	if(!cJSON_AddNumberToObject(data, "pending", (double)core->stats.pending)) return false;
	if(!cJSON_AddNumberToObject(data, "pendingHighWater", (double)core->stats.pending_high_water)) return false;
	/* What max_pending_bytes is measured against. */
	if(!cJSON_AddNumberToObject(data, "pendingBytes", (double)core->pending.bytes)) return false;

	cJSON *by_area = cJSON_AddObjectToObject(data, "pendingByArea");
	if(by_area == NULL) return false;
	size_t listed = 0;
	for(const struct rcpt_area *a = rcpt_areas__first(&core->areas); a && listed < MAX_AREAS_LISTED;
			a = rcpt_areas__next(&core->areas, a)){
		if(!cJSON_AddNumberToObject(by_area, a->name, a->pending)) return false;
		listed++;
	}
	if(rcpt_areas__count(&core->areas) > MAX_AREAS_LISTED && !cJSON_AddTrueToObject(data, "pendingByAreaTruncated")) return false;

	cJSON *totals = cJSON_AddObjectToObject(data, "totals");
	if(totals == NULL) return false;
	for(int o = 0; o < RCPT_OUTCOME_COUNT; o++){
		if(!cJSON_AddNumberToObject(totals, rcpt_stats__outcome_name(o), (double)core->stats.totals[o])) return false;
	}
	cJSON *by_reason = cJSON_AddObjectToObject(data, "rejectedByReason");
	if(by_reason == NULL) return false;
	for(size_t i = 0; i < RCPT_REJECT_REASON_COUNT; i++){
		if(!cJSON_AddNumberToObject(by_reason, rcpt_stats__reject_reasons[i], (double)core->stats.rejected_by_reason[i])) return false;
	}
	cJSON *ms = cJSON_AddObjectToObject(data, "receiptMs");
	if(ms == NULL) return false;
	uint32_t p50 = 0, p99 = 0;
	size_t samples = rcpt_stats__latency_samples(&core->stats);
	rcpt_stats__latency(&core->stats, &p50, &p99);
	if(!cJSON_AddNumberToObject(ms, "p50", p50) || !cJSON_AddNumberToObject(ms, "p99", p99)
			|| !cJSON_AddNumberToObject(ms, "samples", (double)samples)){
		return false;
	}
	return cJSON_AddNumberToObject(data, "boundClientIds", (double)rcpt_identity__count(&core->identity)) != NULL;
}

/* ---- releaseClientId ---- */

/* Frees a client id bound to a user, for an operator who knows its session
 * is over (persistent sessions expire without telling plugins). */
static bool cmd_release_client_id(struct rcpt_core *core, const cJSON *cmd, cJSON *data, char *err,
		size_t *reply_left)
{
	(void)reply_left;
	const char *id;
	if(!get_string(cmd, "clientId", &id, err)) return false;
	if(id == NULL){
		snprintf(err, ERR_SIZE, "'clientId' is required");
		return false;
	}
	struct rcpt_binding *b = rcpt_identity__find(&core->identity, id);
	if(b){
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "control: client id '%s' released from user '%s'", id, b->user);
	}
	bool released = rcpt_identity__release(&core->identity, id);
	if(!cJSON_AddBoolToObject(data, "released", released)){
		snprintf(err, ERR_SIZE, "out of memory");
		return false;
	}
	return true;
}

/* ---- listPending ---- */

struct selection {
	const char *area;
	const char *requester;
	uint64_t older_than_ms;
};

/* The shortest creation-ordered list that holds every match. */
static struct rcpt_pending *first_candidate(struct rcpt_core *core, const struct selection *s,
		size_t *link_offset)
{
	if(s->requester){
		*link_offset = offsetof(struct rcpt_pending, of_requester);
		struct rcpt_client *c = rcpt_clients__find(&core->clients, s->requester);
		return c ? rcpt_pending__oldest_of(c) : NULL;
	}
	if(s->area){
		*link_offset = offsetof(struct rcpt_pending, of_area);
		struct rcpt_area *a = rcpt_areas__find(&core->areas, s->area, strlen(s->area));
		return a ? rcpt_pending__oldest_in(a) : NULL;
	}
	*link_offset = offsetof(struct rcpt_pending, of_all);
	return rcpt_pending__oldest(&core->pending);
}

static bool selected(const struct rcpt_pending *p, const struct selection *s)
{
	if(s->area && strcmp(p->area->name, s->area)) return false;
	if(s->requester && strcmp(p->requester->id, s->requester)) return false;
	return true;
}

static bool read_selection(const cJSON *cmd, struct selection *s, char *err)
{
	memset(s, 0, sizeof(*s));
	return get_string(cmd, "area", &s->area, err)
		&& get_string(cmd, "requester", &s->requester, err)
		&& get_uint(cmd, "olderThanMs", 0, UINT32_MAX, false, 0, &s->older_than_ms, err);
}

/* JSON quoting adds little to ids and topics, a few bytes a field. */
#define ENTRY_OVERHEAD 160

/* One listed request, and *size, about what it adds to the reply. The
 * recipients named are capped (RECEIPTS_LIST_MAX_DELIVERED_TO, and in
 * bytes): a request to thousands would make a reply of megabytes. */
static cJSON *describe_pending(const struct rcpt_pending *p, uint64_t now, size_t *size)
{
	cJSON *o = cJSON_CreateObject();
	char *hex = encode_hex(rcpt_pending__correlation(p), p->correlation_len);
	int64_t remaining = (int64_t)(p->deadline_ms - now);
	if(o == NULL || hex == NULL) goto error;
	if(!cJSON_AddStringToObject(o, "requester", p->requester->id)
			|| !cJSON_AddStringToObject(o, "area", p->area->name)
			|| !cJSON_AddStringToObject(o, "returnTopic", rcpt_pending__topic(p))
			|| !cJSON_AddStringToObject(o, "correlation", hex)
			|| !cJSON_AddNumberToObject(o, "ageMs", rcpt_pending__age_ms(p, now))
			|| !cJSON_AddNumberToObject(o, "remainingMs", remaining > 0 ? (double)remaining : 0)
			|| !cJSON_AddNumberToObject(o, "qos", p->qos)){
		goto error;
	}
	*size = ENTRY_OVERHEAD + strlen(p->requester->id) + strlen(p->area->name) + p->topic_len
		+ 2 * (size_t)p->correlation_len;
	cJSON *to = cJSON_AddArrayToObject(o, "deliveredTo");
	if(to == NULL) goto error;
	size_t named = 0, id_bytes = 0;
	bool truncated = false;
	for(const struct rcpt_delivery *d = &p->first; d; d = d->next_of_pending){
		if(d->client == NULL) continue;
		size_t len = strlen(d->client->id);
		if(named == RECEIPTS_LIST_MAX_DELIVERED_TO || id_bytes + len > RECEIPTS_LIST_MAX_DELIVERED_TO_BYTES){
			truncated = true;
			break;
		}
		cJSON *id = cJSON_CreateString(d->client->id);
		if(id == NULL || !cJSON_AddItemToArray(to, id)){
			cJSON_Delete(id);
			goto error;
		}
		named++;
		id_bytes += len;
	}
	*size += id_bytes + 4 * named;
	if(truncated && (!cJSON_AddTrueToObject(o, "deliveredToTruncated")
				|| !cJSON_AddNumberToObject(o, "deliveredToCount", p->live_deliveries))){
		goto error;
	}
	free(hex);
	return o;
error:
	free(hex);
	cJSON_Delete(o);
	return NULL;
}

/* A cursor as the reply gives it: "<slot>.<generation>", both decimal. */
static bool parse_cursor(const char *text, unsigned *slot, uint32_t *generation)
{
	char *end;
	if(text[0] < '0' || text[0] > '9') return false;
	unsigned long s = strtoul(text, &end, 10);
	if(*end != '.' || end[1] < '0' || end[1] > '9' || s >= RCPT_PENDING_CURSORS) return false;
	const char *g = end + 1;
	unsigned long long v = strtoull(g, &end, 10);
	if(*end != '\0' || v == 0 || v > UINT32_MAX || end - g > 10) return false;
	*slot = (unsigned)s;
	*generation = (uint32_t)v;
	return true;
}

/* Where a page starts: after `offset` matches (a walk from the oldest), or
 * where a cursor left off (no walk at all). */
static bool page_start(struct rcpt_core *core, const cJSON *cmd, const struct selection *s,
		size_t *link, struct rcpt_pending **start, uint64_t *offset, char *err)
{
	const char *cursor;
	if(!get_string(cmd, "cursor", &cursor, err)
			|| !get_uint(cmd, "offset", 0, UINT32_MAX, false, 0, offset, err)){
		return false;
	}
	*start = first_candidate(core, s, link);
	if(cursor == NULL) return true;
	if(cJSON_GetObjectItemCaseSensitive(cmd, "offset")){
		snprintf(err, ERR_SIZE, "give 'cursor' or 'offset', not both");
		return false;
	}
	unsigned slot;
	uint32_t generation;
	if(!parse_cursor(cursor, &slot, &generation)
			|| !rcpt_pending__cursor_take(&core->pending, slot, generation, *link, start)){
		snprintf(err, ERR_SIZE, "'cursor' is not one this selection's last page gave, or has expired: "
				"list again from the start");
		return false;
	}
	return true;
}

static bool cmd_list_pending(struct rcpt_core *core, const cJSON *cmd, cJSON *data, char *err, size_t *reply_left)
{
	struct selection s;
	uint64_t offset, count;
	size_t link;
	struct rcpt_pending *p;
	if(!read_selection(cmd, &s, err)
			|| !get_uint(cmd, "count", 1, RECEIPTS_LIST_MAX_COUNT, true, RECEIPTS_LIST_DEFAULT_COUNT, &count, err)
			|| !page_start(core, cmd, &s, &link, &p, &offset, err)){
		return false;
	}
	snprintf(err, ERR_SIZE, "out of memory");
	cJSON *list = cJSON_AddArrayToObject(data, "pending");
	if(list == NULL) return false;

	uint64_t now = rcpt_host__now(&core->host);
	uint64_t skipped = 0, listed = 0;
	bool more = false;
	for(; p; p = rcpt_pending__next_in(p, link)){
		/* Oldest first: once one is young enough, all later ones are. */
		if(rcpt_pending__age_ms(p, now) < s.older_than_ms) break;
		if(!selected(p, &s)) continue;
		if(skipped < offset){
			skipped++;
			continue;
		}
		if(listed == count || (listed > 0 && *reply_left == 0)){
			more = true;
			break;
		}
		size_t size;
		cJSON *entry = describe_pending(p, now, &size);
		if(entry == NULL || !cJSON_AddItemToArray(list, entry)){
			cJSON_Delete(entry);
			return false;
		}
		*reply_left = size < *reply_left ? *reply_left - size : 0;
		listed++;
	}
	if(!cJSON_AddNumberToObject(data, "offset", (double)offset)
			|| !cJSON_AddNumberToObject(data, "count", (double)listed)
			|| !cJSON_AddBoolToObject(data, "more", more)){
		return false;
	}
	if(more){
		/* Where the next page starts, kept up to date as requests end. */
		uint32_t generation;
		unsigned slot = rcpt_pending__cursor_open(&core->pending, p, link, &generation);
		char cursor[32];
		snprintf(cursor, sizeof(cursor), "%u.%" PRIu32, slot, generation);
		if(!cJSON_AddStringToObject(data, "cursor", cursor)) return false;
	}
	return true;
}

/* ---- cancelPending ---- */

#define MAX_CANCEL_REASON 256

/* A mass cancellation not yet done: the requests of an area or of a
 * requester that were pending when it was asked, newest first (from the
 * newest of them then; requests that come later are after it). It runs on
 * the ticks with the expiries' budget, so a million do not hold the
 * broker's loop. Newest first also lets the allocator give memory back a
 * little at a time: oldest first frees the heap's top last, all at once. */
struct rcpt_cancel_job {
	struct rcpt_cancel_job *next;
	struct rcpt_pending_mark mark;   /* the next one to cancel */
	bool by_area;
	uint64_t left;            /* at most this many more */
	char *reason;
	char name[];              /* the area or the requester's client id */
};


/* Cancels up to room of the job's requests within the time budget; true
 * when the job is done. */
static bool job_run(struct rcpt_core *core, struct rcpt_cancel_job *j, unsigned *room,
		uint64_t since_ms, uint64_t budget_ms, uint64_t *done)
{
	unsigned n = 0;
	while(j->left > 0){
		if(*room == 0) return false;
		if(n > 0 && n % 32 == 0 && rcpt_host__now(&core->host) - since_ms >= budget_ms) return false;
		struct rcpt_pending *p = j->mark.at;
		if(p == NULL) return true;
		j->mark.at = rcpt_pending__prev_in(p, j->mark.link_offset);
		rcpt_life__finish(core, p, RCPT_OUTCOME_CANCELLED, RECEIPTS_STATUS_CANCELLED, j->reason);
		j->left--;
		(*room)--;
		(*done)++;
		n++;
	}
	return true;
}

static void job_free(struct rcpt_core *core, struct rcpt_cancel_job *j)
{
	if(j == NULL) return;
	rcpt_pending__mark_release(&core->pending, &j->mark);
	free(j->reason);
	free(j);
}

unsigned rcpt_control__tick(struct rcpt_core *core, unsigned room, uint64_t since_ms, uint64_t budget_ms)
{
	unsigned start = room;
	struct rcpt_cancel_job *j;
	while((j = core->cancels.first) != NULL){
		uint64_t done = 0;
		if(!job_run(core, j, &room, since_ms, budget_ms, &done)) break;
		core->cancels.first = j->next;
		if(core->cancels.first == NULL) core->cancels.last = NULL;
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "control: queued cancellation of %s '%s' done",
				j->by_area ? "area" : "requester", j->name);
		job_free(core, j);
	}
	return start - room;
}

void rcpt_control__free(struct rcpt_core *core)
{
	while(core->cancels.first){
		struct rcpt_cancel_job *j = core->cancels.first;
		core->cancels.first = j->next;
		job_free(core, j);
	}
	core->cancels.last = NULL;
}

/* Every request of an area or of a requester: as many as one tick's
 * expiries at once, the rest queued for the ticks. */
static bool cancel_all(struct rcpt_core *core, const char *area, const char *requester, const char *reason,
		uint64_t *selected, uint64_t *cancelled, char *err)
{
	const char *name = area ? area : requester;
	size_t len = strlen(name);
	struct rcpt_pending *newest = NULL;
	size_t link;
	if(area){
		struct rcpt_area *a = rcpt_areas__find(&core->areas, area, len);
		*selected = a ? a->pending : 0;
		newest = a ? a->requests.newest : NULL;
		link = offsetof(struct rcpt_pending, of_area);
	}else{
		struct rcpt_client *c = rcpt_clients__find(&core->clients, requester);
		*selected = c ? rcpt_pending__count_of(c) : 0;
		newest = c ? c->requests.newest : NULL;
		link = offsetof(struct rcpt_pending, of_requester);
	}
	if(*selected == 0) return true;
	struct rcpt_cancel_job *j = calloc(1, sizeof(*j) + len + 1);
	if(j == NULL || (j->reason = strdup(reason)) == NULL){
		free(j);
		snprintf(err, ERR_SIZE, "out of memory");
		return false;
	}
	j->by_area = area != NULL;
	j->left = *selected;
	memcpy(j->name, name, len + 1);
	rcpt_pending__mark_hold(&core->pending, &j->mark, newest, link);
	/* Behind earlier jobs: they run first, in the order asked. */
	if(core->cancels.first == NULL){
		unsigned room = RCPT_EXPIRIES_PER_TICK;
		if(job_run(core, j, &room, rcpt_host__now(&core->host), RCPT_EXPIRY_BUDGET_MS, cancelled)){
			job_free(core, j);
			return true;
		}
	}
	if(core->cancels.last) core->cancels.last->next = j;
	else core->cancels.first = j;
	core->cancels.last = j;
	return true;
}

static bool cancel_one(struct rcpt_core *core, const char *requester, const char *topic, const char *corr_hex,
		const char *reason, uint64_t *selected, char *err)
{
	size_t hex_len = strlen(corr_hex);
	unsigned char *corr = malloc(hex_len / 2 + 1);
	size_t corr_len = 0;
	if(corr == NULL){
		snprintf(err, ERR_SIZE, "out of memory");
		return false;
	}
	if(!decode_hex(corr_hex, corr, &corr_len)){
		free(corr);
		snprintf(err, ERR_SIZE, "'correlation' must be hexadecimal, two digits a byte");
		return false;
	}
	/* Requests are found by token; a requester's own correlation names
	 * them only within its list (and may name more than one). */
	struct rcpt_client *c = rcpt_clients__find(&core->clients, requester);
	struct rcpt_pending *p = c ? rcpt_pending__oldest_of(c) : NULL;
	size_t topic_len = strlen(topic);
	while(p){
		struct rcpt_pending *next = p->of_requester.next;
		if(p->topic_len == topic_len && !memcmp(rcpt_pending__topic(p), topic, topic_len)
				&& p->correlation_len == corr_len && !memcmp(rcpt_pending__correlation(p), corr, corr_len)){
			rcpt_life__finish(core, p, RCPT_OUTCOME_CANCELLED, RECEIPTS_STATUS_CANCELLED, reason);
			(*selected)++;
		}
		p = next;
	}
	free(corr);
	return true;
}

static bool cmd_cancel_pending(struct rcpt_core *core, const cJSON *cmd, cJSON *data, char *err, size_t *reply_left)
{
	(void)reply_left;
	const char *requester, *area, *topic, *corr_hex, *reason;
	if(!get_string(cmd, "requester", &requester, err) || !get_string(cmd, "area", &area, err)
			|| !get_string(cmd, "returnTopic", &topic, err) || !get_string(cmd, "correlation", &corr_hex, err)
			|| !get_string(cmd, "reason", &reason, err)){
		return false;
	}
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(cmd, "all");
	if(all && !cJSON_IsBool(all)){
		snprintf(err, ERR_SIZE, "'all' must be true or false");
		return false;
	}
	if(reason && (strlen(reason) > MAX_CANCEL_REASON || !rcpt_names__valid_utf8(reason, strlen(reason)))){
		snprintf(err, ERR_SIZE, "'reason' must be valid UTF-8 of at most %d bytes", MAX_CANCEL_REASON);
		return false;
	}
	if(reason == NULL) reason = RECEIPTS_REASON_CANCELLED;

	bool everything = all && cJSON_IsTrue(all);
	uint64_t selected = 0, cancelled = 0;
	if(everything && (requester != NULL) != (area != NULL) && !topic && !corr_hex){
		if(!cancel_all(core, area, requester, reason, &selected, &cancelled, err)) return false;
	}else if(!everything && requester && topic && corr_hex && !area){
		if(!cancel_one(core, requester, topic, corr_hex, reason, &selected, err)) return false;
		cancelled = selected;
	}else{
		snprintf(err, ERR_SIZE, "select requests with requester + returnTopic + correlation, "
				"requester + \"all\": true, or area + \"all\": true");
		return false;
	}
	if(selected > cancelled){
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "control: cancelled %" PRIu64 " pending request(s), "
				"%" PRIu64 " more queued for the next ticks: %s", cancelled, selected - cancelled, reason);
	}else{
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "control: cancelled %" PRIu64 " pending request(s): %s",
				cancelled, reason);
	}
	if(!cJSON_AddNumberToObject(data, "cancelled", (double)cancelled)
			|| !cJSON_AddNumberToObject(data, "selected", (double)selected)
			|| !cJSON_AddNumberToObject(data, "queued", (double)(selected - cancelled))){
		snprintf(err, ERR_SIZE, "out of memory");
		return false;
	}
	return true;
}

/* ---- getConfig ---- */

static bool cmd_get_config(struct rcpt_core *core, const cJSON *cmd, cJSON *data, char *err, size_t *reply_left)
{
	(void)cmd;
	(void)reply_left;
	const struct rcpt_config *c = &core->cfg;
	snprintf(err, ERR_SIZE, "out of memory");
	if(!cJSON_AddStringToObject(data, RECEIPTS_OPT_REQUEST_PREFIX, c->request_prefix)
			|| !cJSON_AddStringToObject(data, RECEIPTS_OPT_RETURN_PREFIX, c->return_prefix)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_DEFAULT_TIMEOUT_MS, c->default_timeout_ms)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_TIMEOUT_MS, c->max_timeout_ms)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_PENDING, c->max_pending)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_PENDING_PER_CLIENT, c->max_pending_per_client)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_PENDING_PER_USER, c->max_pending_per_user)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_PENDING_ANONYMOUS, c->max_pending_anonymous)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_PENDING_BYTES, (double)c->max_pending_bytes)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_CORRELATION_LEN, c->max_correlation_len)
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN, c->max_return_topic_len)
			|| !cJSON_AddStringToObject(data, RECEIPTS_OPT_ACL_FALLBACK, rcpt_config__fallback_name(c->acl_fallback))
			|| !cJSON_AddStringToObject(data, RECEIPTS_OPT_OPEN_RETURN_TOPICS,
				rcpt_config__open_return_name(c->open_return_topics))
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_SYS_INTERVAL_S, c->sys_interval_s)
			|| !cJSON_AddStringToObject(data, RECEIPTS_OPT_STATE_FILE, c->state_file ? c->state_file : "")
			|| !cJSON_AddNumberToObject(data, RECEIPTS_OPT_SAVE_INTERVAL_S, c->save_interval_s)
			|| !cJSON_AddBoolToObject(data, RECEIPTS_OPT_JOURNAL_SYNC, c->journal_sync)){
		return false;
	}
	cJSON *users = cJSON_AddArrayToObject(data, RECEIPTS_OPT_CONTROL_USERS);
	if(users == NULL) return false;
	for(char **u = c->control_users; u && *u; u++){
		cJSON *name = cJSON_CreateString(*u);
		if(name == NULL || !cJSON_AddItemToArray(users, name)){
			cJSON_Delete(name);
			return false;
		}
	}
	/* The effective choice: auto is resolved at start. */
	return cJSON_AddBoolToObject(data, RECEIPTS_OPT_BIND_CLIENT_IDS, core->identity.enabled)
		&& cJSON_AddNumberToObject(data, RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS, c->qos2_release_grace_ms);
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	command_fn run;
} commands[] = {
	{"getStats", cmd_get_stats},
	{"listPending", cmd_list_pending},
	{"cancelPending", cmd_cancel_pending},
	{"getConfig", cmd_get_config},
	{"releaseClientId", cmd_release_client_id},
};

static command_fn find_command(const char *name)
{
	for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++){
		if(!strcmp(commands[i].name, name)) return commands[i].run;
	}
	return NULL;
}

/* One response entry: {command, data | error, correlationData?}. */
static bool add_response(cJSON *responses, const char *command, cJSON *data, const char *error,
		const char *correlation)
{
	cJSON *entry = cJSON_CreateObject();
	if(entry == NULL || !cJSON_AddItemToArray(responses, entry)){
		cJSON_Delete(entry);
		cJSON_Delete(data);
		return false;
	}
	if(!cJSON_AddStringToObject(entry, "command", command ? command : "")){
		cJSON_Delete(data);
		return false;
	}
	if(error){
		cJSON_Delete(data);
		if(!cJSON_AddStringToObject(entry, "error", error)) return false;
	}else if(data){
		cJSON_AddItemToObject(entry, "data", data);
	}
	if(correlation && !cJSON_AddStringToObject(entry, "correlationData", correlation)) return false;
	return true;
}

static void run_one(struct rcpt_core *core, const cJSON *cmd, cJSON *responses, size_t *reply_left)
{
	char err[ERR_SIZE] = "";
	if(!cJSON_IsObject(cmd)){
		add_response(responses, NULL, NULL, "each command must be a JSON object", NULL);
		return;
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "command");
	const cJSON *corr = cJSON_GetObjectItemCaseSensitive(cmd, "correlationData");
	const char *correlation = cJSON_IsString(corr) ? corr->valuestring : NULL;
	if(!cJSON_IsString(name) || name->valuestring == NULL){
		add_response(responses, NULL, NULL, "'command' must be a string", correlation);
		return;
	}
	if(corr && !correlation){
		add_response(responses, name->valuestring, NULL, "'correlationData' must be a string", NULL);
		return;
	}
	command_fn run = find_command(name->valuestring);
	if(run == NULL){
		add_response(responses, name->valuestring, NULL, "unknown command", correlation);
		return;
	}
	cJSON *data = cJSON_CreateObject();
	if(data == NULL){
		add_response(responses, name->valuestring, NULL, "out of memory", correlation);
		return;
	}
	if(run(core, cmd, data, err, reply_left)){
		add_response(responses, name->valuestring, data, NULL, correlation);
	}else{
		add_response(responses, name->valuestring, data, err, correlation);
	}
}

static void run_batch(struct rcpt_core *core, const void *payload, size_t len, cJSON *responses)
{
	size_t reply_left = RECEIPTS_CONTROL_MAX_REPLY;
	char err[ERR_SIZE];
	if(len > RECEIPTS_CONTROL_MAX_PAYLOAD){
		snprintf(err, sizeof(err), "payload of %zu bytes is over the limit of %d; not parsed",
				len, RECEIPTS_CONTROL_MAX_PAYLOAD);
		add_response(responses, NULL, NULL, err, NULL);
		return;
	}
	cJSON *root = cJSON_ParseWithLength(payload, len);
	if(root == NULL){
		add_response(responses, NULL, NULL, "payload is not valid JSON", NULL);
		return;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "commands");
	if(!cJSON_IsArray(list)){
		add_response(responses, NULL, NULL, "payload must be {\"commands\": [...]}", NULL);
	}else if(cJSON_GetArraySize(list) > RECEIPTS_CONTROL_MAX_COMMANDS){
		snprintf(err, sizeof(err), "%d commands in one batch; at most %d are run at once, none were",
				cJSON_GetArraySize(list), RECEIPTS_CONTROL_MAX_COMMANDS);
		add_response(responses, NULL, NULL, err, NULL);
	}else{
		const cJSON *cmd;
		cJSON_ArrayForEach(cmd, list) run_one(core, cmd, responses, &reply_left);
	}
	cJSON_Delete(root);
}

void rcpt_control__run(struct rcpt_core *core, const char *client_id, const void *payload, size_t len)
{
	cJSON *reply = cJSON_CreateObject();
	cJSON *responses = reply ? cJSON_AddArrayToObject(reply, "responses") : NULL;
	char *text = NULL;
	if(responses){
		run_batch(core, payload, len, responses);
		text = cJSON_PrintUnformatted(reply);
	}
	if(text == NULL){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "control: out of memory answering '%s'", client_id);
	}else if(core->host.publish_plain(core->host.ctx, client_id, RECEIPTS_CONTROL_RESPONSE_TOPIC,
				text, strlen(text), false) != RCPT_OK){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "control: could not send the reply to '%s'", client_id);
	}
	cJSON_free(text);
	cJSON_Delete(reply);
}
