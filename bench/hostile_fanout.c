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
 * exactly that one receipt; without it, none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "bench.h"
#include "mq.h"
#include "proc.h"
#include "swarm.h"

#define FANOUT_TOPIC "req/fan"

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

int hostile_fanout_main(const struct bench_opts *o)
{
	mq_init();
	static struct swarm sw;
	static struct fan_requester req;
	int rc = 2;
	char id[64];
	bool plugin = !strcmp(o->mode, "plugin");
	snprintf(id, sizeof(id), "bench-%d-fan", (int)getpid());
	if(swarm_open(&sw, o->host, o->port, (int)o->count, id, FANOUT_TOPIC)) goto out;
	snprintf(id, sizeof(id), "bench-%d-fanreq", (int)getpid());
	if(mq_open(&req.c, id, o->host, o->port, on_receipt, &req)) goto out;
	snprintf(req.rtopic, sizeof(req.rtopic), "ret/%s/r", id);
	if(mq_subscribe(&req.c, req.rtopic, 0)) goto out;

	rc = 1;
	double cpu0 = proc_wait_idle(o->broker_pid, 300, 20000);
	uint64_t t0 = now_ns();
	mosquitto_property *props = NULL;
	uint64_t corr = 1;
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, req.rtopic);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &corr, sizeof(corr));
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "receipt-timeout-ms", "290000");
	mosquitto_publish_v5(req.c.m, NULL, FANOUT_TOPIC, 8, "fan-out.", 0, false, props);
	mosquitto_property_free_all(&props);
	poll_requester(&req, 1, 0);   /* writes the request out */
	int reached = swarm_wait_publishes(&sw, 1, 60000);
	uint64_t t1 = now_ns();
	double cpu1 = proc_wait_idle(o->broker_pid, 300, 60000);
	unsigned early = req.receipts;

	uint64_t t2 = now_ns();
	swarm_close(&sw);
	/* With the plugin the receipt marks the last disconnect handled. */
	poll_requester(&req, plugin ? 60000 : 0, 1);
	uint64_t t3 = now_ns();
	double cpu2 = proc_wait_idle(o->broker_pid, 300, 60000);
	poll_requester(&req, 300, 0);   /* a second receipt would show up here */

	double req_ms = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	double disc_ms = cpu1 >= 0 && cpu2 >= 0 ? cpu2 - cpu1 : -1;
	bool receipts_ok = plugin ? req.receipts == 1 && req.gone == 1 && early == 0 : req.receipts == 0;
	bool ok = reached == (int)o->count && receipts_ok && req_ms >= 0 && disc_ms >= 0;
	printf("BENCH {\"scenario\":\"hostile-fanout\",\"run\":%d,\"mode\":\"%s\",\"subscribers\":%ld,"
			"\"reached\":%d,\"deliver_ms\":%.1f,\"disconnect_ms\":%.1f,\"cpu_request_ms\":%.2f,"
			"\"cpu_disconnect_ms\":%.2f,\"cpu_ms\":%.2f,\"receipts\":%u,\"exactly_one\":%s}\n",
			o->run, o->mode, o->count, reached, (double)(t1 - t0) / 1e6, (double)(t3 - t2) / 1e6, req_ms,
			disc_ms, req_ms >= 0 && disc_ms >= 0 ? req_ms + disc_ms : -1, req.receipts, ok ? "true" : "false");
	fflush(stdout);
	if(!ok){
		fprintf(stderr, "rcpt-bench: FAIL hostile-fanout (%s): %d of %ld subscribers got the request, "
				"receipts %u (responder-gone %u, before the disconnects %u), broker CPU readable: %s\n",
				o->mode, reached, o->count, req.receipts, req.gone, early,
				req_ms >= 0 && disc_ms >= 0 ? "yes" : "no (or never idle)");
	}
	rc = ok ? 0 : 1;
out:
	if(rc == 2) fprintf(stderr, "rcpt-bench: hostile-fanout: could not set up the clients\n");
	swarm_close(&sw);
	mq_close(&req.c);
	mosquitto_lib_cleanup();
	return rc;
}
