/*
 * This broker's own bridges, read from its configuration: the uplinks of
 * the network (netconf.h) with the topics they carry out, and whether the
 * broker authenticates clients (peers are trusted by username only where
 * it does). Plain C: no broker headers.
 */
#ifndef RCPT_BRIDGES_H
#define RCPT_BRIDGES_H

#include "netconf.h"

struct rcpt_bridges_found {
	size_t connections;        /* `connection` sections */
	bool authenticates;        /* password_file, auth_plugin, or another plugin */
	bool allow_anonymous;      /* the last global allow_anonymous (default false) */
	char why[256];             /* when the configuration could not be read */
};

/* Adds every `connection` of conf_path as an uplink of n (when n has a
 * broker_name); fills found. False: the configuration could not be read,
 * or out of memory (why says which). */
bool rcpt_bridges__discover(const char *conf_path, struct rcpt_netconf *n, struct rcpt_bridges_found *found);

#endif
