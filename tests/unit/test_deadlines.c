/* The deadline heap: order under random deadlines and removals from the
 * middle, with each record knowing its own index. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "suites.h"

enum { N = 3000 };

/* A record as the heap sees one: its deadline and its index. */
struct timed {
	uint64_t deadline_ms;
	uint32_t heap_index;
};

#define EMPTY_HEAP RCPT_HEAP_OF(struct timed, deadline_ms, heap_index)

static struct timed **make(size_t n)
{
	struct timed **p = calloc(n, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	for(size_t i = 0; i < n; i++){
		p[i] = calloc(1, sizeof(**p));
		ck_assert_ptr_nonnull(p[i]);
	}
	return p;
}

static void destroy(struct timed **p, size_t n)
{
	for(size_t i = 0; i < n; i++) free(p[i]);
	free(p);
}

/* Every parent is due no later than its children, and indices agree.
 * Checked in plain C: one ck_assert per item would dominate the run time. */
static void assert_heap(const struct rcpt_heap *h)
{
	for(uint32_t i = 0; i < h->count; i++){
		const struct timed *item = h->items[i];
		const struct timed *parent = i ? h->items[(i - 1) / 2] : NULL;
		bool ok = item->heap_index == i && (parent == NULL || parent->deadline_ms <= item->deadline_ms);
		if(!ok) ck_abort_msg("heap broken at index %u of %u", i, h->count);
	}
}

static void drain_in_order(struct rcpt_heap *h, size_t expect)
{
	uint64_t last = 0;
	size_t n = 0;
	struct timed *p;
	while((p = rcpt_heap__top(h)) != NULL){
		ck_assert_uint_ge(p->deadline_ms, last);
		last = p->deadline_ms;
		rcpt_heap__remove(h, p);
		n++;
	}
	ck_assert_uint_eq(n, expect);
	ck_assert_uint_eq(h->count, 0);
}

START_TEST(test_random_order)
{
	struct rcpt_heap h = EMPTY_HEAP;
	struct timed **p = make(N);
	srand(1);
	for(size_t i = 0; i < N; i++){
		p[i]->deadline_ms = (uint64_t)(rand() % 5000);
		ck_assert_int_eq(rcpt_heap__push(&h, p[i]), RCPT_OK);
	}
	ck_assert_uint_eq(h.count, N);
	assert_heap(&h);
	drain_in_order(&h, N);
	rcpt_heap__free(&h);
	destroy(p, N);
}
END_TEST

START_TEST(test_remove_from_middle)
{
	struct rcpt_heap h = EMPTY_HEAP;
	struct timed **p = make(N);
	srand(2);
	for(size_t i = 0; i < N; i++){
		p[i]->deadline_ms = (uint64_t)(rand() % 100000);
		ck_assert_int_eq(rcpt_heap__push(&h, p[i]), RCPT_OK);
	}
	/* Remove every third one, wherever it sits. */
	for(size_t i = 0; i < N; i += 3){
		rcpt_heap__remove(&h, p[i]);
		assert_heap(&h);
	}
	for(uint32_t k = 0; k < h.count; k++){
		size_t idx = 0;
		while(p[idx] != h.items[k]) idx++;
		if(idx % 3 == 0) ck_abort_msg("removed item %zu still in the heap", idx);
	}
	drain_in_order(&h, N - (N + 2) / 3);
	rcpt_heap__free(&h);
	destroy(p, N);
}
END_TEST

/* Same-deadline requests, as most are, then removal of the last one added. */
START_TEST(test_equal_deadlines)
{
	struct rcpt_heap h = EMPTY_HEAP;
	struct timed **p = make(10);
	for(size_t i = 0; i < 10; i++){
		p[i]->deadline_ms = 500;
		ck_assert_int_eq(rcpt_heap__push(&h, p[i]), RCPT_OK);
		/* A new one with an equal deadline stays at the bottom. */
		ck_assert_uint_eq(p[i]->heap_index, i);
	}
	rcpt_heap__remove(&h, p[9]);
	ck_assert_uint_eq(h.count, 9);
	assert_heap(&h);
	drain_in_order(&h, 9);
	rcpt_heap__free(&h);
	destroy(p, 10);
}
END_TEST

START_TEST(test_remove_absent_and_empty)
{
	struct rcpt_heap h = EMPTY_HEAP;
	struct timed **p = make(3);
	ck_assert_ptr_null(rcpt_heap__top(&h));
	p[0]->deadline_ms = 1;
	p[1]->deadline_ms = 2;
	ck_assert_int_eq(rcpt_heap__push(&h, p[0]), RCPT_OK);
	ck_assert_int_eq(rcpt_heap__push(&h, p[1]), RCPT_OK);
	/* p[2] claims index 0 but is not in the heap. */
	p[2]->heap_index = 0;
	rcpt_heap__remove(&h, p[2]);
	p[2]->heap_index = 77;
	rcpt_heap__remove(&h, p[2]);
	ck_assert_uint_eq(h.count, 2);
	rcpt_heap__remove(&h, p[0]);
	rcpt_heap__remove(&h, p[0]);   /* twice: a no-op */
	ck_assert_uint_eq(h.count, 1);
	ck_assert_ptr_eq(rcpt_heap__top(&h), p[1]);
	rcpt_heap__free(&h);
	ck_assert_ptr_null(h.items);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_uint_eq(h.capacity, 0);
	destroy(p, 3);
}
END_TEST

Suite *deadlines_suite(void)
{
	Suite *s = suite_create("deadlines");
	TCase *tc = tcase_create("heap");
	tcase_add_test(tc, test_random_order);
	tcase_add_test(tc, test_remove_from_middle);
	tcase_add_test(tc, test_equal_deadlines);
	tcase_add_test(tc, test_remove_absent_and_empty);
	suite_add_tcase(s, tc);
	return s;
}
