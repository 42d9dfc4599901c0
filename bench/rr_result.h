/* The result of one round-trip run, MQTT or NATS, and its BENCH line. */
#ifndef RCPT_BENCH_RR_RESULT_H
#define RCPT_BENCH_RR_RESULT_H

#include "bench.h"
#include "ledger.h"
#include "stats.h"

struct rr_result {
	uint64_t completed;      /* answers received inside the measured window */
	double window_s;
	double cpu_s;            /* broker utime+stime over the window; <0 unknown */
	struct samples lat_ns;   /* round trips completed inside the window */
	uint64_t sent, missing, dups, unexpected;
	uint64_t bad_receipt;    /* plugin mode: answer without `receipt: ok`; plain: with one */
};

/* Adds one requester's ledger to the exactly-one counters. */
void rr_result_add_ledger(struct rr_result *r, const struct ledger *l);
/* Prints the BENCH line (and a FAIL line on stderr); returns 0 when every
 * request got exactly one good answer and at least one completed. */
int rr_result_print(struct rr_result *r, const struct bench_opts *o);

#endif
