/*
 * The broker's configuration, read for its access control (see the header).
 */
#define _XOPEN_SOURCE 700   /* realpath */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brokerconf.h"

#define MAX_DEPTH 4
#define MAX_LINE 4096

bool rcpt_brokerconf__cmdline_config(char *path, size_t size)
{
	char buf[8192];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if(fd < 0) return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if(n <= 0) return false;
	buf[n] = '\0';
	/* Arguments are NUL-separated; the last -c wins, as in the broker. */
	bool found = false;
	for(char *a = buf; a < buf + n; a += strlen(a) + 1){
		if(strcmp(a, "-c") && strcmp(a, "--config-file")) continue;
		char *value = a + strlen(a) + 1;
		if(value >= buf + n) break;
		if(strlen(value) + 1 > size) return false;
		memcpy(path, value, strlen(value) + 1);
		found = true;
	}
	return found;
}

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if(realpath(a, ra) == NULL || realpath(b, rb) == NULL) return !strcmp(a, b);
	return !strcmp(ra, rb);
}

/* What one part of the configuration holds: the whole file, or with
 * per_listener_settings one listener's options. */
struct part {
	bool other_access;
	bool plugin_before_us;
	bool password_file;
	bool authenticates;
	int ours;                       /* plugin lines naming this plugin */
	char listener[64];              /* "port address" of its listener line; "" for the default one */
	char detail[RCPT_BROKERCONF_TEXT];
	char first_other_plugin[RCPT_BROKERCONF_TEXT];
};

struct scan {
	const char *our_plugin;
	bool per_listener;
	struct part whole;
	struct part *parts;             /* [0]: the default listener (options before any listener line) */
	size_t count;
	size_t current;
	bool failed;
	char why[RCPT_BROKERCONF_TEXT];
	rcpt_brokerconf_visitor visit;  /* NULL: none */
	void *visit_ctx;
};

static bool fail(struct scan *sc, const char *fmt, const char *what, const char *why)
{
	if(!sc->failed) snprintf(sc->why, sizeof(sc->why), fmt, what, why);
	sc->failed = true;
	return false;
}

static void note_other(struct part *p, const char *key, const char *value, int line_no, const char *file)
{
	if(p->other_access) return;
	p->other_access = true;
	snprintf(p->detail, sizeof(p->detail), "%s %s (line %d of %s)", key, value, line_no, file);
}

static void note_plugin(struct part *p, bool ours, const char *key, const char *value, int line_no, const char *file)
{
	if(ours){
		p->ours++;
		return;
	}
	p->authenticates = true;
	if(p->ours == 0 && !p->plugin_before_us){
		p->plugin_before_us = true;
		snprintf(p->first_other_plugin, sizeof(p->first_other_plugin), "%s", value);
	}
	note_other(p, key, value, line_no, file);
}

/* A listener line opens its listener's part; naming one already seen
 * reopens that one, as the broker does. */
static bool enter_listener(struct scan *sc, const char *value)
{
	char name[64];
	snprintf(name, sizeof(name), "%s", value);
	for(size_t i = 1; i < sc->count; i++){
		if(!strcmp(sc->parts[i].listener, name)){
			sc->current = i;
			return true;
		}
	}
	struct part *grown = realloc(sc->parts, (sc->count + 1) * sizeof(*grown));
	if(grown == NULL) return fail(sc, "%s: %s", "listener", "out of memory");
	sc->parts = grown;
	memset(&sc->parts[sc->count], 0, sizeof(sc->parts[0]));
	snprintf(sc->parts[sc->count].listener, sizeof(sc->parts[0].listener), "%s", name);
	sc->current = sc->count++;
	return true;
}

static bool scan_file(struct scan *sc, const char *file, int depth);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mosquitto reads the *.conf files of an include_dir in name order. */
static bool scan_dir(struct scan *sc, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if(d == NULL) return fail(sc, "cannot read include_dir %s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t count = 0, cap = 0;
	bool ok = true;
	struct dirent *e;
	while(ok && (e = readdir(d)) != NULL){
		size_t len = strlen(e->d_name);
		if(len <= 5 || strcmp(e->d_name + len - 5, ".conf")) continue;
		if(count == cap){
			cap = cap ? cap * 2 : 16;
			char **grown = realloc(names, cap * sizeof(*names));
			if(grown == NULL){ ok = false; break; }
			names = grown;
		}
		size_t need = strlen(dir) + 1 + len + 1;
		if((names[count] = malloc(need)) == NULL){ ok = false; break; }
		snprintf(names[count++], need, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if(!ok) fail(sc, "%s: %s", dir, "out of memory");
	if(ok && count) qsort(names, count, sizeof(*names), by_name);
	for(size_t i = 0; ok && i < count; i++) ok = scan_file(sc, names[i], depth + 1);
	for(size_t i = 0; i < count; i++) free(names[i]);
	free(names);
	return ok;
}

static bool scan_line(struct scan *sc, char *line, int line_no, const char *file, int depth)
{
	char *save = NULL;
	char *key = strtok_r(line, " \t\r\n", &save);
	if(key == NULL || key[0] == '#') return true;
	char *value = strtok_r(NULL, "\r\n", &save);
	while(value && (*value == ' ' || *value == '\t')) value++;
	if(value == NULL || *value == '\0') return true;
	for(char *end = value + strlen(value); end > value && (end[-1] == ' ' || end[-1] == '\t'); end--) end[-1] = '\0';

	if(sc->visit && strcmp(key, "include_dir")) sc->visit(sc->visit_ctx, key, value);
	if(sc->visit) return strcmp(key, "include_dir") ? true : scan_dir(sc, value, depth);
	struct part *p = &sc->parts[sc->current];
	if(!strcmp(key, "include_dir")){
		return scan_dir(sc, value, depth);
	}else if(!strcmp(key, "listener")){
		return enter_listener(sc, value);
	}else if(!strcmp(key, "per_listener_settings")){
		sc->per_listener = !strcmp(value, "true");
	}else if(!strcmp(key, "password_file")){
		p->password_file = sc->whole.password_file = true;
		p->authenticates = sc->whole.authenticates = true;
	}else if(!strcmp(key, "acl_file") || !strcmp(key, "auth_plugin")){
		if(!strcmp(key, "auth_plugin")) p->authenticates = sc->whole.authenticates = true;
		note_other(p, key, value, line_no, file);
		note_other(&sc->whole, key, value, line_no, file);
	}else if(!strcmp(key, "plugin") || !strcmp(key, "global_plugin")){
		bool ours = sc->our_plugin && same_file(value, sc->our_plugin);
		note_plugin(p, ours, key, value, line_no, file);
		note_plugin(&sc->whole, ours, key, value, line_no, file);
	}
	return true;
}

static bool scan_file(struct scan *sc, const char *file, int depth)
{
	/* include_dir inside include_dir is refused by mosquitto itself; this
	 * bounds a loop through a file that names its own folder. */
	if(depth > MAX_DEPTH) return fail(sc, "%s: %s", file, "include_dir nested too deep");
	FILE *f = fopen(file, "r");
	if(f == NULL) return fail(sc, "cannot read %s: %s", file, strerror(errno));
	char line[MAX_LINE];
	int line_no = 0;
	bool ok = true;
	while(ok && fgets(line, sizeof(line), f)){
		line_no++;
		ok = scan_line(sc, line, line_no, file, depth);
	}
	if(ok && ferror(f)) ok = fail(sc, "cannot read %s: %s", file, "read error");
	fclose(f);
	return ok;
}

/* With per_listener_settings each listener loads its own plugins, the
 * listeners in the order of their lines and the default one (options
 * before any listener line) last; instance n of this plugin belongs to the
 * part holding our n-th plugin line in that order. */
static const struct part *part_of_instance(const struct scan *sc, unsigned instance)
{
	unsigned seen = 0;
	for(size_t k = 1; k <= sc->count; k++){
		const struct part *p = &sc->parts[k % sc->count];
		if(instance < seen + (unsigned)p->ours) return p;
		seen += (unsigned)p->ours;
	}
	return NULL;
}

void rcpt_brokerconf__scan(const char *conf_path, const char *our_plugin, unsigned instance,
		struct rcpt_brokerconf *out)
{
	memset(out, 0, sizeof(*out));
	struct scan sc = {.our_plugin = our_plugin};
	sc.parts = calloc(1, sizeof(*sc.parts));
	if(sc.parts == NULL){
		snprintf(out->detail, sizeof(out->detail), "out of memory reading %s", conf_path);
		return;
	}
	sc.count = 1;
	bool ok = scan_file(&sc, conf_path, 0);
	const struct part *p = sc.per_listener ? part_of_instance(&sc, instance) : &sc.whole;
	if(!ok){
		snprintf(out->detail, sizeof(out->detail), "%s", sc.why);
	}else if(p == NULL){
		snprintf(out->detail, sizeof(out->detail), "per_listener_settings: cannot tell which listener "
				"loaded this plugin in %s", conf_path);
	}else{
		out->known = true;
		out->other_access = p->other_access;
		out->plugin_before_us = p->plugin_before_us;
		out->found_us = p->ours > 0;
		out->password_file = p->password_file;
		out->authenticates = p->authenticates;
		snprintf(out->first_other_plugin, sizeof(out->first_other_plugin), "%s", p->first_other_plugin);
		if(p->other_access){
			snprintf(out->detail, sizeof(out->detail), "%s", p->detail);
		}else{
			snprintf(out->detail, sizeof(out->detail), "no acl_file, auth_plugin or other plugin%s in %s",
					sc.per_listener ? " for this listener" : "", conf_path);
		}
	}
	free(sc.parts);
}

bool rcpt_brokerconf__visit(const char *conf_path, rcpt_brokerconf_visitor visit, void *ctx, char *why, size_t why_size)
{
	struct scan sc = {.visit = visit, .visit_ctx = ctx};
	bool ok = scan_file(&sc, conf_path, 0);
	if(!ok) snprintf(why, why_size, "%s", sc.why);
	return ok;
}
