/*
 * Topic rules: what a subject area, a return area and a client id may be,
 * where a topic stands relative to a prefix, and MQTT filter matching.
 * Pure functions over strings.
 */
#ifndef RCPT_NAMES_H
#define RCPT_NAMES_H

#include "types.h"

bool rcpt_names__valid_level(const char *s, size_t len);
/* If topic is prefix itself or below it, returns the rest after "prefix/"
 * (or "" for the prefix itself); NULL otherwise. */
const char *rcpt_names__below(const char *topic, const char *prefix, size_t prefix_len);
/* Length of the first level of s. */
size_t rcpt_names__level_len(const char *s);
bool rcpt_names__has_wildcard(const char *s);
/* MQTT filter matching; wildcards at the start never match $ topics. */
bool rcpt_names__filter_matches(const char *filter, const char *topic);
bool rcpt_names__valid_utf8(const char *s, size_t len);

#endif
