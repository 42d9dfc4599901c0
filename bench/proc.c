/*
 * /proc readings. CPU comes from /proc/<pid>/stat fields 14 and 15 (utime,
 * stime, in clock ticks), read before and after a measured phase; memory from
 * the VmRSS line of /proc/<pid>/status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
