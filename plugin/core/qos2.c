/*
 * QoS 2 answers and tombstones (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pending.h"
#include "qos2.h"

struct rcpt_answer_wait {
	struct rcpt_hnode by_key;
	struct rcpt_hnode by_pending;
	struct rcpt_message_ref msg;
	struct rcpt_pending *pending;
	const struct rcpt_client *by;
	uint32_t payload_hash;
};

int rcpt_qos2__init(struct rcpt_qos2 *q)
{
	memset(q, 0, sizeof(*q));
	if(rcpt_htable__init(&q->answers_by_key, 16) || rcpt_htable__init(&q->answers_by_pending, 16)
			|| rcpt_htable__init(&q->stones_by_key, 16) || rcpt_htable__init(&q->stones_by_content, 16)){
		rcpt_qos2__free(q);
		return RCPT_ERR_NOMEM;
	}
	return RCPT_OK;
}

void rcpt_qos2__free(struct rcpt_qos2 *q)
{
	struct rcpt_hnode *n = rcpt_htable__first(&q->answers_by_key);
	while(n){
		struct rcpt_hnode *next = rcpt_htable__next(&q->answers_by_key, n);
		free(RCPT_CONTAINER_OF(n, struct rcpt_answer_wait, by_key));
		n = next;
	}
	rcpt_htable__free(&q->answers_by_key);
	rcpt_htable__free(&q->answers_by_pending);
	rcpt_htable__free(&q->stones_by_key);
	rcpt_htable__free(&q->stones_by_content);
	free(q->ring);
	memset(q, 0, sizeof(*q));
}

static uint32_t ptr_hash(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	return rcpt_hash__bytes(RCPT_HASH_SEED, &v, sizeof(v));
}

struct rcpt_message_ref rcpt_qos2__message(const void *key, const char *topic)
{
	size_t len = strlen(topic);
	return (struct rcpt_message_ref){
		.key = key,
		.topic_hash = rcpt_hash__bytes(RCPT_HASH_SEED, topic, len),
		.topic_len = (uint32_t)len,
	};
}

static bool same_message(const struct rcpt_message_ref *a, const struct rcpt_message_ref *b)
{
	return a->key == b->key && a->topic_hash == b->topic_hash && a->topic_len == b->topic_len;
}

/* ---- answers ---- */

static struct rcpt_answer_wait *wait_of(const struct rcpt_qos2 *q, const struct rcpt_pending *p)
{
	if(!p->answer_waiting) return NULL;
	uint32_t h = ptr_hash(p);
	for(struct rcpt_hnode *n = rcpt_htable__chain(&q->answers_by_pending, h); n; n = n->next){
		struct rcpt_answer_wait *w = RCPT_CONTAINER_OF(n, struct rcpt_answer_wait, by_pending);
		if(w->pending == p) return w;
	}
	return NULL;
}

int rcpt_qos2__answer_wait(struct rcpt_qos2 *q, struct rcpt_pending *p, const struct rcpt_message_ref *msg,
		const struct rcpt_client *by, uint32_t payload_hash)
{
	struct rcpt_answer_wait *w = malloc(sizeof(*w));
	if(w == NULL) return RCPT_ERR_NOMEM;
	w->msg = *msg;
	w->pending = p;
	w->by = by;
	w->payload_hash = payload_hash;
	rcpt_htable__insert(&q->answers_by_key, &w->by_key, ptr_hash(msg->key));
	rcpt_htable__insert(&q->answers_by_pending, &w->by_pending, ptr_hash(p));
	p->answer_waiting = true;
	return RCPT_OK;
}

bool rcpt_qos2__answer_is(const struct rcpt_qos2 *q, const struct rcpt_pending *p,
		const struct rcpt_client *by, uint32_t payload_hash)
{
	const struct rcpt_answer_wait *w = wait_of(q, p);
	return w && w->by == by && w->payload_hash == payload_hash;
}

bool rcpt_qos2__answer_by(const struct rcpt_qos2 *q, const struct rcpt_pending *p, const struct rcpt_client *by)
{
	const struct rcpt_answer_wait *w = wait_of(q, p);
	return w && w->by == by;
}

static void unwait(struct rcpt_qos2 *q, struct rcpt_answer_wait *w)
{
	rcpt_htable__remove(&q->answers_by_key, &w->by_key);
	rcpt_htable__remove(&q->answers_by_pending, &w->by_pending);
	w->pending->answer_waiting = false;
	free(w);
}

struct rcpt_pending *rcpt_qos2__answer_released(struct rcpt_qos2 *q, const struct rcpt_message_ref *msg)
{
	if(rcpt_htable__count(&q->answers_by_key) == 0) return NULL;
	for(struct rcpt_hnode *n = rcpt_htable__chain(&q->answers_by_key, ptr_hash(msg->key)); n; n = n->next){
		struct rcpt_answer_wait *w = RCPT_CONTAINER_OF(n, struct rcpt_answer_wait, by_key);
		if(!same_message(&w->msg, msg)) continue;
		struct rcpt_pending *p = w->pending;
		unwait(q, w);
		return p;
	}
	return NULL;
}

void rcpt_qos2__drop_answer(struct rcpt_qos2 *q, struct rcpt_pending *p)
{
	struct rcpt_answer_wait *w = wait_of(q, p);
	if(w == NULL) return;
	rcpt_qos2__tombstone(q, &w->msg, 0);
	unwait(q, w);
}

/* ---- tombstones ---- */

uint32_t rcpt_qos2__content(const char *requester, const char *topic, size_t topic_len,
		const void *corr, size_t corr_len, uint32_t payload_hash)
{
	uint32_t h = rcpt_hash__bytes(payload_hash ^ RCPT_HASH_SEED, requester, strlen(requester) + 1);
	h = rcpt_hash__bytes(h, topic, topic_len);
	/* A broker-made correlation differs on each PUBLISH: it is not part of
	 * what the client sent. */
	if(corr) h = rcpt_hash__bytes(h ^ 0x9e3779b9u, corr, corr_len);
	return h ? h : 1;
}

void rcpt_qos2__tombstone(struct rcpt_qos2 *q, const struct rcpt_message_ref *msg, uint32_t content)
{
	if(q->ring == NULL){
		q->ring = calloc(RCPT_TOMBSTONES_MAX, sizeof(*q->ring));
		if(q->ring == NULL) return;
	}
	struct rcpt_tombstone *t = &q->ring[q->ring_next];
	q->ring_next = (q->ring_next + 1) % RCPT_TOMBSTONES_MAX;
	if(t->used){
		rcpt_htable__remove(&q->stones_by_key, &t->by_key);
		if(t->content) rcpt_htable__remove(&q->stones_by_content, &t->by_content);
	}
	t->msg = *msg;
	t->content = content;
	t->used = true;
	rcpt_htable__insert(&q->stones_by_key, &t->by_key, ptr_hash(msg->key));
	if(content) rcpt_htable__insert(&q->stones_by_content, &t->by_content, content);
}

bool rcpt_qos2__is_tombstoned(const struct rcpt_qos2 *q, const struct rcpt_message_ref *msg)
{
	if(rcpt_htable__count(&q->stones_by_key) == 0) return false;
	for(struct rcpt_hnode *n = rcpt_htable__chain(&q->stones_by_key, ptr_hash(msg->key)); n; n = n->next){
		const struct rcpt_tombstone *t = RCPT_CONTAINER_OF(n, struct rcpt_tombstone, by_key);
		if(same_message(&t->msg, msg)) return true;
	}
	return false;
}

bool rcpt_qos2__is_resent(const struct rcpt_qos2 *q, uint32_t content)
{
	if(rcpt_htable__count(&q->stones_by_content) == 0) return false;
	for(struct rcpt_hnode *n = rcpt_htable__chain(&q->stones_by_content, content); n; n = n->next){
		if(n->hash == content) return true;
	}
	return false;
}

size_t rcpt_qos2__tombstones(const struct rcpt_qos2 *q)
{
	return rcpt_htable__count(&q->stones_by_key);
}
