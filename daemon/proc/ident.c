/*
 * ident.c: a process's /proc/PID/stat, and the mark a trainer carries.
 */
#include "daemon/proc/ident.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *
ident_proc_stat(int pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	char *p;
	int fd;

	if (pid <= 0 || len < 2)
		return NULL;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	/* One read: the kernel makes the whole line at the first one. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and ')'. */
	p = strrchr(buf, ')');
	return p ? p + 1 : NULL;
}

void
ident_trial_mark(const char *key, int64_t trial_id, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%" PRId64, key, trial_id);
}
