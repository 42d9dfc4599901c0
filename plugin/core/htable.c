/*
 * The intrusive hash table (see the header).
 */
#include <stdlib.h>

#include "htable.h"

int rcpt_htable__init(struct rcpt_htable *t, size_t buckets)
{
	size_t n = 8;
	while(n < buckets) n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if(t->buckets == NULL) return RCPT_ERR_NOMEM;
	t->mask = n - 1;
	t->count = 0;
	return RCPT_OK;
}

void rcpt_htable__free(struct rcpt_htable *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

static void grow(struct rcpt_htable *t)
{
	size_t n = (t->mask + 1) * 2;
	struct rcpt_hnode **b = calloc(n, sizeof(*b));
	if(b == NULL) return;
	for(size_t i = 0; i <= t->mask; i++){
		struct rcpt_hnode *e = t->buckets[i];
		while(e){
			struct rcpt_hnode *next = e->next;
			size_t slot = e->hash & (n - 1);
			e->next = b[slot];
			b[slot] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

void rcpt_htable__insert(struct rcpt_htable *t, struct rcpt_hnode *n, uint32_t hash)
{
	if(t->count > t->mask) grow(t);
	n->hash = hash;
	struct rcpt_hnode **head = &t->buckets[hash & t->mask];
	n->next = *head;
	*head = n;
	t->count++;
}

void rcpt_htable__remove(struct rcpt_htable *t, struct rcpt_hnode *n)
{
	struct rcpt_hnode **link = &t->buckets[n->hash & t->mask];
	while(*link && *link != n) link = &(*link)->next;
	if(*link == NULL) return;
	*link = n->next;
	n->next = NULL;
	t->count--;
}

static struct rcpt_hnode *first_from(const struct rcpt_htable *t, size_t bucket)
{
	if(t->buckets == NULL) return NULL;
	for(size_t i = bucket; i <= t->mask; i++){
		if(t->buckets[i]) return t->buckets[i];
	}
	return NULL;
}

struct rcpt_hnode *rcpt_htable__first(const struct rcpt_htable *t)
{
	return first_from(t, 0);
}

struct rcpt_hnode *rcpt_htable__next(const struct rcpt_htable *t, const struct rcpt_hnode *n)
{
	return n->next ? n->next : first_from(t, (n->hash & t->mask) + 1);
}
