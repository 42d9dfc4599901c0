/*
 * mosquitto-receipts benchmark: shared declarations.
 *
 * One executable, rcpt-bench, with a subcommand per scenario. Each scenario
 * prints exactly one machine-readable line "BENCH {json}" on stdout; bench/run.sh
 * collects them and `rcpt-bench report` turns them into the table.
 */
#ifndef RCPT_BENCH_H
#define RCPT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds: every latency is measured with it. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps ms milliseconds (usleep is not in POSIX 2008, which the build asks for). */
static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Command-line options shared by the scenarios (each reads what it needs). */
struct bench_opts {
	const char *host;
	int port;
	int broker_pid;        /* for CPU and memory readings; 0: none */
	const char *mode;      /* plugin | plain | nats | state | nostate */
	int run;               /* run number, copied into the BENCH line */
	int qos;
	int requesters;
	int responders;
	int inflight;          /* requests in flight per requester */
	double duration_s;     /* measured phase */
	double warmup_s;
	long count;            /* pass-through messages, scale/persist pending requests */
	int connections;       /* scale/persist: requester connections used to fill */
	double deadline_s;     /* scale: all requests expire this long after the fill starts */
	double probe_s;        /* persist: how long the probe runs after the fill */
	int payload;           /* bytes per message */
	const char *corr;      /* hostile-collide: Correlation Data, random | crafted (corr.h) */
	const char *user;      /* hostile-cancel: the username of a control user */
	int responder_port;    /* rr: responders on another broker (bridge); 0: --port */
	const char *scenario;  /* the BENCH line's scenario name: rr, or bridge */
};

void bench_opts_default(struct bench_opts *o);

/* Scenarios: each returns the process exit code (0: ran and the checks held). */
int rr_main(const struct bench_opts *o);
int nats_rr_main(const struct bench_opts *o);
int passthrough_main(const struct bench_opts *o);
int scale_main(const struct bench_opts *o);
int persist_main(const struct bench_opts *o);
int hostile_collide_main(const struct bench_opts *o);
int hostile_fanout_main(const struct bench_opts *o);
int hostile_cancel_main(const struct bench_opts *o);
int report_main(int argc, char **argv);

/* Stops a scenario early on SIGINT/SIGTERM (run.sh's cleanup). */
extern volatile int bench_stop;

#endif
