/*
 * Integration-test harness: a real mosquitto broker per test, real MQTT 5
 * clients (libmosquitto, threaded), and external commands (mosquitto_pub,
 * _sub, _rr).
 *
 * Rules the harness follows so that tests stay fast and deterministic:
 * - Every wait is an event wait with a deadline (condition variable, or a
 *   poll of the broker log / a socket). The one plain wait is client_quiet():
 *   a bounded window proving that nothing arrives.
 * - Helpers whose failure makes the test meaningless (broker start, client
 *   connect) abort the test through Check; the others return a code that the
 *   test asserts on.
 * - Brokers and commands are children that die with the test process
 *   (PR_SET_PDEATHSIG), so a failed assertion (Check _exit()s the test's
 *   process), a crash or a Check timeout leaves none running. The signal
 *   follows the thread that forked: start them from the test's own thread.
 *   A failed test leaves its /tmp/rcpt-it-* directory (conf, log) behind
 *   for inspection; broker_stop() removes it.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Deadlines used by the helpers that do not take one. */
#define HARNESS_START_TIMEOUT_MS 5000 /* broker accepting connections */
#define HARNESS_STOP_TIMEOUT_MS  5000 /* broker exiting after SIGTERM */
#define HARNESS_ACK_TIMEOUT_MS   5000 /* CONNACK, SUBACK, PUBACK/PUBCOMP, DISCONNECT */

/* CLOCK_MONOTONIC milliseconds, for measuring when things arrive. */
int64_t harness_now_ms(void);

/* A Check test case with a timeout that fits broker start-up and stop
 * (Check's 4 s default does not). */
TCase *harness_tcase(const char *name);

/* ---- Broker ---- */

struct broker {
	char dir[64];        /* mkdtemp directory: conf, log, persistence */
	char conf_path[96];
	char log_path[96];
	int port;            /* on 127.0.0.1 */
	char port_str[8];    /* the same, for command lines (-p) */
	pid_t pid;           /* 0 when not running */
};

/* Writes mosquitto.conf and starts the broker with the receipts plugin.
 * extra_conf_lines (may be NULL) is appended right after the plugin's
 * default options, so `plugin_opt_*` lines in it belong to the plugin and
 * override the defaults (plugin_opt_default_timeout_ms 2000). Persistence
 * is off unless extra adds `persistence true` (mosquitto.db then goes into
 * the directory). The test is aborted if the broker does not accept
 * connections within 5 s (its log is printed). Returns 0. */
int broker_start(struct broker *b, const char *extra_conf_lines);
/* broker_start with first_conf_lines before everything else, for settings
 * that must precede the listener and its security options
 * (per_listener_settings true). */
int broker_start_first(struct broker *b, const char *first_conf_lines, const char *extra_conf_lines);
/* The same without the plugin: the baseline for comparison tests. */
int broker_start_plain(struct broker *b, const char *extra_conf_lines);
/* The release of the broker under test (env RCPT_MOSQUITTO, else the one
 * found at configure time) as BROKER_VERSION(major, minor, patch), read once
 * per process from the first line of `mosquitto -h` ("mosquitto version
 * 2.0.20"). Tests whose correct outcome differs between releases compare
 * against it: broker_version() >= BROKER_VERSION(2, 0, 20). Aborts the test
 * if the version cannot be read. */
#define BROKER_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
int broker_version(void);
/* A free TCP port on 127.0.0.1 (for configurations that name other brokers'
 * ports before they start). */
int harness_free_port(void);
/* Starts a broker on port with conf_text as its whole configuration (it
 * must listen on that port), followed by the harness's own lines (user
 * root, log to the test's log). Aborts like broker_start. */
int broker_start_conf(struct broker *b, int port, const char *conf_text);
/* SIGTERM, wait up to 5 s, then SIGKILL; removes the temporary directory. */
void broker_stop(struct broker *b);
/* SIGKILL, reaped; the directory is kept (for restart/persistence tests). */
void broker_kill(struct broker *b);
/* Stops the running broker (SIGTERM) if any and starts it again with the
 * same directory, port and configuration. The log file is appended to, so
 * count-based log waits see both runs. Returns 0 (aborts on failure). */
int broker_restart(struct broker *b);

/* Log needles match within one line; a needle may end in "\n" to match
 * the end of a line. */
/* Waits until the broker log contains needle at least `count` times. */
bool broker_log_wait_count(struct broker *b, const char *needle, int count, int timeout_ms);
/* Waits until the broker log contains needle. */
bool broker_log_wait(struct broker *b, const char *needle, int timeout_ms);
/* Occurrences of needle in the broker log so far. */
int broker_log_count(struct broker *b, const char *needle);
/* Waits until the broker has logged `Received SUBSCRIBE from <client_id>`
 * `count` times in total. The broker is single-threaded and logs that line
 * as it starts handling the SUBSCRIBE, so any PUBLISH it reads afterwards
 * sees the subscription: this is how a test knows that an external
 * subscriber (mosquitto_sub -i <id>) is live. libmosquitto clients need no
 * such wait: client_subscribe() returns after the SUBACK. */
bool broker_wait_subscribed(struct broker *b, const char *client_id, int count, int timeout_ms);

/* ---- Clients ---- */

struct client; /* opaque: one libmosquitto client with its network thread */
struct msg;    /* a received message, below */

struct props_spec;

struct connect_spec {
	const char *id;
	bool clean_start;
	const char *username; /* NULL: none */
	const char *password; /* NULL: none */
	/* Session Expiry Interval in seconds; 0 means the default: none for a
	 * clean start, 0xFFFFFFFF (never) otherwise, because an MQTT 5 session
	 * without it ends at disconnect and would not be persistent at all. */
	uint32_t session_expiry;
	const char *will_topic;   /* NULL: no will */
	const char *will_payload; /* the will's payload */
	int will_qos;
	bool will_retain;
	const struct props_spec *will_props;  /* NULL: none */
	uint32_t will_delay_s;    /* Will Delay Interval; 0: none */
};

/* Connects (MQTT 5, TCP_NODELAY) and waits for a successful CONNACK;
 * aborts the test otherwise. */
struct client *client_connect(struct broker *b, const char *id, bool clean_start);
struct client *client_connect_auth(struct broker *b, const char *id, bool clean_start,
		const char *username, const char *password);
/* Returns the CONNACK reason code (0 = success, *out set) or -1 when no
 * CONNACK arrived; on any failure the client is freed and *out is NULL. */
int client_connect_rc(struct broker *b, const struct connect_spec *spec, struct client **out);

/* Subscribes and waits for the SUBACK. options: the QoS, optionally OR'ed
 * with MQTT_SUB_OPT_* flags (mqtt_protocol.h). Returns the granted QoS or the
 * SUBACK reason code (e.g. 0x87), or -1 when no SUBACK arrived. */
int client_subscribe(struct client *c, const char *filter, int options);
/* Returns 0 once the UNSUBACK arrived (libmosquitto 2.0 does not pass its
 * reason codes on), or -1 when none arrived. */
int client_unsubscribe(struct client *c, const char *filter);

struct user_pair {
	const char *name;
	const char *value;
};

/* Properties of one PUBLISH. Zero-initialise and set what the test needs. */
struct props_spec {
	const char *response_topic;      /* NULL: absent; never "": libmosquitto 2.0.11 crashes
	                                  * copying an empty string property (send it raw) */
	const void *correlation;         /* NULL: absent; non-NULL with len 0: empty */
	uint16_t correlation_len;
	const struct user_pair *user;    /* in order; names may repeat */
	int user_count;
	uint16_t topic_alias;            /* 0: absent */
};

/* Sets .user and .user_count of a props_spec initialiser from pairs:
 *   (struct props_spec){ .response_topic = "ret/r/1",
 *                        USER_PROPS({"receipt-timeout-ms", "300"}) } */
#define USER_PROPS(...) \
	.user = (const struct user_pair[]){__VA_ARGS__}, \
	.user_count = (int)(sizeof((const struct user_pair[]){__VA_ARGS__}) / sizeof(struct user_pair))

/* Publishes (MQTT 5). topic may be NULL when props->topic_alias is set.
 * QoS 0: returns 0 once libmosquitto has sent it. QoS 1/2: waits for the
 * PUBACK/PUBCOMP (or a failing PUBREC) and returns its reason code (0,
 * 0x10 no matching subscribers, 0x87 not authorized, ...). Returns -1 if the
 * publish could not be sent or was not acknowledged in time. */
int client_publish(struct client *c, const char *topic, const void *payload, int len,
		int qos, bool retain, const struct props_spec *props);
/* client_publish of a NUL-terminated payload. */
int client_publish_str(struct client *c, const char *topic, const char *payload,
		int qos, bool retain, const struct props_spec *props);

/* The responder's side of request/reply: publishes payload to the
 * request's response topic with its correlation data (if any), as any
 * MQTT 5 responder would. Returns what client_publish() returns. */
int client_answer(struct client *c, const struct msg *request, const char *payload, int qos);

/* Sends a DISCONNECT (reason 0) and waits until the network thread has
 * seen the connection end. Returns 0, or -1 on timeout. */
int client_disconnect(struct client *c);
/* Abrupt end: shuts the socket down without DISCONNECT, so the broker sees
 * a network error (and publishes the will, ends a clean session, ...).
 * Returns 0, or -1 if the network thread did not notice in time. */
int client_drop(struct client *c);
/* True until the connection ends (by us, by the broker, or dropped). */
bool client_is_connected(struct client *c);
/* Disconnects if still connected, stops the thread, frees queued messages. */
void client_free(struct client *c);
const char *client_id(const struct client *c);

/* ---- Received messages ---- */

struct msg {
	struct msg *next;           /* queue link, internal */
	char *topic;
	char *payload;              /* payload_len bytes plus a NUL, for strings */
	int payload_len;
	int qos;
	bool retain;
	char *response_topic;       /* NULL: absent */
	bool has_correlation;
	void *correlation;
	uint16_t correlation_len;
	struct user_pair *user;     /* all user properties, in order (owned) */
	int user_count;
};

/* The next message received by c, or NULL when none arrives in time.
 * The caller frees it with msg_free(). */
struct msg *client_wait(struct client *c, int timeout_ms);
/* True if no message arrives within window_ms (a message already queued
 * counts). An unexpected message stays queued and is printed to stderr. */
bool client_quiet(struct client *c, int window_ms);

/* First value of user property `name`, or NULL. */
const char *msg_user(const struct msg *m, const char *name);
int msg_user_count(const struct msg *m, const char *name);
/* True if the correlation data is exactly these bytes. */
bool msg_correlation_is(const struct msg *m, const void *data, size_t len);
/* One line describing the message, for failure output. */
void msg_print(const struct msg *m, FILE *f);
void msg_free(struct msg *m);

/* ---- External commands ---- */

struct command {
	pid_t pid;
	int out_fd;       /* read end of the child's stdout */
	char *out;        /* collected stdout, NUL-terminated */
	size_t out_len;
};

/* Starts argv[0] (looked up in PATH) with stdout captured and stderr
 * inherited (it lands in the test log). The child dies with the test.
 * Returns 0, or -1 (aborts nothing). */
int command_start(struct command *cmd, const char *const argv[]);
/* Collects stdout until the command exits or the deadline passes; at the
 * deadline it is killed. *out (may be NULL) receives the output so far
 * (caller frees). Returns the exit status, or -1 if it was killed/failed. */
int command_collect(struct command *cmd, int timeout_ms, char **out);
/* command_start + command_collect. */
int run_command(const char *const argv[], int timeout_ms, char **out);

#endif
