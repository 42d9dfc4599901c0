#include <stdlib.h>
#include <string.h>

#include "ledger.h"

uint64_t ledger_send(struct ledger *l, uint64_t t_ns)
{
	if(l->next == l->cap){
		size_t cap = l->cap ? l->cap * 2 : 65536;
		uint64_t *s = realloc(l->sent_ns, cap * sizeof(*s));
		if(s == NULL) return UINT64_MAX;
		l->sent_ns = s;
		uint8_t *a = realloc(l->answers, cap);
		if(a == NULL) return UINT64_MAX;
		memset(a + l->cap, 0, cap - l->cap);
		l->answers = a;
		l->cap = cap;
	}
	uint64_t seq = l->next++;
	l->sent_ns[seq] = t_ns;
	l->outstanding++;
	return seq;
}

uint64_t ledger_answer(struct ledger *l, uint64_t seq, uint64_t t_ns)
{
	if(seq >= l->next){
		l->unexpected++;
		return 0;
	}
	if(l->answers[seq] < 255) l->answers[seq]++;
	if(l->answers[seq] > 1){
		l->dups++;
		return 0;
	}
	l->outstanding--;
	uint64_t rtt = t_ns - l->sent_ns[seq];
	return rtt ? rtt : 1;
}

uint64_t ledger_missing(const struct ledger *l)
{
	uint64_t missing = 0;
	for(uint64_t i = 0; i < l->next; i++) if(l->answers[i] == 0) missing++;
	return missing;
}

void ledger_free(struct ledger *l)
{
	free(l->sent_ns);
	free(l->answers);
	memset(l, 0, sizeof(*l));
}
