/*
 * A requester's ledger: when each request left and how many answers it got,
 * indexed by the sequence number sent as Correlation Data. It is what the
 * "exactly one answer per request" check reads.
 */
#ifndef RCPT_BENCH_LEDGER_H
#define RCPT_BENCH_LEDGER_H

#include <stdint.h>
#include <stddef.h>

struct ledger {
	uint64_t *sent_ns;
	uint8_t *answers;      /* saturates at 255 */
	uint64_t next;         /* requests sent: seq 0..next-1 */
	size_t cap;
	uint64_t outstanding;  /* sent and not yet answered */
	uint64_t unexpected;   /* answers with no or unknown correlation */
	uint64_t dups;         /* second and later answers to one request */
};

/* Records a new request sent now; returns its sequence number, or UINT64_MAX
 * when out of memory. */
uint64_t ledger_send(struct ledger *l, uint64_t t_ns);
/* Records an answer; returns its round trip in ns, or 0 for an unknown
 * sequence or a duplicate (counted). */
uint64_t ledger_answer(struct ledger *l, uint64_t seq, uint64_t t_ns);
/* Requests that got no answer. */
uint64_t ledger_missing(const struct ledger *l);
void ledger_free(struct ledger *l);

#endif
