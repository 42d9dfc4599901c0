/*
 * Requesters and responders the core holds something for, and what the
 * core knows of their sessions.
 *
 * Mosquitto 2.0 says little about sessions: a DISCONNECT event with a clean
 * flag that is forced true when a newer connection takes the session over,
 * and no event when a session expires. So a record keeps a small state
 * machine, and a client that comes back resolves it by its new clean flag.
 */
#include <stdlib.h>

#include "internal.h"

static bool unresolved(uint8_t session)
{
	return session == RCPT_SESSION_OFFLINE_PERSISTENT || session == RCPT_SESSION_TAKEN_OVER;
}

static void set_session(struct rcpt_core *core, struct rcpt_client *c, enum rcpt_session s)
{
	if(unresolved(c->session)) core->unresolved_clients--;
	c->session = (uint8_t)s;
	if(unresolved(c->session)) core->unresolved_clients++;
}

struct rcpt_client *rcpt_clients__find(const struct rcpt_core *core, const char *id)
{
	size_t len = strlen(id);
	uint32_t hash = rcpt_hash__bytes(RCPT_HASH_SEED, id, len);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&core->clients, hash); n; n = n->next){
		struct rcpt_client *c = RCPT_CONTAINER_OF(n, struct rcpt_client, node);
		if(n->hash == hash && !strcmp(c->id, id)) return c;
	}
	return NULL;
}

void rcpt_clients__release_if_empty(struct rcpt_core *core, struct rcpt_client *c)
{
	if(c == NULL || c == core->pinned || c->requests.oldest || c->deliveries) return;
	if(unresolved(c->session)) core->unresolved_clients--;
	rcpt_htable__remove(&core->clients, &c->node);
	free(c);
}

/* The session is over: its requests are dropped without a receipt (there is
 * nobody left to read one) and the requests it was to answer lose a
 * responder. Ends with the record released if nothing else holds it. */
static void session_ended(struct rcpt_core *core, struct rcpt_client *c)
{
	/* Finishing requests releases records that become empty: keep c. */
	struct rcpt_client *outer = core->pinned;
	core->pinned = c;
	while(c->requests.oldest){
		struct rcpt_pending *p = c->requests.oldest;
		rcpt_core__logf(core, RCPT_LOG_DEBUG, "request of '%s' to '%s' abandoned: its session ended",
				c->id, rcpt_pending__topic(p));
		rcpt_pending__finish(core, p, RCPT_OUTCOME_ABANDONED, NULL, NULL);
	}
	while(c->deliveries){
		struct rcpt_delivery *d = c->deliveries;
		struct rcpt_pending *p = d->pending;
		if(rcpt_pending__drop_delivery(core, d) && p->state == RCPT_PENDING_SETTLED){
			rcpt_pending__finish(core, p, RCPT_OUTCOME_RESPONDER_GONE,
					RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
		}
	}
	core->pinned = outer;
}

static void resolve(struct rcpt_core *core, struct rcpt_client *c, bool clean)
{
	if(unresolved(c->session)){
		if(clean){
			/* It came back with a clean start: the broker threw the old
			 * session away, queued receipts and requests with it. */
			session_ended(core, c);
		}
	}
	set_session(core, c, clean ? RCPT_SESSION_ONLINE_CLEAN : RCPT_SESSION_ONLINE_PERSISTENT);
}

struct rcpt_client *rcpt_clients__seen(struct rcpt_core *core, const struct rcpt_client_ref *ref)
{
	struct rcpt_client *c = rcpt_clients__find(core, ref->id);
	if(c){
		if(unresolved(c->session)) resolve(core, c, ref->clean);
		return c;
	}
	size_t len = strlen(ref->id);
	c = malloc(sizeof(*c) + len + 1);
	if(c == NULL) return NULL;
	c->requests.oldest = c->requests.newest = NULL;
	c->deliveries = NULL;
	c->pending_count = 0;
	c->session = ref->clean ? RCPT_SESSION_ONLINE_CLEAN : RCPT_SESSION_ONLINE_PERSISTENT;
	memcpy(c->id, ref->id, len + 1);
	rcpt_htable__insert(&core->clients, &c->node, rcpt_hash__bytes(RCPT_HASH_SEED, ref->id, len));
	return c;
}

struct rcpt_client *rcpt_clients__restore(struct rcpt_core *core, const char *id)
{
	struct rcpt_client *c = rcpt_clients__find(core, id);
	if(c) return c;
	/* Restored sessions are offline until their client reconnects; the
	 * broker then fires the takeover DISCONNECT that resolves them. */
	struct rcpt_client_ref ref = {.id = id, .clean = false};
	c = rcpt_clients__seen(core, &ref);
	if(c) set_session(core, c, RCPT_SESSION_OFFLINE_PERSISTENT);
	return c;
}

void rcpt_clients__notice(struct rcpt_core *core, const struct rcpt_client_ref *ref)
{
	if(core->unresolved_clients == 0 || ref->id == NULL) return;
	struct rcpt_client *c = rcpt_clients__find(core, ref->id);
	if(c && unresolved(c->session)){
		resolve(core, c, ref->clean);
		rcpt_clients__release_if_empty(core, c);
	}
}

void rcpt_clients__disconnected(struct rcpt_core *core, const char *id, bool clean)
{
	struct rcpt_client *c = rcpt_clients__find(core, id);
	if(c == NULL) return;
	switch(c->session){
		case RCPT_SESSION_ONLINE_CLEAN:
			session_ended(core, c);
			break;
		case RCPT_SESSION_ONLINE_PERSISTENT:
			/* Its own flag is false; true means a takeover forced it. */
			set_session(core, c, clean ? RCPT_SESSION_TAKEN_OVER : RCPT_SESSION_OFFLINE_PERSISTENT);
			break;
		case RCPT_SESSION_OFFLINE_PERSISTENT:
			/* The second DISCONNECT of a reconnect: the session is taken
			 * over by a connection not seen yet. */
			set_session(core, c, RCPT_SESSION_TAKEN_OVER);
			break;
		case RCPT_SESSION_TAKEN_OVER:
			/* The newer connection left before it was seen. Clean true
			 * may be its own flag or forced by yet another takeover: the
			 * broker does not say. Ending a persistent session by mistake
			 * would lose receipts, keeping a clean one only sends a
			 * receipt nobody reads: keep it, and let the next sight of
			 * the client decide. */
			if(!clean) set_session(core, c, RCPT_SESSION_OFFLINE_PERSISTENT);
			break;
	}
	rcpt_clients__release_if_empty(core, c);
}

void rcpt_clients__free_all(struct rcpt_core *core)
{
	for(size_t i = 0; i <= core->clients.mask; i++){
		struct rcpt_hnode *n = core->clients.buckets[i];
		while(n){
			struct rcpt_hnode *next = n->next;
			free(RCPT_CONTAINER_OF(n, struct rcpt_client, node));
			n = next;
		}
		core->clients.buckets[i] = NULL;
	}
	core->clients.count = 0;
	core->unresolved_clients = 0;
}
