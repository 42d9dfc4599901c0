/*
 * The one-fresh-core-per-test fixture (see the header).
 */
#include <stddef.h>

#include "core_fixture.h"
#include "core_parts.h"
#include "receipts.h"

struct rcpt_core *core;

void core_setup(void)
{
	fake_host__reset();
	core = t_core_new(NULL);
}

void core_teardown(void)
{
	rcpt_core__free(core);
	core = NULL;
	fake_host__reset();
}

void core_recreate(const char *const *opts)
{
	rcpt_core__free(core);
	fake_host__reset();
	core = t_core_new(opts);
}

void core_track_open_returns(void)
{
	static const char *const opts[] = {RECEIPTS_OPT_OPEN_RETURN_TOPICS, "tracked", NULL};
	core_recreate(opts);
}

TCase *core_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, core_setup, core_teardown);
	suite_add_tcase(s, tc);
	return tc;
}

struct rcpt_decision core_publish(const struct rcpt_publish *m)
{
	struct rcpt_decision d;
	rcpt_core__on_publish(core, m, &d);
	t_note(&d);
	return d;
}

void assert_ended_once(enum rcpt_outcome outcome, size_t published, uint64_t later_ms)
{
	struct rcpt_stats s = t_stats(core);
	ck_assert_uint_eq(s.pending, 0);
	ck_assert_uint_eq(s.totals[outcome], 1);
	ck_assert_uint_eq(rcpt_clients__count(&core->clients), 0);
	fake_host__advance_ms(later_ms);
	rcpt_core__on_tick(core);
	ck_assert_uint_eq(fake_host__publish_count(), published);
}
