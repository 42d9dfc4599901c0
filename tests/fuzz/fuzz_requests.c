/*
 * Fuzz target: request classification and validation, delivery tracking,
 * receipt matching, sessions and deadlines, driven as a sequence of events
 * chosen by the input. Any crash, leak or sanitizer report is a defect.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "core.h"
#include "token.h"

#define FIELD 200

struct strings {
	char id[FIELD + 1], topic[FIELD + 1], response[FIELD + 1], corr[FIELD + 1];
	char area[FIELD + 1], ret_area[FIELD + 1], timeout[FIELD + 1];
};

static void publish_event(struct rcpt_core *core, struct fuzz_input *in, struct strings *s)
{
	uint8_t flags = fuzz_input__byte(in);
	struct rcpt_publish msg = {
		.sender = {.id = fuzz_input__string(in, s->id, 24), .clean = flags & 1},
		.topic = fuzz_input__string(in, s->topic, FIELD),
		.qos = (uint8_t)((flags >> 1) % 3),
		.retain = flags & 8,
	};
	if(msg.topic[0] == '\0') msg.topic = "req/a";
	if(flags & 16){
		msg.has_response_topic = true;
		msg.response_topic = fuzz_input__string(in, s->response, FIELD);
	}
	/* The token of the last request accepted, which a responder answers
	 * with: a correlation of "!" stands for it. */
	static uint8_t last_token[RCPT_TOKEN_LEN];
	if(flags & 32){
		msg.has_correlation = true;
		msg.correlation.ptr = fuzz_input__string(in, s->corr, FIELD);
		msg.correlation.len = strlen(s->corr);
		if(!strcmp(s->corr, "!")){
			msg.correlation.ptr = last_token;
			msg.correlation.len = RCPT_TOKEN_LEN;
		}
	}
	uint8_t counts = fuzz_input__byte(in);
	msg.subject_area_count = counts & 3;
	if(msg.subject_area_count) msg.subject_area = fuzz_input__string(in, s->area, FIELD);
	msg.return_area_count = (counts >> 2) & 3;
	if(msg.return_area_count) msg.return_area = fuzz_input__string(in, s->ret_area, FIELD);
	msg.timeout_count = (counts >> 4) & 3;
	if(msg.timeout_count) msg.timeout = fuzz_input__string(in, s->timeout, FIELD);
	msg.payload.ptr = s->corr;
	msg.payload.len = (counts >> 6);

	struct rcpt_decision d;
	rcpt_core__on_publish(core, &msg, &d);
	if(d.action == RCPT_RECEIPT){
		/* A QoS 2 answer waits for its PUBREL: the requester's READ check
		 * of the stored copy, sometimes. */
		static char answer[FIELD + 1];
		strncpy(answer, msg.topic, sizeof(answer) - 1);
		rcpt_core__answer_stored(core, &d, answer, answer);
		if(flags & 128){
			struct rcpt_client_ref who = {.id = fuzz_input__string(in, s->id, 24)};
			rcpt_core__on_read(core, answer, answer, false, &who);
		}
	}
	if(d.action == RCPT_REQUEST){
		memcpy(last_token, d.add_correlation.ptr, RCPT_TOKEN_LEN);
		/* The adapter stores the message under a key the READ checks
		 * then use: the address of the topic it chose. */
		const char *topic = d.new_topic ? d.new_topic : msg.topic;
		static char stored[FIELD + 300];
		strncpy(stored, topic, sizeof(stored) - 1);
		if(flags & 64){
			rcpt_core__request_abort(core, d.pending);
		}else{
			rcpt_core__request_stored(core, d.pending, stored, stored);
			if(flags & 128){
				struct rcpt_client_ref who = {.id = fuzz_input__string(in, s->id, 24)};
				rcpt_core__on_read(core, stored, stored, false, &who);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_host h;
	fuzz_host__init(&h);
	struct rcpt_config cfg;
	if(rcpt_config__init(&cfg)) return 0;
	cfg.max_pending = 64;
	cfg.max_pending_per_client = 8;
	cfg.max_correlation_len = 16;
	cfg.max_timeout_ms = 5000;
	cfg.bind_client_ids = RCPT_BIND_ON;
	cfg.qos2_release_grace_ms = 1000;
	/* Tracked, so that requests to open return topics and their receipts
	 * are fuzzed too (off, they pass untouched). */
	cfg.open_return_topics = RCPT_OPEN_RETURN_TRACKED;
	struct rcpt_core *core = rcpt_core__new(&h.ops, &cfg);
	if(core == NULL){
		rcpt_config__free(&cfg);
		return 0;
	}
	struct fuzz_input in = {data, size};
	struct strings *s = calloc(1, sizeof(*s));
	while(s && in.left > 0){
		uint8_t op = fuzz_input__byte(&in);
		/* Two users, so that client ids get bound and refused. */
		struct rcpt_client_ref who = {.id = fuzz_input__string(&in, s->id, 24),
			.username = op & 0x20 ? "admin" : "other", .clean = op & 0x80};
		switch(op & 7){
			case 0: case 1: case 2:
				publish_event(core, &in, s);
				break;
			case 3:
				rcpt_core__on_read(core, s, fuzz_input__string(&in, s->topic, FIELD), false, &who);
				break;
			case 4:
				rcpt_core__on_subscribe(core, fuzz_input__string(&in, s->topic, FIELD), &who);
				rcpt_core__on_write(core, s->topic, &who);
				break;
			case 5:
				if(rcpt_core__on_connect(core, who.id, who.username)){
					rcpt_core__on_disconnect(core, who.id, who.username, op & 0x40);
				}
				break;
			case 6:
				h.now += (uint64_t)fuzz_input__byte(&in) * 40;
				rcpt_core__on_tick(core);
				break;
			case 7:
				rcpt_core__settle(core);
				break;
		}
	}
	free(s);
	rcpt_core__free(core);
	return 0;
}
