/*
 * A host for the fuzz targets: a clock that only moves when told, and
 * publishes and log lines that are counted, not kept.
 */
#ifndef FUZZ_HOST_H
#define FUZZ_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

struct fuzz_host {
	struct rcpt_host ops;
	uint64_t now;
	uint64_t published;
};

void fuzz_host__init(struct fuzz_host *h);

/* Reads fuzz input as a stream of small fields. */
struct fuzz_input {
	const uint8_t *data;
	size_t left;
};

uint8_t fuzz_input__byte(struct fuzz_input *in);
/* A NUL-terminated string of at most max bytes, copied into buf. */
const char *fuzz_input__string(struct fuzz_input *in, char *buf, size_t max);

#endif
