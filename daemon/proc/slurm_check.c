/*
 * slurm_check.c: a Slurm sweep's submit-time refusals (see slurm_check.h).
 */
#include "daemon/proc/slurm_check.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories each machine has its own of (tmpfs or local disk). */
static const char *const node_local_dirs[] = { "/tmp", "/var/tmp", "/dev/shm", "/run" };

static const char *const slurm_tools[] = { "srun", "squeue", "scancel" };

/* The node-local directory that the absolute, resolved path p is in. */
static const char *
local_prefix(const char *p)
{
	for (size_t i = 0; i < sizeof node_local_dirs / sizeof node_local_dirs[0]; i++) {
		size_t n = strlen(node_local_dirs[i]);

		if (strncmp(p, node_local_dirs[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
			return node_local_dirs[i];
	}
	return NULL;
}

/* path with the symbolic links of its longest existing prefix followed,
 * into out (PATH_MAX). Returns 0 or -ENAMETOOLONG. */
static int
resolve(const char *path, char *out)
{
	char head[PATH_MAX], real[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof head)
		return -ENAMETOOLONG;
	memcpy(head, path, n + 1);
	for (;;) {
		char *slash;

		if (realpath(head, real)) {
			const char *tail = path + strlen(head);   /* "" or "/..." */
			int len = snprintf(out, PATH_MAX, "%s%s",
					   strcmp(real, "/") == 0 && *tail ? "" : real, tail);

			return len < PATH_MAX ? 0 : -ENAMETOOLONG;
		}
		slash = strrchr(head, '/');
		if (!slash || slash == head) {
			/* nothing of it exists but "/" */
			memcpy(out, path, n + 1);
			return 0;
		}
		*slash = '\0';
	}
}

const char *
slurm_node_local(const char *path)
{
	char real[PATH_MAX];
	const char *dir = local_prefix(path);

	if (dir || path[0] != '/')
		return dir;
	if (resolve(path, real) < 0)
		return NULL;
	return local_prefix(real);
}

/* 1 when name is an executable regular file in a directory of path. */
static int
on_path(const char *path, const char *name)
{
	const char *p = path;

	while (p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char file[PATH_MAX];
		struct stat st;
		int len = n ? snprintf(file, sizeof file, "%.*s/%s", (int)n, p, name)
			    : snprintf(file, sizeof file, "./%s", name);

		if (len > 0 && len < (int)sizeof file && stat(file, &st) == 0 &&
		    S_ISREG(st.st_mode) && access(file, X_OK) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int
check_tools(const struct slurm_check *c, char *err, size_t errlen)
{
	char missing[64] = "";
	int n = 0;

	for (size_t i = 0; i < sizeof slurm_tools / sizeof slurm_tools[0]; i++) {
		if (c->path && on_path(c->path, slurm_tools[i]))
			continue;
		snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
			 n++ ? ", " : "", slurm_tools[i]);
	}
	if (!n)
		return 0;
	if (!c->path)
		snprintf(err, errlen, "launcher slurm: %s not found: the daemon has no PATH "
			 "(start sweepd with Slurm's client commands on its PATH)", missing);
	else
		snprintf(err, errlen, "launcher slurm: %s not found in the daemon's PATH (%s): "
			 "install Slurm's client commands (Debian: slurm-client) or start "
			 "sweepd with them on its PATH", missing, c->path);
	return -EINVAL;
}

static int
check_conf(const struct slurm_check *c, char *err, size_t errlen)
{
	struct stat st;

	if (!c->slurm_conf)
		return 0;
	if (stat(c->slurm_conf, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(c->slurm_conf, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "launcher slurm: SLURM_CONF=%s is not a readable file (%s): "
		 "srun would retry it for 60 s and fail; start sweepd with SLURM_CONF naming "
		 "the cluster's slurm.conf, or without it", c->slurm_conf,
		 stat(c->slurm_conf, &st) != 0 ? strerror(errno)
		 : S_ISREG(st.st_mode) ? "not readable" : "not a regular file");
	return -EINVAL;
}

/* Refuses what, a path of role `what`, when it is node-local. */
static int
check_local(const char *what, const char *path, const char *fix, char *err, size_t errlen)
{
	const char *dir;

	if (!path || path[0] != '/')
		return 0;
	if (strlen(path) >= PATH_MAX) {
		snprintf(err, errlen, "launcher slurm: %s is longer than %d bytes", what,
			 PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	dir = slurm_node_local(path);
	if (!dir)
		return 0;
	snprintf(err, errlen, "launcher slurm: %s %s is under %s, which is local to each "
		 "machine: Slurm's compute nodes do not see it; %s (or start sweepd with "
		 "--slurm-local when the cluster's only node is this machine)", what, path, dir,
		 fix);
	return -EINVAL;
}

static int
check_paths(const struct slurm_check *c, char *err, size_t errlen)
{
	int rc;

	if (c->local_ok)
		return 0;
	rc = check_local(c->trial_root_given ? "the trial root (--trial-root)"
			 : "the trial root (STATE_DIR/trials, the default)", c->trial_root,
			 "start sweepd with --trial-root DIR on a file system the nodes share, "
			 "where each trial's SWEEP_TRIAL_DIR and checkpoints go", err, errlen);
	if (rc == 0)
		rc = check_local("trainer.cwd", c->cwd,
				 "give a cwd on a file system the nodes share", err, errlen);
	if (rc == 0 && c->argv && c->argv[0])
		rc = check_local("the trainer", c->argv[0],
				 "install it on a file system the nodes share", err, errlen);
	return rc;
}

static void
hms(char *buf, size_t len, double s)
{
	long t = (long)s + (s > (double)(long)s);

	snprintf(buf, len, "%02ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static int
check_time(const struct slurm_check *c, char *err, size_t errlen)
{
	char have[32], need[32];

	if (!c->opts || c->opts->time_s <= 0 || c->timeout_s <= 0 ||
	    (double)c->opts->time_s >= c->timeout_s)
		return 0;
	hms(have, sizeof have, (double)c->opts->time_s);
	hms(need, sizeof need, c->timeout_s);
	snprintf(err, errlen, "launcher.slurm.time %s is shorter than limits.trial_timeout_s "
		 "%g: Slurm would end every trial at %ld s, before sweepd's timeout; give a "
		 "time of at least %s or a shorter trial_timeout_s", have, c->timeout_s,
		 c->opts->time_s, need);
	return -EINVAL;
}

int
slurm_check_submit(const struct slurm_check *c, char *err, size_t errlen)
{
	int rc = check_tools(c, err, errlen);

	if (rc == 0)
		rc = check_conf(c, err, errlen);
	if (rc == 0)
		rc = check_paths(c, err, errlen);
	if (rc == 0)
		rc = check_time(c, err, errlen);
	return rc;
}
