/*
 * mosquitto-receipts: the names every client and operator sees.
 *
 * MQTT 5 user property names, receipt statuses, refusal reasons and plugin
 * options of the receipts plugin. Clients may copy these strings; the plugin
 * itself uses these macros so that the contract lives in one place.
 */
#ifndef RECEIPTS_H
#define RECEIPTS_H

/* User properties a requester sets on a request. */
#define RECEIPTS_PROP_SUBJECT_AREA   "subject-area"
#define RECEIPTS_PROP_RETURN_AREA    "return-area"
#define RECEIPTS_PROP_TIMEOUT_MS     "receipt-timeout-ms"

/* User properties the broker sets; a client's own copies are replaced. */
#define RECEIPTS_PROP_REQUESTER      "requester"
#define RECEIPTS_PROP_REQUESTER_USER "requester-user"
#define RECEIPTS_PROP_ORIGINAL_TOPIC "original-topic"
#define RECEIPTS_PROP_RECEIPT        "receipt"
#define RECEIPTS_PROP_REASON         "receipt-reason"
/* The requester's broker, in a network of bridged brokers (set with
 * plugin_opt_broker_name; vouched for hop by hop). */
#define RECEIPTS_PROP_REQUESTER_BROKER "requester-broker"

/* Values of the `receipt` user property. */
#define RECEIPTS_STATUS_OK             "ok"
#define RECEIPTS_STATUS_TIMEOUT        "timeout"
#define RECEIPTS_STATUS_NO_RESPONDERS  "no-responders"
#define RECEIPTS_STATUS_RESPONDER_GONE "responder-gone"
#define RECEIPTS_STATUS_REJECTED       "rejected"
#define RECEIPTS_STATUS_CANCELLED      "cancelled"

/* Values of `receipt-reason` on broker-made receipts. */
#define RECEIPTS_REASON_DEADLINE       "deadline-passed"
#define RECEIPTS_REASON_NO_SUBSCRIBER  "no-subscriber"
#define RECEIPTS_REASON_DISCONNECTED   "responder-disconnected"
#define RECEIPTS_REASON_CANCELLED      "cancelled-by-operator"

/* Values of `receipt-reason` on a `rejected` receipt (and in the log line of
 * every refusal). */
#define RECEIPTS_REJECT_BAD_AREA            "bad-area"
#define RECEIPTS_REJECT_BAD_RETURN_TOPIC    "bad-return-topic"
#define RECEIPTS_REJECT_BAD_RETURN_AREA     "bad-return-area"
#define RECEIPTS_REJECT_FOREIGN_RETURN_AREA "foreign-return-area"
#define RECEIPTS_REJECT_BAD_CLIENT_ID       "bad-client-id"
#define RECEIPTS_REJECT_OVER_QUOTA          "over-quota"
#define RECEIPTS_REJECT_BAD_TIMEOUT         "bad-timeout"
#define RECEIPTS_REJECT_CORRELATION_TOO_LONG "correlation-too-long"
#define RECEIPTS_REJECT_AMBIGUOUS           "ambiguous-property"
#define RECEIPTS_REJECT_RETAINED            "retained-request"
#define RECEIPTS_REJECT_NO_MEMORY           "no-memory"
#define RECEIPTS_REJECT_TOPIC_TOO_SHORT     "topic-too-short"
/* A QoS 2 PUBLISH sent again after its request got its receipt before the
 * PUBREL: refused without a second receipt. */
#define RECEIPTS_REJECT_RESENT              "resent-after-receipt"
#define RECEIPTS_REJECT_NOT_AUTHORIZED      "not-authorized"
#define RECEIPTS_REJECT_RETURN_NOT_WRITABLE "return-topic-not-writable"
#define RECEIPTS_REJECT_RETURN_TOPIC_TOO_LONG "return-topic-too-long"

/* Why a receipt into a private return area is refused (log lines only: the
 * responder gets reason code 0x87). */
#define RECEIPTS_UNMATCHED_NO_CORRELATION   "no-correlation"
#define RECEIPTS_UNMATCHED_NOT_PENDING      "not-pending"
#define RECEIPTS_UNMATCHED_NOT_DELIVERED    "not-delivered-to-sender"
#define RECEIPTS_UNMATCHED_ALREADY_ANSWERED "already-answered"

/* Why a publish under the request prefix without a Response Topic is
 * refused (log lines only: the client gets reason code 0x87). */
#define RECEIPTS_REFUSED_BROKER_PROPERTY    "broker-property"
#define RECEIPTS_REFUSED_RETAINED           "retained"

/* Why a will is refused (log line only). */
#define RECEIPTS_REFUSED_WILL               "no will may be published under the receipts prefixes"

/* Plugin options, as `plugin_opt_<name>` in mosquitto.conf. */
#define RECEIPTS_OPT_REQUEST_PREFIX          "request_prefix"
#define RECEIPTS_OPT_RETURN_PREFIX           "return_prefix"
#define RECEIPTS_OPT_DEFAULT_TIMEOUT_MS      "default_timeout_ms"
#define RECEIPTS_OPT_MAX_TIMEOUT_MS          "max_timeout_ms"
#define RECEIPTS_OPT_MAX_PENDING             "max_pending"
#define RECEIPTS_OPT_MAX_PENDING_PER_CLIENT  "max_pending_per_client"
#define RECEIPTS_OPT_MAX_CORRELATION_LEN     "max_correlation_len"
#define RECEIPTS_OPT_MAX_PENDING_PER_USER    "max_pending_per_user"
#define RECEIPTS_OPT_MAX_PENDING_ANONYMOUS   "max_pending_anonymous"
#define RECEIPTS_OPT_MAX_RETURN_TOPIC_LEN    "max_return_topic_len"
#define RECEIPTS_OPT_MAX_PENDING_BYTES       "max_pending_bytes"
#define RECEIPTS_OPT_ACL_FALLBACK            "acl_fallback"
#define RECEIPTS_OPT_CONTROL_USERS           "control_users"
#define RECEIPTS_OPT_SYS_INTERVAL_S          "sys_interval_s"
#define RECEIPTS_OPT_STATE_FILE              "state_file"
#define RECEIPTS_OPT_SAVE_INTERVAL_S         "save_interval_s"
#define RECEIPTS_OPT_BIND_CLIENT_IDS         "bind_client_ids"
#define RECEIPTS_OPT_QOS2_RELEASE_GRACE_MS   "qos2_release_grace_ms"
#define RECEIPTS_OPT_OPEN_RETURN_TOPICS      "open_return_topics"
#define RECEIPTS_OPT_BROKER_NAME             "broker_name"
#define RECEIPTS_OPT_PEERS                   "peers"
#define RECEIPTS_OPT_JOURNAL_SYNC            "journal_sync"

/* The control API (JSON, in the shape of the dynamic-security plugin's). */
/* Every control topic lies below this. */
#define RECEIPTS_CONTROL_NAMESPACE "$CONTROL/receipts"
#define RECEIPTS_CONTROL_TOPIC          "$CONTROL/receipts/v1"
#define RECEIPTS_CONTROL_RESPONSE_TOPIC "$CONTROL/receipts/v1/response"
#define RECEIPTS_CONTROL_MAX_PAYLOAD    (1024 * 1024)
#define RECEIPTS_CONTROL_MAX_COMMANDS   100
#define RECEIPTS_LIST_DEFAULT_COUNT     100
#define RECEIPTS_LIST_MAX_COUNT         1000
/* A listed request names at most this many recipients (and this many
 * bytes of their ids); more are counted in `deliveredToCount`. */
#define RECEIPTS_LIST_MAX_DELIVERED_TO  100
#define RECEIPTS_LIST_MAX_DELIVERED_TO_BYTES (16 * 1024)
/* A reply stops listing past this size (one entry may go over it). */
#define RECEIPTS_CONTROL_MAX_REPLY      (1024 * 1024)

/* Gauges and counters, published retained under this topic. */
#define RECEIPTS_SYS_PREFIX "$SYS/broker/receipts"

/* Longest subject area name, in bytes. */
#define RECEIPTS_MAX_AREA_LEN 128

#endif
