/*
 * Persistence suite: pending requests survive broker restarts (README
 * "Restarts: the state file"). Each test runs mosquitto with its own
 * persistence (mosquitto.db in the broker's directory, autosaved every
 * second) and the plugin's state file in a directory of the test's own,
 * so that it outlives broker_stop() when a test needs a second broker.
 */
#define _GNU_SOURCE /* mkdtemp, nftw, unshare */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <mqtt_protocol.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "receipts.h"
#include "receipts_helpers.h"
#include "suites.h"

/* A broker-made receipt due at start-up comes at one of the first ticks. */
#define START_SLACK_MS 500
/* Saves happen every second (both mosquitto.db and the state file): a save
 * is awaited at most this long. */
#define SAVE_WAIT_MS 6000
/* Longer than any request of a test: it must not end by timeout. */
#define LONG_TIMEOUT "20000"

static struct broker broker;
static char state_dir[64];
static char state_path[128];

static void setup(void)
{
	strcpy(state_dir, "/tmp/rcpt-pers-XXXXXX");
	ck_assert_msg(mkdtemp(state_dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(state_path, sizeof(state_path), "%s/receipts.state", state_dir);
	memset(&broker, 0, sizeof(broker));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	broker_stop(&broker);
	nftw(state_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Starts the broker with both kinds of persistence, the state file at
 * `path` (NULL: state_path), saved every save_interval_s. */
static void start_at(const char *path, int save_interval_s)
{
	char extra[512];
	snprintf(extra, sizeof(extra),
			"persistence true\n"
			"autosave_interval 1\n"
			"plugin_opt_" RECEIPTS_OPT_STATE_FILE " %s\n"
			"plugin_opt_" RECEIPTS_OPT_SAVE_INTERVAL_S " %d\n",
			path ? path : state_path, save_interval_s);
	broker_start(&broker, extra);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mtime_ms(const char *path)
{
	struct stat st;
	if(stat(path, &st)) return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Waits until path was (re)written at or after wall-clock time since_ms:
 * the next periodic save. */
static void wait_written_since(const char *path, int64_t since_ms)
{
	int64_t deadline = harness_now_ms() + SAVE_WAIT_MS;
	struct timespec pause = {0, 10 * 1000 * 1000};
	while(mtime_ms(path) < since_ms){
		ck_assert_msg(harness_now_ms() < deadline, "%s not written within %d ms", path, SAVE_WAIT_MS);
		nanosleep(&pause, NULL);   /* poll interval under the deadline above */
	}
}

static void db_path(char *out, size_t size)
{
	snprintf(out, size, "%s/mosquitto.db", broker.dir);
}

static struct client *responder(const char *id, bool clean)
{
	return subscriber_at(&broker, id, clean, "req/A", 1);
}

static struct client *requester(const char *id, bool clean)
{
	return requester_at(&broker, id, clean, 1);
}

/* Where every request of a test goes back to: ret/<requester>/x. */
static const char *return_topic(const struct client *req)
{
	static char rt[128];
	snprintf(rt, sizeof(rt), "ret/%s/x", client_id(req));
	return rt;
}

/* A QoS 1 request to req/A with its correlation as payload, so that a
 * restored request shows which one it is. */
static void send_request(struct client *req, const char *corr, const char *timeout_ms)
{
	ck_assert_int_eq(publish_request(req, "req/A", corr, return_topic(req), corr, timeout_ms), 0);
}

/* The request with correlation corr reaches resp, with a token in its place. */
static struct msg *delivered_request(struct client *resp, const char *requester_id, const char *corr)
{
	struct msg *m = expect_request(resp, "req/A", corr, requester_id);
	assert_token(m, corr);
	return m;
}

/* The responder's answer arrives as exactly one `ok` receipt. */
static void expect_ok(struct client *req, const char *corr, const char *payload)
{
	expect_receipt(req, return_topic(req), payload, RECEIPTS_STATUS_OK, NULL, corr, 1);
}

/* A broker-made receipt: empty payload, status, reason, correlation. */
static void expect_broker_receipt(struct client *req, const char *corr, const char *status,
		const char *reason)
{
	expect_receipt(req, return_topic(req), "", status, reason, corr, 1);
}

/* The broker still does its job: a fresh request is answered with `ok`. */
static void assert_serves(const char *suffix)
{
	char rid[32], qid[32];
	snprintf(rid, sizeof(rid), "serve-resp-%s", suffix);
	snprintf(qid, sizeof(qid), "serve-req-%s", suffix);
	struct client *resp = responder(rid, true);
	struct client *req = requester(qid, true);
	send_request(req, "s-1", LONG_TIMEOUT);
	struct msg *request = delivered_request(resp, qid, "s-1");
	ck_assert_int_eq(client_answer(resp, request, "served", 1), 0);
	expect_ok(req, "s-1", "served");
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(request);
	client_free(req);
	client_free(resp);
}


/* SIGTERM (the broker saves both files) and reaped, the directory kept:
 * broker_restart() then only starts it again. */
static void stop_keeping_state(void)
{
	ck_assert_int_eq(kill(broker.pid, SIGTERM), 0);
	int64_t deadline = harness_now_ms() + HARNESS_STOP_TIMEOUT_MS;
	struct timespec pause = {0, 10 * 1000 * 1000};
	int status;
	while(waitpid(broker.pid, &status, WNOHANG) != broker.pid){
		ck_assert_msg(harness_now_ms() < deadline, "broker did not stop after SIGTERM");
		nanosleep(&pause, NULL);   /* poll interval under the deadline above */
	}
	broker.pid = 0;
}

/* Waits until the wall clock is past deadline_ms (CLOCK_MONOTONIC, as
 * harness_now_ms): the event a test needs while no broker is running, so
 * there is nothing else to wait on. */
static void wait_until(int64_t deadline_ms)
{
	int64_t left = deadline_ms - harness_now_ms();
	if(left <= 0) return;
	struct timespec pause = {left / 1000, (left % 1000) * 1000000};
	nanosleep(&pause, NULL);   /* until the deadline: nothing runs to wait on */
}

/* A clean restart while the responder is offline: the request mosquitto
 * queued for it arrives afterwards and its answer is matched; a request
 * whose deadline passed while the broker was down times out right after
 * start. */
START_TEST(clean_restart_keeps_pending_requests)
{
	start_at(NULL, 1);
	struct client *resp = responder("cr-resp", false);
	ck_assert_int_eq(client_disconnect(resp), 0);
	client_free(resp);
	struct client *req = requester("cr-req", false);
	send_request(req, "c-1", LONG_TIMEOUT);
	send_request(req, "c-2", "1000");
	int64_t c2_deadline = harness_now_ms() + 1000;
	ck_assert_int_eq(client_disconnect(req), 0);
	client_free(req);

	stop_keeping_state();
	ck_assert(broker_log_wait(&broker, "saved 2 pending request(s)", 0));
	wait_until(c2_deadline);
	broker_restart(&broker);
	ck_assert(broker_log_wait(&broker, "restored 2 pending request(s)", RCPT_ARRIVAL_MS));

	int64_t started = harness_now_ms();
	req = client_connect(&broker, "cr-req", false);
	expect_broker_receipt(req, "c-2", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	/* Not a new 1 s timeout counted from the start. */
	ck_assert_int_le(harness_now_ms() - started, START_SLACK_MS);

	/* mosquitto queued both for the offline responder; c-2 has ended. */
	resp = client_connect(&broker, "cr-resp", false);
	struct msg *request = delivered_request(resp, "cr-req", "c-1");
	struct msg *expired = delivered_request(resp, "cr-req", "c-2");
	ck_assert_int_eq(client_answer(resp, expired, "late-2", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_answer(resp, request, "answer-1", 1), 0);
	expect_ok(req, "c-1", "answer-1");
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(request);
	msg_free(expired);
	client_free(req);
	client_free(resp);
}
END_TEST

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

/* SIGKILL after a periodic save: the saved request that was still pending
 * is matched after the restart; the one answered after the save (kept
 * ended by the journal only) gets no second receipt. */
START_TEST(hard_kill_keeps_saved_never_revives_answered)
{
	/* Saves every 4 s, mosquitto.db every 1 s: between the plugin's first
	 * snapshot and its second there is time for mosquitto.db to record
	 * the answer's acknowledgements, so the kill comes when only the
	 * journal knows that c-2 ended. (2 s was too tight on a loaded
	 * machine: a second snapshot could come first.) */
	start_at(NULL, 4);
	struct client *resp = responder("hk-resp", false);
	struct client *req = requester("hk-req", false);
	send_request(req, "c-1", LONG_TIMEOUT);
	send_request(req, "c-2", LONG_TIMEOUT);
	struct msg *r1 = delivered_request(resp, "hk-req", "c-1");
	struct msg *r2 = delivered_request(resp, "hk-req", "c-2");
	char journal[160], db[160];
	snprintf(journal, sizeof(journal), "%s.journal", state_path);
	db_path(db, sizeof(db));
	int64_t since = wall_ms();
	wait_written_since(state_path, since);
	wait_written_since(journal, since);
	/* The snapshot's journal: its header only (a 16-byte token + u32 CRC
	 * per record, README's format). */
	const off_t header = 8 + 4 + 8, record = 16 + 4;
	ck_assert_int_eq(file_size(journal), header);
	ck_assert_int_eq(client_answer(resp, r2, "answer-2", 1), 0);
	expect_ok(req, "c-2", "answer-2");
	/* The journal's one write happens before the receipt leaves. */
	ck_assert_int_eq(file_size(journal), header + record);
	wait_written_since(db, wall_ms() + 100);
	ck_assert_msg(file_size(journal) == header + record,
			"a second snapshot came before the kill: the journal is not what this test tests");
	broker_kill(&broker);
	client_free(req);
	client_free(resp);

	broker_restart(&broker);
	ck_assert(broker_log_wait(&broker, "restored 1 pending request(s)", RCPT_ARRIVAL_MS));
	ck_assert_int_eq(broker_log_count(&broker, "1 answered before the restart"), 1);
	req = client_connect(&broker, "hk-req", false);
	resp = client_connect(&broker, "hk-resp", false);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	/* A late second answer to c-2 is an unmatched receipt. */
	ck_assert_int_eq(client_answer(resp, r2, "again-2", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(client_answer(resp, r1, "answer-1", 1), 0);
	expect_ok(req, "c-1", "answer-1");
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(r1);
	msg_free(r2);
	client_free(req);
	client_free(resp);
}
END_TEST

/* A responder that drops mid-request: with a clean session it is gone
 * (responder-gone at once); with a persistent one its session keeps the
 * request queued, so the request ends by timeout. */
START_TEST(responder_dropped_mid_request)
{
	bool clean = _i == 0;
	start_at(NULL, 1);
	struct client *resp = responder(clean ? "rd-resp-clean" : "rd-resp-pers", clean);
	struct client *req = requester(clean ? "rd-req-clean" : "rd-req-pers", false);
	send_request(req, "c-1", "300");
	struct msg *request = delivered_request(resp, client_id(req), "c-1");
	int64_t sent = harness_now_ms();
	ck_assert_int_eq(client_drop(resp), 0);
	if(clean){
		expect_broker_receipt(req, "c-1", RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
		ck_assert_int_lt(harness_now_ms() - sent, 300);
	}else{
		expect_broker_receipt(req, "c-1", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
		ck_assert_int_ge(harness_now_ms() - sent, 300 - 50);
	}
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	msg_free(request);
	client_free(req);
	client_free(resp);
}
END_TEST

/* Receipts made while a persistent requester is away wait in its session:
 * the answer and the broker's own timeout, in the order they were made. */
START_TEST(requester_back_gets_receipts_of_its_absence)
{
	start_at(NULL, 1);
	struct client *resp = responder("aw-resp", true);
	struct client *req = requester("aw-req", false);
	send_request(req, "c-1", LONG_TIMEOUT);
	send_request(req, "c-2", "300");
	struct msg *r1 = delivered_request(resp, "aw-req", "c-1");
	struct msg *r2 = delivered_request(resp, "aw-req", "c-2");
	ck_assert_int_eq(client_disconnect(req), 0);
	client_free(req);

	ck_assert_int_eq(client_answer(resp, r1, "answer-1", 1), 0);
	ck_assert(broker_log_wait(&broker, "receipt 'timeout' (deadline-passed) to 'ret/aw-req/x'", RCPT_ARRIVAL_MS));
	/* Too late: c-2 already ended. */
	ck_assert_int_eq(client_answer(resp, r2, "late-2", 1), MQTT_RC_NOT_AUTHORIZED);

	req = client_connect(&broker, "aw-req", false);
	expect_ok(req, "c-1", "answer-1");
	expect_broker_receipt(req, "c-2", RECEIPTS_STATUS_TIMEOUT, RECEIPTS_REASON_DEADLINE);
	ck_assert(client_quiet(req, RCPT_QUIET_MS));
	ck_assert(client_quiet(resp, 0));
	msg_free(r1);
	msg_free(r2);
	client_free(req);
	client_free(resp);
}
END_TEST

/* After a restart, what clean sessions held is over: a request that had
 * reached only a clean responder ends responder-gone right after start;
 * a clean requester's request is dropped, and its late answer refused. */
START_TEST(restart_ends_what_clean_sessions_held)
{
	start_at(NULL, 1);
	struct client *clean_resp = responder("cs-resp-clean", true);
	struct client *req_p = requester("cs-req-pers", false);
	struct client *req_c = requester("cs-req-clean", true);
	send_request(req_p, "c-1", LONG_TIMEOUT);
	struct msg *r1 = delivered_request(clean_resp, "cs-req-pers", "c-1");
	/* c-2 also reaches a persistent responder, which is offline. */
	struct client *pers_resp = responder("cs-resp-pers", false);
	ck_assert_int_eq(client_disconnect(pers_resp), 0);
	client_free(pers_resp);
	send_request(req_c, "c-2", LONG_TIMEOUT);
	struct msg *r2 = delivered_request(clean_resp, "cs-req-clean", "c-2");
	ck_assert_int_eq(client_disconnect(req_p), 0);
	client_free(req_p);

	broker_restart(&broker);
	ck_assert(broker_log_wait(&broker, "restored 1 pending request(s); 1 dropped", RCPT_ARRIVAL_MS));
	client_free(clean_resp);
	client_free(req_c);
	req_p = client_connect(&broker, "cs-req-pers", false);
	expect_broker_receipt(req_p, "c-1", RECEIPTS_STATUS_RESPONDER_GONE, RECEIPTS_REASON_DISCONNECTED);
	req_c = requester("cs-req-clean", true);

	pers_resp = client_connect(&broker, "cs-resp-pers", false);
	struct msg *queued = delivered_request(pers_resp, "cs-req-clean", "c-2");
	ck_assert_int_eq(client_answer(pers_resp, queued, "answer-2", 1), MQTT_RC_NOT_AUTHORIZED);
	ck_assert(client_quiet(req_p, RCPT_QUIET_MS));
	ck_assert(client_quiet(req_c, 0));
	ck_assert(client_quiet(pers_resp, 0));
	msg_free(r1);
	msg_free(r2);
	msg_free(queued);
	client_free(req_p);
	client_free(req_c);
	client_free(pers_resp);
}
END_TEST

/* A state file the broker cannot write: one line at start naming it, and
 * the broker serves (without saving). _i 0: its directory does not exist;
 * 1: a regular file stands where the directory should be. */
START_TEST(unwritable_state_file_reported_at_start)
{
	char path[192], needle[512];
	if(_i == 0){
		snprintf(path, sizeof(path), "%s/missing/receipts.state", state_dir);
	}else{
		char file[128];
		snprintf(file, sizeof(file), "%s/not-a-dir", state_dir);
		FILE *f = fopen(file, "w");
		ck_assert_ptr_nonnull(f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/receipts.state", file);
	}
	start_at(path, 1);
	snprintf(needle, sizeof(needle), "receipts: state_file '%s': cannot write '%s.tmp' as uid 0: ", path, path);
	ck_assert_int_eq(broker_log_count(&broker, needle), 1);
	/* It is not a damaged file: nothing to set aside. */
	ck_assert_int_eq(broker_log_count(&broker, "aside"), 0);
	assert_serves("unwritable");
}
END_TEST

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* A state file made by a broker that saved one request at shutdown, cut to
 * half its length. */
static void leave_half_state_file(void)
{
	start_at(NULL, 1);
	struct client *resp = responder("hf-resp", false);
	struct client *req = requester("hf-req", false);
	send_request(req, "c-1", LONG_TIMEOUT);
	struct msg *request = delivered_request(resp, "hf-req", "c-1");
	msg_free(request);
	client_free(req);
	client_free(resp);
	broker_stop(&broker);
	off_t size = file_size(state_path);
	ck_assert_int_gt(size, 0);
	ck_assert_int_eq(truncate(state_path, size / 2), 0);
}

/* A damaged state file: one line, set aside as <path>.bad-<time> with its
 * bytes, and the broker starts empty and serves. _i 0: garbage; 1: cut in
 * half. */
START_TEST(damaged_state_file_set_aside)
{
	static const char garbage[] = "garbage, not a state file\n";
	static const char *const why[] = {"not a receipts state file", "truncated"};
	if(_i == 0){
		write_bytes(state_path, garbage, sizeof(garbage) - 1);
	}else{
		leave_half_state_file();
	}
	off_t size = file_size(state_path);
	start_at(NULL, 1);

	char needle[512];
	snprintf(needle, sizeof(needle), "receipts: state_file '%s': %s; set aside as '%s.bad-", state_path,
			why[_i], state_path);
	ck_assert_int_eq(broker_log_count(&broker, needle), 1);
	ck_assert_int_eq(broker_log_count(&broker, "aside"), 1);
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "%s.bad-*", state_path);
	glob_t g;
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 1);
	ck_assert_int_eq(file_size(g.gl_pathv[0]), size);
	globfree(&g);
	assert_serves("damaged");
}
END_TEST

/* Makes state_dir a 64 KiB tmpfs in a mount namespace of this test's own,
 * so the mount dies with the test process even if the test fails. Returns
 * false (having said why) where mounting is not allowed. */
static bool small_filesystem(void)
{
	if(unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)
			|| mount("tmpfs", state_dir, "tmpfs", 0, "size=64k")){
		fprintf(stderr, "persistence: disk_full_save_failure_logged_once SKIPPED: cannot mount a "
				"small tmpfs (%s); run as root with CAP_SYS_ADMIN to test a full disk\n", strerror(errno));
		return false;
	}
	return true;
}

/* Writes zeros into path until the file system is full. */
static void fill(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	static const char zeros[4096];
	while(write(fd, zeros, sizeof(zeros)) > 0){
	}
	ck_assert_int_eq(errno, ENOSPC);
	close(fd);
}

/* A full disk: the failing save is logged once however often it fails,
 * the broker keeps serving, and once there is room again saving works and
 * says so once. */
START_TEST(disk_full_save_failure_logged_once)
{
	if(!small_filesystem()) return;
	char filler[160];
	snprintf(filler, sizeof(filler), "%s/filler", state_dir);
	fill(filler);
	start_at(NULL, 1);
	ck_assert_int_eq(broker_log_count(&broker, "cannot write"), 0);

	assert_serves("full-1");
	const char *failed = "failed: No space left on device";
	ck_assert(broker_log_wait(&broker, failed, SAVE_WAIT_MS));
	/* More changes, more saves due: no more lines. Two save intervals of
	 * a quiet log, as client_quiet's window for messages. */
	assert_serves("full-2");
	ck_assert(!broker_log_wait_count(&broker, failed, 2, 2500));

	ck_assert_int_eq(unlink(filler), 0);
	ck_assert(broker_log_wait(&broker, "saving works again", SAVE_WAIT_MS));
	ck_assert_int_eq(broker_log_count(&broker, failed), 1);
	ck_assert_int_eq(broker_log_count(&broker, "saving works again"), 1);
	ck_assert_int_gt(file_size(state_path), 0);
	broker_stop(&broker);
	umount2(state_dir, MNT_DETACH);
}
END_TEST

Suite *persistence_suite(void)
{
	Suite *s = suite_create("persistence");
	TCase *tc = harness_tcase("restarts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, clean_restart_keeps_pending_requests);
	tcase_add_test(tc, hard_kill_keeps_saved_never_revives_answered);
	tcase_add_loop_test(tc, responder_dropped_mid_request, 0, 2);
	tcase_add_test(tc, requester_back_gets_receipts_of_its_absence);
	tcase_add_test(tc, restart_ends_what_clean_sessions_held);
	suite_add_tcase(s, tc);

	tc = harness_tcase("state-file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, unwritable_state_file_reported_at_start, 0, 2);
	tcase_add_loop_test(tc, damaged_state_file_set_aside, 0, 2);
	tcase_add_test(tc, disk_full_save_failure_logged_once);
	suite_add_tcase(s, tc);
	return s;
}
