/*
 * Client ids bound to users (see the header).
 */
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "buf.h"
#include "files.h"
#include "hash.h"
#include "identity.h"

int rcpt_identity__init(struct rcpt_identity *ids, bool enabled)
{
	memset(ids, 0, sizeof(*ids));
	ids->enabled = enabled;
	return rcpt_htable__init(&ids->table, 64);
}

static void binding_free(struct rcpt_binding *b)
{
	free(b->user);
	free(b);
}

void rcpt_identity__free(struct rcpt_identity *ids)
{
	struct rcpt_hnode *n = rcpt_htable__first(&ids->table);
	while(n){
		struct rcpt_hnode *next = rcpt_htable__next(&ids->table, n);
		binding_free(RCPT_CONTAINER_OF(n, struct rcpt_binding, node));
		n = next;
	}
	rcpt_htable__free(&ids->table);
}

struct rcpt_binding *rcpt_identity__find(const struct rcpt_identity *ids, const char *id)
{
	uint32_t hash = rcpt_hash__bytes(RCPT_HASH_SEED, id, strlen(id));
	for(struct rcpt_hnode *n = rcpt_htable__chain(&ids->table, hash); n; n = n->next){
		struct rcpt_binding *b = RCPT_CONTAINER_OF(n, struct rcpt_binding, node);
		if(n->hash == hash && !strcmp(b->id, id)) return b;
	}
	return NULL;
}

enum rcpt_id_verdict rcpt_identity__check(const struct rcpt_identity *ids, const char *id, const char *username)
{
	if(!ids->enabled || id == NULL) return RCPT_ID_FREE;
	const struct rcpt_binding *b = rcpt_identity__find(ids, id);
	if(b == NULL) return RCPT_ID_FREE;
	return username && !strcmp(b->user, username) ? RCPT_ID_MINE : RCPT_ID_OTHERS;
}

int rcpt_identity__bind(struct rcpt_identity *ids, const char *id, const char *username, bool persistent)
{
	if(!ids->enabled || id == NULL || username == NULL) return RCPT_OK;
	struct rcpt_binding *b = rcpt_identity__find(ids, id);
	if(b){
		/* Only its own user gets this far (the CONNECT check). */
		if(b->persistent != persistent) ids->dirty = true;
		b->persistent = persistent;
		return RCPT_OK;
	}
	size_t len = strlen(id);
	b = malloc(sizeof(*b) + len + 1);
	if(b == NULL) return RCPT_ERR_NOMEM;
	b->user = strdup(username);
	if(b->user == NULL){
		free(b);
		return RCPT_ERR_NOMEM;
	}
	b->persistent = persistent;
	memcpy(b->id, id, len + 1);
	rcpt_htable__insert(&ids->table, &b->node, rcpt_hash__bytes(RCPT_HASH_SEED, id, len));
	if(persistent) ids->dirty = true;
	return RCPT_OK;
}

bool rcpt_identity__release(struct rcpt_identity *ids, const char *id)
{
	struct rcpt_binding *b = rcpt_identity__find(ids, id);
	if(b == NULL) return false;
	if(b->persistent) ids->dirty = true;
	rcpt_htable__remove(&ids->table, &b->node);
	binding_free(b);
	return true;
}

struct rcpt_binding *rcpt_identity__next(const struct rcpt_identity *ids, const struct rcpt_binding *b)
{
	struct rcpt_hnode *n = b ? rcpt_htable__next(&ids->table, &b->node) : rcpt_htable__first(&ids->table);
	return n ? RCPT_CONTAINER_OF(n, struct rcpt_binding, node) : NULL;
}

static bool fits_a_line(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "\t\n") == NULL;
}

char *rcpt_identity__save_text(const struct rcpt_identity *ids, size_t *len)
{
	struct rcpt_buf out = {0};
	for(struct rcpt_binding *b = rcpt_identity__next(ids, NULL); b; b = rcpt_identity__next(ids, b)){
		if(!b->persistent || !fits_a_line(b->id) || !fits_a_line(b->user)) continue;
		rcpt_buf__put(&out, b->id, strlen(b->id));
		rcpt_buf__put(&out, "\t", 1);
		rcpt_buf__put(&out, b->user, strlen(b->user));
		rcpt_buf__put(&out, "\n", 1);
	}
	rcpt_buf__put(&out, "", 1);
	if(out.failed){
		rcpt_buf__free(&out);
		return NULL;
	}
	*len = out.len - 1;
	return (char *)out.data;
}

size_t rcpt_identity__load_text(struct rcpt_identity *ids, const char *text, size_t len)
{
	size_t bound = 0;
	const char *end = text + len;
	for(const char *line = text; line < end; ){
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		if(nl == NULL) break;   /* a cut-off last line is not trusted */
		const char *tab = memchr(line, '\t', (size_t)(nl - line));
		if(tab && tab > line && nl > tab + 1){
			char *id = strndup(line, (size_t)(tab - line));
			char *user = strndup(tab + 1, (size_t)(nl - tab - 1));
			if(id && user && rcpt_identity__find(ids, id) == NULL
					&& rcpt_identity__bind(ids, id, user, true) == RCPT_OK){
				bound++;
			}
			free(id);
			free(user);
		}
		line = nl + 1;
	}
	ids->dirty = false;
	return bound;
}

int rcpt_identity__save(struct rcpt_identity *ids, const char *path, const char **step)
{
	size_t len;
	char *text = rcpt_identity__save_text(ids, &len);
	char *tmp = rcpt_files__path_with(path, ".tmp");
	int rc = ENOMEM;
	*step = "build";
	bool renamed = false;
	if(text && tmp) rc = rcpt_files__write_atomically(tmp, path, (const unsigned char *)text, len, step, &renamed);
	if(rc == 0) ids->dirty = false;
	free(text);
	free(tmp);
	return rc;
}

int rcpt_identity__load(struct rcpt_identity *ids, const char *path, size_t *loaded)
{
	unsigned char *data;
	size_t len;
	*loaded = 0;
	int rc = rcpt_files__read(path, &data, &len);
	if(rc == ENOENT) return 0;
	if(rc) return rc;
	*loaded = rcpt_identity__load_text(ids, (const char *)data, len);
	free(data);
	return 0;
}
