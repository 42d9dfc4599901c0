/*
 * The file operations of the state file, each returning 0 or an errno so
 * that callers can say what failed. Files are opened with O_NOFOLLOW: a
 * symbolic link planted where the state file, its journal or its temporary
 * file go is refused (ELOOP), never followed.
 */
#ifndef RCPT_FILES_H
#define RCPT_FILES_H

#include <sys/types.h>

#include "types.h"

/* path + suffix, malloc'd; NULL: out of memory. */
char *rcpt_files__path_with(const char *path, const char *suffix);
/* write() until done, retrying on EINTR. */
int rcpt_files__write_all(int fd, const unsigned char *data, size_t len);
/* open(2) with O_NOFOLLOW and O_CLOEXEC added: the descriptor, or -1 with
 * errno set. step names it for rcpt_files__inject_fault. */
int rcpt_files__open(const char *path, int flags, mode_t mode, const char *step);
/* rename(2): 0 or an errno. */
int rcpt_files__rename(const char *from, const char *to, const char *step);
/* Writes data to tmp, fsyncs it, renames it over path and fsyncs the
 * directory. *step names the step that failed; *renamed tells whether path
 * was replaced (a failure after it still leaves the new file there). */
int rcpt_files__write_atomically(const char *tmp, const char *path, const unsigned char *data, size_t len,
		const char **step, bool *renamed);
/* fdatasync(2): 0 or an errno. */
int rcpt_files__sync(int fd, const char *step);
/* fsync(2) of the directory that holds path: its renames are durable. */
int rcpt_files__sync_directory_of(const char *path);
/* strerror, saying plainly when a symbolic link was refused. */
const char *rcpt_files__error_text(int error);
/* For tests: the next step of this name fails with error (steps:
 * "open", "write", "fsync", "rename", "fsync of the directory", and
 * those callers name). */
void rcpt_files__inject_fault(const char *step, int error);
/* The whole file, malloc'd (one spare byte at the end). */
int rcpt_files__read(const char *path, unsigned char **data, size_t *len);

#endif
