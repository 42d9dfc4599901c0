/*
 * Topic rules: what a subject area, a return area and a client id may be, and
 * where a topic stands relative to a prefix.
 */
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
