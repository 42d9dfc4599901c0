/*
 * Many libmosquitto clients driven by one poll() loop in one thread.
 *
 * One thread for all of a scenario's clients keeps the client side cheap and
 * deterministic when it is pinned to one CPU: no thread hand-offs between a
 * responder and a requester, and publishes made outside a callback are
 * written to the socket at once.
 */
#ifndef RCPT_BENCH_MQ_H
#define RCPT_BENCH_MQ_H

#include <stdbool.h>

#include <mosquitto.h>

struct mq_client;
typedef void (*mq_msg_fn)(struct mq_client *c, const struct mosquitto_message *msg,
		const mosquitto_property *props);

struct mq_client {
	struct mosquitto *m;
	char id[64];
	mq_msg_fn on_msg;
	void *ctx;            /* the scenario's per-client state */
	bool connected;
	bool failed;          /* connection refused or lost: the scenario fails */
	int subacks_waiting;
	int suback_refused;   /* a SUBACK granted no QoS (0x80 or above) */
};

/* Library init once per process. */
void mq_init(void);
/* Connects (MQTT 5, TCP_NODELAY, clean start) and waits for the CONNACK. 0: ok. */
int mq_open(struct mq_client *c, const char *id, const char *host, int port, mq_msg_fn on_msg, void *ctx);
/* The same, connecting with a username (no password). */
int mq_open_as(struct mq_client *c, const char *id, const char *username, const char *host, int port,
		mq_msg_fn on_msg, void *ctx);
/* Subscribes and waits for the SUBACK. 0: ok. */
int mq_subscribe(struct mq_client *c, const char *filter, int qos);
/* One pass: waits up to timeout_ms for any socket, then reads and writes all
 * ready ones. Returns -1 when a client failed. */
int mq_poll(struct mq_client **cs, int n, int timeout_ms);
void mq_close(struct mq_client *c);

/* Small property helpers. */
/* Correlation data as a little-endian u64 (the benchmark always sends 8 bytes);
 * false when absent or of another length. */
bool mq_read_corr_u64(const mosquitto_property *props, uint64_t *out);
/* Value of the first user property `name`, copied into buf; false when absent. */
bool mq_user_prop(const mosquitto_property *props, const char *name, char *buf, size_t len);

#endif
