/*
 * trialcg: a cgroup v2 per trial, where the daemon may make them.
 *
 * Where a cgroup v2 hierarchy is mounted, the daemon's own cgroup is
 * writable and has cgroup.kill (Linux 5.14), each trainer is put in
 * SWEEPD/trial-ID under it, SWEEPD being sweepd-DEV-INO (the state dir),
 * from its start (spawn.h: clone3's CLONE_INTO_CGROUP). Whatever the
 * trainer starts stays in that cgroup whatever it does (setsid, double forks, an
 * empty environment), so cgroup.kill ends all of it when the trainer exits,
 * and a restarted daemon ends what its killed predecessor left: every
 * trial cgroup it finds at start-up. Elsewhere (no cgroup v2, no rights,
 * `--no-cgroups`) the subreaper (reaper.c) does what it can; it runs in
 * both cases.
 */
#ifndef SWEEPD_PROC_TRIALCG_H
#define SWEEPD_PROC_TRIALCG_H

/* How deep a trainer's own cgroups under its trial's are removed (a
 * deeper tree is left, and trialcg_tidy tries again). */
#define TRIALCG_MAX_DEPTH 16

#include <stddef.h>
#include <stdint.h>

/* One per scheduler: the base directory, held open, and whether a trial
 * cgroup was left for trialcg_tidy. Private to trialcg.c. */
struct trialcg;

/* 1 while the trainer of trial_id still runs: its cgroup is left alone. */
typedef int (*trialcg_running_fn)(void *ud, int64_t trial_id);

/* A NEW trialcg (owned by the caller, free with trialcg_close) when
 * per-trial cgroups can be used, after killing and removing the trial
 * cgroups a previous daemon left in its base directory; else NULL, with
 * why in why (for the log; "" when there is nothing to say). enable 0:
 * off. */
struct trialcg *trialcg_init(const char *state_dir, int enable, char *why,
			     size_t whylen);
/* The base directory's path, borrowed until trialcg_close; NULL for a
 * NULL cg. */
const char *trialcg_path(const struct trialcg *cg);
/* The base directory's fd (borrowed until trialcg_close), and in *name
 * the part of path (a trialcg_create path) below it: a spawn opens the
 * trial's cgroup by one step from the base rather than a walk of its
 * whole path. -1 (and path itself in *name) for a NULL cg or a path not
 * under the base. */
int trialcg_at(const struct trialcg *cg, const char *path, const char **name);
/* Makes the cgroup of the trial's attempt under the base,
 * trial-ID-ATTEMPT; its directory in path. 0, or -errno (path is then "":
 * the trial runs without one). cg NULL: -ENOENT. A cgroup is never used
 * again once it was killed: Linux 6.18 SIGKILLs a process started by
 * CLONE_INTO_CGROUP into a cgroup whose cgroup.kill was ever written (its
 * kill count is not the one of the parent's cgroup), so each attempt has a
 * cgroup of its own. */
int trialcg_create(struct trialcg *cg, int64_t trial_id, int attempt,
		   char *path, size_t len);
/* The attempt's trainer exited, or never started: its cgroup is removed
 * when nothing is left in it (an rmdir, which fails while anything is);
 * else everything in it is killed (cgroup.kill) and trialcg_tidy removes
 * it once it has emptied. cg NULL: no-op. */
void trialcg_end(struct trialcg *cg, int64_t trial_id, int attempt);
/* Removes the cgroups of trials that are not running, killing what is
 * left in them; those still emptying are tried again next time. Looks
 * only when trialcg_end left one (or one it left is still there). cg
 * NULL: no-op. */
void trialcg_tidy(struct trialcg *cg, trialcg_running_fn running, void *ud);
/* At the end: kills every trial cgroup, waits up to about a second for
 * them to empty, removes them and the base itself, frees cg. NULL ok. */
void trialcg_close(struct trialcg *cg);

#endif
