/*
 * Hostile 3 and 4: `count` pending requests (the scale scenario's fill, with
 * timeouts that outlive the run), then one control command cancelling all of
 * their area: cancelPending {"area":"fill","all":true}, sent by a client
 * connected with --user, which the broker's config lists in
 * plugin_opt_control_users.
 *
 *  - memory: the broker's VmRSS per pending request after the fill, also
 *    net of the return topic and correlation bytes (as in scale)
 *  - stall: the probe's worst round trip from the command until the last
 *    `cancelled` receipt (as scale measures mass expiry)
 *  - exactly one `cancelled` receipt per request, and a reply without error
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench.h"
#include "fill.h"
#include "probe.h"
#include "proc.h"

#define CANCEL_TIMEOUT_MS 290000u
#define CONTROL_TOPIC "$CONTROL/receipts/v1"

struct control {
	struct mq_client c;
	int replies;
	bool error;
	char first_error[160];
};

static void on_reply(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	(void)props;
	struct control *ctl = (struct control *)c;   /* c is the first member */
	ctl->replies++;
	cJSON *j = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "responses"), 0);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
	if(r == NULL || err != NULL){
		ctl->error = true;
		snprintf(ctl->first_error, sizeof(ctl->first_error), "%.*s", msg->payloadlen < 150 ? msg->payloadlen : 150,
				(const char *)msg->payload);
	}
	cJSON_Delete(j);
}

int hostile_cancel_main(const struct bench_opts *o)
{
	mq_init();
	static struct fill fl;
	static struct control ctl;
	struct probe pr;
	bool probing = false;
	int rc = 2;
	char id[64];
	if(o->user == NULL){
		fprintf(stderr, "rcpt-bench: hostile-cancel needs --user (a control user of the broker)\n");
		return 2;
	}
	if(fill_open(&fl, o, o->connections)) goto out;
	snprintf(id, sizeof(id), "bench-%d-control", (int)getpid());
	if(mq_open_as(&ctl.c, id, o->user, o->host, o->port, on_reply, &ctl)
			|| mq_subscribe(&ctl.c, CONTROL_TOPIC "/response", 0)){
		goto out;
	}
	if(probe_start(&pr, o->host, o->port)) goto out;
	probing = true;
	fill_poll(&fl, 300, 0);
	long long rss0 = proc_rss_bytes(o->broker_pid);
	rc = 1;
	uint64_t t0 = now_ns();
	if(fill_send(&fl, o->count, 0, CANCEL_TIMEOUT_MS)) goto out;
	uint64_t t1 = now_ns();
	fill_poll(&fl, 300, 0);
	long long rss1 = proc_rss_bytes(o->broker_pid);
	uint64_t early = fl.receipts;

	struct mq_client *all[FILL_MAX_CONN + 2];
	int nall = 0;
	for(int i = 0; i < fl.nall; i++) all[nall++] = fl.all[i];
	all[nall++] = &ctl.c;
	static const char cmd[] = "{\"commands\":[{\"command\":\"cancelPending\",\"area\":\"fill\",\"all\":true,"
			"\"reason\":\"bench\"}]}";
	uint64_t t_cmd = now_ns();
	mosquitto_publish_v5(ctl.c.m, NULL, CONTROL_TOPIC, (int)strlen(cmd), cmd, 0, false, NULL);
	uint64_t end = t_cmd + (60000 + (uint64_t)o->count / 10) * 1000000u;
	while(!bench_stop && now_ns() < end && (fl.receipts < early + (uint64_t)o->count || ctl.replies == 0)){
		if(mq_poll(all, nall, 5) < 0) break;
	}
	uint64_t t_end = now_ns();
	fill_poll(&fl, 200, 0);   /* a duplicate would show up here */
	probe_stop(&pr);
	probing = false;

	uint64_t sent, missing, dups, unexpected;
	fill_check(&fl, &sent, &missing, &dups, &unexpected);
	uint64_t last = fl.last_ns > t_cmd ? fl.last_ns : t_end;
	double stall_ms = (double)probe_max_rtt(&pr, t_cmd - 50000000u, last + 50000000u) / 1e6;
	double fill_max_ms = (double)probe_max_rtt(&pr, t0, t1) / 1e6;
	double per = rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) / (double)o->count : -1;
	bool ok = sent == (uint64_t)o->count && missing == 0 && dups == 0 && unexpected == 0 && fl.other == 0
			&& fl.timeouts == 0 && fl.cancelled == (uint64_t)o->count && early == 0 && ctl.replies == 1
			&& !ctl.error;
	printf("BENCH {\"scenario\":\"hostile-cancel\",\"run\":%d,\"mode\":\"%s\",\"count\":%ld,\"connections\":%d,"
			"\"fill_s\":%.3f,\"fill_rate\":%.0f,\"rss_before\":%lld,\"rss_after\":%lld,"
			"\"bytes_per_pending\":%.1f,\"key_bytes\":%zu,\"net_bytes_per_pending\":%.1f,"
			"\"fill_probe_max_ms\":%.3f,\"stall_ms\":%.3f,\"drain_ms\":%.1f,\"cancelled\":%llu,\"missing\":%llu,"
			"\"dups\":%llu,\"other_receipts\":%llu,\"replies\":%d,\"exactly_one\":%s}\n",
			o->run, o->mode, o->count, fl.nf, (double)(t1 - t0) / 1e9,
			(double)o->count / ((double)(t1 - t0) / 1e9), rss0, rss1, per, fill_key_bytes(&fl),
			per - (double)fill_key_bytes(&fl), fill_max_ms, stall_ms,
			fl.last_ns > t_cmd ? (double)(fl.last_ns - t_cmd) / 1e6 : -1, (unsigned long long)fl.cancelled,
			(unsigned long long)missing, (unsigned long long)dups, (unsigned long long)fl.other, ctl.replies,
			ok ? "true" : "false");
	fflush(stdout);
	if(!ok){
		fprintf(stderr, "rcpt-bench: FAIL hostile-cancel: sent %llu of %ld, cancelled %llu, timeouts %llu, "
				"missing %llu, duplicate %llu, unexpected %llu, other receipts %llu (first: %s), before the "
				"command %llu, replies %d%s%s\n",
				(unsigned long long)sent, o->count, (unsigned long long)fl.cancelled,
				(unsigned long long)fl.timeouts, (unsigned long long)missing, (unsigned long long)dups,
				(unsigned long long)unexpected, (unsigned long long)fl.other, fl.other_kind,
				(unsigned long long)early, ctl.replies, ctl.error ? ", error: " : "", ctl.first_error);
	}
	rc = ok ? 0 : 1;
	probe_free(&pr);
out:
	if(probing){
		probe_stop(&pr);
		probe_free(&pr);
	}
	if(rc == 2) fprintf(stderr, "rcpt-bench: hostile-cancel: could not set up the clients\n");
	mq_close(&ctl.c);
	fill_close(&fl);
	mosquitto_lib_cleanup();
	return rc;
}
