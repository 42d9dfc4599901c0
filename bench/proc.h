/* Readings of another process from /proc: the broker under test. */
#ifndef RCPT_BENCH_PROC_H
#define RCPT_BENCH_PROC_H

/* utime + stime of pid in seconds; negative when unreadable. */
double proc_cpu_s(int pid);
/* Time pid's main thread has run, in ms with ns resolution, from
 * /proc/<pid>/schedstat; negative when unreadable. Mosquitto 2.0 runs on one
 * thread, and its bursts of a few ms are lost in /proc/<pid>/stat's 10 ms ticks
 * (the fallback on a kernel without schedstat). */
double proc_run_ms(int pid);
/* Waits until pid has run less than 2% of the last quiet_ms (sampled every
 * 20 ms), at most max_ms; returns proc_run_ms then (negative when unreadable
 * or never quiet). */
double proc_wait_idle(int pid, int quiet_ms, int max_ms);
/* VmRSS of pid in bytes; negative when unreadable. */
long long proc_rss_bytes(int pid);

#endif
