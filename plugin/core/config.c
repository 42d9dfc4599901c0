/*
 * Plugin options: defaults, parsing of `plugin_opt_*` values, and the checks
 * that make a bad configuration fail at start with a line naming the option.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "names.h"
#include "receipts.h"

int rcpt_config__init(struct rcpt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->request_prefix = strdup("req");
	cfg->return_prefix = strdup("ret");
	if(cfg->request_prefix == NULL || cfg->return_prefix == NULL){
		rcpt_config__free(cfg);
		return RCPT_ERR_NOMEM;
	}
	cfg->request_prefix_len = strlen(cfg->request_prefix);
	cfg->return_prefix_len = strlen(cfg->return_prefix);
	cfg->default_timeout_ms = 30000;
	cfg->max_timeout_ms = 300000;
	cfg->max_pending = 1000000;
	cfg->max_pending_per_client = 10000;
	cfg->max_correlation_len = 256;
	cfg->max_pending_per_user = 10000;
	cfg->max_pending_anonymous = RCPT_ANONYMOUS_AUTO;
	cfg->max_return_topic_len = 256;
	cfg->max_pending_bytes = 256u * 1024 * 1024;
	cfg->acl_fallback = RCPT_FALLBACK_AUTO;
	cfg->open_return_topics = RCPT_OPEN_RETURN_OFF;
	cfg->sys_interval_s = 10;
	cfg->save_interval_s = 5;
	cfg->bind_client_ids = RCPT_BIND_AUTO;
	cfg->qos2_release_grace_ms = 10000;
	return RCPT_OK;
}

void rcpt_config__free(struct rcpt_config *cfg)
{
	rcpt_names__free_list(cfg->control_users);
	cfg->control_users = NULL;
	free(cfg->state_file);
	cfg->state_file = NULL;
	free(cfg->request_prefix);
	free(cfg->return_prefix);
	cfg->request_prefix = NULL;
	cfg->return_prefix = NULL;
	rcpt_netconf__free(&cfg->network);
}

/* A prefix is one or more topic levels: no wildcards, no empty level, not
 * under $ (the broker keeps $ topics to itself). */
static bool valid_prefix(const char *s)
{
	size_t len = strlen(s);
	if(len == 0 || len > 256 || s[0] == '$') return false;
	if(rcpt_names__has_wildcard(s)) return false;
	if(s[0] == '/' || s[len - 1] == '/' || strstr(s, "//")) return false;
	return rcpt_names__valid_utf8(s, len);
}

static int parse_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out)
{
	if(value[0] < '0' || value[0] > '9') return RCPT_ERR_INVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(value, &end, 10);
	if(errno || *end != '\0' || v < min || v > max) return RCPT_ERR_INVAL;
	*out = (uint32_t)v;
	return RCPT_OK;
}

static int set_prefix(char **slot, size_t *len, const char *value)
{
	if(!valid_prefix(value)) return RCPT_ERR_INVAL;
	char *copy = strdup(value);
	if(copy == NULL) return RCPT_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	*len = strlen(copy);
	return RCPT_OK;
}

/* "admin, ops" -> {"admin", "ops", NULL}. Names are trimmed; an empty
 * list turns the control API off. */
static int set_users(struct rcpt_config *cfg, const char *value)
{
	char **users;
	int rc = rcpt_names__split_list(value, NULL, &users);
	if(rc) return rc;
	rcpt_names__free_list(cfg->control_users);
	cfg->control_users = users;
	return RCPT_OK;
}

const char *rcpt_config__fallback_name(enum rcpt_acl_fallback f)
{
	switch(f){
		case RCPT_FALLBACK_ALLOW: return "allow";
		case RCPT_FALLBACK_DEFER: return "defer";
		default: return "auto";
	}
}

const char *rcpt_config__open_return_name(enum rcpt_open_return o)
{
	return o == RCPT_OPEN_RETURN_TRACKED ? "tracked" : "off";
}

bool rcpt_config__is_control_user(const struct rcpt_config *cfg, const char *username)
{
	if(cfg->control_users == NULL || username == NULL) return false;
	for(char **u = cfg->control_users; *u; u++){
		if(!strcmp(*u, username)) return true;
	}
	return false;
}

static const struct {
	const char *name;
	size_t offset;
	uint32_t min;
	uint32_t max;
} numeric_options[] = {
	{RECEIPTS_OPT_DEFAULT_TIMEOUT_MS, offsetof(struct rcpt_config, default_timeout_ms), 1, 86400000},
	{RECEIPTS_OPT_MAX_TIMEOUT_MS, offsetof(struct rcpt_config, max_timeout_ms), 1, 86400000},
	{RECEIPTS_OPT_MAX_PENDING, offsetof(struct rcpt_config, max_pending), 1, 100000000},
	{RECEIPTS_OPT_MAX_PENDING_PER_CLIENT, offsetof(struct rcpt_config, max_pending_per_client), 1, 100000000},
	{RECEIPTS_OPT_MAX_CORRELATION_LEN, offsetof(struct rcpt_config, max_correlation_len), 1, 65535},
	{RECEIPTS_OPT_MAX_PENDING_PER_USER, offsetof(struct rcpt_config, max_pending_per_user), 1, 100000000},
	{RECEIPTS_OPT_MAX_PENDING_ANONYMOUS, offsetof(struct rcpt_config, max_pending_anonymous), 0, 100000000},
	{RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN, offsetof(struct rcpt_config, max_return_topic_len), 1, 65535},
	{RECEIPTS_OPT_SYS_INTERVAL_S, offsetof(struct rcpt_config, sys_interval_s), 0, 86400},
	{RECEIPTS_OPT_SAVE_INTERVAL_S, offsetof(struct rcpt_config, save_interval_s), 1, 3600},
	{RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS, offsetof(struct rcpt_config, qos2_release_grace_ms), 1, 86400000},
};

int rcpt_config__set(struct rcpt_config *cfg, const char *key, const char *value,
		char *err, size_t err_size)
{
	int rc;

	if(key == NULL || value == NULL){
		snprintf(err, err_size, "option with no name or value");
		return RCPT_ERR_INVAL;
	}
	if(!strcmp(key, RECEIPTS_OPT_REQUEST_PREFIX) || !strcmp(key, RECEIPTS_OPT_RETURN_PREFIX)){
		bool request = !strcmp(key, RECEIPTS_OPT_REQUEST_PREFIX);
		rc = set_prefix(request ? &cfg->request_prefix : &cfg->return_prefix,
				request ? &cfg->request_prefix_len : &cfg->return_prefix_len, value);
		if(rc == RCPT_ERR_INVAL){
			snprintf(err, err_size, "plugin_opt_%s '%s': must be one or more topic levels "
					"without wildcards, empty levels or a leading '$'", key, value);
		}else if(rc){
			snprintf(err, err_size, "plugin_opt_%s: out of memory", key);
		}
		return rc;
	}
	if(rcpt_netconf__owns_key(key)) return rcpt_netconf__set(&cfg->network, key, value, err, err_size);
	if(!strcmp(key, RECEIPTS_OPT_STATE_FILE)){
		free(cfg->state_file);
		cfg->state_file = NULL;
		if(value[0] == '\0') return RCPT_OK;
		cfg->state_file = strdup(value);
		if(cfg->state_file == NULL){
			snprintf(err, err_size, "plugin_opt_%s: out of memory", key);
			return RCPT_ERR_NOMEM;
		}
		return RCPT_OK;
	}
	if(!strcmp(key, RECEIPTS_OPT_CONTROL_USERS)){
		rc = set_users(cfg, value);
		if(rc) snprintf(err, err_size, "plugin_opt_%s: out of memory", key);
		return rc;
	}
	if(!strcmp(key, RECEIPTS_OPT_MAX_PENDING_BYTES)){
		/* 4 KiB (a few requests) to 1 TiB. */
		const uint64_t min = 4096, max = (uint64_t)1 << 40;
		errno = 0;
		char *end;
		unsigned long long v = value[0] >= '0' && value[0] <= '9' ? strtoull(value, &end, 10) : 0;
		if(value[0] < '0' || value[0] > '9' || errno || *end != '\0' || v < min || v > max){
			snprintf(err, err_size, "plugin_opt_%s '%s': must be a whole number of bytes from %llu to %llu",
					key, value, (unsigned long long)min, (unsigned long long)max);
			return RCPT_ERR_INVAL;
		}
		cfg->max_pending_bytes = v;
		return RCPT_OK;
	}
	if(!strcmp(key, RECEIPTS_OPT_JOURNAL_SYNC)){
		if(!strcmp(value, "true")){
			cfg->journal_sync = true;
		}else if(!strcmp(value, "false")){
			cfg->journal_sync = false;
		}else{
			snprintf(err, err_size, "plugin_opt_%s '%s': must be 'true' or 'false'", key, value);
			return RCPT_ERR_INVAL;
		}
		return RCPT_OK;
	}
	if(!strcmp(key, RECEIPTS_OPT_ACL_FALLBACK)){
		if(!strcmp(value, "auto")){
			cfg->acl_fallback = RCPT_FALLBACK_AUTO;
		}else if(!strcmp(value, "allow")){
			cfg->acl_fallback = RCPT_FALLBACK_ALLOW;
		}else if(!strcmp(value, "defer")){
			cfg->acl_fallback = RCPT_FALLBACK_DEFER;
		}else{
			snprintf(err, err_size, "plugin_opt_%s '%s': must be 'auto', 'allow' or 'defer'", key, value);
			return RCPT_ERR_INVAL;
		}
		return RCPT_OK;
	}
	if(!strcmp(key, RECEIPTS_OPT_OPEN_RETURN_TOPICS)){
		if(!strcmp(value, "off")){
			cfg->open_return_topics = RCPT_OPEN_RETURN_OFF;
		}else if(!strcmp(value, "tracked")){
			cfg->open_return_topics = RCPT_OPEN_RETURN_TRACKED;
		}else{
			snprintf(err, err_size, "plugin_opt_%s '%s': must be 'off' or 'tracked'", key, value);
			return RCPT_ERR_INVAL;
		}
		return RCPT_OK;
	}
	if(!strcmp(key, RECEIPTS_OPT_BIND_CLIENT_IDS)){
		if(!strcmp(value, "auto")){
			cfg->bind_client_ids = RCPT_BIND_AUTO;
		}else if(!strcmp(value, "true")){
			cfg->bind_client_ids = RCPT_BIND_ON;
		}else if(!strcmp(value, "false")){
			cfg->bind_client_ids = RCPT_BIND_OFF;
		}else{
			snprintf(err, err_size, "plugin_opt_%s '%s': must be 'auto', 'true' or 'false'", key, value);
			return RCPT_ERR_INVAL;
		}
		return RCPT_OK;
	}
	if(!strcmp(key, RECEIPTS_OPT_MAX_PENDING_ANONYMOUS) && !strcmp(value, "auto")){
		cfg->max_pending_anonymous = RCPT_ANONYMOUS_AUTO;
		return RCPT_OK;
	}
	for(size_t i = 0; i < sizeof(numeric_options) / sizeof(numeric_options[0]); i++){
		if(strcmp(key, numeric_options[i].name)) continue;
		uint32_t *slot = (uint32_t *)(void *)((char *)cfg + numeric_options[i].offset);
		if(parse_u32(value, numeric_options[i].min, numeric_options[i].max, slot)){
			bool anonymous = !strcmp(key, RECEIPTS_OPT_MAX_PENDING_ANONYMOUS);
			snprintf(err, err_size, "plugin_opt_%s '%s': must be %sa whole number from %u to %u",
					key, value, anonymous ? "'auto' or " : "", numeric_options[i].min, numeric_options[i].max);
			return RCPT_ERR_INVAL;
		}
		return RCPT_OK;
	}
	snprintf(err, err_size, "plugin_opt_%s: unknown option", key);
	return RCPT_ERR_INVAL;
}

/* True when one prefix is the other or lies below it: their topics would
 * overlap and a topic could be both a request and a receipt. */
static bool prefixes_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la < lb ? la : lb;
	if(strncmp(a, b, n)) return false;
	const char *longer = la > lb ? a : b;
	return longer[n] == '\0' || longer[n] == '/';
}

int rcpt_config__validate(const struct rcpt_config *cfg, char *err, size_t err_size)
{
	if(cfg->default_timeout_ms > cfg->max_timeout_ms){
		snprintf(err, err_size, "plugin_opt_%s (%u) is larger than plugin_opt_%s (%u)",
				RECEIPTS_OPT_DEFAULT_TIMEOUT_MS, cfg->default_timeout_ms,
				RECEIPTS_OPT_MAX_TIMEOUT_MS, cfg->max_timeout_ms);
		return RCPT_ERR_INVAL;
	}
	if(cfg->max_pending_per_client > cfg->max_pending){
		snprintf(err, err_size, "plugin_opt_%s (%u) is larger than plugin_opt_%s (%u)",
				RECEIPTS_OPT_MAX_PENDING_PER_CLIENT, cfg->max_pending_per_client,
				RECEIPTS_OPT_MAX_PENDING, cfg->max_pending);
		return RCPT_ERR_INVAL;
	}
	if(prefixes_overlap(cfg->request_prefix, cfg->return_prefix)){
		snprintf(err, err_size, "plugin_opt_%s '%s' and plugin_opt_%s '%s' overlap",
				RECEIPTS_OPT_REQUEST_PREFIX, cfg->request_prefix,
				RECEIPTS_OPT_RETURN_PREFIX, cfg->return_prefix);
		return RCPT_ERR_INVAL;
	}
	return rcpt_netconf__validate(&cfg->network, err, err_size);
}

const char *rcpt_config__bind_mode_name(enum rcpt_bind_mode mode)
{
	switch(mode){
		case RCPT_BIND_ON: return "true";
		case RCPT_BIND_OFF: return "false";
		default: return "auto";
	}
}

void rcpt_config__resolve_auth(struct rcpt_config *cfg, bool broker_authenticates)
{
	if(cfg->bind_client_ids == RCPT_BIND_AUTO){
		cfg->bind_client_ids = broker_authenticates ? RCPT_BIND_ON : RCPT_BIND_OFF;
	}
	if(cfg->max_pending_anonymous == RCPT_ANONYMOUS_AUTO){
		cfg->max_pending_anonymous = broker_authenticates ? RCPT_ANONYMOUS_AUTO_BUDGET : 0;
	}
}

void rcpt_config__describe(const struct rcpt_config *cfg, char *buf, size_t size)
{
	char anonymous[16] = "auto";
	if(cfg->max_pending_anonymous != RCPT_ANONYMOUS_AUTO){
		snprintf(anonymous, sizeof(anonymous), "%u", cfg->max_pending_anonymous);
	}
	int n = snprintf(buf, size, "request_prefix=%s return_prefix=%s default_timeout_ms=%u "
			"max_timeout_ms=%u max_pending=%u max_pending_per_client=%u "
			"max_pending_per_user=%u max_pending_anonymous=%s max_pending_bytes=%llu "
			"max_correlation_len=%u max_return_topic_len=%u acl_fallback=%s open_return_topics=%s sys_interval_s=%u "
			"state_file=%s save_interval_s=%u journal_sync=%s bind_client_ids=%s qos2_release_grace_ms=%u "
			"control_users=",
			cfg->request_prefix, cfg->return_prefix, cfg->default_timeout_ms,
			cfg->max_timeout_ms, cfg->max_pending, cfg->max_pending_per_client,
			cfg->max_pending_per_user, anonymous, (unsigned long long)cfg->max_pending_bytes,
			cfg->max_correlation_len, cfg->max_return_topic_len,
			rcpt_config__fallback_name(cfg->acl_fallback),
			rcpt_config__open_return_name(cfg->open_return_topics),
			cfg->sys_interval_s, cfg->state_file ? cfg->state_file : "(none)", cfg->save_interval_s,
			cfg->journal_sync ? "true" : "false",
			rcpt_config__bind_mode_name(cfg->bind_client_ids), cfg->qos2_release_grace_ms);
	for(char **u = cfg->control_users; u && *u && n >= 0 && (size_t)n < size; u++){
		n += snprintf(buf + n, size - (size_t)n, "%s%s", u == cfg->control_users ? "" : ",", *u);
	}
	if(cfg->control_users == NULL && n >= 0 && (size_t)n < size) n += snprintf(buf + n, size - (size_t)n, "(none: control API off)");
	if(rcpt_netconf__active(&cfg->network) && n >= 0 && (size_t)n < size){
		rcpt_netconf__describe(&cfg->network, buf + n, size - (size_t)n);
	}
}
