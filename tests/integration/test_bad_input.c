/*
 * Bad-input suite: one table of malformed, forged, ambiguous and misdirected
 * requests and receipts, run against a real broker (one per row). Each row
 * states the exact outcome: the acknowledgement's reason code, the broker's
 * log line, the receipt that arrives (or that none does), that no responder
 * got a refused request; and every row ends with the same client id getting
 * `ok` for a normal request, so bad input never costs a client its service.
 *
 * Where README is silent the expected value comes from the plugin's code;
 * those rows say so in a comment.
 */
#include <check.h>
#include <errno.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* Small limits keep the rows fast: an unanswered request ends within
 * MAX_TIMEOUT_MS, whatever it asked for. Open return topics are tracked:
 * several rows use one (open/...) as the follow-up's or the stranger's. */
#define MAX_TIMEOUT_MS 400
#define BROKER_CONF \
	"plugin_opt_" RECEIPTS_OPT_MAX_TIMEOUT_MS " 400\n" \
	"plugin_opt_" RECEIPTS_OPT_DEFAULT_TIMEOUT_MS " 300\n" \
	"plugin_opt_" RECEIPTS_OPT_OPEN_RETURN_TOPICS " tracked\n"
/* How late a timeout receipt may be: deadlines are checked on the
 * broker's ~100 ms tick, plus scheduling. */
#define TICK_SLACK_MS 200

#define A16 "aaaaaaaaaaaaaaaa"
#define AREA_128 A16 A16 A16 A16 A16 A16 A16 A16
#define C16 "cccccccccccccccc"
#define C128 C16 C16 C16 C16 C16 C16 C16 C16
/* max_correlation_len is 256 by default. */
#define CORR_256 C128 C128
#define CORR_257 C128 C128 "c"
#define DIGITS_30 "123456789012345678901234567890"
/* max_return_topic_len is 256 by default: 16 + 240 bytes. */
#define X16 "xxxxxxxxxxxxxxxx"
#define X240 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16
#define X960 X240 X240 X240 X240
#define X2880 X960 X960 X960

/* The plugin's notice line for each refusal, whole. */
#define REQ_REFUSED(id, topic, why) "receipts: refused request from '" id "' on '" topic "': " why "\n"
#define RCPT_REFUSED(id, topic, why) "receipts: refused receipt from '" id "' on '" topic "': " why "\n"
#define ANY_REFUSAL "receipts: refused "

#define USER1(n, v) .user = {{n, v}}, .user_count = 1
#define USER2(n1, v1, n2, v2) .user = {{n1, v1}, {n2, v2}}, .user_count = 2
#define TIMEOUT(v) USER1(RECEIPTS_PROP_TIMEOUT_MS, v)

/* Who publishes the message under test. */
enum sender {
	BY_REQUESTER,  /* the row's client */
	BY_RESPONDER,  /* bi-resp, subscribed to req/# and dev/#: every request reaches it */
	BY_STRANGER,   /* bi-stranger, which no request ever reaches */
	BY_RAW,        /* the row's client id on a hand-made MQTT 5 connection, QoS 1 */
};

enum outcome {
	REFUSED,       /* ack, the log line, a `rejected` receipt or none; nothing delivered */
	ANSWERED,      /* an accepted request: delivered, answered, `ok` */
	TIMED_OUT,     /* an accepted request nobody answers: `timeout` */
	PASSED,        /* a receipt forwarded as `ok`, or ordinary traffic (status NULL) */
	DISCONNECTED,  /* the broker itself drops the connection; the plugin sees nothing */
};

/* A request the requester sends first, to req/P with correlation "p1",
 * which the responder receives; the publish under test then refers to it
 * (a row's correlation "p1" stands for the token the responder got). */
enum prior {
	NO_PRIOR,
	PRIOR_PENDING,   /* still pending; answered after the row unless the row ended it */
	PRIOR_ANSWERED,  /* the responder answered it: ok */
	PRIOR_TIMED_OUT, /* it timed out: timeout */
};

struct bad_case {
	const char *conf;             /* options beyond BROKER_CONF; NULL: none */
	const char *id;               /* the requester's client id */
	const char *username;         /* the requester's; NULL: none */
	const char *filter;           /* its subscription; NULL: ret/<id>/# */
	bool in_prior_area;           /* it also subscribes req/P, so the prior reaches it */
	enum prior prior;
	const char *prior_rt;         /* NULL: ret/<id>/1 */
	const char *prior_timeout;    /* NULL: absent (default_timeout_ms) */
	uint16_t prior_alias;         /* the prior sets this topic alias */

	/* The publish under test, payload "tested". */
	enum sender from;
	const char *topic;            /* NULL: by topic alias */
	const char *rt;               /* Response Topic; NULL: none */
	const char *corr;             /* NULL: none; "": empty */
	struct user_pair user[3];
	int user_count;
	int qos;
	bool retain;
	uint16_t alias;

	/* What must happen. */
	enum outcome outcome;
	int ack;                      /* PUBACK/PUBREC reason code; 0 for QoS 0 */
	const char *log;              /* the whole log line, or NULL: no refusal logged */
	const char *receipt_topic;    /* REFUSED/PASSED: where a receipt arrives; NULL: none */
	const char *status;           /* its `receipt` (NULL with PASSED: ordinary traffic) */
	const char *reason;           /* its `receipt-reason` */
	const char *delivered_on;     /* ANSWERED/TIMED_OUT: NULL: topic */
	bool broker_corr;             /* the requester sent none: its receipt carries none */
	int timeout_ms;               /* TIMED_OUT: when the receipt is due */
	const char *raw_reply;        /* DISCONNECTED: what the broker sends before closing (no NUL) */
	const char *late_topic;       /* the requester subscribes here last: nothing retained */
	const char *ok_rt;            /* the final normal request's return topic; NULL: ret/<id>/ok */
};

static const struct bad_case cases[] = {
	/* ---- subject areas ---- */
	{.id = "bi-area-empty", .topic = "req/", .rt = "ret/bi-area-empty/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-area-empty", "req/", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-area-empty/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	/* The prefix alone names no area (code: an empty area; README is silent). */
	{.id = "bi-area-prefix", .topic = "req", .rt = "ret/bi-area-prefix/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-area-prefix", "req", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-area-prefix/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-area-empty-level", .topic = "req//x", .rt = "ret/bi-area-empty-level/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-area-empty-level", "req//x", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-area-empty-level/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-sa-empty", .topic = "dev/1", .rt = "ret/bi-sa-empty/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, ""),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-empty", "dev/1", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-sa-empty/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-sa-slash", .topic = "dev/1", .rt = "ret/bi-sa-slash/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "a/b"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-slash", "dev/1", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-sa-slash/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-sa-plus", .topic = "dev/1", .rt = "ret/bi-sa-plus/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "+"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-plus", "dev/1", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-sa-plus/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-sa-hash", .topic = "dev/1", .rt = "ret/bi-sa-hash/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "a#"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-hash", "dev/1", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-sa-hash/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-area-dollar", .topic = "req/$x", .rt = "ret/bi-area-dollar/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-area-dollar", "req/$x", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-area-dollar/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-sa-dollar", .topic = "dev/1", .rt = "ret/bi-sa-dollar/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "$SYS"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-dollar", "dev/1", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-sa-dollar/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-area-129", .topic = "req/" AREA_128 "a", .rt = "ret/bi-area-129/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-area-129", "req/" AREA_128 "a", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-area-129/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	{.id = "bi-sa-129", .topic = "dev/1", .rt = "ret/bi-sa-129/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, AREA_128 "a"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-129", "dev/1", RECEIPTS_REJECT_BAD_AREA),
		.receipt_topic = "ret/bi-sa-129/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_AREA},
	/* The limit itself is an area. */
	{.id = "bi-area-128", .topic = "req/" AREA_128, .rt = "ret/bi-area-128/1", .corr = "c1", .qos = 1,
		.outcome = ANSWERED},
	{.id = "bi-sa-128", .topic = "dev/" AREA_128, .rt = "ret/bi-sa-128/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, AREA_128),
		.outcome = ANSWERED, .delivered_on = "req/" AREA_128},
	/* A re-routed topic is written over the bytes of the one sent: it
	 * must fit (req/echo is 8 bytes, d/1 is 3). */
	{.id = "bi-sa-short", .topic = "d/1", .rt = "ret/bi-sa-short/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "echo"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-sa-short", "d/1", RECEIPTS_REJECT_TOPIC_TOO_SHORT),
		.receipt_topic = "ret/bi-sa-short/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_TOPIC_TOO_SHORT},
	/* Exactly as long as req/echo. */
	{.id = "bi-sa-fits", .topic = "dev/echo", .rt = "ret/bi-sa-fits/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "echo"),
		.outcome = ANSWERED, .delivered_on = "req/echo"},
	/* Invalid UTF-8 (0xC3 0x28) never reaches the plugin: the broker
	 * drops the connection itself. In a topic it says why (DISCONNECT
	 * 0x81 Malformed Packet); in a property it just closes. */
	{.id = "bi-utf8-area", .from = BY_RAW, .topic = "req/\xC3\x28", .rt = "ret/bi-utf8-area/1", .corr = "c1",
		.qos = 1, .outcome = DISCONNECTED, .raw_reply = "\xE0\x01\x81",
		.log = "Client bi-utf8-area disconnected due to malformed packet.\n"},
	{.id = "bi-utf8-sa", .from = BY_RAW, .topic = "dev/1", .rt = "ret/bi-utf8-sa/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_SUBJECT_AREA, "\xC3\x28"),
		.outcome = DISCONNECTED, .raw_reply = "",
		.log = "Bad socket read/write on client bi-utf8-sa: Malformed UTF-8\n"},
	/* A wildcard in a PUBLISH topic is a protocol error (0x82); from
	 * 2.0.12 a malformed packet (0x81, on_this_broker). */
	{.id = "bi-wild-area", .from = BY_RAW, .topic = "req/a+b", .rt = "ret/bi-wild-area/1", .corr = "c1",
		.qos = 1, .outcome = DISCONNECTED, .raw_reply = "\xE0\x01\x82",
		.log = "Client bi-wild-area disconnected due to protocol error.\n"},

	/* ---- return topics and return areas ---- */
	{.id = "bi-utf8-ra", .from = BY_RAW, .topic = "req/A", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_RETURN_AREA, "\xC3\x28"),
		.outcome = DISCONNECTED, .raw_reply = "",
		.log = "Bad socket read/write on client bi-utf8-ra: Malformed UTF-8\n"},
	{.id = "bi-utf8-rt", .from = BY_RAW, .topic = "req/A", .rt = "ret/bi-utf8-rt/\xC3\x28", .corr = "c1", .qos = 1,
		.outcome = DISCONNECTED, .raw_reply = "",
		.log = "Bad socket read/write on client bi-utf8-rt: Malformed UTF-8\n"},
	/* No receipt for a bad return area: there is no valid return topic. */
	{.id = "bi-ra-slash", .topic = "req/A", .corr = "c1", .qos = 1, USER1(RECEIPTS_PROP_RETURN_AREA, "a/b"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-ra-slash", "req/A", RECEIPTS_REJECT_BAD_RETURN_AREA)},
	{.id = "bi-ra-empty", .topic = "req/A", .corr = "c1", .qos = 1, USER1(RECEIPTS_PROP_RETURN_AREA, ""),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-ra-empty", "req/A", RECEIPTS_REJECT_BAD_RETURN_AREA)},
	/* The next three and the Response Topics of bi+plus and bi#hash: from
	 * 2.0.20 the broker drops the connection first (on_this_broker). */
	{.id = "bi-rt-plus", .topic = "req/A", .rt = "ret/bi-rt-plus/+", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-plus", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	{.id = "bi-rt-hash", .topic = "req/A", .rt = "ret/bi-rt-hash/#", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-hash", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	/* By hand: libmosquitto 2.0.11 crashes copying an empty string
	 * property (strdup(NULL) in mosquitto_property_copy_all). */
	{.id = "bi-rt-empty", .from = BY_RAW, .topic = "req/A", .rt = "", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-empty", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	{.id = "bi-rt-foreign", .topic = "req/A", .rt = "ret/bi-other/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-foreign", "req/A", RECEIPTS_REJECT_FOREIGN_RETURN_AREA)},
	{.id = "bi-rt-bare", .topic = "req/A", .rt = "ret/", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-bare", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	/* The next three: code (README names only `ret/`). */
	{.id = "bi-rt-prefix", .topic = "req/A", .rt = "ret", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-prefix", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	{.id = "bi-rt-no-client", .topic = "req/A", .rt = "ret//1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-no-client", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	{.id = "bi-rt-trailing", .topic = "req/A", .rt = "ret/bi-rt-trailing/", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-trailing", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},

	/* ---- correlation data ---- */
	/* Empty counts as absent: the broker's own correlation travels and is
	 * taken off the receipt. */
	{.id = "bi-corr-empty", .topic = "req/A", .rt = "ret/bi-corr-empty/1", .corr = "", .qos = 1,
		.outcome = ANSWERED, .broker_corr = true},
	{.id = "bi-corr-256", .topic = "req/A", .rt = "ret/bi-corr-256/1", .corr = CORR_256, .qos = 1,
		.outcome = ANSWERED},
	{.id = "bi-corr-257", .topic = "req/A", .rt = "ret/bi-corr-257/1", .corr = CORR_257, .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-corr-257", "req/A", RECEIPTS_REJECT_CORRELATION_TOO_LONG),
		.receipt_topic = "ret/bi-corr-257/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_CORRELATION_TOO_LONG},

	/* ---- quotas ---- */
	/* The return topic is kept while the request is pending: its length is
	 * capped (max_return_topic_len). */
	{.id = "bi-rt-len-a", .topic = "req/A", .rt = "ret/bi-rt-len-a/" X240, .corr = "c1", .qos = 1,
		.outcome = ANSWERED},
	{.id = "bi-rt-len-b", .topic = "req/A", .rt = "ret/bi-rt-len-b/" X240 "x", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-len-b", "req/A", RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG),
		.receipt_topic = "ret/bi-rt-len-b/" X240 "x", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG},
	{.conf = "plugin_opt_" RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN " 20\n",
		.id = "bi-rt-len-c", .topic = "req/A", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_RETURN_AREA, "abcdefgh"),   /* ret/bi-rt-len-c/abcdefgh: 24 */
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-rt-len-c", "req/A", RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG),
		.receipt_topic = "ret/bi-rt-len-c/abcdefgh", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG, .ok_rt = "ret/bi-rt-len-c/ok"},
	/* Clients without a username share max_pending_anonymous. */
	{.conf = "plugin_opt_" RECEIPTS_OPT_MAX_PENDING_ANONYMOUS " 1\n",
		.id = "bi-quota-anon", .prior = PRIOR_PENDING,
		.topic = "req/A", .rt = "ret/bi-quota-anon/2", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-quota-anon", "req/A", RECEIPTS_REJECT_OVER_QUOTA),
		.receipt_topic = "ret/bi-quota-anon/2", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_OVER_QUOTA},
	/* The byte budget of all pending state (max_pending_bytes): the prior's
	 * ~3 kB and this one's ~1 kB do not fit in 4 kB. */
	{.conf = "plugin_opt_" RECEIPTS_OPT_MAX_PENDING_BYTES " 4096\n"
		"plugin_opt_" RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN " 4000\n",
		.id = "bi-quota-bytes", .prior = PRIOR_PENDING, .prior_rt = "ret/bi-quota-bytes/" X2880,
		.topic = "req/A", .rt = "ret/bi-quota-bytes/" X960, .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-quota-bytes", "req/A", RECEIPTS_REJECT_OVER_QUOTA),
		.receipt_topic = "ret/bi-quota-bytes/" X960, .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_OVER_QUOTA},
	/* A client with a username draws on its user's budget. */
	{.conf = "plugin_opt_" RECEIPTS_OPT_MAX_PENDING_PER_USER " 1\n",
		.id = "bi-quota-user", .username = "bi-user", .prior = PRIOR_PENDING,
		.topic = "req/A", .rt = "ret/bi-quota-user/2", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-quota-user", "req/A", RECEIPTS_REJECT_OVER_QUOTA),
		.receipt_topic = "ret/bi-quota-user/2", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_OVER_QUOTA},

	/* ---- receipt-timeout-ms ---- */
	{.id = "bi-t-zero", .topic = "req/A", .rt = "ret/bi-t-zero/1", .corr = "c1", .qos = 1, TIMEOUT("0"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-zero", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-zero/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-negative", .topic = "req/A", .rt = "ret/bi-t-negative/1", .corr = "c1", .qos = 1, TIMEOUT("-300"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-negative", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-negative/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-alpha", .topic = "req/A", .rt = "ret/bi-t-alpha/1", .corr = "c1", .qos = 1, TIMEOUT("abc"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-alpha", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-alpha/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-unit", .topic = "req/A", .rt = "ret/bi-t-unit/1", .corr = "c1", .qos = 1, TIMEOUT("300ms"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-unit", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-unit/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-hex", .topic = "req/A", .rt = "ret/bi-t-hex/1", .corr = "c1", .qos = 1, TIMEOUT("0x12c"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-hex", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-hex/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-plus", .topic = "req/A", .rt = "ret/bi-t-plus/1", .corr = "c1", .qos = 1, TIMEOUT("+300"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-plus", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-plus/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-empty", .topic = "req/A", .rt = "ret/bi-t-empty/1", .corr = "c1", .qos = 1, TIMEOUT(""),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-empty", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-empty/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-lead-space", .topic = "req/A", .rt = "ret/bi-t-lead-space/1", .corr = "c1", .qos = 1,
		TIMEOUT(" 300"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-lead-space", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-lead-space/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-trail-space", .topic = "req/A", .rt = "ret/bi-t-trail-space/1", .corr = "c1", .qos = 1,
		TIMEOUT("300 "),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-trail-space", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-trail-space/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-t-inner-space", .topic = "req/A", .rt = "ret/bi-t-inner-space/1", .corr = "c1", .qos = 1,
		TIMEOUT("3 00"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-t-inner-space", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-t-inner-space/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	/* Far past any integer type: clamped to max_timeout_ms, and tracked. */
	{.id = "bi-t-huge", .topic = "req/A", .rt = "ret/bi-t-huge/1", .corr = "c1", .qos = 1, TIMEOUT(DIGITS_30),
		.outcome = TIMED_OUT, .timeout_ms = MAX_TIMEOUT_MS},

	/* ---- several request properties at once ---- */
	{.id = "bi-two-timeouts", .topic = "req/A", .rt = "ret/bi-two-timeouts/1", .corr = "c1", .qos = 1,
		USER2(RECEIPTS_PROP_TIMEOUT_MS, "300", RECEIPTS_PROP_TIMEOUT_MS, "300"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-two-timeouts", "req/A", RECEIPTS_REJECT_AMBIGUOUS),
		.receipt_topic = "ret/bi-two-timeouts/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_AMBIGUOUS},
	/* Even the same area twice is ambiguous. */
	{.id = "bi-two-areas", .topic = "dev/1", .rt = "ret/bi-two-areas/1", .corr = "c1", .qos = 1,
		USER2(RECEIPTS_PROP_SUBJECT_AREA, "A", RECEIPTS_PROP_SUBJECT_AREA, "A"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-two-areas", "dev/1", RECEIPTS_REJECT_AMBIGUOUS),
		.receipt_topic = "ret/bi-two-areas/1", .status = RECEIPTS_STATUS_REJECTED, .reason = RECEIPTS_REJECT_AMBIGUOUS},
	/* Two return areas name two return topics: no receipt (code; README
	 * says so for return-area + Response Topic). */
	{.id = "bi-two-ras", .topic = "req/A", .corr = "c1", .qos = 1,
		USER2(RECEIPTS_PROP_RETURN_AREA, "x", RECEIPTS_PROP_RETURN_AREA, "y"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-two-ras", "req/A", RECEIPTS_REJECT_AMBIGUOUS)},
	{.id = "bi-ra-and-rt", .topic = "req/A", .rt = "ret/bi-ra-and-rt/1", .corr = "c1", .qos = 1,
		USER1(RECEIPTS_PROP_RETURN_AREA, "x"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-ra-and-rt", "req/A", RECEIPTS_REJECT_AMBIGUOUS)},

	/* ---- properties only the broker sets ---- */
	{.id = "bi-forged-requester", .topic = "req/A", .rt = "ret/bi-forged-requester/1", .corr = "c1", .qos = 1,
		USER2(RECEIPTS_PROP_REQUESTER, "mallory", RECEIPTS_PROP_REQUESTER, "bi-forged-requester"),
		.outcome = ANSWERED},
	{.id = "bi-forged-receipt", .topic = "req/A", .rt = "ret/bi-forged-receipt/1", .corr = "c1", .qos = 1,
		USER2(RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_OK, RECEIPTS_PROP_REASON, "forged"),
		.outcome = ANSWERED},
	{.id = "bi-forged-ok", .prior = PRIOR_PENDING,
		.from = BY_RESPONDER, .topic = "ret/bi-forged-ok/1", .corr = "p1", .qos = 1,
		USER2(RECEIPTS_PROP_RECEIPT, RECEIPTS_STATUS_REJECTED, RECEIPTS_PROP_REASON, "forged"),
		.outcome = PASSED, .receipt_topic = "ret/bi-forged-ok/1", .status = RECEIPTS_STATUS_OK},

	/* ---- duplicates ---- */
	{.id = "bi-dup-receipt", .prior = PRIOR_ANSWERED,
		.from = BY_RESPONDER, .topic = "ret/bi-dup-receipt/1", .corr = "p1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-resp", "ret/bi-dup-receipt/1", RECEIPTS_UNMATCHED_NOT_PENDING)},

	/* ---- receipts that match nothing or come from the wrong client ---- */
	{.id = "bi-late", .prior = PRIOR_TIMED_OUT, .prior_timeout = "100",
		.from = BY_RESPONDER, .topic = "ret/bi-late/1", .corr = "p1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-resp", "ret/bi-late/1", RECEIPTS_UNMATCHED_NOT_PENDING)},
	{.id = "bi-wrong-corr", .prior = PRIOR_PENDING,
		.from = BY_RESPONDER, .topic = "ret/bi-wrong-corr/1", .corr = "p2", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-resp", "ret/bi-wrong-corr/1", RECEIPTS_UNMATCHED_NOT_PENDING)},
	{.id = "bi-no-corr", .prior = PRIOR_PENDING,
		.from = BY_RESPONDER, .topic = "ret/bi-no-corr/1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-resp", "ret/bi-no-corr/1", RECEIPTS_UNMATCHED_NO_CORRELATION)},
	{.id = "bi-empty-corr", .prior = PRIOR_PENDING,
		.from = BY_RESPONDER, .topic = "ret/bi-empty-corr/1", .corr = "", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-resp", "ret/bi-empty-corr/1", RECEIPTS_UNMATCHED_NO_CORRELATION)},
	{.id = "bi-not-reached", .prior = PRIOR_PENDING,
		.from = BY_STRANGER, .topic = "ret/bi-not-reached/1", .corr = "p1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-stranger", "ret/bi-not-reached/1", RECEIPTS_UNMATCHED_NOT_DELIVERED)},
	{.id = "bi-forged-into", .from = BY_STRANGER, .topic = "ret/bi-forged-into/x", .corr = "p1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-stranger", "ret/bi-forged-into/x", RECEIPTS_UNMATCHED_NOT_PENDING)},
	/* The requester answering itself: its request never reached it... */
	{.id = "bi-self", .prior = PRIOR_PENDING,
		.from = BY_REQUESTER, .topic = "ret/bi-self/1", .corr = "p1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-self", "ret/bi-self/1", RECEIPTS_UNMATCHED_NOT_DELIVERED)},
	/* ...unless it subscribes to the area: then it is a responder too. */
	{.id = "bi-self-in-area", .in_prior_area = true, .prior = PRIOR_PENDING,
		.from = BY_REQUESTER, .topic = "ret/bi-self-in-area/1", .corr = "p1", .qos = 1,
		.outcome = PASSED, .receipt_topic = "ret/bi-self-in-area/1", .status = RECEIPTS_STATUS_OK},
	/* Open return topics: matching but from a stranger is refused, not
	 * matching is ordinary traffic. */
	{.id = "bi-open-stranger", .filter = "open/bi-open-stranger/#", .ok_rt = "open/bi-open-stranger/ok",
		.prior = PRIOR_PENDING, .prior_rt = "open/bi-open-stranger/1",
		.from = BY_STRANGER, .topic = "open/bi-open-stranger/1", .corr = "p1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-stranger", "open/bi-open-stranger/1", RECEIPTS_UNMATCHED_NOT_DELIVERED)},
	{.id = "bi-open-other", .filter = "open/bi-open-other/#", .ok_rt = "open/bi-open-other/ok",
		.prior = PRIOR_PENDING, .prior_rt = "open/bi-open-other/1",
		.from = BY_STRANGER, .topic = "open/bi-open-other/1", .corr = "zz", .qos = 1,
		.outcome = PASSED, .receipt_topic = "open/bi-open-other/1"},

	/* ---- client ids that are no topic level ---- */
	/* `ret/bi/slash/1` is client `bi`'s area. */
	{.id = "bi/slash", .filter = "open/bi-slash/#", .ok_rt = "open/bi-slash/ok",
		.topic = "req/A", .rt = "ret/bi/slash/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi/slash", "req/A", RECEIPTS_REJECT_FOREIGN_RETURN_AREA)},
	{.id = "bi/slash", .filter = "open/bi-slash/#", .ok_rt = "open/bi-slash/ok",
		.topic = "req/A", .corr = "c1", .qos = 1, USER1(RECEIPTS_PROP_RETURN_AREA, "x"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi/slash", "req/A", RECEIPTS_REJECT_BAD_CLIENT_ID)},
	{.id = "bi+plus", .filter = "open/bi-plus/#", .ok_rt = "open/bi-plus/ok",
		.topic = "req/A", .rt = "ret/bi+plus/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi+plus", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	{.id = "bi+plus", .filter = "open/bi-plus/#", .ok_rt = "open/bi-plus/ok",
		.topic = "req/A", .corr = "c1", .qos = 1, USER1(RECEIPTS_PROP_RETURN_AREA, "x"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi+plus", "req/A", RECEIPTS_REJECT_BAD_CLIENT_ID)},
	{.id = "bi#hash", .filter = "open/bi-hash/#", .ok_rt = "open/bi-hash/ok",
		.topic = "req/A", .rt = "ret/bi#hash/1", .corr = "c1", .qos = 1,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi#hash", "req/A", RECEIPTS_REJECT_BAD_RETURN_TOPIC)},
	{.id = "bi#hash", .filter = "open/bi-hash/#", .ok_rt = "open/bi-hash/ok",
		.topic = "req/A", .corr = "c1", .qos = 1, USER1(RECEIPTS_PROP_RETURN_AREA, "x"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi#hash", "req/A", RECEIPTS_REJECT_BAD_CLIENT_ID)},
	{.id = "$bi-dollar", .filter = "open/bi-dollar/#", .ok_rt = "open/bi-dollar/ok",
		.topic = "req/A", .corr = "c1", .qos = 1, USER1(RECEIPTS_PROP_RETURN_AREA, "x"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("$bi-dollar", "req/A", RECEIPTS_REJECT_BAD_CLIENT_ID)},

	/* ---- QoS ---- */
	{.id = "bi-q2-refused", .topic = "req/A", .rt = "ret/bi-q2-refused/1", .corr = "c1", .qos = 2, TIMEOUT("0"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-q2-refused", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-q2-refused/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-q2-request", .topic = "req/A", .rt = "ret/bi-q2-request/1", .corr = "c1", .qos = 2,
		.outcome = ANSWERED},
	{.id = "bi-q0-refused", .topic = "req/A", .rt = "ret/bi-q0-refused/1", .corr = "c1", .qos = 0, TIMEOUT("0"),
		.outcome = REFUSED, .ack = 0,
		.log = REQ_REFUSED("bi-q0-refused", "req/A", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-q0-refused/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
	{.id = "bi-q2-receipt", .prior = PRIOR_PENDING,
		.from = BY_RESPONDER, .topic = "ret/bi-q2-receipt/1", .corr = "p1", .qos = 2,
		.outcome = PASSED, .receipt_topic = "ret/bi-q2-receipt/1", .status = RECEIPTS_STATUS_OK},
	{.id = "bi-q2-stranger", .prior = PRIOR_PENDING,
		.from = BY_STRANGER, .topic = "ret/bi-q2-stranger/1", .corr = "p1", .qos = 2,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = RCPT_REFUSED("bi-stranger", "ret/bi-q2-stranger/1", RECEIPTS_UNMATCHED_NOT_DELIVERED)},

	/* ---- retained ---- */
	/* A retained request would be stored and handed to every future
	 * subscriber of the area, long after its receipt was settled: refused,
	 * and nothing is stored. */
	{.id = "bi-retained-request", .topic = "req/R", .rt = "ret/bi-retained-request/1", .corr = "c1", .qos = 1,
		.retain = true,
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-retained-request", "req/R", RECEIPTS_REJECT_RETAINED),
		.receipt_topic = "ret/bi-retained-request/1", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_RETAINED, .late_topic = "req/R"},
	/* A retained answer is forwarded with retain cleared, and not stored. */
	{.id = "bi-retained-receipt", .prior = PRIOR_PENDING,
		.from = BY_RESPONDER, .topic = "ret/bi-retained-receipt/1", .corr = "p1", .qos = 1, .retain = true,
		.outcome = PASSED, .receipt_topic = "ret/bi-retained-receipt/1", .status = RECEIPTS_STATUS_OK,
		.late_topic = "ret/bi-retained-receipt/1"},

	/* ---- topic aliases: the prior set alias 1 for req/P ---- */
	{.id = "bi-alias", .prior = PRIOR_ANSWERED, .prior_alias = 1,
		.alias = 1, .rt = "ret/bi-alias/2", .corr = "c2", .qos = 1,
		.outcome = ANSWERED, .delivered_on = "req/P"},
	{.id = "bi-alias-refused", .prior = PRIOR_ANSWERED, .prior_alias = 1,
		.alias = 1, .rt = "ret/bi-alias-refused/2", .corr = "c2", .qos = 1, TIMEOUT("0"),
		.outcome = REFUSED, .ack = MQTT_RC_NOT_AUTHORIZED,
		.log = REQ_REFUSED("bi-alias-refused", "req/P", RECEIPTS_REJECT_BAD_TIMEOUT),
		.receipt_topic = "ret/bi-alias-refused/2", .status = RECEIPTS_STATUS_REJECTED,
		.reason = RECEIPTS_REJECT_BAD_TIMEOUT},
};

#define CASE_COUNT ((int)(sizeof(cases) / sizeof(cases[0])))

/* ---- a hand-made MQTT 5 connection, for what libmosquitto will not send ---- */

struct wire {
	uint8_t b[1024];
	size_t len;
};

static void put_byte(struct wire *w, uint8_t v)
{
	ck_assert_uint_lt(w->len, sizeof(w->b));
	w->b[w->len++] = v;
}

static void put_varint(struct wire *w, size_t v)
{
	do{
		uint8_t d = (uint8_t)(v % 128);
		v /= 128;
		put_byte(w, v ? (uint8_t)(d | 0x80) : d);
	}while(v);
}

static void put_u16(struct wire *w, size_t v)
{
	put_byte(w, (uint8_t)(v >> 8));
	put_byte(w, (uint8_t)v);
}

static void put_bytes(struct wire *w, const void *data, size_t n)
{
	for(size_t i = 0; i < n; i++) put_byte(w, ((const uint8_t *)data)[i]);
}

static void put_str(struct wire *w, const char *s)
{
	put_u16(w, strlen(s));
	put_bytes(w, s, strlen(s));
}

/* Fixed header plus body, sent whole. */
static void raw_send(int fd, uint8_t type, const struct wire *body)
{
	struct wire pkt = {.len = 0};
	put_byte(&pkt, type);
	put_varint(&pkt, body->len);
	put_bytes(&pkt, body->b, body->len);
	ck_assert_int_eq(send(fd, pkt.b, pkt.len, MSG_NOSIGNAL), (ssize_t)pkt.len);
}

/* Reads what arrives until the peer closes, `want` bytes have come (0:
 * no limit) or the deadline passes. Returns the byte count; *closed says
 * whether the peer closed. */
static size_t raw_read(int fd, uint8_t *buf, size_t want, size_t cap, int timeout_ms, bool *closed)
{
	size_t n = 0;
	*closed = false;
	int64_t deadline = harness_now_ms() + timeout_ms;
	while(!*closed && (want == 0 || n < want)){
		int left = (int)(deadline - harness_now_ms());
		if(left <= 0) break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if(poll(&pfd, 1, left) <= 0) continue;
		ssize_t r = recv(fd, buf + n, (want ? want : cap) - n, 0);
		if(r > 0){
			n += (size_t)r;
			ck_assert_uint_lt(n, cap);
		}else if(r == 0 || errno != EINTR){
			*closed = true;
		}
	}
	return n;
}

/* CONNECT (MQTT 5, clean start) and a successful CONNACK, read whole. */
static int raw_connect(const struct broker *b, const char *id)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	struct wire body = {.len = 0};
	put_str(&body, "MQTT");
	put_byte(&body, 5);
	put_byte(&body, 0x02);   /* clean start */
	put_u16(&body, 60);      /* keep alive */
	put_varint(&body, 0);    /* no properties */
	put_str(&body, id);
	raw_send(fd, CMD_CONNECT, &body);

	/* Type and a one-byte remaining length (a CONNACK is short), then
	 * flags, reason code and properties. */
	uint8_t ack[128];
	bool closed;
	ck_assert_uint_eq(raw_read(fd, ack, 2, sizeof(ack), HARNESS_ACK_TIMEOUT_MS, &closed), 2);
	ck_assert_uint_eq(ack[0], CMD_CONNACK);
	size_t rest = ack[1];
	ck_assert_uint_lt(rest, 128);
	ck_assert_uint_ge(rest, 2);
	ck_assert_uint_eq(raw_read(fd, ack, rest, sizeof(ack), HARNESS_ACK_TIMEOUT_MS, &closed), rest);
	ck_assert_uint_eq(ack[1], 0);   /* reason code: success */
	return fd;
}

static void raw_publish(int fd, const struct bad_case *bc)
{
	struct wire props = {.len = 0};
	if(bc->rt){
		put_byte(&props, MQTT_PROP_RESPONSE_TOPIC);
		put_str(&props, bc->rt);
	}
	if(bc->corr){
		put_byte(&props, MQTT_PROP_CORRELATION_DATA);
		put_str(&props, bc->corr);
	}
	for(int i = 0; i < bc->user_count; i++){
		put_byte(&props, MQTT_PROP_USER_PROPERTY);
		put_str(&props, bc->user[i].name);
		put_str(&props, bc->user[i].value);
	}
	struct wire body = {.len = 0};
	put_str(&body, bc->topic);
	if(bc->qos) put_u16(&body, 1);   /* packet id */
	put_varint(&body, props.len);
	put_bytes(&body, props.b, props.len);
	put_bytes(&body, "tested", 6);
	raw_send(fd, (uint8_t)(CMD_PUBLISH | (bc->qos << 1)), &body);
}

/* The broker must end the connection, sending exactly raw_reply first. */
static void raw_expect_dropped(int fd, const struct bad_case *bc)
{
	uint8_t buf[256];
	bool closed;
	size_t n = raw_read(fd, buf, 0, sizeof(buf), RCPT_ARRIVAL_MS, &closed);
	ck_assert_msg(closed, "%s: the broker kept the connection", bc->id);
	ck_assert_uint_eq(n, strlen(bc->raw_reply));
	ck_assert_msg(memcmp(buf, bc->raw_reply, n) == 0, "%s: unexpected bytes before the close", bc->id);
	close(fd);
}

/* ---- the generic test ---- */

static struct broker broker;

static void start_broker(const char *conf)
{
	char options[512];
	snprintf(options, sizeof(options), "%s%s", BROKER_CONF, conf ? conf : "");
	broker_start(&broker, options);
}

static void stop_broker(void)
{
	broker_stop(&broker);
}

struct run {
	const struct bad_case *bc;
	struct client *req, *resp, *stranger;
	struct msg *prior;   /* the prior request as the responder got it */
	char prior_rt[4096];
	int64_t sent_ms;     /* when the publish under test went out */
};

static struct props_spec tested_props(const struct bad_case *bc)
{
	return (struct props_spec){.response_topic = bc->rt,
		.correlation = bc->corr, .correlation_len = bc->corr ? (uint16_t)strlen(bc->corr) : 0,
		.user = bc->user, .user_count = bc->user_count, .topic_alias = bc->alias};
}

/* The correlation a receipt carries back: none when it was empty. */
static const char *echoed_corr(const char *corr)
{
	return corr && corr[0] ? corr : NULL;
}

static void connect_requester(struct run *r)
{
	char filter[160];
	snprintf(filter, sizeof(filter), "ret/%s/#", r->bc->id);
	r->req = client_connect_auth(&broker, r->bc->id, true, r->bc->username, NULL);
	ck_assert_int_eq(client_subscribe(r->req, r->bc->filter ? r->bc->filter : filter, 2), 2);
	if(r->bc->in_prior_area) ck_assert_int_eq(client_subscribe(r->req, "req/P", 2), 2);
}

static void send_prior(struct run *r)
{
	const struct bad_case *bc = r->bc;
	const struct user_pair timeout[] = {{RECEIPTS_PROP_TIMEOUT_MS, bc->prior_timeout}};
	struct props_spec props = {.response_topic = r->prior_rt, .correlation = "p1", .correlation_len = 2,
		.user = timeout, .user_count = bc->prior_timeout ? 1 : 0, .topic_alias = bc->prior_alias};

	r->prior = request_reaches(r->req, "req/P", "prior", &props, 1, r->resp, "req/P");
	if(bc->in_prior_area) msg_free(expect_request(r->req, "req/P", "prior", bc->id));
	if(bc->prior == PRIOR_ANSWERED){
		ck_assert_int_eq(client_answer(r->resp, r->prior, "answer", 1), 0);
		expect_receipt(r->req, r->prior_rt, "answer", RECEIPTS_STATUS_OK, NULL, "p1", 1);
	}else if(bc->prior == PRIOR_TIMED_OUT){
		expect_receipt(r->req, r->prior_rt, "", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, "p1", 1);
	}
}

static struct client *sender(const struct run *r)
{
	switch(r->bc->from){
		case BY_RESPONDER: return r->resp;
		case BY_STRANGER: return r->stranger;
		default: return r->req;
	}
}

/* An accepted request as the responder got it: the broker's properties
 * only, and the requester's own untouched. */
static struct msg *expect_delivered(const struct run *r)
{
	const struct bad_case *bc = r->bc;
	const char *on = bc->delivered_on ? bc->delivered_on : bc->topic;
	struct msg *m = expect_request(r->resp, on, "tested", bc->id);
	ck_assert_int_eq(m->qos, bc->qos);
	ck_assert_pstr_eq(m->response_topic, bc->rt);
	assert_token(m, bc->corr);
	static const char *const broker_only[] = {RECEIPTS_PROP_RECEIPT, RECEIPTS_PROP_REASON,
		RECEIPTS_PROP_SUBJECT_AREA, RECEIPTS_PROP_RETURN_AREA};
	for(size_t i = 0; i < sizeof(broker_only) / sizeof(broker_only[0]); i++){
		ck_assert_int_eq(msg_user_count(m, broker_only[i]), 0);
	}
	bool rerouted = bc->topic && strcmp(bc->topic, on);
	ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_ORIGINAL_TOPIC), rerouted ? 1 : 0);
	if(rerouted) ck_assert_str_eq(msg_user(m, RECEIPTS_PROP_ORIGINAL_TOPIC), bc->topic);
	return m;
}

static void check_refused(const struct run *r)
{
	const struct bad_case *bc = r->bc;
	if(bc->receipt_topic){
		struct msg *m = expect_on(r->req, bc->receipt_topic);
		assert_broker_receipt(m, bc->status, bc->reason, echoed_corr(bc->corr), bc->qos);
		msg_free(m);
	}
}

static void check_answered(const struct run *r)
{
	const struct bad_case *bc = r->bc;
	struct msg *m = expect_delivered(r);
	ck_assert_int_eq(client_answer(r->resp, m, "answer", bc->qos), 0);
	expect_receipt(r->req, m->response_topic, "answer", RECEIPTS_STATUS_OK, NULL,
			bc->broker_corr ? NULL : bc->corr, bc->qos);
	msg_free(m);
}

static void check_timed_out(const struct run *r)
{
	const struct bad_case *bc = r->bc;
	msg_free(expect_delivered(r));
	struct msg *m = expect_on(r->req, bc->rt);
	int64_t elapsed = harness_now_ms() - r->sent_ms;
	assert_broker_receipt(m, RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE, echoed_corr(bc->corr), bc->qos);
	ck_assert_int_ge(elapsed, bc->timeout_ms);
	ck_assert_int_le(elapsed, bc->timeout_ms + TICK_SLACK_MS);
	msg_free(m);
}

static void check_passed(const struct run *r)
{
	const struct bad_case *bc = r->bc;
	struct msg *m = expect_on(r->req, bc->receipt_topic);
	if(bc->status){
		assert_receipt(m, "tested", bc->status, NULL, bc->corr, bc->qos);
	}else{
		/* Ordinary traffic: exactly as sent, nothing added. */
		ck_assert_str_eq(m->payload, "tested");
		ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_RECEIPT), 0);
		ck_assert_int_eq(msg_user_count(m, RECEIPTS_PROP_REASON), 0);
		assert_correlation(m, bc->corr);
		ck_assert_int_eq(m->qos, bc->qos);
	}
	msg_free(m);
}

/* Either the broker drops the connection, or the plugin refuses: then the
 * PUBACK carries the row's reason code and the connection stays. */
static void send_raw(const struct run *r)
{
	const struct bad_case *bc = r->bc;
	int fd = raw_connect(&broker, bc->id);
	raw_publish(fd, bc);
	if(bc->outcome == DISCONNECTED){
		raw_expect_dropped(fd, bc);
		return;
	}
	ck_assert_int_eq(bc->qos, 1);
	const uint8_t puback[] = {CMD_PUBACK, 3, 0, 1, (uint8_t)bc->ack};
	uint8_t buf[sizeof(puback) + 1];
	bool closed;
	ck_assert_uint_eq(raw_read(fd, buf, sizeof(puback), sizeof(buf), RCPT_ARRIVAL_MS, &closed), sizeof(puback));
	ck_assert_msg(memcmp(buf, puback, sizeof(puback)) == 0, "%s: not PUBACK 0x%02x", bc->id, bc->ack);
	ck_assert(!closed);
	/* The row's client comes back on libmosquitto for the normal request. */
	close(fd);
}

/* The row as the broker under test must handle it: releases differ in what
 * they drop themselves before any plugin sees it.
 * - From 2.0.12 a wildcard in a PUBLISH topic is a malformed packet
 *   (DISCONNECT 0x81); 2.0.11 calls it a protocol error (0x82).
 * - From 2.0.20 an empty Response Topic, or one with a wildcard, is a
 *   protocol error (0x82); up to 2.0.19 the plugin refuses it. Such a row is
 *   then sent by hand, to see the DISCONNECT the broker sends. */
static struct bad_case on_this_broker(const struct bad_case *row, char *log, size_t log_size)
{
	struct bad_case bc = *row;
	int version = broker_version();
	if(bc.outcome == DISCONNECTED && bc.topic && strpbrk(bc.topic, "+#")
			&& version >= BROKER_VERSION(2, 0, 12)){
		bc.raw_reply = "\xE0\x01\x81";
		snprintf(log, log_size, "Client %s disconnected due to malformed packet.\n", bc.id);
		bc.log = log;
	}
	if(bc.outcome == REFUSED && bc.rt && (bc.from == BY_REQUESTER || bc.from == BY_RAW)
			&& broker_drops_response_topic(bc.rt)){
		bc.from = BY_RAW;
		bc.outcome = DISCONNECTED;
		bc.raw_reply = "\xE0\x01\x82";
		snprintf(log, log_size, "Client %s disconnected due to protocol error.\n", bc.id);
		bc.log = log;
		bc.receipt_topic = NULL;
	}
	return bc;
}

START_TEST(bad_input)
{
	char log[160];
	const struct bad_case row = on_this_broker(&cases[_i], log, sizeof(log));
	const struct bad_case *bc = &row;
	struct run r = {.bc = bc};
	start_broker(bc->conf);
	if(bc->prior_rt){
		snprintf(r.prior_rt, sizeof(r.prior_rt), "%s", bc->prior_rt);
	}else{
		snprintf(r.prior_rt, sizeof(r.prior_rt), "ret/%s/1", bc->id);
	}

	/* Whatever topic a refused request names, it must reach nobody. */
	r.resp = subscriber_at(&broker, "bi-resp", true, "req/#", 2);
	ck_assert_int_eq(client_subscribe(r.resp, "dev/#", 2), 2);
	if(bc->from == BY_STRANGER) r.stranger = client_connect(&broker, "bi-stranger", true);
	/* The raw connection uses the row's id; the requester comes after it. */
	if(bc->from != BY_RAW) connect_requester(&r);
	if(bc->prior != NO_PRIOR) send_prior(&r);

	r.sent_ms = harness_now_ms();
	if(bc->from == BY_RAW){
		send_raw(&r);
		connect_requester(&r);
	}else{
		struct props_spec props = tested_props(bc);
		/* An answer to the prior request carries what a responder got
		 * with it: its token. */
		if(r.prior && bc->corr && !strcmp(bc->corr, "p1")){
			props.correlation = r.prior->correlation;
			props.correlation_len = r.prior->correlation_len;
		}
		int ack = client_publish_str(sender(&r), bc->topic, "tested", bc->qos, bc->retain, &props);
		ck_assert_msg(ack == bc->ack, "%s: acknowledged with %d, not %d", bc->id, ack, bc->ack);
	}
	if(bc->log){
		ck_assert_msg(broker_log_wait(&broker, bc->log, RCPT_ARRIVAL_MS), "%s: no log line %s", bc->id, bc->log);
		ck_assert_int_eq(broker_log_count(&broker, bc->log), 1);
	}
	ck_assert_int_eq(broker_log_count(&broker, ANY_REFUSAL), bc->outcome == REFUSED ? 1 : 0);

	switch(bc->outcome){
		case REFUSED: check_refused(&r); break;
		case ANSWERED: check_answered(&r); break;
		case TIMED_OUT: check_timed_out(&r); break;
		case PASSED: check_passed(&r); break;
		case DISCONNECTED: break;
	}
	/* A refusal leaves the prior request pending: the true answer still
	 * passes. */
	if(bc->prior == PRIOR_PENDING && !(bc->outcome == PASSED && bc->status)){
		ck_assert_int_eq(client_answer(r.resp, r.prior, "answer", 1), 0);
		expect_receipt(r.req, r.prior_rt, "answer", RECEIPTS_STATUS_OK, NULL, "p1", 1);
	}
	/* A stored message would come at once after the SUBACK, before the
	 * normal request's receipt below. */
	if(bc->late_topic) ck_assert_int_eq(client_subscribe(r.req, bc->late_topic, 2), 2);

	/* The broker still serves the same client and connection. */
	ck_assert(client_is_connected(r.req));
	if(bc->from != BY_RAW) ck_assert(client_is_connected(sender(&r)));
	char ok_rt[160];
	snprintf(ok_rt, sizeof(ok_rt), "ret/%s/ok", bc->id);
	struct props_spec fine = {.response_topic = bc->ok_rt ? bc->ok_rt : ok_rt,
		.correlation = "fine", .correlation_len = 4};
	request_round_trip(r.req, "req/A", &fine, r.resp, "req/A", fine.response_topic, "fine");

	/* Nothing more, not even the timeout of a request wrongly tracked:
	 * any request ends within MAX_TIMEOUT_MS of being sent. */
	int64_t left = r.sent_ms + MAX_TIMEOUT_MS + TICK_SLACK_MS - harness_now_ms();
	if(left > 0) ck_assert(client_quiet(r.req, (int)left));
	ck_assert(client_quiet(r.resp, 0));
	if(r.stranger) ck_assert(client_quiet(r.stranger, 0));
	ck_assert_int_eq(broker_log_count(&broker, ANY_REFUSAL), bc->outcome == REFUSED ? 1 : 0);

	msg_free(r.prior);
	if(r.stranger) client_free(r.stranger);
	client_free(r.req);
	client_free(r.resp);
}
END_TEST

/* A user's budget holds across its client ids; another user and an
 * anonymous client are not charged for it; an answer frees a slot. */
START_TEST(quota_per_user_across_client_ids)
{
	/* Long enough that nothing times out meanwhile. */
	start_broker("plugin_opt_" RECEIPTS_OPT_MAX_PENDING_PER_USER " 2\n"
			"plugin_opt_" RECEIPTS_OPT_MAX_TIMEOUT_MS " 60000\n"
			"plugin_opt_" RECEIPTS_OPT_DEFAULT_TIMEOUT_MS " 30000\n");
	struct client *resp = subscriber_at(&broker, "qu-resp", true, "req/#", 2);
	struct client *req[3];
	struct msg *got[2];
	char id[16], rt[32];
	for(int i = 0; i < 3; i++){
		snprintf(id, sizeof(id), "qu-%d", i);
		req[i] = client_connect_auth(&broker, id, true, "qu-user", NULL);
		snprintf(rt, sizeof(rt), "ret/%s/#", id);
		ck_assert_int_eq(client_subscribe(req[i], rt, 1), 1);
	}
	for(int i = 0; i < 2; i++){
		snprintf(rt, sizeof(rt), "ret/qu-%d/1", i);
		struct props_spec p = {.response_topic = rt, .correlation = "c1", .correlation_len = 2};
		got[i] = request_reaches(req[i], "req/A", "q", &p, 1, resp, "req/A");
	}
	struct props_spec third = {.response_topic = "ret/qu-2/1", .correlation = "c1", .correlation_len = 2};
	ck_assert_int_eq(client_publish_str(req[2], "req/A", "q", 1, false, &third), MQTT_RC_NOT_AUTHORIZED);
	expect_receipt(req[2], "ret/qu-2/1", "", RECEIPTS_STATUS_REJECTED, RECEIPTS_REJECT_OVER_QUOTA, "c1", 1);
	ck_assert(broker_log_wait(&broker, REQ_REFUSED("qu-2", "req/A", RECEIPTS_REJECT_OVER_QUOTA), RCPT_ARRIVAL_MS));
	ck_assert(client_quiet(resp, 0));

	struct client *anon = requester_at(&broker, "qu-anon", true, 1);
	struct client *other = client_connect_auth(&broker, "qu-other", true, "other-user", NULL);
	ck_assert_int_eq(client_subscribe(other, "ret/qu-other/#", 1), 1);
	struct props_spec pa = {.response_topic = "ret/qu-anon/1", .correlation = "a", .correlation_len = 1};
	request_round_trip(anon, "req/A", &pa, resp, "req/A", "ret/qu-anon/1", "a");
	struct props_spec po = {.response_topic = "ret/qu-other/1", .correlation = "o", .correlation_len = 1};
	request_round_trip(other, "req/A", &po, resp, "req/A", "ret/qu-other/1", "o");

	answer_gets_ok(resp, got[0], req[0], "ret/qu-0/1", "c1");
	request_round_trip(req[2], "req/A", &third, resp, "req/A", "ret/qu-2/1", "c1");
	answer_gets_ok(resp, got[1], req[1], "ret/qu-1/1", "c1");
	ck_assert_int_eq(broker_log_count(&broker, ANY_REFUSAL), 1);

	for(int i = 0; i < 2; i++) msg_free(got[i]);
	for(int i = 0; i < 3; i++) client_free(req[i]);
	client_free(anon);
	client_free(other);
	client_free(resp);
}
END_TEST

Suite *bad_input_suite(void)
{
	Suite *s = suite_create("bad_input");
	TCase *tc = harness_tcase("table");
	/* Each row runs in its own process with its own broker, started with
	 * the row's options. */
	tcase_add_checked_fixture(tc, NULL, stop_broker);
	tcase_add_loop_test(tc, bad_input, 0, CASE_COUNT);
	suite_add_tcase(s, tc);
	tc = harness_tcase("quotas");
	tcase_add_checked_fixture(tc, NULL, stop_broker);
	tcase_add_test(tc, quota_per_user_across_client_ids);
	suite_add_tcase(s, tc);
	return s;
}
