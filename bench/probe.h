/*
 * The probe: a client on its own thread doing one request/reply with itself
 * every ~1 ms (it subscribes to req/probe and answers its own requests). A
 * broker loop iteration that blocks shows up as one long round trip.
 */
#ifndef RCPT_BENCH_PROBE_H
#define RCPT_BENCH_PROBE_H

#include <pthread.h>
#include <stdint.h>

#include "mq.h"

struct probe_point {
	uint64_t sent_ns, rtt_ns;
};

struct probe {
	pthread_t th;
	const char *host;
	int port;
	volatile int stop;
	volatile int ready;      /* 1: running, -1: could not connect */
	struct mq_client c;
	char rtopic[96];
	/* Written by the probe thread only; read after probe_stop. */
	struct probe_point *pts;
	size_t n, cap;
	uint64_t outstanding_since;   /* 0: none */
};

/* Starts the probe thread and waits until it is connected. 0: ok. */
int probe_start(struct probe *p, const char *host, int port);
void probe_stop(struct probe *p);
/* Longest round trip (ns) of a probe in flight at any time within [from, to]. */
uint64_t probe_max_rtt(const struct probe *p, uint64_t from, uint64_t to);
/* Round trips sent within [from, to]; fills q with the q-quantile (ns) when asked. */
size_t probe_count(const struct probe *p, uint64_t from, uint64_t to, double quantile, uint64_t *q);
void probe_free(struct probe *p);

#endif
