/*
 * $SYS gauges and counters (see the header).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "receipts.h"
#include "sys.h"

void rcpt_sys__init(struct rcpt_sys *sys, uint32_t interval_s)
{
	memset(sys, 0, sizeof(*sys));
	sys->interval_s = interval_s;
}

static void publish_value(struct rcpt_sys *sys, const struct rcpt_host *host, size_t slot, const char *topic,
		uint64_t value)
{
	if(sys->sent_once && sys->published[slot] == value) return;
	char text[24];
	int len = snprintf(text, sizeof(text), "%" PRIu64, value);
	if(host->publish_plain(host->ctx, NULL, topic, text, (size_t)len, true) == RCPT_OK){
		sys->published[slot] = value;
	}
}

void rcpt_sys__tick(struct rcpt_sys *sys, const struct rcpt_host *host, const struct rcpt_stats *stats, uint64_t now)
{
	if(sys->interval_s == 0 || now < sys->next_ms) return;
	sys->next_ms = now + (uint64_t)sys->interval_s * 1000u;

	char topic[96];
	publish_value(sys, host, 0, RECEIPTS_SYS_PREFIX "/pending", stats->pending);
	publish_value(sys, host, 1, RECEIPTS_SYS_PREFIX "/pending-high-water", stats->pending_high_water);
	for(int o = 0; o < RCPT_OUTCOME_COUNT; o++){
		snprintf(topic, sizeof(topic), RECEIPTS_SYS_PREFIX "/totals/%s", rcpt_stats__outcome_name(o));
		publish_value(sys, host, 2 + (size_t)o, topic, stats->totals[o]);
	}
	sys->sent_once = true;
}
