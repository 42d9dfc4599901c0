/*
 * An intrusive chained hash table: the entries carry their own links, so an
 * insert never allocates except when the bucket array doubles.
 */
#include <stdlib.h>

#include "internal.h"

/* Eight bytes a step, a rotate, xor and multiply each (the "Fx" hash):
 * keys are short (topics, client ids, correlations) and hashed on every
 * request and receipt, so speed matters more than strength. The table
 * takes the low bits, so the result is folded down from 64 bits. */
static inline uint64_t mix(uint64_t h, uint64_t word)
{
	return (((h << 5) | (h >> 59)) ^ word) * 0x517cc1b727220a95u;
}

uint32_t rcpt_hash__bytes(uint32_t seed, const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = seed;
	while(len >= 8){
		uint64_t word;
		memcpy(&word, b, 8);
		h = mix(h, word);
		b += 8;
		len -= 8;
	}
	if(len > 0){
		uint64_t word = 0;
		memcpy(&word, b, len);
		h = mix(h, word ^ ((uint64_t)len << 56));
	}
	return (uint32_t)(h ^ (h >> 32));
}

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
