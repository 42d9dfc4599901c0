/*
 * What the broker's own configuration says about access control: read once
 * at start from the file the broker was started with, so that
 * `acl_fallback auto` can tell whether this plugin is the broker's only
 * source of topic access decisions, and the `auto` settings that depend on
 * whether clients authenticate can tell that. Plain C: no broker headers.
 */
#ifndef RCPT_BROKERCONF_H
#define RCPT_BROKERCONF_H

#include <stdbool.h>
#include <stddef.h>

#define RCPT_BROKERCONF_TEXT 512

struct rcpt_brokerconf {
	bool known;             /* the configuration was found and read in full */
	bool other_access;      /* acl_file, auth_plugin, or a plugin line not ours */
	bool plugin_before_us;  /* another plugin line comes before our first one */
	bool found_us;          /* a plugin line naming this plugin was seen */
	bool password_file;     /* noted: it says who a client is, not what it may do */
	/* Clients authenticate: a password_file, or an auth_plugin or a plugin
	 * line not ours (e.g. dynamic-security). */
	bool authenticates;
	/* known: the first other access source, e.g. "acl_file /etc/x (line 3 of
	 * /etc/mosquitto/mosquitto.conf)"; not known: why. */
	char detail[RCPT_BROKERCONF_TEXT];
	char first_other_plugin[RCPT_BROKERCONF_TEXT];  /* for the order warning */
};

/* The -c/--config-file argument of this process (/proc/self/cmdline).
 * False when there is none, or it does not fit in size. */
bool rcpt_brokerconf__cmdline_config(char *path, size_t size);

/* Reads the configuration at conf_path, following include_dir. our_plugin:
 * the path this plugin was loaded from (compared after realpath), to tell
 * our own plugin lines from others. instance: how many times this plugin
 * was initialised before (with per_listener_settings true each listener
 * loads it anew, and only that listener's options count). */
void rcpt_brokerconf__scan(const char *conf_path, const char *our_plugin, unsigned instance,
		struct rcpt_brokerconf *out);

/* Every `key value` line of the configuration, in the order the broker
 * reads them (include_dir followed). False, with why, when a file cannot be
 * read. */
typedef void (*rcpt_brokerconf_visitor)(void *ctx, const char *key, const char *value);
bool rcpt_brokerconf__visit(const char *conf_path, rcpt_brokerconf_visitor visit, void *ctx, char *why,
		size_t why_size);

#endif
