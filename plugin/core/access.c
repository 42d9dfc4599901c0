/*
 * Access rules (see the header).
 */
#include <string.h>

#include "access.h"
#include "names.h"
#include "receipts.h"

/* The control topics answer control users only, whatever acl_fallback
 * says: never give fall-through access to $CONTROL. */
static enum rcpt_access control_access(const struct rcpt_config *cfg, const struct rcpt_client_ref *who)
{
	return rcpt_config__is_control_user(cfg, who->username) ? RCPT_ACCESS_ALLOW : RCPT_ACCESS_DENY;
}

static bool is_control_topic(const char *topic)
{
	return rcpt_names__below(topic, RECEIPTS_CONTROL_TOPIC, strlen(RECEIPTS_CONTROL_TOPIC)) != NULL;
}

/* A return area is its client's; "@<name>" levels are the areas through
 * which receipts go back to broker <name>: only that peer's bridge may read
 * them (netconf.h). */
static bool owns(const struct rcpt_config *cfg, const char *owner, size_t len, const struct rcpt_client_ref *who)
{
	struct rcpt_hop link;
	rcpt_netconf__sender(&cfg->network, who, &link);
	if(link.kind == RCPT_LINK_PEER && owner[0] == '@') return rcpt_netconf__owns_area(&link, who, owner, len);
	link.kind = RCPT_LINK_NONE;
	return rcpt_netconf__owns_area(&link, who, owner, len);
}

enum rcpt_access rcpt_access__read(const struct rcpt_config *cfg, const char *topic,
		const struct rcpt_client_ref *receiver, bool *request_topic)
{
	*request_topic = false;
	if(topic[0] == '$'){
		return is_control_topic(topic) ? control_access(cfg, receiver) : RCPT_ACCESS_FALLBACK;
	}
	const char *rest = rcpt_names__below(topic, cfg->return_prefix, cfg->return_prefix_len);
	if(rest){
		size_t owner_len = rcpt_names__level_len(rest);
		return owns(cfg, rest, owner_len, receiver) ? RCPT_ACCESS_ALLOW : RCPT_ACCESS_DENY;
	}
	*request_topic = rcpt_names__below(topic, cfg->request_prefix, cfg->request_prefix_len) != NULL;
	return RCPT_ACCESS_FALLBACK;
}

enum rcpt_access rcpt_access__write(const struct rcpt_config *cfg, const char *topic,
		const struct rcpt_client_ref *sender)
{
	if(topic[0] == '$'){
		return is_control_topic(topic) ? control_access(cfg, sender) : RCPT_ACCESS_FALLBACK;
	}
	/* Receipts are judged in full at the MESSAGE event, where their
	 * correlation data can be seen. */
	if(rcpt_names__below(topic, cfg->return_prefix, cfg->return_prefix_len)) return RCPT_ACCESS_ALLOW;
	return RCPT_ACCESS_FALLBACK;
}

enum rcpt_access rcpt_access__subscribe(const struct rcpt_config *cfg, const struct rcpt_host *host,
		const char *filter, const struct rcpt_client_ref *subscriber)
{
	/* A shared subscription is judged by the filter it shares. */
	if(!strncmp(filter, "$share/", 7)){
		const char *group_end = strchr(filter + 7, '/');
		if(group_end == NULL) return RCPT_ACCESS_FALLBACK;
		filter = group_end + 1;
	}
	/* A filter that names the control API is for control users. One whose
	 * wildcards merely cover it ($CONTROL/#) is for the other access
	 * control to judge: the broker never delivers $CONTROL publishes to
	 * subscribers, and control replies go to their sender alone. */
	if(rcpt_names__below(filter, RECEIPTS_CONTROL_NAMESPACE, strlen(RECEIPTS_CONTROL_NAMESPACE))){
		enum rcpt_access a = control_access(cfg, subscriber);
		if(a == RCPT_ACCESS_DENY){
			rcpt_host__logf(host, RCPT_LOG_NOTICE, "refused subscription of '%s' to '%s': not a control user",
					subscriber->id, filter);
		}
		return a;
	}
	const char *rest = rcpt_names__below(filter, cfg->return_prefix, cfg->return_prefix_len);
	if(rest == NULL){
		/* Wildcards over the prefix (`#`, `+/...`) are allowed: READ
		 * checks keep other clients' receipts out. */
		return RCPT_ACCESS_FALLBACK;
	}
	if(rest[0] == '\0') return RCPT_ACCESS_FALLBACK;   /* the prefix topic itself */
	size_t owner_len = rcpt_names__level_len(rest);
	if(owns(cfg, rest, owner_len, subscriber) && rcpt_names__valid_level(rest, owner_len)){
		return RCPT_ACCESS_ALLOW;
	}
	rcpt_host__logf(host, RCPT_LOG_NOTICE, "refused subscription of '%s' to '%s': not its return area",
			subscriber->id, filter);
	return RCPT_ACCESS_DENY;
}
