/*
 * local.c: the local launcher, the first row of struct launcher.
 *
 * The trainer is a child of the daemon in its own session: signals go to
 * its process group, which is SIGKILLed as soon as the trainer exits, so
 * nothing it forked lingers in it. child_spawn starts it with posix_spawn
 * (spawn.c), which has no step for limits: RLIMIT_AS, nice and the trial's
 * cgroup are set by the exec wrapper, `sweepd-exec --exec-trial`
 * (exectrial.h), which the command runs under when there is any.
 */
#include "daemon/proc/child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

/* argv for `WRAPPER --exec-trial MEMORY_MB NICE CGROUP_PROCS -- COMMAND...`;
 * the two numbers are owned by the array, the rest borrowed. */
static int
wrap_limits(const struct child_config *cfg, char ***out)
{
	int n = 0;
	char **w;

	while (cfg->argv[n])
		n++;
	w = calloc((size_t)n + 7, sizeof *w);
	if (!w)
		return -ENOMEM;
	w[0] = (char *)cfg->exec_wrapper;
	w[1] = "--exec-trial";
	if (asprintf(&w[2], "%ld", cfg->memory_mb) < 0)
		w[2] = NULL;
	if (asprintf(&w[3], "%d", cfg->nice) < 0)
		w[3] = NULL;
	if (!w[2] || !w[3]) {
		free(w[2]);
		free(w[3]);
		free(w);
		return -ENOMEM;
	}
	w[4] = (char *)(cfg->cgroup_procs ? cfg->cgroup_procs : "");
	w[5] = "--";
	for (int i = 0; i < n; i++)
		w[6 + i] = cfg->argv[i];
	*out = w;
	return 0;
}

static int
local_start(struct child *c, const struct child_config *cfg, char *err,
	    size_t errlen)
{
	char **wrapped = NULL;
	int rc;

	if (cfg->memory_mb > 0 || cfg->nice != 0 ||
	    (cfg->cgroup_procs && cfg->cgroup_procs[0])) {
		if (!cfg->exec_wrapper) {
			snprintf(err, errlen, "limits set but no exec wrapper");
			return -EINVAL;
		}
		rc = wrap_limits(cfg, &wrapped);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		c->wrapped = 1;
	}
	rc = child_spawn(c, cfg, wrapped ? wrapped : cfg->argv, err, errlen);
	if (wrapped) {
		free(wrapped[2]);
		free(wrapped[3]);
		free(wrapped);
	}
	if (rc == 0)
		child_running(c);
	return rc;
}

/* Whatever the trainer left behind in its group goes with it. */
static void
local_reaped(struct child *c)
{
	if (kill(-c->pid, SIGKILL) < 0 && errno != ESRCH)
		log_warn("kill(-%d): %s", c->pid, strerror(errno));
}

const struct launcher launcher_local = {
	.name = "local",
	.report_fd = 3,
	.start = local_start,
	.signal = child_signal_group,
	.reaped = local_reaped,
	.release = NULL,
};
