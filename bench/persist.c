/*
 * Scenario 4: does saving the state file stall the broker loop? The broker
 * holds `count` pending requests (long timeouts) while the probe runs for
 * probe_s seconds; the probe's own requests end one by one, so the table keeps
 * changing and a snapshot is due every save_interval_s. run.sh runs it against
 * a broker with plugin_opt_state_file (mode state) and one without (nostate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fill.h"
#include "probe.h"

/* Long enough to outlive the run: these requests are never meant to end. */
#define PERSIST_TIMEOUT_MS 300000u

int persist_main(const struct bench_opts *o)
{
	mq_init();
	static struct fill fl;
	struct probe pr;
	int rc = 2;
	if(fill_open(&fl, o, o->connections)) goto out_fill;
	uint64_t t0 = now_ns();
	rc = 1;
	if(fill_send(&fl, o->count, 0, PERSIST_TIMEOUT_MS)) goto out_fill;
	double fill_s = (double)(now_ns() - t0) / 1e9;
	if(probe_start(&pr, o->host, o->port)){
		rc = 2;
		goto out_fill;
	}
	uint64_t p0 = now_ns();
	fill_poll(&fl, (int)(o->probe_s * 1000), 0);
	uint64_t p1 = now_ns();
	probe_stop(&pr);
	uint64_t p50 = 0, p99 = 0;
	size_t n = probe_count(&pr, p0, p1, 0.99, &p99);
	probe_count(&pr, p0, p1, 0.50, &p50);
	double max_ms = (double)probe_max_rtt(&pr, p0, p1) / 1e6;
	/* Nothing may end these requests during the run. */
	bool ok = fl.receipts == 0 && n > 0;
	printf("BENCH {\"scenario\":\"persist\",\"run\":%d,\"mode\":\"%s\",\"pending\":%ld,\"fill_s\":%.3f,"
			"\"probe_s\":%.3f,\"probes\":%zu,\"probe_p50_us\":%.1f,\"probe_p99_us\":%.1f,\"probe_max_ms\":%.3f,"
			"\"receipts\":%llu,\"ok\":%s}\n",
			o->run, o->mode, o->count, fill_s, (double)(p1 - p0) / 1e9, n, (double)p50 / 1e3,
			(double)p99 / 1e3, max_ms, (unsigned long long)fl.receipts, ok ? "true" : "false");
	fflush(stdout);
	if(!ok) fprintf(stderr, "rcpt-bench: FAIL persist %s: %llu unexpected receipts (first: %s), %zu probes\n",
			o->mode, (unsigned long long)fl.receipts, fl.other_kind, n);
	rc = ok ? 0 : 1;
	probe_free(&pr);
out_fill:
	if(rc == 2) fprintf(stderr, "rcpt-bench: persist: could not set up the clients\n");
	fill_close(&fl);
	mosquitto_lib_cleanup();
	return rc;
}
