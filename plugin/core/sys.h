/*
 * $SYS gauges and counters, retained like the broker's own, sent every
 * sys_interval_s and only when they changed.
 */
#ifndef RCPT_SYS_H
#define RCPT_SYS_H

#include "host.h"
#include "stats.h"

struct rcpt_sys {
	uint32_t interval_s;       /* 0: no $SYS topics */
	uint64_t next_ms;
	uint64_t published[2 + RCPT_OUTCOME_COUNT];   /* last values sent, to send only changes */
	bool sent_once;
};

void rcpt_sys__init(struct rcpt_sys *sys, uint32_t interval_s);
void rcpt_sys__tick(struct rcpt_sys *sys, const struct rcpt_host *host, const struct rcpt_stats *stats, uint64_t now);

#endif
