/*
 * Hostile 1: hash flooding. `count` pending requests from the fillers with
 * Correlation Data of one kind (--corr random|crafted, see corr.h), each
 * with a timeout that outlives the run. run.sh runs it on two fresh brokers
 * with the plugin, one per kind; the target is the crafted accept rate over
 * the random one.
 *
 *   accept rate   requests per second from the first publish until the
 *                 ignorer (the area's subscriber) has received them all: the
 *                 broker accepts, tracks and delivers each in turn
 *   drop CPU      broker CPU (ms) from the fillers' disconnects until the
 *                 broker is idle again: their clean sessions end and every
 *                 pending request is dropped, each one a removal from the table
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fill.h"
#include "proc.h"

#define COLLIDE_TIMEOUT_MS 290000u

/* The crafted correlations must really collide under the hash they attack:
 * check a sample against the reproduced hash before sending any. */
static bool crafted_collide(const struct fill *fl)
{
	for(int i = 0; i < fl->nf; i++){
		const struct filler *f = &fl->f[i];
		for(uint64_t seq = 0; seq < 1000; seq++){
			uint64_t w = corr_encode(&f->corr, seq);
			if(corr_decode(&f->corr, w) != seq
					|| corr_old_key_hash(f->rtopic, strlen(f->rtopic), &w, 8) != CORR_CRAFTED_TARGET){
				return false;
			}
		}
	}
	return true;
}

int hostile_collide_main(const struct bench_opts *o)
{
	int kind = corr_kind_parse(o->corr);
	if(kind < 0){
		fprintf(stderr, "rcpt-bench: hostile-collide: --corr must be seq, random or crafted\n");
		return 2;
	}
	mq_init();
	static struct fill fl;
	int rc = 2;
	if(fill_open(&fl, o, o->connections)) goto out;
	fill_set_corr(&fl, (enum corr_kind)kind, now_ns() ^ ((uint64_t)getpid() << 32));
	if(kind == CORR_CRAFTED && !crafted_collide(&fl)){
		fprintf(stderr, "rcpt-bench: hostile-collide: crafted correlations do not collide (bench bug)\n");
		goto out;
	}
	fill_poll(&fl, 300, 0);
	long long rss0 = proc_rss_bytes(o->broker_pid);
	rc = 1;
	uint64_t t0 = now_ns();
	if(fill_send(&fl, o->count, 0, COLLIDE_TIMEOUT_MS)) goto out;
	uint64_t t1 = now_ns();
	fill_poll(&fl, 300, 0);   /* a refusal's receipt would show up here */
	long long rss1 = proc_rss_bytes(o->broker_pid);
	uint64_t receipts = fl.receipts;
	/* No receipt is due yet: `missing` counts every request and `dups` none. */
	uint64_t sent, missing, dups, unexpected;
	fill_check(&fl, &sent, &missing, &dups, &unexpected);

	double cpu0 = proc_wait_idle(o->broker_pid, 200, 10000);
	for(int i = 0; i < fl.nf; i++) mq_close(&fl.f[i].c);
	double cpu1 = proc_wait_idle(o->broker_pid, 300, 120000);

	double fill_s = (double)(t1 - t0) / 1e9;
	double per = rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) / (double)o->count : -1;
	/* Every request accepted and delivered, none refused or ended early. */
	bool ok = sent == (uint64_t)o->count && receipts == 0 && unexpected == 0;
	printf("BENCH {\"scenario\":\"hostile-collide\",\"run\":%d,\"mode\":\"%s\",\"count\":%ld,\"connections\":%d,"
			"\"fill_s\":%.3f,\"accept_rate\":%.0f,\"bytes_per_pending\":%.1f,\"drop_cpu_ms\":%.1f,"
			"\"receipts\":%llu,\"exactly_one\":%s}\n",
			o->run, o->corr, o->count, fl.nf, fill_s, (double)o->count / fill_s, per,
			cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1, (unsigned long long)receipts, ok ? "true" : "false");
	fflush(stdout);
	if(!ok){
		fprintf(stderr, "rcpt-bench: FAIL hostile-collide (%s): sent %llu of %ld, receipts %llu (first other: %s), "
				"unexpected %llu\n", o->corr, (unsigned long long)sent, o->count, (unsigned long long)receipts,
				fl.other_kind, (unsigned long long)unexpected);
	}
	rc = ok ? 0 : 1;
out:
	if(rc == 2) fprintf(stderr, "rcpt-bench: hostile-collide: could not set up the clients\n");
	fill_close(&fl);
	mosquitto_lib_cleanup();
	return rc;
}
