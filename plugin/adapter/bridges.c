/*
 * This broker's own bridges (see the header). Mosquitto 2.0's rules
 * (src/conf.c): a bridge's options follow its `connection NAME` line; its
 * client id on the remote broker is remote_clientid (alias clientid),
 * default "<hostname>.<NAME>"; its client id on this broker is
 * local_clientid, default "local.<remote_clientid>"; `topic PATTERN
 * [in|out|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]]`, direction out by
 * default, carries LOCAL_PREFIX + PATTERN out of this broker for out and
 * both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridges.h"
#include "brokerconf.h"

#define MAX_TOPICS 64
#define MAX_BRIDGES 32

struct bridge {
	char name[256];
	char remote_id[256];
	char local_id[256];
	char *out[MAX_TOPICS];
	size_t out_count;
};

struct reading {
	struct bridge bridges[MAX_BRIDGES];
	size_t count;
	bool too_many;
	bool nomem;
	struct rcpt_bridges_found *found;
	unsigned plugin_lines;
};

static struct bridge *current(struct reading *r)
{
	return r->count ? &r->bridges[r->count - 1] : NULL;
}

static void add_topic(struct reading *r, struct bridge *b, const char *value)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", value);
	char *save = NULL;
	char *pattern = strtok_r(copy, " \t", &save);
	char *dir = strtok_r(NULL, " \t", &save);
	strtok_r(NULL, " \t", &save);   /* qos */
	char *local_prefix = strtok_r(NULL, " \t", &save);
	if(pattern == NULL) return;
	if(!strcmp(pattern, "\"\"")) pattern = "";
	if(dir && !strcmp(dir, "in")) return;
	if(local_prefix && !strcmp(local_prefix, "\"\"")) local_prefix = NULL;
	if(b->out_count == MAX_TOPICS) return;
	size_t len = (local_prefix ? strlen(local_prefix) : 0) + strlen(pattern) + 1;
	char *f = malloc(len);
	if(f == NULL){
		r->nomem = true;
		return;
	}
	snprintf(f, len, "%s%s", local_prefix ? local_prefix : "", pattern);
	b->out[b->out_count++] = f;
}

static void visit(void *ctx, const char *key, const char *value)
{
	struct reading *r = ctx;
	struct bridge *b = current(r);
	if(!strcmp(key, "connection")){
		if(r->count == MAX_BRIDGES){
			r->too_many = true;
			return;
		}
		b = &r->bridges[r->count++];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", value);
		r->found->connections++;
	}else if(!strcmp(key, "password_file") || !strcmp(key, "auth_plugin")){
		r->found->authenticates = true;
	}else if(!strcmp(key, "plugin") || !strcmp(key, "global_plugin")){
		/* ours is one; another may authenticate */
		if(++r->plugin_lines > 1) r->found->authenticates = true;
	}else if(!strcmp(key, "allow_anonymous")){
		r->found->allow_anonymous = !strcmp(value, "true");
	}else if(b && (!strcmp(key, "remote_clientid") || !strcmp(key, "clientid"))){
		snprintf(b->remote_id, sizeof(b->remote_id), "%s", value);
	}else if(b && !strcmp(key, "local_clientid")){
		snprintf(b->local_id, sizeof(b->local_id), "%s", value);
	}else if(b && !strcmp(key, "topic")){
		add_topic(r, b, value);
	}
}

bool rcpt_bridges__discover(const char *conf_path, struct rcpt_netconf *n, struct rcpt_bridges_found *found)
{
	memset(found, 0, sizeof(*found));
	struct reading *r = calloc(1, sizeof(*r));
	if(r == NULL){
		snprintf(found->why, sizeof(found->why), "out of memory");
		return false;
	}
	r->found = found;
	bool ok = rcpt_brokerconf__visit(conf_path, visit, r, found->why, sizeof(found->why));
	if(ok && (r->nomem || r->too_many)){
		snprintf(found->why, sizeof(found->why), r->nomem ? "out of memory" : "more than %d bridges", MAX_BRIDGES);
		ok = false;
	}
	for(size_t i = 0; ok && n->broker_name && i < r->count; i++){
		struct bridge *b = &r->bridges[i];
		if(b->remote_id[0] == '\0'){
			char host[128];
			if(gethostname(host, sizeof(host))) snprintf(host, sizeof(host), "localhost");
			host[sizeof(host) - 1] = '\0';
			snprintf(b->remote_id, sizeof(b->remote_id), "%s.%s", host, b->name);
		}
		if(b->local_id[0] == '\0') snprintf(b->local_id, sizeof(b->local_id), "local.%s", b->remote_id);
		if(rcpt_netconf__add_uplink(n, b->name, b->local_id, (const char *const *)b->out, b->out_count)){
			snprintf(found->why, sizeof(found->why), "out of memory");
			ok = false;
		}
	}
	for(size_t i = 0; i < r->count; i++){
		for(size_t k = 0; k < r->bridges[i].out_count; k++) free(r->bridges[i].out[k]);
	}
	free(r);
	return ok;
}
