/*
 * The core alone against input chosen to be expensive, on this machine:
 *   build/tests/perf/hostile_core
 * - hash flooding: 40,000 requests from 4 client ids whose 8-byte
 *   correlations all collide under the old unkeyed hash, against random ones;
 * - fan-out: one request READ-checked by N clean-session subscribers, then
 *   their disconnects;
 * - mass cancellation of 1,000,000 pending requests of one area: the
 *   command's time and the longest tick after it;
 * - memory: RSS per pending request (1,000,000 of them);
 * - journal_sync: what one ended request costs with and without it, the
 *   state file in $TMPDIR (default /tmp).
 * A real broker adds its own costs around these; bench/ measures those.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

#include "core.h"
#include "core_parts.h"
#include "old_hash.h"

/* The core's clock: the real one, plus what a measurement skips ahead
 * (to reach a periodic save without waiting for it). */
static uint64_t clock_skip_ms;

static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t clock_ms(void *ctx)
{
	(void)ctx;
	return real_ms() + clock_skip_ms;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t receipts;

static int count_receipt(void *ctx, const struct rcpt_receipt_out *r)
{
	(void)ctx;
	(void)r;
	receipts++;
	return 0;
}

static int drop_plain(void *ctx, const char *to, const char *topic, const char *payload, size_t len, bool retain)
{
	(void)ctx; (void)to; (void)topic; (void)payload; (void)len; (void)retain;
	return 0;
}

static void quiet(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* opts: NULL-terminated key, value pairs beyond the defaults. */
static struct rcpt_core *core_with(const char *const *opts)
{
	struct rcpt_host h = {.now_ms = clock_ms, .publish = count_receipt, .publish_plain = drop_plain, .log_printf = quiet};
	struct rcpt_config cfg;
	char err[200];
	if(rcpt_config__init(&cfg) || rcpt_config__set(&cfg, RECEIPTS_OPT_SYS_INTERVAL_S, "0", err, sizeof(err))
			|| rcpt_config__set(&cfg, RECEIPTS_OPT_CONTROL_USERS, "admin", err, sizeof(err))){
		exit(1);
	}
	for(; opts && opts[0]; opts += 2){
		if(rcpt_config__set(&cfg, opts[0], opts[1], err, sizeof(err))){
			fprintf(stderr, "%s\n", err);
			exit(1);
		}
	}
	struct rcpt_core *c = rcpt_core__new(&h, &cfg);
	if(c == NULL) exit(1);
	return c;
}

static struct rcpt_core *core_new(void)
{
	return core_with(NULL);
}

static char message_key;   /* the stored message, as the broker's topic pointer */

/* A request stored and read by one recipient; false when refused. token
 * (16 bytes) gets what the recipient answers with, when not NULL. */
static bool request_token(struct rcpt_core *c, const char *id, const char *rt, const void *corr, size_t corr_len,
		uint8_t *token)
{
	struct rcpt_publish m = {.sender = {.id = id}, .topic = "req/A", .qos = 1,
		.has_response_topic = true, .response_topic = rt, .has_correlation = true, .correlation = {corr, corr_len}};
	struct rcpt_decision d;
	rcpt_core__on_publish(c, &m, &d);
	if(d.action != RCPT_REQUEST) return false;
	if(token) memcpy(token, d.add_correlation.ptr, d.add_correlation.len);
	rcpt_core__request_stored(c, d.pending, &message_key, "req/A");
	rcpt_core__on_read(c, &message_key, "req/A", false, &(struct rcpt_client_ref){.id = "responder"});
	return true;
}

static bool request(struct rcpt_core *c, const char *id, const char *rt, const void *corr, size_t corr_len)
{
	return request_token(c, id, rt, corr, corr_len, NULL);
}

/* ---- hash flooding ---- */

/* The i-th 8-byte correlation that the old pending-table hash sends, with
 * this return topic, to one 32-bit value. */
static void craft(const char *topic, uint32_t i, uint8_t out[8])
{
	uint64_t state = old_hash_bytes(OLD_HASH_SEED, topic, strlen(topic)) ^ 8u;
	uint64_t word = old_hash_colliding_word(state, 0x5eed5eedu, i);
	memcpy(out, &word, 8);
}

static double flood(bool crafted, int n, int ids, int *accepted)
{
	struct rcpt_core *c = core_new();
	char id[16], rt[32];
	uint8_t corr[8];
	uint64_t x = 88172645463325252u;
	*accepted = 0;
	double t0 = now_s();
	for(int i = 0; i < n; i++){
		snprintf(id, sizeof(id), "c%d", i % ids);
		snprintf(rt, sizeof(rt), "ret/c%d/x", i % ids);
		if(crafted){
			craft(rt, (uint32_t)(i / ids), corr);
		}else{
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			memcpy(corr, &x, 8);
		}
		if(request(c, id, rt, corr, 8)) (*accepted)++;
	}
	double t = now_s() - t0;
	rcpt_core__free(c);
	return t;
}

/* ---- fan-out ---- */

static void fan_out(int n)
{
	struct rcpt_core *c = core_new();
	struct rcpt_publish m = {.sender = {.id = "C"}, .topic = "req/A", .qos = 1, .has_response_topic = true,
		.response_topic = "ret/C/x", .has_correlation = true, .correlation = {"c1", 2}};
	struct rcpt_decision d;
	rcpt_core__on_publish(c, &m, &d);
	rcpt_core__request_stored(c, d.pending, &message_key, "req/A");
	char id[16];
	receipts = 0;
	double t0 = now_s();
	for(int i = 0; i < n; i++){
		snprintf(id, sizeof(id), "R%d", i);
		rcpt_core__on_read(c, &message_key, "req/A", false, &(struct rcpt_client_ref){.id = id, .clean = true});
	}
	rcpt_core__settle(c);
	double t1 = now_s();
	for(int i = 0; i < n; i++){
		snprintf(id, sizeof(id), "R%d", i);
		rcpt_core__on_disconnect(c, id, NULL, true);
	}
	double t2 = now_s();
	printf("fan-out to %d: READ checks %.1f ms, disconnects %.1f ms (receipts: %zu responder-gone)\n",
			n, (t1 - t0) * 1e3, (t2 - t1) * 1e3, receipts);
	rcpt_core__free(c);
}

/* ---- a million: memory, then mass cancellation ---- */

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = 0;
	while(f && fgets(line, sizeof(line), f)){
		if(!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
	}
	if(f) fclose(f);
	return v;
}

static void million(void)
{
	enum { N = 1000000 };
	struct rcpt_core *c = core_new();
	char id[16], rt[32];
	long before = rss_kb();
	for(int i = 0; i < N; i++){
		snprintf(id, sizeof(id), "c%02d", i % 100);
		snprintf(rt, sizeof(rt), "ret/c%02d/x", i % 100);
		uint64_t v = (uint64_t)i * 0x9E3779B97F4A7C15u;
		if(!request(c, id, rt, &v, 8)){
			printf("refused at %d\n", i);
			exit(1);
		}
	}
	rcpt_core__settle(c);
	double per = (double)(rss_kb() - before) * 1024.0 / N;
	printf("memory: %.1f B per pending request, %.1f B beyond its return topic (%zu) and correlation (8)\n",
			per, per - (double)strlen("ret/c00/x") - 8, strlen("ret/c00/x"));

	receipts = 0;
	const char *cmd = "{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"A\",\"all\":true}]}";
	double t0 = now_s();
	rcpt_core__on_control(c, "admin", cmd, strlen(cmd));
	double command = now_s() - t0, worst = 0;
	int ticks = 0, worst_at = 0;
	while(c->stats.pending > 0 && ticks < 1000000){
		double a = now_s();
		rcpt_core__on_tick(c);
		double t = now_s() - a;
		if(t > worst){
			worst = t;
			worst_at = ticks;
		}
		ticks++;
	}
	printf("mass cancel of %d: the command %.2f ms, then %d ticks, the longest %.2f ms (tick %d), %zu receipts\n",
			N, command * 1e3, ticks, worst * 1e3, worst_at, receipts);
	rcpt_core__free(c);
}

/* ---- journal_sync ---- */

/* N requests saved in a snapshot, then all answered: each answer appends
 * to the journal (and with journal_sync, fdatasyncs it). */
static double journal_cost(bool sync, int n)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[256], path[300];
	snprintf(dir, sizeof(dir), "%s/hostile-core-XXXXXX", tmp);
	if(mkdtemp(dir) == NULL) exit(1);
	snprintf(path, sizeof(path), "%s/receipts.state", dir);
	const char *opts[] = {RECEIPTS_OPT_STATE_FILE, path, RECEIPTS_OPT_SAVE_INTERVAL_S, "1",
		RECEIPTS_OPT_JOURNAL_SYNC, sync ? "true" : "false", NULL};
	struct rcpt_core *c = core_with(opts);
	char corr[16];
	uint8_t (*tokens)[16] = malloc((size_t)n * sizeof(*tokens));
	if(tokens == NULL) exit(1);
	for(int i = 0; i < n; i++){
		int len = snprintf(corr, sizeof(corr), "%d", i);
		request_token(c, "P", "ret/P/x", corr, (size_t)len, tokens[i]);
	}
	rcpt_core__settle(c);
	/* A periodic save (the clock skipped past its interval), then its
	 * writer thread reaped: ticks until it is, for 10 s at most. */
	clock_skip_ms += 1000;
	uint64_t deadline = real_ms() + 10000;
	do{
		rcpt_core__on_tick(c);
		sched_yield();
	}while((c->persist.disk_gen == 0 || c->persist.writer) && real_ms() < deadline);
	if(c->persist.disk_gen == 0 || c->persist.journal_fd < 0) exit(1);
	double t0 = now_s();
	for(int i = 0; i < n; i++){
		struct rcpt_publish a = {.sender = {.id = "responder"}, .topic = "ret/P/x", .qos = 1,
			.has_correlation = true, .correlation = {tokens[i], 16}};
		struct rcpt_decision d;
		rcpt_core__on_publish(c, &a, &d);
		if(d.action != RCPT_RECEIPT) exit(1);
	}
	double per = (now_s() - t0) / n;
	free(tokens);
	rcpt_core__free(c);
	char name[320];
	static const char *const files[] = {"", ".journal", ".journal.next", ".tmp"};
	for(size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++){
		snprintf(name, sizeof(name), "%s%s", path, files[i]);
		unlink(name);
	}
	rmdir(dir);
	return per;
}

int main(void)
{
	int n = 40000, random_ok, crafted_ok;
	double random = flood(false, n, 4, &random_ok);
	double crafted = flood(true, n, 4, &crafted_ok);
	printf("hash flooding: %d requests from 4 client ids: random correlations %.3f s (%d accepted), "
			"crafted against the old hash %.3f s (%d accepted): %.2fx the time\n",
			n, random, random_ok, crafted, crafted_ok, crafted / random);
	fan_out(5000);
	fan_out(40000);
	million();
	double off = journal_cost(false, 2000), on = journal_cost(true, 2000);
	printf("journal_sync: an answered request costs %.1f us without it, %.1f us with it\n", off * 1e6, on * 1e6);
	return 0;
}
