/*
 * The pending table: one record per accepted request, found by its token
 * (token.h), linked to its requester, its recipients, its
 * subject area and its deadline, and listed oldest first (all, per
 * requester, per area). The table creates, links and frees records; when a
 * request ends is decided above it (life.c).
 */
#ifndef RCPT_PENDING_H
#define RCPT_PENDING_H

#include "areas.h"
#include "clients.h"
#include "heap.h"
#include "htable.h"
#include "list.h"
#include "stats.h"
#include "token.h"

/* One recipient of a request. The first lives inside the request. */
struct rcpt_delivery {
	struct rcpt_pending *pending;
	struct rcpt_client *client;      /* NULL: slot unused */
	struct rcpt_delivery *next_of_pending;
	struct rcpt_delivery *prev_of_client;
	struct rcpt_delivery *next_of_client;
};

struct rcpt_release_wait;

/* Sized for a million pending requests: the hot fields first, counts in
 * small types, and the key stored inline right after the last field. */
struct rcpt_pending {
	struct rcpt_pending *next_by_token;  /* chain of its bucket in by_token */
	struct rcpt_link of_requester;
	struct rcpt_link of_area;
	struct rcpt_link of_all;
	struct rcpt_client *requester;
	struct rcpt_area *area;
	struct rcpt_release_wait *release_wait;  /* tracking.c's (QoS 2 only) */
	struct rcpt_delivery first;
	uint64_t deadline_ms;
	uint32_t created_ms32;               /* low 32 bits: ages are taken modulo 2^32 */
	uint32_t saved_gen;                  /* persist.c's: snapshot generation it was saved in; 0: never */
	uint32_t heap_index;                 /* the deadline heap's */
	uint16_t topic_len;
	uint16_t correlation_len;
	uint32_t live_deliveries;            /* a request may reach more than 65535 */
	uint8_t qos : 2;
	uint8_t track_state : 2;             /* tracking.c's */
	bool no_correlation : 1;             /* the requester sent none */
	bool open_return : 1;                /* return topic outside the return prefix */
	bool ever_delivered : 1;
	bool answer_waiting : 1;             /* qos2.c's: a QoS 2 answer waits for its PUBREL */
	uint8_t token[RCPT_TOKEN_LEN];       /* the responders' correlation */
	char key[];                          /* return topic, NUL, the requester's correlation */
};

#define RCPT_PENDING_SIZE(topic_len, corr_len) \
	(offsetof(struct rcpt_pending, key) + (topic_len) + 1 + (corr_len))

/* Where a listing stopped: the next request it will give. When that
 * request ends first, the cursor moves on to the one after it in the same
 * list, so a page resumes in O(1) whatever ended meanwhile. */
#define RCPT_PENDING_CURSORS 8

struct rcpt_pending_cursor {
	struct rcpt_pending *next;
	uint32_t link_offset;            /* of the list it walks: of_all, of_area or of_requester */
	uint32_t generation;             /* 0: slot free */
};

/* A place in a list kept by its holder (a queued mass cancellation): when
 * the request it is at ends, it moves to the one before it (older). */
struct rcpt_pending_mark {
	struct rcpt_pending *at;          /* NULL: the list's start was passed */
	uint32_t link_offset;
	struct rcpt_pending_mark *next_mark;
};

/* Requests by token: a chained table of its own rather than an htable, as
 * a token is its own hash and a record then needs one link, not a link and
 * a stored hash (8 bytes less per request). */
struct rcpt_token_table {
	struct rcpt_pending **buckets;
	size_t mask;     /* bucket count - 1; the count is a power of two */
	size_t count;
};

struct rcpt_pending_table {
	struct rcpt_pending_mark *marks;     /* every mark held */
	struct rcpt_pending_cursor cursors[RCPT_PENDING_CURSORS];
	uint32_t cursor_generation;
	uint32_t cursor_turn;
	struct rcpt_token_table by_token;
	struct rcpt_list all;            /* every pending request, oldest first */
	struct rcpt_heap deadlines;
	struct rcpt_clients *clients;    /* where requesters and recipients are registered */
	struct rcpt_areas *areas;
	struct rcpt_stats *stats;
	uint32_t open_return_count;      /* requests with an open return topic */
	uint32_t anonymous_count;        /* requests of clients with no username */
	uint64_t bytes;                  /* held by records and deliveries: for the byte budget */
	uint64_t changes;                /* requests created or freed since start */
};

struct rcpt_pending_spec {
	struct rcpt_client *requester;
	const char *area;
	size_t area_len;
	const char *topic;
	size_t topic_len;
	const void *correlation;         /* the requester's */
	size_t correlation_len;
	const uint8_t *token;
	uint8_t qos;
	bool no_correlation;
	bool open_return;
	uint64_t created_ms;
	uint64_t deadline_ms;
};

int rcpt_pending__init(struct rcpt_pending_table *t, struct rcpt_clients *clients, struct rcpt_areas *areas,
		struct rcpt_stats *stats);
/* Frees every record and delivery (not the clients or areas). Tracking
 * must be freed first. */
void rcpt_pending__free(struct rcpt_pending_table *t);

/* A new pending request, linked everywhere; NULL when out of memory (then
 * nothing changed). */
struct rcpt_pending *rcpt_pending__create(struct rcpt_pending_table *t, const struct rcpt_pending_spec *spec);
/* Unlinks a request from everything and frees it; releases the records of
 * its requester, recipients and area that hold nothing else. */
void rcpt_pending__destroy(struct rcpt_pending_table *t, struct rcpt_pending *p);
/* The request a token was handed out for; token points to RCPT_TOKEN_LEN
 * bytes. */
struct rcpt_pending *rcpt_pending__find(const struct rcpt_pending_table *t, const void *token);
/* The request with the earliest deadline, if that deadline is <= now. */
struct rcpt_pending *rcpt_pending__expired(const struct rcpt_pending_table *t, uint64_t now);

/* Keeps next (in the list at link_offset) for a later page: returns the
 * cursor's slot and sets *generation. The oldest cursor is dropped when
 * all slots are taken. */
unsigned rcpt_pending__cursor_open(struct rcpt_pending_table *t, struct rcpt_pending *next,
		size_t link_offset, uint32_t *generation);
/* Takes a cursor back (its slot is freed): false when it is unknown or was
 * dropped; then *next is untouched. *next NULL: its list ended. */
bool rcpt_pending__cursor_take(struct rcpt_pending_table *t, unsigned slot, uint32_t generation,
		size_t link_offset, struct rcpt_pending **next);
/* Holds a mark at `at` in the list at link_offset until released. */
void rcpt_pending__mark_hold(struct rcpt_pending_table *t, struct rcpt_pending_mark *m, struct rcpt_pending *at,
		size_t link_offset);
void rcpt_pending__mark_release(struct rcpt_pending_table *t, struct rcpt_pending_mark *m);
static inline struct rcpt_pending *rcpt_pending__prev_in(const struct rcpt_pending *p, size_t link_offset)
{
	return ((const struct rcpt_link *)(const void *)((const char *)p + link_offset))->prev;
}
static inline struct rcpt_pending *rcpt_pending__next_in(const struct rcpt_pending *p, size_t link_offset)
{
	return ((const struct rcpt_link *)(const void *)((const char *)p + link_offset))->next;
}

int rcpt_pending__add_delivery(struct rcpt_pending_table *t, struct rcpt_pending *p, struct rcpt_client *c);
bool rcpt_pending__delivered_to(const struct rcpt_pending *p, const struct rcpt_client *c);
/* Removes a recipient whose session ended (releasing its record if that
 * was all it held); true when the request has no recipient left. */
bool rcpt_pending__drop_delivery(struct rcpt_pending_table *t, struct rcpt_delivery *d);

/* What a request's record holds, its deliveries aside. */
static inline size_t rcpt_pending__record_bytes(size_t topic_len, size_t corr_len)
{
	return RCPT_PENDING_SIZE(topic_len, corr_len);
}

static inline const char *rcpt_pending__topic(const struct rcpt_pending *p)
{
	return p->key;
}
static inline const void *rcpt_pending__correlation(const struct rcpt_pending *p)
{
	return p->key + p->topic_len + 1;
}
static inline uint32_t rcpt_pending__age_ms(const struct rcpt_pending *p, uint64_t now)
{
	return (uint32_t)now - p->created_ms32;
}
/* The oldest request of all, of an area, of a requester. */
static inline struct rcpt_pending *rcpt_pending__oldest(const struct rcpt_pending_table *t)
{
	return t->all.oldest;
}
static inline struct rcpt_pending *rcpt_pending__oldest_in(const struct rcpt_area *a)
{
	return a->requests.oldest;
}
/* A client's oldest request and first delivery: for ending its session. */
static inline struct rcpt_pending *rcpt_pending__oldest_of(const struct rcpt_client *c)
{
	return c->requests.oldest;
}
static inline struct rcpt_delivery *rcpt_pending__delivery_to(const struct rcpt_client *c)
{
	return c->deliveries;
}
static inline uint32_t rcpt_pending__count_of(const struct rcpt_client *c)
{
	return c->pending_count;
}

#endif
