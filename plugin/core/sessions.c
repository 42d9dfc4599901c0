/*
 * Sessions (see the header).
 */
#include "core_parts.h"
#include "life.h"
#include "sessions.h"

static bool unresolved(uint8_t session)
{
	return session == RCPT_SESSION_OFFLINE_PERSISTENT || session == RCPT_SESSION_TAKEN_OVER;
}

uint32_t rcpt_sessions__unresolved(const struct rcpt_core *core)
{
	return rcpt_clients__in_session(&core->clients, RCPT_SESSION_OFFLINE_PERSISTENT)
		+ rcpt_clients__in_session(&core->clients, RCPT_SESSION_TAKEN_OVER);
}

/* The session is over: the requests it was to answer lose a responder. Its
 * own requests stay until they end: the broker may keep the session (a clean
 * start with a Session Expiry Interval, which a plugin cannot see), so their
 * receipts are published like any message and reach the session if it lives.
 * The record stays; the caller releases it if it is unused. */
static void session_ended(struct rcpt_core *core, struct rcpt_client *c)
{
	/* Finishing requests releases records that become empty: keep c. */
	rcpt_clients__hold(c);
	struct rcpt_delivery *d;
	while((d = rcpt_pending__delivery_to(c)) != NULL){
		struct rcpt_pending *p = d->pending;
		/* Its QoS 2 answer will never be released by it: held back if the
		 * PUBREL comes after all, as the request may end without it. */
		if(p->answer_waiting && rcpt_qos2__answer_by(&core->qos2, p, c)) rcpt_qos2__drop_answer(&core->qos2, p);
		if(rcpt_pending__drop_delivery(&core->pending, d) && rcpt_tracking__is_settled(p)){
			rcpt_life__finish(core, p, RCPT_OUTCOME_RESPONDER_GONE,
					RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
		}
	}
	rcpt_clients__unhold(c);
}

static void resolve(struct rcpt_core *core, struct rcpt_client *c, bool clean)
{
	if(unresolved(c->session) && clean){
		/* It came back with a clean start: the broker threw the old
		 * session away, with the requests queued for it. */
		session_ended(core, c);
	}
	rcpt_clients__set_session(&core->clients, c, clean ? RCPT_SESSION_ONLINE_CLEAN : RCPT_SESSION_ONLINE_PERSISTENT);
}

struct rcpt_client *rcpt_sessions__seen(struct rcpt_core *core, const struct rcpt_client_ref *ref)
{
	struct rcpt_client *c = rcpt_clients__find(&core->clients, ref->id);
	if(c){
		if(unresolved(c->session)) resolve(core, c, ref->clean);
		return c;
	}
	return rcpt_clients__add(&core->clients, ref->id,
			ref->clean ? RCPT_SESSION_ONLINE_CLEAN : RCPT_SESSION_ONLINE_PERSISTENT);
}

void rcpt_sessions__notice(struct rcpt_core *core, const struct rcpt_client_ref *ref)
{
	if(rcpt_sessions__unresolved(core) == 0 || ref->id == NULL) return;
	struct rcpt_client *c = rcpt_clients__find(&core->clients, ref->id);
	if(c && unresolved(c->session)){
		resolve(core, c, ref->clean);
		rcpt_clients__release_if_unused(&core->clients, c);
	}
}

void rcpt_sessions__disconnected(struct rcpt_core *core, const char *id, bool clean)
{
	struct rcpt_client *c = rcpt_clients__find(&core->clients, id);
	if(c == NULL) return;
	switch(c->session){
		case RCPT_SESSION_ONLINE_CLEAN:
			session_ended(core, c);
			break;
		case RCPT_SESSION_ONLINE_PERSISTENT:
			/* Its own flag is false; true means a takeover forced it. */
			rcpt_clients__set_session(&core->clients, c,
					clean ? RCPT_SESSION_TAKEN_OVER : RCPT_SESSION_OFFLINE_PERSISTENT);
			break;
		case RCPT_SESSION_OFFLINE_PERSISTENT:
			/* The second DISCONNECT of a reconnect: the session is taken
			 * over by a connection not seen yet. */
			rcpt_clients__set_session(&core->clients, c, RCPT_SESSION_TAKEN_OVER);
			break;
		case RCPT_SESSION_TAKEN_OVER:
			/* The newer connection left before it was seen. Clean true
			 * may be its own flag or forced by yet another takeover: the
			 * broker does not say. Ending a persistent session by mistake
			 * would lose receipts, keeping a clean one only sends a
			 * receipt nobody reads: keep it, and let the next sight of
			 * the client decide. */
			if(!clean) rcpt_clients__set_session(&core->clients, c, RCPT_SESSION_OFFLINE_PERSISTENT);
			break;
	}
	rcpt_clients__release_if_unused(&core->clients, c);
}
