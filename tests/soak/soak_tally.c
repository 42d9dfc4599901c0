/*
 * The soak's verdict: the invariants checked over every request record and
 * against the plugin's getStats, then the report. The last line is in
 * Check's summary format so that scripts/count-checks.sh counts it.
 *
 * Timing is never the basis of an expectation where the clients can observe
 * the cause instead: an `ok` receipt is tied to an answer whose PUBACK said
 * accepted, a `no-responders` to the request's PUBACK 0x10, a
 * `responder-gone` to a connection the soak cut. The one timing check is the
 * deadline itself, with a generous slack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "soak.h"

#define SOAK_MAX_CHECKS 32
/* Slack for "the cut came before the deadline": the broker notices a closed
 * socket a little after the soak closed it. */
#define SOAK_CUT_SLACK_MS 100
#define SOAK_LATENESS_BUCKETS 4096

struct check {
	const char *name;
	uint64_t violations;
	char detail[160];
};

struct verdict {
	struct check checks[SOAK_MAX_CHECKS];
	int n;
};

static void check(struct verdict *v, const char *name, uint64_t violations, const char *fmt, ...)
{
	if(v->n == SOAK_MAX_CHECKS) return;
	struct check *c = &v->checks[v->n++];
	c->name = name;
	c->violations = violations;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* Did responder r's connection `epoch` end, and when? */
static bool cut_time(const struct soak *s, int r, uint16_t epoch, uint32_t *when)
{
	const struct soak_client *c = &s->clients[SOAK_REQUESTERS + r];
	if(epoch == 0 || epoch > c->n_cut) return false;
	*when = c->cut_ms[epoch - 1];
	return true;
}

/* The cut nearest to time t, as a signed distance in ms (INT32_MAX: none). */
static int32_t nearest_cut(const struct soak *s, uint32_t t)
{
	int32_t best = INT32_MAX;
	for(int r = 0; r < SOAK_RESPONDERS; r++){
		const struct soak_client *c = &s->clients[SOAK_REQUESTERS + r];
		for(size_t i = 0; i < c->n_cut; i++){
			int32_t d = (int32_t)(c->cut_ms[i] - t);
			if((d < 0 ? -d : d) < (best < 0 ? -best : best)) best = d;
		}
	}
	return best;
}

static bool any_cut_between(const struct soak *s, uint32_t from, uint32_t to)
{
	for(int r = 0; r < SOAK_RESPONDERS; r++){
		const struct soak_client *c = &s->clients[SOAK_REQUESTERS + r];
		for(size_t i = 0; i < c->n_cut; i++){
			if(c->cut_ms[i] >= from && c->cut_ms[i] <= to) return true;
		}
	}
	return false;
}

/* Behaviours under which no right answer was sent before the deadline. */
static bool no_answer_in_time(uint8_t b)
{
	return b == SOAK_B_NEVER || b == SOAK_B_LATE || b == SOAK_B_WRONG || b == SOAK_B_DISCONNECT
		|| b == SOAK_B_NONE;
}

struct per_request {
	uint64_t not_one, ok_unexplained, ok_missing, dup_accepted, timeout_unexplained, timeout_early,
		timeout_late, status_unexplained, nr_mismatch, nr_at_cut, held_not_gone, unseen, stale;
	uint32_t lateness[SOAK_LATENESS_BUCKETS];
	uint32_t max_late;
};

/* Is this (final) status what the clients' own observations explain? */
static bool status_explained(const struct soak *s, const struct soak_request *r)
{
	uint32_t cut;
	switch(r->status){
		case SOAK_S_OK:
		case SOAK_S_TIMEOUT:
			return true;   /* judged by their own checks */
		case SOAK_S_NO_RESPONDERS:
			return r->responder < 0;
		case SOAK_S_RESPONDER_GONE:
			/* Queued to a member whose socket the soak had just closed
			 * but the broker had not yet read: the cut may come a
			 * moment before the request, as the clients see it. */
			if(r->responder < 0){
				uint32_t from = r->sent_ms > SOAK_CUT_SLACK_MS ? r->sent_ms - SOAK_CUT_SLACK_MS : 0;
				return any_cut_between(s, from, r->receipt_ms);
			}
			return cut_time(s, r->responder, r->responder_epoch, &cut) && cut <= r->receipt_ms;
		default:
			return false;
	}
}

/* The first few requests that break an invariant, in full: enough to find
 * them in the broker log (correlation = the id, 8 bytes big-endian). */
static void show(const struct soak *s, const struct soak_request *r, const char *why)
{
	static int shown;
	if(shown++ >= 10) return;
	uint32_t cut = 0;
	bool was_cut = r->responder >= 0 && cut_time(s, r->responder, r->responder_epoch, &cut);
	fprintf(stderr, "soak: request %lld (%s): requester %s#%u sent at %u ms, timeout %u ms, PUBACK 0x%02x; "
			"responder %d#%u saw it at %u ms (cut %s at %u ms), behaviour %u; answers ok %u refused %u unknown %u; "
			"receipts %u, first '%s' at %u ms%s; nearest cut %+d ms from its sending\n",
			(long long)(r - s->reqs), why, s->clients[r->requester].id, r->requester_epoch, r->sent_ms,
			r->timeout_ms, r->pub_rc, r->responder, r->responder_epoch, r->seen_ms, was_cut ? "yes" : "no", cut,
			r->behaviour, r->right_ok, r->right_refused, r->unknown, r->receipts, soak_status_name(r->status),
			r->receipt_ms, (r->flags & SOAK_F_DROPPED) ? ", dropped" : "", nearest_cut(s, r->sent_ms));
}

static void judge_request(const struct soak *s, const struct soak_request *r, struct per_request *p)
{
	struct per_request before = *p;
	if(r->right_ok > 1) p->dup_accepted++;
	if(r->flags & SOAK_F_DROPPED) return;   /* nobody left to read its receipt */
	if(r->receipts != 1){
		p->not_one++;
		return;
	}
	if(r->responder < 0) p->unseen++;
	bool answered = r->right_ok == 1 || (r->right_ok == 0 && r->unknown > 0);
	if(r->status == SOAK_S_OK && !answered) p->ok_unexplained++;
	if(r->right_ok >= 1 && r->status != SOAK_S_OK) p->ok_missing++;
	if(r->status == SOAK_S_TIMEOUT){
		if(r->right_ok) p->timeout_unexplained++;
		/* An answer refused though sent at once: the request sat in a
		 * queue past its deadline. Consistent, and worth reporting. */
		if(r->right_refused && !no_answer_in_time(r->behaviour)) p->stale++;
		uint32_t took = r->receipt_ms - r->sent_ms;
		/* Both clocks are whole ms: allow 2 ms of rounding. */
		if(took + 2 < r->timeout_ms) p->timeout_early++;
		uint32_t late = took > r->timeout_ms ? took - r->timeout_ms : 0;
		if(late > SOAK_TIMEOUT_SLACK_MS) p->timeout_late++;
		if(late > p->max_late) p->max_late = late;
		p->lateness[late < SOAK_LATENESS_BUCKETS ? late : SOAK_LATENESS_BUCKETS - 1]++;
	}
	if(!status_explained(s, r)) p->status_unexplained++;
	if(r->pub_rc != 0xff && (r->status == SOAK_S_NO_RESPONDERS) != (r->pub_rc == 0x10)){
		/* Mosquitto 2.0 keeps a departed clean session's subscriptions
		 * until the end of its loop iteration: a request the shared
		 * subscription hands to that member in the meantime goes nowhere
		 * (its READ check is denied before any plugin sees it), though
		 * the PUBACK says 0x00. The plugin rightly says no-responders. */
		int32_t d = nearest_cut(s, r->sent_ms);
		if(r->status == SOAK_S_NO_RESPONDERS && r->pub_rc == 0 && d != INT32_MAX
				&& (d < 0 ? -d : d) <= SOAK_CUT_SLACK_MS){
			p->nr_at_cut++;
		}else{
			p->nr_mismatch++;
		}
	}
	uint32_t cut;
	if(r->responder >= 0 && no_answer_in_time(r->behaviour)
			&& cut_time(s, r->responder, r->responder_epoch, &cut)
			&& cut + SOAK_CUT_SLACK_MS < r->sent_ms + r->timeout_ms
			&& r->status != SOAK_S_RESPONDER_GONE){
		p->held_not_gone++;
	}
	if(p->not_one != before.not_one) show(s, r, "not exactly one receipt");
	if(p->ok_unexplained != before.ok_unexplained || p->ok_missing != before.ok_missing) show(s, r, "ok vs answers");
	if(p->timeout_unexplained != before.timeout_unexplained || p->timeout_early != before.timeout_early
			|| p->timeout_late != before.timeout_late) show(s, r, "timeout");
	if(p->status_unexplained != before.status_unexplained) show(s, r, "status unexplained");
	if(p->nr_mismatch != before.nr_mismatch) show(s, r, "no-responders vs PUBACK 0x10");
	if(p->held_not_gone != before.held_not_gone) show(s, r, "held by a cut responder");
}

static uint32_t percentile(const uint32_t *hist, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(q * (double)total), seen = 0;
	for(uint32_t i = 0; i < SOAK_LATENESS_BUCKETS; i++){
		seen += hist[i];
		if(seen > want) return i;
	}
	return SOAK_LATENESS_BUCKETS - 1;
}

static double delta(const struct soak_report *r, int status)
{
	return r->after.totals[status] - r->before.totals[status];
}

/* The plugin's totals against the clients' tally. Every request ends in
 * exactly one outcome in the plugin; the clients see each receipt except
 * those lost when a requester left with requests open (`dropped`). */
static void check_plugin(struct verdict *v, const struct soak *s, const struct soak_report *r)
{
	const struct soak_counts *k = &s->counts;
	bool valid = r->before.valid && r->after.valid;
	check(v, "control API answered getStats before and after", !valid, "%s", valid ? "yes" : "no reply");
	if(!valid) return;
	double lost = 0, all = 0, negative = 0;
	for(int st = SOAK_S_OK; st < SOAK_S_COUNT; st++){
		double d = delta(r, st) - (double)k->receipts[st];
		if(d < 0) negative -= d;
		lost += d;
		all += delta(r, st);
	}
	double abandoned = r->after.abandoned - r->before.abandoned;
	double unmatched = r->after.unmatched - r->before.unmatched;
	double ok = delta(r, SOAK_S_OK);
	check(v, "plugin: nothing pending at the end", (uint64_t)r->after.pending, "pending %.0f", r->after.pending);
	double refused = delta(r, SOAK_S_REJECTED) + delta(r, SOAK_S_CANCELLED)
		+ r->after.rejected_by_reason - r->before.rejected_by_reason;
	check(v, "plugin: no request rejected or cancelled", (uint64_t)refused, "rejected+cancelled %.0f", refused);
	uint64_t off = (uint64_t)negative + (uint64_t)((lost + abandoned > (double)k->dropped)
			? lost + abandoned - (double)k->dropped : (double)k->dropped - lost - abandoned);
	check(v, "plugin: totals = receipts seen + receipts lost with leaving requesters + abandoned", off,
			"lost %.0f + abandoned %.0f vs dropped %llu; %.0f receipts counted below the clients' tally",
			lost, abandoned, (unsigned long long)k->dropped, negative);
	double accounted = all + abandoned;
	check(v, "plugin: every request sent ended in exactly one outcome",
			accounted == (double)s->issued ? 0 : 1, "outcomes %.0f, requests %llu", accounted,
			(unsigned long long)s->issued);
	double ok_gap = ok - (double)k->answers_ok, un_gap = unmatched - (double)k->answers_refused;
	double unknown = (double)k->answers_unknown;
	bool answers_agree = ok_gap >= 0 && un_gap >= 0 && ok_gap + un_gap <= unknown;
	if(s->opts.broker_log){
		/* README: one log line per refusal, so one per unmatched receipt. */
		double logged = (double)r->log.refused_receipts;
		check(v, "plugin: one log line per refused receipt", logged == unmatched ? 0 : 1,
				"%.0f lines, unmatched %.0f", logged, unmatched);
	}
	check(v, "plugin: ok/unmatched = answers accepted/refused (+ answers lost with cut responders)",
			!answers_agree, "ok %.0f vs accepted %llu, unmatched %.0f vs refused %llu, unknown %llu",
			ok, (unsigned long long)k->answers_ok, unmatched, (unsigned long long)k->answers_refused,
			(unsigned long long)k->answers_unknown);
}

static void print_report(const struct soak *s, const struct soak_report *r, const struct per_request *p)
{
	const struct soak_counts *k = &s->counts;
	uint64_t timeouts = k->receipts[SOAK_S_TIMEOUT] - p->timeout_early;
	printf("soak: seed %llu, %llu requests of %llu sent in %.1f s (%.0f/s); %d requesters x %d in flight, "
			"%d responders on %s\n", (unsigned long long)s->opts.seed, (unsigned long long)s->issued,
			(unsigned long long)s->opts.requests, r->seconds, r->seconds > 0 ? (double)s->issued / r->seconds : 0,
			SOAK_REQUESTERS, SOAK_IN_FLIGHT, SOAK_RESPONDERS, SOAK_SHARED_FILTER);
	printf("responders did: answer %llu, late %llu, never %llu, twice %llu, wrong %llu, wrong+right %llu, "
			"disconnect %llu; %llu requests reached no responder\n",
			(unsigned long long)k->behaviours[SOAK_B_ANSWER], (unsigned long long)k->behaviours[SOAK_B_LATE],
			(unsigned long long)k->behaviours[SOAK_B_NEVER], (unsigned long long)k->behaviours[SOAK_B_TWICE],
			(unsigned long long)k->behaviours[SOAK_B_WRONG], (unsigned long long)k->behaviours[SOAK_B_WRONG_RIGHT],
			(unsigned long long)k->behaviours[SOAK_B_DISCONNECT], (unsigned long long)p->unseen);
	printf("receipts seen:");
	for(int st = SOAK_S_OK; st < SOAK_S_COUNT; st++){
		printf(" %s %llu%s", soak_status_name(st), (unsigned long long)k->receipts[st],
				st + 1 < SOAK_S_COUNT ? "," : "");
	}
	printf("; requests open when their requester left: %llu (%llu leaves; %llu of their receipts reached "
			"the next session of the same id); responder cuts %llu\n",
			(unsigned long long)k->dropped, (unsigned long long)k->requester_leaves,
			(unsigned long long)k->inherited, (unsigned long long)k->responder_cuts);
	if(r->after.valid && r->before.valid){
		printf("plugin totals:");
		for(int st = SOAK_S_OK; st < SOAK_S_COUNT; st++) printf(" %s %.0f,", soak_status_name(st), delta(r, st));
		printf(" unmatched %.0f, abandoned %.0f; pending %.0f (high water %.0f); receiptMs p50 %.0f p99 %.0f\n",
				r->after.unmatched - r->before.unmatched, r->after.abandoned - r->before.abandoned,
				r->after.pending, r->after.high_water, r->after.receipt_p50, r->after.receipt_p99);
	}
	printf("answers: accepted %llu, refused %llu, PUBACK lost with a cut %llu; late answers not sent (cut) %llu; "
			"answers refused as stale (request queued past its deadline) %llu\n",
			(unsigned long long)k->answers_ok, (unsigned long long)k->answers_refused,
			(unsigned long long)k->answers_unknown, (unsigned long long)k->late_unsent,
			(unsigned long long)p->stale);
	printf("timeout receipts after their deadline: p50 %u ms, p99 %u ms, max %u ms\n",
			percentile(p->lateness, timeouts, 0.5), percentile(p->lateness, timeouts, 0.99), p->max_late);
	printf("broker RSS: %lld kB before, %lld kB after (%+lld kB)\n", r->rss_before_kb, r->rss_after_kb,
			r->rss_after_kb - r->rss_before_kb);
	printf("errors: unexpected disconnects %llu, connect failures %llu, control errors %llu, broker log problems %ld\n",
			(unsigned long long)k->unexpected_disconnects, (unsigned long long)k->connect_failures,
			(unsigned long long)k->control_errors, r->log.problems);
}

int soak_check_and_report(struct soak *s, const struct soak_report *r)
{
	static struct per_request p;
	struct verdict v = {.n = 0};
	const struct soak_counts *k = &s->counts;
	memset(&p, 0, sizeof(p));
	for(uint64_t i = 0; i < s->issued; i++) judge_request(s, &s->reqs[i], &p);

	check(&v, "every request sent within the time cap", s->opts.requests - s->issued,
			"%llu of %llu%s", (unsigned long long)s->issued, (unsigned long long)s->opts.requests,
			r->capped ? " (cap hit)" : "");
	check(&v, "every request accepted (PUBACK 0x00 or 0x10)", k->request_pubacks[2],
			"0x00 %llu, 0x10 %llu, other %llu", (unsigned long long)k->request_pubacks[0],
			(unsigned long long)k->request_pubacks[1], (unsigned long long)k->request_pubacks[2]);
	check(&v, "exactly one receipt per request of a connected requester", p.not_one + k->extra_receipts,
			"%llu without exactly one, %llu extra receipts", (unsigned long long)p.not_one,
			(unsigned long long)k->extra_receipts);
	check(&v, "receipts reach only the session that sent the request", k->misrouted, "%llu misrouted",
			(unsigned long long)k->misrouted);
	check(&v, "the eavesdropper receives nothing", k->eavesdropped, "%llu messages, %llu under ret/",
			(unsigned long long)k->eavesdropped, (unsigned long long)k->eavesdropped_ret);
	check(&v, "subscriptions granted or refused as README says", k->bad_suback, "%llu wrong SUBACK codes",
			(unsigned long long)k->bad_suback);
	check(&v, "each request delivered to one responder, with requester and response topic",
			k->bad_delivery + k->multi_delivery, "%llu malformed, %llu delivered twice",
			(unsigned long long)k->bad_delivery, (unsigned long long)k->multi_delivery);
	check(&v, "receipts carry the right receipt, receipt-reason and payload", k->bad_shape, "%llu malformed",
			(unsigned long long)k->bad_shape);
	check(&v, "an ok receipt exactly when an answer was accepted", p.ok_unexplained + p.ok_missing,
			"%llu ok without an accepted answer, %llu accepted answers without ok",
			(unsigned long long)p.ok_unexplained, (unsigned long long)p.ok_missing);
	check(&v, "late, duplicate and wrong-correlation answers refused with 0x87",
			k->late_accepted + k->wrong_accepted + p.dup_accepted, "accepted: late %llu, wrong %llu, second %llu",
			(unsigned long long)k->late_accepted, (unsigned long long)k->wrong_accepted,
			(unsigned long long)p.dup_accepted);
	check(&v, "timeout receipts only for unanswered requests, not before the deadline",
			p.timeout_unexplained + p.timeout_early, "%llu with an accepted answer, %llu early",
			(unsigned long long)p.timeout_unexplained, (unsigned long long)p.timeout_early);
	check(&v, "timeout receipts within the slack after the deadline", p.timeout_late,
			"%llu later than %d ms, max %u ms", (unsigned long long)p.timeout_late, SOAK_TIMEOUT_SLACK_MS, p.max_late);
	check(&v, "no-responders and responder-gone only where the clients saw the cause", p.status_unexplained,
			"%llu unexplained", (unsigned long long)p.status_unexplained);
	check(&v, "no-responders exactly for PUBACK 0x10 (or a request sent to a departing member)", p.nr_mismatch,
			"%llu mismatches; %llu sent to a member that had just been cut", (unsigned long long)p.nr_mismatch,
			(unsigned long long)p.nr_at_cut);
	check(&v, "requests held by a responder cut before their deadline end responder-gone", p.held_not_gone,
			"%llu did not", (unsigned long long)p.held_not_gone);
	check(&v, "no client lost its connection unexpectedly", k->unexpected_disconnects + k->connect_failures
			+ k->control_errors, "disconnects %llu, connect failures %llu, control errors %llu",
			(unsigned long long)k->unexpected_disconnects, (unsigned long long)k->connect_failures,
			(unsigned long long)k->control_errors);
	if(s->opts.broker_log){
		/* At most one misnamed disconnect per connection the soak ended. */
		long ended = (long)(k->responder_cuts + k->requester_leaves);
		long extra = r->log.puback_failures > ended ? r->log.puback_failures - ended : 0;
		check(&v, "broker log: no errors or warnings", r->log.read ? (uint64_t)(r->log.problems + extra) : 1,
				"%s; %ld failed PUBACK writes for %ld ended connections",
				!r->log.read ? "log unreadable" : r->log.problems ? r->log.first_problem : "none",
				r->log.puback_failures, ended);
	}
	check_plugin(&v, s, r);

	print_report(s, r, &p);
	int failures = 0;
	for(int i = 0; i < v.n; i++){
		const struct check *c = &v.checks[i];
		if(c->violations) failures++;
		printf("%s: %s (%s)\n", c->violations ? "FAIL" : "ok  ", c->name, c->detail);
	}
	printf("%d%%: Checks: %d, Failures: %d, Errors: 0\n", v.n ? (v.n - failures) * 100 / v.n : 0, v.n, failures);
	return failures ? 1 : 0;
}
