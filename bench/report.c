/*
 * `rcpt-bench report FILE...`: reads the BENCH lines of a whole run.sh run
 * and prints the table: each figure as the median and [min..max] over runs,
 * and every target as a ratio of two cells measured in the same run (plugin
 * over no plugin), so that drift between runs cancels out.
 *
 * Exit status: 0 when every run held its check (exactly one answer per
 * request, every message arrived); 1 otherwise. Missed targets do not change
 * it: they are marked MISS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench.h"
#include "stats.h"

#define MAX_RUNS 256

static cJSON **recs;
static size_t nrecs;

struct sel {
	const char *scenario, *mode;
	int qos;                      /* -1: any */
	int requesters, responders, inflight;   /* 0: any */
};

static double num(const cJSON *r, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *r, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool flag(const cJSON *r, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, k));
}

static bool match(const cJSON *r, const struct sel *s)
{
	if(strcmp(str(r, "scenario"), s->scenario)) return false;
	if(s->mode && strcmp(str(r, "mode"), s->mode)) return false;
	if(s->qos >= 0 && (int)num(r, "qos") != s->qos) return false;
	if(s->requesters && (int)num(r, "requesters") != s->requesters) return false;
	if(s->responders && (int)num(r, "responders") != s->responders) return false;
	if(s->inflight && (int)num(r, "inflight") != s->inflight) return false;
	return true;
}

/* Values of key over the runs of cell s. */
static size_t collect(const struct sel *s, const char *key, double *v)
{
	size_t n = 0;
	for(size_t i = 0; i < nrecs && n < MAX_RUNS; i++){
		if(match(recs[i], s) && num(recs[i], key) >= 0) v[n++] = num(recs[i], key);
	}
	return n;
}

/* a/b of key, pairing the cells of the same run. */
static size_t ratios(const struct sel *a, const struct sel *b, const char *key, double *v)
{
	size_t n = 0;
	for(size_t i = 0; i < nrecs && n < MAX_RUNS; i++){
		if(!match(recs[i], a)) continue;
		for(size_t j = 0; j < nrecs; j++){
			if(match(recs[j], b) && num(recs[j], "run") == num(recs[i], "run")){
				double x = num(recs[i], key), y = num(recs[j], key);
				if(x >= 0 && y > 0) v[n++] = x / y;
				break;
			}
		}
	}
	return n;
}

/* "median [min..max]" into buf. */
static const char *spread(char *buf, size_t len, double *v, size_t n, const char *fmt)
{
	if(n == 0){
		snprintf(buf, len, "-");
		return buf;
	}
	char a[24], b[24], c[24];
	double lo = min_d(v, n), hi = max_d(v, n), med = median_d(v, n);
	snprintf(a, sizeof(a), fmt, med);
	snprintf(b, sizeof(b), fmt, lo);
	snprintf(c, sizeof(c), fmt, hi);
	if(n == 1) snprintf(buf, len, "%s", a);
	else snprintf(buf, len, "%s [%s..%s]", a, b, c);
	return buf;
}

/* spread() of key over the runs of cell s. */
static const char *spread_of(const struct sel *s, const char *key, const char *fmt, char *buf, size_t len)
{
	double v[MAX_RUNS];
	return spread(buf, len, v, collect(s, key, v), fmt);
}

static int passes, misses;

static void target(const char *what, const char *cell, double *v, size_t n, const char *fmt, bool at_least,
		double goal)
{
	char buf[80], g[32];
	spread(buf, sizeof(buf), v, n, fmt);
	snprintf(g, sizeof(g), fmt, goal);
	const char *mark = "n/a";
	if(n){
		double med = median_d(v, n);
		bool ok = at_least ? med >= goal : med <= goal;
		mark = ok ? "PASS" : "MISS";
		if(ok) passes++;
		else misses++;
	}
	printf("  %-34s %-14s %-28s %s%-6s %s\n", what, cell, buf, at_least ? ">=" : "<=", g, mark);
}

static const struct { int rq, rs, inf; } cells[] = {{1, 1, 1}, {1, 1, 64}, {8, 4, 64}};
#define NCELLS (sizeof(cells) / sizeof(cells[0]))

static void cell_name(char *buf, size_t len, int i, int qos)
{
	if(qos >= 0) snprintf(buf, len, "%dx%d@%d q%d", cells[i].rq, cells[i].rs, cells[i].inf, qos);
	else snprintf(buf, len, "%dx%d@%d", cells[i].rq, cells[i].rs, cells[i].inf);
}

static void print_rr(void)
{
	double v[MAX_RUNS];
	char b1[80], b2[80], b3[80], b4[80], b5[80], name[40];
	printf("\nRound trips: requesters x responders @ in flight per requester; median [min..max] over runs\n");
	printf("  %-12s %-7s %-24s %-20s %-22s %-22s %-20s\n", "cell", "mode", "round trips/s", "p50 us", "p99 us",
			"max us", "broker CPU us/rt");
	static const char *modes[] = {"plain", "plugin", "nats"};
	for(size_t i = 0; i < NCELLS; i++){
		for(int qos = 0; qos <= 1; qos++){
			for(size_t m = 0; m < 3; m++){
				if(!strcmp(modes[m], "nats") && qos == 1) continue;
				int q = strcmp(modes[m], "nats") ? qos : -1;
				struct sel s = {"rr", modes[m], q, cells[i].rq, cells[i].rs, cells[i].inf};
				size_t n = collect(&s, "rps", v);
				if(n == 0) continue;
				spread(b1, sizeof(b1), v, n, "%.0f");
				spread_of(&s, "p50_us", "%.0f", b2, sizeof(b2));
				spread_of(&s, "p99_us", "%.0f", b3, sizeof(b3));
				spread_of(&s, "max_us", "%.0f", b4, sizeof(b4));
				spread_of(&s, "broker_cpu_us_per_rt", "%.1f", b5, sizeof(b5));
				cell_name(name, sizeof(name), (int)i, q);
				printf("  %-12s %-7s %-24s %-20s %-22s %-22s %-20s\n", name, modes[m], b1, b2, b3, b4, b5);
			}
		}
	}
}

/* The hostile scenario's targets: attacked over ordinary, in the same run. */
static void print_hostile_targets(void)
{
	double v[MAX_RUNS];
	struct sel crafted = {"hostile-collide", "crafted", -1, 0, 0, 0}, random = crafted;
	random.mode = "random";
	size_t n = ratios(&crafted, &random, "accept_rate", v);
	target("hostile: accepts/s crafted/random", "colliding", v, n, "%.3f", true, 0.9);
	struct sel fp = {"hostile-fanout", "plugin", -1, 0, 0, 0}, fn = fp;
	fn.mode = "plain";
	n = ratios(&fp, &fn, "cpu_ms", v);
	target("hostile: fan-out CPU plugin/plain", "req+disconnect", v, n, "%.3f", false, 1.2);
	struct sel hc = {"hostile-cancel", NULL, -1, 0, 0, 0};
	n = collect(&hc, "net_bytes_per_pending", v);
	target("hostile: bytes/pending beyond key", "before cancel", v, n, "%.0f", false, 200);
	n = collect(&hc, "stall_ms", v);
	target("hostile: cancel, worst probe ms", "all at once", v, n, "%.2f", false, 10);
}

/* The bridge scenario: edge-a -> core -> edge-b, plugin on all three
 * brokers or on none, in the same run. */
static void print_bridge_targets(void)
{
	double v[MAX_RUNS];
	for(int qos = 0; qos <= 1; qos++){
		struct sel a = {"bridge", "plugin", qos, 1, 1, 64}, b = a;
		b.mode = "plain";
		char name[40];
		snprintf(name, sizeof(name), "1x1@64 q%d", qos);
		size_t n = ratios(&a, &b, "rps", v);
		if(n) target("bridged round trips/s (3 brokers)", name, v, n, "%.3f", true, 0.9);
	}
}

static void print_targets(void)
{
	double v[MAX_RUNS];
	char name[40];
	printf("\nTargets: ratio plugin / no plugin in the same run, median [min..max]; mark on the median\n");
	for(size_t i = 0; i < NCELLS; i++){
		if(cells[i].inf != 64) continue;
		for(int qos = 0; qos <= 1; qos++){
			struct sel a = {"rr", "plugin", qos, cells[i].rq, cells[i].rs, cells[i].inf}, b = a;
			b.mode = "plain";
			cell_name(name, sizeof(name), (int)i, qos);
			size_t n = ratios(&a, &b, "rps", v);
			target("round trips/s, 64 in flight", name, v, n, "%.3f", true, 0.95);
		}
	}
	for(size_t i = 0; i < NCELLS; i++){
		if(cells[i].inf != 1) continue;
		for(int qos = 0; qos <= 1; qos++){
			struct sel a = {"rr", "plugin", qos, cells[i].rq, cells[i].rs, cells[i].inf}, b = a;
			b.mode = "plain";
			cell_name(name, sizeof(name), (int)i, qos);
			size_t n = ratios(&a, &b, "p50_us", v);
			target("p50 latency, 1 in flight", name, v, n, "%.3f", false, 1.05);
		}
	}
	for(size_t i = 0; i < NCELLS; i++){
		for(int qos = 0; qos <= 1; qos++){
			struct sel a = {"rr", "plugin", qos, cells[i].rq, cells[i].rs, cells[i].inf}, b = a;
			b.mode = "plain";
			cell_name(name, sizeof(name), (int)i, qos);
			size_t n = ratios(&a, &b, "broker_cpu_us_per_rt", v);
			target("broker CPU per round trip", name, v, n, "%.3f", false, 1.10);
		}
	}
	struct sel pa = {"pass", "plugin", -1, 0, 0, 0}, pb = {"pass", "plain", -1, 0, 0, 0};
	size_t n = ratios(&pa, &pb, "msgs_per_s", v);
	target("pass-through messages/s", "q0 1->1", v, n, "%.3f", true, 0.97);
	struct sel sc = {"scale", NULL, -1, 0, 0, 0};
	n = collect(&sc, "net_bytes_per_pending", v);
	target("bytes/pending beyond topic+corr", "1M pending", v, n, "%.0f", false, 200);
	n = collect(&sc, "stall_ms", v);
	target("mass expiry: worst probe ms", "1M at once", v, n, "%.2f", false, 10);
	struct sel ps = {"persist", "state", -1, 0, 0, 0};
	n = collect(&ps, "probe_max_ms", v);
	target("persistence: worst probe ms", "state file", v, n, "%.2f", false, 20);
	print_hostile_targets();
	print_bridge_targets();
}

static void print_nats(void)
{
	double v[MAX_RUNS];
	char name[40], b1[80], b2[80], b3[80];
	struct sel probe = {"rr", "nats", -1, 0, 0, 0};
	if(collect(&probe, "rps", v) == 0) return;
	printf("\nAgainst NATS (no target): plugin QoS 0 / NATS in the same run\n");
	printf("  %-12s %-26s %-26s %-26s\n", "cell", "round trips/s", "p50 latency", "broker CPU/rt");
	for(size_t i = 0; i < NCELLS; i++){
		struct sel a = {"rr", "plugin", 0, cells[i].rq, cells[i].rs, cells[i].inf}, b = a;
		b.mode = "nats";
		b.qos = -1;
		size_t n = ratios(&a, &b, "rps", v);
		spread(b1, sizeof(b1), v, n, "%.2f");
		n = ratios(&a, &b, "p50_us", v);
		spread(b2, sizeof(b2), v, n, "%.2f");
		n = ratios(&a, &b, "broker_cpu_us_per_rt", v);
		spread(b3, sizeof(b3), v, n, "%.2f");
		cell_name(name, sizeof(name), (int)i, -1);
		printf("  %-12s %-26s %-26s %-26s\n", name, b1, b2, b3);
	}
}

static void print_details(void)
{
	double v[MAX_RUNS];
	char b1[80], b2[80], b3[80], b4[80];
	static const char *modes[] = {"plain", "plugin"};
	struct sel any = {"pass", NULL, -1, 0, 0, 0};
	if(collect(&any, "msgs_per_s", v)){
		printf("\nPass-through (QoS 0, 1 publisher -> 1 subscriber)\n");
		for(int m = 0; m < 2; m++){
			struct sel s = {"pass", modes[m], -1, 0, 0, 0};
			spread_of(&s, "msgs_per_s", "%.0f", b1, sizeof(b1));
			spread_of(&s, "broker_cpu_us_per_msg", "%.2f", b2, sizeof(b2));
			printf("  %-7s messages/s %-28s broker CPU us/msg %s\n", modes[m], b1, b2);
		}
	}
	struct sel sc = {"scale", NULL, -1, 0, 0, 0};
	if(collect(&sc, "count", v)){
		printf("\nScale (%.0f pending requests, one common deadline)\n", v[0]);
		spread_of(&sc, "fill_rate", "%.0f", b1, sizeof(b1));
		spread_of(&sc, "bytes_per_pending", "%.0f", b2, sizeof(b2));
		spread_of(&sc, "net_bytes_per_pending", "%.0f", b3, sizeof(b3));
		printf("  fill rate/s %s; RSS bytes per pending %s (net of topic+correlation %s)\n", b1, b2, b3);
		spread_of(&sc, "idle_probe_max_ms", "%.2f", b1, sizeof(b1));
		spread_of(&sc, "fill_probe_max_ms", "%.2f", b2, sizeof(b2));
		spread_of(&sc, "stall_ms", "%.2f", b3, sizeof(b3));
		printf("  worst probe round trip ms: idle with the table full %s, during the fill %s, mass expiry %s\n",
				b1, b2, b3);
		spread_of(&sc, "first_receipt_ms", "%.0f", b1, sizeof(b1));
		spread_of(&sc, "drain_ms", "%.0f", b2, sizeof(b2));
		printf("  after the deadline: first timeout receipt %s ms, last %s ms\n", b1, b2);
	}
	struct sel pany = {"persist", NULL, -1, 0, 0, 0};
	if(collect(&pany, "pending", v)){
		printf("\nPersistence (%.0f pending; probe every ~1 ms while the table changes)\n", v[0]);
		static const char *pm[] = {"nostate", "state"};
		for(int m = 0; m < 2; m++){
			struct sel s = {"persist", pm[m], -1, 0, 0, 0};
			spread_of(&s, "probe_max_ms", "%.2f", b1, sizeof(b1));
			spread_of(&s, "probe_p99_us", "%.0f", b2, sizeof(b2));
			spread_of(&s, "probe_p50_us", "%.0f", b3, sizeof(b3));
			spread_of(&s, "probes", "%.0f", b4, sizeof(b4));
			printf("  %-8s worst probe ms %-24s p99 us %-18s p50 us %-16s probes %s\n", pm[m], b1, b2, b3, b4);
		}
	}
}

static void print_hostile(void)
{
	double v[MAX_RUNS];
	char b1[80], b2[80], b3[80];
	struct sel any = {"hostile-collide", NULL, -1, 0, 0, 0};
	if(collect(&any, "count", v)){
		printf("\nHostile: hash flooding (%.0f pending requests, 4 client ids; crafted: one value under the "
				"original hash)\n", v[0]);
		static const char *kinds[] = {"random", "crafted"};
		for(int k = 0; k < 2; k++){
			struct sel s = {"hostile-collide", kinds[k], -1, 0, 0, 0};
			spread_of(&s, "accept_rate", "%.0f", b1, sizeof(b1));
			spread_of(&s, "fill_s", "%.2f", b2, sizeof(b2));
			spread_of(&s, "drop_cpu_ms", "%.1f", b3, sizeof(b3));
			printf("  %-8s accepted/s %-24s in s %-20s broker CPU ms to drop them all %s\n", kinds[k], b1, b2, b3);
		}
	}
	struct sel fany = {"hostile-fanout", NULL, -1, 0, 0, 0};
	if(collect(&fany, "subscribers", v)){
		printf("\nHostile: fan-out (one request to %.0f subscribers, then their disconnects; broker CPU ms)\n", v[0]);
		static const char *modes[] = {"plain", "plugin"};
		for(int m = 0; m < 2; m++){
			struct sel s = {"hostile-fanout", modes[m], -1, 0, 0, 0};
			spread_of(&s, "cpu_request_ms", "%.1f", b1, sizeof(b1));
			spread_of(&s, "cpu_disconnect_ms", "%.1f", b2, sizeof(b2));
			spread_of(&s, "cpu_ms", "%.1f", b3, sizeof(b3));
			printf("  %-7s request %-22s disconnects %-22s total %s\n", modes[m], b1, b2, b3);
		}
	}
	struct sel hc = {"hostile-cancel", NULL, -1, 0, 0, 0};
	if(collect(&hc, "count", v)){
		printf("\nHostile: mass cancel (%.0f pending requests, one cancelPending of their area)\n", v[0]);
		spread_of(&hc, "bytes_per_pending", "%.0f", b1, sizeof(b1));
		spread_of(&hc, "net_bytes_per_pending", "%.0f", b2, sizeof(b2));
		printf("  RSS bytes per pending %s (net of topic+correlation %s)\n", b1, b2);
		spread_of(&hc, "stall_ms", "%.2f", b1, sizeof(b1));
		spread_of(&hc, "drain_ms", "%.0f", b2, sizeof(b2));
		printf("  worst probe round trip ms %s; last cancelled receipt %s ms after the command\n", b1, b2);
	}
}

static int load(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	while(getline(&line, &cap, f) > 0){
		if(strncmp(line, "BENCH ", 6)) continue;
		cJSON *j = cJSON_Parse(line + 6);
		if(j == NULL) continue;
		cJSON **r = realloc(recs, (nrecs + 1) * sizeof(*r));
		if(r == NULL){
			cJSON_Delete(j);
			break;
		}
		recs = r;
		recs[nrecs++] = j;
	}
	free(line);
	return 0;
}

int report_main(int argc, char **argv)
{
	if(argc == 0) load(stdin);
	for(int i = 0; i < argc; i++){
		FILE *f = fopen(argv[i], "r");
		if(f == NULL){
			perror(argv[i]);
			return 2;
		}
		load(f);
		fclose(f);
	}
	size_t held = 0, checked = 0;
	for(size_t i = 0; i < nrecs; i++){
		const char *sc = str(recs[i], "scenario");
		const char *k = !strcmp(sc, "pass") ? "all_arrived" : !strcmp(sc, "persist") ? "ok" : "exactly_one";
		checked++;
		if(flag(recs[i], k)) held++;
	}
	print_rr();
	print_targets();
	print_nats();
	print_details();
	print_hostile();
	printf("\n%d targets PASS, %d MISS; checks held in %zu of %zu measurements "
			"(exactly one answer per request, every message arrived)\n", passes, misses, held, checked);
	for(size_t i = 0; i < nrecs; i++) cJSON_Delete(recs[i]);
	free(recs);
	return nrecs > 0 && held == checked ? 0 : 1;
}
