/*
 * soak: a bounded load run against a broker with the receipts plugin.
 *
 *   soak [--requests N] [--seconds S] [--seed X] --port P [--broker-pid PID]
 *        [--broker-log FILE] [--verbose]
 *
 * 8 requesters (16 requests in flight each) ask 4 responders on a shared
 * subscription; responders answer, answer late, never, twice, with a wrong
 * correlation, or cut their connection, drawn per request from a PRNG seeded
 * with --seed (printed, so a run can be replayed as far as timing allows).
 * Requesters sometimes leave and come back with a clean session. At the end
 * every request's fate is checked against what the clients saw and against
 * the plugin's getStats (control user `admin`). tests/soak/run.sh starts
 * the broker; the last line is a Check-style summary.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "soak.h"

/* Long enough for the last requests' deadlines and late answers, with room
 * for a loaded machine. */
#define SOAK_DRAIN_MS (SOAK_TIMEOUT_MAX_MS + SOAK_LATE_MARGIN_MS + 10000)
#define SOAK_CONNECT_MS 10000
#define SOAK_CONTROL_MS 5000
/* After everything settled: a window proving no extra receipt follows. */
#define SOAK_QUIET_MS 300

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t soak_now_ms(const struct soak *s)
{
	return (uint32_t)((mono_ns() - s->t0_ns) / 1000000u);
}

/* xorshift64*: small, fast, and the same sequence for the same seed. */
uint64_t soak_random(struct soak *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ull;
}

static void usage(void)
{
	fprintf(stderr, "usage: soak [--requests N] [--seconds S] [--seed X] --port P [--broker-pid PID]\n"
			"            [--broker-log FILE] [--verbose]\n");
}

static bool parse_args(int argc, char **argv, struct soak_opts *o)
{
	o->requests = 20000;
	o->seconds = 600;
	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for(int i = 1; i < argc; i++){
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if(!strcmp(a, "--verbose")){
			o->verbose = true;
			continue;
		}
		if(val == NULL) return false;
		i++;
		if(!strcmp(a, "--requests")) o->requests = strtoull(val, NULL, 10);
		else if(!strcmp(a, "--seconds")) o->seconds = (unsigned)strtoul(val, NULL, 10);
		else if(!strcmp(a, "--seed")) o->seed = strtoull(val, NULL, 0);
		else if(!strcmp(a, "--port")) o->port = atoi(val);
		else if(!strcmp(a, "--broker-pid")) o->broker_pid = atoi(val);
		else if(!strcmp(a, "--broker-log")) o->broker_log = val;
		else return false;
	}
	/* Request ids must fit the records' 32-bit fields and ms clocks. */
	return o->port > 0 && o->requests > 0 && o->requests < UINT32_MAX && o->seconds > 0;
}

static void pump_until(struct soak *s, uint32_t deadline_ms, bool (*done)(const struct soak *))
{
	while(!interrupted && soak_now_ms(s) < deadline_ms && !(done && done(s))){
		uint32_t left = deadline_ms - soak_now_ms(s);
		soak_clients_pump(s, left < 50 ? left : 50);
	}
}

static bool all_sent(const struct soak *s)
{
	return s->issued >= s->opts.requests;
}

/* A setup failure: no invariant could be checked. */
static int setup_error(struct soak *s, const char *what)
{
	fprintf(stderr, "soak: %s\n", what);
	soak_clients_stop(s);
	printf("0%%: Checks: 1, Failures: 0, Errors: 1\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct soak s;
	struct soak_report rep;
	memset(&rep, 0, sizeof(rep));
	if(!parse_args(argc, argv, &s.opts)){
		usage();
		return 2;
	}
	s.rng = s.opts.seed ? s.opts.seed : 1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("soak: seed %llu (replay with --seed %llu), %llu requests, cap %u s\n",
			(unsigned long long)s.opts.seed, (unsigned long long)s.opts.seed,
			(unsigned long long)s.opts.requests, s.opts.seconds);
	s.reqs = calloc(s.opts.requests, sizeof(*s.reqs));
	if(s.reqs == NULL) return 2;
	mosquitto_lib_init();
	s.t0_ns = mono_ns();

	if(!soak_clients_start(&s)) return setup_error(&s, "cannot connect to the broker");
	pump_until(&s, SOAK_CONNECT_MS, soak_clients_all_ready);
	if(!soak_clients_all_ready(&s)) return setup_error(&s, "clients not ready in time");
	if(!soak_get_stats(&s, &rep.before, SOAK_CONTROL_MS)) return setup_error(&s, "no getStats reply");
	rep.rss_before_kb = soak_rss_kb(s.opts.broker_pid);

	uint32_t start = soak_now_ms(&s);
	s.issuing = true;
	pump_until(&s, start + s.opts.seconds * 1000u, all_sent);
	s.issuing = false;
	rep.capped = !all_sent(&s);
	pump_until(&s, soak_now_ms(&s) + SOAK_DRAIN_MS, soak_clients_settled);
	rep.seconds = (double)(soak_now_ms(&s) - start) / 1000.0;

	/* The plugin may still be finishing what the clients saw end. */
	uint32_t deadline = soak_now_ms(&s) + SOAK_CONTROL_MS;
	while(soak_get_stats(&s, &rep.after, SOAK_CONTROL_MS) && rep.after.pending > 0 && soak_now_ms(&s) < deadline){
		soak_clients_pump(&s, 50);
	}
	pump_until(&s, soak_now_ms(&s) + SOAK_QUIET_MS, NULL);
	if(!soak_get_stats(&s, &rep.after, SOAK_CONTROL_MS)) rep.after.valid = false;
	rep.rss_after_kb = soak_rss_kb(s.opts.broker_pid);
	if(s.opts.broker_log){
		soak_log_scan(s.opts.broker_log, &rep.log);
	}

	int rc = soak_check_and_report(&s, &rep);
	soak_clients_stop(&s);
	mosquitto_lib_cleanup();
	free(s.reqs);
	return rc;
}
