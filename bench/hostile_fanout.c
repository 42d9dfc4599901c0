/*
 * Hostile 2: fan-out. `count` subscribers of req/fan (a swarm, see swarm.h),
 * one request to them, then all of them disconnect. run.sh runs it on a
 * broker with the plugin (mode plugin) and one without (mode plain); the
 * target is the ratio of broker CPU for the request and the disconnects.
 *
 * Broker CPU is read from /proc/<pid>/schedstat (proc.h) once the broker is
 * idle before the request, after every subscriber got it, and after the
 * disconnects; "idle" is the same rule on both brokers. With the plugin the
 * request then ends as responder-gone: the requester checks that it got
 * exactly that one receipt; without it, none. FANOUT_ROUNDS rounds, each with
 * a new swarm; the figures are their medians, so that one round disturbed by
 * another process on the machine does not decide the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "bench.h"
#include "mq.h"
#include "proc.h"
#include "stats.h"
#include "swarm.h"

#define FANOUT_TOPIC "req/fan"
#define FANOUT_ROUNDS 3

struct fan_requester {
	struct mq_client c;
	char rtopic[96];
	unsigned receipts, gone;
};

static void on_receipt(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	(void)msg;
	struct fan_requester *r = (struct fan_requester *)c;   /* c is the first member */
	char kind[32] = "";
	mq_user_prop(props, "receipt", kind, sizeof(kind));
	r->receipts++;
	if(!strcmp(kind, "responder-gone")) r->gone++;
}

static void poll_requester(struct fan_requester *r, int ms, unsigned until_receipts)
{
	struct mq_client *one[1] = {&r->c};
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	while(!bench_stop && now_ns() < end && (until_receipts == 0 || r->receipts < until_receipts)){
		if(mq_poll(one, 1, 10) < 0) break;
	}
}

struct fan_round {
	int reached;
	unsigned receipts, gone, early;   /* receipts of this round; early: before the disconnects */
	double deliver_ms, disconnect_ms, cpu_request_ms, cpu_disconnect_ms;   /* negative: unreadable */
};

/* One swarm, one request to it, its disconnects. 0: measured; -1: the swarm
 * could not be set up. */
static int fan_round(const struct bench_opts *o, struct fan_requester *req, int round, struct fan_round *r)
{
	static struct swarm sw;
	char id[64];
	bool plugin = !strcmp(o->mode, "plugin");
	memset(r, 0, sizeof(*r));
	snprintf(id, sizeof(id), "bench-%d-fan%d-", (int)getpid(), round);
	if(swarm_open(&sw, o->host, o->port, (int)o->count, id, FANOUT_TOPIC)){
		swarm_close(&sw);
		return -1;
	}
	unsigned receipts0 = req->receipts, gone0 = req->gone;
	double cpu0 = proc_wait_idle(o->broker_pid, 300, 20000);
	uint64_t t0 = now_ns();
	mosquitto_property *props = NULL;
	uint64_t corr = (uint64_t)round;
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, req->rtopic);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &corr, sizeof(corr));
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "receipt-timeout-ms", "290000");
	mosquitto_publish_v5(req->c.m, NULL, FANOUT_TOPIC, 8, "fan-out.", 0, false, props);
	mosquitto_property_free_all(&props);
	poll_requester(req, 1, 0);   /* writes the request out */
	r->reached = swarm_wait_publishes(&sw, 1, 60000);
	uint64_t t1 = now_ns();
	double cpu1 = proc_wait_idle(o->broker_pid, 300, 60000);
	r->early = req->receipts - receipts0;

	uint64_t t2 = now_ns();
	swarm_close(&sw);
	/* With the plugin the receipt marks the last disconnect handled. */
	poll_requester(req, plugin ? 60000 : 0, receipts0 + 1);
	uint64_t t3 = now_ns();
	double cpu2 = proc_wait_idle(o->broker_pid, 300, 60000);
	poll_requester(req, 300, 0);   /* a second receipt would show up here */
	r->receipts = req->receipts - receipts0;
	r->gone = req->gone - gone0;
	r->deliver_ms = (double)(t1 - t0) / 1e6;
	r->disconnect_ms = (double)(t3 - t2) / 1e6;
	r->cpu_request_ms = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	r->cpu_disconnect_ms = cpu1 >= 0 && cpu2 >= 0 ? cpu2 - cpu1 : -1;
	return 0;
}

int hostile_fanout_main(const struct bench_opts *o)
{
	mq_init();
	static struct fan_requester req;
	struct fan_round r[FANOUT_ROUNDS];
	int rc = 2, rounds = 0;
	char id[64];
	bool plugin = !strcmp(o->mode, "plugin");
	snprintf(id, sizeof(id), "bench-%d-fanreq", (int)getpid());
	if(mq_open(&req.c, id, o->host, o->port, on_receipt, &req)) goto out;
	snprintf(req.rtopic, sizeof(req.rtopic), "ret/%s/r", id);
	if(mq_subscribe(&req.c, req.rtopic, 0)) goto out;
	for(rounds = 0; rounds < FANOUT_ROUNDS && !bench_stop; rounds++){
		if(fan_round(o, &req, rounds, &r[rounds])) goto out;
	}
	rc = 1;

	bool ok = rounds == FANOUT_ROUNDS;
	char each[32 * FANOUT_ROUNDS] = "";
	double cpu_req[FANOUT_ROUNDS], cpu_disc[FANOUT_ROUNDS], cpu[FANOUT_ROUNDS], deliver[FANOUT_ROUNDS],
			disconnect[FANOUT_ROUNDS];
	for(int i = 0; i < rounds; i++){
		const struct fan_round *x = &r[i];
		bool receipts_ok = plugin ? x->receipts == 1 && x->gone == 1 && x->early == 0 : x->receipts == 0;
		bool readable = x->cpu_request_ms >= 0 && x->cpu_disconnect_ms >= 0;
		if(x->reached != (int)o->count || !receipts_ok || !readable){
			ok = false;
			fprintf(stderr, "rcpt-bench: FAIL hostile-fanout (%s) round %d: %d of %ld subscribers got the request, "
					"receipts %u (responder-gone %u, before the disconnects %u), broker CPU readable: %s\n",
					o->mode, i + 1, x->reached, o->count, x->receipts, x->gone, x->early,
					readable ? "yes" : "no (or never idle)");
		}
		snprintf(each + strlen(each), sizeof(each) - strlen(each), "%s%.2f", i ? "," : "",
				x->cpu_request_ms + x->cpu_disconnect_ms);
		cpu_req[i] = x->cpu_request_ms;
		cpu_disc[i] = x->cpu_disconnect_ms;
		cpu[i] = x->cpu_request_ms + x->cpu_disconnect_ms;
		deliver[i] = x->deliver_ms;
		disconnect[i] = x->disconnect_ms;
	}
	printf("BENCH {\"scenario\":\"hostile-fanout\",\"run\":%d,\"mode\":\"%s\",\"subscribers\":%ld,"
			"\"rounds\":%d,\"deliver_ms\":%.1f,\"disconnect_ms\":%.1f,\"cpu_request_ms\":%.2f,"
			"\"cpu_disconnect_ms\":%.2f,\"cpu_ms\":%.2f,\"cpu_ms_rounds\":[%s],\"exactly_one\":%s}\n",
			o->run, o->mode, o->count, rounds, median_d(deliver, (size_t)rounds),
			median_d(disconnect, (size_t)rounds), median_d(cpu_req, (size_t)rounds),
			median_d(cpu_disc, (size_t)rounds), median_d(cpu, (size_t)rounds), each, ok ? "true" : "false");
	fflush(stdout);
	rc = ok ? 0 : 1;
out:
	if(rc == 2) fprintf(stderr, "rcpt-bench: hostile-fanout: could not set up the clients\n");
	mq_close(&req.c);
	mosquitto_lib_cleanup();
	return rc;
}
