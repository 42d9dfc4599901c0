/*
 * Numbers for operators, kept in one place: pending gauges, how each
 * request ended, refusals by reason, and how long receipts take. Every
 * counter changes through these functions only.
 */
#ifndef RCPT_STATS_H
#define RCPT_STATS_H

#include "types.h"

enum rcpt_outcome {
	RCPT_OUTCOME_OK,
	RCPT_OUTCOME_TIMEOUT,
	RCPT_OUTCOME_NO_RESPONDERS,
	RCPT_OUTCOME_RESPONDER_GONE,
	RCPT_OUTCOME_REJECTED,
	RCPT_OUTCOME_CANCELLED,
	RCPT_OUTCOME_UNMATCHED,
	RCPT_OUTCOME_ABANDONED,
	RCPT_OUTCOME_COUNT
};

/* Refusal reasons counted in getStats' rejectedByReason, in its order. */
#define RCPT_REJECT_REASON_COUNT 16
extern const char *const rcpt_stats__reject_reasons[RCPT_REJECT_REASON_COUNT];

/* Receipt latencies kept for the percentiles. */
#define RCPT_LATENCY_WINDOW 1024

struct rcpt_stats {
	uint64_t pending;
	uint64_t pending_high_water;
	uint64_t totals[RCPT_OUTCOME_COUNT];
	uint64_t rejected_by_reason[RCPT_REJECT_REASON_COUNT];
	struct {
		uint32_t ring[RCPT_LATENCY_WINDOW];   /* ms from request to receipt */
		uint64_t next;
	} latency;
};

const char *rcpt_stats__outcome_name(enum rcpt_outcome o);

void rcpt_stats__pending_added(struct rcpt_stats *s);
void rcpt_stats__pending_removed(struct rcpt_stats *s);
/* A request ended (or a receipt was refused: RCPT_OUTCOME_UNMATCHED). */
void rcpt_stats__count(struct rcpt_stats *s, enum rcpt_outcome o);
/* A request was refused: counted as `rejected` and by its reason. */
void rcpt_stats__rejected(struct rcpt_stats *s, const char *reason);
void rcpt_stats__record_latency(struct rcpt_stats *s, uint64_t ms);
/* Nearest-rank percentiles over the last RCPT_LATENCY_WINDOW receipts.
 * False when no receipt has been timed yet. */
bool rcpt_stats__latency(const struct rcpt_stats *s, uint32_t *p50, uint32_t *p99);
size_t rcpt_stats__latency_samples(const struct rcpt_stats *s);

#endif
