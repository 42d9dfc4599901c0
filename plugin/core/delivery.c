/*
 * Which subscribers a request reached.
 *
 * The broker runs one READ check per subscriber as it queues a message, and
 * passes the stored message's topic pointer: that pointer is the message
 * key. For QoS 0 and 1 the checks run right after the MESSAGE event, so a
 * request stays "unsettled" only until the next event; for QoS 2 they run at
 * PUBREL, which no event marks, so the request waits in a table by key with
 * a grace period. A key may be reused once a message is freed, so the topic's
 * length and hash guard every match.
 */
#include <stdlib.h>

#include "internal.h"

static uint32_t topic_hash(const char *topic, size_t len)
{
	return rcpt_hash__bytes(RCPT_HASH_SEED, topic, len);
}

static uint32_t key_hash(const void *key)
{
	uintptr_t v = (uintptr_t)key;
	return rcpt_hash__bytes(RCPT_HASH_SEED, &v, sizeof(v));
}

static void order_unlink(struct rcpt_core *core, struct rcpt_release_wait *w)
{
	if(w->prev_in_order) w->prev_in_order->next_in_order = w->next_in_order;
	else core->waits_oldest = w->next_in_order;
	if(w->next_in_order) w->next_in_order->prev_in_order = w->prev_in_order;
	else core->waits_newest = w->prev_in_order;
	w->prev_in_order = w->next_in_order = NULL;
}

static int make_room(struct rcpt_core *core)
{
	struct rcpt_unsettled_list *l = &core->unsettled;
	if(l->count < l->capacity) return RCPT_OK;
	size_t cap = l->capacity ? l->capacity * 2 : 16;
	struct rcpt_unsettled *items = realloc(l->items, cap * sizeof(*items));
	if(items == NULL) return RCPT_ERR_NOMEM;
	l->items = items;
	l->capacity = cap;
	return RCPT_OK;
}

int rcpt_delivery__reserve(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(p->qos == 2){
		p->release_wait = calloc(1, sizeof(*p->release_wait));
		return p->release_wait ? RCPT_OK : RCPT_ERR_NOMEM;
	}
	return make_room(core);
}

int rcpt_delivery__settle_later(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(make_room(core) != RCPT_OK) return RCPT_ERR_NOMEM;
	/* No message key: no READ check can match it. */
	core->unsettled.items[core->unsettled.count++] = (struct rcpt_unsettled){.pending = p};
	p->state = RCPT_PENDING_UNSETTLED;
	return RCPT_OK;
}

void rcpt_delivery__track(struct rcpt_core *core, struct rcpt_pending *p,
		const void *message_key, const char *topic)
{
	size_t len = strlen(topic);
	struct rcpt_unsettled u = {
		.message_key = message_key,
		.pending = p,
		.topic_hash = topic_hash(topic, len),
		.topic_len = (uint32_t)len,
	};
	if(p->qos == 2){
		struct rcpt_release_wait *w = p->release_wait;
		w->u = u;
		w->grace_deadline_ms = rcpt_core__now(core) + RCPT_RELEASE_GRACE_MS;
		rcpt_htable__insert(&core->release_waits, &w->node, key_hash(message_key));
		w->prev_in_order = core->waits_newest;
		if(core->waits_newest) core->waits_newest->next_in_order = w;
		else core->waits_oldest = w;
		core->waits_newest = w;
		p->state = RCPT_PENDING_AWAITING_RELEASE;
	}else{
		/* rcpt_delivery__reserve made room. */
		core->unsettled.items[core->unsettled.count++] = u;
		p->state = RCPT_PENDING_UNSETTLED;
	}
}

static void free_wait(struct rcpt_core *core, struct rcpt_release_wait *w)
{
	if(w->u.pending){
		rcpt_htable__remove(&core->release_waits, &w->node);
		if(!w->released) order_unlink(core, w);
	}
	free(w);
}

void rcpt_delivery__untrack(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(p->release_wait){
		struct rcpt_release_wait *w = p->release_wait;
		if(w->released){
			/* It sits on the released list: unlink it there. */
			struct rcpt_release_wait **link = &core->waits_released;
			while(*link && *link != w) link = &(*link)->next_released;
			if(*link) *link = w->next_released;
		}
		free_wait(core, w);
		p->release_wait = NULL;
	}
	if(p->state == RCPT_PENDING_UNSETTLED){
		struct rcpt_unsettled_list *l = &core->unsettled;
		for(size_t i = 0; i < l->count; i++){
			if(l->items[i].pending == p){
				l->items[i] = l->items[--l->count];
				break;
			}
		}
	}
	p->state = RCPT_PENDING_SETTLED;
}

static void settle_one(struct rcpt_core *core, struct rcpt_pending *p)
{
	p->state = RCPT_PENDING_SETTLED;
	if(!p->ever_delivered){
		rcpt_pending__finish(core, p, RCPT_OUTCOME_NO_RESPONDERS,
				RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
	}else if(p->live_deliveries == 0){
		/* Every recipient's session ended while its READ checks ran. */
		rcpt_pending__finish(core, p, RCPT_OUTCOME_RESPONDER_GONE,
				RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	}
}

void rcpt_delivery__settle(struct rcpt_core *core)
{
	struct rcpt_unsettled_list *l = &core->unsettled;
	while(l->count > 0){
		struct rcpt_pending *p = l->items[--l->count].pending;
		settle_one(core, p);
	}
	while(core->waits_released){
		struct rcpt_release_wait *w = core->waits_released;
		core->waits_released = w->next_released;
		struct rcpt_pending *p = w->u.pending;
		free_wait(core, w);
		p->release_wait = NULL;
		settle_one(core, p);
	}
}

void rcpt_delivery__expire_release_waits(struct rcpt_core *core, uint64_t now)
{
	while(core->waits_oldest && core->waits_oldest->grace_deadline_ms <= now){
		struct rcpt_release_wait *w = core->waits_oldest;
		struct rcpt_pending *p = w->u.pending;
		free_wait(core, w);
		p->release_wait = NULL;
		settle_one(core, p);
	}
}

static struct rcpt_pending *match(const struct rcpt_unsettled *u, const void *key,
		uint32_t hash, size_t len)
{
	if(u->message_key == key && u->topic_len == len && u->topic_hash == hash) return u->pending;
	return NULL;
}

struct rcpt_pending *rcpt_delivery__lookup(struct rcpt_core *core, const void *key, const char *topic)
{
	size_t len = strlen(topic);
	uint32_t hash = topic_hash(topic, len);
	struct rcpt_unsettled_list *l = &core->unsettled;
	for(size_t i = l->count; i > 0; i--){
		struct rcpt_pending *p = match(&l->items[i - 1], key, hash, len);
		if(p) return p;
	}
	if(core->release_waits.count == 0) return NULL;
	uint32_t kh = key_hash(key);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&core->release_waits, kh); n; n = n->next){
		struct rcpt_release_wait *w = RCPT_CONTAINER_OF(n, struct rcpt_release_wait, node);
		struct rcpt_pending *p = match(&w->u, key, hash, len);
		if(p == NULL) continue;
		if(!w->released){
			/* PUBREL arrived: its READ checks are running now. Settle
			 * at the next event like a QoS 0/1 request. */
			order_unlink(core, w);
			w->released = true;
			w->next_released = core->waits_released;
			core->waits_released = w;
		}
		return p;
	}
	return NULL;
}
