/*
 * Numbers for operators (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "receipts.h"
#include "stats.h"

static const char *const outcome_names[RCPT_OUTCOME_COUNT] = {
	[RCPT_OUTCOME_OK] = RECEIPTS_STATUS_OK,
	[RCPT_OUTCOME_TIMEOUT] = RECEIPTS_STATUS_TIMEOUT,
	[RCPT_OUTCOME_NO_RESPONDERS] = RECEIPTS_STATUS_NO_RESPONDERS,
	[RCPT_OUTCOME_RESPONDER_GONE] = RECEIPTS_STATUS_RESPONDER_GONE,
	[RCPT_OUTCOME_REJECTED] = RECEIPTS_STATUS_REJECTED,
	[RCPT_OUTCOME_CANCELLED] = RECEIPTS_STATUS_CANCELLED,
	[RCPT_OUTCOME_UNMATCHED] = "unmatched",
	[RCPT_OUTCOME_ABANDONED] = "abandoned",
};

const char *const rcpt_stats__reject_reasons[RCPT_REJECT_REASON_COUNT] = {
	RECEIPTS_REJECT_BAD_AREA,
	RECEIPTS_REJECT_BAD_RETURN_TOPIC,
	RECEIPTS_REJECT_BAD_RETURN_AREA,
	RECEIPTS_REJECT_FOREIGN_RETURN_AREA,
	RECEIPTS_REJECT_BAD_CLIENT_ID,
	RECEIPTS_REJECT_OVER_QUOTA,
	RECEIPTS_REJECT_BAD_TIMEOUT,
	RECEIPTS_REJECT_CORRELATION_TOO_LONG,
	RECEIPTS_REJECT_AMBIGUOUS,
	RECEIPTS_REJECT_RETAINED,
	RECEIPTS_REJECT_NO_MEMORY,
	RECEIPTS_REJECT_TOPIC_TOO_SHORT,
	RECEIPTS_REJECT_NOT_AUTHORIZED,
	RECEIPTS_REJECT_RETURN_NOT_WRITABLE,
	RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG,
	RECEIPTS_REJECT_RESENT,
};

const char *rcpt_stats__outcome_name(enum rcpt_outcome o)
{
	return (unsigned)o < RCPT_OUTCOME_COUNT ? outcome_names[o] : "?";
}

void rcpt_stats__pending_added(struct rcpt_stats *s)
{
	s->pending++;
	if(s->pending > s->pending_high_water) s->pending_high_water = s->pending;
}

void rcpt_stats__pending_removed(struct rcpt_stats *s)
{
	s->pending--;
}

void rcpt_stats__count(struct rcpt_stats *s, enum rcpt_outcome o)
{
	if((unsigned)o < RCPT_OUTCOME_COUNT) s->totals[o]++;
}

void rcpt_stats__rejected(struct rcpt_stats *s, const char *reason)
{
	s->totals[RCPT_OUTCOME_REJECTED]++;
	for(size_t i = 0; i < RCPT_REJECT_REASON_COUNT; i++){
		if(!strcmp(rcpt_stats__reject_reasons[i], reason)){
			s->rejected_by_reason[i]++;
			return;
		}
	}
}

void rcpt_stats__record_latency(struct rcpt_stats *s, uint64_t ms)
{
	s->latency.ring[s->latency.next % RCPT_LATENCY_WINDOW] = (uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms);
	s->latency.next++;
}

size_t rcpt_stats__latency_samples(const struct rcpt_stats *s)
{
	return s->latency.next < RCPT_LATENCY_WINDOW ? (size_t)s->latency.next : RCPT_LATENCY_WINDOW;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

bool rcpt_stats__latency(const struct rcpt_stats *s, uint32_t *p50, uint32_t *p99)
{
	size_t n = rcpt_stats__latency_samples(s);
	if(n == 0) return false;
	uint32_t sorted[RCPT_LATENCY_WINDOW];
	memcpy(sorted, s->latency.ring, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), compare_u32);
	*p50 = sorted[(n * 50 + 99) / 100 - 1];
	*p99 = sorted[(n * 99 + 99) / 100 - 1];
	return true;
}
