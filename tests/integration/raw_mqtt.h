/*
 * A raw MQTT 5 client for the tests that need what a client library will
 * not do: send a PUBLISH with the DUP flag, withhold a PUBREL, leave a
 * PUBREC unanswered, drop a connection between two packets. Blocking
 * socket, one packet at a time, every read under a deadline. Test code
 * only: it trusts the broker to send well-formed packets, but checks every
 * length it reads against the bytes it has.
 */
#ifndef RAW_MQTT_H
#define RAW_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

struct raw;

struct raw_connect {
	const char *id;
	bool clean_start;
	uint32_t session_expiry;     /* 0: absent */
	const char *username;        /* NULL: none */
	const char *password;
};

/* Connects and reads the CONNACK. Returns its reason code (0: connected,
 * *out set), or -1 when none came; on failure *out is NULL. */
int raw_connect(struct broker *b, const struct raw_connect *spec, struct raw **out, bool *session_present);
/* Closes the socket without DISCONNECT (the broker sees a network error). */
void raw_drop(struct raw *r);
/* DISCONNECT (reason 0), then close. */
void raw_disconnect(struct raw *r);

/* A received packet. Strings and bytes are copies owned by the packet. */
struct raw_packet {
	uint8_t type;                 /* MQTT packet type, 1..15 */
	uint8_t flags;                /* low nibble of the first byte */
	uint16_t mid;                 /* packet id, where there is one */
	int reason;                   /* reason code; 0 when the packet has none */
	char *topic;                  /* PUBLISH */
	char *payload;                /* PUBLISH, NUL-terminated */
	size_t payload_len;
	char *response_topic;
	void *correlation;
	uint16_t correlation_len;
	bool has_correlation;
	struct user_pair *user;       /* names and values owned */
	int user_count;
};

/* The next packet, or false when none arrives within timeout_ms or the
 * connection ends. Free with raw_packet_free(). */
bool raw_read(struct raw *r, int timeout_ms, struct raw_packet *out);
/* The next packet of this type (others are skipped and printed), or false. */
bool raw_expect(struct raw *r, uint8_t type, int timeout_ms, struct raw_packet *out);
void raw_packet_free(struct raw_packet *p);
const char *raw_user(const struct raw_packet *p, const char *name);

#define RAW_PUBLISH 3
#define RAW_PUBACK  4
#define RAW_PUBREC  5
#define RAW_PUBREL  6
#define RAW_PUBCOMP 7
#define RAW_SUBACK  9

struct raw_publish {
	const char *topic;
	const void *payload;
	size_t payload_len;
	int qos;
	bool dup;
	uint16_t mid;                 /* QoS 1/2 */
	const char *response_topic;   /* NULL: absent */
	const void *correlation;      /* NULL: absent */
	uint16_t correlation_len;
	const struct user_pair *user;
	int user_count;
};

/* Each returns 0 once the packet is written, -1 on failure. */
int raw_publish(struct raw *r, const struct raw_publish *p);
/* PUBACK, PUBREC, PUBREL or PUBCOMP (type RAW_*) with reason 0. */
int raw_ack(struct raw *r, uint8_t type, uint16_t mid);
/* SUBSCRIBE and its SUBACK: returns the SUBACK's first reason code, -1 on
 * failure. */
int raw_subscribe(struct raw *r, const char *filter, int qos, uint16_t mid);

#endif
