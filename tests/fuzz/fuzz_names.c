/*
 * Fuzz target: the topic rules (area names, UTF-8, prefixes, filter
 * matching). The input is split into a filter and a topic.
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "receipts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = memchr(data, 0, size);
	size_t first = split ? (size_t)(split - data) : size;
	char *filter = strndup((const char *)data, first);
	char *topic = split ? strndup((const char *)split + 1, size - first - 1) : strdup("");
	if(filter && topic){
		rcpt_names__valid_level(filter, strlen(filter));
		rcpt_names__valid_utf8((const char *)data, size);
		rcpt_names__filter_matches(filter, topic);
		rcpt_names__below(topic, "req", 3);
		if(*topic) rcpt_names__level_len(topic);
	}
	free(filter);
	free(topic);
	return 0;
}
