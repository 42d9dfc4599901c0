/*
 * What the soak learns from the broker's side: the plugin's getStats through
 * the control API, the broker's memory from /proc, and problems in its log.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "receipts.h"
#include "soak.h"

bool soak_control_request(struct soak *s)
{
	char cmd[128];
	s->control_seq++;
	snprintf(cmd, sizeof(cmd), "{\"commands\":[{\"command\":\"getStats\",\"correlationData\":\"%u\"}]}",
			s->control_seq);
	return soak_client_publish(s, SOAK_ADMIN, RECEIPTS_CONTROL_TOPIC, cmd, 1);
}

static double number(const cJSON *obj, const char *name, bool *ok)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, name);
	if(!cJSON_IsNumber(n)){
		*ok = false;
		return 0;
	}
	return n->valuedouble;
}

static bool parse_stats(const cJSON *data, struct soak_stats *st)
{
	bool ok = cJSON_IsObject(data);
	const cJSON *totals = cJSON_GetObjectItemCaseSensitive(data, "totals");
	const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(data, "rejectedByReason");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(data, "receiptMs");
	memset(st, 0, sizeof(*st));
	st->pending = number(data, "pending", &ok);
	st->high_water = number(data, "pendingHighWater", &ok);
	for(int i = SOAK_S_OK; i < SOAK_S_COUNT; i++) st->totals[i] = number(totals, soak_status_name(i), &ok);
	st->unmatched = number(totals, "unmatched", &ok);
	st->abandoned = number(totals, "abandoned", &ok);
	st->receipt_p50 = number(ms, "p50", &ok);
	st->receipt_p99 = number(ms, "p99", &ok);
	const cJSON *r;
	cJSON_ArrayForEach(r, reasons){
		if(cJSON_IsNumber(r)) st->rejected_by_reason += r->valuedouble;
		else ok = false;
	}
	ok = ok && cJSON_IsObject(reasons);
	st->valid = ok;
	return ok;
}

void soak_control_reply(struct soak *s, const void *payload, int len)
{
	cJSON *root = cJSON_ParseWithLength(payload, (size_t)len);
	const cJSON *responses = cJSON_GetObjectItemCaseSensitive(root, "responses");
	const cJSON *entry = cJSON_IsArray(responses) ? cJSON_GetArrayItem(responses, 0) : NULL;
	const cJSON *corr = cJSON_GetObjectItemCaseSensitive(entry, "correlationData");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(entry, "data");
	if(!cJSON_IsString(corr) || !parse_stats(data, &s->last_stats)){
		s->counts.control_errors++;
		fprintf(stderr, "soak: unexpected control reply: %.*s\n", len > 300 ? 300 : len, (const char *)payload);
	}else{
		s->control_answered = (unsigned)strtoul(corr->valuestring, NULL, 10);
	}
	cJSON_Delete(root);
}

bool soak_get_stats(struct soak *s, struct soak_stats *out, uint32_t timeout_ms)
{
	memset(out, 0, sizeof(*out));
	if(!soak_control_request(s)) return false;
	uint32_t deadline = soak_now_ms(s) + timeout_ms;
	while(s->control_answered != s->control_seq && soak_now_ms(s) < deadline) soak_clients_pump(s, 20);
	if(s->control_answered != s->control_seq) return false;
	*out = s->last_stats;
	return out->valid;
}

long long soak_rss_kb(int pid)
{
	char path[64], line[256];
	long long kb = -1;
	if(pid <= 0) return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if(f == NULL) return -1;
	while(kb < 0 && fgets(line, sizeof(line), f)){
		if(!strncmp(line, "VmRSS:", 6)) kb = strtoll(line + 6, NULL, 10);
	}
	fclose(f);
	return kb;
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for(; *hay; hay++){
		size_t i = 0;
		while(i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i]) i++;
		if(i == n) return true;
	}
	return false;
}

/* Reads the broker log: lines that say something went wrong, and the
 * plugin's one notice per refused receipt. run.sh keeps mosquitto root
 * (`user root`) so that it can load a plugin from a build tree: the
 * broker's warning about that is expected. */
bool soak_log_scan(const char *path, struct soak_log *out)
{
	char line[1024];
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(path, "r");
	if(f == NULL) return false;
	while(fgets(line, sizeof(line), f)){
		if(strstr(line, "receipts: refused receipt from ")) out->refused_receipts++;
		/* Mosquitto 2.0.11 names a failed PUBACK write "out of memory"
		 * (handle_publish.c: `if(send__puback(...)) rc = 1;`, and 1 is
		 * MOSQ_ERR_NOMEM): it happens when a client the soak cut had
		 * unanswered PUBLISHes on the way. Counted apart; the caller
		 * knows how many connections it cut. */
		if(strstr(line, "disconnected due to out of memory.")){
			out->puback_failures++;
			continue;
		}
		bool bad = contains_nocase(line, "error") || contains_nocase(line, "warning")
			|| contains_nocase(line, "out of memory");
		if(!bad || strstr(line, "should not be run as root")) continue;
		if(out->problems++ == 0){
			line[strcspn(line, "\n")] = '\0';
			snprintf(out->first_problem, sizeof(out->first_problem), "%.200s", line);
		}
	}
	fclose(f);
	out->read = true;
	return true;
}
