/*
 * A swarm: thousands of MQTT 5 subscribers on plain sockets, each a
 * CONNECT + SUBSCRIBE written by hand, so that the client side costs a file
 * descriptor and a few bytes per subscriber (libmosquitto's clients are too
 * heavy for one poll() loop at this count). They only count what arrives.
 */
#ifndef RCPT_BENCH_SWARM_H
#define RCPT_BENCH_SWARM_H

#include <stddef.h>
#include <stdint.h>

struct swarm_member {
	int fd;
	uint8_t buf[512];     /* one packet being read */
	size_t have;
	unsigned connacks, subacks, publishes, refused, other;
};

struct swarm {
	struct swarm_member *m;
	int n;
};

/* Connects n subscribers of filter (QoS 0), id_prefix + index as client ids,
 * in batches small enough for the broker's listen backlog, and waits for
 * every CONNACK and SUBACK. 0: all accepted. */
int swarm_open(struct swarm *s, const char *host, int port, int n, const char *id_prefix, const char *filter);
/* Reads until every member received `publishes` PUBLISH packets, at most ms.
 * Returns how many members got at least that many. */
int swarm_wait_publishes(struct swarm *s, unsigned publishes, int ms);
/* The MQTT fixed header at b: 1 with its size (*hdr) and remaining length
 * (*len) when whole, 0 when more bytes are needed, -1 when malformed. */
int swarm_frame(const uint8_t *b, size_t have, size_t *hdr, size_t *len);
/* Sends DISCONNECT (normal) on every member and closes it. */
void swarm_close(struct swarm *s);

#endif
