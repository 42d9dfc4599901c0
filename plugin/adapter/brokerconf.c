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

/* include_dir inside include_dir is refused by mosquitto itself; this only
 * bounds a loop through a file that names its own folder. */
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

static void unknown(struct rcpt_brokerconf *out, const char *fmt, const char *what, const char *why)
{
	out->known = false;
	snprintf(out->detail, sizeof(out->detail), fmt, what, why);
}

static void note_other(struct rcpt_brokerconf *out, const char *key, const char *value,
		int line_no, const char *file)
{
	if(out->other_access) return;
	out->other_access = true;
	snprintf(out->detail, sizeof(out->detail), "%s %s (line %d of %s)", key, value, line_no, file);
}

static bool scan_file(const char *file, const char *our_plugin, struct rcpt_brokerconf *out, int depth);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mosquitto reads the *.conf files of an include_dir in name order. */
static bool scan_dir(const char *dir, const char *our_plugin, struct rcpt_brokerconf *out, int depth)
{
	DIR *d = opendir(dir);
	if(d == NULL){
		unknown(out, "cannot read include_dir %s: %s", dir, strerror(errno));
		return false;
	}
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
	if(!ok) unknown(out, "%s: %s", dir, "out of memory");
	if(ok && count) qsort(names, count, sizeof(*names), by_name);
	for(size_t i = 0; ok && i < count; i++) ok = scan_file(names[i], our_plugin, out, depth + 1);
	for(size_t i = 0; i < count; i++) free(names[i]);
	free(names);
	return ok;
}

static void scan_line(char *line, int line_no, const char *file, const char *our_plugin,
		struct rcpt_brokerconf *out, bool *include, char **include_value)
{
	*include = false;
	char *save = NULL;
	char *key = strtok_r(line, " \t\r\n", &save);
	if(key == NULL || key[0] == '#') return;
	char *value = strtok_r(NULL, "\r\n", &save);
	while(value && (*value == ' ' || *value == '\t')) value++;
	if(value == NULL || *value == '\0') return;
	/* mosquitto keeps trailing spaces out of paths too */
	for(char *end = value + strlen(value); end > value && (end[-1] == ' ' || end[-1] == '\t'); end--) end[-1] = '\0';

	if(!strcmp(key, "include_dir")){
		*include = true;
		*include_value = value;
	}else if(!strcmp(key, "password_file")){
		out->password_file = true;
	}else if(!strcmp(key, "acl_file") || !strcmp(key, "auth_plugin")){
		note_other(out, key, value, line_no, file);
	}else if(!strcmp(key, "plugin") || !strcmp(key, "global_plugin")){
		if(our_plugin && same_file(value, our_plugin)){
			out->found_us = true;
			return;
		}
		if(!out->found_us && !out->plugin_before_us){
			out->plugin_before_us = true;
			snprintf(out->first_other_plugin, sizeof(out->first_other_plugin), "%s", value);
		}
		note_other(out, key, value, line_no, file);
	}
}

static bool scan_file(const char *file, const char *our_plugin, struct rcpt_brokerconf *out, int depth)
{
	if(depth > MAX_DEPTH){
		unknown(out, "%s: %s", file, "include_dir nested too deep");
		return false;
	}
	FILE *f = fopen(file, "r");
	if(f == NULL){
		unknown(out, "cannot read %s: %s", file, strerror(errno));
		return false;
	}
	char line[MAX_LINE];
	int line_no = 0;
	bool ok = true;
	while(ok && fgets(line, sizeof(line), f)){
		line_no++;
		bool include;
		char *dir = NULL;
		scan_line(line, line_no, file, our_plugin, out, &include, &dir);
		if(include) ok = scan_dir(dir, our_plugin, out, depth);
	}
	if(ok && ferror(f)){
		unknown(out, "cannot read %s: %s", file, "read error");
		ok = false;
	}
	fclose(f);
	return ok;
}

void rcpt_brokerconf__scan(const char *conf_path, const char *our_plugin, struct rcpt_brokerconf *out)
{
	memset(out, 0, sizeof(*out));
	out->known = scan_file(conf_path, our_plugin, out, 0);
	if(out->known && !out->other_access){
		snprintf(out->detail, sizeof(out->detail), "no acl_file, auth_plugin or other plugin in %s", conf_path);
	}
}
