/*
 * Private structures of the receipts core, shared by its files.
 * Sections follow the files that own them.
 */
#ifndef RCPT_INTERNAL_H
#define RCPT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rcpt.h"
#include "receipts.h"

#define RCPT_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- hash.c: an intrusive chained hash table ---- */

struct rcpt_hnode {
	struct rcpt_hnode *next;
	uint32_t hash;
};

struct rcpt_htable {
	struct rcpt_hnode **buckets;
	size_t mask;     /* bucket count - 1; the count is a power of two */
	size_t count;
};

uint32_t rcpt_hash__bytes(uint32_t seed, const void *data, size_t len);
#define RCPT_HASH_SEED 2166136261u

int rcpt_htable__init(struct rcpt_htable *t, size_t buckets);
void rcpt_htable__free(struct rcpt_htable *t);
/* Never fails: when growing fails the chains just get longer. */
void rcpt_htable__insert(struct rcpt_htable *t, struct rcpt_hnode *n, uint32_t hash);
void rcpt_htable__remove(struct rcpt_htable *t, struct rcpt_hnode *n);
static inline struct rcpt_hnode *rcpt_htable__chain(const struct rcpt_htable *t, uint32_t hash)
{
	return t->buckets[hash & t->mask];
}

/* ---- names.c: topic, area and filter rules ---- */

bool rcpt_names__valid_level(const char *s, size_t len);
/* If topic is prefix itself or below it, returns the rest after "prefix/"
 * (or "" for the prefix itself); NULL otherwise. */
const char *rcpt_names__below(const char *topic, const char *prefix, size_t prefix_len);
/* Length of the first level of s. */
size_t rcpt_names__level_len(const char *s);
bool rcpt_names__has_wildcard(const char *s);
/* MQTT filter matching; wildcards at the start never match $ topics. */
bool rcpt_names__filter_matches(const char *filter, const char *topic);
bool rcpt_names__valid_utf8(const char *s, size_t len);

/* ---- deadlines.c: a min-heap of pending requests by deadline ---- */

struct rcpt_heap {
	struct rcpt_pending **items;
	uint32_t count;
	uint32_t capacity;
};

int rcpt_heap__push(struct rcpt_heap *h, struct rcpt_pending *p);
void rcpt_heap__remove(struct rcpt_heap *h, struct rcpt_pending *p);
static inline struct rcpt_pending *rcpt_heap__top(const struct rcpt_heap *h)
{
	return h->count ? h->items[0] : NULL;
}
void rcpt_heap__free(struct rcpt_heap *h);

/* ---- pending.c: the pending receipts ---- */

/* One recipient of a request. The first lives inside the request. */
struct rcpt_delivery {
	struct rcpt_pending *pending;
	struct rcpt_client *client;      /* NULL: slot unused */
	struct rcpt_delivery *next_of_pending;
	struct rcpt_delivery *prev_of_client;
	struct rcpt_delivery *next_of_client;
};

enum rcpt_pending_state {
	RCPT_PENDING_UNSETTLED,          /* READ checks of its PUBLISH may still come */
	RCPT_PENDING_AWAITING_RELEASE,   /* QoS 2: delivery happens at PUBREL */
	RCPT_PENDING_SETTLED,            /* delivered; waits for a receipt */
};

struct rcpt_release_wait;

/* A doubly linked list kept in creation order, so that listings page from
 * the oldest request without sorting. */
struct rcpt_link {
	struct rcpt_pending *prev;
	struct rcpt_pending *next;
};

struct rcpt_list {
	struct rcpt_pending *oldest;
	struct rcpt_pending *newest;
};

/* Sized for a million pending requests: the hot fields first, counts in
 * small types, and the key stored inline right after the last field. */
struct rcpt_pending {
	struct rcpt_hnode node;              /* by (return topic, correlation) */
	struct rcpt_link of_requester;
	struct rcpt_link of_area;
	struct rcpt_link of_all;
	struct rcpt_client *requester;
	struct rcpt_area *area;
	struct rcpt_release_wait *release_wait;  /* QoS 2 only */
	struct rcpt_delivery first;
	uint64_t deadline_ms;
	uint32_t created_ms32;               /* low 32 bits: ages are taken modulo 2^32 */
	uint32_t saved_gen;                  /* snapshot generation it was saved in; 0: never */
	uint32_t heap_index;
	uint16_t topic_len;
	uint16_t correlation_len;
	uint16_t live_deliveries;
	uint8_t qos;
	uint8_t state;
	bool broker_correlation : 1;
	bool open_return : 1;                /* return topic outside the return prefix */
	bool ever_delivered : 1;
	char key[];                          /* return topic, NUL, correlation bytes */
};

#define RCPT_PENDING_SIZE(topic_len, corr_len) \
	(offsetof(struct rcpt_pending, key) + (topic_len) + 1 + (corr_len))

static inline uint32_t rcpt_pending__age_ms(const struct rcpt_pending *p, uint64_t now)
{
	return (uint32_t)now - p->created_ms32;
}

static inline const char *rcpt_pending__topic(const struct rcpt_pending *p)
{
	return p->key;
}
static inline const void *rcpt_pending__correlation(const struct rcpt_pending *p)
{
	return p->key + p->topic_len + 1;
}

/* Creation-ordered lists; `member` names the struct rcpt_link used. */
#define RCPT_LIST_APPEND(list, p, member) do { \
		(p)->member.prev = (list)->newest; \
		(p)->member.next = NULL; \
		if((list)->newest) (list)->newest->member.next = (p); \
		else (list)->oldest = (p); \
		(list)->newest = (p); \
	} while(0)
#define RCPT_LIST_REMOVE(list, p, member) do { \
		if((p)->member.prev) (p)->member.prev->member.next = (p)->member.next; \
		else (list)->oldest = (p)->member.next; \
		if((p)->member.next) (p)->member.next->member.prev = (p)->member.prev; \
		else (list)->newest = (p)->member.prev; \
	} while(0)

struct rcpt_pending_spec {
	struct rcpt_client *requester;
	const char *area;
	size_t area_len;
	const char *topic;
	size_t topic_len;
	const void *correlation;
	size_t correlation_len;
	uint8_t qos;
	bool broker_correlation;
	bool open_return;
	uint64_t created_ms;
	uint64_t deadline_ms;
};

/* A new pending request, linked everywhere; NULL when out of memory. */
struct rcpt_pending *rcpt_pending__create(struct rcpt_core *core, const struct rcpt_pending_spec *spec);
uint32_t rcpt_pending__hash(const char *topic, size_t topic_len, const void *corr, size_t corr_len);
struct rcpt_pending *rcpt_pending__find(const struct rcpt_core *core, const char *topic,
		size_t topic_len, const void *corr, size_t corr_len);
/* Ends a request: sends the receipt when status is not NULL, counts the
 * outcome, and frees it. */
void rcpt_pending__finish(struct rcpt_core *core, struct rcpt_pending *p,
		enum rcpt_outcome outcome, const char *status, const char *reason);
/* Frees a request and unlinks it from everything, counting nothing. */
void rcpt_pending__destroy(struct rcpt_core *core, struct rcpt_pending *p);
int rcpt_pending__add_delivery(struct rcpt_core *core, struct rcpt_pending *p,
		struct rcpt_client *c);
bool rcpt_pending__delivered_to(const struct rcpt_pending *p, const struct rcpt_client *c);
/* Removes a recipient whose session ended; true when none is left. */
bool rcpt_pending__drop_delivery(struct rcpt_core *core, struct rcpt_delivery *d);

/* ---- clients.c: requesters and responders, and their sessions ---- */

enum rcpt_session {
	RCPT_SESSION_ONLINE_CLEAN,
	RCPT_SESSION_ONLINE_PERSISTENT,
	RCPT_SESSION_OFFLINE_PERSISTENT,
	/* A newer connection took the session over; its clean flag is not known
	 * until the client is seen again. */
	RCPT_SESSION_TAKEN_OVER,
};

struct rcpt_client {
	struct rcpt_hnode node;
	struct rcpt_list requests;
	struct rcpt_delivery *deliveries;
	uint32_t pending_count;
	uint8_t session;
	char id[];
};

struct rcpt_client *rcpt_clients__find(const struct rcpt_core *core, const char *id);
/* Finds or creates the record of a client seen now. Resolves a session the
 * core was unsure of. NULL: out of memory. */
struct rcpt_client *rcpt_clients__seen(struct rcpt_core *core, const struct rcpt_client_ref *ref);
/* The record of a persistent client from the state file, offline. */
struct rcpt_client *rcpt_clients__restore(struct rcpt_core *core, const char *id);
/* A client that is seen but may have no record: only resolves its session. */
void rcpt_clients__notice(struct rcpt_core *core, const struct rcpt_client_ref *ref);
void rcpt_clients__disconnected(struct rcpt_core *core, const char *id, bool clean);
/* Frees a record that holds nothing any more. */
void rcpt_clients__release_if_empty(struct rcpt_core *core, struct rcpt_client *c);
void rcpt_clients__free_all(struct rcpt_core *core);

/* ---- areas.c: pending counts per subject area ---- */

struct rcpt_area {
	struct rcpt_hnode node;
	struct rcpt_list requests;
	uint32_t pending;
	char name[];
};

struct rcpt_area *rcpt_areas__acquire(struct rcpt_core *core, const char *name, size_t len);
void rcpt_areas__release(struct rcpt_core *core, struct rcpt_area *a);
void rcpt_areas__free_all(struct rcpt_core *core);

/* ---- delivery.c: which subscribers a request reached ---- */

/* A request stored in this loop iteration whose READ checks are running. */
struct rcpt_unsettled {
	const void *message_key;
	struct rcpt_pending *pending;
	uint32_t topic_hash;      /* guards against a reused key */
	uint32_t topic_len;
};

struct rcpt_release_wait {
	struct rcpt_hnode node;   /* by message key */
	struct rcpt_unsettled u;
	uint64_t grace_deadline_ms;
	struct rcpt_release_wait *next_in_order;   /* FIFO by grace deadline */
	struct rcpt_release_wait *prev_in_order;
	struct rcpt_release_wait *next_released;
	bool released;            /* its PUBREL's READ checks have begun */
	uint32_t payload_hash;    /* tells a retransmission from a new request */
};

/* How long a QoS 2 request may wait for its PUBREL before the core decides
 * nobody received it. */
#define RCPT_RELEASE_GRACE_MS 1000

/* Makes room to track p, so that tracking it cannot fail later. */
int rcpt_delivery__reserve(struct rcpt_core *core, struct rcpt_pending *p);
void rcpt_delivery__track(struct rcpt_core *core, struct rcpt_pending *p,
		const void *message_key, const char *topic);
/* The request a READ check's message belongs to, if any. */
struct rcpt_pending *rcpt_delivery__lookup(struct rcpt_core *core, const void *key, const char *topic);
void rcpt_delivery__untrack(struct rcpt_core *core, struct rcpt_pending *p);
/* Ends the READ checks of earlier PUBLISHes: requests that reached nobody
 * get `no-responders`. Every entry point that may end a request calls it
 * first. */
void rcpt_delivery__settle(struct rcpt_core *core);
void rcpt_delivery__expire_release_waits(struct rcpt_core *core, uint64_t now);
/* Queues a restored request for a verdict at the next settle. */
int rcpt_delivery__settle_later(struct rcpt_core *core, struct rcpt_pending *p);

/* ---- request.c / receipt.c ---- */

void rcpt_request__decide(struct rcpt_core *core, const struct rcpt_publish *msg,
		const char *area, size_t area_len, struct rcpt_decision *out);
/* Returns false when the publish is not a receipt candidate after all. */
bool rcpt_receipt__decide(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out);

/* ---- persist.c: the state file ---- */

struct rcpt_persist {
	char *path;                  /* NULL: no state file */
	char *tmp_path;
	char *journal_path;
	char *journal_next_path;
	uint32_t save_interval_ms;
	uint64_t next_save_ms;
	bool dirty;                  /* the table changed since the last save began */
	bool failing;                /* the last save failed: log only changes */
	uint64_t generation;         /* of the snapshot being written or last written */
	uint32_t disk_gen;           /* low bits of the generation on disk; 0: none */
	uint32_t writing_gen;        /* ... of the one being written; 0: none */
	int journal_fd;              /* journal of the snapshot on disk, or -1 */
	int journal_next_fd;         /* journal of the snapshot being written, or -1 */
	struct rcpt_writer *writer;  /* the snapshot being built or written, or NULL */
	uint32_t build_slice;        /* records a tick may add to it */
};

void rcpt_persist__init(struct rcpt_core *core);
void rcpt_persist__ended(struct rcpt_core *core, const struct rcpt_pending *p);
/* True while a snapshot is being built, a slice per tick. */
bool rcpt_persist__building(const struct rcpt_core *core);
/* A request is going away while a snapshot is being built. */
void rcpt_persist__forget(struct rcpt_core *core, const struct rcpt_pending *p);
void rcpt_persist__tick(struct rcpt_core *core, uint64_t now);
void rcpt_persist__free(struct rcpt_core *core);
/* Saves synchronously (at shutdown). */
void rcpt_persist__save_now(struct rcpt_core *core);

/* ---- core.c ---- */

#define RCPT_LATENCY_WINDOW 1024

/* How many deadlines one tick may expire: a mass expiry is spread over
 * ticks so that the broker loop is never held long. Each expiry costs the
 * broker a receipt to deliver at the top of its next loop (~15 us seen),
 * far more than the expiry itself, so this bounds the stall to ~5 ms. */
#define RCPT_EXPIRIES_PER_TICK 300

struct rcpt_unsettled_list {
	struct rcpt_unsettled *items;
	size_t count;
	size_t capacity;
};

struct rcpt_core {
	struct rcpt_host host;
	struct rcpt_config cfg;
	size_t request_prefix_len;
	size_t return_prefix_len;
	struct rcpt_htable pending;
	struct rcpt_list all;            /* every pending request, oldest first */
	struct rcpt_htable clients;
	struct rcpt_htable areas;
	struct rcpt_htable release_waits;
	struct rcpt_release_wait *waits_oldest;
	struct rcpt_release_wait *waits_newest;
	struct rcpt_release_wait *waits_released;
	struct rcpt_heap deadlines;
	struct rcpt_unsettled_list unsettled;
	uint32_t open_return_count;      /* pending requests with an open return topic */
	uint32_t unresolved_clients;     /* records offline or taken over */
	struct rcpt_client *pinned;      /* not to be released while in use */
	uint64_t next_correlation;
	struct rcpt_stats stats;
	uint64_t last_tick_ms;
	bool ticks_seen;
	bool no_tick_warned;
	char *topic_buf;                 /* request prefix + "/" + area */
	struct {
		uint32_t ring[RCPT_LATENCY_WINDOW];   /* ms from request to receipt */
		uint64_t next;
	} latency;
	uint64_t rejected_by_reason[RCPT_REJECT_REASON_COUNT];
	uint64_t sys_next_ms;
	struct rcpt_persist persist;
	uint64_t sys_published[2 + RCPT_OUTCOME_COUNT];   /* last values sent, to send only changes */
	bool sys_sent_once;
};

/* One log line, "receipts: " first. A macro, so that the broker's logger
 * gets the format and arguments and can skip a level it does not log. */
#define rcpt_core__logf(core, level, ...) \
	((core)->host.log_printf((core)->host.log_levels[(level)], "receipts: " __VA_ARGS__))
uint64_t rcpt_core__now(struct rcpt_core *core);
uint64_t rcpt_core__wall(struct rcpt_core *core);

/* ---- stats.c ---- */

void rcpt_stats__rejected(struct rcpt_core *core, const char *reason);
void rcpt_stats__record_latency(struct rcpt_core *core, uint64_t ms);
/* False when no receipt has been timed yet. */
bool rcpt_stats__latency(const struct rcpt_core *core, uint32_t *p50, uint32_t *p99);

/* ---- control.c, sys.c ---- */

void rcpt_sys__tick(struct rcpt_core *core, uint64_t now);

#endif
