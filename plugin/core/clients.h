/*
 * The client registry: a record per client id the core holds something for
 * (requests it sent, requests delivered to it), found by id, and a record
 * per username whose clients have requests, for quotas per user. The
 * registry owns the records' life; the pending table links requests into
 * them and the session state machine keeps their session state.
 */
#ifndef RCPT_CLIENTS_H
#define RCPT_CLIENTS_H

#include "htable.h"
#include "list.h"

struct rcpt_delivery;

/* What the core knows of a client's session; the transitions are
 * sessions.c's. */
enum rcpt_session {
	RCPT_SESSION_ONLINE_CLEAN,
	RCPT_SESSION_ONLINE_PERSISTENT,
	RCPT_SESSION_OFFLINE_PERSISTENT,
	/* A newer connection took the session over; its clean flag is not known
	 * until the client is seen again. */
	RCPT_SESSION_TAKEN_OVER,
	RCPT_SESSION_COUNT
};

/* A username whose clients have requests pending. */
struct rcpt_user {
	struct rcpt_hnode node;
	uint32_t pending;                   /* pending.c's: requests of its clients */
	uint32_t clients;                   /* client records bound to it */
	char name[];
};

struct rcpt_client {
	struct rcpt_hnode node;
	struct rcpt_user *user;             /* whose requests these are; NULL: anonymous */
	struct rcpt_list requests;          /* pending.c's: its requests, oldest first */
	struct rcpt_delivery *deliveries;   /* pending.c's: requests delivered to it */
	uint32_t pending_count;             /* pending.c's */
	uint8_t session;                    /* enum rcpt_session, set through the registry */
	uint8_t holds;                      /* rcpt_clients__hold */
	char id[];
};

struct rcpt_clients {
	struct rcpt_htable table;
	struct rcpt_htable users;
	uint32_t in_session[RCPT_SESSION_COUNT];
};

int rcpt_clients__init(struct rcpt_clients *clients);
/* Frees every record. */
void rcpt_clients__free(struct rcpt_clients *clients);
struct rcpt_client *rcpt_clients__find(const struct rcpt_clients *clients, const char *id);
/* A new record (the id must have none). NULL: out of memory. */
struct rcpt_client *rcpt_clients__add(struct rcpt_clients *clients, const char *id, enum rcpt_session session);
void rcpt_clients__set_session(struct rcpt_clients *clients, struct rcpt_client *c, enum rcpt_session session);
/* Records in a session state. */
uint32_t rcpt_clients__in_session(const struct rcpt_clients *clients, enum rcpt_session session);
size_t rcpt_clients__count(const struct rcpt_clients *clients);
/* Whether its session outlives a disconnect, as far as the core knows. */
static inline bool rcpt_clients__is_persistent(const struct rcpt_client *c)
{
	return c->session != RCPT_SESSION_ONLINE_CLEAN;
}
/* Binds a client's requests to a username (NULL: anonymous); only while it
 * has none pending, so a user's count stays the sum of its clients'. */
int rcpt_clients__bind_user(struct rcpt_clients *clients, struct rcpt_client *c, const char *username);
/* The record of a username, if any of its clients has requests. */
struct rcpt_user *rcpt_clients__find_user(const struct rcpt_clients *clients, const char *username);
size_t rcpt_clients__user_count(const struct rcpt_clients *clients);
/* Frees a record that holds nothing any more (NULL-safe). */
void rcpt_clients__release_if_unused(struct rcpt_clients *clients, struct rcpt_client *c);
/* Keeps a record alive while its caller works on it, though it may become
 * unused meanwhile; after unhold the caller releases it if it wants it gone. */
void rcpt_clients__hold(struct rcpt_client *c);
void rcpt_clients__unhold(struct rcpt_client *c);

#endif
