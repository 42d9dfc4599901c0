/*
 * Receipts: a responder's PUBLISH to a request's return topic with its
 * correlation data. Into a private return area only a matching receipt from
 * a client the request reached may pass; on an open return topic anything
 * that matches no pending request is ordinary traffic.
 */
#ifndef RCPT_RECEIPT_H
#define RCPT_RECEIPT_H

#include "events.h"

struct rcpt_core;

/* Returns false when the publish is not a receipt candidate after all. */
bool rcpt_receipt__decide(struct rcpt_core *core, const struct rcpt_publish *msg,
		struct rcpt_decision *out);

#endif
