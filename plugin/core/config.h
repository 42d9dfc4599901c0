/*
 * Plugin options: defaults, parsing of `plugin_opt_*` values, and the checks
 * that make a bad configuration fail at start with a line naming the option.
 */
#ifndef RCPT_CONFIG_H
#define RCPT_CONFIG_H

#include "netconf.h"
#include "types.h"

/* What the plugin answers for a topic it does not govern. auto: the adapter
 * works out at start whether other access control is configured. */
enum rcpt_acl_fallback {
	RCPT_FALLBACK_AUTO,
	RCPT_FALLBACK_ALLOW,
	RCPT_FALLBACK_DEFER,
};

/* Whether a client id is bound to the username that first uses it. */
enum rcpt_bind_mode {
	RCPT_BIND_AUTO,   /* when the broker's configuration authenticates clients */
	RCPT_BIND_ON,
	RCPT_BIND_OFF,
};

/* Requests whose Response Topic lies outside the return prefix. */
enum rcpt_open_return {
	RCPT_OPEN_RETURN_OFF,      /* plain MQTT 5: delivered untouched, untracked */
	RCPT_OPEN_RETURN_TRACKED,  /* tracked, if the requester may write the topic */
};

/* max_pending_anonymous auto: the budget where the broker authenticates
 * (anonymous clients are then the odd ones, and share it), none where it
 * does not (every client is anonymous there). */
#define RCPT_ANONYMOUS_AUTO UINT32_MAX
#define RCPT_ANONYMOUS_AUTO_BUDGET 100000u

struct rcpt_config {
	char *request_prefix;      /* owned */
	char *return_prefix;       /* owned */
	size_t request_prefix_len;
	size_t return_prefix_len;
	uint32_t default_timeout_ms;
	uint32_t max_timeout_ms;
	uint32_t max_pending;
	uint32_t max_pending_per_client;
	uint32_t max_correlation_len;
	uint32_t max_pending_per_user;     /* requests of clients with one username */
	/* Requests of all clients without a username; 0: no such budget;
	 * RCPT_ANONYMOUS_AUTO until resolved at start. */
	uint32_t max_pending_anonymous;
	uint32_t max_return_topic_len;
	uint64_t max_pending_bytes;        /* memory of all pending state */
	enum rcpt_acl_fallback acl_fallback;
	enum rcpt_open_return open_return_topics;
	char **control_users;      /* owned, NULL-terminated; NULL: control API off */
	char *state_file;          /* owned; NULL: pending requests are not saved */
	uint32_t save_interval_s;
	bool journal_sync;         /* fdatasync the journal at every ended request */
	uint32_t sys_interval_s;   /* 0: no $SYS topics */
	enum rcpt_bind_mode bind_client_ids;
	uint32_t qos2_release_grace_ms;
	struct rcpt_netconf network;  /* broker_name, peers, uplinks (netconf.h) */
};

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
const char *rcpt_config__fallback_name(enum rcpt_acl_fallback f);
const char *rcpt_config__open_return_name(enum rcpt_open_return o);
bool rcpt_config__is_control_user(const struct rcpt_config *cfg, const char *username);
const char *rcpt_config__bind_mode_name(enum rcpt_bind_mode mode);
/* Settles every `auto` that depends on whether the broker authenticates
 * clients (bind_client_ids, max_pending_anonymous); explicit values stay. */
void rcpt_config__resolve_auth(struct rcpt_config *cfg, bool broker_authenticates);

#endif
