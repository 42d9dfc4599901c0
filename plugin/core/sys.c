/*
 * $SYS gauges and counters, retained like the broker's own, sent every
 * sys_interval_s and only when they changed.
 */
#include <inttypes.h>
#include <stdio.h>

#include "internal.h"

static void publish_value(struct rcpt_core *core, size_t slot, const char *topic, uint64_t value)
{
	if(core->sys_sent_once && core->sys_published[slot] == value) return;
	char text[24];
	int len = snprintf(text, sizeof(text), "%" PRIu64, value);
	if(core->host.publish_plain(core->host.ctx, NULL, topic, text, (size_t)len, true) == RCPT_OK){
		core->sys_published[slot] = value;
	}
}

void rcpt_sys__tick(struct rcpt_core *core, uint64_t now)
{
	if(core->cfg.sys_interval_s == 0 || now < core->sys_next_ms) return;
	core->sys_next_ms = now + (uint64_t)core->cfg.sys_interval_s * 1000u;

	char topic[96];
	publish_value(core, 0, RECEIPTS_SYS_PREFIX "/pending", core->stats.pending);
	publish_value(core, 1, RECEIPTS_SYS_PREFIX "/pending-high-water", core->stats.pending_high_water);
	for(int o = 0; o < RCPT_OUTCOME_COUNT; o++){
		snprintf(topic, sizeof(topic), RECEIPTS_SYS_PREFIX "/totals/%s", rcpt_outcome__name(o));
		publish_value(core, 2 + (size_t)o, topic, core->stats.totals[o]);
	}
	core->sys_sent_once = true;
}
