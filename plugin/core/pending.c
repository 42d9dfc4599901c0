/*
 * The pending table (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "pending.h"

/* ---- the token table ---- */

static int by_token_init(struct rcpt_token_table *tt, size_t buckets)
{
	size_t n = 8;
	while(n < buckets) n <<= 1;
	tt->buckets = calloc(n, sizeof(*tt->buckets));
	if(tt->buckets == NULL) return RCPT_ERR_NOMEM;
	tt->mask = n - 1;
	tt->count = 0;
	return RCPT_OK;
}

static void by_token_free(struct rcpt_token_table *tt)
{
	free(tt->buckets);
	tt->buckets = NULL;
	tt->mask = 0;
	tt->count = 0;
}

/* Doubles the buckets when there are more records than buckets; when
 * that fails the chains just get longer. */
static void by_token_grow(struct rcpt_token_table *tt)
{
	size_t n = (tt->mask + 1) * 2;
	struct rcpt_pending **b = calloc(n, sizeof(*b));
	if(b == NULL) return;
	for(size_t i = 0; i <= tt->mask; i++){
		struct rcpt_pending *p = tt->buckets[i];
		while(p){
			struct rcpt_pending *next = p->next_by_token;
			size_t slot = rcpt_token__hash(p->token) & (n - 1);
			p->next_by_token = b[slot];
			b[slot] = p;
			p = next;
		}
	}
	free(tt->buckets);
	tt->buckets = b;
	tt->mask = n - 1;
}

static void by_token_insert(struct rcpt_token_table *tt, struct rcpt_pending *p)
{
	if(tt->count > tt->mask) by_token_grow(tt);
	struct rcpt_pending **head = &tt->buckets[rcpt_token__hash(p->token) & tt->mask];
	p->next_by_token = *head;
	*head = p;
	tt->count++;
}

static void by_token_remove(struct rcpt_token_table *tt, struct rcpt_pending *p)
{
	struct rcpt_pending **link = &tt->buckets[rcpt_token__hash(p->token) & tt->mask];
	while(*link && *link != p) link = &(*link)->next_by_token;
	if(*link == NULL) return;
	*link = p->next_by_token;
	p->next_by_token = NULL;
	tt->count--;
}

/* ---- the table ---- */

int rcpt_pending__init(struct rcpt_pending_table *t, struct rcpt_clients *clients, struct rcpt_areas *areas,
		struct rcpt_stats *stats)
{
	memset(t, 0, sizeof(*t));
	t->deadlines = RCPT_HEAP_OF(struct rcpt_pending, deadline_ms, heap_index);
	t->clients = clients;
	t->areas = areas;
	t->stats = stats;
	return by_token_init(&t->by_token, 1024);
}

static void free_deliveries(struct rcpt_pending *p)
{
	struct rcpt_delivery *d = p->first.next_of_pending;
	while(d){
		struct rcpt_delivery *next = d->next_of_pending;
		free(d);
		d = next;
	}
}

void rcpt_pending__free(struct rcpt_pending_table *t)
{
	struct rcpt_pending *p = t->all.oldest;
	while(p){
		struct rcpt_pending *next = p->of_all.next;
		free_deliveries(p);
		/* A wait reserved but never tracked; tracked ones tracking freed. */
		free(p->release_wait);
		free(p);
		p = next;
	}
	t->all.oldest = t->all.newest = NULL;
	by_token_free(&t->by_token);
	rcpt_heap__free(&t->deadlines);
}

struct rcpt_pending *rcpt_pending__find(const struct rcpt_pending_table *t, const void *token)
{
	struct rcpt_pending *p = t->by_token.buckets[rcpt_token__hash(token) & t->by_token.mask];
	while(p && !rcpt_token__equal(p->token, token)) p = p->next_by_token;
	return p;
}

struct rcpt_pending *rcpt_pending__expired(const struct rcpt_pending_table *t, uint64_t now)
{
	struct rcpt_pending *p = rcpt_heap__top(&t->deadlines);
	return p && p->deadline_ms <= now ? p : NULL;
}

struct rcpt_pending *rcpt_pending__create(struct rcpt_pending_table *t, const struct rcpt_pending_spec *spec)
{
	struct rcpt_pending *p = calloc(1, RCPT_PENDING_SIZE(spec->topic_len, spec->correlation_len));
	if(p == NULL) return NULL;
	p->requester = spec->requester;
	p->qos = spec->qos;
	p->topic_len = (uint16_t)spec->topic_len;
	p->correlation_len = (uint16_t)spec->correlation_len;
	p->no_correlation = spec->no_correlation;
	memcpy(p->token, spec->token, RCPT_TOKEN_LEN);
	p->open_return = spec->open_return;
	memcpy(p->key, spec->topic, spec->topic_len);
	p->key[spec->topic_len] = '\0';
	/* An empty correlation may come as NULL: memcpy must not see it. */
	if(spec->correlation_len) memcpy(p->key + spec->topic_len + 1, spec->correlation, spec->correlation_len);
	p->created_ms32 = (uint32_t)spec->created_ms;
	p->deadline_ms = spec->deadline_ms;
	if(rcpt_heap__push(&t->deadlines, p) != RCPT_OK){
		free(p);
		return NULL;
	}
	p->area = rcpt_areas__acquire(t->areas, spec->area, spec->area_len);
	if(p->area == NULL){
		rcpt_heap__remove(&t->deadlines, p);
		free(p);
		return NULL;
	}

	/* From here nothing fails: link it everywhere. */
	by_token_insert(&t->by_token, p);
	struct rcpt_client *requester = spec->requester;
	RCPT_LIST_APPEND(&requester->requests, p, of_requester);
	RCPT_LIST_APPEND(&p->area->requests, p, of_area);
	RCPT_LIST_APPEND(&t->all, p, of_all);
	requester->pending_count++;
	if(p->open_return) t->open_return_count++;
	rcpt_stats__pending_added(t->stats);
	t->changes++;
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

int rcpt_pending__add_delivery(struct rcpt_pending_table *t, struct rcpt_pending *p, struct rcpt_client *c)
{
	(void)t;
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

bool rcpt_pending__drop_delivery(struct rcpt_pending_table *t, struct rcpt_delivery *d)
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
	rcpt_clients__release_if_unused(t->clients, c);
	return p->live_deliveries == 0;
}

void rcpt_pending__destroy(struct rcpt_pending_table *t, struct rcpt_pending *p)
{
	by_token_remove(&t->by_token, p);
	rcpt_heap__remove(&t->deadlines, p);

	struct rcpt_client *requester = p->requester;
	RCPT_LIST_REMOVE(&requester->requests, p, of_requester);
	RCPT_LIST_REMOVE(&p->area->requests, p, of_area);
	RCPT_LIST_REMOVE(&t->all, p, of_all);
	requester->pending_count--;

	struct rcpt_delivery *d = &p->first;
	while(d){
		struct rcpt_delivery *next = d->next_of_pending;
		if(d->client){
			struct rcpt_client *c = d->client;
			unlink_from_client(d);
			/* The requester may have answered itself: its record is
			 * released once, below. */
			if(c != requester) rcpt_clients__release_if_unused(t->clients, c);
		}
		if(d != &p->first) free(d);
		d = next;
	}

	rcpt_areas__release(t->areas, p->area);
	if(p->open_return) t->open_return_count--;
	rcpt_stats__pending_removed(t->stats);
	t->changes++;
	free(p);
	rcpt_clients__release_if_unused(t->clients, requester);
}
