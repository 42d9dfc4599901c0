/*
 * An intrusive chained hash table: entries carry their own links, so an
 * insert never allocates except when the bucket array doubles. The caller
 * hashes; the table only files nodes by hash.
 */
#ifndef RCPT_HTABLE_H
#define RCPT_HTABLE_H

#include "types.h"

struct rcpt_hnode {
	struct rcpt_hnode *next;
	uint32_t hash;
};

struct rcpt_htable {
	struct rcpt_hnode **buckets;
	size_t mask;     /* bucket count - 1; the count is a power of two */
	size_t count;
};

int rcpt_htable__init(struct rcpt_htable *t, size_t buckets);
/* Frees the buckets, not the entries. */
void rcpt_htable__free(struct rcpt_htable *t);
/* Never fails: when growing fails the chains just get longer. */
void rcpt_htable__insert(struct rcpt_htable *t, struct rcpt_hnode *n, uint32_t hash);
void rcpt_htable__remove(struct rcpt_htable *t, struct rcpt_hnode *n);
static inline struct rcpt_hnode *rcpt_htable__chain(const struct rcpt_htable *t, uint32_t hash)
{
	return t->buckets[hash & t->mask];
}
static inline size_t rcpt_htable__count(const struct rcpt_htable *t)
{
	return t->count;
}
/* The first entry of the table, or the one after n, in bucket order; for
 * walking every entry (n may be unlinked by the caller once it has its
 * successor). */
struct rcpt_hnode *rcpt_htable__first(const struct rcpt_htable *t);
struct rcpt_hnode *rcpt_htable__next(const struct rcpt_htable *t, const struct rcpt_hnode *n);

#endif
