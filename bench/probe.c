/*
 * The probe keeps one request in flight at most: if the broker stalls, the
 * probe waits with it and records one long round trip instead of a queue of
 * them. A request still unanswered when the probe stops counts with the time
 * it has waited so far.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "bench.h"
#include "probe.h"
#include "responder.h"
#include "stats.h"

#define PROBE_PERIOD_NS 1000000u

static void record(struct probe *p, uint64_t sent, uint64_t rtt)
{
	if(p->n == p->cap){
		size_t cap = p->cap ? p->cap * 2 : 16384;
		struct probe_point *v = realloc(p->pts, cap * sizeof(*v));
		if(v == NULL) return;
		p->pts = v;
		p->cap = cap;
	}
	p->pts[p->n++] = (struct probe_point){sent, rtt};
}

static void on_msg(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	struct probe *p = c->ctx;
	if(strcmp(msg->topic, p->rtopic)){
		responder_on_msg(c, msg, props);   /* the request: answer it */
		return;
	}
	if(p->outstanding_since){
		uint64_t t = now_ns();
		record(p, p->outstanding_since, t - p->outstanding_since);
		p->outstanding_since = 0;
	}
}

static void *run(void *arg)
{
	struct probe *p = arg;
	char id[64];
	snprintf(id, sizeof(id), "bench-%d-probe", (int)getpid());
	if(mq_open(&p->c, id, p->host, p->port, on_msg, p) || mq_subscribe(&p->c, "req/probe", 0)){
		p->ready = -1;
		return NULL;
	}
	snprintf(p->rtopic, sizeof(p->rtopic), "ret/%s/p", id);
	if(mq_subscribe(&p->c, p->rtopic, 0)){
		p->ready = -1;
		return NULL;
	}
	p->ready = 1;
	struct mq_client *one[1] = {&p->c};
	uint64_t next = now_ns(), seq = 0;
	while(!p->stop){
		uint64_t t = now_ns();
		if(p->outstanding_since == 0 && t >= next){
			mosquitto_property *props = NULL;
			mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, p->rtopic);
			mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &seq, sizeof(seq));
			seq++;
			p->outstanding_since = now_ns();
			mosquitto_publish_v5(p->c.m, NULL, "req/probe", 8, "probe..", 0, false, props);
			mosquitto_property_free_all(&props);
			next = t + PROBE_PERIOD_NS;
		}
		t = now_ns();
		int wait_ms = p->outstanding_since || next <= t ? 1 : (int)((next - t) / 1000000u) + 1;
		if(mq_poll(one, 1, wait_ms) < 0) break;
	}
	if(p->outstanding_since) record(p, p->outstanding_since, now_ns() - p->outstanding_since);
	mq_close(&p->c);
	return NULL;
}

int probe_start(struct probe *p, const char *host, int port)
{
	memset(p, 0, sizeof(*p));
	p->host = host;
	p->port = port;
	if(pthread_create(&p->th, NULL, run, p)) return -1;
	while(p->ready == 0) sleep_ms(1);
	if(p->ready < 0){
		pthread_join(p->th, NULL);
		fprintf(stderr, "rcpt-bench: probe could not connect\n");
		return -1;
	}
	return 0;
}

void probe_stop(struct probe *p)
{
	p->stop = 1;
	pthread_join(p->th, NULL);
}

uint64_t probe_max_rtt(const struct probe *p, uint64_t from, uint64_t to)
{
	uint64_t m = 0;
	for(size_t i = 0; i < p->n; i++){
		const struct probe_point *q = &p->pts[i];
		if(q->sent_ns <= to && q->sent_ns + q->rtt_ns >= from && q->rtt_ns > m) m = q->rtt_ns;
	}
	return m;
}

size_t probe_count(const struct probe *p, uint64_t from, uint64_t to, double quantile, uint64_t *q)
{
	struct samples s = {0};
	for(size_t i = 0; i < p->n; i++){
		if(p->pts[i].sent_ns >= from && p->pts[i].sent_ns <= to) samples_add(&s, p->pts[i].rtt_ns);
	}
	size_t n = s.n;
	if(q) *q = samples_quantile(&s, quantile);
	samples_free(&s);
	return n;
}

void probe_free(struct probe *p)
{
	free(p->pts);
	p->pts = NULL;
	p->n = p->cap = 0;
}
