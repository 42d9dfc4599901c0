/*
 * The poll() loop behind every MQTT scenario. libmosquitto is used without its
 * own thread: mosquitto_loop_read/_write/_misc are called for the sockets that
 * poll() reports. A publish made inside a message callback is only queued by
 * libmosquitto; mq_poll writes it out right after the reads.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "bench.h"
#include "mq.h"

void mq_init(void)
{
	mosquitto_lib_init();
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)m; (void)flags; (void)props;
	struct mq_client *c = obj;
	if(rc){
		fprintf(stderr, "rcpt-bench: %s: connection refused: %s\n", c->id, mosquitto_reason_string(rc));
		c->failed = true;
		return;
	}
	c->connected = true;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	(void)m; (void)props;
	struct mq_client *c = obj;
	if(c->connected && rc){
		fprintf(stderr, "rcpt-bench: %s: connection lost: %s\n", c->id, mosquitto_reason_string(rc));
		c->failed = true;
	}
	c->connected = false;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted,
		const mosquitto_property *props)
{
	(void)m; (void)mid; (void)props;
	struct mq_client *c = obj;
	for(int i = 0; i < count; i++) if(granted[i] >= 0x80) c->suback_refused++;
	c->subacks_waiting--;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)m;
	struct mq_client *c = obj;
	if(c->on_msg) c->on_msg(c, msg, props);
}

int mq_open(struct mq_client *c, const char *id, const char *host, int port, mq_msg_fn on_msg, void *ctx)
{
	return mq_open_as(c, id, NULL, host, port, on_msg, ctx);
}

int mq_open_as(struct mq_client *c, const char *id, const char *username, const char *host, int port,
		mq_msg_fn on_msg, void *ctx)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->on_msg = on_msg;
	c->ctx = ctx;
	c->m = mosquitto_new(c->id, true, c);
	if(c->m == NULL) return -1;
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	/* Without it each small answer waits for a delayed ACK (~40-88 ms). */
	mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	if(username && mosquitto_username_pw_set(c->m, username, NULL)) return -1;
	mosquitto_connect_v5_callback_set(c->m, on_connect);
	mosquitto_disconnect_v5_callback_set(c->m, on_disconnect);
	mosquitto_subscribe_v5_callback_set(c->m, on_subscribe);
	mosquitto_message_v5_callback_set(c->m, on_message);
	int rc = mosquitto_connect_bind_v5(c->m, host, port, 60, NULL, NULL);
	if(rc){
		fprintf(stderr, "rcpt-bench: %s: connect to %s:%d: %s\n", c->id, host, port, mosquitto_strerror(rc));
		return -1;
	}
	uint64_t deadline = now_ns() + 5000000000ull;
	struct mq_client *one[1] = {c};
	while(!c->connected && !c->failed && now_ns() < deadline && !bench_stop){
		if(mq_poll(one, 1, 50) < 0) break;
	}
	return c->connected ? 0 : -1;
}

int mq_subscribe(struct mq_client *c, const char *filter, int qos)
{
	c->subacks_waiting++;
	int refused = c->suback_refused;
	if(mosquitto_subscribe_v5(c->m, NULL, filter, qos, 0, NULL)) return -1;
	uint64_t deadline = now_ns() + 5000000000ull;
	struct mq_client *one[1] = {c};
	while(c->subacks_waiting > 0 && !c->failed && now_ns() < deadline && !bench_stop){
		if(mq_poll(one, 1, 50) < 0) break;
	}
	if(c->subacks_waiting > 0 || c->suback_refused > refused){
		fprintf(stderr, "rcpt-bench: %s: subscribe %s refused or unanswered\n", c->id, filter);
		return -1;
	}
	return 0;
}

int mq_poll(struct mq_client **cs, int n, int timeout_ms)
{
	struct pollfd pfd[64];
	if(n > 64) n = 64;
	for(int i = 0; i < n; i++){
		pfd[i].fd = mosquitto_socket(cs[i]->m);
		pfd[i].events = POLLIN | (mosquitto_want_write(cs[i]->m) ? POLLOUT : 0);
		pfd[i].revents = 0;
	}
	int ready = poll(pfd, (nfds_t)n, timeout_ms);
	if(ready < 0 && errno != EINTR) return -1;
	int failed = 0;
	for(int i = 0; i < n; i++){
		struct mosquitto *m = cs[i]->m;
		if(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)){
			/* Read every packet already buffered, not one per poll(). */
			for(int k = 0; k < 256; k++){
				errno = 0;
				if(mosquitto_loop_read(m, 1) != MOSQ_ERR_SUCCESS){
					cs[i]->failed = true;
					break;
				}
				if(errno == EAGAIN || errno == EWOULDBLOCK) break;
			}
		}
		if(mosquitto_want_write(m)) mosquitto_loop_write(m, 1);
		if(cs[i]->failed) failed = 1;
	}
	return failed ? -1 : 0;
}

void mq_close(struct mq_client *c)
{
	if(c->m == NULL) return;
	mosquitto_disconnect_v5(c->m, 0, NULL);
	mosquitto_loop_write(c->m, 1);
	mosquitto_destroy(c->m);
	c->m = NULL;
}

bool mq_read_corr_u64(const mosquitto_property *props, uint64_t *out)
{
	void *v = NULL;
	uint16_t len = 0;
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &v, &len, false) == NULL) return false;
	bool ok = len == 8;
	if(ok) memcpy(out, v, 8);
	free(v);
	return ok;
}

bool mq_user_prop(const mosquitto_property *props, const char *name, char *buf, size_t len)
{
	const mosquitto_property *p = props;
	bool first = true, found = false;
	while(!found){
		char *k = NULL, *v = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &k, &v, !first);
		first = false;
		if(p == NULL) break;
		if(!strcmp(k, name)){
			snprintf(buf, len, "%s", v);
			found = true;
		}
		free(k);
		free(v);
	}
	return found;
}
