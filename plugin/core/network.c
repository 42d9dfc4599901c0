/*
 * Requests and receipts across bridged brokers (see the header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_parts.h"
#include "life.h"
#include "names.h"
#include "network.h"
#include "sessions.h"

/* How much earlier than its own deadline a broker wants the next hop's
 * verdict: min(100 ms, a quarter of what is left). */
#define HOP_MARGIN_MS 100

int rcpt_network__init(struct rcpt_core *core)
{
	struct rcpt_network *n = &core->network;
	memset(n, 0, sizeof(*n));
	if(!rcpt_netconf__active(&core->cfg.network)) return RCPT_OK;
	if(rcpt_identity__init(&n->peer_ids, true)) return RCPT_ERR_NOMEM;
	n->topic_buf = malloc((size_t)UINT16_MAX + 1);
	return n->topic_buf ? RCPT_OK : RCPT_ERR_NOMEM;
}

void rcpt_network__free(struct rcpt_core *core)
{
	struct rcpt_network *n = &core->network;
	free(n->topic_buf);
	if(n->peer_ids.table.buckets) rcpt_identity__free(&n->peer_ids);
	memset(n, 0, sizeof(*n));
}

static const struct rcpt_binding *bound_of(const struct rcpt_network *n, const char *id)
{
	if(n->peer_ids.table.buckets == NULL) return NULL;
	return rcpt_identity__find(&n->peer_ids, id);
}

static void bind_id(struct rcpt_core *core, const char *id, const char *username)
{
	struct rcpt_network *n = &core->network;
	if(id == NULL || bound_of(n, id)) return;
	if(rcpt_identity__bind(&n->peer_ids, id, username, false) != RCPT_OK) return;
	rcpt_host__logf(&core->host, RCPT_LOG_INFO, "client id '%s' bound to peer broker '%s'", id, username);
}

void rcpt_network__sender(struct rcpt_core *core, const struct rcpt_client_ref *who, struct rcpt_hop *out)
{
	rcpt_netconf__sender(&core->cfg.network, who, out);
	if(out->kind == RCPT_LINK_PEER) bind_id(core, who->id, who->username);
}

bool rcpt_network__connect_allowed(struct rcpt_core *core, const char *id, const char *username,
		const char **why)
{
	if(id == NULL) return true;
	if(rcpt_netconf__uplink_by_id(&core->cfg.network, id)){
		*why = "the client id of this broker's own bridge";
		return false;
	}
	const struct rcpt_binding *b = bound_of(&core->network, id);
	if(b && (username == NULL || strcmp(username, b->user))){
		*why = "the client id of a peer broker";
		return false;
	}
	return true;
}

bool rcpt_network__is_link(const struct rcpt_core *core, const char *id)
{
	if(id == NULL || !rcpt_netconf__active(&core->cfg.network)) return false;
	return rcpt_netconf__uplink_by_id(&core->cfg.network, id) || bound_of(&core->network, id);
}

/* This broker's own bridges that carry the request out count as its
 * recipients: their connections skip READ checks, so nothing else would
 * tell. An answer or a verdict then comes back through them. */
static void deliver_to_uplinks(struct rcpt_core *core, struct rcpt_pending *p, const char *topic,
		const struct rcpt_uplink *from)
{
	const struct rcpt_netconf *n = &core->cfg.network;
	for(size_t i = 0; i < n->uplink_count; i++){
		const struct rcpt_uplink *u = &n->uplinks[i];
		if(u == from) continue;
		bool carries = false;
		for(char **f = u->out_filters; f && *f && !carries; f++) carries = rcpt_netconf__filter_matches(*f, topic);
		if(!carries) continue;
		struct rcpt_client_ref ref = {.id = u->local_id, .clean = false};
		struct rcpt_client *c = rcpt_sessions__seen(core, &ref);
		if(c == NULL || rcpt_pending__add_delivery(&core->pending, p, c) != RCPT_OK){
			rcpt_clients__release_if_unused(&core->clients, c);
			rcpt_host__logf(&core->host, RCPT_LOG_ERR, "out of memory: request not counted as sent "
					"over bridge '%s'", u->name);
		}
	}
}

void rcpt_network__request(struct rcpt_core *core, const struct rcpt_publish *msg,
		const struct rcpt_hop *link, struct rcpt_pending *p, struct rcpt_decision *out)
{
	const struct rcpt_netconf *n = &core->cfg.network;
	if(!rcpt_netconf__active(n)) return;
	if(link->kind == RCPT_LINK_NONE){
		out->requester_broker = n->broker_name;
	}else{
		/* vouched for by the peer that sent it; the username the message
		 * came with is the peer's own, no requester's */
		out->requester = msg->requester ? msg->requester : msg->sender.id;
		out->requester_broker = msg->requester_broker ? msg->requester_broker : link->name;
		out->requester_user = msg->requester_user;
		out->keep_vouched = msg->requester && msg->requester_broker
			&& msg->broker_property_count == 2u + (msg->requester_user != NULL);
	}
	if(p == NULL || p->open_return) return;
	const struct rcpt_uplink *from = link->kind == RCPT_LINK_UPLINK
		? rcpt_netconf__uplink_by_id(n, msg->sender.id) : NULL;
	const char *topic = out->new_topic ? out->new_topic : msg->topic;
	if(n->peers == NULL && !rcpt_netconf__leaves(n, topic, from)) return;

	/* It may leave: receipts must find their way back through this broker. */
	const struct rcpt_config *cfg = &core->cfg;
	const char *rest = rcpt_names__below(rcpt_pending__topic(p), cfg->return_prefix, cfg->return_prefix_len);
	if(rest == NULL) return;
	size_t len = cfg->return_prefix_len + 2 + strlen(n->broker_name) + 1 + strlen(rest);
	if(len > UINT16_MAX){
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "request from '%s' stays on this broker: its return "
				"topic is too long to route back", msg->sender.id);
		return;
	}
	snprintf(core->network.topic_buf, len + 1, "%s/@%s/%s", cfg->return_prefix, n->broker_name, rest);
	out->set_response_topic = core->network.topic_buf;
	/* A timeout it carries is passed on shortened (in its own bytes); one
	 * it does not carry costs no property: the next broker takes its own
	 * default, shortened by its hop count (rcpt_network__hop_timeout). */
	if(msg->timeout_count > 0){
		uint64_t now = rcpt_host__now(&core->host);
		uint64_t left = p->deadline_ms > now ? p->deadline_ms - now : 1;
		uint64_t margin = left / 4 < HOP_MARGIN_MS ? left / 4 : HOP_MARGIN_MS;
		snprintf(core->network.timeout_buf, sizeof(core->network.timeout_buf), "%llu",
				(unsigned long long)(left - margin > 0 ? left - margin : 1));
		out->set_timeout = core->network.timeout_buf;
	}
	deliver_to_uplinks(core, p, topic, from);
}

uint32_t rcpt_network__hop_timeout(struct rcpt_core *core, const struct rcpt_publish *msg, uint32_t timeout_ms)
{
	if(msg->timeout_count > 0 || !msg->has_response_topic || !rcpt_netconf__active(&core->cfg.network)) return timeout_ms;
	struct rcpt_hop link;
	rcpt_netconf__sender(&core->cfg.network, &msg->sender, &link);
	if(link.kind == RCPT_LINK_NONE) return timeout_ms;
	const char *rest = rcpt_names__below(msg->response_topic, core->cfg.return_prefix, core->cfg.return_prefix_len);
	uint32_t t = timeout_ms;
	for(; rest && rest[0] == '@'; rest = strchr(rest, '/') ? strchr(rest, '/') + 1 : NULL){
		uint32_t margin = t / 4 < HOP_MARGIN_MS ? t / 4 : HOP_MARGIN_MS;
		if(t - margin < 1) break;
		t -= margin;
	}
	return t;
}

bool rcpt_network__receipt_topic(const struct rcpt_core *core, const struct rcpt_pending *p, const char *topic)
{
	const char *want = rcpt_pending__topic(p);
	if(!strcmp(want, topic)) return true;
	const struct rcpt_config *cfg = &core->cfg;
	const char *back = rcpt_netconf__own_return(&cfg->network, topic, cfg->return_prefix, cfg->return_prefix_len);
	if(back == NULL) return false;
	const char *want_rest = rcpt_names__below(want, cfg->return_prefix, cfg->return_prefix_len);
	return want_rest && !strcmp(want_rest, back);
}

static enum rcpt_outcome outcome_of(const char *status)
{
	if(!strcmp(status, RECEIPTS_STATUS_TIMEOUT)) return RCPT_OUTCOME_TIMEOUT;
	if(!strcmp(status, RECEIPTS_STATUS_NO_RESPONDERS)) return RCPT_OUTCOME_NO_RESPONDERS;
	if(!strcmp(status, RECEIPTS_STATUS_REJECTED)) return RCPT_OUTCOME_REJECTED;
	if(!strcmp(status, RECEIPTS_STATUS_CANCELLED)) return RCPT_OUTCOME_CANCELLED;
	return RCPT_OUTCOME_RESPONDER_GONE;
}

/* The statuses a verdict may carry on: ours, never a string of the peer's. */
static const char *status_of(enum rcpt_outcome o)
{
	switch(o){
		case RCPT_OUTCOME_TIMEOUT: return RECEIPTS_STATUS_TIMEOUT;
		case RCPT_OUTCOME_NO_RESPONDERS: return RECEIPTS_STATUS_NO_RESPONDERS;
		case RCPT_OUTCOME_REJECTED: return RECEIPTS_STATUS_REJECTED;
		case RCPT_OUTCOME_CANCELLED: return RECEIPTS_STATUS_CANCELLED;
		default: return RECEIPTS_STATUS_RESPONDER_GONE;
	}
}

static struct rcpt_delivery *delivery_of(struct rcpt_pending *p, const struct rcpt_client *c)
{
	for(struct rcpt_delivery *d = &p->first; d; d = d->next_of_pending){
		if(d->client == c) return d;
	}
	return NULL;
}

bool rcpt_network__matched(struct rcpt_core *core, const struct rcpt_publish *msg, struct rcpt_pending *p,
		struct rcpt_client *sender, struct rcpt_decision *out)
{
	const struct rcpt_netconf *n = &core->cfg.network;
	if(!rcpt_netconf__active(n)) return false;
	struct rcpt_hop link;
	rcpt_network__sender(core, &msg->sender, &link);
	if(link.kind != RCPT_LINK_NONE && msg->receipt_status && strcmp(msg->receipt_status, RECEIPTS_STATUS_OK)){
		enum rcpt_outcome o = outcome_of(msg->receipt_status);
		rcpt_host__logf(&core->host, RCPT_LOG_DEBUG, "verdict '%s' from broker '%s' for a request of '%s'",
				status_of(o), link.name, p->requester->id);
		struct rcpt_delivery *d = delivery_of(p, sender);
		/* A hop's deadline is a little earlier than ours (rcpt_network__request):
		 * its timeout is no verdict for us, our own deadline gives it. */
		if(d && rcpt_pending__drop_delivery(&core->pending, d) && rcpt_tracking__is_settled(p)
				&& o != RCPT_OUTCOME_TIMEOUT){
			/* The last hop has spoken: its verdict is the request's. */
			rcpt_life__finish(core, p, o, status_of(o), msg->receipt_reason);
		}
		out->action = RCPT_REFUSE;
		out->reason = "verdict-taken";
		return true;
	}
	if(strcmp(rcpt_pending__topic(p), msg->topic)){
		/* came back through this broker: on to the return topic it got */
		size_t len = p->topic_len;
		memcpy(core->network.topic_buf, rcpt_pending__topic(p), len + 1);
		out->new_topic = core->network.topic_buf;
	}
	return false;
}

bool rcpt_network__late_verdict(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out)
{
	if(!rcpt_netconf__active(&core->cfg.network) || msg->receipt_status == NULL
			|| !strcmp(msg->receipt_status, RECEIPTS_STATUS_OK)){
		return false;
	}
	struct rcpt_hop link;
	rcpt_network__sender(core, &msg->sender, &link);
	if(link.kind == RCPT_LINK_NONE) return false;
	rcpt_host__logf(&core->host, RCPT_LOG_DEBUG, "late verdict from broker '%s' on '%s': nothing pending",
			link.name, msg->topic);
	out->action = RCPT_REFUSE;
	out->reason = "late-verdict";
	return true;
}
