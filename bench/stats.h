/* Latency samples and order statistics. */
#ifndef RCPT_BENCH_STATS_H
#define RCPT_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* A growable array of samples (nanoseconds, or any unsigned quantity). */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

int samples_add(struct samples *s, uint64_t x);
void samples_free(struct samples *s);
/* Sorts in place, then returns the q-quantile (0..1), nearest rank; 0 when empty. */
uint64_t samples_quantile(struct samples *s, double q);
uint64_t samples_max(const struct samples *s);

/* Median, min and max of a small set of doubles (the runs); sorts in place. */
double median_d(double *v, size_t n);
double min_d(const double *v, size_t n);
double max_d(const double *v, size_t n);

#endif
