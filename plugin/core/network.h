/*
 * Requests and receipts across bridged brokers: what this broker adds to a
 * request that may leave towards another broker (its level in the return
 * topic, a shortened timeout, the requester's broker), the hops it hands a
 * request to (its own bridges), receipts coming back through it, and the
 * verdicts of other brokers. Also which connections are the network's own
 * links, and which client ids only they may use.
 */
#ifndef RCPT_NETWORK_H
#define RCPT_NETWORK_H

#include "events.h"
#include "identity.h"
#include "netconf.h"

struct rcpt_core;
struct rcpt_client;

/* network.c's part of the core. */
struct rcpt_network {
	char *topic_buf;                /* a rewritten return topic, or a receipt's topic back */
	char timeout_buf[16];
	/* Peers' client ids, each bound to its peer's username the first time
	 * it is seen: whatever plugin_opt_bind_client_ids says, nobody else may
	 * take a peer's id. A keyed hash table (identity.c's, always on). */
	struct rcpt_identity peer_ids;
};

int rcpt_network__init(struct rcpt_core *core);
void rcpt_network__free(struct rcpt_core *core);

/* Who sent a message; a peer seen for the first time has its client id
 * bound to its username. */
void rcpt_network__sender(struct rcpt_core *core, const struct rcpt_client_ref *who, struct rcpt_hop *out);
/* At CONNECT: may this client id be used with this username (NULL: none)?
 * False for the client id of this broker's own bridge, and for a peer's
 * bound id used by anyone else. why: one phrase for the log line. */
bool rcpt_network__connect_allowed(struct rcpt_core *core, const char *id, const char *username,
		const char **why);
/* Is this client id one of the network's links (a peer, an uplink)? Their
 * leaving is silence, never a verdict: their requests end by answer or at
 * their deadline. */
bool rcpt_network__is_link(const struct rcpt_core *core, const char *id);

/* A request accepted from `msg` (sent as `link`), pending as p: sets the
 * decision's requester, requester-broker, and when it may leave this broker
 * its return topic under "@<broker_name>" and a shortened timeout; counts
 * this broker's bridges that carry it as recipients. */
void rcpt_network__request(struct rcpt_core *core, const struct rcpt_publish *msg,
		const struct rcpt_hop *link, struct rcpt_pending *p, struct rcpt_decision *out);

/* The timeout of a request that came over a link without
 * receipt-timeout-ms: this broker's default, shortened once per broker it
 * passed (the "@" levels of its return topic), so that with the same
 * default everywhere each hop's deadline comes before the one behind it.
 * Any other request: timeout_ms as it is. */
uint32_t rcpt_network__hop_timeout(struct rcpt_core *core, const struct rcpt_publish *msg, uint32_t timeout_ms);

/* Is topic, the topic a receipt was sent on, p's return topic (directly,
 * or through this broker's "@<broker_name>" level)? */
bool rcpt_network__receipt_topic(const struct rcpt_core *core, const struct rcpt_pending *p, const char *topic);
/* A matched receipt from a client p was delivered to: if it is another
 * broker's verdict, takes that hop off p, ends p when no recipient is left,
 * and refuses the message itself (true). Otherwise false, and when it came
 * back through this broker sets out->new_topic to p's return topic. */
bool rcpt_network__matched(struct rcpt_core *core, const struct rcpt_publish *msg, struct rcpt_pending *p,
		struct rcpt_client *sender, struct rcpt_decision *out);

/* A verdict from a link for a request no longer pending here (answered
 * through another hop first, or ended at its own deadline): expected
 * traffic, refused without a notice line or an `unmatched` count (true). */
bool rcpt_network__late_verdict(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out);

#endif
