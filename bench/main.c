/*
 * rcpt-bench: the benchmark's one executable.
 *
 *   rcpt-bench rr|nats-rr|pass|scale|persist [options]   run one measurement, print one BENCH line
 *   rcpt-bench hostile-collide|hostile-fanout|hostile-cancel [options]   the same, under abuse
 *   rcpt-bench report FILE...                             the table, from BENCH lines
 *   rcpt-bench freeport                                   a free 127.0.0.1 TCP port
 *   rcpt-bench waitport PORT [MS]                         wait until PORT accepts
 *
 * bench/run.sh drives it; run it by hand to look at one cell.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

volatile int bench_stop = 0;

static void on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

void bench_opts_default(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = 1883;
	o->mode = "plain";
	o->run = 1;
	o->requesters = 1;
	o->responders = 1;
	o->inflight = 1;
	o->duration_s = 3;
	o->warmup_s = 0.5;
	o->count = 200000;
	o->connections = 4;
	o->deadline_s = 30;
	o->probe_s = 5;
	o->payload = 16;
	o->corr = "random";
	o->scenario = "rr";
}

static int freeport(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if(s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || getsockname(s, (struct sockaddr *)&a, &len)){
		perror("rcpt-bench: freeport");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	close(s);
	return 0;
}

static int waitport(int port, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000u;
	while(now_ns() < deadline){
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
		if(s >= 0) close(s);
		if(ok) return 0;
		sleep_ms(20);
	}
	fprintf(stderr, "rcpt-bench: nothing accepts on 127.0.0.1:%d after %d ms\n", port, ms);
	return 1;
}

static void usage(void)
{
	fprintf(stderr,
			"usage: rcpt-bench rr|nats-rr|pass|scale|persist|hostile-collide|hostile-fanout|hostile-cancel\n"
			"         [--port P] [--broker-pid PID] [--mode M]\n"
			"         [--run N] [--qos Q] [--requesters N] [--responders N] [--inflight N]\n"
			"         [--duration S] [--warmup S] [--count N] [--connections N] [--deadline S]\n"
			"         [--probe S] [--payload BYTES] [--corr random|crafted] [--user NAME]\n"
			"         [--responder-port P]   (rr: responders on another broker: the bridge scenario)\n"
			"       rcpt-bench report FILE...\n"
			"       rcpt-bench freeport | waitport PORT [MS]\n");
}

int main(int argc, char **argv)
{
	if(argc < 2){
		usage();
		return 2;
	}
	const char *cmd = argv[1];
	if(!strcmp(cmd, "freeport")) return freeport();
	if(!strcmp(cmd, "waitport")) return argc > 2 ? waitport(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 5000) : 2;
	if(!strcmp(cmd, "report")) return report_main(argc - 2, argv + 2);

	struct bench_opts o;
	bench_opts_default(&o);
	static const struct option longopts[] = {
		{"host", required_argument, NULL, 'h'}, {"port", required_argument, NULL, 'p'},
		{"broker-pid", required_argument, NULL, 'B'}, {"mode", required_argument, NULL, 'm'},
		{"run", required_argument, NULL, 'r'}, {"qos", required_argument, NULL, 'q'},
		{"requesters", required_argument, NULL, 'R'}, {"responders", required_argument, NULL, 'S'},
		{"inflight", required_argument, NULL, 'i'}, {"duration", required_argument, NULL, 'd'},
		{"warmup", required_argument, NULL, 'w'}, {"count", required_argument, NULL, 'n'},
		{"connections", required_argument, NULL, 'c'}, {"deadline", required_argument, NULL, 'D'},
		{"probe", required_argument, NULL, 'P'}, {"payload", required_argument, NULL, 'l'},
		{"corr", required_argument, NULL, 'C'}, {"user", required_argument, NULL, 'u'},
		{"responder-port", required_argument, NULL, 'X'},
		{NULL, 0, NULL, 0}};
	int opt;
	optind = 2;
	while((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1){
		switch(opt){
			case 'h': o.host = optarg; break;
			case 'p': o.port = atoi(optarg); break;
			case 'X': o.responder_port = atoi(optarg); o.scenario = "bridge"; break;
			case 'B': o.broker_pid = atoi(optarg); break;
			case 'm': o.mode = optarg; break;
			case 'r': o.run = atoi(optarg); break;
			case 'q': o.qos = atoi(optarg); break;
			case 'R': o.requesters = atoi(optarg); break;
			case 'S': o.responders = atoi(optarg); break;
			case 'i': o.inflight = atoi(optarg); break;
			case 'd': o.duration_s = atof(optarg); break;
			case 'w': o.warmup_s = atof(optarg); break;
			case 'n': o.count = atol(optarg); break;
			case 'c': o.connections = atoi(optarg); break;
			case 'D': o.deadline_s = atof(optarg); break;
			case 'P': o.probe_s = atof(optarg); break;
			case 'l': o.payload = atoi(optarg); break;
			case 'C': o.corr = optarg; break;
			case 'u': o.user = optarg; break;
			default: usage(); return 2;
		}
	}
	if(o.requesters < 1 || o.responders < 1 || o.inflight < 1 || o.qos < 0 || o.qos > 1 || o.count < 1
			|| o.connections < 1 || o.payload < 8){
		fprintf(stderr, "rcpt-bench: option out of range\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if(!strcmp(cmd, "rr")) return rr_main(&o);
	if(!strcmp(cmd, "nats-rr")) return nats_rr_main(&o);
	if(!strcmp(cmd, "pass")) return passthrough_main(&o);
	if(!strcmp(cmd, "scale")) return scale_main(&o);
	if(!strcmp(cmd, "persist")) return persist_main(&o);
	if(!strcmp(cmd, "hostile-collide")) return hostile_collide_main(&o);
	if(!strcmp(cmd, "hostile-fanout")) return hostile_fanout_main(&o);
	if(!strcmp(cmd, "hostile-cancel")) return hostile_cancel_main(&o);
	usage();
	return 2;
}
