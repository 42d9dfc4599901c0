/*
 * READ-check tracking (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tracking.h"

struct rcpt_release_wait {
	struct rcpt_hnode node;   /* by message key */
	struct rcpt_hnode by_sender;
	struct rcpt_unsettled u;
	uint64_t grace_deadline_ms;
	struct rcpt_release_wait *next_in_order;   /* FIFO by grace deadline */
	struct rcpt_release_wait *prev_in_order;
	struct rcpt_release_wait *next_released;
	bool released;            /* its PUBREL's READ checks have begun */
	uint32_t payload_hash;    /* tells a retransmission from a new request */
};

int rcpt_tracking__init(struct rcpt_tracking *tr, uint32_t release_grace_ms)
{
	memset(tr, 0, sizeof(*tr));
	tr->grace_ms = release_grace_ms;
	if(rcpt_htable__init(&tr->waits_by_sender, 16)) return RCPT_ERR_NOMEM;
	return rcpt_htable__init(&tr->waits, 16);
}

void rcpt_tracking__free(struct rcpt_tracking *tr)
{
	/* The waits belong to requests, which the pending table frees. */
	struct rcpt_hnode *n = rcpt_htable__first(&tr->waits);
	while(n){
		struct rcpt_hnode *next = rcpt_htable__next(&tr->waits, n);
		struct rcpt_release_wait *w = RCPT_CONTAINER_OF(n, struct rcpt_release_wait, node);
		w->u.pending->release_wait = NULL;
		free(w);
		n = next;
	}
	rcpt_htable__free(&tr->waits);
	rcpt_htable__free(&tr->waits_by_sender);
	free(tr->unsettled.items);
	uint64_t grace = tr->grace_ms;
	memset(tr, 0, sizeof(*tr));
	tr->grace_ms = grace;
}

static uint32_t topic_hash(const char *topic, size_t len)
{
	return rcpt_hash__bytes(RCPT_HASH_SEED, topic, len);
}

static uint32_t key_hash(const void *key)
{
	uintptr_t v = (uintptr_t)key;
	return rcpt_hash__bytes(RCPT_HASH_SEED, &v, sizeof(v));
}

/* What a retransmission shares with its original. corr NULL: the broker
 * made the correlation. */
static uint32_t sender_hash(const char *requester_id, const char *topic, size_t topic_len,
		const void *corr, size_t corr_len, uint32_t payload_hash)
{
	uint32_t h = rcpt_hash__bytes(payload_hash, requester_id, strlen(requester_id));
	h = rcpt_hash__bytes(h, topic, topic_len);
	return corr ? rcpt_hash__bytes(h ^ 1u, corr, corr_len) : h;
}

static void order_unlink(struct rcpt_tracking *tr, struct rcpt_release_wait *w)
{
	if(w->prev_in_order) w->prev_in_order->next_in_order = w->next_in_order;
	else tr->waits_oldest = w->next_in_order;
	if(w->next_in_order) w->next_in_order->prev_in_order = w->prev_in_order;
	else tr->waits_newest = w->prev_in_order;
	w->prev_in_order = w->next_in_order = NULL;
}

static int make_room(struct rcpt_tracking *tr)
{
	if(tr->unsettled.count < tr->unsettled.capacity) return RCPT_OK;
	size_t cap = tr->unsettled.capacity ? tr->unsettled.capacity * 2 : 16;
	struct rcpt_unsettled *items = realloc(tr->unsettled.items, cap * sizeof(*items));
	if(items == NULL) return RCPT_ERR_NOMEM;
	tr->unsettled.items = items;
	tr->unsettled.capacity = cap;
	return RCPT_OK;
}

int rcpt_tracking__reserve(struct rcpt_tracking *tr, struct rcpt_pending *p, uint32_t payload_hash)
{
	if(p->qos == 2){
		p->release_wait = calloc(1, sizeof(*p->release_wait));
		if(p->release_wait == NULL) return RCPT_ERR_NOMEM;
		p->release_wait->payload_hash = payload_hash;
		return RCPT_OK;
	}
	return make_room(tr);
}

int rcpt_tracking__settle_later(struct rcpt_tracking *tr, struct rcpt_pending *p)
{
	if(make_room(tr) != RCPT_OK) return RCPT_ERR_NOMEM;
	/* No message key: no READ check can match it. */
	tr->unsettled.items[tr->unsettled.count++] = (struct rcpt_unsettled){.pending = p};
	p->track_state = RCPT_TRACK_UNSETTLED;
	return RCPT_OK;
}

void rcpt_tracking__track(struct rcpt_tracking *tr, struct rcpt_pending *p,
		const void *message_key, const char *topic, uint64_t now)
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
		w->grace_deadline_ms = now + tr->grace_ms;
		rcpt_htable__insert(&tr->waits, &w->node, key_hash(message_key));
		rcpt_htable__insert(&tr->waits_by_sender, &w->by_sender, sender_hash(p->requester->id, p->key, p->topic_len,
				p->no_correlation ? NULL : rcpt_pending__correlation(p), p->correlation_len, w->payload_hash));
		w->prev_in_order = tr->waits_newest;
		if(tr->waits_newest) tr->waits_newest->next_in_order = w;
		else tr->waits_oldest = w;
		tr->waits_newest = w;
		p->track_state = RCPT_TRACK_AWAITING_RELEASE;
	}else{
		/* rcpt_tracking__reserve made room. */
		tr->unsettled.items[tr->unsettled.count++] = u;
		p->track_state = RCPT_TRACK_UNSETTLED;
	}
}

static void free_wait(struct rcpt_tracking *tr, struct rcpt_release_wait *w)
{
	if(w->u.pending){
		rcpt_htable__remove(&tr->waits, &w->node);
		rcpt_htable__remove(&tr->waits_by_sender, &w->by_sender);
		if(!w->released) order_unlink(tr, w);
	}
	free(w);
}

void rcpt_tracking__untrack(struct rcpt_tracking *tr, struct rcpt_pending *p)
{
	if(p->release_wait){
		struct rcpt_release_wait *w = p->release_wait;
		if(w->released){
			/* It sits on the released list: unlink it there. */
			struct rcpt_release_wait **link = &tr->waits_released;
			while(*link && *link != w) link = &(*link)->next_released;
			if(*link) *link = w->next_released;
		}
		free_wait(tr, w);
		p->release_wait = NULL;
	}
	if(p->track_state == RCPT_TRACK_UNSETTLED){
		for(size_t i = 0; i < tr->unsettled.count; i++){
			if(tr->unsettled.items[i].pending == p){
				tr->unsettled.items[i] = tr->unsettled.items[--tr->unsettled.count];
				break;
			}
		}
	}
	p->track_state = RCPT_TRACK_SETTLED;
}

/* Takes a request off a release wait, marked settled. */
static struct rcpt_pending *settle_wait(struct rcpt_tracking *tr, struct rcpt_release_wait *w)
{
	struct rcpt_pending *p = w->u.pending;
	free_wait(tr, w);
	p->release_wait = NULL;
	p->track_state = RCPT_TRACK_SETTLED;
	return p;
}

struct rcpt_pending *rcpt_tracking__next_settled(struct rcpt_tracking *tr)
{
	if(tr->unsettled.count > 0){
		struct rcpt_pending *p = tr->unsettled.items[--tr->unsettled.count].pending;
		p->track_state = RCPT_TRACK_SETTLED;
		return p;
	}
	struct rcpt_release_wait *w = tr->waits_released;
	if(w == NULL) return NULL;
	tr->waits_released = w->next_released;
	return settle_wait(tr, w);
}

struct rcpt_pending *rcpt_tracking__overdue(const struct rcpt_tracking *tr, uint64_t now)
{
	const struct rcpt_release_wait *w = tr->waits_oldest;
	if(w == NULL || w->grace_deadline_ms > now) return NULL;
	return w->u.pending;
}

void rcpt_tracking__release_message(const struct rcpt_pending *p, const void **key, uint32_t *topic_hash,
		uint32_t *topic_len, uint32_t *payload_hash)
{
	const struct rcpt_release_wait *w = p->release_wait;
	*key = w->u.message_key;
	*topic_hash = w->u.topic_hash;
	*topic_len = w->u.topic_len;
	*payload_hash = w->payload_hash;
}

static struct rcpt_pending *match(const struct rcpt_unsettled *u, const void *key,
		uint32_t hash, size_t len)
{
	if(u->message_key == key && u->topic_len == len && u->topic_hash == hash) return u->pending;
	return NULL;
}

struct rcpt_pending *rcpt_tracking__lookup(struct rcpt_tracking *tr, const void *key, const char *topic)
{
	size_t len = strlen(topic);
	uint32_t hash = topic_hash(topic, len);
	for(size_t i = tr->unsettled.count; i > 0; i--){
		struct rcpt_pending *p = match(&tr->unsettled.items[i - 1], key, hash, len);
		if(p) return p;
	}
	if(rcpt_htable__count(&tr->waits) == 0) return NULL;
	uint32_t kh = key_hash(key);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&tr->waits, kh); n; n = n->next){
		struct rcpt_release_wait *w = RCPT_CONTAINER_OF(n, struct rcpt_release_wait, node);
		struct rcpt_pending *p = match(&w->u, key, hash, len);
		if(p == NULL) continue;
		if(!w->released){
			/* PUBREL arrived: its READ checks are running now. Settle
			 * at the next event like a QoS 0/1 request. */
			order_unlink(tr, w);
			w->released = true;
			w->next_released = tr->waits_released;
			tr->waits_released = w;
		}
		return p;
	}
	return NULL;
}

struct rcpt_pending *rcpt_tracking__awaiting_release(const struct rcpt_tracking *tr, const char *requester_id,
		const char *topic, size_t topic_len, const void *corr, size_t corr_len, uint32_t payload_hash)
{
	uint32_t hash = sender_hash(requester_id, topic, topic_len, corr, corr_len, payload_hash);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&tr->waits_by_sender, hash); n; n = n->next){
		struct rcpt_release_wait *w = RCPT_CONTAINER_OF(n, struct rcpt_release_wait, by_sender);
		struct rcpt_pending *p = w->u.pending;
		/* Once its PUBREL came, a PUBLISH like it is a new request. */
		if(n->hash != hash || w->released) continue;
		if(w->payload_hash != payload_hash || p->topic_len != topic_len
				|| memcmp(p->key, topic, topic_len)
				|| strcmp(p->requester->id, requester_id)){
			continue;
		}
		if(corr ? (!p->no_correlation && p->correlation_len == corr_len
					&& !memcmp(rcpt_pending__correlation(p), corr, corr_len))
				: p->no_correlation){
			return p;
		}
	}
	return NULL;
}

size_t rcpt_tracking__waiting(const struct rcpt_tracking *tr)
{
	return rcpt_htable__count(&tr->waits);
}
