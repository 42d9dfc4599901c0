/*
 * The core's life and its event entry points: each event settles earlier
 * READ checks first, then hands the work to the module that owns it. Every
 * verdict the core reaches by itself (no-responders, responder-gone,
 * timeout) is given here.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "control.h"
#include "files.h"
#include "core.h"
#include "core_parts.h"
#include "hash.h"
#include "life.h"
#include "names.h"
#include "network.h"
#include "receipt.h"
#include "request.h"
#include "restore.h"
#include "sessions.h"

#define EXPIRY_CLOCK_EVERY 32

/* Without a TICK for this long while requests wait, timeouts cannot fire. */
#define TICK_SILENCE_MS 5000

/* ---- life ---- */

/* Persistent sessions outlive a restart: so must the bindings of their ids. */
static void load_bindings(struct rcpt_core *core)
{
	if(!core->identity.enabled || core->cfg.state_file == NULL) return;
	core->bindings.path = rcpt_files__path_with(core->cfg.state_file, ".ids");
	if(core->bindings.path == NULL) return;
	size_t loaded;
	int rc = rcpt_identity__load(&core->identity, core->bindings.path, &loaded);
	if(rc){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "client id bindings '%s': cannot read: %s; starting without",
				core->bindings.path, strerror(rc));
	}else if(loaded){
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "client id bindings '%s': %zu restored",
				core->bindings.path, loaded);
	}
}

static void save_bindings(struct rcpt_core *core, uint64_t now)
{
	if(core->bindings.path == NULL || !core->identity.dirty) return;
	core->bindings.saved_ms = now;
	const char *step;
	int rc = rcpt_identity__save(&core->identity, core->bindings.path, &step);
	if(rc && !core->bindings.failing){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "client id bindings '%s': cannot %s: %s",
				core->bindings.path, step, strerror(rc));
	}else if(rc == 0 && core->bindings.failing){
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "client id bindings '%s': saved again", core->bindings.path);
	}
	core->bindings.failing = rc != 0;
}

struct rcpt_core *rcpt_core__new(const struct rcpt_host *host, struct rcpt_config *cfg)
{
	struct rcpt_core *core = calloc(1, sizeof(*core));
	if(core == NULL) return NULL;
	/* Before any table hashes a key. */
	rcpt_hash__init_key();
	core->host = *host;
	core->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	/* Whatever the host left unsettled is taken as a broker without
	 * authentication: nothing bound, no anonymous budget. */
	rcpt_config__resolve_auth(&core->cfg, false);
	uint64_t now = rcpt_host__now(&core->host);
	if(rcpt_clients__init(&core->clients)
			|| rcpt_areas__init(&core->areas)
			|| rcpt_pending__init(&core->pending, &core->clients, &core->areas, &core->stats)
			|| rcpt_tracking__init(&core->tracking, core->cfg.qos2_release_grace_ms)
			|| rcpt_qos2__init(&core->qos2)
			|| rcpt_identity__init(&core->identity, core->cfg.bind_client_ids == RCPT_BIND_ON)
			|| rcpt_request__init(core)
			|| rcpt_network__init(core)){
		rcpt_core__free(core);
		return NULL;
	}
	rcpt_sys__init(&core->sys, core->cfg.sys_interval_s);
	rcpt_wills__init(&core->wills);
	core->ticks.last_ms = now;
	rcpt_persist__init(&core->persist, &core->host, &core->pending, core->cfg.state_file, core->cfg.save_interval_s);
	rcpt_persist__set_journal_sync(&core->persist, core->cfg.journal_sync);
	rcpt_restore__load(core);
	load_bindings(core);
	return core;
}

void rcpt_core__free(struct rcpt_core *core)
{
	if(core == NULL) return;
	rcpt_control__free(core);
	rcpt_persist__free(&core->persist);
	rcpt_tracking__free(&core->tracking);
	rcpt_qos2__free(&core->qos2);
	rcpt_identity__free(&core->identity);
	free(core->bindings.path);
	rcpt_pending__free(&core->pending);
	rcpt_clients__free(&core->clients);
	rcpt_areas__free(&core->areas);
	rcpt_request__free(core);
	rcpt_network__free(core);
	rcpt_config__free(&core->cfg);
	free(core);
}

void rcpt_core__save_state(struct rcpt_core *core)
{
	rcpt_core__settle(core);
	rcpt_persist__save_now(&core->persist);
	save_bindings(core, rcpt_host__now(&core->host));
}

const struct rcpt_config *rcpt_core__config(const struct rcpt_core *core)
{
	return &core->cfg;
}

void rcpt_core__stats(const struct rcpt_core *core, struct rcpt_stats *out)
{
	*out = core->stats;
}

bool rcpt_core__binds_client_ids(const struct rcpt_core *core)
{
	return core->identity.enabled;
}

/* ---- identity ---- */

/* A client acting after its CONNECT passed authentication: its id is its
 * user's from now on (if binding is on and it has a username). */
static void claim(struct rcpt_core *core, const struct rcpt_client_ref *who)
{
	if(!core->identity.enabled || who->username == NULL) return;
	/* This broker's own bridge never logs in here (no CONNECT, no ACL
	 * check): its id is reserved by the network (rcpt_network__connect_allowed),
	 * and the username it carries is its account on the other broker, no
	 * user of this one. */
	if(rcpt_netconf__uplink_by_id(&core->cfg.network, who->id)) return;
	if(rcpt_identity__bind(&core->identity, who->id, who->username, !who->clean) != RCPT_OK){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "out of memory: client id '%s' not bound to user '%s'",
				who->id, who->username);
	}
}

bool rcpt_core__on_connect(struct rcpt_core *core, const char *client_id, const char *username)
{
	const char *why = NULL;
	if(client_id == NULL) return true;
	if(rcpt_network__connect_allowed(core, client_id, username, &why)){
		if(rcpt_identity__check(&core->identity, client_id, username) != RCPT_ID_OTHERS) return true;
		why = "the id is bound to another user";
	}
	rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "refused CONNECT of client id '%s' by %s%s%s: %s",
			client_id, username ? "user '" : "a client without a username",
			username ? username : "", username ? "'" : "", why);
	return false;
}

/* ---- verdicts ---- */

/* A request whose READ checks are over: if it reached nobody, or everyone
 * it reached is already gone, that is its receipt. */
static void give_verdict(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(!p->ever_delivered){
		rcpt_life__finish(core, p, RCPT_OUTCOME_NO_RESPONDERS,
				RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
	}else if(p->live_deliveries == 0){
		/* Every recipient's session ended while its READ checks ran. */
		rcpt_life__finish(core, p, RCPT_OUTCOME_RESPONDER_GONE,
				RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	}
}

void rcpt_core__settle(struct rcpt_core *core)
{
	/* Every event but a READ or WRITE check passes here. */
	rcpt_wills__other_event(&core->wills);
	if(!rcpt_tracking__has_settled(&core->tracking)) return;
	struct rcpt_pending *p;
	while((p = rcpt_tracking__next_settled(&core->tracking)) != NULL) give_verdict(core, p);
}

/* ---- PUBLISH ---- */

bool rcpt_core__may_concern(const struct rcpt_core *core, const char *topic,
		bool has_response_topic, bool has_user_properties, bool has_correlation)
{
	return has_response_topic || has_user_properties
		|| (has_correlation && core->pending.open_return_count > 0)
		|| rcpt_names__below(topic, core->cfg.request_prefix, core->cfg.request_prefix_len)
		|| rcpt_names__below(topic, core->cfg.return_prefix, core->cfg.return_prefix_len);
}

/* Mosquitto 2.0.11 to 2.0.14 send no TICK with per_listener_settings true:
 * say so once, the first time it matters. */
static void check_ticks(struct rcpt_core *core)
{
	if(core->ticks.silence_warned) return;
	if(rcpt_host__now(&core->host) - core->ticks.last_ms < TICK_SILENCE_MS) return;
	core->ticks.silence_warned = true;
	rcpt_host__logf(&core->host, RCPT_LOG_WARNING, "no TICK event for %u ms: timeouts and QoS 2 "
			"no-responders receipts cannot be sent (is per_listener_settings true?)", TICK_SILENCE_MS);
}

/* A publish under the request prefix that is not a request reaches
 * responders as it is: it may not carry what only the broker vouches for,
 * nor stay retained for later subscribers to take as a request. */
static void refuse_plain(struct rcpt_core *core, const struct rcpt_publish *msg, struct rcpt_decision *out)
{
	if(msg->broker_property_count > 0){
		out->action = RCPT_REFUSE;
		out->reason = RECEIPTS_REFUSED_BROKER_PROPERTY;
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "refused publish from '%s' on '%s': %s ('%s' is "
				"set by the broker only)", msg->sender.id, msg->topic, out->reason, msg->broker_property);
	}else if(msg->retain){
		out->action = RCPT_REFUSE;
		out->reason = RECEIPTS_REFUSED_RETAINED;
		rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "refused publish from '%s' on '%s': %s",
				msg->sender.id, msg->topic, out->reason);
	}
}

void rcpt_core__on_publish(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->action = RCPT_PASS;
	rcpt_core__settle(core);
	rcpt_sessions__notice(core, &msg->sender);

	const struct rcpt_config *cfg = &core->cfg;
	if(rcpt_names__below(msg->topic, cfg->return_prefix, cfg->return_prefix_len)){
		rcpt_receipt__decide(core, msg, out);
		if(out->action == RCPT_RECEIPT) claim(core, &msg->sender);
		return;
	}
	if(msg->has_correlation && core->pending.open_return_count > 0 && rcpt_receipt__decide(core, msg, out)){
		return;
	}
	if(!msg->has_response_topic && msg->return_area_count == 0){
		if(rcpt_names__below(msg->topic, cfg->request_prefix, cfg->request_prefix_len)){
			refuse_plain(core, msg, out);
		}
		return;
	}

	const char *area;
	size_t area_len;
	if(msg->subject_area_count > 0){
		area = msg->subject_area;
		area_len = strlen(area);
	}else{
		const char *rest = rcpt_names__below(msg->topic, cfg->request_prefix, cfg->request_prefix_len);
		if(rest == NULL) return;
		area = rest;
		area_len = rcpt_names__level_len(rest);
	}
	check_ticks(core);
	rcpt_request__decide(core, msg, area, area_len, out);
	if(out->action == RCPT_REQUEST) claim(core, &msg->sender);
}

void rcpt_core__request_stored(struct rcpt_core *core, struct rcpt_pending *p, const void *message_key,
		const char *topic)
{
	if(p) rcpt_tracking__track(&core->tracking, p, message_key, topic, rcpt_host__now(&core->host));
}

void rcpt_core__answer_stored(struct rcpt_core *core, const struct rcpt_decision *d, const void *message_key,
		const char *topic)
{
	if(d->pending == NULL) return;
	struct rcpt_message_ref m = rcpt_qos2__message(message_key, topic);
	if(rcpt_qos2__answer_wait(&core->qos2, d->pending, &m, d->answer_by, d->answer_hash) != RCPT_OK){
		/* Without the wait nothing would end it at PUBREL: end it now, as
		 * before QoS 2 answers waited. */
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "out of memory: QoS 2 answer to '%s' counted at PUBLISH", topic);
		rcpt_life__finish(core, d->pending, RCPT_OUTCOME_OK, NULL, NULL);
	}
}

void rcpt_core__request_abort(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(p == NULL) return;
	rcpt_stats__rejected(&core->stats, RECEIPTS_REJECT_NO_MEMORY);
	rcpt_life__discard(core, p);
}

/* ---- access checks ---- */

/* A READ check of a message that is no request: a QoS 2 answer reaching its
 * requester at PUBREL ends its request `ok`; one whose request ended before
 * its PUBREL is held back. */
static enum rcpt_access qos2_answer_read(struct rcpt_core *core, const void *message_key, const char *topic,
		enum rcpt_access a)
{
	struct rcpt_message_ref m = rcpt_qos2__message(message_key, topic);
	struct rcpt_pending *p = rcpt_qos2__answer_released(&core->qos2, &m);
	if(p){
		rcpt_life__finish(core, p, RCPT_OUTCOME_OK, NULL, NULL);
		return a;
	}
	return rcpt_qos2__is_tombstoned(&core->qos2, &m) ? RCPT_ACCESS_DENY : a;
}

static bool under_prefixes(const struct rcpt_config *cfg, const char *topic)
{
	return rcpt_names__below(topic, cfg->request_prefix, cfg->request_prefix_len)
		|| rcpt_names__below(topic, cfg->return_prefix, cfg->return_prefix_len);
}

static void log_will(struct rcpt_core *core, const char *sender, const char *topic)
{
	rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "refused will of '%s' on '%s': %s",
			sender, topic, RECEIPTS_REFUSED_WILL);
}

enum rcpt_access rcpt_core__on_read(struct rcpt_core *core, const void *message_key,
		const char *topic, bool retained, const struct rcpt_client_ref *receiver)
{
	if(under_prefixes(&core->cfg, topic)){
		if(rcpt_wills__read(&core->wills, topic)){
			if(rcpt_wills__first_report(&core->wills)) log_will(core, rcpt_wills__sender(&core->wills), topic);
			return RCPT_ACCESS_DENY;
		}
		/* A request or receipt is for the subscribers of now: a retained
		 * copy there (a will, or stored before this plugin ran) is neither. */
		if(retained) return RCPT_ACCESS_DENY;
	}else{
		rcpt_wills__other_event(&core->wills);
	}
	if(topic[0] != '$') rcpt_sessions__notice(core, receiver);
	bool request_topic;
	enum rcpt_access a = rcpt_access__read(&core->cfg, topic, receiver, &request_topic);
	if(!request_topic){
		/* Answers go to return areas, or to open return topics while such
		 * requests are pending: ordinary traffic pays one test. */
		if(!rcpt_qos2__busy(&core->qos2) || a == RCPT_ACCESS_DENY) return a;
		if(core->pending.open_return_count == 0
				&& !rcpt_names__below(topic, core->cfg.return_prefix, core->cfg.return_prefix_len)){
			return a;
		}
		return qos2_answer_read(core, message_key, topic, a);
	}
	struct rcpt_pending *p = rcpt_tracking__lookup(&core->tracking, message_key, topic);
	if(p == NULL && rcpt_qos2__busy(&core->qos2)){
		struct rcpt_message_ref m = rcpt_qos2__message(message_key, topic);
		/* Its request is over (no-responders after the grace period,
		 * timeout, cancelled): nobody gets it now. */
		if(rcpt_qos2__is_tombstoned(&core->qos2, &m)) return RCPT_ACCESS_DENY;
	}
	if(p){
		/* Only a client the other access control lets read the request
		 * counts as reached (deny means deny). Asked only for tracked
		 * requests, where it decides who may answer. */
		enum rcpt_others o = rcpt_host__ask_others(&core->host, receiver->handle, topic, RCPT_OTHERS_READ);
		if(o == RCPT_OTHERS_DENY) return RCPT_ACCESS_DENY;
		if(o == RCPT_OTHERS_ALLOW) a = RCPT_ACCESS_ALLOW;
		claim(core, receiver);
		struct rcpt_client *c = rcpt_sessions__seen(core, receiver);
		if(c == NULL || rcpt_pending__add_delivery(&core->pending, p, c) != RCPT_OK){
			rcpt_clients__release_if_unused(&core->clients, c);
			rcpt_host__logf(&core->host, RCPT_LOG_ERR, "out of memory: delivery of a request to '%s' not tracked",
					receiver->id);
		}
	}
	return a;
}

enum rcpt_access rcpt_core__on_write(struct rcpt_core *core, const char *topic,
		const struct rcpt_client_ref *sender)
{
	rcpt_sessions__notice(core, sender);
	if(!under_prefixes(&core->cfg, topic)){
		rcpt_wills__other_event(&core->wills);
		return rcpt_access__write(&core->cfg, topic, sender);
	}
	if(rcpt_wills__write(&core->wills, topic, sender->id)){
		log_will(core, sender->id, topic);
		return RCPT_ACCESS_DENY;
	}
	enum rcpt_access a = rcpt_access__write(&core->cfg, topic, sender);
	if(a == RCPT_ACCESS_DENY) rcpt_wills__other_event(&core->wills);
	return a;
}

enum rcpt_access rcpt_core__on_subscribe(struct rcpt_core *core, const char *filter,
		const struct rcpt_client_ref *subscriber)
{
	rcpt_wills__other_event(&core->wills);
	/* A client coming back subscribes first: that tells its clean flag. */
	rcpt_sessions__notice(core, subscriber);
	struct rcpt_hop link;
	rcpt_network__sender(core, subscriber, &link);   /* a peer's bridge subscribes first */
	enum rcpt_access a = rcpt_access__subscribe(&core->cfg, &core->host, filter, subscriber);
	if(a != RCPT_ACCESS_DENY) claim(core, subscriber);
	return a;
}

/* ---- other events ---- */

void rcpt_core__on_disconnect(struct rcpt_core *core, const char *client_id, const char *username, bool clean)
{
	rcpt_core__settle(core);
	if(client_id == NULL) return;
	/* A link to another broker that drops is silence, not a verdict: what
	 * went over it ends by answer or at its deadline. */
	if(rcpt_network__is_link(core, client_id)) return;
	/* Mosquitto 2.0.15 on fires DISCONNECT for a refused CONNECT, with the
	 * client id it asked for: that is not the holder's session ending, and
	 * no will follows it (the holder's next publish is no will). */
	if(rcpt_identity__check(&core->identity, client_id, username) == RCPT_ID_OTHERS) return;
	rcpt_sessions__disconnected(core, client_id, clean);
	/* The broker sends this connection's will, if any, right after. */
	rcpt_wills__disconnected(&core->wills, client_id);
	/* A clean session is over: its id is free again, unless requests of it
	 * still wait for receipts that the next holder could read. */
	struct rcpt_binding *b = rcpt_identity__find(&core->identity, client_id);
	if(b && clean && !b->persistent){
		struct rcpt_client *c = rcpt_clients__find(&core->clients, client_id);
		if(c == NULL || rcpt_pending__count_of(c) == 0) rcpt_identity__release(&core->identity, client_id);
	}
}

void rcpt_core__on_control(struct rcpt_core *core, const char *client_id, const void *payload, size_t len)
{
	rcpt_core__settle(core);
	rcpt_control__run(core, client_id, payload, len);
}

/* One tick ends at most RCPT_EXPIRIES_PER_TICK requests, within about
 * RCPT_EXPIRY_BUDGET_MS: QoS 2 requests past their grace, timeouts and
 * queued cancellations together; the rest wait for the next tick. */
static bool tick_has_room(const struct rcpt_core *core, uint64_t since, int ended)
{
	if(ended >= RCPT_EXPIRIES_PER_TICK) return false;
	return ended == 0 || ended % EXPIRY_CLOCK_EVERY
		|| rcpt_host__now(&core->host) - since < RCPT_EXPIRY_BUDGET_MS;
}

void rcpt_core__on_tick(struct rcpt_core *core)
{
	rcpt_core__settle(core);
	uint64_t now = rcpt_host__now(&core->host);
	core->ticks.last_ms = now;
	struct rcpt_pending *p;
	int i = 0;
	/* No PUBREL within the grace period: nobody received it. Ending it
	 * tombstones its message, so a PUBREL after all delivers nothing. */
	while(tick_has_room(core, now, i) && (p = rcpt_tracking__overdue(&core->tracking, now)) != NULL){
		rcpt_life__finish(core, p, RCPT_OUTCOME_NO_RESPONDERS,
				RECEIPTS_STATUS_NO_RESPONDERS, RECEIPTS_REASON_NO_SUBSCRIBER);
		i++;
	}
	rcpt_sys__tick(&core->sys, &core->host, &core->stats, now);
	rcpt_persist__tick(&core->persist, now);
	if(now - core->bindings.saved_ms >= (uint64_t)core->cfg.save_interval_s * 1000u) save_bindings(core, now);
	for(; tick_has_room(core, now, i); i++){
		p = rcpt_pending__expired(&core->pending, now);
		if(p == NULL) break;
		rcpt_life__finish(core, p, RCPT_OUTCOME_TIMEOUT, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	}
	/* Queued cancellations share the expiries' bound on one tick. */
	if(core->cancels.first && rcpt_host__now(&core->host) - now < RCPT_EXPIRY_BUDGET_MS){
		rcpt_control__tick(core, (unsigned)(RCPT_EXPIRIES_PER_TICK - i), now, RCPT_EXPIRY_BUDGET_MS);
	}
}
