/*
 * The core's state: one part per module, each written only by the module
 * that owns it; the others go through its functions. Only the modules at
 * the top (life, restore, sessions, request, receipt, control, core) see
 * this composition; the floors below get just their own part and the parts
 * they use.
 */
#ifndef RCPT_CORE_PARTS_H
#define RCPT_CORE_PARTS_H

#include "areas.h"
#include "clients.h"
#include "config.h"
#include "host.h"
#include "network.h"
#include "identity.h"
#include "pending.h"
#include "persist.h"
#include "qos2.h"
#include "receipts.h"
#include "stats.h"
#include "sys.h"
#include "token.h"
#include "tracking.h"
#include "wills.h"

struct rcpt_cancel_job;

struct rcpt_core {
	struct rcpt_host host;
	struct rcpt_config cfg;
	struct rcpt_stats stats;
	struct rcpt_clients clients;
	struct rcpt_areas areas;
	struct rcpt_pending_table pending;
	struct rcpt_tracking tracking;
	struct rcpt_identity identity;
	struct rcpt_qos2 qos2;
	struct rcpt_persist persist;
	struct {
		char *topic_buf;              /* request prefix + "/" + area */
		struct rcpt_token_source tokens;
	} requests;                       /* request.c's */
	struct {
		/* The matched request's correlation, handed to the adapter after
		 * the request itself is freed. */
		uint8_t correlation[UINT16_MAX];
	} receipts;                       /* receipt.c's */
	struct rcpt_sys sys;
	struct rcpt_wills wills;          /* core.c's, through wills.c */
	struct rcpt_network network;      /* network.c's */
	struct {
		struct rcpt_cancel_job *first;   /* mass cancellations still to run, oldest first */
		struct rcpt_cancel_job *last;
	} cancels;                        /* control.c's */
	struct {
		uint64_t last_ms;
		bool silence_warned;
	} ticks;                          /* core.c's */
	struct {
		char *path;                   /* <state_file>.ids; NULL: not saved */
		uint64_t saved_ms;
		bool failing;
	} bindings;                       /* core.c's: saving the identity part */
};

#endif
