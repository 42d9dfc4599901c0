/*
 * Reading the state file back at start: pending requests, their requesters
 * and recipients come back as they were saved, minus those the journal says
 * ended; a damaged file is set aside, never half-loaded.
 */
#ifndef RCPT_RESTORE_H
#define RCPT_RESTORE_H

struct rcpt_core;

/* Loads the state file named in the configuration, if any, and hands the
 * persist module the generation it found. */
void rcpt_restore__load(struct rcpt_core *core);

#endif
