/*
 * Scenario 3: a million pending requests, then all of them expiring at once.
 *
 *  1. Memory: the broker's VmRSS after the fill minus before, per pending
 *     request, and the same net of the return topic and correlation bytes the
 *     plugin must keep anyway.
 *  2. Mass expiry: every request was given the timeout that makes it end at
 *     one common deadline. The probe's worst round trip from just before the
 *     deadline until the last timeout receipt is the longest the broker loop
 *     stalled; the fillers count the receipts (exactly one per request) and
 *     the time from the deadline to the last one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fill.h"
#include "probe.h"
#include "proc.h"

int scale_main(const struct bench_opts *o)
{
	mq_init();
	static struct fill fl;
	struct probe pr;
	int rc = 2;
	if(fill_open(&fl, o, o->connections)) goto out_fill;
	if(probe_start(&pr, o->host, o->port)) goto out_fill;
	fill_poll(&fl, 300, 0);
	long long rss0 = proc_rss_bytes(o->broker_pid);

	uint64_t t_fill0 = now_ns();
	uint64_t deadline = t_fill0 + (uint64_t)(o->deadline_s * 1e9);
	rc = 1;
	if(fill_send(&fl, o->count, deadline, 0)) goto out;
	uint64_t t_fill1 = now_ns();
	/* Let the broker finish with the last requests before reading memory. */
	fill_poll(&fl, 300, 0);
	long long rss1 = proc_rss_bytes(o->broker_pid);
	uint64_t early = fl.receipts;

	/* Wait for the deadline, then for every receipt (bounded). */
	while(!bench_stop && now_ns() < deadline) fill_poll(&fl, 10, 0);
	uint64_t wait_ms = 60000 + (uint64_t)o->count / 10;
	fill_poll(&fl, (int)wait_ms, (uint64_t)o->count);
	fill_poll(&fl, 200, 0);   /* a duplicate would show up here */
	uint64_t t_end = now_ns();
	probe_stop(&pr);

	uint64_t sent, missing, dups, unexpected;
	fill_check(&fl, &sent, &missing, &dups, &unexpected);
	uint64_t last = fl.last_ns ? fl.last_ns : t_end;
	/* Idle: the pending table full and quiet, before the deadline. */
	uint64_t idle_from = t_fill1 + 500000000u, idle_to = deadline - 200000000u;
	double idle_max_ms = idle_to > idle_from ? (double)probe_max_rtt(&pr, idle_from, idle_to) / 1e6 : -1;
	double stall_ms = (double)probe_max_rtt(&pr, deadline - 50000000u, last + 50000000u) / 1e6;
	double fill_max_ms = (double)probe_max_rtt(&pr, t_fill0, t_fill1) / 1e6;
	double per = rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) / (double)o->count : -1;
	bool one = sent == (uint64_t)o->count && missing == 0 && dups == 0 && unexpected == 0 && fl.other == 0
			&& fl.timeouts == (uint64_t)o->count && early == 0;
	printf("BENCH {\"scenario\":\"scale\",\"run\":%d,\"mode\":\"%s\",\"count\":%ld,\"connections\":%d,"
			"\"fill_s\":%.3f,\"fill_rate\":%.0f,\"rss_before\":%lld,\"rss_after\":%lld,"
			"\"bytes_per_pending\":%.1f,\"key_bytes\":%zu,\"net_bytes_per_pending\":%.1f,"
			"\"idle_probe_max_ms\":%.3f,\"fill_probe_max_ms\":%.3f,\"stall_ms\":%.3f,"
			"\"first_receipt_ms\":%.1f,\"drain_ms\":%.1f,\"timeouts\":%llu,\"missing\":%llu,\"dups\":%llu,"
			"\"other_receipts\":%llu,\"early_receipts\":%llu,\"exactly_one\":%s}\n",
			o->run, o->mode, o->count, fl.nf, (double)(t_fill1 - t_fill0) / 1e9,
			(double)o->count / ((double)(t_fill1 - t_fill0) / 1e9), rss0, rss1, per, fill_key_bytes(&fl),
			per - (double)fill_key_bytes(&fl), idle_max_ms, fill_max_ms, stall_ms,
			fl.first_ns ? ((double)fl.first_ns - (double)deadline) / 1e6 : -1,
			fl.last_ns ? ((double)fl.last_ns - (double)deadline) / 1e6 : -1,
			(unsigned long long)fl.timeouts, (unsigned long long)missing, (unsigned long long)dups,
			(unsigned long long)fl.other, (unsigned long long)early, one ? "true" : "false");
	fflush(stdout);
	if(!one){
		fprintf(stderr, "rcpt-bench: FAIL scale: sent %llu of %ld, timeouts %llu, missing %llu, duplicate %llu, "
				"unexpected %llu, other receipts %llu (first: %s), before the deadline %llu\n",
				(unsigned long long)sent, o->count, (unsigned long long)fl.timeouts,
				(unsigned long long)missing, (unsigned long long)dups, (unsigned long long)unexpected,
				(unsigned long long)fl.other, fl.other_kind, (unsigned long long)early);
	}
	rc = one ? 0 : 1;
	probe_free(&pr);
	fill_close(&fl);
	mosquitto_lib_cleanup();
	return rc;
out:
	probe_stop(&pr);
	probe_free(&pr);
out_fill:
	if(rc == 2) fprintf(stderr, "rcpt-bench: scale: could not set up the clients\n");
	fill_close(&fl);
	mosquitto_lib_cleanup();
	return rc;
}
