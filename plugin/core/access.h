/*
 * Access rules: who may subscribe to, read and write the plugin's own
 * topics. Return areas are private to their client, the control API is for
 * control users only; every other topic is not the plugin's to decide.
 */
#ifndef RCPT_ACCESS_H
#define RCPT_ACCESS_H

#include "config.h"
#include "host.h"

enum rcpt_access {
	RCPT_ACCESS_ALLOW,
	RCPT_ACCESS_DENY,
	RCPT_ACCESS_FALLBACK,  /* not ours: acl_fallback decides */
};

/* A message is about to be queued to receiver. *request_topic: it is under
 * the request prefix (its delivery may need tracking). */
enum rcpt_access rcpt_access__read(const struct rcpt_config *cfg, const char *topic,
		const struct rcpt_client_ref *receiver, bool *request_topic);
enum rcpt_access rcpt_access__write(const struct rcpt_config *cfg, const char *topic,
		const struct rcpt_client_ref *sender);
/* Logs each refusal. */
enum rcpt_access rcpt_access__subscribe(const struct rcpt_config *cfg, const struct rcpt_host *host,
		const char *filter, const struct rcpt_client_ref *subscriber);

#endif
