/*
 * Receipts (see the header).
 */
#include <string.h>

#include "core_parts.h"
#include "hash.h"
#include "life.h"
#include "names.h"
#include "network.h"
#include "receipt.h"

static bool refuse(struct rcpt_core *core, const struct rcpt_publish *msg, const char *why,
		struct rcpt_decision *out)
{
	out->action = RCPT_REFUSE;
	out->reason = why;
	rcpt_stats__count(&core->stats, RCPT_OUTCOME_UNMATCHED);
	rcpt_host__logf(&core->host, RCPT_LOG_NOTICE, "refused receipt from '%s' on '%s': %s",
			msg->sender.id, msg->topic, why);
	return true;
}

/* The request a publish answers: its token is the whole Correlation Data,
 * and it was made for this return topic. */
static struct rcpt_pending *answered(struct rcpt_core *core, const struct rcpt_publish *msg)
{
	if(msg->correlation.len != RCPT_TOKEN_LEN) return NULL;
	struct rcpt_pending *p = rcpt_pending__find(&core->pending, msg->correlation.ptr);
	if(p == NULL || !rcpt_network__receipt_topic(core, p, msg->topic)) return NULL;
	return p;
}

bool rcpt_receipt__decide(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out)
{
	bool private_area = rcpt_names__below(msg->topic, core->cfg.return_prefix,
			core->cfg.return_prefix_len) != NULL;

	if(!msg->has_correlation || msg->correlation.len == 0){
		return private_area ? refuse(core, msg, RECEIPTS_UNMATCHED_NO_CORRELATION, out) : false;
	}
	struct rcpt_pending *p = answered(core, msg);
	if(p == NULL){
		if(private_area && rcpt_network__late_verdict(core, msg, out)) return true;
		return private_area ? refuse(core, msg, RECEIPTS_UNMATCHED_NOT_PENDING, out) : false;
	}
	struct rcpt_client *sender = rcpt_clients__find(&core->clients, msg->sender.id);
	if(sender == NULL || !rcpt_pending__delivered_to(p, sender)){
		return refuse(core, msg, RECEIPTS_UNMATCHED_NOT_DELIVERED, out);
	}

	if(rcpt_network__matched(core, msg, p, sender, out)) return true;
	uint32_t payload_hash = 0;
	if(msg->qos == 2 || p->answer_waiting){
		payload_hash = rcpt_hash__bytes(RCPT_HASH_SEED, msg->payload.ptr, msg->payload.len);
	}
	if(p->answer_waiting){
		/* A QoS 2 answer waits for its PUBREL. The same answer again (a DUP
		 * after a lost PUBREC) is accepted again: the broker still holds
		 * it and forwards it once. Any other answer comes second. */
		if(msg->qos != 2 || !rcpt_qos2__answer_is(&core->qos2, p, sender, payload_hash)){
			return refuse(core, msg, RECEIPTS_UNMATCHED_ALREADY_ANSWERED, out);
		}
		out->action = RCPT_RECEIPT;
		memcpy(core->receipts.correlation, rcpt_pending__correlation(p), p->correlation_len);
		out->restore_correlation.ptr = core->receipts.correlation;
		out->restore_correlation.len = p->correlation_len;
		rcpt_host__logf(&core->host, RCPT_LOG_DEBUG, "QoS 2 answer from '%s' to '%s' sent again, accepted again",
				msg->sender.id, msg->topic);
		return true;
	}

	out->action = RCPT_RECEIPT;
	memcpy(core->receipts.correlation, rcpt_pending__correlation(p), p->correlation_len);
	out->restore_correlation.ptr = core->receipts.correlation;
	out->restore_correlation.len = p->correlation_len;
	rcpt_host__logf(&core->host, RCPT_LOG_DEBUG, "receipt 'ok' from '%s' to '%s' for '%s'",
			msg->sender.id, msg->topic, p->requester->id);
	if(msg->qos == 2){
		/* It reaches the requester at PUBREL, which may never come: the
		 * request ends then (rcpt_core__answer_stored). */
		out->pending = p;
		out->answer_by = sender;
		out->answer_hash = payload_hash;
		return true;
	}
	rcpt_life__finish(core, p, RCPT_OUTCOME_OK, NULL, NULL);
	return true;
}
