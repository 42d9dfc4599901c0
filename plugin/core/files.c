/*
 * File operations of the state file (see the header).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/* A fault a test asked for; the step names are constants, compared by
 * content. Set before the step runs (the writer thread starts after). */
static const char *fault_step;
static int fault_error;

void rcpt_files__inject_fault(const char *step, int error)
{
	fault_step = step;
	fault_error = error;
}

static int fault(const char *step)
{
	if(fault_step == NULL || strcmp(fault_step, step)) return 0;
	fault_step = NULL;
	return fault_error;
}

int rcpt_files__open(const char *path, int flags, mode_t mode, const char *step)
{
	int error = fault(step);
	if(error){
		errno = error;
		return -1;
	}
	return open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

int rcpt_files__rename(const char *from, const char *to, const char *step)
{
	int error = fault(step);
	if(error) return error;
	return rename(from, to) ? errno : 0;
}

int rcpt_files__sync(int fd, const char *step)
{
	int error = fault(step);
	if(error) return error;
	return fdatasync(fd) ? errno : 0;
}

const char *rcpt_files__error_text(int error)
{
	if(error == ELOOP) return "a symbolic link is in its place (refused: the state files are never followed through links)";
	return strerror(error);
}

char *rcpt_files__path_with(const char *path, const char *suffix)
{
	size_t len = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(len);
	if(s) snprintf(s, len, "%s%s", path, suffix);
	return s;
}

int rcpt_files__write_all(int fd, const unsigned char *data, size_t len)
{
	while(len > 0){
		ssize_t n = write(fd, data, len);
		if(n < 0){
			if(errno == EINTR) continue;
			return errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory entry of a rename is durable only once the directory is
 * synced. */
int rcpt_files__sync_directory_of(const char *path)
{
	char *dir = strdup(path);
	if(dir == NULL) return ENOMEM;
	char *slash = strrchr(dir, '/');
	if(slash == NULL){
		strcpy(dir, ".");
	}else if(slash == dir){
		dir[1] = '\0';
	}else{
		*slash = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if(fd < 0) return errno;
	int rc = fault("fsync of the directory");
	if(rc == 0 && fsync(fd)) rc = errno;
	close(fd);
	return rc;
}

int rcpt_files__write_atomically(const char *tmp, const char *path, const unsigned char *data, size_t len,
		const char **step, bool *renamed)
{
	*renamed = false;
	*step = "open";
	int fd = rcpt_files__open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600, "open");
	if(fd < 0) return errno;
	*step = "write";
	int rc = fault("write");
	if(rc == 0) rc = rcpt_files__write_all(fd, data, len);
	if(rc == 0){
		*step = "fsync";
		rc = fault("fsync");
		if(rc == 0 && fsync(fd)) rc = errno;
	}
	if(close(fd) && rc == 0){
		*step = "close";
		rc = errno;
	}
	if(rc == 0){
		*step = "rename";
		rc = rcpt_files__rename(tmp, path, "rename");
	}
	if(rc){
		unlink(tmp);
		return rc;
	}
	*renamed = true;
	*step = "fsync of the directory";
	return rcpt_files__sync_directory_of(path);
}

int rcpt_files__read(const char *path, unsigned char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	int fd = rcpt_files__open(path, O_RDONLY, 0, "read");
	if(fd < 0) return errno;
	struct stat st;
	int rc = 0;
	if(fstat(fd, &st)){
		rc = errno;
	}else if(st.st_size > (off_t)1 << 34){
		rc = EFBIG;
	}else{
		*data = malloc((size_t)st.st_size + 1);
		if(*data == NULL) rc = ENOMEM;
	}
	while(rc == 0 && *len < (size_t)st.st_size){
		ssize_t n = read(fd, *data + *len, (size_t)st.st_size - *len);
		if(n < 0 && errno == EINTR) continue;
		if(n < 0) rc = errno;
		if(n <= 0) break;
		*len += (size_t)n;
	}
	close(fd);
	if(rc){
		free(*data);
		*data = NULL;
	}
	return rc;
}
