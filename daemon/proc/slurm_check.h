/*
 * slurm_check.h: what can be told wrong about a Slurm sweep at submit,
 * before any srun runs (docs/slurm.md "Refused at submit"). Pure: no loop,
 * no child; it only looks at the file system (stat, access, realpath).
 * Whatever cannot be known here (a partition that does not exist, more
 * GPUs than any node has, GPUs on a cluster without gres) is left to
 * Slurm, which refuses it when srun submits the job.
 */
#ifndef SWEEPD_PROC_SLURM_CHECK_H
#define SWEEPD_PROC_SLURM_CHECK_H

#include <stddef.h>

#include "daemon/proc/slurm.h"

/* A Slurm sweep as submit sees it; every pointer borrowed. */
struct slurm_check {
	const char *path;             /* the daemon's $PATH; NULL: unset */
	const char *slurm_conf;       /* the daemon's $SLURM_CONF; NULL: unset
				       * (Slurm's default or a configless node) */
	const char *trial_root;       /* the trial root, absolute */
	int trial_root_given;         /* 1: from --trial-root; 0: the default
				       * (STATE_DIR/trials) */
	int local_ok;                 /* 1: the compute nodes are this machine
				       * (sweepd --slurm-local): node-local
				       * paths are not refused */
	const char *const *argv;      /* the trainer's argv, NULL-terminated */
	const char *cwd;              /* the trainer's cwd; NULL: none given */
	double timeout_s;             /* limits.trial_timeout_s; 0: none */
	const struct slurm_opts *opts; /* launcher.slurm with the daemon's
				       * defaults filled in; NULL: none */
};

/* Checks c, in this order, and refuses the first problem with a message
 * naming it:
 *   - srun, squeue or scancel not found as an executable in c->path (the
 *     message names each one missing and the PATH searched);
 *   - c->slurm_conf set but not a readable file (srun would retry it for
 *     60 s, then fail);
 *   - unless c->local_ok: the trial root, the trainer's cwd or an absolute
 *     argv[0] under /tmp, /var/tmp, /dev/shm or /run, followed through
 *     symbolic links (each machine has its own: the compute nodes do not
 *     see it); the trial root's message names --trial-root;
 *   - opts->time shorter than timeout_s (Slurm would end every trial
 *     before sweepd's own timeout).
 * Returns 0 when none applies, -EINVAL with the message in err, or
 * -ENAMETOOLONG for a path longer than PATH_MAX. */
int
slurm_check_submit(const struct slurm_check *c, char *err, size_t errlen);

/* The first node-local directory (/tmp, /var/tmp, /dev/shm, /run) that
 * path is in, following the symbolic links of its existing part; NULL
 * when none. path must be absolute. For the tests and for messages. */
const char *
slurm_node_local(const char *path);

#endif
