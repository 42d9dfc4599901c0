/*
 * Numbers for operators: refusals by reason and how long receipts take.
 */
#include <stdlib.h>

#include "internal.h"

const char *const rcpt_reject_reasons[RCPT_REJECT_REASON_COUNT] = {
	RECEIPTS_REJECT_BAD_AREA,
	RECEIPTS_REJECT_BAD_RETURN_TOPIC,
	RECEIPTS_REJECT_BAD_RETURN_AREA,
	RECEIPTS_REJECT_FOREIGN_RETURN_AREA,
	RECEIPTS_REJECT_BAD_CLIENT_ID,
	RECEIPTS_REJECT_DUPLICATE,
	RECEIPTS_REJECT_OVER_QUOTA,
	RECEIPTS_REJECT_BAD_TIMEOUT,
	RECEIPTS_REJECT_CORRELATION_TOO_LONG,
	RECEIPTS_REJECT_AMBIGUOUS,
	RECEIPTS_REJECT_RETAINED,
	RECEIPTS_REJECT_NO_MEMORY,
	RECEIPTS_REJECT_TOPIC_TOO_SHORT,
};

void rcpt_stats__rejected(struct rcpt_core *core, const char *reason)
{
	core->stats.totals[RCPT_OUTCOME_REJECTED]++;
	for(size_t i = 0; i < RCPT_REJECT_REASON_COUNT; i++){
		if(!strcmp(rcpt_reject_reasons[i], reason)){
			core->rejected_by_reason[i]++;
			return;
		}
	}
}

void rcpt_stats__record_latency(struct rcpt_core *core, uint64_t ms)
{
	core->latency.ring[core->latency.next % RCPT_LATENCY_WINDOW] = (uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms);
	core->latency.next++;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentiles over the last RCPT_LATENCY_WINDOW answers. */
bool rcpt_stats__latency(const struct rcpt_core *core, uint32_t *p50, uint32_t *p99)
{
	size_t n = core->latency.next < RCPT_LATENCY_WINDOW ? (size_t)core->latency.next : RCPT_LATENCY_WINDOW;
	if(n == 0) return false;
	uint32_t sorted[RCPT_LATENCY_WINDOW];
	memcpy(sorted, core->latency.ring, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), compare_u32);
	*p50 = sorted[(n * 50 + 99) / 100 - 1];
	*p99 = sorted[(n * 99 + 99) / 100 - 1];
	return true;
}
