/*
 * The core's life and its event entry points: each event settles earlier
 * READ checks first, then hands the work to the module that owns it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

#define RCPT_EXPIRY_BUDGET_MS 2
#define RCPT_EXPIRY_CLOCK_EVERY 32

/* Without a TICK for this long while requests wait, timeouts cannot fire. */
#define RCPT_TICK_SILENCE_MS 5000

static const char *const outcome_names[RCPT_OUTCOME_COUNT] = {
	[RCPT_OUTCOME_OK] = RECEIPTS_STATUS_OK,
	[RCPT_OUTCOME_TIMEOUT] = RECEIPTS_STATUS_TIMEOUT,
	[RCPT_OUTCOME_NO_RESPONDERS] = RECEIPTS_STATUS_NO_RESPONDERS,
	[RCPT_OUTCOME_RESPONDER_GONE] = RECEIPTS_STATUS_RESPONDER_GONE,
	[RCPT_OUTCOME_REJECTED] = RECEIPTS_STATUS_REJECTED,
	[RCPT_OUTCOME_CANCELLED] = RECEIPTS_STATUS_CANCELLED,
	[RCPT_OUTCOME_UNMATCHED] = "unmatched",
	[RCPT_OUTCOME_ABANDONED] = "abandoned",
};

const char *rcpt_outcome__name(enum rcpt_outcome o)
{
	return (unsigned)o < RCPT_OUTCOME_COUNT ? outcome_names[o] : "?";
}

uint64_t rcpt_core__now(struct rcpt_core *core)
{
	return core->host.now_ms(core->host.ctx);
}

uint64_t rcpt_core__wall(struct rcpt_core *core)
{
	if(core->host.wall_ms) return core->host.wall_ms(core->host.ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rcpt_core__save_state(struct rcpt_core *core)
{
	rcpt_core__settle(core);
	rcpt_persist__save_now(core);
}

struct rcpt_core *rcpt_core__new(const struct rcpt_host *host, struct rcpt_config *cfg)
{
	struct rcpt_core *core = calloc(1, sizeof(*core));
	if(core == NULL) return NULL;
	core->host = *host;
	core->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	core->request_prefix_len = strlen(core->cfg.request_prefix);
	core->return_prefix_len = strlen(core->cfg.return_prefix);
	core->topic_buf = malloc(core->request_prefix_len + RECEIPTS_MAX_AREA_LEN + 2);
	if(core->topic_buf == NULL
			|| rcpt_htable__init(&core->pending, 1024)
			|| rcpt_htable__init(&core->clients, 64)
			|| rcpt_htable__init(&core->areas, 64)
			|| rcpt_htable__init(&core->release_waits, 16)){
		rcpt_core__free(core);
		return NULL;
	}
	/* Broker-made correlations must not repeat those of an earlier run. */
	core->next_correlation = ((uint64_t)time(NULL) << 24) ^ rcpt_core__now(core);
	core->last_tick_ms = rcpt_core__now(core);
	rcpt_persist__init(core);
	return core;
}

void rcpt_core__free(struct rcpt_core *core)
{
	if(core == NULL) return;
	rcpt_persist__free(core);
	if(core->pending.buckets){
		for(size_t i = 0; i <= core->pending.mask; i++){
			struct rcpt_hnode *n = core->pending.buckets[i];
			while(n){
				struct rcpt_hnode *next = n->next;
				struct rcpt_pending *p = RCPT_CONTAINER_OF(n, struct rcpt_pending, node);
				for(struct rcpt_delivery *d = p->first.next_of_pending; d; ){
					struct rcpt_delivery *dn = d->next_of_pending;
					free(d);
					d = dn;
				}
				free(p->release_wait);
				free(p);
				n = next;
			}
		}
	}
	if(core->clients.buckets) rcpt_clients__free_all(core);
	if(core->areas.buckets) rcpt_areas__free_all(core);
	rcpt_htable__free(&core->pending);
	rcpt_htable__free(&core->clients);
	rcpt_htable__free(&core->areas);
	rcpt_htable__free(&core->release_waits);
	rcpt_heap__free(&core->deadlines);
	free(core->unsettled.items);
	free(core->topic_buf);
	rcpt_config__free(&core->cfg);
	free(core);
}

const struct rcpt_config *rcpt_core__config(const struct rcpt_core *core)
{
	return &core->cfg;
}

void rcpt_core__stats(const struct rcpt_core *core, struct rcpt_stats *out)
{
	*out = core->stats;
}

bool rcpt_core__may_concern(const struct rcpt_core *core, const char *topic,
		bool has_response_topic, bool has_user_properties, bool has_correlation)
{
	return has_response_topic || has_user_properties
		|| (has_correlation && core->open_return_count > 0)
		|| rcpt_names__below(topic, core->cfg.request_prefix, core->request_prefix_len)
		|| rcpt_names__below(topic, core->cfg.return_prefix, core->return_prefix_len);
}

void rcpt_core__settle(struct rcpt_core *core)
{
	if(core->unsettled.count || core->waits_released) rcpt_delivery__settle(core);
}

/* Mosquitto sends no TICK with per_listener_settings true: say so once,
 * the first time it matters. */
static void check_ticks(struct rcpt_core *core)
{
	if(core->no_tick_warned) return;
	if(rcpt_core__now(core) - core->last_tick_ms < RCPT_TICK_SILENCE_MS) return;
	core->no_tick_warned = true;
	rcpt_core__logf(core, RCPT_LOG_WARNING, "no TICK event for %u ms: timeouts and QoS 2 "
			"no-responders receipts cannot be sent (is per_listener_settings true?)",
			RCPT_TICK_SILENCE_MS);
}

void rcpt_core__on_publish(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->action = RCPT_PASS;
	rcpt_core__settle(core);
	rcpt_clients__notice(core, &msg->sender);

	if(rcpt_names__below(msg->topic, core->cfg.return_prefix, core->return_prefix_len)){
		rcpt_receipt__decide(core, msg, out);
		return;
	}
	if(msg->has_correlation && core->open_return_count > 0 && rcpt_receipt__decide(core, msg, out)){
		return;
	}
	if(!msg->has_response_topic && msg->return_area_count == 0) return;

	const char *area;
	size_t area_len;
	if(msg->subject_area_count > 0){
		area = msg->subject_area;
		area_len = strlen(area);
	}else{
		const char *rest = rcpt_names__below(msg->topic, core->cfg.request_prefix, core->request_prefix_len);
		if(rest == NULL) return;
		area = rest;
		area_len = rcpt_names__level_len(rest);
	}
	check_ticks(core);
	rcpt_request__decide(core, msg, area, area_len, out);
}

void rcpt_core__request_stored(struct rcpt_core *core, struct rcpt_pending *p, const void *message_key,
		const char *topic)
{
	if(p) rcpt_delivery__track(core, p, message_key, topic);
}

void rcpt_core__request_abort(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(p == NULL) return;
	rcpt_stats__rejected(core, RECEIPTS_REJECT_NO_MEMORY);
	rcpt_pending__destroy(core, p);
}

/* The control topics answer control users only, whatever acl_fallback
 * says: never give fall-through access to $CONTROL. */
static enum rcpt_access control_access(const struct rcpt_core *core, const struct rcpt_client_ref *who)
{
	return rcpt_config__is_control_user(&core->cfg, who->username) ? RCPT_ACCESS_ALLOW : RCPT_ACCESS_DENY;
}

static bool is_control_topic(const char *topic)
{
	return rcpt_names__below(topic, RECEIPTS_CONTROL_TOPIC, strlen(RECEIPTS_CONTROL_TOPIC)) != NULL;
}

enum rcpt_access rcpt_core__on_read(struct rcpt_core *core, const void *message_key,
		const char *topic, const struct rcpt_client_ref *receiver)
{
	if(topic[0] == '$'){
		return is_control_topic(topic) ? control_access(core, receiver) : RCPT_ACCESS_FALLBACK;
	}
	rcpt_clients__notice(core, receiver);
	const char *rest = rcpt_names__below(topic, core->cfg.return_prefix, core->return_prefix_len);
	if(rest){
		size_t owner_len = rcpt_names__level_len(rest);
		return (owner_len > 0 && strlen(receiver->id) == owner_len && !memcmp(rest, receiver->id, owner_len))
			? RCPT_ACCESS_ALLOW : RCPT_ACCESS_DENY;
	}
	if(!rcpt_names__below(topic, core->cfg.request_prefix, core->request_prefix_len)){
		return RCPT_ACCESS_FALLBACK;
	}
	struct rcpt_pending *p = rcpt_delivery__lookup(core, message_key, topic);
	if(p){
		struct rcpt_client *c = rcpt_clients__seen(core, receiver);
		if(c == NULL || rcpt_pending__add_delivery(core, p, c) != RCPT_OK){
			rcpt_clients__release_if_empty(core, c);
			rcpt_core__logf(core, RCPT_LOG_ERR, "out of memory: delivery of a request to '%s' not tracked",
					receiver->id);
		}
	}
	return RCPT_ACCESS_FALLBACK;
}

enum rcpt_access rcpt_core__on_write(struct rcpt_core *core, const char *topic,
		const struct rcpt_client_ref *sender)
{
	rcpt_clients__notice(core, sender);
	if(topic[0] == '$'){
		return is_control_topic(topic) ? control_access(core, sender) : RCPT_ACCESS_FALLBACK;
	}
	/* Receipts are judged in full at the MESSAGE event, where their
	 * correlation data can be seen. */
	if(rcpt_names__below(topic, core->cfg.return_prefix, core->return_prefix_len)) return RCPT_ACCESS_ALLOW;
	return RCPT_ACCESS_FALLBACK;
}

enum rcpt_access rcpt_core__on_subscribe(struct rcpt_core *core, const char *filter,
		const struct rcpt_client_ref *subscriber)
{
	/* A client coming back subscribes first: that tells its clean flag. */
	rcpt_clients__notice(core, subscriber);
	/* A shared subscription is judged by the filter it shares. */
	if(!strncmp(filter, "$share/", 7)){
		const char *group_end = strchr(filter + 7, '/');
		if(group_end == NULL) return RCPT_ACCESS_FALLBACK;
		filter = group_end + 1;
	}
	if(rcpt_names__filter_matches(filter, RECEIPTS_CONTROL_TOPIC)
			|| rcpt_names__filter_matches(filter, RECEIPTS_CONTROL_RESPONSE_TOPIC)){
		enum rcpt_access a = control_access(core, subscriber);
		if(a == RCPT_ACCESS_DENY){
			rcpt_core__logf(core, RCPT_LOG_NOTICE, "refused subscription of '%s' to '%s': not a control user",
					subscriber->id, filter);
		}
		return a;
	}
	const char *rest = rcpt_names__below(filter, core->cfg.return_prefix, core->return_prefix_len);
	if(rest == NULL){
		/* Wildcards over the prefix (`#`, `+/...`) are allowed: READ
		 * checks keep other clients' receipts out. */
		return RCPT_ACCESS_FALLBACK;
	}
	if(rest[0] == '\0') return RCPT_ACCESS_FALLBACK;   /* the prefix topic itself */
	size_t owner_len = rcpt_names__level_len(rest);
	if(strlen(subscriber->id) == owner_len && !memcmp(rest, subscriber->id, owner_len)
			&& rcpt_names__valid_level(subscriber->id, owner_len)){
		return RCPT_ACCESS_ALLOW;
	}
	rcpt_core__logf(core, RCPT_LOG_NOTICE, "refused subscription of '%s' to '%s': not its return area",
			subscriber->id, filter);
	return RCPT_ACCESS_DENY;
}

void rcpt_core__on_disconnect(struct rcpt_core *core, const char *client_id, bool clean)
{
	rcpt_core__settle(core);
	if(client_id) rcpt_clients__disconnected(core, client_id, clean);
}

void rcpt_core__on_tick(struct rcpt_core *core)
{
	rcpt_core__settle(core);
	uint64_t now = rcpt_core__now(core);
	core->last_tick_ms = now;
	rcpt_delivery__expire_release_waits(core, now);
	rcpt_sys__tick(core, now);
	rcpt_persist__tick(core, now);
	for(int i = 0; i < RCPT_EXPIRIES_PER_TICK; i++){
		struct rcpt_pending *p = rcpt_heap__top(&core->deadlines);
		if(p == NULL || p->deadline_ms > now) break;
		if(i > 0 && i % RCPT_EXPIRY_CLOCK_EVERY == 0 && rcpt_core__now(core) - now >= RCPT_EXPIRY_BUDGET_MS) break;
		rcpt_pending__finish(core, p, RCPT_OUTCOME_TIMEOUT, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	}
}
