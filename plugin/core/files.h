/*
 * The file operations of the state file, each returning 0 or an errno so
 * that callers can say what failed.
 */
#ifndef RCPT_FILES_H
#define RCPT_FILES_H

#include "types.h"

/* path + suffix, malloc'd; NULL: out of memory. */
char *rcpt_files__path_with(const char *path, const char *suffix);
/* write() until done, retrying on EINTR. */
int rcpt_files__write_all(int fd, const unsigned char *data, size_t len);
/* Writes data to tmp, fsyncs it, renames it over path and fsyncs the
 * directory. *step names the step that failed. */
int rcpt_files__write_atomically(const char *tmp, const char *path, const unsigned char *data, size_t len,
		const char **step);
/* The whole file, malloc'd (one spare byte at the end). */
int rcpt_files__read(const char *path, unsigned char **data, size_t *len);

#endif
