/*
 * A fake host for the receipts core: a clock that moves only when a test
 * says so, and a record of every receipt and log line the core produced, so
 * that a test can assert both what arrived and that nothing else did.
 */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "receipts.h"

/* Not zero, so that "deadline = now + timeout" cannot pass by accident. */
#define FAKE_EPOCH_MS 1000000u

struct fake_receipt {
	char *topic;
	unsigned char *corr;   /* NULL when corr_len is 0 */
	size_t corr_len;
	uint8_t qos;
	char *status;
	char *reason;          /* NULL when the core gave none */
};

/* A plain message: a control reply or a $SYS value. */
struct fake_plain {
	char *to_client;       /* NULL: to subscribers */
	char *topic;
	char *payload;         /* NUL added */
	size_t len;
	bool retain;
};

struct fake_log {
	enum rcpt_log_level level;
	char *line;
};

/* Forgets every record and sets the clock back to FAKE_EPOCH_MS. */
void fake_host__reset(void);
/* Forgets the records, keeps the clock. */
void fake_host__clear(void);
void fake_host__advance_ms(uint64_t ms);
uint64_t fake_host__now_ms(void);
/* The wall clock (host wall_ms) reads CLOCK_REALTIME, as the core itself
 * would, until a test sets it. From then on it moves with
 * fake_host__advance_ms, and fake_host__advance_wall_ms moves it alone (the
 * time a broker was down). fake_host__reset gives the real clock back. */
void fake_host__set_wall_ms(uint64_t wall_ms);
void fake_host__advance_wall_ms(uint64_t ms);
const struct rcpt_host *fake_host__host(void);
/* What publish returns from now on (RCPT_OK by default). */
void fake_host__set_publish_rc(int rc);

/* What the broker's other access control answers (NULL: there is none).
 * client is the asking client's id. Reset by fake_host__reset. */
typedef enum rcpt_others (*fake_others_fn)(const char *client, const char *topic, enum rcpt_others_access access);
void fake_host__set_others(fake_others_fn fn);

size_t fake_host__publish_count(void);
const struct fake_receipt *fake_host__published(size_t i);
size_t fake_host__plain_count(void);
const struct fake_plain *fake_host__plain(size_t i);
size_t fake_host__log_count(enum rcpt_log_level level);
size_t fake_host__log_total(void);
/* The last line logged at level, or NULL. */
const char *fake_host__last_log(enum rcpt_log_level level);

/* ---- helpers shared by the suites ---- */

/* A core with the defaults plus opts: NULL-terminated key, value pairs. */
struct rcpt_core *t_core_new(const char *const *opts);

/* A QoS 1 PUBLISH from a connected clean-start client, nothing else set. */
struct rcpt_publish t_msg(const char *sender, const char *topic);
/* A request: response_topic and corr (a string) may be NULL. */
struct rcpt_publish t_req(const char *sender, const char *topic, const char *response_topic,
		const char *corr);
/* Notes the token of an accepted request (any other decision is ignored). */
void t_note(const struct rcpt_decision *d);
/* The token noted for a request with this return topic and requester's
 * correlation (len 0: it sent none), newest first; NULL if none. */
const uint8_t *t_token_of(const char *topic, const void *corr, size_t len);
/* An answer as a responder writes it: corr is the requester's correlation,
 * replaced by the token of the noted request it names, if any (corr NULL:
 * no correlation at all). */
struct rcpt_publish t_ans(const char *sender, const char *topic, const void *corr, size_t len);

/* A distinct message key per index, as the broker's stored topic pointer. */
const void *t_key(unsigned i);

/* Publishes msg, asserts RCPT_REQUEST with a pending record, and stores it
 * under key as the adapter does. Returns the decision (copied out). */
struct rcpt_decision t_request(struct rcpt_core *core, const struct rcpt_publish *msg, const void *key);
/* One READ check of the request stored under key, by a clean-start client. */
void t_read(struct rcpt_core *core, const void *key, const char *topic, const char *receiver);
void t_read_as(struct rcpt_core *core, const void *key, const char *topic, const char *receiver,
		bool clean);
/* A request to req/<area> from requester, answered to return_topic with
 * corr, delivered to responder and settled. */
void t_delivered(struct rcpt_core *core, const char *requester, const char *area,
		const char *return_topic, const char *corr, const char *responder, unsigned key);

/* Asserts publish i is exactly this receipt (corr NULL: none). */
void t_assert_receipt(size_t i, const char *topic, const void *corr, size_t corr_len,
		uint8_t qos, const char *status, const char *reason);
struct rcpt_stats t_stats(const struct rcpt_core *core);

#endif
