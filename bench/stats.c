/*
 * Order statistics. Samples are sorted once and read by nearest rank: with
 * tens of thousands of samples per run, interpolation would add nothing.
 */
#include <stdlib.h>

#include "stats.h"

int samples_add(struct samples *s, uint64_t x)
{
	if(s->n == s->cap){
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if(v == NULL) return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

uint64_t samples_quantile(struct samples *s, double q)
{
	if(s->n == 0) return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	size_t rank = (size_t)(q * (double)s->n);
	if(rank >= s->n) rank = s->n - 1;
	return s->v[rank];
}

uint64_t samples_max(const struct samples *s)
{
	uint64_t m = 0;
	for(size_t i = 0; i < s->n; i++) if(s->v[i] > m) m = s->v[i];
	return m;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double median_d(double *v, size_t n)
{
	if(n == 0) return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double min_d(const double *v, size_t n)
{
	double m = n ? v[0] : 0;
	for(size_t i = 1; i < n; i++) if(v[i] < m) m = v[i];
	return m;
}

double max_d(const double *v, size_t n)
{
	double m = n ? v[0] : 0;
	for(size_t i = 1; i < n; i++) if(v[i] > m) m = v[i];
	return m;
}
