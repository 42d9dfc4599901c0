/*
 * Deadlines: a binary min-heap of records that carry their own deadline and
 * their own index in the heap (at offsets the heap is told), so a record
 * leaves the heap in O(log n) from anywhere and the heap costs its records
 * no padding. Most requests carry the same timeout, so a new one usually
 * lands at the bottom and costs O(1).
 */
#ifndef RCPT_HEAP_H
#define RCPT_HEAP_H

#include "types.h"

struct rcpt_heap {
	void **items;
	uint32_t count;
	uint32_t capacity;
	size_t deadline_offset;   /* of a uint64_t deadline in ms */
	size_t index_offset;      /* of a uint32_t index, the heap's to write */
};

/* An empty heap of records of `type` with those two members. */
#define RCPT_HEAP_OF(type, deadline_member, index_member) \
	((struct rcpt_heap){.deadline_offset = offsetof(type, deadline_member), \
		.index_offset = offsetof(type, index_member)})

int rcpt_heap__push(struct rcpt_heap *h, void *record);
/* Does nothing for a record that is not in h. */
void rcpt_heap__remove(struct rcpt_heap *h, void *record);
static inline void *rcpt_heap__top(const struct rcpt_heap *h)
{
	return h->count ? h->items[0] : NULL;
}
/* Frees the array, not the records. */
void rcpt_heap__free(struct rcpt_heap *h);

#endif
