/*
 * ident.c: a process's /proc/PID/stat, and the mark a trainer carries.
 */
#include "daemon/proc/ident.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *
ident_proc_stat(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	size_t n;
	char *p;

	if (pid <= 0 || len < 2)
		return NULL;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
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
