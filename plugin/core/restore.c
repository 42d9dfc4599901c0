/*
 * Reading the state file back (see the header).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_parts.h"
#include "files.h"
#include "restore.h"
#include "state_format.h"

struct load {
	struct rcpt_core *core;
	uint64_t now;
	uint64_t wall;
	uint32_t gen;
	char id[UINT16_MAX + 1];
	uint64_t restored, abandoned, responder_gone, answered, skipped;
};

static const char *id_of(struct load *l, struct rcpt_state_str s)
{
	memcpy(l->id, s.ptr, s.len);
	l->id[s.len] = '\0';
	return l->id;
}

/* Our own file passed its checksum, but C strings must not hide a NUL. */
static bool plain(struct rcpt_state_str s)
{
	return memchr(s.ptr, '\0', s.len) == NULL;
}

/* The record of a persistent client from the state file: offline until it
 * reconnects, when the broker fires the takeover DISCONNECT that resolves
 * it. */
static struct rcpt_client *restore_client(struct load *l, struct rcpt_state_str id)
{
	const char *s = id_of(l, id);
	struct rcpt_client *c = rcpt_clients__find(&l->core->clients, s);
	return c ? c : rcpt_clients__add(&l->core->clients, s, RCPT_SESSION_OFFLINE_PERSISTENT);
}

static void restore_deliveries(struct load *l, struct rcpt_pending *p, const struct rcpt_state_record *r)
{
	struct rcpt_core *core = l->core;
	for(uint16_t i = 0; i < r->delivery_count; i++){
		const struct rcpt_state_delivery *d = &r->deliveries[i];
		/* A clean session did not survive the restart. */
		if(!d->persistent || !plain(d->client_id)) continue;
		struct rcpt_client *c = restore_client(l, d->client_id);
		if(c && rcpt_pending__add_delivery(&core->pending, p, c) != RCPT_OK){
			rcpt_clients__release_if_unused(&core->clients, c);
		}
	}
	if(r->delivery_count > 0 && p->live_deliveries == 0){
		p->ever_delivered = true;
		if(rcpt_tracking__settle_later(&core->tracking, p) == RCPT_OK) l->responder_gone++;
	}
}

static void restore_one(void *ctx, const struct rcpt_state_record *r)
{
	struct load *l = ctx;
	struct rcpt_core *core = l->core;
	if(!r->requester_persistent){
		/* Its clean session is gone: nobody is left to read a receipt. */
		rcpt_stats__count(&core->stats, RCPT_OUTCOME_ABANDONED);
		l->abandoned++;
		return;
	}
	if(!plain(r->return_topic) || !plain(r->requester) || !plain(r->area)
			|| rcpt_pending__find(&core->pending, r->token)){
		l->skipped++;
		return;
	}
	struct rcpt_client *requester = restore_client(l, r->requester);
	if(requester == NULL){
		l->skipped++;
		return;
	}
	uint64_t age = l->wall > r->created_wall_ms ? l->wall - r->created_wall_ms : 0;
	struct rcpt_pending_spec spec = {
		.requester = requester,
		.area = r->area.ptr, .area_len = r->area.len,
		.topic = r->return_topic.ptr, .topic_len = r->return_topic.len,
		.correlation = r->correlation.ptr, .correlation_len = r->correlation.len,
		.token = r->token,
		.qos = r->qos,
		.no_correlation = r->no_correlation,
		.open_return = r->open_return,
		.created_ms = l->now - age,
		/* Deadlines are kept in wall-clock time: one that passed while the
		 * broker was down fires at the first tick. */
		.deadline_ms = r->deadline_wall_ms > l->wall ? l->now + (r->deadline_wall_ms - l->wall) : l->now,
	};
	struct rcpt_pending *p = rcpt_pending__create(&core->pending, &spec);
	if(p == NULL){
		rcpt_clients__release_if_unused(&core->clients, requester);
		l->skipped++;
		return;
	}
	p->saved_gen = l->gen;
	restore_deliveries(l, p, r);
	l->restored++;
}

static void forget_ended(void *ctx, const uint8_t *token)
{
	struct load *l = ctx;
	struct rcpt_core *core = l->core;
	struct rcpt_pending *p = rcpt_pending__find(&core->pending, token);
	if(p == NULL) return;
	if(rcpt_tracking__is_unsettled(p)) l->responder_gone--;
	rcpt_tracking__untrack(&core->tracking, p);
	rcpt_pending__destroy(&core->pending, p);
	l->restored--;
	l->answered++;
}

/* A bad file is renamed, never deleted: an operator may want it. */
static void set_aside(struct rcpt_core *core, const char *why)
{
	const char *path = core->persist.path;
	char suffix[40];
	snprintf(suffix, sizeof(suffix), ".bad-%" PRIu64, rcpt_host__wall(&core->host) / 1000);
	char *aside = rcpt_files__path_with(path, suffix);
	if(aside && rename(path, aside) == 0){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "state_file '%s': %s; set aside as '%s'; starting with no "
				"pending requests", path, why, aside);
	}else{
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "state_file '%s': %s; could not set it aside (%s); starting "
				"with no pending requests", path, why, strerror(errno));
	}
	free(aside);
}

/* Applies the journal of this generation, found under either name (the
 * writer may have been cut off before renaming it); others are stale. */
static enum rcpt_journal_found apply_journal(struct rcpt_core *core, struct load *l, uint64_t generation)
{
	const char *names[2] = {core->persist.journal_path, core->persist.journal_next_path};
	enum rcpt_journal_found found = RCPT_JOURNAL_NONE;
	for(int i = 0; i < 2; i++){
		unsigned char *data;
		size_t len;
		uint64_t jgen = 0;
		if(rcpt_files__read(names[i], &data, &len)) continue;
		/* A cut last record is expected after a kill: what precedes it counts. */
		enum rcpt_state_error e = rcpt_state_format__journal_decode(data, len, &jgen, NULL, NULL);
		/* A journal of another format version belongs to no snapshot we load. */
		bool readable = e != RCPT_STATE_OLD_VERSION && e != RCPT_STATE_FUTURE_VERSION;
		if(readable && jgen == generation && found == RCPT_JOURNAL_NONE){
			rcpt_state_format__journal_decode(data, len, &jgen, forget_ended, l);
			found = i == 0 ? RCPT_JOURNAL_CURRENT : RCPT_JOURNAL_NEXT;
		}else{
			unlink(names[i]);
		}
		free(data);
	}
	return found;
}

void rcpt_restore__load(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	if(ps->path == NULL) return;
	unsigned char *data;
	size_t len;
	int rc = rcpt_files__read(ps->path, &data, &len);
	/* Nothing there (or no directory: the start-up check has said so). */
	if(rc == ENOENT || rc == ENOTDIR){
		rcpt_host__logf(&core->host, RCPT_LOG_INFO, "state_file '%s': none yet, starting empty", ps->path);
		unlink(ps->journal_path);
		unlink(ps->journal_next_path);
		return;
	}
	if(rc){
		char why[200];
		snprintf(why, sizeof(why), "unreadable (%s)", rcpt_files__error_text(rc));
		set_aside(core, why);
		return;
	}
	struct load *l = calloc(1, sizeof(*l));
	if(l == NULL){
		free(data);
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "state_file '%s': out of memory loading it", ps->path);
		return;
	}
	l->core = core;
	l->now = rcpt_host__now(&core->host);
	l->wall = rcpt_host__wall(&core->host);
	struct rcpt_state_header h = {0};
	/* The generation is only known after the header: decode reads it
	 * before it passes any record on. */
	enum rcpt_state_error e = rcpt_state_format__decode(data, len, &h, NULL, NULL);
	if(e == RCPT_STATE_OK){
		l->gen = rcpt_persist__gen32(h.generation);
		e = rcpt_state_format__decode(data, len, &h, restore_one, l);
	}
	free(data);
	if(e != RCPT_STATE_OK){
		set_aside(core, rcpt_state_format__error_text(e));
		free(l);
		return;
	}
	rcpt_persist__adopt(ps, h.generation, apply_journal(core, l, h.generation));
	rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "state_file '%s': restored %" PRIu64 " pending request(s); "
			"%" PRIu64 " dropped (the requester's clean session ended), %" PRIu64 " answered before the "
			"restart, %" PRIu64 " will end responder-gone, %" PRIu64 " unusable",
			ps->path, l->restored, l->abandoned, l->answered, l->responder_gone, l->skipped);
	free(l);
}
