/*
 * Creation-ordered lists of pending requests: doubly linked through links
 * inside the request, so that listings page from the oldest request without
 * sorting and a request leaves any list in O(1). `member` names the
 * struct rcpt_link of the request that a list uses.
 */
#ifndef RCPT_LIST_H
#define RCPT_LIST_H

struct rcpt_pending;

struct rcpt_link {
	struct rcpt_pending *prev;
	struct rcpt_pending *next;
};

struct rcpt_list {
	struct rcpt_pending *oldest;
	struct rcpt_pending *newest;
};

#define RCPT_LIST_APPEND(list, p, member) do { \
		(p)->member.prev = (list)->newest; \
		(p)->member.next = NULL; \
		if((list)->newest) (list)->newest->member.next = (p); \
		else (list)->oldest = (p); \
		(list)->newest = (p); \
	} while(0)

#define RCPT_LIST_REMOVE(list, p, member) do { \
		if((p)->member.prev) (p)->member.prev->member.next = (p)->member.next; \
		else (list)->oldest = (p)->member.next; \
		if((p)->member.next) (p)->member.next->member.prev = (p)->member.prev; \
		else (list)->newest = (p)->member.prev; \
	} while(0)

#endif
