/*
 * A broker's place in a network (see the header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "netconf.h"
#include "receipts.h"

bool rcpt_netconf__owns_key(const char *key)
{
	return !strcmp(key, RECEIPTS_OPT_BROKER_NAME) || !strcmp(key, RECEIPTS_OPT_PEERS);
}

/* A broker name becomes a topic level ("@name"): one valid level, and not
 * itself starting with '@'. */
static bool valid_name(const char *s, size_t len)
{
	return len > 0 && s[0] != '@' && rcpt_names__valid_level(s, len);
}

int rcpt_netconf__set(struct rcpt_netconf *n, const char *key, const char *value, char *err, size_t err_size)
{
	if(!strcmp(key, RECEIPTS_OPT_BROKER_NAME)){
		if(!valid_name(value, strlen(value))){
			snprintf(err, err_size, "plugin_opt_%s '%s': must be one topic level without wildcards, "
					"not starting with '$' or '@'", key, value);
			return RCPT_ERR_INVAL;
		}
		char *copy = strdup(value);
		if(copy == NULL){
			snprintf(err, err_size, "plugin_opt_%s: out of memory", key);
			return RCPT_ERR_NOMEM;
		}
		free(n->broker_name);
		n->broker_name = copy;
		return RCPT_OK;
	}
	char **peers;
	int rc = rcpt_names__split_list(value, valid_name, &peers);
	if(rc == RCPT_ERR_INVAL){
		snprintf(err, err_size, "plugin_opt_%s '%s': each username must be one topic level without "
				"wildcards, not starting with '$' or '@'", key, value);
		return rc;
	}
	if(rc){
		snprintf(err, err_size, "plugin_opt_%s: out of memory", key);
		return rc;
	}
	rcpt_names__free_list(n->peers);
	n->peers = peers;
	return RCPT_OK;
}

int rcpt_netconf__validate(const struct rcpt_netconf *n, char *err, size_t err_size)
{
	if(n->peers && n->broker_name == NULL){
		snprintf(err, err_size, "plugin_opt_%s is set, so plugin_opt_%s must be too: receipts find their "
				"way back by broker names", RECEIPTS_OPT_PEERS, RECEIPTS_OPT_BROKER_NAME);
		return RCPT_ERR_INVAL;
	}
	for(char **p = n->peers; p && *p && n->broker_name; p++){
		if(!strcmp(*p, n->broker_name)){
			snprintf(err, err_size, "plugin_opt_%s names this broker itself ('%s')", RECEIPTS_OPT_PEERS, *p);
			return RCPT_ERR_INVAL;
		}
	}
	return RCPT_OK;
}

int rcpt_netconf__add_uplink(struct rcpt_netconf *n, const char *name, const char *local_id,
		const char *const *filters, size_t count)
{
	struct rcpt_uplink *grown = realloc(n->uplinks, (n->uplink_count + 1) * sizeof(*grown));
	if(grown == NULL) return RCPT_ERR_NOMEM;
	n->uplinks = grown;
	struct rcpt_uplink *u = &n->uplinks[n->uplink_count];
	memset(u, 0, sizeof(*u));
	u->name = strdup(name);
	u->local_id = strdup(local_id);
	u->out_filters = calloc(count + 1, sizeof(char *));
	bool ok = u->name && u->local_id && u->out_filters;
	for(size_t i = 0; ok && i < count; i++) ok = (u->out_filters[i] = strdup(filters[i])) != NULL;
	n->uplink_count++;   /* freed with the rest, also when incomplete */
	return ok ? RCPT_OK : RCPT_ERR_NOMEM;
}

void rcpt_netconf__free(struct rcpt_netconf *n)
{
	free(n->broker_name);
	rcpt_names__free_list(n->peers);
	for(size_t i = 0; i < n->uplink_count; i++){
		free(n->uplinks[i].name);
		free(n->uplinks[i].local_id);
		rcpt_names__free_list(n->uplinks[i].out_filters);
	}
	free(n->uplinks);
	memset(n, 0, sizeof(*n));
}

void rcpt_netconf__describe(const struct rcpt_netconf *n, char *buf, size_t size)
{
	size_t used = 0;
	int w = snprintf(buf, size, " broker_name=%s peers=", n->broker_name ? n->broker_name : "(none)");
	if(w < 0 || (size_t)w >= size) return;
	used = (size_t)w;
	for(char **p = n->peers; p && *p && used < size; p++){
		w = snprintf(buf + used, size - used, "%s%s", p == n->peers ? "" : ",", *p);
		if(w < 0) return;
		used += (size_t)w;
	}
	if(n->peers == NULL && used < size) used += (size_t)snprintf(buf + used, size - used, "(none)");
	for(size_t i = 0; i < n->uplink_count && used < size; i++){
		w = snprintf(buf + used, size - used, "%s%s(%s)", i ? "," : " uplinks=", n->uplinks[i].name,
				n->uplinks[i].local_id);
		if(w < 0) return;
		used += (size_t)w;
	}
}

bool rcpt_netconf__is_peer(const struct rcpt_netconf *n, const char *username)
{
	if(username == NULL) return false;
	for(char **p = n->peers; p && *p; p++){
		if(!strcmp(*p, username)) return true;
	}
	return false;
}

const struct rcpt_uplink *rcpt_netconf__uplink_by_id(const struct rcpt_netconf *n, const char *id)
{
	if(id == NULL) return NULL;
	for(size_t i = 0; i < n->uplink_count; i++){
		if(!strcmp(n->uplinks[i].local_id, id)) return &n->uplinks[i];
	}
	return NULL;
}

void rcpt_netconf__sender(const struct rcpt_netconf *n, const struct rcpt_client_ref *who, struct rcpt_hop *out)
{
	out->kind = RCPT_LINK_NONE;
	out->name = NULL;
	if(!rcpt_netconf__active(n)) return;
	if(rcpt_netconf__is_peer(n, who->username)){
		out->kind = RCPT_LINK_PEER;
		out->name = who->username;
		return;
	}
	const struct rcpt_uplink *u = rcpt_netconf__uplink_by_id(n, who->id);
	if(u){
		out->kind = RCPT_LINK_UPLINK;
		out->name = u->name;
	}
}

bool rcpt_netconf__filter_matches(const char *filter, const char *topic)
{
	const char *f = filter, *t = topic;
	for(;;){
		if(f[0] == '#' && f[1] == '\0') return t[0] != '$' || t != topic;
		const char *fe = strchr(f, '/');
		const char *te = strchr(t, '/');
		size_t fl = fe ? (size_t)(fe - f) : strlen(f);
		size_t tl = te ? (size_t)(te - t) : strlen(t);
		if(fl == 1 && f[0] == '+'){
			if(t == topic && t[0] == '$') return false;
		}else if(fl != tl || memcmp(f, t, fl)){
			return false;
		}
		if(fe == NULL && te == NULL) return true;
		if(fe == NULL) return false;
		/* "a/#" also matches "a" */
		if(te == NULL) return !strcmp(fe + 1, "#");
		f = fe + 1;
		t = te + 1;
	}
}

bool rcpt_netconf__leaves(const struct rcpt_netconf *n, const char *topic, const struct rcpt_uplink *except)
{
	for(size_t i = 0; i < n->uplink_count; i++){
		if(&n->uplinks[i] == except) continue;
		for(char **f = n->uplinks[i].out_filters; f && *f; f++){
			if(rcpt_netconf__filter_matches(*f, topic)) return true;
		}
	}
	return false;
}

bool rcpt_netconf__owns_area(const struct rcpt_hop *link, const struct rcpt_client_ref *who,
		const char *owner, size_t len)
{
	if(link->kind != RCPT_LINK_NONE){
		return len == strlen(link->name) + 1 && owner[0] == '@' && !memcmp(owner + 1, link->name, len - 1);
	}
	return len > 0 && owner[0] != '@' && strlen(who->id) == len && !memcmp(owner, who->id, len);
}

const char *rcpt_netconf__own_return(const struct rcpt_netconf *n, const char *topic,
		const char *return_prefix, size_t return_prefix_len)
{
	if(n->broker_name == NULL) return NULL;
	const char *rest = rcpt_names__below(topic, return_prefix, return_prefix_len);
	if(rest == NULL || rest[0] != '@') return NULL;
	size_t len = strlen(n->broker_name);
	if(strncmp(rest + 1, n->broker_name, len) || rest[1 + len] != '/') return NULL;
	return rest + 1 + len + 1;
}
