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
	return rcpt_htable__init(&clients->table, 64);
}

void rcpt_clients__free(struct rcpt_clients *clients)
{
	struct rcpt_hnode *n = rcpt_htable__first(&clients->table);
	while(n){
		struct rcpt_hnode *next = rcpt_htable__next(&clients->table, n);
		free(RCPT_CONTAINER_OF(n, struct rcpt_client, node));
		n = next;
	}
	rcpt_htable__free(&clients->table);
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

void rcpt_clients__release_if_unused(struct rcpt_clients *clients, struct rcpt_client *c)
{
	if(c == NULL || c->holds || c->requests.oldest || c->deliveries) return;
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
