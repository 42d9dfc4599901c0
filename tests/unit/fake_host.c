/*
 * The fake host and the helpers the suites share. Every record is a deep
 * copy: the core promises its pointers only for the duration of the call.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_host.h"
#include "pending.h"

static uint64_t clock_ms = FAKE_EPOCH_MS;
static int publish_rc = RCPT_OK;
static bool wall_set;
static uint64_t wall_offset_ms;   /* wall = clock_ms + offset, once set */

static struct fake_receipt *receipts;
static size_t receipt_count, receipt_cap;
static struct fake_plain *plains;
static size_t plain_count, plain_cap;
static struct fake_log *logs;
static size_t log_count, log_cap;

static char *dup_or_null(const char *s)
{
	if(s == NULL) return NULL;
	char *c = strdup(s);
	ck_assert_ptr_nonnull(c);
	return c;
}

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static uint64_t fake_wall(void *ctx)
{
	(void)ctx;
	if(wall_set) return clock_ms + wall_offset_ms;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int fake_publish(void *ctx, const struct rcpt_receipt_out *r)
{
	(void)ctx;
	if(receipt_count == receipt_cap){
		receipt_cap = receipt_cap ? receipt_cap * 2 : 16;
		receipts = realloc(receipts, receipt_cap * sizeof(*receipts));
		ck_assert_ptr_nonnull(receipts);
	}
	struct fake_receipt *f = &receipts[receipt_count++];
	memset(f, 0, sizeof(*f));
	f->topic = dup_or_null(r->topic);
	f->corr_len = r->correlation.len;
	if(f->corr_len){
		f->corr = malloc(f->corr_len);
		ck_assert_ptr_nonnull(f->corr);
		memcpy(f->corr, r->correlation.ptr, f->corr_len);
	}
	f->qos = r->qos;
	f->status = dup_or_null(r->status);
	f->reason = dup_or_null(r->reason);
	return publish_rc;
}

static int fake_publish_plain(void *ctx, const char *to_client, const char *topic,
		const char *payload, size_t len, bool retain)
{
	(void)ctx;
	if(plain_count == plain_cap){
		plain_cap = plain_cap ? plain_cap * 2 : 16;
		plains = realloc(plains, plain_cap * sizeof(*plains));
		ck_assert_ptr_nonnull(plains);
	}
	struct fake_plain *f = &plains[plain_count++];
	f->to_client = dup_or_null(to_client);
	f->topic = dup_or_null(topic);
	f->payload = malloc(len + 1);
	ck_assert_ptr_nonnull(f->payload);
	memcpy(f->payload, payload, len);
	f->payload[len] = '\0';
	f->len = len;
	f->retain = retain;
	return RCPT_OK;
}

/* The core calls it with its own levels (log_levels below maps them to
 * themselves) and a "receipts: " prefix, which is dropped here. */
static void fake_log_printf(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	const char *prefix = "receipts: ";
	const char *text = strncmp(line, prefix, strlen(prefix)) ? line : line + strlen(prefix);
	if(log_count == log_cap){
		log_cap = log_cap ? log_cap * 2 : 16;
		logs = realloc(logs, log_cap * sizeof(*logs));
		ck_assert_ptr_nonnull(logs);
	}
	logs[log_count].level = (enum rcpt_log_level)level;
	logs[log_count].line = dup_or_null(text);
	log_count++;
}

static fake_others_fn others_fn;

/* The client handle of every fake client is its id. */
static enum rcpt_others fake_ask_others(void *ctx, const void *client, const char *topic,
		enum rcpt_others_access access)
{
	(void)ctx;
	return others_fn ? others_fn(client, topic, access) : RCPT_OTHERS_NONE;
}

void fake_host__set_others(fake_others_fn fn)
{
	others_fn = fn;
}

static const struct rcpt_host host = {
	.ctx = NULL,
	.now_ms = fake_now,
	.wall_ms = fake_wall,
	.publish = fake_publish,
	.publish_plain = fake_publish_plain,
	.log_printf = fake_log_printf,
	.log_levels = {RCPT_LOG_DEBUG, RCPT_LOG_INFO, RCPT_LOG_NOTICE, RCPT_LOG_WARNING, RCPT_LOG_ERR},
	.ask_others = fake_ask_others,
};

void fake_host__clear(void)
{
	for(size_t i = 0; i < receipt_count; i++){
		free(receipts[i].topic);
		free(receipts[i].corr);
		free(receipts[i].status);
		free(receipts[i].reason);
	}
	for(size_t i = 0; i < plain_count; i++){
		free(plains[i].to_client);
		free(plains[i].topic);
		free(plains[i].payload);
	}
	for(size_t i = 0; i < log_count; i++) free(logs[i].line);
	free(plains);
	plains = NULL;
	plain_count = plain_cap = 0;
	free(receipts);
	free(logs);
	receipts = NULL;
	logs = NULL;
	receipt_count = receipt_cap = log_count = log_cap = 0;
}

/* ---- tokens handed to responders ---- */

/* What a responder received: the token of each request, by the return
 * topic and correlation the requester sent, so that an answer written
 * with the requester's correlation carries the token as a real responder's
 * would. The newest entries win; a ring is plenty for one test. */
struct token_entry {
	char topic[160];
	unsigned char corr[64];
	size_t corr_len;
	uint8_t token[RCPT_TOKEN_LEN];
};
static struct token_entry book[1024];
static size_t book_count;

void t_note(const struct rcpt_decision *d)
{
	if(d->action != RCPT_REQUEST || d->add_correlation.len != RCPT_TOKEN_LEN) return;
	const struct rcpt_pending *p = d->pending;
	if(p == NULL || p->topic_len >= sizeof(book[0].topic) || p->correlation_len > sizeof(book[0].corr)) return;
	struct token_entry *e = &book[book_count++ % (sizeof(book) / sizeof(book[0]))];
	memcpy(e->topic, rcpt_pending__topic(p), p->topic_len + 1u);
	memcpy(e->corr, rcpt_pending__correlation(p), p->correlation_len);
	e->corr_len = p->correlation_len;
	memcpy(e->token, p->token, RCPT_TOKEN_LEN);
}

const uint8_t *t_token_of(const char *topic, const void *corr, size_t len)
{
	size_t n = book_count < sizeof(book) / sizeof(book[0]) ? book_count : sizeof(book) / sizeof(book[0]);
	for(size_t i = 0; i < n; i++){
		const struct token_entry *e = &book[(book_count - 1 - i) % (sizeof(book) / sizeof(book[0]))];
		if(!strcmp(e->topic, topic) && e->corr_len == len && (len == 0 || !memcmp(e->corr, corr, len))){
			return e->token;
		}
	}
	return NULL;
}

void fake_host__reset(void)
{
	fake_host__clear();
	book_count = 0;
	clock_ms = FAKE_EPOCH_MS;
	publish_rc = RCPT_OK;
	wall_set = false;
	wall_offset_ms = 0;
	others_fn = NULL;
}

void fake_host__advance_ms(uint64_t ms)
{
	clock_ms += ms;
}

uint64_t fake_host__now_ms(void)
{
	return clock_ms;
}

void fake_host__set_wall_ms(uint64_t wall_ms)
{
	wall_set = true;
	wall_offset_ms = wall_ms - clock_ms;
}

void fake_host__advance_wall_ms(uint64_t ms)
{
	ck_assert_msg(wall_set, "fake_host__advance_wall_ms before fake_host__set_wall_ms");
	wall_offset_ms += ms;
}

const struct rcpt_host *fake_host__host(void)
{
	return &host;
}

void fake_host__set_publish_rc(int rc)
{
	publish_rc = rc;
}

size_t fake_host__publish_count(void)
{
	return receipt_count;
}

const struct fake_receipt *fake_host__published(size_t i)
{
	ck_assert_uint_lt(i, receipt_count);
	return &receipts[i];
}

size_t fake_host__plain_count(void)
{
	return plain_count;
}

const struct fake_plain *fake_host__plain(size_t i)
{
	ck_assert_uint_lt(i, plain_count);
	return &plains[i];
}

size_t fake_host__log_count(enum rcpt_log_level level)
{
	size_t n = 0;
	for(size_t i = 0; i < log_count; i++) n += logs[i].level == level;
	return n;
}

size_t fake_host__log_total(void)
{
	return log_count;
}

const char *fake_host__last_log(enum rcpt_log_level level)
{
	for(size_t i = log_count; i > 0; i--){
		if(logs[i - 1].level == level) return logs[i - 1].line;
	}
	return NULL;
}

/* ---- helpers ---- */

struct rcpt_core *t_core_new(const char *const *opts)
{
	struct rcpt_config cfg;
	char err[256] = "";
	ck_assert_int_eq(rcpt_config__init(&cfg), RCPT_OK);
	for(size_t i = 0; opts && opts[i]; i += 2){
		ck_assert_msg(rcpt_config__set(&cfg, opts[i], opts[i + 1], err, sizeof(err)) == RCPT_OK,
				"option %s=%s: %s", opts[i], opts[i + 1], err);
	}
	ck_assert_msg(rcpt_config__validate(&cfg, err, sizeof(err)) == RCPT_OK, "%s", err);
	struct rcpt_core *core = rcpt_core__new(fake_host__host(), &cfg);
	ck_assert_ptr_nonnull(core);
	return core;
}

struct rcpt_publish t_msg(const char *sender, const char *topic)
{
	struct rcpt_publish m;
	memset(&m, 0, sizeof(m));
	m.sender.id = sender;
	m.sender.clean = true;
	m.sender.handle = sender;
	m.topic = topic;
	m.qos = 1;
	m.payload.ptr = "payload";
	m.payload.len = 7;
	return m;
}

struct rcpt_publish t_req(const char *sender, const char *topic, const char *response_topic,
		const char *corr)
{
	struct rcpt_publish m = t_msg(sender, topic);
	if(response_topic){
		m.has_response_topic = true;
		m.response_topic = response_topic;
	}
	if(corr){
		m.has_correlation = true;
		m.correlation.ptr = corr;
		m.correlation.len = strlen(corr);
	}
	return m;
}

struct rcpt_publish t_ans(const char *sender, const char *topic, const void *corr, size_t len)
{
	struct rcpt_publish m = t_msg(sender, topic);
	if(corr){
		const uint8_t *token = t_token_of(topic, corr, len);
		m.has_correlation = true;
		m.correlation.ptr = token ? (const void *)token : corr;
		m.correlation.len = token ? RCPT_TOKEN_LEN : len;
	}
	return m;
}

static char key_space[8192];

const void *t_key(unsigned i)
{
	ck_assert_uint_lt(i, sizeof(key_space));
	return &key_space[i];
}

struct rcpt_decision t_request(struct rcpt_core *core, const struct rcpt_publish *msg, const void *key)
{
	struct rcpt_decision d;
	rcpt_core__on_publish(core, msg, &d);
	t_note(&d);
	ck_assert_msg(d.action == RCPT_REQUEST, "request on '%s' from '%s': action %d reason %s",
			msg->topic, msg->sender.id, (int)d.action, d.reason ? d.reason : "-");
	ck_assert_ptr_nonnull(d.pending);
	rcpt_core__request_stored(core, d.pending, key, d.new_topic ? d.new_topic : msg->topic);
	return d;
}

void t_read_as(struct rcpt_core *core, const void *key, const char *topic, const char *receiver,
		bool clean)
{
	struct rcpt_client_ref who = {.id = receiver, .clean = clean, .handle = receiver};
	ck_assert_int_eq(rcpt_core__on_read(core, key, topic, false, &who), RCPT_ACCESS_FALLBACK);
}

void t_read(struct rcpt_core *core, const void *key, const char *topic, const char *receiver)
{
	t_read_as(core, key, topic, receiver, true);
}

void t_delivered(struct rcpt_core *core, const char *requester, const char *area,
		const char *return_topic, const char *corr, const char *responder, unsigned key)
{
	char topic[200];
	snprintf(topic, sizeof(topic), "req/%s", area);
	struct rcpt_publish m = t_req(requester, topic, return_topic, corr);
	t_request(core, &m, t_key(key));
	t_read(core, t_key(key), topic, responder);
	rcpt_core__settle(core);
}

void t_assert_receipt(size_t i, const char *topic, const void *corr, size_t corr_len,
		uint8_t qos, const char *status, const char *reason)
{
	const struct fake_receipt *r = fake_host__published(i);
	ck_assert_str_eq(r->topic, topic);
	ck_assert_uint_eq(r->corr_len, corr ? corr_len : 0);
	if(corr && corr_len) ck_assert_mem_eq(r->corr, corr, corr_len);
	ck_assert_uint_eq(r->qos, qos);
	ck_assert_str_eq(r->status, status);
	ck_assert_pstr_eq(r->reason, reason);
}

struct rcpt_stats t_stats(const struct rcpt_core *core)
{
	struct rcpt_stats s;
	rcpt_core__stats(core, &s);
	return s;
}
