/*
 * A raw MQTT 5 client (see the header).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raw_mqtt.h"

struct raw {
	int fd;
};

/* ---- writing ---- */

struct out {
	uint8_t data[4096];
	size_t len;
	bool overflow;
};

static void put(struct out *o, const void *p, size_t n)
{
	if(o->len + n > sizeof(o->data)){
		o->overflow = true;
		return;
	}
	memcpy(o->data + o->len, p, n);
	o->len += n;
}

static void put_u8(struct out *o, uint8_t v)
{
	put(o, &v, 1);
}

static void put_u16(struct out *o, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(o, b, 2);
}

static void put_u32(struct out *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(o, b, 4);
}

static void put_bin(struct out *o, const void *p, size_t n)
{
	put_u16(o, (uint16_t)n);
	put(o, p, n);
}

static void put_str(struct out *o, const char *s)
{
	put_bin(o, s, strlen(s));
}

static void put_varint(struct out *o, size_t v)
{
	do{
		uint8_t b = v % 128;
		v /= 128;
		if(v) b |= 0x80;
		put_u8(o, b);
	}while(v);
}

static int send_all(struct raw *r, const uint8_t *p, size_t n)
{
	while(n > 0){
		ssize_t w = send(r->fd, p, n, MSG_NOSIGNAL);
		if(w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends first_byte, the remaining length, then body. */
static int send_packet(struct raw *r, uint8_t first_byte, const struct out *body)
{
	if(body->overflow) return -1;
	struct out head = {0};
	put_u8(&head, first_byte);
	put_varint(&head, body->len);
	if(send_all(r, head.data, head.len)) return -1;
	return send_all(r, body->data, body->len);
}

/* ---- reading ---- */

static bool read_exact(struct raw *r, uint8_t *p, size_t n, int64_t deadline)
{
	while(n > 0){
		int left = (int)(deadline - harness_now_ms());
		struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
		if(left <= 0 || poll(&pfd, 1, left) <= 0) return false;
		ssize_t got = recv(r->fd, p, n, 0);
		if(got <= 0) return false;
		p += got;
		n -= (size_t)got;
	}
	return true;
}

struct in {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint8_t get_u8(struct in *in)
{
	if(in->left < 1){
		in->bad = true;
		return 0;
	}
	in->left--;
	return *in->p++;
}

static uint16_t get_u16(struct in *in)
{
	uint16_t hi = get_u8(in);
	return (uint16_t)(hi << 8 | get_u8(in));
}

static size_t get_varint(struct in *in)
{
	size_t v = 0, mul = 1;
	for(int i = 0; i < 4; i++){
		uint8_t b = get_u8(in);
		v += (b & 0x7f) * mul;
		if(!(b & 0x80)) return v;
		mul *= 128;
	}
	in->bad = true;
	return 0;
}

/* A copy of n bytes plus a NUL. */
static char *get_bytes(struct in *in, size_t n)
{
	if(in->left < n){
		in->bad = true;
		return NULL;
	}
	char *s = malloc(n + 1);
	memcpy(s, in->p, n);
	s[n] = '\0';
	in->p += n;
	in->left -= n;
	return s;
}

static char *get_str(struct in *in, uint16_t *len)
{
	uint16_t n = get_u16(in);
	if(len) *len = n;
	return in->bad ? NULL : get_bytes(in, n);
}

static void read_properties(struct in *in, struct raw_packet *out)
{
	size_t len = get_varint(in);
	if(in->bad || len > in->left){
		in->bad = true;
		return;
	}
	struct in props = {.p = in->p, .left = len};
	in->p += len;
	in->left -= len;
	while(props.left > 0 && !props.bad){
		uint8_t id = get_u8(&props);
		switch(id){
			case 0x08: free(out->response_topic); out->response_topic = get_str(&props, NULL); break;
			case 0x09:
				free(out->correlation);
				out->correlation = get_str(&props, &out->correlation_len);
				out->has_correlation = true;
				break;
			case 0x26: {
				out->user = realloc(out->user, (size_t)(out->user_count + 1) * sizeof(*out->user));
				char *name = get_str(&props, NULL);
				char *value = get_str(&props, NULL);
				out->user[out->user_count++] = (struct user_pair){name, value};
				break;
			}
			case 0x1f: free(get_str(&props, NULL)); break;                /* reason string */
			case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
				get_u8(&props); break;                                     /* byte properties */
			case 0x13: case 0x21: case 0x22: case 0x23: get_u16(&props); break;
			case 0x02: case 0x11: case 0x18: case 0x27:
				get_u16(&props); get_u16(&props); break;                    /* four-byte properties */
			case 0x0b: get_varint(&props); break;
			case 0x03: case 0x12: case 0x15: case 0x1a: case 0x1c:
				free(get_str(&props, NULL)); break;
			case 0x16: free(get_str(&props, NULL)); break;
			default: props.bad = true; break;
		}
	}
	if(props.bad) in->bad = true;
}

bool raw_read(struct raw *r, int timeout_ms, struct raw_packet *out)
{
	memset(out, 0, sizeof(*out));
	int64_t deadline = harness_now_ms() + timeout_ms;
	uint8_t first;
	if(!read_exact(r, &first, 1, deadline)) return false;
	size_t len = 0, mul = 1;
	for(int i = 0; ; i++){
		uint8_t b;
		if(i == 4 || !read_exact(r, &b, 1, deadline)) return false;
		len += (b & 0x7f) * mul;
		mul *= 128;
		if(!(b & 0x80)) break;
	}
	uint8_t *body = malloc(len ? len : 1);
	if(!read_exact(r, body, len, deadline)){
		free(body);
		return false;
	}
	struct in in = {.p = body, .left = len};
	out->type = first >> 4;
	out->flags = first & 0x0f;
	switch(out->type){
		case 2:     /* CONNACK */
			out->flags = get_u8(&in);
			out->reason = get_u8(&in);
			break;
		case RAW_PUBLISH: {
			out->topic = get_str(&in, NULL);
			if((out->flags >> 1) & 3) out->mid = get_u16(&in);
			read_properties(&in, out);
			if(!in.bad){
				out->payload_len = in.left;
				out->payload = get_bytes(&in, in.left);
			}
			break;
		}
		case RAW_PUBACK: case RAW_PUBREC: case RAW_PUBREL: case RAW_PUBCOMP:
			out->mid = get_u16(&in);
			if(in.left > 0) out->reason = get_u8(&in);
			break;
		case RAW_SUBACK:
			out->mid = get_u16(&in);
			read_properties(&in, out);
			out->reason = get_u8(&in);
			break;
		case 14:    /* DISCONNECT */
			if(in.left > 0) out->reason = get_u8(&in);
			break;
		default:
			break;
	}
	free(body);
	return !in.bad;
}

bool raw_expect(struct raw *r, uint8_t type, int timeout_ms, struct raw_packet *out)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	for(;;){
		int left = (int)(deadline - harness_now_ms());
		if(left <= 0 || !raw_read(r, left, out)) return false;
		if(out->type == type) return true;
		fprintf(stderr, "raw: skipped packet type %u (waiting for %u)\n", out->type, type);
		raw_packet_free(out);
	}
}

void raw_packet_free(struct raw_packet *p)
{
	free(p->topic);
	free(p->payload);
	free(p->response_topic);
	free(p->correlation);
	for(int i = 0; i < p->user_count; i++){
		free((char *)p->user[i].name);
		free((char *)p->user[i].value);
	}
	free(p->user);
	memset(p, 0, sizeof(*p));
}

const char *raw_user(const struct raw_packet *p, const char *name)
{
	for(int i = 0; i < p->user_count; i++){
		if(p->user[i].name && !strcmp(p->user[i].name, name)) return p->user[i].value;
	}
	return NULL;
}

/* ---- packets ---- */

int raw_connect(struct broker *b, const struct raw_connect *spec, struct raw **out, bool *session_present)
{
	*out = NULL;
	struct raw *r = calloc(1, sizeof(*r));
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	if(r->fd < 0 || connect(r->fd, (struct sockaddr *)&addr, sizeof(addr))){
		raw_drop(r);
		return -1;
	}
	setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	struct out body = {0};
	put_str(&body, "MQTT");
	put_u8(&body, 5);
	uint8_t flags = spec->clean_start ? 0x02 : 0;
	if(spec->username) flags |= 0x80;
	if(spec->password) flags |= 0x40;
	put_u8(&body, flags);
	put_u16(&body, 60);
	struct out props = {0};
	if(spec->session_expiry){
		put_u8(&props, 0x11);
		put_u32(&props, spec->session_expiry);
	}
	put_varint(&body, props.len);
	put(&body, props.data, props.len);
	put_str(&body, spec->id);
	if(spec->username) put_str(&body, spec->username);
	if(spec->password) put_str(&body, spec->password);
	struct raw_packet ack;
	if(send_packet(r, 0x10, &body) || !raw_read(r, HARNESS_ACK_TIMEOUT_MS, &ack) || ack.type != 2){
		raw_drop(r);
		return -1;
	}
	int rc = ack.reason;
	if(session_present) *session_present = ack.flags & 1;
	raw_packet_free(&ack);
	if(rc){
		raw_drop(r);
		return rc;
	}
	*out = r;
	return 0;
}

void raw_drop(struct raw *r)
{
	if(r == NULL) return;
	if(r->fd >= 0) close(r->fd);
	free(r);
}

void raw_disconnect(struct raw *r)
{
	if(r == NULL) return;
	struct out body = {0};
	send_packet(r, 0xe0, &body);
	raw_drop(r);
}

int raw_publish(struct raw *r, const struct raw_publish *p)
{
	struct out body = {0};
	put_str(&body, p->topic);
	if(p->qos > 0) put_u16(&body, p->mid);
	struct out props = {0};
	if(p->response_topic){
		put_u8(&props, 0x08);
		put_str(&props, p->response_topic);
	}
	if(p->correlation){
		put_u8(&props, 0x09);
		put_bin(&props, p->correlation, p->correlation_len);
	}
	for(int i = 0; i < p->user_count; i++){
		put_u8(&props, 0x26);
		put_str(&props, p->user[i].name);
		put_str(&props, p->user[i].value);
	}
	if(props.overflow) return -1;
	put_varint(&body, props.len);
	put(&body, props.data, props.len);
	put(&body, p->payload, p->payload_len);
	uint8_t first = (uint8_t)(0x30 | (p->dup ? 0x08 : 0) | (p->qos << 1));
	return send_packet(r, first, &body);
}

int raw_ack(struct raw *r, uint8_t type, uint16_t mid)
{
	struct out body = {0};
	put_u16(&body, mid);
	return send_packet(r, (uint8_t)(type << 4 | (type == RAW_PUBREL ? 0x02 : 0)), &body);
}

int raw_subscribe(struct raw *r, const char *filter, int qos, uint16_t mid)
{
	struct out body = {0};
	put_u16(&body, mid);
	put_varint(&body, 0);
	put_str(&body, filter);
	put_u8(&body, (uint8_t)qos);
	struct raw_packet ack;
	if(send_packet(r, 0x82, &body) || !raw_expect(r, RAW_SUBACK, HARNESS_ACK_TIMEOUT_MS, &ack)) return -1;
	int rc = ack.mid == mid ? ack.reason : -1;
	raw_packet_free(&ack);
	return rc;
}
