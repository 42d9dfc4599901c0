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
/* A comma-separated option value ("admin, ops") as a NULL-terminated array
 * of trimmed copies, empty items skipped; no item at all gives NULL. valid
 * (NULL: anything) vets each item: RCPT_ERR_INVAL on the first it refuses.
 * Free with rcpt_names__free_list. */
int rcpt_names__split_list(const char *value, bool (*valid)(const char *s, size_t len), char ***out);
void rcpt_names__free_list(char **list);

#endif
