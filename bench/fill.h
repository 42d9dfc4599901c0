/*
 * Filling the broker with pending requests that nobody answers: several
 * requester connections publish QoS 0 requests to req/fill, where one
 * subscriber receives and ignores them (a request that reaches no subscriber
 * would end at once as no-responders). The fillers then count the broker's
 * receipts, one per request.
 */
#ifndef RCPT_BENCH_FILL_H
#define RCPT_BENCH_FILL_H

#include "bench.h"
#include "corr.h"
#include "ledger.h"
#include "mq.h"

#define FILL_MAX_CONN 32

struct filler {
	struct mq_client c;
	char rtopic[96];
	struct ledger led;
	struct corr_codec corr;    /* how seq becomes Correlation Data (default: as is) */
};

struct fill {
	struct filler f[FILL_MAX_CONN];
	int nf;
	struct mq_client ignorer;
	struct mq_client *all[FILL_MAX_CONN + 1];
	int nall;
	uint64_t ignored;          /* requests the ignorer received */
	uint64_t receipts;         /* receipts of any kind */
	uint64_t timeouts;         /* receipt: timeout */
	uint64_t cancelled;        /* receipt: cancelled */
	uint64_t other;            /* any other receipt (rejected, no-responders...) */
	char other_kind[64];       /* the first other kind seen, for the failure line */
	uint64_t first_ns, last_ns;   /* first and last receipt */
};

/* Connects the ignorer and nconn fillers. 0: ok. */
int fill_open(struct fill *fl, const struct bench_opts *o, int nconn);
/* Every filler's Correlation Data from now on: kind, with run_key for CORR_RANDOM. */
void fill_set_corr(struct fill *fl, enum corr_kind kind, uint64_t run_key);
/* Sends count requests whose deadlines all fall at deadline_ns (CLOCK_MONOTONIC)
 * when it is not 0, or that each carry timeout_ms. Returns 0 once every request
 * has reached the ignorer; -1 on failure or when the deadline came too close. */
int fill_send(struct fill *fl, long count, uint64_t deadline_ns, unsigned timeout_ms);
/* Polls the clients for up to ms milliseconds, or until `until_receipts`
 * receipts arrived (0: just wait). */
void fill_poll(struct fill *fl, int ms, uint64_t until_receipts);
/* Exactly-one counters over all fillers. */
void fill_check(const struct fill *fl, uint64_t *sent, uint64_t *missing, uint64_t *dups, uint64_t *unexpected);
/* Bytes of return topic plus correlation data per request. */
size_t fill_key_bytes(const struct fill *fl);
void fill_close(struct fill *fl);

#endif
