/*
 * The responder is plain MQTT 5 and the same in every mode: with the plugin,
 * the broker matches its answer to the pending request and adds
 * `receipt: ok`; without it, the answer is an ordinary publish.
 */
#include <stdlib.h>

#include <mqtt_protocol.h>

#include "responder.h"

void responder_on_msg(struct mq_client *c, const struct mosquitto_message *msg, const mosquitto_property *props)
{
	char *rtopic = NULL;
	void *corr = NULL;
	uint16_t corr_len = 0;
	if(mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &rtopic, false) == NULL) return;
	mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corr_len, false);
	mosquitto_property *reply = NULL;
	if(corr) mosquitto_property_add_binary(&reply, MQTT_PROP_CORRELATION_DATA, corr, corr_len);
	mosquitto_publish_v5(c->m, NULL, rtopic, msg->payloadlen, msg->payload, msg->qos, false, reply);
	mosquitto_property_free_all(&reply);
	free(rtopic);
	free(corr);
}
