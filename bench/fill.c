/*
 * The fillers publish outside callbacks, so each publish is written at once;
 * FILL_WINDOW bounds the requests between the fillers and the ignorer, which
 * keeps the broker's queue for the ignorer under its 1000-message QoS 0 limit
 * (max_queued_messages) and the broker itself unflooded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "fill.h"

#define FILL_WINDOW 512

static void on_ignored(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	(void)msg; (void)props;
	struct fill *fl = c->ctx;
	fl->ignored++;
}

/* The filler's messages are the broker's receipts: fillers set ctx to the
 * struct fill and find their own ledger by client index. */
static void on_receipt(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	(void)msg;
	struct fill *fl = c->ctx;
	struct filler *f = (struct filler *)c;   /* c is the first member */
	uint64_t t = now_ns(), seq;
	if(fl->first_ns == 0) fl->first_ns = t;
	fl->last_ns = t;
	fl->receipts++;
	char kind[32] = "";
	mq_user_prop(props, "receipt", kind, sizeof(kind));
	if(!strcmp(kind, "timeout")){
		fl->timeouts++;
	}else if(!strcmp(kind, "cancelled")){
		fl->cancelled++;
	}else{
		if(fl->other++ == 0){
			char reason[32] = "";
			mq_user_prop(props, "receipt-reason", reason, sizeof(reason));
			snprintf(fl->other_kind, sizeof(fl->other_kind), "%s/%s", kind, reason);
		}
	}
	if(mq_read_corr_u64(props, &seq)) ledger_answer(&f->led, corr_decode(&f->corr, seq), t);
	else f->led.unexpected++;
}

int fill_open(struct fill *fl, const struct bench_opts *o, int nconn)
{
	memset(fl, 0, sizeof(*fl));
	char id[64];
	if(nconn > FILL_MAX_CONN) nconn = FILL_MAX_CONN;
	snprintf(id, sizeof(id), "bench-%d-ignorer", (int)getpid());
	if(mq_open(&fl->ignorer, id, o->host, o->port, on_ignored, fl)) return -1;
	fl->all[fl->nall++] = &fl->ignorer;
	if(mq_subscribe(&fl->ignorer, "req/fill", 0)) return -1;
	for(int i = 0; i < nconn; i++){
		struct filler *f = &fl->f[i];
		snprintf(id, sizeof(id), "bench-%d-fill%d", (int)getpid(), i);
		if(mq_open(&f->c, id, o->host, o->port, on_receipt, fl)) return -1;
		fl->all[fl->nall++] = &f->c;
		fl->nf++;
		snprintf(f->rtopic, sizeof(f->rtopic), "ret/%s/r", id);
		if(mq_subscribe(&f->c, f->rtopic, 0)) return -1;
		corr_codec_init(&f->corr, CORR_SEQ, f->rtopic, 0);
	}
	return 0;
}

void fill_set_corr(struct fill *fl, enum corr_kind kind, uint64_t run_key)
{
	for(int i = 0; i < fl->nf; i++) corr_codec_init(&fl->f[i].corr, kind, fl->f[i].rtopic, run_key);
}

int fill_send(struct fill *fl, long count, uint64_t deadline_ns, unsigned timeout_ms)
{
	uint64_t sent = 0, base = fl->ignored;
	uint64_t idle_until = now_ns() + 5000000000ull;
	char tbuf[24];
	while(!bench_stop && fl->ignored - base < (uint64_t)count){
		while(sent < (uint64_t)count && sent - (fl->ignored - base) < FILL_WINDOW){
			struct filler *f = &fl->f[sent % (uint64_t)fl->nf];
			uint64_t t = now_ns();
			unsigned ms = timeout_ms;
			if(deadline_ns){
				/* Every request ends at the same instant: its timeout is what is
				 * left until the common deadline. */
				if(deadline_ns < t + 1000000000ull){
					fprintf(stderr, "rcpt-bench: FAIL fill too slow: %llu of %ld sent 1 s before the "
							"deadline (raise --deadline)\n", (unsigned long long)sent, count);
					return -1;
				}
				ms = (unsigned)((deadline_ns - t) / 1000000u);
			}
			snprintf(tbuf, sizeof(tbuf), "%u", ms);
			uint64_t seq = ledger_send(&f->led, t);
			if(seq == UINT64_MAX) return -1;
			uint64_t corr = corr_encode(&f->corr, seq);
			mosquitto_property *props = NULL;
			mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, f->rtopic);
			mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &corr, sizeof(corr));
			mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "receipt-timeout-ms", tbuf);
			mosquitto_publish_v5(f->c.m, NULL, "req/fill", 8, "pending.", 0, false, props);
			mosquitto_property_free_all(&props);
			sent++;
		}
		uint64_t before = fl->ignored;
		if(mq_poll(fl->all, fl->nall, 10) < 0) return -1;
		if(fl->ignored != before) idle_until = now_ns() + 5000000000ull;
		else if(now_ns() > idle_until){
			fprintf(stderr, "rcpt-bench: FAIL fill: the ignorer got %llu of %ld requests\n",
					(unsigned long long)(fl->ignored - base), count);
			return -1;
		}
	}
	return bench_stop ? -1 : 0;
}

void fill_poll(struct fill *fl, int ms, uint64_t until_receipts)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	while(!bench_stop && now_ns() < end){
		if(until_receipts && fl->receipts >= until_receipts) break;
		if(mq_poll(fl->all, fl->nall, 5) < 0) break;
	}
}

void fill_check(const struct fill *fl, uint64_t *sent, uint64_t *missing, uint64_t *dups, uint64_t *unexpected)
{
	*sent = *missing = *dups = *unexpected = 0;
	for(int i = 0; i < fl->nf; i++){
		*sent += fl->f[i].led.next;
		*missing += ledger_missing(&fl->f[i].led);
		*dups += fl->f[i].led.dups;
		*unexpected += fl->f[i].led.unexpected;
	}
}

size_t fill_key_bytes(const struct fill *fl)
{
	return strlen(fl->f[0].rtopic) + 8;
}

void fill_close(struct fill *fl)
{
	for(int i = 0; i < fl->nf; i++){
		mq_close(&fl->f[i].c);
		ledger_free(&fl->f[i].led);
	}
	mq_close(&fl->ignorer);
}
