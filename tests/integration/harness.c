/*
 * Integration-test harness; see harness.h for the contract.
 */
#define _GNU_SOURCE /* mkdtemp, memmem, pipe2, nftw */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MOSQUITTO_BIN
#define MOSQUITTO_BIN "/usr/sbin/mosquitto"
#endif
#ifndef RCPT_PLUGIN_PATH
#error "RCPT_PLUGIN_PATH must name the built mosquitto_receipts.so"
#endif

/* How often deadline loops re-check a file or a port: short, so a wait ends
 * soon after its event, without spinning. */
#define POLL_INTERVAL_MS 5
/* Test-case timeout, seconds: broker start and stop take up to 5 s each. */
#define TCASE_TIMEOUT_S 60

/* ================= time ================= */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t harness_now_ms(void)
{
	return now_ms();
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while(nanosleep(&ts, &ts) == -1 && errno == EINTR){}   /* the poll interval of deadline waits */
}

/* Absolute CLOCK_MONOTONIC time for pthread_cond_timedwait. */
static struct timespec abs_deadline(int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if(ts.tv_nsec >= 1000000000L){
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* ================= one-time set-up ================= */

static pthread_once_t harness_once = PTHREAD_ONCE_INIT;

static void harness_init(void)
{
	mosquitto_lib_init();
	/* A dropped connection must show up as an error on the socket, not kill
	 * the test process. */
	signal(SIGPIPE, SIG_IGN);
}

TCase *harness_tcase(const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	return tc;
}

/* ================= processes ================= */

/* Forks and execs argv with stdout/stderr redirected to the given fds
 * (-1: inherit). The child gets SIGKILL when the test process dies, so a
 * crashed or timed-out test leaves no broker or client behind. */
static int count_in_file(const char *path, const char *needle);

static pid_t spawn(const char *const argv[], int out_fd, int err_fd, const char *preload)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if(pid != 0) return pid; /* parent, or -1 */

	/* A plugin built with sanitizers needs their runtime loaded first
	 * into a broker that was not. */
	if(preload && *preload) setenv("LD_PRELOAD", preload, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have died before prctl took effect. */
	if(getppid() != parent) _exit(127);
	if(out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
	if(err_fd >= 0) dup2(err_fd, STDERR_FILENO);
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Waits for pid to exit until the deadline. Returns its exit status (128+N
 * for signal N) or -1 if it is still running. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for(;;){
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if(r == pid){
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if(r < 0 && errno != EINTR) return 128; /* already reaped */
		if(now_ms() >= deadline) return -1;
		sleep_ms(POLL_INTERVAL_MS);
	}
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ================= broker ================= */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int port = -1;
	if(fd < 0) return -1;
	if(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0
			&& getsockname(fd, (struct sockaddr *)&addr, &len) == 0){
		port = ntohs(addr.sin_port);
	}
	close(fd);
	return port;
}

static bool port_accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	if(fd >= 0) close(fd);
	return ok;
}

static bool write_conf(const struct broker *b, bool with_plugin, const char *first, const char *extra)
{
	FILE *f = fopen(b->conf_path, "w");
	if(f == NULL) return false;
	if(first) fprintf(f, "%s\n", first);
	fprintf(f, "listener %d 127.0.0.1\n"
			"allow_anonymous true\n"
			/* Stay root: as user mosquitto the broker could not write
			 * into our temporary directory. */
			"user root\n"
			/* stderr is unbuffered; stdout would reach the log file late. */
			"log_dest stderr\n"
			"log_type all\n"
			/* Without it every request/reply round trip pays ~40-90 ms of
			 * Nagle + delayed ACK. */
			"set_tcp_nodelay true\n"
			"persistence_location %s/\n", b->port, b->dir);
	if(with_plugin){
		/* Last in the base block so that plugin_opt_* lines in `extra`
		 * follow it, and override the defaults (the plugin keeps the
		 * last value of an option). */
		/* Short deadlines keep the suites fast: a 2 s default timeout,
		 * and a 1 s wait for a QoS 2 request's PUBREL (the default, 10 s,
		 * would outlast the timeout). */
		fprintf(f, "plugin %s\n"
				"plugin_opt_default_timeout_ms 2000\n"
				"plugin_opt_qos2_release_grace_ms 1000\n", RCPT_PLUGIN_PATH);
	}
	if(extra) fprintf(f, "%s\n", extra);
	return fclose(f) == 0;
}

static void print_log(const struct broker *b)
{
	FILE *f = fopen(b->log_path, "r");
	if(f == NULL) return;
	fprintf(stderr, "---- broker log %s ----\n", b->log_path);
	char buf[4096];
	size_t n;
	while((n = fread(buf, 1, sizeof(buf), f)) > 0) fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of broker log ----\n");
	fclose(f);
}

/* The broker under test: RCPT_MOSQUITTO names another build (the version
 * matrix runs the suites against each release), else the one found at
 * configure time. */
static const char *broker_binary(void)
{
	const char *bin = getenv("RCPT_MOSQUITTO");
	return bin && *bin ? bin : MOSQUITTO_BIN;
}

int broker_version(void)
{
	static int version = -1;
	if(version >= 0) return version;
	const char *argv[] = {broker_binary(), "-h", NULL};
	char *out = NULL;
	run_command(argv, HARNESS_START_TIMEOUT_MS, &out);   /* `-h` exits non-zero */
	int major, minor, patch;
	const char *line = out ? strstr(out, "mosquitto version ") : NULL;
	bool ok = line && sscanf(line, "mosquitto version %d.%d.%d", &major, &minor, &patch) == 3;
	free(out);
	ck_assert_msg(ok, "%s -h: no \"mosquitto version X.Y.Z\"", broker_binary());
	version = BROKER_VERSION(major, minor, patch);
	return version;
}

/* Starts the process on the prepared directory and waits until the port
 * accepts connections, or the broker exits, or the deadline passes. */
static int launch(struct broker *b)
{
	const char *argv[] = {broker_binary(), "-c", b->conf_path, NULL};
	int log_fd = open(b->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_msg(log_fd >= 0, "open %s: %s", b->log_path, strerror(errno));
	b->pid = spawn(argv, log_fd, log_fd, getenv("RCPT_BROKER_PRELOAD"));
	close(log_fd);
	ck_assert_msg(b->pid > 0, "fork: %s", strerror(errno));

	int64_t deadline = now_ms() + HARNESS_START_TIMEOUT_MS;
	while(!port_accepts(b->port)){
		int status = wait_exit(b->pid, 0);
		if(status >= 0 || now_ms() >= deadline){
			if(status < 0) kill_and_reap(b->pid);
			b->pid = 0;
			print_log(b);
			ck_abort_msg("broker on port %d did not start (exit status %d)", b->port, status);
		}
		sleep_ms(POLL_INTERVAL_MS);
	}
	return 0;
}

static int start(struct broker *b, bool with_plugin, const char *first, const char *extra)
{
	pthread_once(&harness_once, harness_init);
	memset(b, 0, sizeof(*b));
	strcpy(b->dir, "/tmp/rcpt-it-XXXXXX");
	ck_assert_msg(mkdtemp(b->dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(b->conf_path, sizeof(b->conf_path), "%s/mosquitto.conf", b->dir);
	snprintf(b->log_path, sizeof(b->log_path), "%s/broker.log", b->dir);
	b->port = free_port();
	ck_assert_msg(b->port > 0, "no free port");
	snprintf(b->port_str, sizeof(b->port_str), "%d", b->port);
	ck_assert_msg(write_conf(b, with_plugin, first, extra), "write %s", b->conf_path);
	return launch(b);
}

int harness_free_port(void)
{
	return free_port();
}

int broker_start_conf(struct broker *b, int port, const char *conf_text)
{
	pthread_once(&harness_once, harness_init);
	memset(b, 0, sizeof(*b));
	strcpy(b->dir, "/tmp/rcpt-it-XXXXXX");
	ck_assert_msg(mkdtemp(b->dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(b->conf_path, sizeof(b->conf_path), "%s/mosquitto.conf", b->dir);
	snprintf(b->log_path, sizeof(b->log_path), "%s/broker.log", b->dir);
	b->port = port;
	snprintf(b->port_str, sizeof(b->port_str), "%d", b->port);
	FILE *f = fopen(b->conf_path, "w");
	ck_assert_msg(f != NULL, "write %s", b->conf_path);
	fprintf(f, "%s\nuser root\nlog_dest stderr\nlog_type all\npersistence_location %s/\n", conf_text, b->dir);
	ck_assert_msg(fclose(f) == 0, "write %s", b->conf_path);
	return launch(b);
}

int broker_start(struct broker *b, const char *extra_conf_lines)
{
	return start(b, true, NULL, extra_conf_lines);
}

int broker_start_first(struct broker *b, const char *first_conf_lines, const char *extra_conf_lines)
{
	return start(b, true, first_conf_lines, extra_conf_lines);
}

int broker_start_plain(struct broker *b, const char *extra_conf_lines)
{
	return start(b, false, NULL, extra_conf_lines);
}

/* SIGTERM lets the broker save persistence and unload the plugin (cleanup
 * runs, leaks show in valgrind runs); SIGKILL only if it hangs. */
static void terminate(struct broker *b)
{
	if(b->pid <= 0) return;
	kill(b->pid, SIGTERM);
	if(wait_exit(b->pid, HARNESS_STOP_TIMEOUT_MS) < 0){
		fprintf(stderr, "harness: broker %d ignored SIGTERM; killing it\n", (int)b->pid);
		kill_and_reap(b->pid);
	}
	b->pid = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void broker_stop(struct broker *b)
{
	terminate(b);
	/* Under sanitizers the broker's stderr is its log: any report there,
	 * a leak at exit included, fails the test that ran it. */
	if(b->dir[0] && count_in_file(b->log_path, "Sanitizer") > 0){
		print_log(b);
		ck_abort_msg("the broker's log has a sanitizer report");
	}
	if(b->dir[0]) nftw(b->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	b->dir[0] = '\0';
}

void broker_kill(struct broker *b)
{
	if(b->pid > 0) kill_and_reap(b->pid);
	b->pid = 0;
}

int broker_restart(struct broker *b)
{
	terminate(b);
	return launch(b);
}

/* ---- log ---- */

static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if(f == NULL) return 0;
	char *line = NULL;
	size_t cap = 0;
	int count = 0;
	/* Line by line: a needle matches within one log line, and may end
	 * with the line's '\n'. */
	while(getline(&line, &cap, f) != -1){
		for(const char *p = line; (p = strstr(p, needle)) != NULL; p++) count++;
	}
	free(line);
	fclose(f);
	return count;
}

int broker_log_count(struct broker *b, const char *needle)
{
	return count_in_file(b->log_path, needle);
}

bool broker_log_wait_count(struct broker *b, const char *needle, int count, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	while(broker_log_count(b, needle) < count){
		if(now_ms() >= deadline) return false;
		sleep_ms(POLL_INTERVAL_MS);
	}
	return true;
}

bool broker_log_wait(struct broker *b, const char *needle, int timeout_ms)
{
	return broker_log_wait_count(b, needle, 1, timeout_ms);
}

bool broker_wait_subscribed(struct broker *b, const char *client_id, int count, int timeout_ms)
{
	/* 2.0 logs the id at the end of the line (the filters follow on their
	 * own lines); matching the newline keeps `r1` from matching `r10`. */
	char needle[256];
	snprintf(needle, sizeof(needle), "Received SUBSCRIBE from %s\n", client_id);
	return broker_log_wait_count(b, needle, count, timeout_ms);
}

/* ================= clients ================= */

enum ack_kind { ACK_PUB, ACK_SUB, ACK_UNSUB };

/* Acknowledgements that arrived and nobody has claimed yet. The network
 * thread may see an ack before the publishing thread starts waiting for its
 * mid, so acks are recorded, not signalled. QoS 0 publishes are "acked" too
 * and never claimed: the oldest entries are overwritten. */
#define ACK_SLOTS 64

struct ack {
	enum ack_kind kind;
	int mid;    /* 0: free slot */
	int rc;
};

struct client {
	struct mosquitto *mosq;
	char *id;
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* any change below */
	int connack;          /* -1 until the CONNACK */
	bool ended;           /* the connection is over */
	bool loop_running;
	struct ack acks[ACK_SLOTS];
	int ack_next;
	struct msg *head, *tail;
};

typedef bool (*client_pred)(struct client *c, void *arg);

/* Waits, holding c->lock, until pred holds or the deadline passes. */
static bool wait_locked(struct client *c, client_pred pred, void *arg, int timeout_ms)
{
	struct timespec deadline = abs_deadline(timeout_ms);
	while(!pred(c, arg)){
		if(pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT){
			return pred(c, arg);
		}
	}
	return true;
}

static bool wait_for(struct client *c, client_pred pred, void *arg, int timeout_ms)
{
	pthread_mutex_lock(&c->lock);
	bool ok = wait_locked(c, pred, arg, timeout_ms);
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* ---- callbacks (network thread) ---- */

static void record_ack(struct client *c, enum ack_kind kind, int mid, int rc)
{
	pthread_mutex_lock(&c->lock);
	c->acks[c->ack_next] = (struct ack){kind, mid, rc};
	c->ack_next = (c->ack_next + 1) % ACK_SLOTS;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)flags; (void)props;
	struct client *c = obj;
	pthread_mutex_lock(&c->lock);
	c->connack = rc;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	/* A refused client must not be retried by the network thread. */
	if(rc != 0) mosquitto_disconnect(mosq);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	(void)rc; (void)props;
	struct client *c = obj;
	/* mosquitto_loop_forever() reconnects after a lost connection unless
	 * a disconnect was requested; tests want a lost connection to stay
	 * lost, so request one. */
	mosquitto_disconnect(mosq);
	pthread_mutex_lock(&c->lock);
	c->ended = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)mosq; (void)props;
	record_ack(obj, ACK_PUB, mid, rc);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
		const mosquitto_property *props)
{
	(void)mosq; (void)props;
	record_ack(obj, ACK_SUB, mid, count > 0 ? granted[0] : -1);
}

static void on_unsubscribe(struct mosquitto *mosq, void *obj, int mid, const mosquitto_property *props)
{
	(void)mosq; (void)props;
	/* libmosquitto 2.0 does not pass the UNSUBACK reason codes on. */
	record_ack(obj, ACK_UNSUB, mid, 0);
}

static char *dup_bytes(const void *data, size_t len)
{
	char *copy = malloc(len + 1);
	if(copy == NULL) abort();
	if(len) memcpy(copy, data, len);
	copy[len] = '\0';
	return copy;
}

static void copy_user_props(struct msg *m, const mosquitto_property *props)
{
	const mosquitto_property *p = props;
	char *name, *value;
	bool skip_first = false;
	while((p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, skip_first))){
		m->user = realloc(m->user, sizeof(*m->user) * (size_t)(m->user_count + 1));
		if(m->user == NULL) abort();
		/* The library allocated these copies; the msg owns them now. */
		m->user[m->user_count++] = (struct user_pair){name, value};
		skip_first = true;
	}
}

static struct msg *copy_message(const struct mosquitto_message *src, const mosquitto_property *props)
{
	struct msg *m = calloc(1, sizeof(*m));
	if(m == NULL) abort();
	m->topic = dup_bytes(src->topic, strlen(src->topic));
	m->payload = dup_bytes(src->payload, (size_t)src->payloadlen);
	m->payload_len = src->payloadlen;
	m->qos = src->qos;
	m->retain = src->retain;
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &m->response_topic, false);
	m->has_correlation = mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
			&m->correlation, &m->correlation_len, false) != NULL;
	copy_user_props(m, props);
	return m;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *src,
		const mosquitto_property *props)
{
	(void)mosq;
	struct client *c = obj;
	struct msg *m = copy_message(src, props);
	pthread_mutex_lock(&c->lock);
	if(c->tail) c->tail->next = m;
	else c->head = m;
	c->tail = m;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* ---- connecting ---- */

static struct client *client_new(const char *id, bool clean_start)
{
	pthread_once(&harness_once, harness_init);
	struct client *c = calloc(1, sizeof(*c));
	if(c == NULL) abort();
	c->id = strdup(id);
	c->connack = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);

	c->mosq = mosquitto_new(id, clean_start, c);
	if(c->mosq == NULL) abort();
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_unsubscribe_v5_callback_set(c->mosq, on_unsubscribe);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	return c;
}

static mosquitto_property *build_props(const struct props_spec *spec);

static bool has_connack(struct client *c, void *arg)
{
	(void)arg;
	return c->connack >= 0 || c->ended;
}

int client_connect_rc(struct broker *b, const struct connect_spec *spec, struct client **out)
{
	struct client *c = client_new(spec->id, spec->clean_start);
	mosquitto_property *props = NULL;
	uint32_t expiry = spec->session_expiry ? spec->session_expiry
			: (spec->clean_start ? 0 : UINT32_MAX);
	if(expiry) mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, expiry);
	if(spec->username) mosquitto_username_pw_set(c->mosq, spec->username, spec->password);
	if(spec->will_topic){
		mosquitto_property *will_props = build_props(spec->will_props);
		if(spec->will_delay_s){
			mosquitto_property_add_int32(&will_props, MQTT_PROP_WILL_DELAY_INTERVAL, spec->will_delay_s);
		}
		/* libmosquitto owns the list only on success. */
		if(mosquitto_will_set_v5(c->mosq, spec->will_topic, (int)strlen(spec->will_payload), spec->will_payload,
				spec->will_qos, spec->will_retain, will_props) != MOSQ_ERR_SUCCESS){
			mosquitto_property_free_all(&will_props);
		}
	}

	int rc = -1;
	int err = mosquitto_connect_bind_v5(c->mosq, "127.0.0.1", b->port, 60, NULL, props);
	mosquitto_property_free_all(&props);
	if(err != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "harness: connect %s: %s\n", spec->id, mosquitto_strerror(err));
	}else if(mosquitto_loop_start(c->mosq) == MOSQ_ERR_SUCCESS){
		c->loop_running = true;
		wait_for(c, has_connack, NULL, HARNESS_ACK_TIMEOUT_MS);
		rc = c->connack;
	}
	if(rc != 0){
		client_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

struct client *client_connect_auth(struct broker *b, const char *id, bool clean_start,
		const char *username, const char *password)
{
	struct connect_spec spec = {.id = id, .clean_start = clean_start,
		.username = username, .password = password};
	struct client *c;
	int rc = client_connect_rc(b, &spec, &c);
	ck_assert_msg(rc == 0, "client %s: CONNACK %d (-1: none)", id, rc);
	return c;
}

struct client *client_connect(struct broker *b, const char *id, bool clean_start)
{
	return client_connect_auth(b, id, clean_start, NULL, NULL);
}

const char *client_id(const struct client *c)
{
	return c->id;
}

/* ---- acknowledged operations ---- */

struct ack_query {
	enum ack_kind kind;
	int mid;
	int rc;
};

/* True when the ack for q->mid is recorded (claimed into q->rc) or the
 * connection ended (q->rc stays -1). */
static bool ack_arrived(struct client *c, void *arg)
{
	struct ack_query *q = arg;
	for(int i = 0; i < ACK_SLOTS; i++){
		struct ack *a = &c->acks[i];
		if(a->mid == q->mid && a->kind == q->kind){
			q->rc = a->rc;
			a->mid = 0;
			return true;
		}
	}
	return c->ended;
}

static int wait_ack(struct client *c, enum ack_kind kind, int mid)
{
	struct ack_query q = {kind, mid, -1};
	wait_for(c, ack_arrived, &q, HARNESS_ACK_TIMEOUT_MS);
	return q.rc;
}

int client_subscribe(struct client *c, const char *filter, int options)
{
	int mid;
	/* libmosquitto takes the QoS and the other option bits apart. */
	int err = mosquitto_subscribe_v5(c->mosq, &mid, filter, options & 0x03, options & ~0x03, NULL);
	if(err){
		fprintf(stderr, "harness: %s subscribe %s: %s\n", c->id, filter, mosquitto_strerror(err));
		return -1;
	}
	return wait_ack(c, ACK_SUB, mid);
}

int client_unsubscribe(struct client *c, const char *filter)
{
	int mid;
	int err = mosquitto_unsubscribe_v5(c->mosq, &mid, filter, NULL);
	if(err){
		fprintf(stderr, "harness: %s unsubscribe %s: %s\n", c->id, filter, mosquitto_strerror(err));
		return -1;
	}
	return wait_ack(c, ACK_UNSUB, mid);
}

static mosquitto_property *build_props(const struct props_spec *spec)
{
	mosquitto_property *props = NULL;
	if(spec == NULL) return NULL;
	if(spec->response_topic){
		mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, spec->response_topic);
	}
	if(spec->correlation){
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA,
				spec->correlation, spec->correlation_len);
	}
	for(int i = 0; i < spec->user_count; i++){
		mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY,
				spec->user[i].name, spec->user[i].value);
	}
	if(spec->topic_alias){
		mosquitto_property_add_int16(&props, MQTT_PROP_TOPIC_ALIAS, spec->topic_alias);
	}
	return props;
}

int client_publish(struct client *c, const char *topic, const void *payload, int len,
		int qos, bool retain, const struct props_spec *spec)
{
	mosquitto_property *props = build_props(spec);
	int mid;
	int err = mosquitto_publish_v5(c->mosq, &mid, topic, len, payload, qos, retain, props);
	mosquitto_property_free_all(&props);
	if(err){
		fprintf(stderr, "harness: %s publish %s: %s\n", c->id, topic ? topic : "(alias)",
				mosquitto_strerror(err));
		return -1;
	}
	/* For QoS 0 the callback only says the bytes were written; waiting for
	 * it keeps the order of a following publish by another client. */
	int rc = wait_ack(c, ACK_PUB, mid);
	return qos == 0 && rc >= 0 ? 0 : rc;
}

int client_publish_str(struct client *c, const char *topic, const char *payload,
		int qos, bool retain, const struct props_spec *props)
{
	return client_publish(c, topic, payload, (int)strlen(payload), qos, retain, props);
}

int client_answer(struct client *c, const struct msg *request, const char *payload, int qos)
{
	ck_assert_msg(request->response_topic != NULL, "%s: request on %s has no response topic",
			c->id, request->topic);
	struct props_spec props = {
		/* "" keeps an empty correlation present (the library may give
		 * NULL for zero bytes). */
		.correlation = !request->has_correlation ? NULL
				: request->correlation ? request->correlation : "",
		.correlation_len = request->correlation_len,
	};
	return client_publish_str(c, request->response_topic, payload, qos, false, &props);
}

/* ---- ending ---- */

static bool has_ended(struct client *c, void *arg)
{
	(void)arg;
	return c->ended;
}

bool client_is_connected(struct client *c)
{
	pthread_mutex_lock(&c->lock);
	bool connected = c->connack == 0 && !c->ended;
	pthread_mutex_unlock(&c->lock);
	return connected;
}

/* Joins the network thread once the connection is over; a thread that
 * did not notice in time is cancelled instead. */
static int end_loop(struct client *c)
{
	bool ended = wait_for(c, has_ended, NULL, HARNESS_ACK_TIMEOUT_MS);
	if(c->loop_running) mosquitto_loop_stop(c->mosq, !ended);
	c->loop_running = false;
	return ended ? 0 : -1;
}

int client_disconnect(struct client *c)
{
	mosquitto_disconnect_v5(c->mosq, 0, NULL);
	return end_loop(c);
}

int client_drop(struct client *c)
{
	int sock = mosquitto_socket(c->mosq);
	if(sock >= 0) shutdown(sock, SHUT_RDWR);
	return end_loop(c);
}

void client_free(struct client *c)
{
	if(c == NULL) return;
	if(c->loop_running) client_disconnect(c);
	mosquitto_destroy(c->mosq);
	for(struct msg *m = c->head, *next; m; m = next){
		next = m->next;
		msg_free(m);
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c->id);
	free(c);
}

/* ================= received messages ================= */

static bool has_message(struct client *c, void *arg)
{
	(void)arg;
	return c->head != NULL;
}

struct msg *client_wait(struct client *c, int timeout_ms)
{
	struct msg *m = NULL;
	pthread_mutex_lock(&c->lock);
	if(wait_locked(c, has_message, NULL, timeout_ms)){
		m = c->head;
		c->head = m->next;
		if(c->head == NULL) c->tail = NULL;
		m->next = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return m;
}

bool client_quiet(struct client *c, int window_ms)
{
	pthread_mutex_lock(&c->lock);
	bool arrived = wait_locked(c, has_message, NULL, window_ms);
	if(arrived){
		fprintf(stderr, "harness: %s expected quiet, got: ", c->id);
		msg_print(c->head, stderr);
	}
	pthread_mutex_unlock(&c->lock);
	return !arrived;
}

const char *msg_user(const struct msg *m, const char *name)
{
	for(int i = 0; i < m->user_count; i++){
		if(!strcmp(m->user[i].name, name)) return m->user[i].value;
	}
	return NULL;
}

int msg_user_count(const struct msg *m, const char *name)
{
	int n = 0;
	for(int i = 0; i < m->user_count; i++) n += !strcmp(m->user[i].name, name);
	return n;
}

bool msg_correlation_is(const struct msg *m, const void *data, size_t len)
{
	return m->has_correlation && m->correlation_len == len
			&& (len == 0 || !memcmp(m->correlation, data, len));
}

void msg_print(const struct msg *m, FILE *f)
{
	fprintf(f, "topic=%s qos=%d retain=%d payload=\"%.*s\" response-topic=%s correlation=",
			m->topic, m->qos, m->retain, m->payload_len, m->payload,
			m->response_topic ? m->response_topic : "(none)");
	if(m->has_correlation){
		for(int i = 0; i < m->correlation_len; i++){
			fprintf(f, "%02x", ((unsigned char *)m->correlation)[i]);
		}
	}else{
		fprintf(f, "(none)");
	}
	for(int i = 0; i < m->user_count; i++) fprintf(f, " %s=%s", m->user[i].name, m->user[i].value);
	fprintf(f, "\n");
}

void msg_free(struct msg *m)
{
	if(m == NULL) return;
	for(int i = 0; i < m->user_count; i++){
		free((char *)m->user[i].name);
		free((char *)m->user[i].value);
	}
	free(m->user);
	free(m->topic);
	free(m->payload);
	free(m->response_topic);
	free(m->correlation);
	free(m);
}

/* ================= external commands ================= */

int command_start(struct command *cmd, const char *const argv[])
{
	int fds[2];
	memset(cmd, 0, sizeof(*cmd));
	cmd->pid = -1;
	cmd->out_fd = -1;
	if(pipe2(fds, O_CLOEXEC) != 0) return -1;
	cmd->pid = spawn(argv, fds[1], -1, NULL);
	close(fds[1]);
	if(cmd->pid < 0){
		close(fds[0]);
		return -1;
	}
	cmd->out_fd = fds[0];
	return 0;
}

/* Appends what is readable now; false at end of file. */
static bool read_some(struct command *cmd)
{
	char buf[4096];
	ssize_t n = read(cmd->out_fd, buf, sizeof(buf));
	if(n < 0 && errno == EINTR) return true;
	if(n <= 0) return false;
	cmd->out = realloc(cmd->out, cmd->out_len + (size_t)n + 1);
	if(cmd->out == NULL) abort();
	memcpy(cmd->out + cmd->out_len, buf, (size_t)n);
	cmd->out_len += (size_t)n;
	cmd->out[cmd->out_len] = '\0';
	return true;
}

/* Reads stdout until end of file or the deadline; true at end of file. */
static bool drain(struct command *cmd, int64_t deadline)
{
	for(;;){
		int left = (int)(deadline - now_ms());
		if(left <= 0) return false;
		struct pollfd pfd = {.fd = cmd->out_fd, .events = POLLIN};
		int r = poll(&pfd, 1, left);
		if(r < 0 && errno != EINTR) return false;
		if(r > 0 && !read_some(cmd)) return true;
	}
}

int command_collect(struct command *cmd, int timeout_ms, char **out)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status = -1;
	if(cmd->pid > 0){
		if(drain(cmd, deadline)){
			/* stdout closed: the command is exiting. */
			status = wait_exit(cmd->pid, (int)(deadline - now_ms()) + HARNESS_STOP_TIMEOUT_MS);
		}
		if(status < 0) kill_and_reap(cmd->pid);
	}
	if(cmd->out_fd >= 0) close(cmd->out_fd);
	if(out) *out = cmd->out ? cmd->out : strdup("");
	else free(cmd->out);
	memset(cmd, 0, sizeof(*cmd));
	return status;
}

int run_command(const char *const argv[], int timeout_ms, char **out)
{
	struct command cmd;
	if(command_start(&cmd, argv) != 0){
		if(out) *out = strdup("");
		return -1;
	}
	return command_collect(&cmd, timeout_ms, out);
}
