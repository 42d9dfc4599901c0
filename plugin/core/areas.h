/*
 * Subject areas that have pending requests, each with its requests oldest
 * first. An area record lives exactly as long as it has a pending request.
 */
#ifndef RCPT_AREAS_H
#define RCPT_AREAS_H

#include "htable.h"
#include "list.h"

struct rcpt_area {
	struct rcpt_hnode node;
	struct rcpt_list requests;   /* pending.c's */
	uint32_t pending;
	char name[];
};

struct rcpt_areas {
	struct rcpt_htable table;
};

int rcpt_areas__init(struct rcpt_areas *areas);
/* Frees every record. */
void rcpt_areas__free(struct rcpt_areas *areas);
struct rcpt_area *rcpt_areas__find(const struct rcpt_areas *areas, const char *name, size_t len);
/* The area's record with one more pending request; NULL: out of memory. */
struct rcpt_area *rcpt_areas__acquire(struct rcpt_areas *areas, const char *name, size_t len);
/* One pending request less; the record goes with the last (NULL-safe). */
void rcpt_areas__release(struct rcpt_areas *areas, struct rcpt_area *a);
size_t rcpt_areas__count(const struct rcpt_areas *areas);
/* Every area, in table order. */
struct rcpt_area *rcpt_areas__first(const struct rcpt_areas *areas);
struct rcpt_area *rcpt_areas__next(const struct rcpt_areas *areas, const struct rcpt_area *a);

#endif
