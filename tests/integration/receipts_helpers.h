/*
 * Request/receipt helpers shared by the integration suites: the steps
 * that every suite takes on the way to what it actually tests (a client
 * subscribed to its return area, a request sent, the request as the
 * responder sees it, a receipt checked in full).
 *
 * The receipt checks are the strict form of README's receipt contract, so
 * that no suite checks a receipt more loosely than another: exactly one
 * `receipt`, exactly one `receipt-reason` or none, the request's
 * correlation, QoS and payload, never retained. Every helper aborts the
 * test through Check when what arrives is not what it expects.
 */
#ifndef RECEIPTS_HELPERS_H
#define RECEIPTS_HELPERS_H

#include <stdbool.h>

#include "harness.h"

/* Long enough for any delivery on loopback, short enough for the suites. */
#define RCPT_ARRIVAL_MS 2000
/* The window after a receipt that proves nothing else follows it. */
#define RCPT_QUIET_MS 250

/* A client subscribed to filter, granted the QoS it asked for. */
struct client *subscriber_at(struct broker *b, const char *id, bool clean, const char *filter, int qos);
/* A client subscribed to its own return area, ret/<id>/#. */
struct client *requester_at(struct broker *b, const char *id, bool clean, int qos);

/* The next message of c, which must arrive on topic. Caller frees. */
struct msg *expect_on(struct client *c, const char *topic);

/* Publishes a QoS 1 request. response_topic, corr and timeout_ms (the
 * `receipt-timeout-ms` property) may each be NULL: absent. Returns the
 * PUBACK reason code. */
int publish_request(struct client *req, const char *topic, const char *payload,
		const char *response_topic, const char *corr, const char *timeout_ms);

/* The next message of resp must be a request on topic carrying payload and
 * exactly one `requester` naming requester_id. Caller frees. */
struct msg *expect_request(struct client *resp, const char *topic, const char *payload,
		const char *requester_id);

/* The Correlation Data a responder gets: the broker's token, 16 bytes. */
#define RCPT_TOKEN_BYTES 16

/* A delivered request carries a token, never the requester's correlation
 * (requester_corr, which may be NULL: it sent none). */
void assert_token(const struct msg *m, const char *requester_corr);

/* corr NULL: the message must carry no Correlation Data at all. */
void assert_correlation(const struct msg *m, const char *corr);

/* A receipt: exactly payload, exactly one `receipt` with status, exactly
 * one `receipt-reason` with reason (NULL: none at all), correlation corr
 * (NULL: none), at qos, not retained. */
void assert_receipt(const struct msg *m, const char *payload, const char *status, const char *reason,
		const char *corr, int qos);
/* A broker-made receipt: assert_receipt with an empty payload. */
void assert_broker_receipt(const struct msg *m, const char *status, const char *reason,
		const char *corr, int qos);

/* Waits for the next message of c on topic and asserts it is this
 * receipt (assert_receipt), then frees it. */
void expect_receipt(struct client *c, const char *topic, const char *payload, const char *status,
		const char *reason, const char *corr, int qos);

/* The responder answers request (payload `answer`, QoS 1) to its Response
 * Topic, which must be return_topic; the requester gets exactly that
 * answer as an `ok` receipt with correlation corr at QoS 1, and nothing
 * else within RCPT_QUIET_MS. The request is not freed. */
void answer_gets_ok(struct client *resp, const struct msg *request, struct client *req,
		const char *return_topic, const char *corr);

/* Publishes a request at qos (acknowledged with 0) and returns it as resp
 * received it on delivered_on: the payload and QoS unchanged, exactly one
 * `requester` naming the sender. Caller frees. */
struct msg *request_reaches(struct client *req, const char *topic, const char *payload,
		const struct props_spec *props, int qos, struct client *resp, const char *delivered_on);

/* A whole QoS 1 round trip: the request reaches resp on delivered_on with
 * a token in place of corr (NULL: none), resp answers, and req gets exactly that
 * answer as `ok` on return_topic, then nothing within RCPT_QUIET_MS. */
void request_round_trip(struct client *req, const char *topic, const struct props_spec *props,
		struct client *resp, const char *delivered_on, const char *return_topic, const char *corr);

/* Mosquitto 2.0.20 checks a PUBLISH's Response Topic itself ("Don't allow
 * invalid response topic values"): one that is empty or has a wildcard is a
 * protocol error, the client is disconnected (DISCONNECT 0x82) and no plugin
 * sees the message. Up to 2.0.19 the plugin gets it and refuses it
 * (bad-return-topic). True when the broker under test drops a PUBLISH with
 * this Response Topic. */
bool broker_drops_response_topic(const char *response_topic);
/* After such a PUBLISH (client_publish returned -1): the broker logged the
 * protocol error for c, and c's connection is over. */
void assert_dropped_for_protocol_error(struct broker *b, struct client *c);

#endif
