/*
 * Fuzz target: the control API's JSON commands, against a core holding a
 * few pending requests so that listing and cancelling have work to do.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_host.h"
#include "core.h"

static void add_request(struct rcpt_core *core, const char *id, const char *area, const char *corr)
{
	char topic[64], ret[64];
	snprintf(topic, sizeof(topic), "req/%s", area);
	snprintf(ret, sizeof(ret), "ret/%s/r", id);
	struct rcpt_publish msg = {
		.sender = {.id = id},
		.topic = topic,
		.qos = 1,
		.has_response_topic = true,
		.response_topic = ret,
		.has_correlation = true,
		.correlation = {corr, strlen(corr)},
	};
	struct rcpt_decision d;
	rcpt_core__on_publish(core, &msg, &d);
	if(d.action == RCPT_REQUEST) rcpt_core__request_stored(core, d.pending, topic, topic);
	struct rcpt_client_ref responder = {.id = "worker"};
	rcpt_core__on_read(core, topic, topic, false, &responder);
	rcpt_core__settle(core);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_host h;
	fuzz_host__init(&h);
	struct rcpt_config cfg;
	if(rcpt_config__init(&cfg)) return 0;
	struct rcpt_core *core = rcpt_core__new(&h.ops, &cfg);
	if(core == NULL){
		rcpt_config__free(&cfg);
		return 0;
	}
	add_request(core, "alice", "a", "42");
	add_request(core, "alice", "b", "43");
	add_request(core, "bob", "a", "\x01\x02");
	rcpt_core__on_control(core, "admin", data, size);
	rcpt_core__free(core);
	return 0;
}
