/*
 * Scenario 1 over NATS (libnats), the peer we compare against: the same
 * shape of clients as rr.c. A request goes to subject req.A with reply
 * subject _INBOX.<id>.<seq>; the requester subscribes to _INBOX.<id>.* and
 * reads the sequence number back from the subject (NATS has no correlation
 * data: this is how libnats's own request muxing correlates). Several
 * responders share the work through a queue group, as $share does in MQTT.
 *
 * libnats delivers each subscription's messages on its own thread, so the
 * ledger and the results are guarded by one mutex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#ifndef RCPT_BENCH_NATS
int nats_rr_main(const struct bench_opts *o)
{
	(void)o;
	fprintf(stderr, "rcpt-bench: built without libnats: NATS mode unavailable\n");
	return 3;
}
#else

#include <pthread.h>

#include <nats/nats.h>

#include "ledger.h"
#include "proc.h"
#include "rr_result.h"

struct nreq {
	natsConnection *nc;
	natsSubscription *sub;
	char prefix[64];        /* _INBOX.<id>. */
	struct ledger led;
};

static struct {
	const struct bench_opts *o;
	pthread_mutex_t mu;
	bool sending;
	uint64_t win_start, win_end;
	char payload[1024];
	struct rr_result res;
} nr = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Called with nr.mu held. */
static void send_request(struct nreq *q)
{
	uint64_t seq = ledger_send(&q->led, now_ns());
	if(seq == UINT64_MAX) return;
	char reply[96];
	snprintf(reply, sizeof(reply), "%s%llu", q->prefix, (unsigned long long)seq);
	natsConnection_PublishRequest(q->nc, "req.A", reply, nr.payload, nr.o->payload);
}

static void on_answer(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	(void)nc; (void)sub;
	struct nreq *q = closure;
	uint64_t t = now_ns();
	const char *subj = natsMsg_GetSubject(msg);
	const char *dot = strrchr(subj, '.');
	pthread_mutex_lock(&nr.mu);
	if(dot == NULL){
		q->led.unexpected++;
	}else{
		uint64_t rtt = ledger_answer(&q->led, strtoull(dot + 1, NULL, 10), t);
		if(rtt && nr.win_start && t >= nr.win_start && (nr.win_end == 0 || t < nr.win_end)){
			nr.res.completed++;
			samples_add(&nr.res.lat_ns, rtt);
		}
		if(rtt && nr.sending) send_request(q);
	}
	pthread_mutex_unlock(&nr.mu);
	natsMsg_Destroy(msg);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	(void)sub; (void)closure;
	const char *reply = natsMsg_GetReply(msg);
	if(reply) natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
	natsMsg_Destroy(msg);
}

static natsConnection *nats_open(const struct bench_opts *o)
{
	natsOptions *opts = NULL;
	natsConnection *nc = NULL;
	char url[128];
	snprintf(url, sizeof(url), "nats://%s:%d", o->host, o->port);
	if(natsOptions_Create(&opts) == NATS_OK && natsOptions_SetURL(opts, url) == NATS_OK
			/* Write each publish at once, as TCP_NODELAY does for MQTT, rather
			 * than hand it to libnats's flusher thread. */
			&& natsOptions_SetSendAsap(opts, true) == NATS_OK){
		natsStatus s = natsConnection_Connect(&nc, opts);
		if(s != NATS_OK){
			fprintf(stderr, "rcpt-bench: nats connect %s: %s\n", url, natsStatus_GetText(s));
			nc = NULL;
		}
	}
	natsOptions_Destroy(opts);
	return nc;
}

int nats_rr_main(const struct bench_opts *o)
{
	nr.o = o;
	nr.res.cpu_s = -1;
	memset(nr.payload, 'x', sizeof(nr.payload));
	if(o->payload > (int)sizeof(nr.payload)) return 2;
	int rc = 2;
	natsConnection **resp = calloc((size_t)o->responders, sizeof(*resp));
	natsSubscription **rsub = calloc((size_t)o->responders, sizeof(*rsub));
	struct nreq *req = calloc((size_t)o->requesters, sizeof(*req));
	for(int i = 0; i < o->responders; i++){
		if((resp[i] = nats_open(o)) == NULL) goto out;
		natsStatus s = o->responders > 1
				? natsConnection_QueueSubscribe(&rsub[i], resp[i], "req.A", "bench", on_request, NULL)
				: natsConnection_Subscribe(&rsub[i], resp[i], "req.A", on_request, NULL);
		if(s != NATS_OK || natsConnection_Flush(resp[i]) != NATS_OK) goto out;
	}
	for(int i = 0; i < o->requesters; i++){
		if((req[i].nc = nats_open(o)) == NULL) goto out;
		snprintf(req[i].prefix, sizeof(req[i].prefix), "_INBOX.bench%d-%d.", (int)getpid(), i);
		char filter[80];
		snprintf(filter, sizeof(filter), "%s*", req[i].prefix);
		if(natsConnection_Subscribe(&req[i].sub, req[i].nc, filter, on_answer, &req[i]) != NATS_OK
				|| natsConnection_Flush(req[i].nc) != NATS_OK) goto out;
	}

	uint64_t t0 = now_ns();
	uint64_t w0 = t0 + (uint64_t)(o->warmup_s * 1e9);
	uint64_t w1 = w0 + (uint64_t)(o->duration_s * 1e9);
	pthread_mutex_lock(&nr.mu);
	nr.sending = true;
	for(int i = 0; i < o->requesters; i++) for(int k = 0; k < o->inflight; k++) send_request(&req[i]);
	pthread_mutex_unlock(&nr.mu);

	while(now_ns() < w0 && !bench_stop) sleep_ms(1);
	double cpu0 = o->broker_pid ? proc_cpu_s(o->broker_pid) : -1;
	pthread_mutex_lock(&nr.mu);
	nr.win_start = now_ns();
	pthread_mutex_unlock(&nr.mu);
	while(now_ns() < w1 && !bench_stop) sleep_ms(1);
	pthread_mutex_lock(&nr.mu);
	nr.win_end = now_ns();
	nr.sending = false;
	pthread_mutex_unlock(&nr.mu);
	if(cpu0 >= 0) nr.res.cpu_s = proc_cpu_s(o->broker_pid) - cpu0;
	nr.res.window_s = (double)(nr.win_end - nr.win_start) / 1e9;

	uint64_t drain_until = now_ns() + 5000000000ull;
	for(;;){
		uint64_t outstanding = 0;
		pthread_mutex_lock(&nr.mu);
		for(int i = 0; i < o->requesters; i++) outstanding += req[i].led.outstanding;
		pthread_mutex_unlock(&nr.mu);
		if(outstanding == 0 || now_ns() > drain_until || bench_stop) break;
		sleep_ms(2);
	}
	sleep_ms(100);
	pthread_mutex_lock(&nr.mu);
	for(int i = 0; i < o->requesters; i++) rr_result_add_ledger(&nr.res, &req[i].led);
	pthread_mutex_unlock(&nr.mu);
	rc = rr_result_print(&nr.res, o);
out:
	if(rc == 2) fprintf(stderr, "rcpt-bench: nats-rr: could not set up the clients\n");
	for(int i = 0; i < o->requesters; i++){
		if(req[i].sub) natsSubscription_Unsubscribe(req[i].sub);
		natsSubscription_Destroy(req[i].sub);
		natsConnection_Destroy(req[i].nc);
	}
	for(int i = 0; i < o->responders; i++){
		if(rsub[i]) natsSubscription_Unsubscribe(rsub[i]);
		natsSubscription_Destroy(rsub[i]);
		natsConnection_Destroy(resp[i]);
	}
	/* Ledgers after the subscriptions: no callback can run any more. */
	for(int i = 0; i < o->requesters; i++) ledger_free(&req[i].led);
	free(req);
	free(rsub);
	free(resp);
	nats_Close();
	return rc;
}
#endif
