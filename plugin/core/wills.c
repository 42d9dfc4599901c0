/*
 * Wills under the prefixes (see the header).
 */
#include <string.h>

#include "hash.h"
#include "wills.h"

void rcpt_wills__init(struct rcpt_wills *w)
{
	memset(w, 0, sizeof(*w));
}

void rcpt_wills__other_event(struct rcpt_wills *w)
{
	w->disconnected = false;
	w->unconfirmed = false;
}

static void keep_id(struct rcpt_wills *w, const char *client_id)
{
	size_t len = strlen(client_id);
	w->id_len = len;
	if(len > RCPT_WILLS_ID_MAX) len = RCPT_WILLS_ID_MAX;
	memcpy(w->id, client_id, len);
	w->id[len] = '\0';
}

static bool same_id(const struct rcpt_wills *w, const char *client_id)
{
	size_t len = strlen(client_id);
	return len == w->id_len && len <= RCPT_WILLS_ID_MAX && !memcmp(w->id, client_id, len);
}

void rcpt_wills__disconnected(struct rcpt_wills *w, const char *client_id)
{
	w->unconfirmed = false;
	w->disconnected = true;
	keep_id(w, client_id);
}

bool rcpt_wills__write(struct rcpt_wills *w, const char *topic, const char *client_id)
{
	if(w->disconnected && same_id(w, client_id)){
		w->disconnected = false;
		return true;
	}
	w->disconnected = false;
	w->unconfirmed = true;
	w->logged = false;
	w->topic_len = strlen(topic);
	w->topic_hash = rcpt_hash__bytes(RCPT_HASH_SEED, topic, w->topic_len);
	keep_id(w, client_id);
	return false;
}

bool rcpt_wills__read(struct rcpt_wills *w, const char *topic)
{
	w->disconnected = false;
	if(!w->unconfirmed) return false;
	size_t len = strlen(topic);
	if(len == w->topic_len && rcpt_hash__bytes(RCPT_HASH_SEED, topic, len) == w->topic_hash) return true;
	/* Not the unconfirmed write's message: that one reached nobody. */
	w->unconfirmed = false;
	return false;
}

const char *rcpt_wills__sender(const struct rcpt_wills *w)
{
	return w->id;
}

bool rcpt_wills__first_report(struct rcpt_wills *w)
{
	bool first = !w->logged;
	w->logged = true;
	return first;
}
