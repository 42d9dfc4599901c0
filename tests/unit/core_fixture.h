/*
 * The fixture of the suites that test one fresh core per test: the fake
 * host reset around it and the core built with the default options, so that
 * no test sees records or clients left by another.
 */
#ifndef CORE_FIXTURE_H
#define CORE_FIXTURE_H

#include <check.h>

#include "fake_host.h"

/* The core under test, made by core_setup() (and core_recreate()). */
extern struct rcpt_core *core;

/* Checked fixture: fake host reset, core with the default options. */
void core_setup(void);
/* Frees the core and resets the fake host. */
void core_teardown(void);
/* Replaces the core by one with the defaults plus opts (NULL-terminated
 * key, value pairs), on a reset fake host. */
void core_recreate(const char *const *opts);

/* Replaces the core by one that tracks requests with open return topics
 * (plugin_opt_open_return_topics tracked). */
void core_track_open_returns(void);

/* A test case of s with the core_setup/core_teardown checked fixture. */
TCase *core_tcase(Suite *s, const char *name);

/* Runs one PUBLISH through the core and returns its decision. */
struct rcpt_decision core_publish(const struct rcpt_publish *m);

/* The test's only request has ended as outcome: counted once, nothing
 * pending, no client record left; and after later_ms more of the clock
 * and a tick, still exactly `published` receipts: nothing was left to
 * end a second time. */
void assert_ended_once(enum rcpt_outcome outcome, size_t published, uint64_t later_ms);

#endif
