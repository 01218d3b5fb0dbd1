/*
 * statedir.c: the default state directory and the socket path in it,
 * shared by sweepd (which creates them) and sweepctl (which connects).
 */
#include "common/statedir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* getenv that treats "" like unset: an exported but empty variable is
 * almost always a shell accident, not a request for the current dir. */
static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

/* snprintf into buf, mapping truncation to -ENAMETOOLONG. */
static int
join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s", a, b);

	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int
statedir_default(char *buf, size_t len)
{
	const char *v;

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if ((v = env_nonempty("SWEEP_STATE_DIR")))
		return join(buf, len, v, "");
	/* XDG: "all paths set in these environment variables must be
	 * absolute"; a relative one is to be ignored. */
	v = env_nonempty("XDG_STATE_HOME");
	if (v && v[0] == '/')
		return join(buf, len, v, strcmp(v, "/") == 0 ? "sweepd" : "/sweepd");
	if ((v = env_nonempty("HOME")))
		return join(buf, len, v, v[strlen(v) - 1] == '/' ?
			    ".local/state/sweepd" : "/.local/state/sweepd");
	return -ENOENT;
}

int
statedir_socket_path(const char *dir, char *buf, size_t len)
{
	size_t dl;
	int rc;

	if (!dir || !*dir || !buf)
		return -EINVAL;
	if (len == 0)
		return -ENAMETOOLONG;
	dl = strlen(dir);
	rc = join(buf, len, dir, dir[dl - 1] == '/' ? "sweepd.sock" : "/sweepd.sock");
	if (rc < 0)
		return rc;
	if (strlen(buf) >= STATEDIR_SUN_PATH_MAX) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
