/*
 * The deadline heap (see the header).
 */
#include <stdlib.h>

#include "heap.h"

static uint64_t deadline(const struct rcpt_heap *h, const void *record)
{
	return *(const uint64_t *)(const void *)((const char *)record + h->deadline_offset);
}

static uint32_t *index_of(const struct rcpt_heap *h, void *record)
{
	return (uint32_t *)(void *)((char *)record + h->index_offset);
}

static void place(struct rcpt_heap *h, uint32_t i, void *record)
{
	h->items[i] = record;
	*index_of(h, record) = i;
}

static void sift_up(struct rcpt_heap *h, uint32_t i)
{
	void *r = h->items[i];
	uint64_t d = deadline(h, r);
	while(i > 0){
		uint32_t parent = (i - 1) / 2;
		if(deadline(h, h->items[parent]) <= d) break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, r);
}

static void sift_down(struct rcpt_heap *h, uint32_t i)
{
	void *r = h->items[i];
	uint64_t d = deadline(h, r);
	for(;;){
		uint32_t child = 2 * i + 1;
		if(child >= h->count) break;
		if(child + 1 < h->count && deadline(h, h->items[child + 1]) < deadline(h, h->items[child])){
			child++;
		}
		if(deadline(h, h->items[child]) >= d) break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, r);
}

int rcpt_heap__push(struct rcpt_heap *h, void *record)
{
	if(h->count == h->capacity){
		uint32_t cap = h->capacity ? h->capacity * 2 : 1024;
		void **items = realloc(h->items, cap * sizeof(*items));
		if(items == NULL) return RCPT_ERR_NOMEM;
		h->items = items;
		h->capacity = cap;
	}
	place(h, h->count, record);
	h->count++;
	sift_up(h, h->count - 1);
	return RCPT_OK;
}

void rcpt_heap__remove(struct rcpt_heap *h, void *record)
{
	uint32_t i = *index_of(h, record);
	if(i >= h->count || h->items[i] != record) return;
	h->count--;
	if(i == h->count) return;
	place(h, i, h->items[h->count]);
	if(i > 0 && deadline(h, h->items[(i - 1) / 2]) > deadline(h, h->items[i])){
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
