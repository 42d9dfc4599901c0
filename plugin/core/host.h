/*
 * The host: everything the core needs from the world (clocks, publishing,
 * logging), as a table of functions. The adapter fills it with the broker's;
 * unit tests with a fake that records what the core sends.
 */
#ifndef RCPT_HOST_H
#define RCPT_HOST_H

#include <time.h>

#include "types.h"

/* A receipt the broker itself sends. */
struct rcpt_receipt_out {
	const char *topic;
	struct rcpt_bytes correlation;  /* len 0: none (only when a client set none) */
	uint8_t qos;
	const char *status;             /* RECEIPTS_STATUS_* */
	const char *reason;             /* receipt-reason */
};

/* What the broker's other access control (acl_file, other plugins) says
 * about a client's access to a topic, asked with this plugin standing aside. */
enum rcpt_others {
	RCPT_OTHERS_NONE,     /* there are none: this plugin is the only access control */
	RCPT_OTHERS_ALLOW,
	RCPT_OTHERS_DENY,
	RCPT_OTHERS_UNKNOWN,  /* there are, but this broker cannot be asked */
};

enum rcpt_others_access {
	RCPT_OTHERS_READ,
	RCPT_OTHERS_WRITE,
};

struct rcpt_host {
	void *ctx;
	/* Monotonic milliseconds. */
	uint64_t (*now_ms)(void *ctx);
	/* Wall-clock milliseconds since 1970, for the state file. NULL: the
	 * core reads CLOCK_REALTIME itself. */
	uint64_t (*wall_ms)(void *ctx);
	/* Queue a broker-made receipt. Must copy what it keeps. */
	int (*publish)(void *ctx, const struct rcpt_receipt_out *receipt);
	/* Queue a plain QoS 0 message: control replies (to_client set) and $SYS
	 * values (retained). Must copy what it keeps. */
	int (*publish_plain)(void *ctx, const char *to_client, const char *topic,
			const char *payload, size_t len, bool retain);
	/* printf-like, with the level mapped through log_levels. The broker's
	 * own mosquitto_log_printf fits: it formats nothing for a level it does
	 * not log, so debug lines cost nothing on the hot path. */
	void (*log_printf)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	int log_levels[RCPT_LOG_LEVEL_COUNT];
	/* client: the handle of rcpt_client_ref. NULL: RCPT_OTHERS_NONE. */
	enum rcpt_others (*ask_others)(void *ctx, const void *client, const char *topic,
			enum rcpt_others_access access);
};

static inline enum rcpt_others rcpt_host__ask_others(const struct rcpt_host *host, const void *client,
		const char *topic, enum rcpt_others_access access)
{
	if(host->ask_others == NULL || client == NULL) return RCPT_OTHERS_NONE;
	return host->ask_others(host->ctx, client, topic, access);
}

static inline uint64_t rcpt_host__now(const struct rcpt_host *host)
{
	return host->now_ms(host->ctx);
}

static inline uint64_t rcpt_host__wall(const struct rcpt_host *host)
{
	if(host->wall_ms) return host->wall_ms(host->ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One log line, "receipts: " first. A macro, so that the broker's logger
 * gets the format and arguments and can skip a level it does not log. */
#define rcpt_host__logf(host, level, ...) \
	((host)->log_printf((host)->log_levels[(level)], "receipts: " __VA_ARGS__))

#endif
