/*
 * Client ids bound to users: with authentication, a client id belongs to the
 * username that first used it successfully, so that another user cannot
 * take its session, read its receipts, answer its requests or be named as
 * it. One record per bound id; the adapter asks at every CONNECT.
 *
 * A record also remembers whether the id's last connection kept a
 * persistent session (clean start false): only those outlive a restart, so
 * only those are saved.
 */
#ifndef RCPT_IDENTITY_H
#define RCPT_IDENTITY_H

#include "htable.h"

struct rcpt_binding {
	struct rcpt_hnode node;
	char *user;          /* owned */
	bool persistent;     /* its last connection had clean start false */
	char id[];
};

struct rcpt_identity {
	struct rcpt_htable table;
	bool enabled;
	bool dirty;          /* a persistent binding changed since the last save */
};

enum rcpt_id_verdict {
	RCPT_ID_FREE,        /* not bound (or binding is off) */
	RCPT_ID_MINE,        /* bound to this user */
	RCPT_ID_OTHERS,      /* bound to another user, or the client has none */
};

int rcpt_identity__init(struct rcpt_identity *ids, bool enabled);
void rcpt_identity__free(struct rcpt_identity *ids);
/* What a client presenting id with username (NULL: none) is to the binding. */
enum rcpt_id_verdict rcpt_identity__check(const struct rcpt_identity *ids, const char *id, const char *username);
/* Binds id to username if it is free (no-op without a username or when
 * binding is off) and notes the session kind. RCPT_ERR_NOMEM: not bound. */
int rcpt_identity__bind(struct rcpt_identity *ids, const char *id, const char *username, bool persistent);
/* Releases id's binding; false when it had none. */
bool rcpt_identity__release(struct rcpt_identity *ids, const char *id);
struct rcpt_binding *rcpt_identity__find(const struct rcpt_identity *ids, const char *id);
static inline size_t rcpt_identity__count(const struct rcpt_identity *ids)
{
	return rcpt_htable__count(&ids->table);
}
/* Walks every binding (b NULL: the first). */
struct rcpt_binding *rcpt_identity__next(const struct rcpt_identity *ids, const struct rcpt_binding *b);

/* The persistent bindings as text, one "<id>\t<user>\n" a line (ids and
 * usernames with a tab or newline are not saved: MQTT allows them, a line
 * format does not). Caller frees; NULL: out of memory. */
char *rcpt_identity__save_text(const struct rcpt_identity *ids, size_t *len);
/* Binds every line of a text made by save_text; returns how many. */
size_t rcpt_identity__load_text(struct rcpt_identity *ids, const char *text, size_t len);
/* Writes the persistent bindings to path atomically; 0 or an errno (*step
 * names what failed). Clears dirty on success. */
int rcpt_identity__save(struct rcpt_identity *ids, const char *path, const char **step);
/* Reads path back; 0 (also when it does not exist) or an errno. */
int rcpt_identity__load(struct rcpt_identity *ids, const char *path, size_t *loaded);

#endif
