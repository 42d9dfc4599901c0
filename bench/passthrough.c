/*
 * Scenario 2: traffic that is not a request must not pay for the plugin.
 * One publisher, one subscriber, QoS 0, small payloads, a fixed count; the
 * same run against the broker with and without the plugin gives the ratio.
 *
 * The publisher keeps at most PT_WINDOW messages between itself and the
 * subscriber: the broker drops QoS 0 messages for a client that has 1000
 * queued (max_queued_messages), and a dropped message would end the count
 * early rather than measure anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mq.h"
#include "proc.h"

#define PT_WINDOW 256

static uint64_t received;

static void on_msg(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	(void)c; (void)msg; (void)props;
	received++;
}

/* Sends count messages through the window; returns how many arrived. */
static uint64_t pump(struct mq_client **all, struct mq_client *pub, long count, const void *payload, int len)
{
	uint64_t base = received, sent = 0;
	uint64_t idle_until = now_ns() + 5000000000ull;
	while(!bench_stop && received - base < (uint64_t)count){
		while(sent < (uint64_t)count && sent - (received - base) < PT_WINDOW){
			mosquitto_publish_v5(pub->m, NULL, "bench/pt", len, payload, 0, false, NULL);
			sent++;
		}
		uint64_t before = received;
		if(mq_poll(all, 2, 10) < 0) break;
		if(received != before) idle_until = now_ns() + 5000000000ull;
		else if(now_ns() > idle_until) break;   /* lost messages: stop waiting */
	}
	return received - base;
}

int passthrough_main(const struct bench_opts *o)
{
	mq_init();
	struct mq_client pub, sub;
	char id[64], payload[1024];
	memset(payload, 'x', sizeof(payload));
	int len = o->payload > (int)sizeof(payload) ? (int)sizeof(payload) : o->payload;
	int rc = 2;
	snprintf(id, sizeof(id), "bench-%d-sub", (int)getpid());
	if(mq_open(&sub, id, o->host, o->port, on_msg, NULL) || mq_subscribe(&sub, "bench/pt", 0)) goto out;
	snprintf(id, sizeof(id), "bench-%d-pub", (int)getpid());
	if(mq_open(&pub, id, o->host, o->port, NULL, NULL)) goto out;
	struct mq_client *all[2] = {&pub, &sub};

	pump(all, &pub, o->count / 10 + 1, payload, len);   /* warm-up */
	double cpu0 = o->broker_pid ? proc_cpu_s(o->broker_pid) : -1;
	uint64_t t0 = now_ns();
	uint64_t got = pump(all, &pub, o->count, payload, len);
	uint64_t t1 = now_ns();
	double cpu = cpu0 >= 0 ? proc_cpu_s(o->broker_pid) - cpu0 : -1;
	double secs = (double)(t1 - t0) / 1e9;
	bool all_arrived = got == (uint64_t)o->count;
	printf("BENCH {\"scenario\":\"pass\",\"run\":%d,\"mode\":\"%s\",\"count\":%ld,\"received\":%llu,"
			"\"secs\":%.3f,\"msgs_per_s\":%.1f,\"broker_cpu_us_per_msg\":%.3f,\"all_arrived\":%s}\n",
			o->run, o->mode, o->count, (unsigned long long)got, secs, secs > 0 ? (double)got / secs : 0,
			cpu >= 0 && got ? cpu * 1e6 / (double)got : -1, all_arrived ? "true" : "false");
	fflush(stdout);
	if(!all_arrived) fprintf(stderr, "rcpt-bench: FAIL pass %s: %llu of %ld messages arrived\n",
			o->mode, (unsigned long long)got, o->count);
	rc = all_arrived ? 0 : 1;
out:
	if(rc == 2) fprintf(stderr, "rcpt-bench: pass: could not set up the clients\n");
	mq_close(&pub);
	mq_close(&sub);
	mosquitto_lib_cleanup();
	return rc;
}
