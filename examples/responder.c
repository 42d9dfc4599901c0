/*
 * A responder for one subject area: answers every request with its own
 * payload in upper case. Plain MQTT 5: reply to the Response Topic with the
 * request's Correlation Data, and the broker does the rest.
 *
 *   responder [-h host] [-p port] [-i client-id] [-u user] [-P password] AREA
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

static char topic[300];

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)obj; (void)flags; (void)props;
	if(rc){
		fprintf(stderr, "responder: connection refused: %s\n", mosquitto_reason_string(rc));
		mosquitto_disconnect(mosq);
		return;
	}
	mosquitto_subscribe_v5(mosq, NULL, topic, 1, 0, NULL);
}

/* Only once the broker has the subscription is anyone listening. */
static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted,
		const mosquitto_property *props)
{
	(void)obj; (void)mid; (void)props;
	if(qos_count < 1 || granted[0] > 2){
		fprintf(stderr, "responder: subscription to %s refused\n", topic);
		mosquitto_disconnect(mosq);
		return;
	}
	printf("responder: answering requests on %s\n", topic);
	fflush(stdout);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)obj;
	char *response_topic = NULL, *requester = NULL;
	void *correlation = NULL;
	uint16_t correlation_len = 0;

	if(!mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &response_topic, false)){
		return;   /* not a request: nobody waits for an answer */
	}
	mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &correlation, &correlation_len, false);
	/* The broker vouches for who asked, in user property "requester". */
	const mosquitto_property *p = props;
	bool first = true;
	for(;;){
		char *name = NULL, *value = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, !first);
		first = false;
		if(p == NULL) break;
		if(!strcmp(name, "requester") && requester == NULL) requester = value;
		else free(value);
		free(name);
	}

	char *answer = malloc((size_t)msg->payloadlen + 1);
	if(answer){
		for(int i = 0; i < msg->payloadlen; i++) answer[i] = (char)toupper(((unsigned char *)msg->payload)[i]);
		mosquitto_property *reply = NULL;
		if(correlation) mosquitto_property_add_binary(&reply, MQTT_PROP_CORRELATION_DATA, correlation, correlation_len);
		mosquitto_publish_v5(mosq, NULL, response_topic, msg->payloadlen, answer, 1, false, reply);
		mosquitto_property_free_all(&reply);
		printf("responder: answered %s for %s\n", response_topic, requester ? requester : "?");
		fflush(stdout);
	}
	free(answer);
	free(response_topic);
	free(correlation);
	free(requester);
}

int main(int argc, char *argv[])
{
	const char *host = "127.0.0.1", *id = NULL, *user = NULL, *password = NULL;
	int port = 1883, opt;
	while((opt = getopt(argc, argv, "h:p:i:u:P:")) != -1){
		switch(opt){
			case 'h': host = optarg; break;
			case 'p': port = atoi(optarg); break;
			case 'i': id = optarg; break;
			case 'u': user = optarg; break;
			case 'P': password = optarg; break;
			default: return 2;
		}
	}
	if(optind != argc - 1){
		fprintf(stderr, "usage: responder [-h host] [-p port] [-i client-id] [-u user] [-P password] AREA\n");
		return 2;
	}
	snprintf(topic, sizeof(topic), "req/%s", argv[optind]);

	mosquitto_lib_init();
	struct mosquitto *mosq = mosquitto_new(id, true, NULL);
	if(mosq == NULL) return 1;
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	/* Replies are small: without this each waits ~40 ms for a delayed ACK. */
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
	mosquitto_message_v5_callback_set(mosq, on_message);
	if(user) mosquitto_username_pw_set(mosq, user, password);
	int rc = mosquitto_connect_bind_v5(mosq, host, port, 30, NULL, NULL);
	if(rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_forever(mosq, -1, 1);
	if(rc) fprintf(stderr, "responder: %s\n", mosquitto_strerror(rc));
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	return rc ? 1 : 0;
}
