#include <stdio.h>

#include "rr_result.h"

void rr_result_add_ledger(struct rr_result *r, const struct ledger *l)
{
	r->sent += l->next;
	r->missing += ledger_missing(l);
	r->dups += l->dups;
	r->unexpected += l->unexpected;
}

int rr_result_print(struct rr_result *r, const struct bench_opts *o)
{
	bool one = r->missing == 0 && r->dups == 0 && r->unexpected == 0 && r->bad_receipt == 0 && r->completed > 0;
	double rps = r->window_s > 0 ? (double)r->completed / r->window_s : 0;
	double p50 = (double)samples_quantile(&r->lat_ns, 0.50) / 1000.0;
	double p99 = (double)samples_quantile(&r->lat_ns, 0.99) / 1000.0;
	double max = (double)samples_max(&r->lat_ns) / 1000.0;
	double cpu_us = r->cpu_s >= 0 && r->completed ? r->cpu_s * 1e6 / (double)r->completed : -1;
	printf("BENCH {\"scenario\":\"%s\",\"run\":%d,\"mode\":\"%s\",\"qos\":%d,\"requesters\":%d,"
			"\"responders\":%d,\"inflight\":%d,\"window_s\":%.3f,\"round_trips\":%llu,\"rps\":%.1f,"
			"\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"broker_cpu_us_per_rt\":%.3f,"
			"\"sent\":%llu,\"missing\":%llu,\"dups\":%llu,\"unexpected\":%llu,\"bad_receipt\":%llu,"
			"\"exactly_one\":%s}\n",
			o->scenario, o->run, o->mode, o->qos, o->requesters, o->responders, o->inflight, r->window_s,
			(unsigned long long)r->completed, rps, p50, p99, max, cpu_us,
			(unsigned long long)r->sent, (unsigned long long)r->missing, (unsigned long long)r->dups,
			(unsigned long long)r->unexpected, (unsigned long long)r->bad_receipt, one ? "true" : "false");
	fflush(stdout);
	if(!one){
		fprintf(stderr, "rcpt-bench: FAIL rr %s qos %d %dx%d@%d: sent %llu, missing %llu, duplicate %llu, "
				"unexpected %llu, bad receipt property %llu, completed %llu\n",
				o->mode, o->qos, o->requesters, o->responders, o->inflight,
				(unsigned long long)r->sent, (unsigned long long)r->missing, (unsigned long long)r->dups,
				(unsigned long long)r->unexpected, (unsigned long long)r->bad_receipt,
				(unsigned long long)r->completed);
	}
	samples_free(&r->lat_ns);
	return one ? 0 : 1;
}
