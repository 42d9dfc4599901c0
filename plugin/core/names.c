/*
 * Topic rules: what a subject area, a return area and a client id may be, and
 * where a topic stands relative to a prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "receipts.h"

bool rcpt_names__valid_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while(i < len){
		unsigned char c = u[i];
		size_t n;
		uint32_t cp;
		if(c == 0) return false;
		if(c < 0x80){ i++; continue; }
		if(c >= 0xC2 && c <= 0xDF){ n = 1; cp = c & 0x1Fu; }
		else if(c >= 0xE0 && c <= 0xEF){ n = 2; cp = c & 0x0Fu; }
		else if(c >= 0xF0 && c <= 0xF4){ n = 3; cp = c & 0x07u; }
		else return false;
		if(len - i <= n) return false;
		for(size_t k = 1; k <= n; k++){
			if((u[i + k] & 0xC0) != 0x80) return false;
			cp = (cp << 6) | (u[i + k] & 0x3Fu);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF. */
		if((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
		if(cp >= 0xD800 && cp <= 0xDFFF) return false;
		i += n + 1;
	}
	return true;
}

bool rcpt_names__valid_level(const char *s, size_t len)
{
	if(len == 0 || len > RECEIPTS_MAX_AREA_LEN) return false;
	if(s[0] == '$') return false;
	for(size_t i = 0; i < len; i++){
		if(s[i] == '/' || s[i] == '+' || s[i] == '#' || s[i] == '\0') return false;
	}
	return rcpt_names__valid_utf8(s, len);
}

const char *rcpt_names__below(const char *topic, const char *prefix, size_t prefix_len)
{
	if(strncmp(topic, prefix, prefix_len) != 0) return NULL;
	if(topic[prefix_len] == '\0') return topic + prefix_len;
	if(topic[prefix_len] != '/') return NULL;
	return topic + prefix_len + 1;
}

size_t rcpt_names__level_len(const char *s)
{
	const char *slash = strchr(s, '/');
	return slash ? (size_t)(slash - s) : strlen(s);
}

bool rcpt_names__has_wildcard(const char *s)
{
	return strpbrk(s, "+#") != NULL;
}

bool rcpt_names__filter_matches(const char *filter, const char *topic)
{
	if(topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
	for(;;){
		size_t fl = rcpt_names__level_len(filter), tl = rcpt_names__level_len(topic);
		if(fl == 1 && filter[0] == '#') return true;
		if(!(fl == 1 && filter[0] == '+') && (fl != tl || memcmp(filter, topic, fl))) return false;
		bool filter_more = filter[fl] == '/', topic_more = topic[tl] == '/';
		if(!filter_more && !topic_more) return true;
		if(!topic_more){
			/* "a/#" also matches "a". */
			return filter_more && !strcmp(filter + fl + 1, "#");
		}
		if(!filter_more) return false;
		filter += fl + 1;
		topic += tl + 1;
	}
}

void rcpt_names__free_list(char **list)
{
	if(list == NULL) return;
	for(char **s = list; *s; s++) free(*s);
	free(list);
}

int rcpt_names__split_list(const char *value, bool (*valid)(const char *s, size_t len), char ***out)
{
	size_t n = 1;
	for(const char *c = value; *c; c++) if(*c == ',') n++;
	char **list = calloc(n + 1, sizeof(*list));
	if(list == NULL) return RCPT_ERR_NOMEM;
	size_t count = 0;
	const char *start = value;
	for(;;){
		const char *end = strchr(start, ',');
		if(end == NULL) end = start + strlen(start);
		const char *a = start, *b = end;
		while(a < b && (*a == ' ' || *a == '\t')) a++;
		while(b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
		if(b > a){
			if(valid && !valid(a, (size_t)(b - a))){
				rcpt_names__free_list(list);
				return RCPT_ERR_INVAL;
			}
			if((list[count++] = strndup(a, (size_t)(b - a))) == NULL){
				rcpt_names__free_list(list);
				return RCPT_ERR_NOMEM;
			}
		}
		if(*end == '\0') break;
		start = end + 1;
	}
	if(count == 0){
		free(list);
		list = NULL;
	}
	*out = list;
	return RCPT_OK;
}
