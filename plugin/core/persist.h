/*
 * Writing the state file, so that pending requests survive a restart.
 *
 * A snapshot of the whole table is built on the broker's thread (memory
 * only, no system calls) every save_interval while the table changed, a
 * slice of records per tick so that no loop iteration waits long, and then
 * checksummed, written, fsynced and renamed into place by a writer thread:
 * the broker loop never waits for the disk. The build walks the requests
 * oldest first up to the newest one when it began; one that ends after it
 * was added is recorded in the new snapshot's journal, one that ends before
 * is simply never added. Between snapshots, every request that ends after
 * being saved is appended to a journal with one write() before its receipt
 * can leave the broker, so a restart after a kill never revives an answered
 * request. New requests since the last snapshot are what a kill can lose.
 *
 * Reading the file back at start is restore.c's.
 */
#ifndef RCPT_PERSIST_H
#define RCPT_PERSIST_H

#include "host.h"
#include "pending.h"

struct rcpt_writer;

struct rcpt_persist {
	char *path;                  /* NULL: no state file */
	char *tmp_path;
	char *journal_path;
	char *journal_next_path;
	const struct rcpt_host *host;
	struct rcpt_pending_table *table;
	uint32_t save_interval_ms;
	uint64_t next_save_ms;
	uint64_t saved_changes;      /* the table's changes when the last save began */
	bool retry;                  /* the last save failed: save again even if unchanged */
	bool failing;                /* the last save failed: log only changes */
	uint64_t generation;         /* of the snapshot being written or last written */
	uint32_t disk_gen;           /* low bits of the generation on disk; 0: none */
	uint32_t writing_gen;        /* ... of the one being written; 0: none */
	int journal_fd;              /* journal of the snapshot on disk, or -1 */
	int journal_next_fd;         /* journal of the snapshot being written, or -1 */
	bool journal_at_next;        /* journal_fd's file could not take the name state_file.journal: it is
	                              * still state_file.journal.next, renamed before the next save */
	struct rcpt_writer *writer;  /* the snapshot being built or written, or NULL */
	uint32_t build_slice;        /* records a tick may add to it */
	bool journal_sync;           /* fdatasync each journal record */
};

/* Each ended request's journal record reaches the disk before its receipt
 * leaves (power-cut safety, at the cost of one fdatasync per end). */
static inline void rcpt_persist__set_journal_sync(struct rcpt_persist *ps, bool on)
{
	ps->journal_sync = on;
}

/* Which journal file restore.c found for the snapshot on disk. */
enum rcpt_journal_found {
	RCPT_JOURNAL_NONE,
	RCPT_JOURNAL_CURRENT,        /* state_file.journal */
	RCPT_JOURNAL_NEXT,           /* state_file.journal.next: the writer was cut off before renaming it */
};

/* state_file NULL: no state file, and every other call does nothing. Says
 * in the log at once if the broker's user cannot write there. */
void rcpt_persist__init(struct rcpt_persist *ps, const struct rcpt_host *host, struct rcpt_pending_table *table,
		const char *state_file, uint32_t save_interval_s);
/* After restore.c loaded the snapshot of this generation: keeps appending
 * to its journal (found: which one held it) or starts one. */
void rcpt_persist__adopt(struct rcpt_persist *ps, uint64_t generation, enum rcpt_journal_found found);
/* Low 32 bits of a generation, never 0: what a saved request records. */
uint32_t rcpt_persist__gen32(uint64_t generation);
/* A saved request ends: journal it (before its receipt can leave). */
void rcpt_persist__ended(struct rcpt_persist *ps, const struct rcpt_pending *p);
/* A request is going away: a snapshot being built must not visit it. */
void rcpt_persist__forget(struct rcpt_persist *ps, const struct rcpt_pending *p);
/* True while a snapshot is being built, a slice per tick. */
bool rcpt_persist__building(const struct rcpt_persist *ps);
void rcpt_persist__tick(struct rcpt_persist *ps, uint64_t now);
/* Saves synchronously (at shutdown). */
void rcpt_persist__save_now(struct rcpt_persist *ps);
void rcpt_persist__free(struct rcpt_persist *ps);

#endif
