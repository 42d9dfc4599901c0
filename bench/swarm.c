/*
 * Packets by hand, MQTT 5 (OASIS mqtt-v5.0 sections 3.1, 3.8, 3.14): clean
 * start, keep-alive 0 (the broker never drops an idle member mid-measure),
 * no properties. Reading only frames packets and counts them by type.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bench.h"
#include "swarm.h"

#define SWARM_BATCH 64

static size_t put_str(uint8_t *b, const char *s)
{
	size_t len = strlen(s);
	b[0] = (uint8_t)(len >> 8);
	b[1] = (uint8_t)len;
	memcpy(b + 2, s, len);
	return len + 2;
}

/* CONNECT then SUBSCRIBE, in one buffer; returns its length. Ids and filters
 * are short, so every remaining length fits one byte. */
static size_t hello(uint8_t *b, const char *id, const char *filter)
{
	uint8_t *p = b;
	*p++ = 0x10;
	uint8_t *rl = p++;
	static const uint8_t vh[] = {0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 0, 0};
	memcpy(p, vh, sizeof(vh));
	p += sizeof(vh);
	p += put_str(p, id);
	*rl = (uint8_t)(p - rl - 1);
	*p++ = 0x82;
	rl = p++;
	*p++ = 0;
	*p++ = 1;     /* packet identifier */
	*p++ = 0;     /* no properties */
	p += put_str(p, filter);
	*p++ = 0;     /* QoS 0 */
	*rl = (uint8_t)(p - rl - 1);
	return (size_t)(p - b);
}

static void count_packet(struct swarm_member *m, const uint8_t *pkt, size_t hdr, size_t len)
{
	switch(pkt[0] >> 4){
		case 2:   /* CONNACK: flags, reason code */
			m->connacks++;
			if(len < 2 || pkt[hdr + 1] != 0) m->refused++;
			break;
		case 9:   /* SUBACK: packet id, properties, reason codes */
			m->subacks++;
			if(len < 4 || pkt[hdr + len - 1] >= 0x80) m->refused++;
			break;
		case 3:
			m->publishes++;
			break;
		default:
			m->other++;
	}
}

int swarm_frame(const uint8_t *b, size_t have, size_t *hdr, size_t *len)
{
	size_t l = 0;
	int shift = 0;
	for(size_t i = 1; i < 5; i++){
		if(i >= have) return 0;
		l |= (size_t)(b[i] & 0x7f) << shift;
		shift += 7;
		if((b[i] & 0x80) == 0){
			*hdr = i + 1;
			*len = l;
			return 1;
		}
	}
	return -1;
}

/* Reads what is there; -1 on a closed or broken connection. */
static int member_read(struct swarm_member *m)
{
	for(;;){
		ssize_t r = read(m->fd, m->buf + m->have, sizeof(m->buf) - m->have);
		if(r == 0) return -1;
		if(r < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		m->have += (size_t)r;
		size_t hdr, len;
		int f;
		while((f = swarm_frame(m->buf, m->have, &hdr, &len)) == 1 && hdr + len <= m->have){
			count_packet(m, m->buf, hdr, len);
			memmove(m->buf, m->buf + hdr + len, m->have - hdr - len);
			m->have -= hdr + len;
		}
		/* Malformed, or larger than anything this benchmark sends. */
		if(f < 0 || (f == 1 && hdr + len > sizeof(m->buf))) return -1;
	}
}

static int connect_one(struct swarm_member *m, const char *host, int port, const char *id, const char *filter)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if(inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
	m->fd = socket(AF_INET, SOCK_STREAM, 0);
	if(m->fd < 0) return -1;
	int one = 1;
	setsockopt(m->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if(connect(m->fd, (struct sockaddr *)&a, sizeof(a))) return -1;
	uint8_t b[400];
	size_t len = hello(b, id, filter);
	if(write(m->fd, b, len) != (ssize_t)len) return -1;
	/* From here reads take what is there and never wait. */
	return fcntl(m->fd, F_SETFL, fcntl(m->fd, F_GETFL) | O_NONBLOCK);
}

/* Polls members [from, to) until each has `want` of what `got` counts. */
static int wait_members(struct swarm *s, int from, int to, unsigned (*got)(const struct swarm_member *),
		unsigned want, int ms)
{
	struct pollfd *pfd = calloc((size_t)(to - from), sizeof(*pfd));
	int *idx = calloc((size_t)(to - from), sizeof(*idx));
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	int done = 0;
	while(pfd && idx && !bench_stop){
		int k = 0;
		done = 0;
		for(int i = from; i < to; i++){
			if(got(&s->m[i]) >= want || s->m[i].fd < 0){
				done++;
				continue;
			}
			pfd[k] = (struct pollfd){.fd = s->m[i].fd, .events = POLLIN};
			idx[k++] = i;
		}
		if(k == 0 || now_ns() > end) break;
		if(poll(pfd, (nfds_t)k, 50) < 0 && errno != EINTR) break;
		for(int j = 0; j < k; j++){
			if(pfd[j].revents && member_read(&s->m[idx[j]]) < 0){
				close(s->m[idx[j]].fd);
				s->m[idx[j]].fd = -1;
			}
		}
	}
	free(pfd);
	free(idx);
	int ok = 0;
	for(int i = from; i < to; i++) if(got(&s->m[i]) >= want && s->m[i].fd >= 0) ok++;
	return ok;
}

static unsigned subacks(const struct swarm_member *m)
{
	return m->subacks;
}

static unsigned publishes(const struct swarm_member *m)
{
	return m->publishes;
}

int swarm_open(struct swarm *s, const char *host, int port, int n, const char *id_prefix, const char *filter)
{
	s->n = 0;
	s->m = calloc((size_t)n, sizeof(*s->m));
	if(s->m == NULL) return -1;
	char id[64];
	for(int from = 0; from < n; from += SWARM_BATCH){
		int to = from + SWARM_BATCH < n ? from + SWARM_BATCH : n;
		for(int i = from; i < to; i++){
			s->m[i].fd = -1;
			s->n = i + 1;
			snprintf(id, sizeof(id), "%s%d", id_prefix, i);
			if(connect_one(&s->m[i], host, port, id, filter)){
				fprintf(stderr, "rcpt-bench: swarm: member %d of %d could not connect: %s\n", i, n, strerror(errno));
				return -1;
			}
		}
		if(wait_members(s, from, to, subacks, 1, 10000) != to - from) goto refused;
		for(int i = from; i < to; i++){
			if(s->m[i].refused || s->m[i].connacks != 1 || s->m[i].other) goto refused;
		}
	}
	return 0;
refused:
	fprintf(stderr, "rcpt-bench: swarm: a member's CONNECT or SUBSCRIBE was refused or unanswered\n");
	return -1;
}

int swarm_wait_publishes(struct swarm *s, unsigned want, int ms)
{
	return wait_members(s, 0, s->n, publishes, want, ms);
}

void swarm_close(struct swarm *s)
{
	static const uint8_t bye[] = {0xe0, 0x00};
	for(int i = 0; i < s->n; i++){
		if(s->m[i].fd < 0) continue;
		if(write(s->m[i].fd, bye, sizeof(bye)) < 0){
			/* Closing is all that is left to do either way. */
		}
		close(s->m[i].fd);
		s->m[i].fd = -1;
	}
	free(s->m);
	s->m = NULL;
	s->n = 0;
}
