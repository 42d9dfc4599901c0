/* The benchmark's responder: answers each request to its Response Topic with
 * the request's Correlation Data and payload, at the request's QoS. */
#ifndef RCPT_BENCH_RESPONDER_H
#define RCPT_BENCH_RESPONDER_H

#include "mq.h"

void responder_on_msg(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props);

#endif
