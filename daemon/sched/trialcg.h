/*
 * trialcg: a cgroup v2 per trial, where the daemon may make them.
 *
 * Where a cgroup v2 hierarchy is mounted, the daemon's own cgroup is
 * writable and has cgroup.kill (Linux 5.14), each trainer is put in
 * SWEEPD/trial-ID under it, SWEEPD being sweepd-DEV-INO (the state dir),
 * before it execs (`sweepd --exec-trial` joins it). Whatever the trainer
 * starts stays in that cgroup whatever it does (setsid, double forks, an
 * empty environment), so cgroup.kill ends all of it when the trainer exits,
 * and a restarted daemon ends what its killed predecessor left: every
 * trial cgroup it finds at start-up. Elsewhere (no cgroup v2, no rights,
 * `--no-cgroups`) the subreaper (reaper.c) does what it can; it runs in
 * both cases.
 */
#ifndef SWEEPD_TRIALCG_H
#define SWEEPD_TRIALCG_H

#include <stddef.h>
#include <stdint.h>

struct sched;

/* Sets s->cg_base (owned) when per-trial cgroups can be used, after
 * killing and removing the trial cgroups a previous daemon left; else
 * leaves it NULL and says why in why (for the log). enable 0: off. */
void trialcg_init(struct sched *s, int enable, char *why, size_t whylen);
/* Makes the trial's cgroup; its cgroup.procs path in path. 0, or -errno
 * (path is then "": the trial runs without one). */
int trialcg_create(struct sched *s, int64_t trial_id, char *path, size_t len);
/* Kills everything in the trial's cgroup (cgroup.kill). */
void trialcg_kill(struct sched *s, int64_t trial_id);
/* Removes the cgroups of trials that are not running, killing what is
 * left in them; those still emptying are tried again next time. */
void trialcg_tidy(struct sched *s);
/* At the end: kills every trial cgroup, waits up to about a second for
 * them to empty, removes them and the daemon's own, frees s->cg_base. */
void trialcg_close(struct sched *s);

#endif
