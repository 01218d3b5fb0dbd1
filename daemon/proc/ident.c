/*
 * ident.c: a process's /proc/PID/stat, and the mark a trainer carries.
 */
#include "daemon/proc/ident.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

int64_t
ident_boot_ticks(void)
{
	static long hz;
	struct timespec ts;

	if (hz <= 0)
		hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return -1;
	/* ns / (1e9 / hz), as the kernel's nsec_to_clock_t: exact in 64 bits
	 * for hz dividing 1e9 (100 everywhere Linux runs) */
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec) /
	       (1000000000 / hz);
}

void
ident_trial_mark(const char *key, int64_t trial_id, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%" PRId64, key, trial_id);
}
