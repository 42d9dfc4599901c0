/*
 * The state file: its format (encode, decode, and every way a file can be
 * damaged), and restarts through the core with real files in a temporary
 * directory: what comes back, what is dropped, what ends at the first tick,
 * and what a damaged or unwritable file does to the start.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_host.h"
#include "core_parts.h"
#include "files.h"
#include "state_format.h"
#include "suites.h"

/* A wall clock far from the monotonic one, so that mixing them up shows. */
#define WALL_START_MS 1700000000000ull
#define SAVE_INTERVAL_MS 1000u
/* How long the writer thread may take to put a snapshot on disk. */
#define WRITER_DEADLINE_MS 5000

/* ---- the format, over memory ---- */

#define S(lit) ((struct rcpt_state_str){(lit), (uint16_t)(sizeof(lit) - 1)})

/* Three records that use every field: QoS 0-2, each flag alone and none,
 * binary correlation with a NUL, none, and up to two deliveries. */
static void sample_records(struct rcpt_state_record *r)
{
	memset(r, 0, 3 * sizeof(*r));
	r[0].created_wall_ms = WALL_START_MS;
	r[0].deadline_wall_ms = WALL_START_MS + 30000;
	r[0].qos = 1;
	r[0].requester_persistent = true;
	r[0].token = (const uint8_t *)"TOKEN-0-........";
	r[0].return_topic = S("ret/P/x");
	r[0].correlation = S("c\0\xff" "1");
	r[0].requester = S("P");
	r[0].area = S("A");
	r[0].delivery_count = 2;
	r[0].deliveries[0] = (struct rcpt_state_delivery){S("R1"), true};
	r[0].deliveries[1] = (struct rcpt_state_delivery){S("R2"), false};

	r[1].created_wall_ms = 1;
	r[1].deadline_wall_ms = UINT64_MAX;
	r[1].qos = 2;
	r[1].no_correlation = true;
	r[1].token = (const uint8_t *)"\x00\xff\x01\xfe\x02\xfd\x03\xfc\x04\xfb\x05\xfa\x06\xf9\x07\xf8";
	r[1].return_topic = S("ret/Q/y/z");
	r[1].requester = S("Q");
	r[1].area = S("Bee");

	r[2].created_wall_ms = WALL_START_MS + 5;
	r[2].deadline_wall_ms = WALL_START_MS + 6;
	r[2].qos = 0;
	r[2].open_return = true;
	r[2].token = (const uint8_t *)"TOKEN-2-........";
	r[2].return_topic = S("open/reply");
	r[2].requester = S("Z");
	r[2].area = S("C");
	r[2].delivery_count = 1;
	r[2].deliveries[0] = (struct rcpt_state_delivery){S("worker"), true};
}

/* Deep copies of what decode passed on. */
struct decoded {
	size_t count;
	struct rcpt_state_record rec[4];
	char bytes[4][1024];
};

static void copy_str(struct rcpt_state_str *s, char **space)
{
	memcpy(*space, s->ptr, s->len);
	s->ptr = *space;
	*space += s->len;
}

static void collect(void *ctx, const struct rcpt_state_record *r)
{
	struct decoded *d = ctx;
	ck_assert_uint_lt(d->count, 4);
	struct rcpt_state_record *c = &d->rec[d->count];
	char *space = d->bytes[d->count];
	d->count++;
	*c = *r;
	memcpy(space, r->token, RCPT_TOKEN_LEN);
	c->token = (const uint8_t *)space;
	space += RCPT_TOKEN_LEN;
	copy_str(&c->return_topic, &space);
	copy_str(&c->correlation, &space);
	copy_str(&c->requester, &space);
	copy_str(&c->area, &space);
	for(uint16_t i = 0; i < c->delivery_count; i++) copy_str(&c->deliveries[i].client_id, &space);
}

static void assert_str_same(struct rcpt_state_str a, struct rcpt_state_str b)
{
	ck_assert_uint_eq(a.len, b.len);
	if(a.len) ck_assert_mem_eq(a.ptr, b.ptr, a.len);
}

static void assert_record_same(const struct rcpt_state_record *a, const struct rcpt_state_record *b)
{
	ck_assert_uint_eq(a->created_wall_ms, b->created_wall_ms);
	ck_assert_uint_eq(a->deadline_wall_ms, b->deadline_wall_ms);
	ck_assert_uint_eq(a->qos, b->qos);
	ck_assert_int_eq(a->no_correlation, b->no_correlation);
	ck_assert_mem_eq(a->token, b->token, RCPT_TOKEN_LEN);
	ck_assert_int_eq(a->requester_persistent, b->requester_persistent);
	ck_assert_int_eq(a->open_return, b->open_return);
	assert_str_same(a->return_topic, b->return_topic);
	assert_str_same(a->correlation, b->correlation);
	assert_str_same(a->requester, b->requester);
	assert_str_same(a->area, b->area);
	ck_assert_uint_eq(a->delivery_count, b->delivery_count);
	for(uint16_t i = 0; i < a->delivery_count; i++){
		assert_str_same(a->deliveries[i].client_id, b->deliveries[i].client_id);
		ck_assert_int_eq(a->deliveries[i].persistent, b->deliveries[i].persistent);
	}
}

/* The sample records (static: each is 8 KiB of delivery slots). */
static struct rcpt_state_record sample[3];

/* A snapshot of `records` sample records, claiming `count` of them. */
static struct rcpt_buf encode(size_t records, uint64_t count)
{
	sample_records(sample);
	struct rcpt_buf b = {0};
	rcpt_state_format__begin(&b, 42, WALL_START_MS + 100);
	for(size_t i = 0; i < records; i++) rcpt_state_format__add(&b, &sample[i]);
	rcpt_state_format__finish(&b, count);
	ck_assert(!b.failed);
	return b;
}

/* Decodes data and asserts the result is rc with no record passed on. */
static void assert_refused(const unsigned char *data, size_t len, enum rcpt_state_error rc, const char *what,
		size_t at)
{
	static struct decoded d;
	d.count = 0;
	struct rcpt_state_header h;
	enum rcpt_state_error got = rcpt_state_format__decode(data, len, &h, collect, &d);
	ck_assert_msg(got == rc, "%s at %zu: %s, expected %s", what, at, rcpt_state_format__error_text(got),
			rcpt_state_format__error_text(rc));
	ck_assert_msg(d.count == 0, "%s at %zu: %zu record(s) passed on", what, at, d.count);
}

START_TEST(test_format_roundtrip)
{
	struct rcpt_buf b = encode(3, 3);
	static struct decoded d;
	d.count = 0;
	struct rcpt_state_header h;
	ck_assert_int_eq(rcpt_state_format__decode(b.data, b.len, &h, collect, &d), RCPT_STATE_OK);
	ck_assert_uint_eq(h.version, RCPT_STATE_VERSION);
	ck_assert_uint_eq(h.generation, 42);
	ck_assert_uint_eq(h.saved_wall_ms, WALL_START_MS + 100);
	ck_assert_uint_eq(h.record_count, 3);
	ck_assert_uint_eq(d.count, 3);
	for(int i = 0; i < 3; i++) assert_record_same(&d.rec[i], &sample[i]);
	/* The layout README documents: magic, then the trailer's magic. */
	ck_assert_mem_eq(b.data, "RCPTSNAP", 8);
	ck_assert_mem_eq(b.data + b.len - 20, "RCPT_END", 8);
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_format_empty_snapshot)
{
	struct rcpt_buf b = encode(0, 0);
	struct rcpt_state_header h;
	static struct decoded d;
	d.count = 0;
	ck_assert_int_eq(rcpt_state_format__decode(b.data, b.len, &h, collect, &d), RCPT_STATE_OK);
	ck_assert_uint_eq(h.record_count, 0);
	ck_assert_uint_eq(d.count, 0);
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_format_truncated_everywhere)
{
	struct rcpt_buf b = encode(3, 3);
	for(size_t len = 0; len < b.len; len++){
		static struct decoded d;
		d.count = 0;
		struct rcpt_state_header h;
		enum rcpt_state_error got = rcpt_state_format__decode(b.data, len, &h, collect, &d);
		ck_assert_msg(got == RCPT_STATE_TRUNCATED || got == RCPT_STATE_NOT_A_STATE_FILE
				|| got == RCPT_STATE_CORRUPT, "cut at %zu of %zu: %s", len, b.len, rcpt_state_format__error_text(got));
		ck_assert_msg(d.count == 0, "cut at %zu: %zu record(s) passed on", len, d.count);
	}
	rcpt_buf__free(&b);
}
END_TEST

/* What a flipped bit at offset should give: the magic makes it another
 * file, the version a newer (or invalid) one, the trailer's magic and
 * length a cut file, anything else fails the checksum. */
static enum rcpt_state_error flip_verdict(size_t at, size_t len, unsigned char flipped_version_byte)
{
	if(at < 8) return RCPT_STATE_NOT_A_STATE_FILE;
	if(at < 12) return at == 8 && flipped_version_byte == 0 ? RCPT_STATE_CORRUPT : RCPT_STATE_FUTURE_VERSION;
	if(at >= len - 20 && at < len - 4) return RCPT_STATE_TRUNCATED;
	return RCPT_STATE_CORRUPT;
}

START_TEST(test_format_flipped_byte_everywhere)
{
	static const unsigned char masks[] = {0x01, 0x80, 0xff};
	struct rcpt_buf b = encode(3, 3);
	for(size_t m = 0; m < sizeof(masks); m++){
		for(size_t at = 0; at < b.len; at++){
			b.data[at] ^= masks[m];
			assert_refused(b.data, b.len, flip_verdict(at, b.len, b.data[8]), "flipped byte", at);
			b.data[at] ^= masks[m];
		}
	}
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_format_future_version)
{
	struct rcpt_buf b = encode(1, 1);
	b.data[8] = RCPT_STATE_VERSION + 1;
	assert_refused(b.data, b.len, RCPT_STATE_FUTURE_VERSION, "version", 8);
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_format_old_version)
{
	struct rcpt_buf b = encode(1, 1);
	b.data[8] = 1;
	assert_refused(b.data, b.len, RCPT_STATE_OLD_VERSION, "version", 8);
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_format_wrong_magic)
{
	static const char garbage[] = "this is not a receipts state file, just text\n";
	assert_refused((const unsigned char *)garbage, sizeof(garbage) - 1, RCPT_STATE_NOT_A_STATE_FILE, "text", 0);
	struct rcpt_buf j = {0};
	rcpt_state_format__journal_header(&j, 42);
	assert_refused(j.data, j.len, RCPT_STATE_NOT_A_STATE_FILE, "a journal", 0);
	rcpt_buf__free(&j);
}
END_TEST

/* A record count that does not match the records, with a valid checksum:
 * the file was written wrong, and nothing of it may be loaded. */
START_TEST(test_format_record_count_mismatch)
{
	struct rcpt_buf more = encode(2, 3);
	assert_refused(more.data, more.len, RCPT_STATE_CORRUPT, "count 3 of 2 records", 0);
	rcpt_buf__free(&more);
	struct rcpt_buf fewer = encode(2, 1);
	assert_refused(fewer.data, fewer.len, RCPT_STATE_CORRUPT, "count 1 of 2 records", 0);
	rcpt_buf__free(&fewer);
}
END_TEST

/* A valid checksum over a malformed second record: the first record must
 * not be passed on either (no half-loaded file). */
START_TEST(test_format_bad_record_no_half_load)
{
	static struct rcpt_state_record bad[2];
	sample_records(sample);
	bad[0] = sample[0];
	bad[1] = sample[1];
	switch(_i){
		case 0: bad[1].qos = 3; break;
		case 1: bad[1].area = S(""); break;
		case 2: bad[1].requester = S(""); break;
		case 3: bad[1].return_topic = S(""); break;
	}
	struct rcpt_buf b = {0};
	rcpt_state_format__begin(&b, 1, 1);
	rcpt_state_format__add(&b, &bad[0]);
	rcpt_state_format__add(&b, &bad[1]);
	rcpt_state_format__finish(&b, 2);
	assert_refused(b.data, b.len, RCPT_STATE_CORRUPT, "malformed record", (size_t)_i);
	rcpt_buf__free(&b);
}
END_TEST

/* ---- the journal ---- */

struct ended {
	size_t count;
	uint8_t token[4][RCPT_TOKEN_LEN];
};

static void collect_ended(void *ctx, const uint8_t *token)
{
	struct ended *e = ctx;
	ck_assert_uint_lt(e->count, 4);
	memcpy(e->token[e->count++], token, RCPT_TOKEN_LEN);
}

static const char *const journal_tokens[3] = {"journal-token-01", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
	"journal-token-03"};

/* A journal of generation 7 with three records; ends[i] is where record i
 * ends. */
static struct rcpt_buf journal(size_t ends[3])
{
	struct rcpt_buf b = {0};
	rcpt_state_format__journal_header(&b, 7);
	for(int i = 0; i < 3; i++){
		rcpt_state_format__journal_record(&b, (const uint8_t *)journal_tokens[i]);
		ends[i] = b.len;
	}
	ck_assert(!b.failed);
	return b;
}

static void assert_ended(const struct ended *e, size_t count)
{
	ck_assert_uint_eq(e->count, count);
	for(size_t i = 0; i < count; i++) ck_assert_mem_eq(e->token[i], journal_tokens[i], RCPT_TOKEN_LEN);
}

START_TEST(test_journal_roundtrip)
{
	size_t ends[3];
	struct rcpt_buf b = journal(ends);
	struct ended e = {0};
	uint64_t gen = 0;
	ck_assert_int_eq(rcpt_state_format__journal_decode(b.data, b.len, &gen, collect_ended, &e), RCPT_STATE_OK);
	ck_assert_uint_eq(gen, 7);
	assert_ended(&e, 3);
	ck_assert_mem_eq(b.data, "RCPTJRNL", 8);
	rcpt_buf__free(&b);
}
END_TEST

/* A kill can cut the last write: every record before it still counts. */
START_TEST(test_journal_cut_in_last_record)
{
	size_t ends[3];
	struct rcpt_buf b = journal(ends);
	for(size_t len = ends[1] + 1; len < ends[2]; len++){
		struct ended e = {0};
		uint64_t gen = 0;
		enum rcpt_state_error got = rcpt_state_format__journal_decode(b.data, len, &gen, collect_ended, &e);
		ck_assert_msg(got == RCPT_STATE_TRUNCATED, "cut at %zu: %s", len, rcpt_state_format__error_text(got));
		ck_assert_uint_eq(gen, 7);
		assert_ended(&e, 2);
	}
	/* Cut right after a record: a complete, shorter journal. */
	struct ended e = {0};
	uint64_t gen = 0;
	ck_assert_int_eq(rcpt_state_format__journal_decode(b.data, ends[1], &gen, collect_ended, &e), RCPT_STATE_OK);
	assert_ended(&e, 2);
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_journal_damaged_last_record)
{
	size_t ends[3];
	struct rcpt_buf b = journal(ends);
	for(size_t at = ends[1]; at < ends[2]; at++){
		b.data[at] ^= 0x10;
		struct ended e = {0};
		uint64_t gen = 0;
		enum rcpt_state_error got = rcpt_state_format__journal_decode(b.data, b.len, &gen, collect_ended, &e);
		/* A damaged length may also make the record look cut. */
		ck_assert_msg(got == RCPT_STATE_CORRUPT || got == RCPT_STATE_TRUNCATED, "flip at %zu: %s", at,
				rcpt_state_format__error_text(got));
		assert_ended(&e, 2);
		b.data[at] ^= 0x10;
	}
	rcpt_buf__free(&b);
}
END_TEST

START_TEST(test_journal_bad_header)
{
	size_t ends[3];
	struct rcpt_buf b = journal(ends);
	struct ended e = {0};
	uint64_t gen = 0;
	b.data[0] = 'X';
	ck_assert_int_eq(rcpt_state_format__journal_decode(b.data, b.len, &gen, collect_ended, &e), RCPT_STATE_NOT_A_STATE_FILE);
	b.data[0] = 'R';
	b.data[8] = RCPT_STATE_VERSION + 1;
	ck_assert_int_eq(rcpt_state_format__journal_decode(b.data, b.len, &gen, collect_ended, &e), RCPT_STATE_FUTURE_VERSION);
	b.data[8] = 1;
	ck_assert_int_eq(rcpt_state_format__journal_decode(b.data, b.len, &gen, collect_ended, &e), RCPT_STATE_OLD_VERSION);
	ck_assert_int_eq(rcpt_state_format__journal_decode(b.data, 15, &gen, collect_ended, &e), RCPT_STATE_TRUNCATED);
	ck_assert_uint_eq(e.count, 0);
	rcpt_buf__free(&b);
}
END_TEST

/* ---- restarts through the core ---- */

static char dir[64];
static char state_path[128];
static struct rcpt_core *core;

static void restart_setup(void)
{
	fake_host__reset();
	fake_host__set_wall_ms(WALL_START_MS);
	strcpy(dir, "/tmp/rcpt-state-XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(state_path, sizeof(state_path), "%s/receipts.state", dir);
	core = NULL;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void restart_teardown(void)
{
	rcpt_core__free(core);
	core = NULL;
	/* A test may have taken the write permission away. */
	chmod(dir, 0700);
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	fake_host__reset();
}

static struct rcpt_core *core_on(const char *path)
{
	const char *opts[] = {RECEIPTS_OPT_STATE_FILE, path, RECEIPTS_OPT_SAVE_INTERVAL_S, "1", NULL};
	return t_core_new(opts);
}

/* Frees the core (without saving, as a kill would leave it) and starts a
 * new one on the same file, with the records of the old run forgotten. */
static void restart_after_kill(void)
{
	rcpt_core__free(core);
	fake_host__clear();
	core = core_on(state_path);
}

/* A clean shutdown: saved, then started again. */
static void restart_clean(void)
{
	rcpt_core__save_state(core);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	restart_after_kill();
}

/* A request on ret/<requester>/x delivered to responder, with the given
 * session kinds; timeout NULL: the default. Returns the correlation the
 * responder sees (the broker's own when corr is NULL). */
static struct rcpt_bytes request(const char *requester, bool requester_clean, const char *corr,
		const char *timeout, const char *responder, bool responder_clean, unsigned key)
{
	static unsigned char made[4][64];
	char rt[64];
	snprintf(rt, sizeof(rt), "ret/%s/x", requester);
	struct rcpt_publish m = t_req(requester, "req/A", rt, corr);
	m.sender.clean = requester_clean;
	if(timeout){
		m.timeout_count = 1;
		m.timeout = timeout;
	}
	struct rcpt_decision d = t_request(core, &m, t_key(key));
	struct rcpt_bytes seen = {corr, corr ? strlen(corr) : 0};
	if(d.add_correlation.len){
		ck_assert_uint_lt(key, 4);
		ck_assert_uint_le(d.add_correlation.len, sizeof(made[key]));
		memcpy(made[key], d.add_correlation.ptr, d.add_correlation.len);
		seen = (struct rcpt_bytes){made[key], d.add_correlation.len};
	}
	if(responder) t_read_as(core, t_key(key), "req/A", responder, responder_clean);
	rcpt_core__settle(core);
	return seen;
}

static struct rcpt_decision answer(const char *responder, bool clean, const char *requester,
		struct rcpt_bytes corr)
{
	char rt[64];
	snprintf(rt, sizeof(rt), "ret/%s/x", requester);
	struct rcpt_publish a = t_ans(responder, rt, corr.ptr, corr.len);
	a.sender.clean = clean;
	struct rcpt_decision d;
	rcpt_core__on_publish(core, &a, &d); t_note(&d);
	return d;
}

static struct rcpt_bytes str_bytes(const char *s)
{
	return (struct rcpt_bytes){s, strlen(s)};
}

static void assert_pending(uint64_t n)
{
	ck_assert_uint_eq(t_stats(core).pending, n);
}

static void assert_log_has(enum rcpt_log_level level, const char *needle)
{
	const char *line = fake_host__last_log(level);
	ck_assert_msg(line != NULL, "no log line at level %d", (int)level);
	ck_assert_msg(strstr(line, needle) != NULL, "log line '%s' lacks '%s'", line, needle);
}

/* The snapshot the writer thread is writing is on disk and the writer is
 * reaped, by ticking with a deadline (the thread's timing is not ours). */
static void tick_until_writer_reaped(void)
{
	struct timespec start, now, pause = {0, 2 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &start);
	while(core->persist.writer != NULL){
		rcpt_core__on_tick(core);
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		ck_assert_msg(ms < WRITER_DEADLINE_MS, "the writer thread did not finish in %d ms", WRITER_DEADLINE_MS);
		if(core->persist.writer) nanosleep(&pause, NULL);   /* poll under WRITER_DEADLINE_MS */
	}
}

/* Moves the clock past the save interval and ticks: a periodic save begins. */
static void periodic_save_begins(void)
{
	fake_host__advance_ms(SAVE_INTERVAL_MS);
	rcpt_core__on_tick(core);
	ck_assert_msg(core->persist.writer != NULL, "no periodic save began");
}

START_TEST(test_restart_restores_requests)
{
	core = core_on(state_path);
	assert_log_has(RCPT_LOG_INFO, "none yet");
	struct rcpt_bytes c1 = request("P", false, "c1", NULL, "R", false, 0);
	struct rcpt_bytes made = request("P", false, NULL, NULL, "R", false, 1);
	restart_clean();
	assert_pending(2);
	assert_log_has(RCPT_LOG_NOTICE, "restored 2 pending request(s)");
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);

	/* Only a client the request reached may answer, after a restart too. */
	struct rcpt_decision d = answer("Z", false, "P", c1);
	ck_assert_int_eq(d.action, RCPT_REFUSE);
	/* R comes back: the broker's takeover DISCONNECT, then its traffic. */
	rcpt_core__on_disconnect(core, "R", NULL, true);
	d = answer("R", false, "P", c1);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	/* The token was restored with its request: the requester's own
	 * correlation comes back on the receipt, or none. */
	ck_assert_uint_eq(d.restore_correlation.len, 2);
	ck_assert_mem_eq(d.restore_correlation.ptr, "c1", 2);
	d = answer("R", false, "P", made);
	ck_assert_int_eq(d.action, RCPT_RECEIPT);
	ck_assert_uint_eq(d.restore_correlation.len, 0);
	assert_pending(0);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_OK], 2);
}
END_TEST

/* What the core writes is the documented format, field by field. */
START_TEST(test_saved_file_is_the_documented_format)
{
	core = core_on(state_path);
	struct rcpt_bytes token = request("P", false, "c1", "5000", "R", true, 0);
	rcpt_core__save_state(core);

	FILE *f = fopen(state_path, "rb");
	ck_assert_ptr_nonnull(f);
	static unsigned char data[4096];
	size_t len = fread(data, 1, sizeof(data), f);
	fclose(f);
	static struct decoded d;
	d.count = 0;
	struct rcpt_state_header h;
	ck_assert_int_eq(rcpt_state_format__decode(data, len, &h, collect, &d), RCPT_STATE_OK);
	ck_assert_uint_eq(h.saved_wall_ms, WALL_START_MS);
	ck_assert_uint_eq(d.count, 1);
	const struct rcpt_state_record *r = &d.rec[0];
	ck_assert_uint_eq(r->created_wall_ms, WALL_START_MS);
	ck_assert_uint_eq(r->deadline_wall_ms, WALL_START_MS + 5000);
	ck_assert_uint_eq(r->qos, 1);
	ck_assert(!r->no_correlation && r->requester_persistent && !r->open_return);
	ck_assert_uint_eq(token.len, RCPT_TOKEN_LEN);
	ck_assert_mem_eq(r->token, token.ptr, RCPT_TOKEN_LEN);
	assert_str_same(r->return_topic, S("ret/P/x"));
	assert_str_same(r->correlation, S("c1"));
	assert_str_same(r->requester, S("P"));
	assert_str_same(r->area, S("A"));
	ck_assert_uint_eq(r->delivery_count, 1);
	assert_str_same(r->deliveries[0].client_id, S("R"));
	ck_assert(!r->deliveries[0].persistent);
}
END_TEST

START_TEST(test_restart_drops_clean_requester)
{
	core = core_on(state_path);
	struct rcpt_bytes c1 = request("C", true, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	restart_clean();
	assert_pending(1);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_ABANDONED], 1);
	assert_log_has(RCPT_LOG_NOTICE, "1 dropped");
	/* Its late answer is refused like any unmatched receipt. */
	ck_assert_int_eq(answer("R", false, "C", c1).action, RCPT_REFUSE);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* A request that reached only clean-session responders lost them with the
 * restart; one that also reached a persistent responder did not. */
START_TEST(test_restart_clean_responder_gone)
{
	core = core_on(state_path);
	request("P", false, "c1", NULL, "Rc", true, 0);
	struct rcpt_publish m = t_req("P", "req/A", "ret/P/x", "c2");
	m.sender.clean = false;
	t_request(core, &m, t_key(1));
	t_read_as(core, t_key(1), "req/A", "Rc", true);
	t_read_as(core, t_key(1), "req/A", "Rp", false);
	rcpt_core__settle(core);
	struct rcpt_bytes c2 = str_bytes("c2");
	restart_clean();
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	assert_log_has(RCPT_LOG_NOTICE, "1 will end responder-gone");
	switch(_i){
		case 0: rcpt_core__on_tick(core); break;
		case 1: rcpt_core__settle(core); break;
	}
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/P/x", "c1", 2, 1, RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	assert_pending(1);
	ck_assert_uint_eq(t_stats(core).totals[RCPT_OUTCOME_RESPONDER_GONE], 1);
	/* The clean responder's session is gone: it may not answer c2. */
	ck_assert_int_eq(answer("Rc", true, "P", c2).action, RCPT_REFUSE);
	ck_assert_int_eq(answer("Rp", false, "P", c2).action, RCPT_RECEIPT);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
}
END_TEST

/* Deadlines are wall-clock time: the time the broker was down counts. */
START_TEST(test_restart_deadline_passed_while_down)
{
	core = core_on(state_path);
	request("P", false, "c1", "5000", "R", false, 0);
	request("P", false, "c2", "60000", "R", false, 1);
	rcpt_core__save_state(core);
	rcpt_core__free(core);
	fake_host__clear();
	fake_host__advance_wall_ms(10000);
	core = core_on(state_path);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	t_assert_receipt(0, "ret/P/x", "c1", 2, 1, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	assert_pending(1);
	/* c2 had 50 s left, not 60. */
	fake_host__advance_ms(49999);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 1);
	fake_host__advance_ms(1);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), 2);
	t_assert_receipt(1, "ret/P/x", "c2", 2, 1, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	assert_pending(0);
}
END_TEST

/* A periodic snapshot, then a kill: what ended after the snapshot stays
 * ended (the journal), what was saved and pending comes back, what came
 * after the snapshot is lost. _i 0: the request ends after the snapshot
 * is on disk; 1: while the writer thread is still writing it. */
START_TEST(test_kill_after_periodic_save)
{
	core = core_on(state_path);
	struct rcpt_bytes c1 = request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	periodic_save_begins();
	if(_i == 0) tick_until_writer_reaped();
	ck_assert_int_eq(answer("R", false, "P", c1).action, RCPT_RECEIPT);
	if(_i == 1) tick_until_writer_reaped();
	struct stat st;
	ck_assert_int_eq(stat(state_path, &st), 0);
	request("P", false, "c3", NULL, "R", false, 2);
	restart_after_kill();

	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	assert_log_has(RCPT_LOG_NOTICE, "restored 1 pending request(s)");
	assert_log_has(RCPT_LOG_NOTICE, "1 answered before the restart");
	assert_pending(1);
	ck_assert_int_eq(answer("R", false, "P", c1).action, RCPT_REFUSE);
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c3")).action, RCPT_REFUSE);
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c2")).action, RCPT_RECEIPT);
	assert_pending(0);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* A snapshot built a few records a tick while requests end and begin:
 * those that ended after the build began are never revived, whether it had
 * added them yet or not (the one it was about to add and the newest it
 * meant to reach included); those pending throughout come back; those
 * begun during the build are not in it. */
START_TEST(test_snapshot_built_over_ticks)
{
	core = core_on(state_path);
	core->persist.build_slice = 3;
	char corr[16];
	for(int i = 0; i < 12; i++){
		snprintf(corr, sizeof(corr), "c%d", i);
		request("P", false, corr, NULL, "R", false, 0);
	}
	periodic_save_begins();
	ck_assert(rcpt_persist__building(&core->persist));
	static const char *const ended[] = {"c1", "c3", "c11", "c7"};
	for(size_t i = 0; i < 4; i++){
		ck_assert_int_eq(answer("R", false, "P", str_bytes(ended[i])).action, RCPT_RECEIPT);
	}
	request("P", false, "c20", NULL, "R", false, 0);
	tick_until_writer_reaped();
	restart_after_kill();

	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	assert_pending(8);
	for(size_t i = 0; i < 4; i++){
		ck_assert_int_eq(answer("R", false, "P", str_bytes(ended[i])).action, RCPT_REFUSE);
	}
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c20")).action, RCPT_REFUSE);
	static const char *const kept[] = {"c0", "c2", "c4", "c5", "c6", "c8", "c9", "c10"};
	for(size_t i = 0; i < 8; i++){
		ck_assert_int_eq(answer("R", false, "P", str_bytes(kept[i])).action, RCPT_RECEIPT);
	}
	assert_pending(0);
	ck_assert_uint_eq(fake_host__publish_count(), 0);
}
END_TEST

/* Two kills in a row: the journal adopted at the first restart keeps
 * counting, so an answer before the second kill is not revived either. */
START_TEST(test_kill_twice)
{
	core = core_on(state_path);
	request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	periodic_save_begins();
	tick_until_writer_reaped();
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c1")).action, RCPT_RECEIPT);
	restart_after_kill();
	assert_pending(1);
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c2")).action, RCPT_RECEIPT);
	restart_after_kill();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	assert_pending(0);
	assert_log_has(RCPT_LOG_NOTICE, "2 answered before the restart");
}
END_TEST

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static size_t read_whole(const char *path, unsigned char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

/* DAMAGE_OLD_VERSION: a file of format 1, from before tokens: its requests
 * cannot be matched to what responders hold, so it is set aside too. */
enum damage { DAMAGE_GARBAGE, DAMAGE_HALF, DAMAGE_FUTURE_VERSION, DAMAGE_OLD_VERSION, DAMAGE_COUNT };

/* Leaves the state file damaged as `how` says, from a saved table of two. */
static void damage_state_file(enum damage how, unsigned char *content, size_t *len)
{
	static const char garbage[] = "{\"not\": \"a state file\"}\n";
	core = core_on(state_path);
	request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	rcpt_core__save_state(core);
	rcpt_core__free(core);
	core = NULL;
	*len = read_whole(state_path, content, 4096);
	switch(how){
		case DAMAGE_GARBAGE:
			memcpy(content, garbage, sizeof(garbage) - 1);
			*len = sizeof(garbage) - 1;
			break;
		case DAMAGE_HALF: *len /= 2; break;
		case DAMAGE_FUTURE_VERSION: content[8] = RCPT_STATE_VERSION + 1; break;
		case DAMAGE_OLD_VERSION: content[8] = 1; break;
		case DAMAGE_COUNT: break;
	}
	write_file(state_path, content, *len);
	fake_host__clear();
}

/* A damaged file is set aside (same bytes, never deleted), reported in one
 * line, and the core starts empty and works. */
START_TEST(test_damaged_file_set_aside)
{
	static const char *const why[DAMAGE_COUNT] = {"not a receipts state file", "truncated",
		"newer version", "older version (format 1, before broker tokens"};
	static unsigned char content[4096], aside[4096];
	size_t len;
	damage_state_file((enum damage)_i, content, &len);
	core = core_on(state_path);

	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	assert_log_has(RCPT_LOG_ERR, state_path);
	assert_log_has(RCPT_LOG_ERR, why[_i]);
	assert_log_has(RCPT_LOG_ERR, "set aside");
	assert_pending(0);
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "%s.bad-*", state_path);
	glob_t g;
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 1);
	assert_log_has(RCPT_LOG_ERR, g.gl_pathv[0]);
	ck_assert_uint_eq(read_whole(g.gl_pathv[0], aside, sizeof(aside)), len);
	ck_assert_mem_eq(aside, content, len);
	globfree(&g);
	ck_assert_int_eq(access(state_path, F_OK), -1);

	/* Empty, and working: a new request is saved and comes back. */
	fake_host__clear();
	request("P", false, "c3", NULL, "R", false, 2);
	restart_clean();
	assert_pending(1);
}
END_TEST

/* As root, permissions do not stop writes: the path is made unwritable by
 * a missing directory, a regular file where the directory should be, or
 * (not as root) a read-only directory. */
static void unwritable_path(int how, char *path, size_t size)
{
	if(how == 0){
		snprintf(path, size, "%s/missing/receipts.state", dir);
	}else if(how == 1){
		char file[128];
		snprintf(file, sizeof(file), "%s/not-a-dir", dir);
		write_file(file, "x", 1);
		snprintf(path, size, "%s/receipts.state", file);
	}else{
		ck_assert_int_eq(chmod(dir, 0500), 0);
		snprintf(path, size, "%s/receipts.state", dir);
	}
}

START_TEST(test_unwritable_state_file_reported_at_start)
{
	char path[192];
	unwritable_path(_i, path, sizeof(path));
	core = core_on(path);
	ck_assert_msg(fake_host__log_count(RCPT_LOG_ERR) == 1, "%zu ERR lines at start, the last: '%s'",
			fake_host__log_count(RCPT_LOG_ERR), fake_host__last_log(RCPT_LOG_ERR));
	assert_log_has(RCPT_LOG_ERR, path);
	assert_log_has(RCPT_LOG_ERR, "cannot write");
	/* It still serves, and periodic saves that keep failing say nothing
	 * more. */
	struct rcpt_bytes c1 = request("P", false, "c1", NULL, "R", false, 0);
	for(int i = 0; i < 3; i++){
		fake_host__advance_ms(SAVE_INTERVAL_MS);
		rcpt_core__on_tick(core);
		tick_until_writer_reaped();
	}
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	ck_assert_int_eq(answer("R", false, "P", c1).action, RCPT_RECEIPT);
}
END_TEST

/* A failing save is logged once when it starts failing and once when it
 * works again. */
START_TEST(test_save_failure_logged_once_and_recovery)
{
	char path[192], sub[160];
	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(path, sizeof(path), "%s/receipts.state", sub);
	core = core_on(path);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	request("P", false, "c1", NULL, "R", false, 0);
	fake_host__advance_ms(SAVE_INTERVAL_MS);
	rcpt_core__on_tick(core);
	tick_until_writer_reaped();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	size_t notices = fake_host__log_count(RCPT_LOG_NOTICE);

	ck_assert_int_eq(mkdir(sub, 0700), 0);
	periodic_save_begins();
	tick_until_writer_reaped();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_NOTICE), notices + 1);
	assert_log_has(RCPT_LOG_NOTICE, "saving works again");
	ck_assert_int_eq(access(path, F_OK), 0);

	/* What it saved comes back after a kill. */
	rcpt_core__free(core);
	fake_host__clear();
	core = core_on(path);
	assert_pending(1);
}
END_TEST

/* ---- persistence faults ---- */

/* Two requests saved by a periodic save during which `step` fails (after
 * the snapshot took the state file's name); then c1 is answered and the
 * broker killed. c1 must not come back: its end is in the journal that
 * belongs to the snapshot on disk. */
static void save_with_fault_then_answer(const char *step, const char *logged)
{
	core = core_on(state_path);
	struct rcpt_bytes c1 = request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	rcpt_files__inject_fault(step, EIO);
	periodic_save_begins();
	tick_until_writer_reaped();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	assert_log_has(RCPT_LOG_ERR, logged);
	ck_assert_int_eq(answer("R", false, "P", c1).action, RCPT_RECEIPT);
}

static void assert_only_c2_back(void)
{
	assert_pending(1);
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c1")).action, RCPT_REFUSE);
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c2")).action, RCPT_RECEIPT);
	assert_pending(0);
}

START_TEST(test_fault_directory_fsync_after_rename)
{
	save_with_fault_then_answer("fsync of the directory", "fsync of the directory failed");
	restart_after_kill();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	assert_log_has(RCPT_LOG_NOTICE, "1 answered before the restart");
	assert_only_c2_back();
}
END_TEST

/* The journal keeps its old name and serves under it; the next save
 * renames it first, and says saving works again. */
START_TEST(test_fault_journal_rename)
{
	char next[192];
	snprintf(next, sizeof(next), "%s.journal.next", state_path);
	save_with_fault_then_answer("rename of the journal", "rename of the journal failed");
	ck_assert_int_eq(access(next, F_OK), 0);
	if(_i == 1){
		periodic_save_begins();
		tick_until_writer_reaped();
		assert_log_has(RCPT_LOG_NOTICE, "saving works again");
	}
	restart_after_kill();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	assert_only_c2_back();
}
END_TEST

/* At start the journal found as state_file.journal.next cannot be
 * renamed: said in one line, and it is journaled to under that name. */
START_TEST(test_fault_adopt_rename)
{
	core = core_on(state_path);
	struct rcpt_bytes c1 = request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	rcpt_files__inject_fault("rename of the journal", EIO);
	periodic_save_begins();
	tick_until_writer_reaped();

	/* Killed with the journal still named .journal.next. */
	rcpt_core__free(core);
	fake_host__clear();
	rcpt_files__inject_fault("rename of the journal", EIO);
	core = core_on(state_path);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	assert_log_has(RCPT_LOG_ERR, "rename of the journal");
	assert_pending(2);
	ck_assert_int_eq(answer("R", false, "P", c1).action, RCPT_RECEIPT);
	restart_after_kill();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	assert_only_c2_back();
}
END_TEST

/* At start the journal cannot be opened: said in one line, and a new
 * snapshot is saved at the next tick, so the journal is off only until
 * then; what ends after that stays ended. */
START_TEST(test_fault_adopt_open)
{
	core = core_on(state_path);
	request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	periodic_save_begins();
	tick_until_writer_reaped();
	rcpt_core__free(core);
	fake_host__clear();
	rcpt_files__inject_fault("opening the journal", EACCES);
	core = core_on(state_path);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	assert_log_has(RCPT_LOG_ERR, "opening the journal failed");
	ck_assert_int_lt(core->persist.journal_fd, 0);
	rcpt_core__on_tick(core);
	ck_assert_msg(core->persist.writer != NULL, "no save began at once");
	tick_until_writer_reaped();
	assert_log_has(RCPT_LOG_NOTICE, "saving works again");
	ck_assert_int_ge(core->persist.journal_fd, 0);
	ck_assert_int_eq(answer("R", false, "P", str_bytes("c1")).action, RCPT_RECEIPT);
	restart_after_kill();
	assert_only_c2_back();
}
END_TEST

/* With journal_sync each ended request's record is synced: a failing sync
 * is reported; without it, no sync is tried at all. */
START_TEST(test_journal_sync)
{
	const char *opts[] = {RECEIPTS_OPT_STATE_FILE, state_path, RECEIPTS_OPT_SAVE_INTERVAL_S, "1",
		RECEIPTS_OPT_JOURNAL_SYNC, _i ? "true" : "false", NULL};
	core = t_core_new(opts);
	struct rcpt_bytes c1 = request("P", false, "c1", NULL, "R", false, 0);
	request("P", false, "c2", NULL, "R", false, 1);
	periodic_save_begins();
	tick_until_writer_reaped();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	rcpt_files__inject_fault("syncing the journal", EIO);
	ck_assert_int_eq(answer("R", false, "P", c1).action, RCPT_RECEIPT);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), _i ? 1 : 0);
	if(_i) assert_log_has(RCPT_LOG_ERR, "syncing the journal failed");
	rcpt_files__inject_fault(NULL, 0);
	restart_after_kill();
	assert_only_c2_back();
}
END_TEST

static void plant_symlink(const char *at, const char *victim)
{
	write_file(victim, "victim", 6);
	ck_assert_int_eq(symlink(victim, at), 0);
}

static void assert_victim_untouched(const char *victim)
{
	unsigned char buf[16];
	ck_assert_uint_eq(read_whole(victim, buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "victim", 6);
}

/* A symbolic link planted where the state file's temporary file, its
 * journal or the state file itself go is refused with a line, and what it
 * points at is never written. */
START_TEST(test_symlink_refused)
{
	char at[192], victim[192];
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	static const char *const suffix[] = {".tmp", ".journal.next", ""};
	snprintf(at, sizeof(at), "%s%s", state_path, suffix[_i]);
	if(_i == 2){
		plant_symlink(at, victim);
		core = core_on(state_path);
		assert_log_has(RCPT_LOG_ERR, "symbolic link");
		assert_pending(0);
		assert_victim_untouched(victim);
		return;
	}
	if(_i == 0) plant_symlink(at, victim);
	core = core_on(state_path);
	if(_i == 0){
		assert_log_has(RCPT_LOG_ERR, "symbolic link");
	}else{
		ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
		plant_symlink(at, victim);
	}
	request("P", false, "c1", NULL, "R", false, 0);
	fake_host__advance_ms(SAVE_INTERVAL_MS);
	rcpt_core__on_tick(core);
	tick_until_writer_reaped();
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 1);
	assert_log_has(RCPT_LOG_ERR, "symbolic link");
	assert_victim_untouched(victim);
	struct stat st;
	ck_assert_int_eq(lstat(at, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

/* No state file: saving does nothing, and nothing is written anywhere. */
START_TEST(test_no_state_file_no_files)
{
	core = t_core_new(NULL);
	request("P", false, "c1", NULL, "R", false, 0);
	fake_host__advance_ms(10 * SAVE_INTERVAL_MS);
	rcpt_core__on_tick(core);
	ck_assert_ptr_null(core->persist.writer);
	rcpt_core__save_state(core);
	ck_assert_uint_eq(fake_host__log_count(RCPT_LOG_ERR), 0);
	glob_t g;
	char pattern[96];
	snprintf(pattern, sizeof(pattern), "%s/*", dir);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), GLOB_NOMATCH);
	globfree(&g);
}
END_TEST

Suite *state_suite(void)
{
	Suite *s = suite_create("state");

	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_format_roundtrip);
	tcase_add_test(tc, test_format_empty_snapshot);
	tcase_add_test(tc, test_format_truncated_everywhere);
	tcase_add_test(tc, test_format_flipped_byte_everywhere);
	tcase_add_test(tc, test_format_future_version);
	tcase_add_test(tc, test_format_old_version);
	tcase_add_test(tc, test_format_wrong_magic);
	tcase_add_test(tc, test_format_record_count_mismatch);
	tcase_add_loop_test(tc, test_format_bad_record_no_half_load, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("journal");
	tcase_add_test(tc, test_journal_roundtrip);
	tcase_add_test(tc, test_journal_cut_in_last_record);
	tcase_add_test(tc, test_journal_damaged_last_record);
	tcase_add_test(tc, test_journal_bad_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart");
	tcase_add_checked_fixture(tc, restart_setup, restart_teardown);
	tcase_add_test(tc, test_restart_restores_requests);
	tcase_add_test(tc, test_saved_file_is_the_documented_format);
	tcase_add_test(tc, test_restart_drops_clean_requester);
	tcase_add_loop_test(tc, test_restart_clean_responder_gone, 0, 2);
	tcase_add_test(tc, test_restart_deadline_passed_while_down);
	tcase_add_loop_test(tc, test_kill_after_periodic_save, 0, 2);
	tcase_add_test(tc, test_kill_twice);
	tcase_add_test(tc, test_snapshot_built_over_ticks);
	tcase_add_loop_test(tc, test_damaged_file_set_aside, 0, DAMAGE_COUNT);
	/* The read-only directory only where permissions apply. */
	tcase_add_loop_test(tc, test_unwritable_state_file_reported_at_start, 0, geteuid() == 0 ? 2 : 3);
	tcase_add_test(tc, test_save_failure_logged_once_and_recovery);
	tcase_add_test(tc, test_no_state_file_no_files);
	tcase_add_test(tc, test_fault_directory_fsync_after_rename);
	tcase_add_loop_test(tc, test_fault_journal_rename, 0, 2);
	tcase_add_test(tc, test_fault_adopt_rename);
	tcase_add_test(tc, test_fault_adopt_open);
	tcase_add_loop_test(tc, test_symlink_refused, 0, 3);
	tcase_add_loop_test(tc, test_journal_sync, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
