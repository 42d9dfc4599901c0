/*
 * The soak tool: shared types.
 *
 * One process, one thread: every libmosquitto client is driven by a single
 * poll() loop (soak_clients.c), so callbacks run one at a time and the tally
 * needs no locks. Each request has one record, indexed by its id, which is
 * also its Correlation Data (8 bytes, big-endian): whoever sees a request
 * or a receipt can find its record, and the checks at the end
 * (soak_tally.c) compare what every side saw with the plugin's own counts
 * (soak_control.c).
 */
#ifndef SOAK_H
#define SOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOAK_REQUESTERS 8
#define SOAK_RESPONDERS 4
#define SOAK_CLIENTS (SOAK_REQUESTERS + SOAK_RESPONDERS + 2)
#define SOAK_EAVESDROPPER (SOAK_REQUESTERS + SOAK_RESPONDERS)
#define SOAK_ADMIN (SOAK_EAVESDROPPER + 1)

/* Requests a requester keeps open at once: paces the run. */
#define SOAK_IN_FLIGHT 16
/* receipt-timeout-ms of each request: small, so that late and missing
 * answers turn into timeouts quickly. */
#define SOAK_TIMEOUT_MIN_MS 200
#define SOAK_TIMEOUT_MAX_MS 400
/* A late answer leaves this long after the request's deadline: README
 * promises the timeout receipt within ~200 ms of it. */
#define SOAK_LATE_MARGIN_MS 500
/* How late a timeout receipt may be before it counts as a violation (README
 * says ~200 ms; a loaded two-CPU machine gets some slack). */
#define SOAK_TIMEOUT_SLACK_MS 1000

#define SOAK_AREA "work"
#define SOAK_REQUEST_TOPIC "req/" SOAK_AREA
#define SOAK_SHARED_FILTER "$share/soak/" SOAK_REQUEST_TOPIC
#define SOAK_CORRELATION_LEN 8
#define SOAK_TOKEN_LEN 16

/* What a responder does with one request (drawn per request). */
enum soak_behaviour {
	SOAK_B_ANSWER,
	SOAK_B_LATE,          /* answers after the deadline: refused, requester gets timeout */
	SOAK_B_NEVER,
	SOAK_B_TWICE,         /* the second answer is refused */
	SOAK_B_WRONG,         /* wrong correlation only: refused, then timeout */
	SOAK_B_WRONG_RIGHT,   /* wrong correlation, then the right answer */
	SOAK_B_DISCONNECT,    /* drops its connection without answering */
	SOAK_B_COUNT,
	SOAK_B_NONE = 0xff,   /* no responder saw the request */
};

/* Receipt statuses as the requester saw them. */
enum soak_status {
	SOAK_S_NONE,
	SOAK_S_OK,
	SOAK_S_TIMEOUT,
	SOAK_S_NO_RESPONDERS,
	SOAK_S_RESPONDER_GONE,
	SOAK_S_REJECTED,
	SOAK_S_CANCELLED,
	SOAK_S_COUNT,
};

/* Kinds of answer a responder publishes, for its PUBACK bookkeeping. */
enum soak_answer {
	SOAK_A_RIGHT,
	SOAK_A_DUPLICATE,
	SOAK_A_LATE,
	SOAK_A_WRONG,
};

#define SOAK_F_DROPPED 0x01   /* its requester's session ended while it was open */

/* One request. Times are ms since the start of the run. */
struct soak_request {
	uint32_t sent_ms;
	uint32_t seen_ms;         /* when a responder got it */
	uint32_t receipt_ms;      /* first receipt */
	uint16_t timeout_ms;
	uint16_t requester_epoch; /* connection of the requester that sent it */
	uint16_t responder_epoch;
	uint8_t requester;
	int8_t responder;         /* -1: no responder saw it */
	uint8_t behaviour;
	uint8_t receipts;         /* receipts that arrived */
	uint8_t status;           /* of the first receipt */
	uint8_t flags;
	uint8_t pub_rc;           /* its PUBACK reason code; 0xff: none came */
	uint8_t seen;             /* deliveries to responders */
	uint8_t right_ok;         /* right-correlation answers accepted (PUBACK < 0x80) */
	uint8_t right_refused;
	uint8_t unknown;          /* answers whose PUBACK was lost with a cut connection */
	uint8_t token[SOAK_TOKEN_LEN];   /* the correlation the responder got: the broker's token */
};

enum soak_conn {
	SOAK_DOWN,         /* needs a (new) connection */
	SOAK_CONNECTING,
	SOAK_SUBSCRIBING,
	SOAK_READY,
	SOAK_LEAVING,      /* sent DISCONNECT, waiting for the socket to close */
};

struct soak;

struct soak_client {
	struct soak *soak;
	struct mosquitto *mosq;
	int index;
	char id[32];
	char return_topic[64];    /* requesters */
	enum soak_conn state;
	uint16_t epoch;           /* connections so far, this one included */
	bool cut;                 /* responder: drop the connection at the next turn */
	bool left;                /* the socket closed: reconnect at the next turn */
	bool leave_on_purpose;    /* the disconnect was ours */
	bool leave_soon;          /* requester: leave once its requests are acknowledged */
	uint32_t open[SOAK_IN_FLIGHT];  /* requester: open requests of this connection */
	int n_open;
	uint32_t *mid_req;        /* QoS 1 publishes awaiting PUBACK: mid -> request id + 1 */
	uint8_t *mid_kind;
	uint32_t unacked;
	uint32_t *cut_ms;         /* responder: when connection e ended, at [e - 1] */
	size_t n_cut, cap_cut;
};

/* A late answer waiting for its time. */
struct soak_timer {
	uint32_t due_ms;
	uint32_t request;
	uint16_t epoch;
	uint8_t responder;
};

/* The plugin's getStats, as far as the checks need it. */
struct soak_stats {
	bool valid;
	double pending, high_water;
	double totals[SOAK_S_COUNT];
	double unmatched, abandoned;
	double rejected_by_reason;   /* sum over all reasons */
	double receipt_p50, receipt_p99;
};

/* What the clients saw, beyond the per-request records. */
struct soak_counts {
	uint64_t receipts[SOAK_S_COUNT];  /* first receipts, by status */
	uint64_t extra_receipts;          /* second and later receipts of a request */
	uint64_t misrouted;               /* receipts for a correlation this client id did not send */
	uint64_t inherited;               /* receipts of an earlier session's request, reaching the
	                                   * session of the same client id that holds its return
	                                   * area now (README: requests outlive a connection) */
	uint64_t bad_shape;               /* wrong properties or payload on a receipt */
	uint64_t bad_delivery;            /* a request delivered with wrong properties */
	uint64_t multi_delivery;          /* a request delivered to a second responder */
	uint64_t eavesdropped;            /* anything the eavesdropper got */
	uint64_t eavesdropped_ret;        /* ... of it under ret/ */
	uint64_t bad_suback;              /* a subscription granted or refused against README */
	uint64_t unexpected_disconnects;
	uint64_t connect_failures;
	uint64_t dropped;                 /* requests open when their requester left */
	uint64_t requester_leaves, responder_cuts;
	uint64_t behaviours[SOAK_B_COUNT];
	uint64_t answers_ok, answers_refused, answers_unknown;
	uint64_t late_unsent;             /* late answers whose responder was cut first */
	uint64_t late_accepted;           /* late answers the broker took (should be refused) */
	uint64_t wrong_accepted;          /* wrong-correlation answers the broker took */
	uint64_t request_pubacks[3];      /* 0x00, 0x10, other */
	uint64_t control_errors;
};

struct soak_opts {
	uint64_t requests;
	unsigned seconds;
	uint64_t seed;
	int port;
	int broker_pid;
	const char *broker_log;
	bool verbose;
};

struct soak {
	struct soak_opts opts;
	uint64_t rng;
	uint64_t t0_ns;
	struct soak_request *reqs;
	uint64_t issued;
	bool issuing;
	struct soak_client clients[SOAK_CLIENTS];
	struct soak_timer *timers;     /* min-heap by due_ms */
	size_t n_timers, cap_timers;
	struct soak_counts counts;
	/* control API */
	unsigned control_seq, control_answered;
	struct soak_stats last_stats;
};

/* soak.c */
uint32_t soak_now_ms(const struct soak *s);
uint64_t soak_random(struct soak *s);

/* soak_clients.c */
const char *soak_status_name(int status);
bool soak_client_publish(struct soak *s, int index, const char *topic, const char *payload, int qos);
bool soak_clients_start(struct soak *s);
void soak_clients_pump(struct soak *s, uint32_t max_wait_ms);
bool soak_clients_all_ready(const struct soak *s);
bool soak_clients_settled(const struct soak *s);
void soak_clients_stop(struct soak *s);

/* soak_control.c */
bool soak_control_request(struct soak *s);
void soak_control_reply(struct soak *s, const void *payload, int len);
bool soak_get_stats(struct soak *s, struct soak_stats *out, uint32_t timeout_ms);
long long soak_rss_kb(int pid);
struct soak_log {
	bool read;
	long problems;
	long refused_receipts;
	long puback_failures;     /* "disconnected due to out of memory", see soak_log_scan */
	char first_problem[256];
};
bool soak_log_scan(const char *path, struct soak_log *out);

/* soak_tally.c */
struct soak_report {
	struct soak_stats before, after;
	long long rss_before_kb, rss_after_kb;
	double seconds;
	bool capped;
	struct soak_log log;
};
int soak_check_and_report(struct soak *s, const struct soak_report *r);

#endif
