/*
 * Pending receipts: one record per accepted request, found by its return
 * topic and correlation data, linked to its requester, its recipients, its
 * subject area and its deadline. A request ends in exactly one place:
 * rcpt_pending__finish.
 */
#include <stdlib.h>

#include "internal.h"

uint32_t rcpt_pending__hash(const char *topic, size_t topic_len, const void *corr, size_t corr_len)
{
	uint32_t h = rcpt_hash__bytes(RCPT_HASH_SEED, topic, topic_len);
	return rcpt_hash__bytes(h ^ (uint32_t)corr_len, corr, corr_len);
}

struct rcpt_pending *rcpt_pending__find(const struct rcpt_core *core, const char *topic,
		size_t topic_len, const void *corr, size_t corr_len)
{
	uint32_t hash = rcpt_pending__hash(topic, topic_len, corr, corr_len);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&core->pending, hash); n; n = n->next){
		struct rcpt_pending *p = RCPT_CONTAINER_OF(n, struct rcpt_pending, node);
		if(n->hash == hash && p->topic_len == topic_len && p->correlation_len == corr_len
				&& !memcmp(p->key, topic, topic_len)
				&& !memcmp(rcpt_pending__correlation(p), corr, corr_len)){
			return p;
		}
	}
	return NULL;
}

struct rcpt_pending *rcpt_pending__create(struct rcpt_core *core, const struct rcpt_pending_spec *spec)
{
	struct rcpt_pending *p = calloc(1, RCPT_PENDING_SIZE(spec->topic_len, spec->correlation_len));
	if(p == NULL) return NULL;
	p->requester = spec->requester;
	p->qos = spec->qos;
	p->topic_len = (uint16_t)spec->topic_len;
	p->correlation_len = (uint16_t)spec->correlation_len;
	p->broker_correlation = spec->broker_correlation;
	p->open_return = spec->open_return;
	memcpy(p->key, spec->topic, spec->topic_len);
	p->key[spec->topic_len] = '\0';
	memcpy(p->key + spec->topic_len + 1, spec->correlation, spec->correlation_len);
	p->created_ms32 = (uint32_t)spec->created_ms;
	p->deadline_ms = spec->deadline_ms;
	p->state = RCPT_PENDING_SETTLED;
	if(rcpt_heap__push(&core->deadlines, p) != RCPT_OK){
		free(p);
		return NULL;
	}
	p->area = rcpt_areas__acquire(core, spec->area, spec->area_len);
	if(p->area == NULL){
		rcpt_heap__remove(&core->deadlines, p);
		free(p);
		return NULL;
	}

	/* From here nothing fails: link it everywhere. */
	rcpt_htable__insert(&core->pending, &p->node,
			rcpt_pending__hash(p->key, spec->topic_len, spec->correlation, spec->correlation_len));
	struct rcpt_client *requester = spec->requester;
	RCPT_LIST_APPEND(&requester->requests, p, of_requester);
	RCPT_LIST_APPEND(&p->area->requests, p, of_area);
	RCPT_LIST_APPEND(&core->all, p, of_all);
	requester->pending_count++;
	if(p->open_return) core->open_return_count++;
	core->stats.pending++;
	if(core->stats.pending > core->stats.pending_high_water){
		core->stats.pending_high_water = core->stats.pending;
	}
	core->persist.dirty = true;
	return p;
}

bool rcpt_pending__delivered_to(const struct rcpt_pending *p, const struct rcpt_client *c)
{
	for(const struct rcpt_delivery *d = &p->first; d; d = d->next_of_pending){
		if(d->client == c) return true;
	}
	return false;
}

static void link_to_client(struct rcpt_delivery *d, struct rcpt_client *c)
{
	d->client = c;
	d->prev_of_client = NULL;
	d->next_of_client = c->deliveries;
	if(c->deliveries) c->deliveries->prev_of_client = d;
	c->deliveries = d;
}

static void unlink_from_client(struct rcpt_delivery *d)
{
	struct rcpt_client *c = d->client;
	if(d->prev_of_client){
		d->prev_of_client->next_of_client = d->next_of_client;
	}else{
		c->deliveries = d->next_of_client;
	}
	if(d->next_of_client) d->next_of_client->prev_of_client = d->prev_of_client;
	d->client = NULL;
	d->prev_of_client = d->next_of_client = NULL;
}

int rcpt_pending__add_delivery(struct rcpt_core *core, struct rcpt_pending *p, struct rcpt_client *c)
{
	(void)core;
	if(rcpt_pending__delivered_to(p, c)) return RCPT_OK;   /* two matching subscriptions */
	struct rcpt_delivery *d;
	if(p->first.client == NULL){
		d = &p->first;
	}else{
		d = calloc(1, sizeof(*d));
		if(d == NULL) return RCPT_ERR_NOMEM;
		d->next_of_pending = p->first.next_of_pending;
		p->first.next_of_pending = d;
	}
	d->pending = p;
	link_to_client(d, c);
	p->live_deliveries++;
	p->ever_delivered = true;
	return RCPT_OK;
}

bool rcpt_pending__drop_delivery(struct rcpt_core *core, struct rcpt_delivery *d)
{
	struct rcpt_pending *p = d->pending;
	struct rcpt_client *c = d->client;
	unlink_from_client(d);
	if(d != &p->first){
		struct rcpt_delivery *prev = &p->first;
		while(prev->next_of_pending != d) prev = prev->next_of_pending;
		prev->next_of_pending = d->next_of_pending;
		free(d);
	}
	p->live_deliveries--;
	rcpt_clients__release_if_empty(core, c);
	return p->live_deliveries == 0;
}

void rcpt_pending__destroy(struct rcpt_core *core, struct rcpt_pending *p)
{
	rcpt_delivery__untrack(core, p);
	if(core->persist.writer) rcpt_persist__forget(core, p);
	rcpt_htable__remove(&core->pending, &p->node);
	rcpt_heap__remove(&core->deadlines, p);

	struct rcpt_client *requester = p->requester;
	RCPT_LIST_REMOVE(&requester->requests, p, of_requester);
	RCPT_LIST_REMOVE(&p->area->requests, p, of_area);
	RCPT_LIST_REMOVE(&core->all, p, of_all);
	requester->pending_count--;

	struct rcpt_delivery *d = &p->first;
	while(d){
		struct rcpt_delivery *next = d->next_of_pending;
		if(d->client){
			struct rcpt_client *c = d->client;
			unlink_from_client(d);
			/* The requester may have answered itself: its record is
			 * released once, below. */
			if(c != requester) rcpt_clients__release_if_empty(core, c);
		}
		if(d != &p->first) free(d);
		d = next;
	}

	rcpt_areas__release(core, p->area);
	if(p->open_return) core->open_return_count--;
	core->stats.pending--;
	core->persist.dirty = true;
	free(p);
	rcpt_clients__release_if_empty(core, requester);
}

void rcpt_pending__finish(struct rcpt_core *core, struct rcpt_pending *p,
		enum rcpt_outcome outcome, const char *status, const char *reason)
{
	if(status){
		struct rcpt_receipt_out r = {
			.topic = rcpt_pending__topic(p),
			.qos = p->qos,
			.status = status,
			.reason = reason,
		};
		/* A correlation the broker made was never the requester's. */
		if(!p->broker_correlation){
			r.correlation.ptr = rcpt_pending__correlation(p);
			r.correlation.len = p->correlation_len;
		}
		if(core->host.publish(core->host.ctx, &r) != RCPT_OK){
			rcpt_core__logf(core, RCPT_LOG_ERR, "could not send receipt '%s' to '%s' for '%s': out of memory",
					status, r.topic, p->requester->id);
		}
		rcpt_core__logf(core, RCPT_LOG_DEBUG, "receipt '%s' (%s) to '%s' for '%s'",
				status, reason ? reason : "", r.topic, p->requester->id);
	}
	/* It may be in the state file on disk: note that it ended, before the
	 * broker can deliver its receipt, so a restart never revives it. */
	if(p->saved_gen) rcpt_persist__ended(core, p);
	core->stats.totals[outcome]++;
	if(outcome != RCPT_OUTCOME_ABANDONED){
		rcpt_stats__record_latency(core, rcpt_pending__age_ms(p, rcpt_core__now(core)));
	}
	rcpt_pending__destroy(core, p);
}
