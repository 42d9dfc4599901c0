/*
 * brokerconf.c: what the broker's configuration says about access control,
 * read from files written by each test.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brokerconf.h"
#include "suites.h"

static char dir[64];
static char conf[128];
static char ours[128];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	strcpy(dir, "/tmp/rcpt-ut-conf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
	snprintf(ours, sizeof(ours), "%s/mosquitto_receipts.so", dir);
	write_file(ours, "");
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct rcpt_brokerconf scan(const char *text, unsigned instance)
{
	char *full = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&full, &size);
	fprintf(f, text, ours, ours, ours);
	fclose(f);
	write_file(conf, full);
	free(full);
	struct rcpt_brokerconf bc;
	rcpt_brokerconf__scan(conf, ours, instance, &bc);
	return bc;
}

START_TEST(test_plugin_alone)
{
	struct rcpt_brokerconf bc = scan("listener 1883\n# acl_file /etc/x\npassword_file /etc/pw\nplugin %s\n", 0);
	ck_assert(bc.known);
	ck_assert(!bc.other_access);
	ck_assert(bc.found_us);
	ck_assert(bc.password_file);
	ck_assert_ptr_nonnull(strstr(bc.detail, "no acl_file, auth_plugin or other plugin in "));
}
END_TEST

START_TEST(test_acl_file_found)
{
	struct rcpt_brokerconf bc = scan("plugin %s\n\n  acl_file   /etc/mosquitto/acl  \n", 0);
	ck_assert(bc.known);
	ck_assert(bc.other_access);
	ck_assert(!bc.plugin_before_us);
	ck_assert_ptr_nonnull(strstr(bc.detail, "acl_file /etc/mosquitto/acl (line 3 of "));
}
END_TEST

START_TEST(test_other_plugin_and_order)
{
	struct rcpt_brokerconf bc = scan("plugin /usr/lib/dynsec.so\nplugin %s\n", 0);
	ck_assert(bc.other_access);
	ck_assert(bc.plugin_before_us);
	ck_assert_str_eq(bc.first_other_plugin, "/usr/lib/dynsec.so");
	bc = scan("plugin %s\nauth_plugin /usr/lib/v4.so\n", 0);
	ck_assert(bc.other_access);
	ck_assert(!bc.plugin_before_us);
	ck_assert_ptr_nonnull(strstr(bc.detail, "auth_plugin /usr/lib/v4.so"));
}
END_TEST

/* Writes text into the file name of the test's conf.d folder (made on
 * first use); returns the folder. */
static const char *in_conf_d(const char *name, const char *text)
{
	static char sub[128];
	char file[192];
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	ck_assert(mkdir(sub, 0755) == 0 || errno == EEXIST);
	snprintf(file, sizeof(file), "%s/%s", sub, name);
	write_file(file, text);
	return sub;
}

START_TEST(test_include_dir_followed)
{
	in_conf_d("b.conf", "acl_file /etc/acl\n");
	const char *sub = in_conf_d("a.conf.off", "plugin /x.so\n");
	char text[256];
	snprintf(text, sizeof(text), "plugin %%s\ninclude_dir %s\n", sub);
	struct rcpt_brokerconf bc = scan(text, 0);
	ck_assert(bc.known);
	ck_assert(bc.other_access);
	ck_assert_ptr_nonnull(strstr(bc.detail, "acl_file /etc/acl (line 1 of "));
	ck_assert_ptr_nonnull(strstr(bc.detail, "b.conf"));
}
END_TEST

/* Each listener loads its own plugins, the default listener (options
 * before any listener line) last. */
START_TEST(test_per_listener)
{
	const char *text = "per_listener_settings true\nport 1883\nplugin %s\nacl_file /etc/acl\n"
		"listener 1884\nplugin %s\n"
		"listener 1885\nplugin /dynsec.so\nplugin %s\n";
	struct rcpt_brokerconf bc = scan(text, 0);
	ck_assert(bc.known);
	ck_assert(!bc.other_access);      /* listener 1884 */
	ck_assert_ptr_nonnull(strstr(bc.detail, "for this listener"));
	bc = scan(text, 1);
	ck_assert(bc.other_access);       /* listener 1885 */
	ck_assert(bc.plugin_before_us);
	bc = scan(text, 2);
	ck_assert(bc.other_access);       /* the default listener */
	ck_assert_ptr_nonnull(strstr(bc.detail, "acl_file /etc/acl"));
	bc = scan(text, 3);
	ck_assert(!bc.known);
}
END_TEST

/* Whether clients authenticate: a password_file, an auth_plugin or a
 * plugin not ours; an acl_file or this plugin alone says nothing of it. */
START_TEST(test_authentication_found)
{
	struct rcpt_brokerconf bc = scan("listener 1883\nallow_anonymous true\nplugin %s\nacl_file /etc/acl\n"
			"# password_file /etc/pw\npassword_filex y\nplugin_opt_state_file /x\n", 0);
	ck_assert(bc.known);
	ck_assert(!bc.authenticates);
	ck_assert(!bc.password_file);
	bc = scan("listener 1883\n  password_file /etc/pw\nplugin %s\n", 0);
	ck_assert(bc.authenticates);
	ck_assert(bc.password_file);
	bc = scan("plugin /usr/lib/mosquitto_dynamic_security.so\nplugin %s\n", 0);
	ck_assert(bc.authenticates);
	ck_assert(!bc.password_file);
	bc = scan("global_plugin /usr/lib/mosquitto_dynamic_security.so\nplugin %s\n", 0);
	ck_assert(bc.authenticates);
	bc = scan("plugin %s\nauth_plugin /x/auth.so\n", 0);
	ck_assert(bc.authenticates);
}
END_TEST

/* A password_file only in an included file still counts. */
START_TEST(test_authentication_in_include_dir)
{
	const char *sub = in_conf_d("auth.conf", "password_file /etc/mosquitto/passwd\n");
	char text[256];
	snprintf(text, sizeof(text), "listener 1883\nplugin %%s\ninclude_dir %s\n", sub);
	struct rcpt_brokerconf bc = scan(text, 0);
	ck_assert(bc.known);
	ck_assert(bc.authenticates);
	ck_assert(bc.password_file);
	ck_assert(!bc.other_access);
}
END_TEST

/* With per_listener_settings a password_file counts for its own listener
 * only. */
START_TEST(test_authentication_per_listener)
{
	const char *text = "per_listener_settings true\n"
		"listener 1884\nplugin %s\n"
		"listener 1885\npassword_file /etc/pw\nplugin %s\n";
	struct rcpt_brokerconf bc = scan(text, 0);
	ck_assert(bc.known);
	ck_assert(!bc.authenticates);     /* listener 1884 */
	bc = scan(text, 1);
	ck_assert(bc.known);
	ck_assert(bc.authenticates);      /* listener 1885 */
}
END_TEST

START_TEST(test_unreadable)
{
	struct rcpt_brokerconf bc;
	rcpt_brokerconf__scan("/nonexistent/mosquitto.conf", ours, 0, &bc);
	ck_assert(!bc.known);
	ck_assert_ptr_nonnull(strstr(bc.detail, "cannot read /nonexistent/mosquitto.conf"));
	bc = scan("include_dir /nonexistent/conf.d\n", 0);
	ck_assert(!bc.known);
	ck_assert_ptr_nonnull(strstr(bc.detail, "include_dir /nonexistent/conf.d"));
}
END_TEST

Suite *brokerconf_suite(void)
{
	Suite *s = suite_create("brokerconf");
	TCase *tc = tcase_create("scan");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plugin_alone);
	tcase_add_test(tc, test_acl_file_found);
	tcase_add_test(tc, test_other_plugin_and_order);
	tcase_add_test(tc, test_include_dir_followed);
	tcase_add_test(tc, test_per_listener);
	tcase_add_test(tc, test_authentication_found);
	tcase_add_test(tc, test_authentication_in_include_dir);
	tcase_add_test(tc, test_authentication_per_listener);
	tcase_add_test(tc, test_unreadable);
	suite_add_tcase(s, tc);
	return s;
}
