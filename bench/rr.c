/*
 * Scenario 1 over MQTT: requesters keep `inflight` requests outstanding each,
 * responders answer. The same clients run against a broker with the plugin
 * (mode plugin: every answer must carry `receipt: ok`) and without it (mode
 * plain: correlation is the client's business, and no answer may carry a
 * `receipt` property).
 *
 * With --responder-port the responders sit on another broker of a bridged
 * network (the `bridge` scenario): the BENCH line is then the bridge's.
 *
 * Requests go to req/A with Response Topic ret/<id>/r and an 8-byte
 * Correlation Data holding the requester's sequence number; the ledger counts
 * answers per sequence number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "bench.h"
#include "ledger.h"
#include "mq.h"
#include "proc.h"
#include "responder.h"
#include "rr_result.h"

#define RR_MAX_CLIENTS 64

struct requester {
	struct mq_client c;
	char rtopic[96];
	struct ledger led;
};

/* State of the run, shared by the callbacks (one thread). */
static struct {
	const struct bench_opts *o;
	bool sending;
	bool plugin;
	uint64_t win_start, win_end;   /* measured window; win_end 0 while open */
	unsigned char payload[1024];
	struct rr_result res;
	bool nomem;
} rr;

static void send_request(struct requester *q)
{
	uint64_t seq = ledger_send(&q->led, now_ns());
	if(seq == UINT64_MAX){
		rr.nomem = true;
		return;
	}
	mosquitto_property *props = NULL;
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, q->rtopic);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &seq, sizeof(seq));
	mosquitto_publish_v5(q->c.m, NULL, "req/A", rr.o->payload, rr.payload, rr.o->qos, false, props);
	mosquitto_property_free_all(&props);
}

static void on_answer(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	(void)msg;
	struct requester *q = c->ctx;
	uint64_t t = now_ns(), seq;
	if(!mq_read_corr_u64(props, &seq)){
		q->led.unexpected++;
		return;
	}
	/* The plugin must vouch for every answer; a plain broker must add nothing. */
	char receipt[32];
	bool has = mq_user_prop(props, "receipt", receipt, sizeof(receipt));
	if(rr.plugin ? !(has && !strcmp(receipt, "ok")) : has) rr.res.bad_receipt++;
	uint64_t rtt = ledger_answer(&q->led, seq, t);
	if(rtt && t >= rr.win_start && rr.win_start && (rr.win_end == 0 || t < rr.win_end)){
		rr.res.completed++;
		samples_add(&rr.res.lat_ns, rtt);
	}
	if(rtt && rr.sending) send_request(q);
}

int rr_main(const struct bench_opts *o)
{
	memset(&rr, 0, sizeof(rr));
	rr.o = o;
	rr.plugin = !strcmp(o->mode, "plugin");
	rr.res.cpu_s = -1;
	memset(rr.payload, 'x', sizeof(rr.payload));
	if(o->requesters + o->responders > RR_MAX_CLIENTS || o->payload > (int)sizeof(rr.payload)){
		fprintf(stderr, "rcpt-bench: too many clients or too large a payload\n");
		return 2;
	}
	mq_init();
	struct mq_client *all[RR_MAX_CLIENTS];
	struct mq_client *resp = calloc((size_t)o->responders, sizeof(*resp));
	struct requester *req = calloc((size_t)o->requesters, sizeof(*req));
	int n = 0, rc = 2;
	char id[64];
	/* One responder subscribes to req/A; several share it, as workers would. */
	const char *filter = o->responders > 1 ? "$share/bench/req/A" : "req/A";
	for(int i = 0; i < o->responders; i++){
		snprintf(id, sizeof(id), "bench-%d-rs%d", (int)getpid(), i);
		/* --responder-port: on another broker, requests cross bridges */
		if(mq_open(&resp[i], id, o->host, o->responder_port ? o->responder_port : o->port,
					responder_on_msg, NULL)) goto out;
		if(mq_subscribe(&resp[i], filter, o->qos)) goto out;
		all[n++] = &resp[i];
	}
	for(int i = 0; i < o->requesters; i++){
		snprintf(id, sizeof(id), "bench-%d-rq%d", (int)getpid(), i);
		if(mq_open(&req[i].c, id, o->host, o->port, on_answer, &req[i])) goto out;
		snprintf(req[i].rtopic, sizeof(req[i].rtopic), "ret/%s/r", id);
		if(mq_subscribe(&req[i].c, req[i].rtopic, o->qos)) goto out;
		all[n++] = &req[i].c;
	}

	uint64_t t0 = now_ns();
	uint64_t w0 = t0 + (uint64_t)(o->warmup_s * 1e9);
	uint64_t w1 = w0 + (uint64_t)(o->duration_s * 1e9);
	rr.sending = true;
	for(int i = 0; i < o->requesters; i++){
		for(int k = 0; k < o->inflight; k++) send_request(&req[i]);
	}
	double cpu0 = -1;
	rc = 1;
	while(!bench_stop && !rr.nomem){
		uint64_t t = now_ns();
		if(rr.win_start == 0 && t >= w0){
			rr.win_start = t;
			cpu0 = o->broker_pid ? proc_cpu_s(o->broker_pid) : -1;
		}
		if(rr.win_start && t >= w1) break;
		if(mq_poll(all, n, 1) < 0) goto out;
	}
	rr.win_end = now_ns();
	if(cpu0 >= 0) rr.res.cpu_s = proc_cpu_s(o->broker_pid) - cpu0;
	rr.res.window_s = (double)(rr.win_end - rr.win_start) / 1e9;

	/* Drain: every request sent must be answered, within a bound. */
	rr.sending = false;
	uint64_t drain_until = now_ns() + 5000000000ull;
	for(;;){
		uint64_t outstanding = 0;
		for(int i = 0; i < o->requesters; i++) outstanding += req[i].led.outstanding;
		if(outstanding == 0 || now_ns() > drain_until || bench_stop) break;
		if(mq_poll(all, n, 10) < 0) break;
	}
	/* A little longer, so that a duplicate answer would be seen too. */
	uint64_t grace = now_ns() + 100000000ull;
	while(now_ns() < grace && !bench_stop) if(mq_poll(all, n, 10) < 0) break;
	for(int i = 0; i < o->requesters; i++) rr_result_add_ledger(&rr.res, &req[i].led);
	rc = rr_result_print(&rr.res, o);
out:
	if(rc == 2) fprintf(stderr, "rcpt-bench: rr: could not set up the clients\n");
	for(int i = 0; i < o->requesters; i++){
		mq_close(&req[i].c);
		ledger_free(&req[i].led);
	}
	for(int i = 0; i < o->responders; i++) mq_close(&resp[i]);
	free(req);
	free(resp);
	mosquitto_lib_cleanup();
	return rc;
}
