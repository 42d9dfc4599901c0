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

/* A delivery after a request's first: its record also links back, so a
 * recipient leaving unlinks it without walking the request's list. The
 * first, inside the request, needs no back link (it is the head), which
 * keeps the request itself no bigger. */
struct extra_delivery {
	struct rcpt_delivery d;
	struct rcpt_delivery *prev_of_pending;
};

static struct extra_delivery *extra_of(struct rcpt_delivery *d)
{
	return RCPT_CONTAINER_OF(d, struct extra_delivery, d);
}

static void free_deliveries(struct rcpt_pending *p)
{
	struct rcpt_delivery *d = p->first.next_of_pending;
	while(d){
		struct rcpt_delivery *next = d->next_of_pending;
		free(extra_of(d));
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
	if(requester->user) requester->user->pending++;
	else t->anonymous_count++;
	t->bytes += RCPT_PENDING_SIZE(p->topic_len, p->correlation_len);
	if(p->open_return) t->open_return_count++;
	rcpt_stats__pending_added(t->stats);
	t->changes++;
	return p;
}

bool rcpt_pending__delivered_to(const struct rcpt_pending *p, const struct rcpt_client *c)
{
	/* The request's recipients and the client's requests, a step of each
	 * in turn: the cost is that of the shorter list, so neither a request
	 * to thousands nor a client holding thousands makes a receipt slow. */
	const struct rcpt_delivery *of_p = &p->first;
	const struct rcpt_delivery *of_c = c->deliveries;
	if(of_c == NULL) return false;
	for(;;){
		if(of_p->client == c) return true;
		of_p = of_p->next_of_pending;
		if(of_p == NULL) return false;
		if(of_c->pending == p) return true;
		of_c = of_c->next_of_client;
		if(of_c == NULL) return false;
	}
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
	/* Two matching subscriptions: a second READ check. The checks of one
	 * message run one after the other (and a restored request's deliveries
	 * are added together), so if c already has p, p is c's newest. */
	if(c->deliveries && c->deliveries->pending == p) return RCPT_OK;
	struct rcpt_delivery *d;
	if(p->first.client == NULL){
		d = &p->first;
	}else{
		struct extra_delivery *x = calloc(1, sizeof(*x));
		if(x == NULL) return RCPT_ERR_NOMEM;
		t->bytes += sizeof(*x);
		d = &x->d;
		d->next_of_pending = p->first.next_of_pending;
		if(d->next_of_pending) extra_of(d->next_of_pending)->prev_of_pending = d;
		x->prev_of_pending = &p->first;
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
		struct extra_delivery *x = extra_of(d);
		x->prev_of_pending->next_of_pending = d->next_of_pending;
		if(d->next_of_pending) extra_of(d->next_of_pending)->prev_of_pending = x->prev_of_pending;
		free(x);
		t->bytes -= sizeof(*x);
	}
	p->live_deliveries--;
	rcpt_clients__release_if_unused(t->clients, c);
	return p->live_deliveries == 0;
}

unsigned rcpt_pending__cursor_open(struct rcpt_pending_table *t, struct rcpt_pending *next,
		size_t link_offset, uint32_t *generation)
{
	unsigned slot = t->cursor_turn++ % RCPT_PENDING_CURSORS;
	if(++t->cursor_generation == 0) t->cursor_generation = 1;
	t->cursors[slot] = (struct rcpt_pending_cursor){
		.next = next, .link_offset = (uint32_t)link_offset, .generation = t->cursor_generation};
	*generation = t->cursor_generation;
	return slot;
}

bool rcpt_pending__cursor_take(struct rcpt_pending_table *t, unsigned slot, uint32_t generation,
		size_t link_offset, struct rcpt_pending **next)
{
	if(slot >= RCPT_PENDING_CURSORS || generation == 0) return false;
	struct rcpt_pending_cursor *c = &t->cursors[slot];
	if(c->generation != generation || c->link_offset != link_offset) return false;
	*next = c->next;
	c->generation = 0;
	c->next = NULL;
	return true;
}

void rcpt_pending__mark_hold(struct rcpt_pending_table *t, struct rcpt_pending_mark *m, struct rcpt_pending *at,
		size_t link_offset)
{
	m->at = at;
	m->link_offset = (uint32_t)link_offset;
	m->next_mark = t->marks;
	t->marks = m;
}

void rcpt_pending__mark_release(struct rcpt_pending_table *t, struct rcpt_pending_mark *m)
{
	struct rcpt_pending_mark **link = &t->marks;
	while(*link && *link != m) link = &(*link)->next_mark;
	if(*link) *link = m->next_mark;
	m->next_mark = NULL;
}

/* A cursor on p moves to the request after it in the cursor's list, a mark
 * to the one before it. */
static void move_cursors_past(struct rcpt_pending_table *t, const struct rcpt_pending *p)
{
	for(unsigned i = 0; i < RCPT_PENDING_CURSORS; i++){
		struct rcpt_pending_cursor *c = &t->cursors[i];
		if(c->generation && c->next == p) c->next = rcpt_pending__next_in(p, c->link_offset);
	}
	for(struct rcpt_pending_mark *m = t->marks; m; m = m->next_mark){
		if(m->at == p) m->at = rcpt_pending__prev_in(p, m->link_offset);
	}
}

void rcpt_pending__destroy(struct rcpt_pending_table *t, struct rcpt_pending *p)
{
	move_cursors_past(t, p);
	by_token_remove(&t->by_token, p);
	rcpt_heap__remove(&t->deadlines, p);

	struct rcpt_client *requester = p->requester;
	RCPT_LIST_REMOVE(&requester->requests, p, of_requester);
	RCPT_LIST_REMOVE(&p->area->requests, p, of_area);
	RCPT_LIST_REMOVE(&t->all, p, of_all);
	requester->pending_count--;
	if(requester->user) requester->user->pending--;
	else t->anonymous_count--;
	t->bytes -= RCPT_PENDING_SIZE(p->topic_len, p->correlation_len);

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
		if(d != &p->first){
			free(extra_of(d));
			t->bytes -= sizeof(struct extra_delivery);
		}
		d = next;
	}

	rcpt_areas__release(t->areas, p->area);
	if(p->open_return) t->open_return_count--;
	rcpt_stats__pending_removed(t->stats);
	t->changes++;
	free(p);
	rcpt_clients__release_if_unused(t->clients, requester);
}
