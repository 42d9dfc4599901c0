/*
 * A broker's place in a network of bridged brokers: its own name, the
 * usernames of the peer brokers that connect to it (their bridges), and
 * its uplinks (its own bridge connections, read from its configuration by
 * the adapter). Plain values and the pure rules built on them: who sent a
 * message, which return areas a sender may name, where a request leaves.
 */
#ifndef RCPT_NETCONF_H
#define RCPT_NETCONF_H

#include "types.h"

/* One of this broker's own bridge connections. */
struct rcpt_uplink {
	char *name;            /* the `connection` name: the remote broker's broker_name */
	char *local_id;        /* the bridge's client id on this broker */
	char **out_filters;    /* topic filters it carries out (out, both); NULL-terminated */
};

struct rcpt_netconf {
	char *broker_name;     /* NULL: this broker is not in a network */
	char **peers;          /* usernames of peer brokers; NULL-terminated, NULL: none */
	struct rcpt_uplink *uplinks;
	size_t uplink_count;
};

/* Who sent a message, as far as the network goes. */
enum rcpt_link_kind {
	RCPT_LINK_NONE,        /* an ordinary client */
	RCPT_LINK_PEER,        /* a peer broker's bridge connecting here (by username) */
	RCPT_LINK_UPLINK,      /* this broker's own bridge, bringing messages in */
};

struct rcpt_hop {
	enum rcpt_link_kind kind;
	const char *name;      /* the broker at the other end (PEER, UPLINK) */
};

bool rcpt_netconf__owns_key(const char *key);
/* Applies plugin_opt_broker_name or plugin_opt_peers; err gets one line. */
int rcpt_netconf__set(struct rcpt_netconf *n, const char *key, const char *value, char *err, size_t err_size);
int rcpt_netconf__validate(const struct rcpt_netconf *n, char *err, size_t err_size);
/* Adds an uplink; filters: `count` topic filters carried out. Copies. */
int rcpt_netconf__add_uplink(struct rcpt_netconf *n, const char *name, const char *local_id,
		const char *const *filters, size_t count);
void rcpt_netconf__free(struct rcpt_netconf *n);
/* " broker_name=... peers=... uplinks=..." for the start-up line. */
void rcpt_netconf__describe(const struct rcpt_netconf *n, char *buf, size_t size);

static inline bool rcpt_netconf__active(const struct rcpt_netconf *n)
{
	return n->broker_name != NULL;
}

bool rcpt_netconf__is_peer(const struct rcpt_netconf *n, const char *username);
const struct rcpt_uplink *rcpt_netconf__uplink_by_id(const struct rcpt_netconf *n, const char *id);
void rcpt_netconf__sender(const struct rcpt_netconf *n, const struct rcpt_client_ref *who, struct rcpt_hop *out);
/* Does an MQTT topic filter match a topic? */
bool rcpt_netconf__filter_matches(const char *filter, const char *topic);
/* Does any uplink but `except` carry topic out? */
bool rcpt_netconf__leaves(const struct rcpt_netconf *n, const char *topic, const struct rcpt_uplink *except);
/* May `who` (sent as `link`) name the return area whose owner level is
 * owner[0..len)? A client owns its id, unless the id starts with '@'
 * (those levels name brokers); a peer or uplink owns "@<its name>". */
bool rcpt_netconf__owns_area(const struct rcpt_hop *link, const struct rcpt_client_ref *who,
		const char *owner, size_t len);
/* The part of topic after "<return prefix>/@<broker_name>/": a receipt
 * coming back through this broker. NULL: not one. */
const char *rcpt_netconf__own_return(const struct rcpt_netconf *n, const char *topic,
		const char *return_prefix, size_t return_prefix_len);

#endif
