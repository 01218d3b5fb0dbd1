/*
 * local.c: the local launcher, the first row of struct launcher.
 *
 * The trainer is a child of the daemon in its own session: signals go to
 * its process group, which is SIGKILLed as soon as the trainer exits, so
 * nothing it forked lingers in it. child_spawn starts it (spawn.c), with
 * RLIMIT_AS, nice and the trial's cgroup set before it execs.
 */
#include "daemon/proc/child.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "daemon/log.h"

static int
local_start(struct child *c, const struct child_config *cfg, char *err,
	    size_t errlen)
{
	int rc = child_spawn(c, cfg, cfg->argv, err, errlen);

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
