/*
 * A requester: sends one request and prints the one receipt the broker
 * guarantees: the answer, or the broker's verdict.
 *
 *   requester [-h host] [-p port] [-i client-id] [-u user] [-P password]
 *             [-r return-area] [-T timeout-ms] [-o topic] AREA MESSAGE
 *
 * Without -r it names its return topic itself (Response Topic ret/<id>/replies);
 * with -r it lets the broker map it (user property return-area). With -o it
 * publishes on that topic and names the area in user property subject-area.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

struct request {
	const char *area, *message, *return_area, *timeout_ms, *topic;
	char return_topic[300];
	int exit_code;
};

/* Sends the request once the return area is subscribed: a receipt that
 * arrived before the subscription would be lost. */
static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted,
		const mosquitto_property *props)
{
	(void)mid; (void)props;
	struct request *r = obj;
	if(qos_count < 1 || granted[0] > 2){
		fprintf(stderr, "requester: subscription to %s refused\n", r->return_topic);
		mosquitto_disconnect(mosq);
		return;
	}
	char topic[300];
	mosquitto_property *p = NULL;
	if(r->topic){
		snprintf(topic, sizeof(topic), "%s", r->topic);
		mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "subject-area", r->area);
	}else{
		snprintf(topic, sizeof(topic), "req/%s", r->area);
	}
	if(r->return_area){
		mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "return-area", r->return_area);
	}else{
		mosquitto_property_add_string(&p, MQTT_PROP_RESPONSE_TOPIC, r->return_topic);
	}
	mosquitto_property_add_binary(&p, MQTT_PROP_CORRELATION_DATA, "1", 1);
	if(r->timeout_ms) mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "receipt-timeout-ms", r->timeout_ms);
	mosquitto_publish_v5(mosq, NULL, topic, (int)strlen(r->message), r->message, 1, false, p);
	mosquitto_property_free_all(&p);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)flags; (void)props;
	struct request *r = obj;
	if(rc){
		fprintf(stderr, "requester: connection refused: %s\n", mosquitto_reason_string(rc));
		mosquitto_disconnect(mosq);
		return;
	}
	mosquitto_subscribe_v5(mosq, NULL, r->return_topic, 1, 0, NULL);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct request *r = obj;
	char *status = NULL, *reason = NULL;
	const mosquitto_property *p = props;
	for(bool first = true; ; first = false){
		char *name = NULL, *value = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, !first);
		if(p == NULL) break;
		if(!strcmp(name, "receipt") && !status) status = value;
		else if(!strcmp(name, "receipt-reason") && !reason) reason = value;
		else free(value);
		free(name);
	}
	printf("%s receipt: %s", msg->topic, status ? status : "(none)");
	if(reason) printf(" (%s)", reason);
	if(msg->payloadlen) printf(" payload: %.*s", msg->payloadlen, (const char *)msg->payload);
	printf("\n");
	r->exit_code = status && !strcmp(status, "ok") ? 0 : 1;
	free(status);
	free(reason);
	mosquitto_disconnect(mosq);
}

int main(int argc, char *argv[])
{
	struct request r = {.exit_code = 2};
	const char *host = "127.0.0.1", *id = "requester", *user = NULL, *password = NULL;
	int port = 1883, opt;
	while((opt = getopt(argc, argv, "h:p:i:u:P:r:T:o:")) != -1){
		switch(opt){
			case 'h': host = optarg; break;
			case 'p': port = atoi(optarg); break;
			case 'i': id = optarg; break;
			case 'u': user = optarg; break;
			case 'P': password = optarg; break;
			case 'r': r.return_area = optarg; break;
			case 'T': r.timeout_ms = optarg; break;
			case 'o': r.topic = optarg; break;
			default: return 2;
		}
	}
	if(optind != argc - 2){
		fprintf(stderr, "usage: requester [-h host] [-p port] [-i id] [-u user] [-P password] [-r return-area] [-T timeout-ms] [-o topic] AREA MESSAGE\n");
		return 2;
	}
	r.area = argv[optind];
	r.message = argv[optind + 1];
	snprintf(r.return_topic, sizeof(r.return_topic), "ret/%s/%s", id, r.return_area ? r.return_area : "replies");

	mosquitto_lib_init();
	struct mosquitto *mosq = mosquitto_new(id, true, &r);
	if(mosq == NULL) return 2;
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
	mosquitto_message_v5_callback_set(mosq, on_message);
	if(user) mosquitto_username_pw_set(mosq, user, password);
	int rc = mosquitto_connect_bind_v5(mosq, host, port, 30, NULL, NULL);
	if(rc == MOSQ_ERR_SUCCESS){
		/* The broker guarantees a receipt for every accepted request; a
		 * refused request with an unusable return topic gets none, so
		 * do not wait for ever. */
		time_t give_up = time(NULL) + 10 + (r.timeout_ms ? atoi(r.timeout_ms) / 1000 : 30);
		while(r.exit_code == 2 && time(NULL) < give_up && rc == MOSQ_ERR_SUCCESS){
			rc = mosquitto_loop(mosq, 100, 1);
		}
		if(r.exit_code == 2) fprintf(stderr, "requester: no receipt\n");
	}else{
		fprintf(stderr, "requester: %s\n", mosquitto_strerror(rc));
	}
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	return r.exit_code;
}
