/*
 * The life of a request (see the header).
 */
#include "core_parts.h"
#include "life.h"

struct rcpt_pending *rcpt_life__start(struct rcpt_core *core, const struct rcpt_pending_spec *spec,
		uint32_t payload_hash)
{
	struct rcpt_pending *p = rcpt_pending__create(&core->pending, spec);
	if(p && rcpt_tracking__reserve(&core->tracking, p, payload_hash) != RCPT_OK){
		rcpt_pending__destroy(&core->pending, p);
		return NULL;
	}
	return p;
}

/* A QoS 2 request ending before its PUBREL: its message is tombstoned, so
 * that the PUBREL delivers it to nobody and a DUP of it is no new request. */
static void tombstone_request(struct rcpt_core *core, const struct rcpt_pending *p)
{
	struct rcpt_message_ref m;
	uint32_t payload_hash;
	rcpt_tracking__release_message(p, &m.key, &m.topic_hash, &m.topic_len, &payload_hash);
	uint32_t content = rcpt_qos2__content(p->requester->id, p->key, p->topic_len,
			p->no_correlation ? NULL : rcpt_pending__correlation(p), p->correlation_len, payload_hash);
	rcpt_qos2__tombstone(&core->qos2, &m, content);
}

void rcpt_life__discard(struct rcpt_core *core, struct rcpt_pending *p)
{
	if(p->track_state == RCPT_TRACK_AWAITING_RELEASE) tombstone_request(core, p);
	if(p->answer_waiting) rcpt_qos2__drop_answer(&core->qos2, p);
	rcpt_tracking__untrack(&core->tracking, p);
	rcpt_persist__forget(&core->persist, p);
	rcpt_pending__destroy(&core->pending, p);
}

static void send_receipt(struct rcpt_core *core, const struct rcpt_pending *p, const char *status,
		const char *reason)
{
	struct rcpt_receipt_out r = {
		.topic = rcpt_pending__topic(p),
		.qos = p->qos,
		.status = status,
		.reason = reason,
	};
	/* The requester's own correlation, never the token. */
	r.correlation.ptr = rcpt_pending__correlation(p);
	r.correlation.len = p->correlation_len;
	if(core->host.publish(core->host.ctx, &r) != RCPT_OK){
		rcpt_host__logf(&core->host, RCPT_LOG_ERR, "could not send receipt '%s' to '%s' for '%s': out of memory",
				status, r.topic, p->requester->id);
	}
	rcpt_host__logf(&core->host, RCPT_LOG_DEBUG, "receipt '%s' (%s) to '%s' for '%s'",
			status, reason ? reason : "", r.topic, p->requester->id);
}

void rcpt_life__finish(struct rcpt_core *core, struct rcpt_pending *p,
		enum rcpt_outcome outcome, const char *status, const char *reason)
{
	if(status) send_receipt(core, p, status, reason);
	/* It may be in the state file on disk: note that it ended, before the
	 * broker can deliver its receipt, so a restart never revives it. */
	rcpt_persist__ended(&core->persist, p);
	rcpt_stats__count(&core->stats, outcome);
	if(outcome != RCPT_OUTCOME_ABANDONED){
		rcpt_stats__record_latency(&core->stats, rcpt_pending__age_ms(p, rcpt_host__now(&core->host)));
	}
	rcpt_life__discard(core, p);
}
