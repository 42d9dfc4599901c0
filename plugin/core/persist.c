/*
 * Writing the state file (see the header).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "persist.h"
#include "state_format.h"

/* Records a tick may add to a snapshot being built, and for how long. */
#define BUILD_RECORDS_PER_TICK 20000
#define BUILD_BUDGET_MS 3
#define BUILD_CLOCK_EVERY 256

struct rcpt_writer {
	pthread_t thread;
	bool started;                 /* the snapshot is complete and the thread runs */
	struct rcpt_pending *cursor;  /* the next request to add, while building */
	struct rcpt_pending *last;    /* the newest request when the build began */
	struct rcpt_state_record *rec;
	struct rcpt_buf snapshot;
	const struct rcpt_persist *paths;
	atomic_bool done;
	int error;                /* errno of the first failure, 0: written */
	const char *failed_step;
	bool replaced;            /* the snapshot took the state file's name (even if a later step failed) */
	int journal_error;        /* then: errno of renaming its journal, 0: renamed */
	uint64_t records;
};

uint32_t rcpt_persist__gen32(uint64_t generation)
{
	uint32_t g = (uint32_t)generation;
	return g ? g : 1;
}

/* ---- the writer thread ---- */

static void *writer_main(void *arg)
{
	struct rcpt_writer *w = arg;
	const struct rcpt_persist *ps = w->paths;
	rcpt_state_format__finish(&w->snapshot, w->records);
	w->failed_step = "building the snapshot";
	w->error = w->snapshot.failed ? ENOMEM
		: rcpt_files__write_atomically(ps->tmp_path, ps->path, w->snapshot.data, w->snapshot.len, &w->failed_step,
				&w->replaced);
	/* The new journal belongs to the new snapshot: it takes the name only
	 * once the snapshot has. Once the snapshot has it, the new journal is
	 * the one that counts, whatever fails after. */
	if(w->replaced){
		w->journal_error = rcpt_files__rename(ps->journal_next_path, ps->journal_path, "rename of the journal");
		/* With journal_sync the rename must survive a power cut too. */
		if(w->journal_error == 0 && ps->journal_sync) w->journal_error = rcpt_files__sync_directory_of(ps->journal_path);
	}
	atomic_store(&w->done, true);
	return NULL;
}

static int open_journal(const char *path, uint64_t generation)
{
	int fd = rcpt_files__open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600, "creating the journal");
	if(fd < 0) return -1;
	struct rcpt_buf b = {0};
	rcpt_state_format__journal_header(&b, generation);
	if(b.failed || rcpt_files__write_all(fd, b.data, b.len)){
		close(fd);
		fd = -1;
	}
	rcpt_buf__free(&b);
	return fd;
}

/* ---- snapshots ---- */

static void add_record(struct rcpt_buf *b, struct rcpt_state_record *rec, const struct rcpt_pending *p,
		uint64_t now, uint64_t wall)
{
	rec->created_wall_ms = wall - rcpt_pending__age_ms(p, now);
	rec->deadline_wall_ms = p->deadline_ms > now ? wall + (p->deadline_ms - now) : wall;
	rec->qos = p->qos;
	rec->no_correlation = p->no_correlation;
	rec->token = p->token;
	rec->requester_persistent = rcpt_clients__is_persistent(p->requester);
	rec->open_return = p->open_return;
	rec->return_topic = (struct rcpt_state_str){p->key, p->topic_len};
	rec->correlation = (struct rcpt_state_str){rcpt_pending__correlation(p), p->correlation_len};
	rec->requester = (struct rcpt_state_str){p->requester->id, (uint16_t)strlen(p->requester->id)};
	rec->area = (struct rcpt_state_str){p->area->name, (uint16_t)strlen(p->area->name)};
	rec->delivery_count = 0;
	for(const struct rcpt_delivery *d = &p->first; d; d = d->next_of_pending){
		if(d->client == NULL || rec->delivery_count == RCPT_STATE_MAX_DELIVERIES) continue;
		rec->deliveries[rec->delivery_count++] = (struct rcpt_state_delivery){
			.client_id = {d->client->id, (uint16_t)strlen(d->client->id)},
			.persistent = rcpt_clients__is_persistent(d->client),
		};
	}
	rcpt_state_format__add(b, rec);
}

/* Starts a snapshot: header, and room for all of it up front (growing a
 * buffer of megabytes by doubling copies it again and again). */
static void begin_snapshot(struct rcpt_persist *ps, struct rcpt_buf *b, uint64_t generation)
{
	rcpt_buf__reserve(b, 64 + (size_t)ps->table->stats->pending * 112);
	rcpt_state_format__begin(b, generation, rcpt_host__wall(ps->host));
}

/* The whole table at once, for the save at shutdown. */
static void build_snapshot(struct rcpt_persist *ps, struct rcpt_buf *b, uint64_t generation, uint64_t *count)
{
	uint64_t now = rcpt_host__now(ps->host), wall = rcpt_host__wall(ps->host);
	struct rcpt_state_record *rec = malloc(sizeof(*rec));
	if(rec == NULL){
		b->failed = true;
		return;
	}
	begin_snapshot(ps, b, generation);
	*count = 0;
	for(struct rcpt_pending *p = ps->table->all.oldest; p; p = p->of_all.next){
		add_record(b, rec, p, now, wall);
		p->saved_gen = rcpt_persist__gen32(generation);
		(*count)++;
	}
	free(rec);
}

static void report_failure(struct rcpt_persist *ps, const char *step, int error)
{
	if(ps->failing) return;
	ps->failing = true;
	rcpt_host__logf(ps->host, RCPT_LOG_ERR, "state_file '%s': %s failed: %s; pending requests saved "
			"earlier are kept, newer ones would not survive a restart",
			ps->path, step, rcpt_files__error_text(error));
}

static void report_success(struct rcpt_persist *ps, uint64_t records)
{
	if(ps->failing){
		rcpt_host__logf(ps->host, RCPT_LOG_NOTICE, "state_file '%s': saving works again (%" PRIu64 " pending)",
				ps->path, records);
	}
	ps->failing = false;
}

static void free_writer(struct rcpt_writer *w)
{
	rcpt_buf__free(&w->snapshot);
	free(w->rec);
	free(w);
}

/* Drops a snapshot that will not be written, and its journal. */
static void abandon_writer(struct rcpt_persist *ps)
{
	if(ps->journal_next_fd >= 0) close(ps->journal_next_fd);
	unlink(ps->journal_next_path);
	ps->journal_next_fd = -1;
	ps->writing_gen = 0;
	free_writer(ps->writer);
	ps->writer = NULL;
}

static void finish_writer(struct rcpt_persist *ps)
{
	struct rcpt_writer *w = ps->writer;
	pthread_join(w->thread, NULL);
	if(w->replaced){
		/* The new snapshot is on disk: from now on its journal records
		 * every end, under whichever name it has, or answered requests
		 * would come back after a kill. */
		if(ps->journal_fd >= 0) close(ps->journal_fd);
		ps->journal_fd = ps->journal_next_fd;
		ps->journal_at_next = w->journal_error != 0;
		ps->disk_gen = ps->writing_gen;
		ps->journal_next_fd = -1;
		ps->writing_gen = 0;
		if(w->error || w->journal_error){
			/* Not durable yet (directory not synced, journal misnamed):
			 * say so and save again at the next interval. */
			report_failure(ps, w->error ? w->failed_step : "rename of the journal",
					w->error ? w->error : w->journal_error);
			ps->retry = true;
		}else{
			report_success(ps, w->records);
		}
		free_writer(w);
		ps->writer = NULL;
	}else{
		report_failure(ps, w->failed_step, w->error);
		/* Try again at the next interval, even if nothing changes. */
		ps->retry = true;
		abandon_writer(ps);
	}
}

static void start_writer_thread(struct rcpt_persist *ps)
{
	struct rcpt_writer *w = ps->writer;
	atomic_init(&w->done, false);
	if(pthread_create(&w->thread, NULL, writer_main, w)){
		report_failure(ps, "starting the writer thread", EAGAIN);
		ps->retry = true;
		abandon_writer(ps);
		return;
	}
	w->started = true;
}

/* Adds the next slice of records; hands the snapshot to the writer thread
 * once the newest request of the build's start is in. */
static void build_step(struct rcpt_persist *ps)
{
	struct rcpt_writer *w = ps->writer;
	uint64_t now = rcpt_host__now(ps->host), wall = rcpt_host__wall(ps->host);
	for(uint32_t i = 0; w->cursor && i < ps->build_slice; i++){
		if(i > 0 && i % BUILD_CLOCK_EVERY == 0 && rcpt_host__now(ps->host) - now >= BUILD_BUDGET_MS) return;
		struct rcpt_pending *p = w->cursor;
		add_record(&w->snapshot, w->rec, p, now, wall);
		p->saved_gen = ps->writing_gen;
		w->records++;
		w->cursor = p == w->last ? NULL : p->of_all.next;
	}
	if(w->cursor) return;
	if(w->snapshot.failed){
		report_failure(ps, "building the snapshot", ENOMEM);
		ps->retry = true;
		abandon_writer(ps);
		return;
	}
	start_writer_thread(ps);
}

bool rcpt_persist__building(const struct rcpt_persist *ps)
{
	return ps->writer && !ps->writer->started;
}

void rcpt_persist__forget(struct rcpt_persist *ps, const struct rcpt_pending *p)
{
	struct rcpt_writer *w = ps->writer;
	if(w == NULL || w->started) return;
	/* Everything before the cursor is in; what follows `last` never will. */
	if(p == w->cursor) w->cursor = p == w->last ? NULL : p->of_all.next;
	if(p == w->last) w->last = p->of_all.prev;
}

static uint64_t next_generation(const struct rcpt_persist *ps)
{
	uint64_t wall = rcpt_host__wall(ps->host);
	return wall > ps->generation ? wall : ps->generation + 1;
}

static void start_save(struct rcpt_persist *ps)
{
	/* The journal in use still has the name a new save would create. */
	if(ps->journal_at_next){
		int rc = rcpt_files__rename(ps->journal_next_path, ps->journal_path, "rename of the journal");
		if(rc){
			report_failure(ps, "rename of the journal", rc);
			ps->retry = true;
			return;
		}
		ps->journal_at_next = false;
	}
	uint64_t generation = next_generation(ps);
	struct rcpt_writer *w = calloc(1, sizeof(*w));
	if(w) w->rec = malloc(sizeof(*w->rec));
	if(w == NULL || w->rec == NULL){
		free(w);
		report_failure(ps, "building the snapshot", ENOMEM);
		return;
	}
	w->paths = ps;
	int jfd = open_journal(ps->journal_next_path, generation);
	if(jfd < 0){
		report_failure(ps, "creating the journal", errno ? errno : EIO);
		free_writer(w);
		return;
	}
	begin_snapshot(ps, &w->snapshot, generation);
	w->cursor = ps->table->all.oldest;
	w->last = ps->table->all.newest;
	ps->generation = generation;
	ps->writing_gen = rcpt_persist__gen32(generation);
	ps->journal_next_fd = jfd;
	ps->writer = w;
	ps->saved_changes = ps->table->changes;
	ps->retry = false;
	build_step(ps);
}

void rcpt_persist__tick(struct rcpt_persist *ps, uint64_t now)
{
	if(ps->path == NULL) return;
	if(ps->writer && !ps->writer->started){
		build_step(ps);
		return;
	}
	if(ps->writer && atomic_load(&ps->writer->done)) finish_writer(ps);
	bool changed = ps->retry || ps->table->changes != ps->saved_changes;
	if(ps->writer || !changed || now < ps->next_save_ms) return;
	ps->next_save_ms = now + ps->save_interval_ms;
	start_save(ps);
}

/* ---- the journal ---- */

static void append_journal(struct rcpt_persist *ps, int fd, const struct rcpt_pending *p)
{
	/* A record is a token and its checksum: no allocation on this path. */
	unsigned char stack[RCPT_TOKEN_LEN + 4];
	struct rcpt_buf b = {.data = stack, .capacity = sizeof(stack)};
	rcpt_state_format__journal_record(&b, p->token);
	int rc = b.failed ? ENOMEM : rcpt_files__write_all(fd, b.data, b.len);
	if(b.data != stack) free(b.data);
	if(rc){
		report_failure(ps, "writing the journal", rc);
		return;
	}
	if(ps->journal_sync && (rc = rcpt_files__sync(fd, "syncing the journal")) != 0){
		report_failure(ps, "syncing the journal", rc);
	}
}

void rcpt_persist__ended(struct rcpt_persist *ps, const struct rcpt_pending *p)
{
	if(p->saved_gen == 0) return;
	if(ps->journal_fd >= 0) append_journal(ps, ps->journal_fd, p);
	if(ps->journal_next_fd >= 0 && p->saved_gen == ps->writing_gen) append_journal(ps, ps->journal_next_fd, p);
}

void rcpt_persist__adopt(struct rcpt_persist *ps, uint64_t generation, enum rcpt_journal_found found)
{
	if(ps->path == NULL) return;
	ps->generation = generation;
	ps->disk_gen = rcpt_persist__gen32(generation);
	if(found == RCPT_JOURNAL_NEXT){
		int rc = rcpt_files__rename(ps->journal_next_path, ps->journal_path, "rename of the journal");
		if(rc){
			/* It still serves under its old name; the next save renames it. */
			rcpt_host__logf(ps->host, RCPT_LOG_ERR, "state_file '%s': rename of the journal '%s' failed: %s; "
					"journaling to it under that name", ps->path, ps->journal_next_path, rcpt_files__error_text(rc));
			ps->journal_at_next = true;
		}
	}
	const char *path = ps->journal_at_next ? ps->journal_next_path : ps->journal_path;
	ps->journal_fd = found != RCPT_JOURNAL_NONE
		? rcpt_files__open(path, O_WRONLY | O_APPEND, 0, "opening the journal")
		: open_journal(path, generation);
	if(ps->journal_fd < 0){
		/* Without a journal, requests that end now would come back after
		 * a kill: a new snapshot (with a new journal) is due at once. */
		int rc = errno ? errno : EIO;
		report_failure(ps, "opening the journal", rc);
		ps->retry = true;
		ps->next_save_ms = rcpt_host__now(ps->host);
	}
}

/* ---- life ---- */

static void free_paths(struct rcpt_persist *ps)
{
	free(ps->path);
	free(ps->tmp_path);
	free(ps->journal_path);
	free(ps->journal_next_path);
	ps->path = ps->tmp_path = ps->journal_path = ps->journal_next_path = NULL;
}

void rcpt_persist__init(struct rcpt_persist *ps, const struct rcpt_host *host, struct rcpt_pending_table *table,
		const char *state_file, uint32_t save_interval_s)
{
	memset(ps, 0, sizeof(*ps));
	ps->host = host;
	ps->table = table;
	ps->journal_fd = ps->journal_next_fd = -1;
	if(state_file == NULL) return;
	ps->path = strdup(state_file);
	ps->tmp_path = rcpt_files__path_with(state_file, ".tmp");
	ps->journal_path = rcpt_files__path_with(state_file, ".journal");
	ps->journal_next_path = rcpt_files__path_with(state_file, ".journal.next");
	if(!ps->path || !ps->tmp_path || !ps->journal_path || !ps->journal_next_path){
		rcpt_host__logf(host, RCPT_LOG_ERR, "state_file: out of memory; pending requests will not be saved");
		free_paths(ps);
		return;
	}
	ps->save_interval_ms = save_interval_s * 1000u;
	ps->build_slice = BUILD_RECORDS_PER_TICK;
	ps->next_save_ms = rcpt_host__now(host) + ps->save_interval_ms;

	/* Say at start, not at the first save, that the broker's user cannot
	 * write there. */
	int fd = rcpt_files__open(ps->tmp_path, O_WRONLY | O_CREAT, 0600, "probe");
	if(fd < 0){
		rcpt_host__logf(host, RCPT_LOG_ERR, "state_file '%s': cannot write '%s' as uid %d: %s; pending "
				"requests will not survive a restart", ps->path, ps->tmp_path, (int)geteuid(),
				rcpt_files__error_text(errno));
		ps->failing = true;
	}else{
		close(fd);
		unlink(ps->tmp_path);
	}
}

void rcpt_persist__save_now(struct rcpt_persist *ps)
{
	if(ps->path == NULL) return;
	if(ps->writer && ps->writer->started) finish_writer(ps);
	if(ps->writer) abandon_writer(ps);
	struct rcpt_buf b = {0};
	uint64_t count = 0;
	uint64_t generation = next_generation(ps);
	build_snapshot(ps, &b, generation, &count);
	rcpt_state_format__finish(&b, count);
	const char *step = "building the snapshot";
	bool replaced = false;
	int rc = b.failed ? ENOMEM : rcpt_files__write_atomically(ps->tmp_path, ps->path, b.data, b.len, &step, &replaced);
	rcpt_buf__free(&b);
	if(rc){
		ps->failing = false;
		report_failure(ps, step, rc);
		if(!replaced) return;
		/* On disk though maybe not durable: it holds everything, so the
		 * journals go as after a whole save. */
	}
	/* The snapshot holds everything now: no journal applies to it. */
	if(ps->journal_fd >= 0) close(ps->journal_fd);
	ps->journal_fd = -1;
	unlink(ps->journal_path);
	unlink(ps->journal_next_path);
	ps->journal_at_next = false;
	ps->generation = generation;
	ps->disk_gen = rcpt_persist__gen32(generation);
	ps->saved_changes = ps->table->changes;
	ps->retry = rc != 0;
	if(rc == 0){
		rcpt_host__logf(ps->host, RCPT_LOG_NOTICE, "state_file '%s': saved %" PRIu64 " pending request(s)",
				ps->path, count);
	}
}

void rcpt_persist__free(struct rcpt_persist *ps)
{
	if(ps->host == NULL) return;   /* never initialised */
	if(ps->writer && ps->writer->started) finish_writer(ps);
	if(ps->writer) abandon_writer(ps);
	if(ps->journal_fd >= 0) close(ps->journal_fd);
	if(ps->journal_next_fd >= 0) close(ps->journal_next_fd);
	ps->journal_fd = ps->journal_next_fd = -1;
	free_paths(ps);
}
