/*
 * The client registry (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "hash.h"

int rcpt_clients__init(struct rcpt_clients *clients)
{
	memset(clients, 0, sizeof(*clients));
	if(rcpt_htable__init(&clients->users, 16)) return RCPT_ERR_NOMEM;
	return rcpt_htable__init(&clients->table, 64);
}

static void free_all(struct rcpt_htable *t, size_t offset)
{
	struct rcpt_hnode *n = rcpt_htable__first(t);
	while(n){
		struct rcpt_hnode *next = rcpt_htable__next(t, n);
		free((char *)n - offset);
		n = next;
	}
	rcpt_htable__free(t);
}

void rcpt_clients__free(struct rcpt_clients *clients)
{
	free_all(&clients->table, offsetof(struct rcpt_client, node));
	free_all(&clients->users, offsetof(struct rcpt_user, node));
	memset(clients->in_session, 0, sizeof(clients->in_session));
}

struct rcpt_client *rcpt_clients__find(const struct rcpt_clients *clients, const char *id)
{
	size_t len = strlen(id);
	uint32_t hash = rcpt_hash__bytes(RCPT_HASH_SEED, id, len);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&clients->table, hash); n; n = n->next){
		struct rcpt_client *c = RCPT_CONTAINER_OF(n, struct rcpt_client, node);
		if(n->hash == hash && !strcmp(c->id, id)) return c;
	}
	return NULL;
}

struct rcpt_client *rcpt_clients__add(struct rcpt_clients *clients, const char *id, enum rcpt_session session)
{
	size_t len = strlen(id);
	struct rcpt_client *c = malloc(sizeof(*c) + len + 1);
	if(c == NULL) return NULL;
	c->user = NULL;
	c->requests.oldest = c->requests.newest = NULL;
	c->deliveries = NULL;
	c->pending_count = 0;
	c->session = (uint8_t)session;
	c->holds = 0;
	memcpy(c->id, id, len + 1);
	rcpt_htable__insert(&clients->table, &c->node, rcpt_hash__bytes(RCPT_HASH_SEED, id, len));
	clients->in_session[session]++;
	return c;
}

void rcpt_clients__set_session(struct rcpt_clients *clients, struct rcpt_client *c, enum rcpt_session session)
{
	clients->in_session[c->session]--;
	c->session = (uint8_t)session;
	clients->in_session[session]++;
}

uint32_t rcpt_clients__in_session(const struct rcpt_clients *clients, enum rcpt_session session)
{
	return clients->in_session[session];
}

size_t rcpt_clients__count(const struct rcpt_clients *clients)
{
	return rcpt_htable__count(&clients->table);
}

struct rcpt_user *rcpt_clients__find_user(const struct rcpt_clients *clients, const char *username)
{
	if(username == NULL) return NULL;
	size_t len = strlen(username);
	uint32_t hash = rcpt_hash__bytes(RCPT_HASH_SEED, username, len);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&clients->users, hash); n; n = n->next){
		struct rcpt_user *u = RCPT_CONTAINER_OF(n, struct rcpt_user, node);
		if(n->hash == hash && !strcmp(u->name, username)) return u;
	}
	return NULL;
}

static void unbind(struct rcpt_clients *clients, struct rcpt_client *c)
{
	struct rcpt_user *u = c->user;
	c->user = NULL;
	if(u == NULL || --u->clients > 0) return;
	rcpt_htable__remove(&clients->users, &u->node);
	free(u);
}

int rcpt_clients__bind_user(struct rcpt_clients *clients, struct rcpt_client *c, const char *username)
{
	if(c->requests.oldest) return RCPT_OK;
	if(c->user && username && !strcmp(c->user->name, username)) return RCPT_OK;
	unbind(clients, c);
	if(username == NULL) return RCPT_OK;
	struct rcpt_user *u = rcpt_clients__find_user(clients, username);
	if(u == NULL){
		size_t len = strlen(username);
		u = malloc(sizeof(*u) + len + 1);
		if(u == NULL) return RCPT_ERR_NOMEM;
		u->pending = 0;
		u->clients = 0;
		memcpy(u->name, username, len + 1);
		rcpt_htable__insert(&clients->users, &u->node, rcpt_hash__bytes(RCPT_HASH_SEED, username, len));
	}
	u->clients++;
	c->user = u;
	return RCPT_OK;
}

size_t rcpt_clients__user_count(const struct rcpt_clients *clients)
{
	return rcpt_htable__count(&clients->users);
}

void rcpt_clients__release_if_unused(struct rcpt_clients *clients, struct rcpt_client *c)
{
	if(c == NULL || c->holds || c->requests.oldest || c->deliveries) return;
	unbind(clients, c);
	clients->in_session[c->session]--;
	rcpt_htable__remove(&clients->table, &c->node);
	free(c);
}

void rcpt_clients__hold(struct rcpt_client *c)
{
	c->holds++;
}

void rcpt_clients__unhold(struct rcpt_client *c)
{
	c->holds--;
}
