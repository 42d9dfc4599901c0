/*
 * The state file: pending requests survive a broker restart.
 *
 * A snapshot of the whole table is built on the broker's thread (memory
 * only, no system calls) every save_interval while the table changed, a
 * slice of records per tick so that no loop iteration waits long, and then
 * checksummed, written, fsynced and renamed into place by a writer thread:
 * the broker loop never waits for the disk. The build walks the requests
 * oldest first up to the newest one when it began; one that ends after it
 * was added is recorded in the new snapshot's journal, one that ends before
 * is simply never added. Between snapshots, every request that ends
 * after being saved is appended to a journal with one write() before its
 * receipt can leave the broker, so a restart after a kill never revives an
 * answered request. New requests since the last snapshot are what a kill
 * can lose.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
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
	uint64_t records;
};

/* ---- files ---- */

static char *path_with(const char *path, const char *suffix)
{
	size_t len = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(len);
	if(s) snprintf(s, len, "%s%s", path, suffix);
	return s;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
	while(len > 0){
		ssize_t n = write(fd, data, len);
		if(n < 0){
			if(errno == EINTR) continue;
			return errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory entry of a rename is durable only once the directory is
 * synced. */
static int sync_directory_of(const char *path)
{
	char *dir = strdup(path);
	if(dir == NULL) return ENOMEM;
	char *slash = strrchr(dir, '/');
	if(slash == NULL){
		strcpy(dir, ".");
	}else if(slash == dir){
		dir[1] = '\0';
	}else{
		*slash = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if(fd < 0) return errno;
	int rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc;
}

/* Write to tmp, fsync, rename over path. Returns 0 or an errno. */
static int write_atomically(const char *tmp, const char *path, const unsigned char *data, size_t len,
		const char **step)
{
	*step = "open";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if(fd < 0) return errno;
	*step = "write";
	int rc = write_all(fd, data, len);
	if(rc == 0){
		*step = "fsync";
		if(fsync(fd)) rc = errno;
	}
	if(close(fd) && rc == 0){
		*step = "close";
		rc = errno;
	}
	if(rc == 0){
		*step = "rename";
		if(rename(tmp, path)) rc = errno;
	}
	if(rc){
		unlink(tmp);
		return rc;
	}
	*step = "fsync of the directory";
	return sync_directory_of(path);
}

static void *writer_main(void *arg)
{
	struct rcpt_writer *w = arg;
	const struct rcpt_persist *ps = w->paths;
	rcpt_state__finish(&w->snapshot, w->records);
	w->failed_step = "building the snapshot";
	w->error = w->snapshot.failed ? ENOMEM
		: write_atomically(ps->tmp_path, ps->path, w->snapshot.data, w->snapshot.len, &w->failed_step);
	/* The new journal belongs to the new snapshot: it takes the name only
	 * once the snapshot has. */
	if(w->error == 0 && rename(ps->journal_next_path, ps->journal_path)){
		w->error = errno;
		w->failed_step = "rename of the journal";
	}
	atomic_store(&w->done, true);
	return NULL;
}

static int open_journal(const char *path, uint64_t generation)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if(fd < 0) return -1;
	struct rcpt_buf b = {0};
	rcpt_journal__header(&b, generation);
	if(b.failed || write_all(fd, b.data, b.len)){
		close(fd);
		fd = -1;
	}
	rcpt_buf__free(&b);
	return fd;
}

/* ---- snapshots ---- */

static uint32_t gen32(uint64_t generation)
{
	uint32_t g = (uint32_t)generation;
	return g ? g : 1;
}

static bool persistent(const struct rcpt_client *c)
{
	return c->session != RCPT_SESSION_ONLINE_CLEAN;
}

static void add_record(struct rcpt_buf *b, struct rcpt_state_record *rec, const struct rcpt_pending *p,
		uint64_t now, uint64_t wall)
{
	rec->created_wall_ms = wall - rcpt_pending__age_ms(p, now);
	rec->deadline_wall_ms = p->deadline_ms > now ? wall + (p->deadline_ms - now) : wall;
	rec->qos = p->qos;
	rec->broker_correlation = p->broker_correlation;
	rec->requester_persistent = persistent(p->requester);
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
			.persistent = persistent(d->client),
		};
	}
	rcpt_state__add(b, rec);
}

/* Starts a snapshot: header, and room for all of it up front (growing a
 * buffer of megabytes by doubling copies it again and again). */
static void begin_snapshot(struct rcpt_core *core, struct rcpt_buf *b, uint64_t generation)
{
	rcpt_buf__reserve(b, 64 + (size_t)core->stats.pending * 112);
	rcpt_state__begin(b, generation, rcpt_core__wall(core));
}

/* The whole table at once, for the save at shutdown. */
static void build_snapshot(struct rcpt_core *core, struct rcpt_buf *b, uint64_t generation, uint64_t *count)
{
	uint64_t now = rcpt_core__now(core), wall = rcpt_core__wall(core);
	struct rcpt_state_record *rec = malloc(sizeof(*rec));
	if(rec == NULL){
		b->failed = true;
		return;
	}
	begin_snapshot(core, b, generation);
	*count = 0;
	for(struct rcpt_pending *p = core->all.oldest; p; p = p->of_all.next){
		add_record(b, rec, p, now, wall);
		p->saved_gen = gen32(generation);
		(*count)++;
	}
	free(rec);
}

static void report_failure(struct rcpt_core *core, const char *step, int error)
{
	if(core->persist.failing) return;
	core->persist.failing = true;
	rcpt_core__logf(core, RCPT_LOG_ERR, "state_file '%s': %s failed: %s; pending requests saved "
			"earlier are kept, newer ones would not survive a restart",
			core->persist.path, step, strerror(error));
}

static void report_success(struct rcpt_core *core, uint64_t records)
{
	if(core->persist.failing){
		rcpt_core__logf(core, RCPT_LOG_NOTICE, "state_file '%s': saving works again (%" PRIu64 " pending)",
				core->persist.path, records);
	}
	core->persist.failing = false;
}

static void free_writer(struct rcpt_writer *w)
{
	rcpt_buf__free(&w->snapshot);
	free(w->rec);
	free(w);
}

/* Drops a snapshot that will not be written, and its journal. */
static void abandon_writer(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	if(ps->journal_next_fd >= 0) close(ps->journal_next_fd);
	unlink(ps->journal_next_path);
	ps->journal_next_fd = -1;
	ps->writing_gen = 0;
	free_writer(ps->writer);
	ps->writer = NULL;
}

static void finish_writer(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	struct rcpt_writer *w = ps->writer;
	pthread_join(w->thread, NULL);
	if(w->error == 0){
		if(ps->journal_fd >= 0) close(ps->journal_fd);
		ps->journal_fd = ps->journal_next_fd;
		ps->disk_gen = ps->writing_gen;
		ps->journal_next_fd = -1;
		ps->writing_gen = 0;
		report_success(core, w->records);
		free_writer(w);
		ps->writer = NULL;
	}else{
		report_failure(core, w->failed_step, w->error);
		/* Try again at the next interval, even if nothing changes. */
		ps->dirty = true;
		abandon_writer(core);
	}
}

static void start_writer_thread(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	struct rcpt_writer *w = ps->writer;
	atomic_init(&w->done, false);
	if(pthread_create(&w->thread, NULL, writer_main, w)){
		report_failure(core, "starting the writer thread", EAGAIN);
		ps->dirty = true;
		abandon_writer(core);
		return;
	}
	w->started = true;
}

/* Adds the next slice of records; hands the snapshot to the writer thread
 * once the newest request of the build's start is in. */
static void build_step(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	struct rcpt_writer *w = ps->writer;
	uint64_t now = rcpt_core__now(core), wall = rcpt_core__wall(core);
	for(uint32_t i = 0; w->cursor && i < ps->build_slice; i++){
		if(i > 0 && i % BUILD_CLOCK_EVERY == 0 && rcpt_core__now(core) - now >= BUILD_BUDGET_MS) return;
		struct rcpt_pending *p = w->cursor;
		add_record(&w->snapshot, w->rec, p, now, wall);
		p->saved_gen = ps->writing_gen;
		w->records++;
		w->cursor = p == w->last ? NULL : p->of_all.next;
	}
	if(w->cursor) return;
	if(w->snapshot.failed){
		report_failure(core, "building the snapshot", ENOMEM);
		ps->dirty = true;
		abandon_writer(core);
		return;
	}
	start_writer_thread(core);
}

bool rcpt_persist__building(const struct rcpt_core *core)
{
	return core->persist.writer && !core->persist.writer->started;
}

void rcpt_persist__forget(struct rcpt_core *core, const struct rcpt_pending *p)
{
	struct rcpt_writer *w = core->persist.writer;
	if(w == NULL || w->started) return;
	/* Everything before the cursor is in; what follows `last` never will. */
	if(p == w->cursor) w->cursor = p == w->last ? NULL : p->of_all.next;
	if(p == w->last) w->last = p->of_all.prev;
}

static void start_save(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	uint64_t wall = rcpt_core__wall(core);
	uint64_t generation = wall > ps->generation ? wall : ps->generation + 1;

	struct rcpt_writer *w = calloc(1, sizeof(*w));
	if(w) w->rec = malloc(sizeof(*w->rec));
	if(w == NULL || w->rec == NULL){
		if(w) free(w);
		report_failure(core, "building the snapshot", ENOMEM);
		return;
	}
	w->paths = ps;
	int jfd = open_journal(ps->journal_next_path, generation);
	if(jfd < 0){
		report_failure(core, "creating the journal", errno ? errno : EIO);
		free_writer(w);
		return;
	}
	begin_snapshot(core, &w->snapshot, generation);
	w->cursor = core->all.oldest;
	w->last = core->all.newest;
	ps->generation = generation;
	ps->writing_gen = gen32(generation);
	ps->journal_next_fd = jfd;
	ps->writer = w;
	ps->dirty = false;
	build_step(core);
}

void rcpt_persist__tick(struct rcpt_core *core, uint64_t now)
{
	struct rcpt_persist *ps = &core->persist;
	if(ps->path == NULL) return;
	if(ps->writer && !ps->writer->started){
		build_step(core);
		return;
	}
	if(ps->writer && atomic_load(&ps->writer->done)) finish_writer(core);
	if(ps->writer || !ps->dirty || now < ps->next_save_ms) return;
	ps->next_save_ms = now + ps->save_interval_ms;
	start_save(core);
}

static void append_journal(struct rcpt_core *core, int fd, const struct rcpt_pending *p)
{
	/* Most records fit on the stack: no allocation on this path. */
	unsigned char stack[512];
	struct rcpt_buf b = {0};
	if(2u + p->topic_len + 2u + p->correlation_len + 4u <= sizeof(stack)){
		b.data = stack;
		b.capacity = sizeof(stack);
	}
	rcpt_journal__record(&b, p->key, p->topic_len, rcpt_pending__correlation(p), p->correlation_len);
	int rc = b.failed ? ENOMEM : write_all(fd, b.data, b.len);
	if(b.data != stack) free(b.data);
	if(rc) report_failure(core, "writing the journal", rc);
}

void rcpt_persist__ended(struct rcpt_core *core, const struct rcpt_pending *p)
{
	struct rcpt_persist *ps = &core->persist;
	if(ps->journal_fd >= 0) append_journal(core, ps->journal_fd, p);
	if(ps->journal_next_fd >= 0 && p->saved_gen == ps->writing_gen) append_journal(core, ps->journal_next_fd, p);
}

/* ---- loading ---- */

struct load {
	struct rcpt_core *core;
	uint64_t now;
	uint64_t wall;
	uint32_t gen;
	char id[UINT16_MAX + 1];
	uint64_t restored, abandoned, responder_gone, answered, skipped;
};

static const char *id_of(struct load *l, struct rcpt_state_str s)
{
	memcpy(l->id, s.ptr, s.len);
	l->id[s.len] = '\0';
	return l->id;
}

/* Our own file passed its checksum, but C strings must not hide a NUL. */
static bool plain(struct rcpt_state_str s)
{
	return memchr(s.ptr, '\0', s.len) == NULL;
}

static void restore_deliveries(struct load *l, struct rcpt_pending *p, const struct rcpt_state_record *r)
{
	for(uint16_t i = 0; i < r->delivery_count; i++){
		const struct rcpt_state_delivery *d = &r->deliveries[i];
		/* A clean session did not survive the restart. */
		if(!d->persistent || !plain(d->client_id)) continue;
		struct rcpt_client *c = rcpt_clients__restore(l->core, id_of(l, d->client_id));
		if(c && rcpt_pending__add_delivery(l->core, p, c) != RCPT_OK) rcpt_clients__release_if_empty(l->core, c);
	}
	if(r->delivery_count > 0 && p->live_deliveries == 0){
		p->ever_delivered = true;
		if(rcpt_delivery__settle_later(l->core, p) == RCPT_OK) l->responder_gone++;
	}
}

static void restore_one(void *ctx, const struct rcpt_state_record *r)
{
	struct load *l = ctx;
	struct rcpt_core *core = l->core;
	if(!r->requester_persistent){
		/* Its clean session is gone: nobody is left to read a receipt. */
		core->stats.totals[RCPT_OUTCOME_ABANDONED]++;
		l->abandoned++;
		return;
	}
	if(!plain(r->return_topic) || !plain(r->requester) || !plain(r->area)
			|| rcpt_pending__find(core, r->return_topic.ptr, r->return_topic.len,
				r->correlation.ptr, r->correlation.len)){
		l->skipped++;
		return;
	}
	struct rcpt_client *requester = rcpt_clients__restore(core, id_of(l, r->requester));
	if(requester == NULL){
		l->skipped++;
		return;
	}
	uint64_t age = l->wall > r->created_wall_ms ? l->wall - r->created_wall_ms : 0;
	struct rcpt_pending_spec spec = {
		.requester = requester,
		.area = r->area.ptr, .area_len = r->area.len,
		.topic = r->return_topic.ptr, .topic_len = r->return_topic.len,
		.correlation = r->correlation.ptr, .correlation_len = r->correlation.len,
		.qos = r->qos,
		.broker_correlation = r->broker_correlation,
		.open_return = r->open_return,
		.created_ms = l->now - age,
		/* Deadlines are kept in wall-clock time: one that passed while the
		 * broker was down fires at the first tick. */
		.deadline_ms = r->deadline_wall_ms > l->wall ? l->now + (r->deadline_wall_ms - l->wall) : l->now,
	};
	struct rcpt_pending *p = rcpt_pending__create(core, &spec);
	if(p == NULL){
		rcpt_clients__release_if_empty(core, requester);
		l->skipped++;
		return;
	}
	p->saved_gen = l->gen;
	restore_deliveries(l, p, r);
	l->restored++;
}

static void forget_ended(void *ctx, struct rcpt_state_str topic, struct rcpt_state_str corr)
{
	struct load *l = ctx;
	struct rcpt_pending *p = rcpt_pending__find(l->core, topic.ptr, topic.len, corr.ptr, corr.len);
	if(p == NULL) return;
	if(p->state == RCPT_PENDING_UNSETTLED) l->responder_gone--;
	rcpt_pending__destroy(l->core, p);
	l->restored--;
	l->answered++;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if(fd < 0) return errno;
	struct stat st;
	int rc = 0;
	if(fstat(fd, &st)){
		rc = errno;
	}else if(st.st_size > (off_t)1 << 34){
		rc = EFBIG;
	}else{
		*data = malloc((size_t)st.st_size + 1);
		if(*data == NULL) rc = ENOMEM;
	}
	while(rc == 0 && *len < (size_t)st.st_size){
		ssize_t n = read(fd, *data + *len, (size_t)st.st_size - *len);
		if(n < 0 && errno == EINTR) continue;
		if(n < 0) rc = errno;
		if(n <= 0) break;
		*len += (size_t)n;
	}
	close(fd);
	if(rc){
		free(*data);
		*data = NULL;
	}
	return rc;
}

/* A bad file is renamed, never deleted: an operator may want it. */
static void set_aside(struct rcpt_core *core, const char *why)
{
	const char *path = core->persist.path;
	char suffix[40];
	snprintf(suffix, sizeof(suffix), ".bad-%" PRIu64, rcpt_core__wall(core) / 1000);
	char *aside = path_with(path, suffix);
	if(aside && rename(path, aside) == 0){
		rcpt_core__logf(core, RCPT_LOG_ERR, "state_file '%s': %s; set aside as '%s'; starting with no "
				"pending requests", path, why, aside);
	}else{
		rcpt_core__logf(core, RCPT_LOG_ERR, "state_file '%s': %s; could not set it aside (%s); starting "
				"with no pending requests", path, why, strerror(errno));
	}
	free(aside);
}

/* Applies the journal of this generation (under either name) and keeps
 * appending to it. */
static void adopt_journal(struct rcpt_core *core, struct load *l, uint64_t generation)
{
	struct rcpt_persist *ps = &core->persist;
	const char *names[2] = {ps->journal_path, ps->journal_next_path};
	bool adopted = false;
	for(int i = 0; i < 2; i++){
		unsigned char *data;
		size_t len;
		uint64_t jgen = 0;
		if(read_file(names[i], &data, &len)) continue;
		/* A cut last record is expected after a kill: what precedes it counts. */
		enum rcpt_state_error e = rcpt_journal__decode(data, len, &jgen, NULL, NULL);
		(void)e;
		if(jgen == generation && !adopted){
			rcpt_journal__decode(data, len, &jgen, forget_ended, l);
			if(i == 1) rename(ps->journal_next_path, ps->journal_path);
			adopted = true;
		}else{
			unlink(names[i]);
		}
		free(data);
	}
	ps->journal_fd = adopted ? open(ps->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC)
		: open_journal(ps->journal_path, generation);
}

static void load(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	unsigned char *data;
	size_t len;
	int rc = read_file(ps->path, &data, &len);
	/* Nothing there (or no directory: the start-up check has said so). */
	if(rc == ENOENT || rc == ENOTDIR){
		rcpt_core__logf(core, RCPT_LOG_INFO, "state_file '%s': none yet, starting empty", ps->path);
		unlink(ps->journal_path);
		unlink(ps->journal_next_path);
		return;
	}
	if(rc){
		char why[160];
		snprintf(why, sizeof(why), "unreadable (%s)", strerror(rc));
		set_aside(core, why);
		return;
	}
	struct load *l = calloc(1, sizeof(*l));
	if(l == NULL){
		free(data);
		rcpt_core__logf(core, RCPT_LOG_ERR, "state_file '%s': out of memory loading it", ps->path);
		return;
	}
	l->core = core;
	l->now = rcpt_core__now(core);
	l->wall = rcpt_core__wall(core);
	struct rcpt_state_header h = {0};
	/* The generation is only known after the header: decode reads it
	 * before it passes any record on. */
	l->gen = 0;
	enum rcpt_state_error e = rcpt_state__decode(data, len, &h, NULL, NULL);
	if(e == RCPT_STATE_OK){
		l->gen = gen32(h.generation);
		e = rcpt_state__decode(data, len, &h, restore_one, l);
	}
	free(data);
	if(e != RCPT_STATE_OK){
		set_aside(core, rcpt_state__error_text(e));
		free(l);
		return;
	}
	adopt_journal(core, l, h.generation);
	ps->generation = h.generation;
	ps->disk_gen = gen32(h.generation);
	rcpt_core__logf(core, RCPT_LOG_NOTICE, "state_file '%s': restored %" PRIu64 " pending request(s); "
			"%" PRIu64 " dropped (the requester's clean session ended), %" PRIu64 " answered before the "
			"restart, %" PRIu64 " will end responder-gone, %" PRIu64 " unusable",
			ps->path, l->restored, l->abandoned, l->answered, l->responder_gone, l->skipped);
	free(l);
}

/* ---- life ---- */

void rcpt_persist__init(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	ps->journal_fd = ps->journal_next_fd = -1;
	if(core->cfg.state_file == NULL) return;
	ps->path = strdup(core->cfg.state_file);
	ps->tmp_path = path_with(core->cfg.state_file, ".tmp");
	ps->journal_path = path_with(core->cfg.state_file, ".journal");
	ps->journal_next_path = path_with(core->cfg.state_file, ".journal.next");
	if(!ps->path || !ps->tmp_path || !ps->journal_path || !ps->journal_next_path){
		rcpt_core__logf(core, RCPT_LOG_ERR, "state_file: out of memory; pending requests will not be saved");
		rcpt_persist__free(core);
		return;
	}
	ps->save_interval_ms = core->cfg.save_interval_s * 1000u;
	ps->build_slice = BUILD_RECORDS_PER_TICK;

	/* Say at start, not at the first save, that the broker's user cannot
	 * write there. */
	int fd = open(ps->tmp_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if(fd < 0){
		rcpt_core__logf(core, RCPT_LOG_ERR, "state_file '%s': cannot write '%s' as uid %d: %s; pending "
				"requests will not survive a restart", ps->path, ps->tmp_path, (int)geteuid(), strerror(errno));
		ps->failing = true;
	}else{
		close(fd);
		unlink(ps->tmp_path);
	}
	load(core);
	ps->next_save_ms = rcpt_core__now(core) + ps->save_interval_ms;
}

void rcpt_persist__save_now(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	if(ps->path == NULL) return;
	if(ps->writer && ps->writer->started) finish_writer(core);
	if(ps->writer) abandon_writer(core);
	struct rcpt_buf b = {0};
	uint64_t count = 0;
	uint64_t wall = rcpt_core__wall(core);
	uint64_t generation = wall > ps->generation ? wall : ps->generation + 1;
	build_snapshot(core, &b, generation, &count);
	rcpt_state__finish(&b, count);
	const char *step = "building the snapshot";
	int rc = b.failed ? ENOMEM : write_atomically(ps->tmp_path, ps->path, b.data, b.len, &step);
	rcpt_buf__free(&b);
	if(rc){
		ps->failing = false;
		report_failure(core, step, rc);
		return;
	}
	/* The snapshot holds everything now: no journal applies to it. */
	if(ps->journal_fd >= 0) close(ps->journal_fd);
	ps->journal_fd = -1;
	unlink(ps->journal_path);
	unlink(ps->journal_next_path);
	ps->generation = generation;
	ps->disk_gen = gen32(generation);
	ps->dirty = false;
	rcpt_core__logf(core, RCPT_LOG_NOTICE, "state_file '%s': saved %" PRIu64 " pending request(s)",
			ps->path, count);
}

void rcpt_persist__free(struct rcpt_core *core)
{
	struct rcpt_persist *ps = &core->persist;
	if(ps->writer && ps->writer->started) finish_writer(core);
	if(ps->writer) abandon_writer(core);
	if(ps->journal_fd >= 0) close(ps->journal_fd);
	if(ps->journal_next_fd >= 0) close(ps->journal_next_fd);
	ps->journal_fd = ps->journal_next_fd = -1;
	free(ps->path);
	free(ps->tmp_path);
	free(ps->journal_path);
	free(ps->journal_next_path);
	ps->path = ps->tmp_path = ps->journal_path = ps->journal_next_path = NULL;
}
