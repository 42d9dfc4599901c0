/*
 * Subject areas that have pending requests, with how many each has. An area
 * record lives exactly as long as it has a pending request.
 */
#include <stdlib.h>

#include "internal.h"

static struct rcpt_area *find(const struct rcpt_core *core, const char *name, size_t len, uint32_t hash)
{
	for(struct rcpt_hnode *n = rcpt_htable__chain(&core->areas, hash); n; n = n->next){
		struct rcpt_area *a = RCPT_CONTAINER_OF(n, struct rcpt_area, node);
		if(n->hash == hash && strlen(a->name) == len && !memcmp(a->name, name, len)) return a;
	}
	return NULL;
}

struct rcpt_area *rcpt_areas__acquire(struct rcpt_core *core, const char *name, size_t len)
{
	uint32_t hash = rcpt_hash__bytes(RCPT_HASH_SEED, name, len);
	struct rcpt_area *a = find(core, name, len, hash);
	if(a == NULL){
		a = malloc(sizeof(*a) + len + 1);
		if(a == NULL) return NULL;
		a->pending = 0;
		a->requests.oldest = a->requests.newest = NULL;
		memcpy(a->name, name, len);
		a->name[len] = '\0';
		rcpt_htable__insert(&core->areas, &a->node, hash);
	}
	a->pending++;
	return a;
}

void rcpt_areas__release(struct rcpt_core *core, struct rcpt_area *a)
{
	if(a == NULL) return;
	if(--a->pending > 0) return;
	rcpt_htable__remove(&core->areas, &a->node);
	free(a);
}

void rcpt_areas__free_all(struct rcpt_core *core)
{
	for(size_t i = 0; i <= core->areas.mask; i++){
		struct rcpt_hnode *n = core->areas.buckets[i];
		while(n){
			struct rcpt_hnode *next = n->next;
			free(RCPT_CONTAINER_OF(n, struct rcpt_area, node));
			n = next;
		}
		core->areas.buckets[i] = NULL;
	}
	core->areas.count = 0;
}
