/*
 * /proc readings. CPU comes from /proc/<pid>/stat fields 14 and 15 (utime,
 * stime, in clock ticks), read before and after a measured phase; memory from
 * the VmRSS line of /proc/<pid>/status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "proc.h"

double proc_cpu_s(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if(f == NULL) return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces: count fields after its ')'. */
	char *p = strrchr(buf, ')');
	if(p == NULL) return -1;
	unsigned long long utime = 0, stime = 0;
	int field = 2;
	for(char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")){
		field++;
		if(field == 14) utime = strtoull(tok, NULL, 10);
		if(field == 15){
			stime = strtoull(tok, NULL, 10);
			break;
		}
	}
	if(field != 15) return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long long proc_rss_bytes(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if(f == NULL) return -1;
	long long kb = -1;
	while(fgets(line, sizeof(line), f)){
		if(!strncmp(line, "VmRSS:", 6)){
			kb = strtoll(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

double proc_run_ms(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	FILE *f = fopen(path, "r");
	if(f == NULL){
		/* A kernel without schedstat: the coarser ticks still count. */
		double s = proc_cpu_s(pid);
		return s < 0 ? -1 : s * 1e3;
	}
	unsigned long long ns = 0;
	int n = fscanf(f, "%llu", &ns);
	fclose(f);
	return n == 1 ? (double)ns / 1e6 : -1;
}

#define IDLE_SAMPLE_MS 20
#define IDLE_WINDOW 64

double proc_wait_idle(int pid, int quiet_ms, int max_ms)
{
	/* A ring of the last readings, one every IDLE_SAMPLE_MS. */
	double ring[IDLE_WINDOW];
	int need = quiet_ms / IDLE_SAMPLE_MS, n = 0;
	if(need < 1) need = 1;
	if(need >= IDLE_WINDOW) need = IDLE_WINDOW - 1;
	uint64_t end = now_ns() + (uint64_t)max_ms * 1000000u;
	for(;;){
		double t = proc_run_ms(pid);
		if(t < 0) return -1;
		ring[n % IDLE_WINDOW] = t;
		n++;
		if(n > need && t - ring[(n - 1 - need) % IDLE_WINDOW] < 0.02 * need * IDLE_SAMPLE_MS) return t;
		if(now_ns() > end || bench_stop) return -1;
		sleep_ms(IDLE_SAMPLE_MS);
	}
}
