/*
 * trialcg: a cgroup v2 per trial, where the daemon may make them.
 *
 * Where a cgroup v2 hierarchy is mounted, the daemon's own cgroup is
 * writable and has cgroup.kill (Linux 5.14), each trainer is put in a
 * cgroup SWEEPD/cg-N under it, SWEEPD being sweepd-DEV-INO (the state
 * dir), from its start (spawn.h: clone3's CLONE_INTO_CGROUP). Whatever the
 * trainer starts stays in that cgroup whatever it does (setsid, double forks, an
 * empty environment), so cgroup.kill ends all of it when the trainer exits,
 * and a restarted daemon ends what its killed predecessor left: every
 * trial cgroup it finds at start-up. A cgroup its trainer left as it was
 * made (empty, unchanged) is kept for the next attempt: a clone into a
 * new cgroup, with its mkdir and its rmdir, costs several times a clone
 * into a used one (docs/DESIGN.md). Elsewhere (no cgroup v2, no rights,
 * `--no-cgroups`) the subreaper (reaper.c) does what it can; it runs in
 * both cases.
 */
#ifndef SWEEPD_PROC_TRIALCG_H
#define SWEEPD_PROC_TRIALCG_H

/* How deep a trainer's own cgroups under its trial's are removed (a
 * deeper tree is left, and trialcg_tidy tries again). */
#define TRIALCG_MAX_DEPTH 16
/* At most this many empty cgroups are kept for later attempts; an ended
 * attempt's is removed beyond it. */
#define TRIALCG_MAX_FREE 64

#include <stddef.h>
#include <stdint.h>

/* One per scheduler: the base directory, held open, and the cgroups made
 * under it (busy, kept or retired). Private to trialcg.c. */
struct trialcg;

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
/* A cgroup for the trial's attempt under the base, from now on its own:
 * one kept from an ended attempt, else a new one (cg-N, N never given
 * twice by one trialcg); its directory in path. 0, or -errno (path is
 * then "": the trial runs without one). cg NULL: -ENOENT. A cgroup
 * whose cgroup.kill was written is never used again: Linux 6.18 SIGKILLs
 * a process started by CLONE_INTO_CGROUP into such a cgroup (the kill
 * count it compares is the parent cgroup's). */
int trialcg_create(struct trialcg *cg, int64_t trial_id, int attempt,
		   char *path, size_t len);
/* The attempt's trainer exited, or never started. Its cgroup is kept for
 * a later attempt when its trainer left it as it was made: nothing in it
 * or under it, no cgroup of its own, not frozen, no controllers handed
 * down, no limit on the cgroups below it. Else it is retired: removed
 * when nothing is left in it (an rmdir, which fails while anything is),
 * else everything in it is killed (cgroup.kill) and trialcg_tidy removes
 * it once it has emptied.
 * Not the cgroup of a busy attempt: no-op. cg NULL: no-op. */
void trialcg_end(struct trialcg *cg, int64_t trial_id, int attempt);
/* trialcg_end for a trainer that died of SIGKILL: its cgroup is retired
 * even when it looks as made, since that SIGKILL may have come from its
 * own cgroup.kill (a process manager it ran, or the trainer itself),
 * which nothing in the cgroup's files shows and after which Linux kills
 * at birth whatever is cloned into it. */
void trialcg_end_killed(struct trialcg *cg, int64_t trial_id, int attempt);
/* Removes the retired cgroups that have emptied since, killing what is
 * left in them; those still emptying are tried again next time. Looks
 * only when one is left. A busy or kept cgroup is never touched. cg
 * NULL: no-op. */
void trialcg_tidy(struct trialcg *cg);
/* At the end: kills every trial cgroup (kept ones are only removed),
 * waits up to about a second for them to empty, removes them and the
 * base itself, frees cg. NULL ok. */
void trialcg_close(struct trialcg *cg);

#endif
