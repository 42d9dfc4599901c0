/*
 * Subject areas with pending requests (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "hash.h"

int rcpt_areas__init(struct rcpt_areas *areas)
{
	return rcpt_htable__init(&areas->table, 64);
}

void rcpt_areas__free(struct rcpt_areas *areas)
{
	struct rcpt_hnode *n = rcpt_htable__first(&areas->table);
	while(n){
		struct rcpt_hnode *next = rcpt_htable__next(&areas->table, n);
		free(RCPT_CONTAINER_OF(n, struct rcpt_area, node));
		n = next;
	}
	rcpt_htable__free(&areas->table);
}

static struct rcpt_area *find(const struct rcpt_areas *areas, const char *name, size_t len, uint32_t hash)
{
	for(struct rcpt_hnode *n = rcpt_htable__chain(&areas->table, hash); n; n = n->next){
		struct rcpt_area *a = RCPT_CONTAINER_OF(n, struct rcpt_area, node);
		if(n->hash == hash && strlen(a->name) == len && !memcmp(a->name, name, len)) return a;
	}
	return NULL;
}

struct rcpt_area *rcpt_areas__find(const struct rcpt_areas *areas, const char *name, size_t len)
{
	return find(areas, name, len, rcpt_hash__bytes(RCPT_HASH_SEED, name, len));
}

struct rcpt_area *rcpt_areas__acquire(struct rcpt_areas *areas, const char *name, size_t len)
{
	uint32_t hash = rcpt_hash__bytes(RCPT_HASH_SEED, name, len);
	struct rcpt_area *a = find(areas, name, len, hash);
	if(a == NULL){
		a = malloc(sizeof(*a) + len + 1);
		if(a == NULL) return NULL;
		a->pending = 0;
		a->requests.oldest = a->requests.newest = NULL;
		memcpy(a->name, name, len);
		a->name[len] = '\0';
		rcpt_htable__insert(&areas->table, &a->node, hash);
	}
	a->pending++;
	return a;
}

void rcpt_areas__release(struct rcpt_areas *areas, struct rcpt_area *a)
{
	if(a == NULL) return;
	if(--a->pending > 0) return;
	rcpt_htable__remove(&areas->table, &a->node);
	free(a);
}

size_t rcpt_areas__count(const struct rcpt_areas *areas)
{
	return rcpt_htable__count(&areas->table);
}

struct rcpt_area *rcpt_areas__first(const struct rcpt_areas *areas)
{
	struct rcpt_hnode *n = rcpt_htable__first(&areas->table);
	return n ? RCPT_CONTAINER_OF(n, struct rcpt_area, node) : NULL;
}

struct rcpt_area *rcpt_areas__next(const struct rcpt_areas *areas, const struct rcpt_area *a)
{
	struct rcpt_hnode *n = rcpt_htable__next(&areas->table, &a->node);
	return n ? RCPT_CONTAINER_OF(n, struct rcpt_area, node) : NULL;
}
