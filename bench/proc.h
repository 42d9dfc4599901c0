/* Readings of another process from /proc: the broker under test. */
#ifndef RCPT_BENCH_PROC_H
#define RCPT_BENCH_PROC_H

/* utime + stime of pid in seconds; negative when unreadable. */
double proc_cpu_s(int pid);
/* VmRSS of pid in bytes; negative when unreadable. */
long long proc_rss_bytes(int pid);

#endif
