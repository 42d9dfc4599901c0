/*
 * The receipts core: every decision the plugin makes, with no broker in sight.
 *
 * The adapter turns broker events into the plain values below and carries the
 * answers back; the core calls out only through struct rcpt_host. Unit tests
 * drive it with a fake host.
 */
#ifndef RCPT_H
#define RCPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rcpt_core;
struct rcpt_pending;

enum rcpt_rc {
	RCPT_OK = 0,
	RCPT_ERR_NOMEM = 1,
	RCPT_ERR_INVAL = 2,
};

enum rcpt_log_level {
	RCPT_LOG_DEBUG,
	RCPT_LOG_INFO,
	RCPT_LOG_NOTICE,
	RCPT_LOG_WARNING,
	RCPT_LOG_ERR,
	RCPT_LOG_LEVEL_COUNT
};

/* A byte string that is not necessarily NUL-terminated. */
struct rcpt_bytes {
	const void *ptr;
	size_t len;
};

/* ---- configuration (config.c) ---- */

enum rcpt_acl_fallback {
	RCPT_FALLBACK_ALLOW,
	RCPT_FALLBACK_DEFER,
};

struct rcpt_config {
	char *request_prefix;      /* owned */
	char *return_prefix;       /* owned */
	uint32_t default_timeout_ms;
	uint32_t max_timeout_ms;
	uint32_t max_pending;
	uint32_t max_pending_per_client;
	uint32_t max_correlation_len;
	enum rcpt_acl_fallback acl_fallback;
	char **control_users;      /* owned, NULL-terminated; NULL: control API off */
	char *state_file;          /* owned; NULL: pending requests are not saved */
	uint32_t save_interval_s;
	uint32_t sys_interval_s;   /* 0: no $SYS topics */
};

bool rcpt_config__is_control_user(const struct rcpt_config *cfg, const char *username);

/* Fills the defaults. */
int rcpt_config__init(struct rcpt_config *cfg);
/* Applies one `plugin_opt_<key> <value>`. Unknown keys are refused too, so a
 * typo is not silently ignored. On failure writes one line naming the option
 * into err. */
int rcpt_config__set(struct rcpt_config *cfg, const char *key, const char *value,
		char *err, size_t err_size);
/* Cross-option checks, after every option is set. */
int rcpt_config__validate(const struct rcpt_config *cfg, char *err, size_t err_size);
void rcpt_config__free(struct rcpt_config *cfg);
/* One line stating the effective options, for the start-up log. */
void rcpt_config__describe(const struct rcpt_config *cfg, char *buf, size_t size);

/* ---- the host: what the core needs from the world ---- */

/* A receipt the broker itself sends. */
struct rcpt_receipt_out {
	const char *topic;
	struct rcpt_bytes correlation;  /* len 0: none (only when a client set none) */
	uint8_t qos;
	const char *status;             /* RECEIPTS_STATUS_* */
	const char *reason;             /* receipt-reason */
};

struct rcpt_host {
	void *ctx;
	/* Monotonic milliseconds. */
	uint64_t (*now_ms)(void *ctx);
	/* Wall-clock milliseconds since 1970, for the state file. NULL: the
	 * core reads CLOCK_REALTIME itself. */
	uint64_t (*wall_ms)(void *ctx);
	/* Queue a broker-made receipt. Must copy what it keeps. */
	int (*publish)(void *ctx, const struct rcpt_receipt_out *receipt);
	/* Queue a plain QoS 0 message: control replies (to_client set) and $SYS
	 * values (retained). Must copy what it keeps. */
	int (*publish_plain)(void *ctx, const char *to_client, const char *topic,
			const char *payload, size_t len, bool retain);
	/* printf-like, with the level mapped through log_levels. The broker's
	 * own mosquitto_log_printf fits: it formats nothing for a level it does
	 * not log, so debug lines cost nothing on the hot path. */
	void (*log_printf)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	int log_levels[RCPT_LOG_LEVEL_COUNT];
};

/* ---- events in ---- */

/* The sender of a publish, or the receiver in a READ check. */
struct rcpt_client_ref {
	const char *id;
	const char *username;   /* NULL: none */
	bool clean;    /* clean start of its current connection */
};

/* The parts of a PUBLISH the core looks at. Counts are how many user
 * properties of that name the message had; the value is the first one. */
struct rcpt_publish {
	struct rcpt_client_ref sender;
	const char *topic;
	uint8_t qos;
	bool retain;
	struct rcpt_bytes payload;
	bool has_response_topic;
	const char *response_topic;
	bool has_correlation;
	struct rcpt_bytes correlation;
	unsigned subject_area_count;
	const char *subject_area;
	unsigned return_area_count;
	const char *return_area;
	unsigned timeout_count;
	const char *timeout;
};

enum rcpt_action {
	RCPT_PASS,      /* not ours: deliver untouched */
	RCPT_REQUEST,   /* a tracked request: rewrite as the decision says */
	RCPT_RECEIPT,   /* a matched receipt: rewrite as the decision says */
	RCPT_REFUSE,    /* refuse it (reason code 0x87) */
};

/* What to do with a PUBLISH. Pointers stay valid until the next core call. */
struct rcpt_decision {
	enum rcpt_action action;
	const char *reason;                 /* RCPT_REFUSE */
	/* RCPT_REQUEST */
	const char *new_topic;              /* NULL: keep the topic */
	const char *original_topic;         /* set with new_topic: user property to add */
	const char *set_response_topic;     /* NULL: keep the one given */
	struct rcpt_bytes add_correlation;  /* len 0: keep the client's */
	const char *requester;
	struct rcpt_pending *pending;       /* NULL for a QoS 2 retransmission */
	/* RCPT_RECEIPT */
	bool strip_correlation;
};

/* Quick test for the hot path: could this publish concern the core at all?
 * has_user_properties/has_correlation say whether the message carries any. */
bool rcpt_core__may_concern(const struct rcpt_core *core, const char *topic,
		bool has_response_topic, bool has_user_properties, bool has_correlation);

/* Ends the READ checks of earlier PUBLISHes. Cheap; call it at the start of
 * every MESSAGE event, also when may_concern says no. */
void rcpt_core__settle(struct rcpt_core *core);
/* Decide a PUBLISH. */
void rcpt_core__on_publish(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out);
/* The adapter has rewritten an accepted request; message_key identifies the
 * stored message in the READ checks that follow (the broker passes its topic
 * pointer). */
void rcpt_core__request_stored(struct rcpt_core *core, struct rcpt_pending *p,
		const void *message_key, const char *topic);
/* The adapter could not rewrite an accepted request: forget it, no receipt. */
void rcpt_core__request_abort(struct rcpt_core *core, struct rcpt_pending *p);

enum rcpt_access {
	RCPT_ACCESS_ALLOW,
	RCPT_ACCESS_DENY,
	RCPT_ACCESS_FALLBACK,  /* not ours: acl_fallback decides */
};

/* A message is about to be queued to a subscriber. */
enum rcpt_access rcpt_core__on_read(struct rcpt_core *core, const void *message_key,
		const char *topic, const struct rcpt_client_ref *receiver);
enum rcpt_access rcpt_core__on_write(struct rcpt_core *core, const char *topic,
		const struct rcpt_client_ref *sender);
enum rcpt_access rcpt_core__on_subscribe(struct rcpt_core *core, const char *filter,
		const struct rcpt_client_ref *subscriber);
/* clean is what the broker says now: forced true when a newer connection
 * takes the session over. */
void rcpt_core__on_disconnect(struct rcpt_core *core, const char *client_id, bool clean);
void rcpt_core__on_tick(struct rcpt_core *core);

/* A command payload published to RECEIPTS_CONTROL_TOPIC by a control user
 * (the ACL checks keep everyone else out). Sends the JSON reply to the
 * client through publish_plain. */
void rcpt_core__on_control(struct rcpt_core *core, const char *client_id,
		const void *payload, size_t len);

/* ---- life ---- */

/* Takes ownership of cfg's strings. */
struct rcpt_core *rcpt_core__new(const struct rcpt_host *host, struct rcpt_config *cfg);
void rcpt_core__free(struct rcpt_core *core);
/* Saves the pending requests to the state file, if there is one: at a clean
 * shutdown, before rcpt_core__free. */
void rcpt_core__save_state(struct rcpt_core *core);
const struct rcpt_config *rcpt_core__config(const struct rcpt_core *core);

/* ---- numbers ---- */

enum rcpt_outcome {
	RCPT_OUTCOME_OK,
	RCPT_OUTCOME_TIMEOUT,
	RCPT_OUTCOME_NO_RESPONDERS,
	RCPT_OUTCOME_RESPONDER_GONE,
	RCPT_OUTCOME_REJECTED,
	RCPT_OUTCOME_CANCELLED,
	RCPT_OUTCOME_UNMATCHED,
	RCPT_OUTCOME_ABANDONED,
	RCPT_OUTCOME_COUNT
};

const char *rcpt_outcome__name(enum rcpt_outcome o);

struct rcpt_stats {
	uint64_t pending;
	uint64_t pending_high_water;
	uint64_t totals[RCPT_OUTCOME_COUNT];
};

/* Refusal reasons counted in getStats' rejectedByReason. */
extern const char *const rcpt_reject_reasons[];
#define RCPT_REJECT_REASON_COUNT 13

void rcpt_core__stats(const struct rcpt_core *core, struct rcpt_stats *out);

#endif
