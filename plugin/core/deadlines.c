/*
 * Deadlines: a binary min-heap of pending requests. Most requests carry the
 * same timeout, so a new one usually lands at the bottom and costs O(1).
 */
#include <stdlib.h>

#include "internal.h"

static void place(struct rcpt_heap *h, uint32_t i, struct rcpt_pending *p)
{
	h->items[i] = p;
	p->heap_index = i;
}

static void sift_up(struct rcpt_heap *h, uint32_t i)
{
	struct rcpt_pending *p = h->items[i];
	while(i > 0){
		uint32_t parent = (i - 1) / 2;
		if(h->items[parent]->deadline_ms <= p->deadline_ms) break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, p);
}

static void sift_down(struct rcpt_heap *h, uint32_t i)
{
	struct rcpt_pending *p = h->items[i];
	for(;;){
		uint32_t child = 2 * i + 1;
		if(child >= h->count) break;
		if(child + 1 < h->count && h->items[child + 1]->deadline_ms < h->items[child]->deadline_ms){
			child++;
		}
		if(h->items[child]->deadline_ms >= p->deadline_ms) break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, p);
}

int rcpt_heap__push(struct rcpt_heap *h, struct rcpt_pending *p)
{
	if(h->count == h->capacity){
		uint32_t cap = h->capacity ? h->capacity * 2 : 1024;
		struct rcpt_pending **items = realloc(h->items, cap * sizeof(*items));
		if(items == NULL) return RCPT_ERR_NOMEM;
		h->items = items;
		h->capacity = cap;
	}
	place(h, h->count, p);
	h->count++;
	sift_up(h, h->count - 1);
	return RCPT_OK;
}

void rcpt_heap__remove(struct rcpt_heap *h, struct rcpt_pending *p)
{
	uint32_t i = p->heap_index;
	if(i >= h->count || h->items[i] != p) return;
	h->count--;
	if(i == h->count) return;
	place(h, i, h->items[h->count]);
	if(i > 0 && h->items[(i - 1) / 2]->deadline_ms > h->items[i]->deadline_ms){
		sift_up(h, i);
	}else{
		sift_down(h, i);
	}
}

void rcpt_heap__free(struct rcpt_heap *h)
{
	free(h->items);
	h->items = NULL;
	h->count = h->capacity = 0;
}
