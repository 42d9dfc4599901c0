/*
 * Request/receipt helpers shared by the integration suites (see the header).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "receipts.h"
#include "receipts_helpers.h"

struct client *subscriber_at(struct broker *b, const char *id, bool clean, const char *filter, int qos)
{
	struct client *c = client_connect(b, id, clean);
	ck_assert_int_eq(client_subscribe(c, filter, qos), qos);
	return c;
}

struct client *requester_at(struct broker *b, const char *id, bool clean, int qos)
{
	char filter[160];
	snprintf(filter, sizeof(filter), "ret/%s/#", id);
	return subscriber_at(b, id, clean, filter, qos);
}

struct msg *expect_on(struct client *c, const char *topic)
{
	struct msg *m = client_wait(c, RCPT_ARRIVAL_MS);
	ck_assert_msg(m != NULL, "%s: nothing arrived on %s", client_id(c), topic);
	ck_assert_str_eq(m->topic, topic);
	return m;
}

int publish_request(struct client *req, const char *topic, const char *payload,
		const char *response_topic, const char *corr, const char *timeout_ms)
{
	const struct user_pair timeout[] = {{RECEIPTS_PROP_TIMEOUT_MS, timeout_ms}};
	struct props_spec props = {.response_topic = response_topic,
		.correlation = corr, .correlation_len = corr ? (uint16_t)strlen(corr) : 0,
		.user = timeout_ms ? timeout : NULL, .user_count = timeout_ms ? 1 : 0};
	return client_publish_str(req, topic, payload, 1, false, &props);
}

struct msg *expect_request(struct client *resp, const char *topic, const char *payload,
		const char *requester_id)
{
	struct msg *m = expect_on(resp, topic);
	ck_assert_str_eq(m->payload, payload);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REQUESTER), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_REQUESTER), requester_id);
	return m;
}

void assert_correlation(const struct msg *m, const char *corr)
{
	if(corr == NULL){
		ck_assert_msg(!m->has_correlation, "%s: unexpected correlation data", m->topic);
	}else{
		ck_assert_msg(msg_correlation_is(m, corr, strlen(corr)),
				"%s: correlation is not '%s'", m->topic, corr);
	}
}

void assert_token(const struct msg *m, const char *requester_corr)
{
	ck_assert_msg(m->has_correlation && m->correlation_len == RCPT_TOKEN_BYTES,
			"%s: the correlation is not a %d-byte token", m->topic, RCPT_TOKEN_BYTES);
	if(requester_corr){
		ck_assert_msg(!msg_correlation_is(m, requester_corr, strlen(requester_corr)),
				"%s: the requester's correlation reached the responder", m->topic);
	}
}

void assert_receipt(const struct msg *m, const char *payload, const char *status, const char *reason,
		const char *corr, int qos)
{
	/* The length too: a payload with a NUL in it is not the payload. */
	ck_assert_int_eq(m->payload_len, (int)strlen(payload));
	ck_assert_str_eq(m->payload, payload);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_RECEIPT), 1);
	ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_RECEIPT), status);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REASON), reason ? 1 : 0);
	ck_assert_pstr_eq(msg_user(m, RECEIPTS_PROP_REASON), reason);
	assert_correlation(m, corr);
	ck_assert_int_eq(m->qos, qos);
	ck_assert(!m->retain);
}

void assert_broker_receipt(const struct msg *m, const char *status, const char *reason,
		const char *corr, int qos)
{
	assert_receipt(m, "", status, reason, corr, qos);
}

void expect_receipt(struct client *c, const char *topic, const char *payload, const char *status,
		const char *reason, const char *corr, int qos)
{
	struct msg *m = expect_on(c, topic);
	assert_receipt(m, payload, status, reason, corr, qos);
	msg_free(m);
}

void answer_gets_ok(struct client *resp, const struct msg *request, struct client *req,
		const char *return_topic, const char *corr)
{
	ck_assert_pstr_eq(request->response_topic, return_topic);
	ck_assert_int_eq(client_answer(resp, request, "answer", 1), 0);
	expect_receipt(req, return_topic, "answer", RECEIPTS_STATUS_OK, NULL, corr, 1);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
}

struct msg *request_reaches(struct client *req, const char *topic, const char *payload,
		const struct props_spec *props, int qos, struct client *resp, const char *delivered_on)
{
	ck_assert_int_eq(client_publish_str(req, topic, payload, qos, false, props), 0);
	struct msg *m = expect_request(resp, delivered_on, payload, client_id(req));
	ck_assert_int_eq(m->qos, qos);
	return m;
}

void request_round_trip(struct client *req, const char *topic, const struct props_spec *props,
		struct client *resp, const char *delivered_on, const char *return_topic, const char *corr)
{
	struct msg *request = request_reaches(req, topic, "question", props, 1, resp, delivered_on);
	assert_token(request, corr);
	answer_gets_ok(resp, request, req, return_topic, corr);
	msg_free(request);
}

bool broker_drops_response_topic(const char *response_topic)
{
	return broker_version() >= BROKER_VERSION(2, 0, 20)
			&& (response_topic[0] == '\0' || strpbrk(response_topic, "+#") != NULL);
}

void assert_dropped_for_protocol_error(struct broker *b, struct client *c)
{
	char line[256];
	snprintf(line, sizeof(line), "Client %s disconnected due to protocol error.\n", client_id(c));
	ck_assert_msg(broker_log_wait(b, line, RCPT_ARRIVAL_MS), "log: no line '%s'", line);
	ck_assert_msg(!client_is_connected(c), "%s: still connected", client_id(c));
}
