/*
 * Requests (see the header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_parts.h"
#include "hash.h"
#include "life.h"
#include "names.h"
#include "network.h"
#include "request.h"
#include "sessions.h"

/* Where the receipt of a request goes, as far as it could be worked out. */
struct return_topic {
	const char *topic;
	size_t len;
	bool usable;        /* valid and the requester's own: a rejected receipt may go there */
	bool open;          /* outside the return prefix */
	char *owned;        /* heap copy when built from return-area */
};

static const char *check_return_topic(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct return_topic *rt)
{
	const char *id = msg->sender.id;
	memset(rt, 0, sizeof(*rt));

	if(msg->return_area_count > 0){
		if(msg->return_area_count > 1 || msg->has_response_topic) return RECEIPTS_REJECT_AMBIGUOUS;
		if(!rcpt_names__valid_level(msg->return_area, strlen(msg->return_area))){
			return RECEIPTS_REJECT_BAD_RETURN_AREA;
		}
		if(!rcpt_names__valid_level(id, strlen(id))) return RECEIPTS_REJECT_BAD_CLIENT_ID;
		size_t len = core->cfg.return_prefix_len + 1 + strlen(id) + 1 + strlen(msg->return_area);
		rt->owned = malloc(len + 1);
		if(rt->owned == NULL) return RECEIPTS_REJECT_NO_MEMORY;
		snprintf(rt->owned, len + 1, "%s/%s/%s", core->cfg.return_prefix, id, msg->return_area);
		rt->topic = rt->owned;
		rt->len = len;
		rt->usable = true;
		return len > core->cfg.max_return_topic_len ? RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG : NULL;
	}

	const char *t = msg->response_topic;
	size_t len = strlen(t);
	/* $ topics belong to the broker: receipts there would forge $SYS values
	 * or control replies. */
	if(len == 0 || len > UINT16_MAX || t[0] == '$' || rcpt_names__has_wildcard(t)){
		return RECEIPTS_REJECT_BAD_RETURN_TOPIC;
	}
	const char *rest = rcpt_names__below(t, core->cfg.return_prefix, core->cfg.return_prefix_len);
	if(rest == NULL){
		rt->open = true;
	}else{
		size_t owner_len = rcpt_names__level_len(rest);
		if(owner_len == 0) return RECEIPTS_REJECT_BAD_RETURN_TOPIC;
		struct rcpt_hop link;
		rcpt_network__sender(core, &msg->sender, &link);
		if(!rcpt_netconf__owns_area(&link, &msg->sender, rest, owner_len)) return RECEIPTS_REJECT_FOREIGN_RETURN_AREA;
		if(rest[owner_len] == '/' && rest[owner_len + 1] == '\0') return RECEIPTS_REJECT_BAD_RETURN_TOPIC;
	}
	rt->topic = t;
	rt->len = len;
	rt->usable = true;
	/* Kept for the request's whole life: its length is a memory quota. */
	return len > core->cfg.max_return_topic_len ? RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG : NULL;
}

/* Every budget a new request draws on: the broker's, its client id's, its
 * user's (or the anonymous clients' shared one), and the bytes of all
 * pending state. */
static bool over_quota(const struct rcpt_core *core, const struct rcpt_publish *msg,
		const struct return_topic *rt)
{
	const struct rcpt_config *cfg = &core->cfg;
	if(core->stats.pending >= cfg->max_pending) return true;
	const struct rcpt_client *c = rcpt_clients__find(&core->clients, msg->sender.id);
	if(c && rcpt_pending__count_of(c) >= cfg->max_pending_per_client) return true;
	if(msg->sender.username){
		const struct rcpt_user *u = rcpt_clients__find_user(&core->clients, msg->sender.username);
		if(u && u->pending >= cfg->max_pending_per_user) return true;
	}else if(cfg->max_pending_anonymous > 0 && core->pending.anonymous_count >= cfg->max_pending_anonymous){
		return true;
	}
	size_t corr_len = msg->has_correlation ? msg->correlation.len : 0;
	return core->pending.bytes + rcpt_pending__record_bytes(rt->len, corr_len) > cfg->max_pending_bytes;
}

/* Strict decimal: digits only, >= 1; above the maximum is clamped. */
static const char *parse_timeout(const struct rcpt_core *core, const struct rcpt_publish *msg,
		uint32_t *out)
{
	*out = core->cfg.default_timeout_ms;
	if(msg->timeout_count == 0) return NULL;
	if(msg->timeout_count > 1) return RECEIPTS_REJECT_AMBIGUOUS;
	const char *s = msg->timeout;
	if(s[0] == '\0') return RECEIPTS_REJECT_BAD_TIMEOUT;
	uint64_t v = 0;
	for(const char *c = s; *c; c++){
		if(*c < '0' || *c > '9') return RECEIPTS_REJECT_BAD_TIMEOUT;
		if(v <= core->cfg.max_timeout_ms) v = v * 10 + (uint64_t)(*c - '0');
	}
	if(v == 0) return RECEIPTS_REJECT_BAD_TIMEOUT;
	*out = v > core->cfg.max_timeout_ms ? core->cfg.max_timeout_ms : (uint32_t)v;
	return NULL;
}

static void refuse(struct rcpt_core *core, const struct rcpt_publish *msg,
		const struct return_topic *rt, const char *reason, struct rcpt_decision *out)
{
	out->action = RCPT_REFUSE;
	out->reason = reason;
	rcpt_stats__rejected(&core->stats, reason);
	rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "refused request from '%s' on '%s': %s",
			msg->sender.id, msg->topic, reason);
	/* A resent request already has its receipt: a second would break the
	 * promise of exactly one. */
	if(rt->usable && strcmp(reason, RECEIPTS_REJECT_RESENT)){
		struct rcpt_receipt_out r = {
			.topic = rt->topic,
			.qos = msg->qos,
			.status = RECEIPTS_STATUS_REJECTED,
			.reason = reason,
		};
		if(msg->has_correlation) r.correlation = msg->correlation;
		core->host.publish(core->host.ctx, &r);
	}
}

static struct rcpt_pending *create(struct rcpt_core *core, const struct rcpt_publish *msg,
		const struct return_topic *rt, const char *area, size_t area_len, uint32_t timeout_ms,
		uint32_t payload_hash)
{
	uint8_t token[RCPT_TOKEN_LEN];
	if(rcpt_token__new(&core->requests.tokens, token) != RCPT_OK){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "getrandom failed: no token for a request from '%s'",
				msg->sender.id);
		return NULL;
	}
	bool has_corr = msg->has_correlation && msg->correlation.len > 0;
	struct rcpt_client *requester = rcpt_sessions__seen(core, &msg->sender);
	if(requester == NULL) return NULL;
	if(rcpt_clients__bind_user(&core->clients, requester, msg->sender.username) != RCPT_OK){
		rcpt_clients__release_if_unused(&core->clients, requester);
		return NULL;
	}
	uint64_t now = rcpt_host__now(&core->host);
	struct rcpt_pending_spec spec = {
		.requester = requester,
		.area = area, .area_len = area_len,
		.topic = rt->topic, .topic_len = rt->len,
		.correlation = has_corr ? msg->correlation.ptr : NULL,
		.correlation_len = has_corr ? msg->correlation.len : 0,
		.token = token,
		.qos = msg->qos,
		.no_correlation = !has_corr,
		.open_return = rt->open,
		.created_ms = now,
		.deadline_ms = now + timeout_ms,
	};
	struct rcpt_pending *p = rcpt_life__start(core, &spec, payload_hash);
	if(p == NULL) rcpt_clients__release_if_unused(&core->clients, requester);
	return p;
}

/* A QoS 2 PUBLISH sent again before its PUBREL (same requester, return
 * topic, correlation and payload) is the same request, not a second one: the
 * broker keeps only one copy. */
static struct rcpt_pending *find_retransmitted(struct rcpt_core *core, const struct rcpt_publish *msg,
		const struct return_topic *rt, uint32_t payload_hash)
{
	if(msg->qos != 2) return NULL;
	bool client_corr = msg->has_correlation && msg->correlation.len > 0;
	return rcpt_tracking__awaiting_release(&core->tracking, msg->sender.id, rt->topic, rt->len,
			client_corr ? msg->correlation.ptr : NULL, msg->correlation.len, payload_hash);
}

static void rewrite(struct rcpt_core *core, const struct rcpt_publish *msg, struct rcpt_pending *p,
		const char *area, size_t area_len, struct rcpt_decision *out)
{
	out->action = RCPT_REQUEST;
	out->requester = msg->sender.id;
	out->requester_user = msg->sender.username;
	if(msg->return_area_count > 0) out->set_response_topic = rcpt_pending__topic(p);
	/* Responders see the token, never the requester's correlation: what
	 * they answer with is matched to this request alone. */
	out->add_correlation.ptr = p->token;
	out->add_correlation.len = RCPT_TOKEN_LEN;
	if(msg->subject_area_count > 0){
		char *buf = core->requests.topic_buf;
		snprintf(buf, core->cfg.request_prefix_len + RECEIPTS_MAX_AREA_LEN + 2, "%s/%.*s",
				core->cfg.request_prefix, (int)area_len, area);
		if(strcmp(buf, msg->topic)){
			out->new_topic = buf;
			out->original_topic = msg->topic;
		}
	}
	struct rcpt_hop link;
	rcpt_network__sender(core, &msg->sender, &link);
	rcpt_network__request(core, msg, &link, p, out);
}

/* Inside the plugin's namespaces the broker's other access control still
 * counts: a re-routed request must pass the WRITE check a direct publish to
 * its area would, and the broker sends receipts to an open return topic only
 * if the requester could publish there itself. "Cannot ask" refuses: it
 * never widens what the other sources allow. */
static const char *check_others(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct return_topic *rt, const char *area, size_t area_len)
{
	if(rt->open){
		enum rcpt_others o = rcpt_host__ask_others(&core->host, msg->sender.handle, rt->topic,
				RCPT_OTHERS_WRITE);
		if(o == RCPT_OTHERS_DENY || o == RCPT_OTHERS_UNKNOWN){
			rt->usable = false;   /* no rejected receipt where it may not write */
			return RECEIPTS_REJECT_RETURN_NOT_WRITABLE;
		}
	}
	if(msg->subject_area_count > 0){
		char *buf = core->requests.topic_buf;
		snprintf(buf, core->cfg.request_prefix_len + RECEIPTS_MAX_AREA_LEN + 2, "%s/%.*s",
				core->cfg.request_prefix, (int)area_len, area);
		if(strcmp(buf, msg->topic)){
			enum rcpt_others o = rcpt_host__ask_others(&core->host, msg->sender.handle, buf, RCPT_OTHERS_WRITE);
			if(o == RCPT_OTHERS_UNKNOWN){
				rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "cannot ask this broker's other access control "
						"whether '%s' may write '%s' (it does not export mosquitto_acl_check): re-route refused",
						msg->sender.id, buf);
			}
			if(o == RCPT_OTHERS_DENY || o == RCPT_OTHERS_UNKNOWN) return RECEIPTS_REJECT_NOT_AUTHORIZED;
		}
	}
	return NULL;
}

void rcpt_request__decide(struct rcpt_core *core, const struct rcpt_publish *msg,
		const char *area, size_t area_len, struct rcpt_decision *out)
{
	struct return_topic rt;
	const char *reason = check_return_topic(core, msg, &rt);
	/* With open return topics off, a request that names one is plain
	 * MQTT 5: not the plugin's, delivered untouched. */
	if(reason == NULL && rt.open && core->cfg.open_return_topics == RCPT_OPEN_RETURN_OFF){
		free(rt.owned);
		return;
	}
	uint32_t timeout_ms = 0;
	uint32_t payload_hash = 0;

	if(reason == NULL && msg->retain) reason = RECEIPTS_REJECT_RETAINED;
	if(reason == NULL && msg->subject_area_count > 1) reason = RECEIPTS_REJECT_AMBIGUOUS;
	if(reason == NULL && !rcpt_names__valid_level(area, area_len)) reason = RECEIPTS_REJECT_BAD_AREA;
	/* A re-routed request gets its new topic written over the old one's
	 * bytes (the adapter may not hand the broker a new topic buffer). */
	if(reason == NULL && msg->subject_area_count > 0
			&& core->cfg.request_prefix_len + 1 + area_len > strlen(msg->topic)){
		reason = RECEIPTS_REJECT_TOPIC_TOO_SHORT;
	}
	if(reason == NULL) reason = parse_timeout(core, msg, &timeout_ms);
	if(reason == NULL) timeout_ms = rcpt_network__hop_timeout(core, msg, timeout_ms);
	if(reason == NULL) reason = check_others(core, msg, &rt, area, area_len);
	if(reason == NULL && msg->has_correlation && msg->correlation.len > core->cfg.max_correlation_len){
		reason = RECEIPTS_REJECT_CORRELATION_TOO_LONG;
	}
	if(reason == NULL && msg->qos == 2){
		payload_hash = rcpt_hash__bytes(RCPT_HASH_SEED, msg->payload.ptr, msg->payload.len);
		struct rcpt_pending *again = find_retransmitted(core, msg, &rt, payload_hash);
		if(again){
			rewrite(core, msg, again, area, area_len, out);
			free(rt.owned);
			return;
		}
		/* The same PUBLISH again after its request got its receipt before
		 * the PUBREL: no second request, no second receipt. */
		bool client_corr = msg->has_correlation && msg->correlation.len > 0;
		if(rcpt_qos2__is_resent(&core->qos2, rcpt_qos2__content(msg->sender.id, rt.topic, rt.len,
					client_corr ? msg->correlation.ptr : NULL, msg->correlation.len, payload_hash))){
			reason = RECEIPTS_REJECT_RESENT;
		}
	}
	if(reason == NULL && over_quota(core, msg, &rt)) reason = RECEIPTS_REJECT_OVER_QUOTA;
	struct rcpt_pending *p = NULL;
	if(reason == NULL){
		p = create(core, msg, &rt, area, area_len, timeout_ms, payload_hash);
		if(p == NULL) reason = RECEIPTS_REJECT_NO_MEMORY;
	}
	if(reason){
		refuse(core, msg, &rt, reason, out);
		free(rt.owned);
		return;
	}
	out->pending = p;
	rewrite(core, msg, p, area, area_len, out);
	free(rt.owned);
	rcpt_host__logf(&core->host, RCPT_LOG_DEBUG, "request from '%s' to area '%s' tracked, receipt to '%s' within %u ms",
			msg->sender.id, p->area->name, rcpt_pending__topic(p), timeout_ms);
}

int rcpt_request__init(struct rcpt_core *core)
{
	core->requests.topic_buf = malloc(core->cfg.request_prefix_len + RECEIPTS_MAX_AREA_LEN + 2);
	rcpt_token__init(&core->requests.tokens);
	return core->requests.topic_buf ? RCPT_OK : RCPT_ERR_NOMEM;
}

void rcpt_request__free(struct rcpt_core *core)
{
	free(core->requests.topic_buf);
	core->requests.topic_buf = NULL;
}
