/*
 * reaper: no descendant of a trial outlives it, nor the daemon.
 *
 * A trial's process group is killed when its trainer exits (trial.c), but a
 * descendant can leave the group (setsid, a double fork). sweepd makes
 * itself a child subreaper (PR_SET_CHILD_SUBREAPER), so such a descendant
 * is reparented to the daemon, not to init, once its ancestors in the trial
 * are gone: any child of the daemon that is not a trial's trainer is one.
 * It is killed, unless its environment says it belongs to a trial that is
 * still running (a trainer may start helpers of its own while it runs).
 *
 * Every trainer's environment carries SWEEPD_TRIAL=DEV:INO:ID (proc/ident.h) (the state
 * dir's device and inode, the trial id), which descendants inherit: it
 * tells whose a reparented child is, and it lets a restarted daemon find
 * the descendants of its killed predecessor's trials, which were
 * reparented elsewhere. A descendant that empties its environment and
 * escapes while its trial runs is killed at the next check.
 */
#ifndef SWEEPD_REAPER_H
#define SWEEPD_REAPER_H

#include <stddef.h>
#include <stdint.h>

struct sched;

#define REAPER_DELAY_MS 20   /* checks triggered together run once */

/* Makes the daemon a subreaper, fills s->reaper_key from the state dir and
 * starts watching SIGCHLD. 0 or -errno (err says what); the daemon runs on
 * without it, logging that escaped descendants may outlive their trials. */
int reaper_init(struct sched *s, char *err, size_t errlen);
/* Checks the daemon's children soon (a trainer exited, a child died). */
void reaper_schedule(struct sched *s);
/* At the end: kills and reaps every child that is not a trainer, round
 * after round while killing them reparents more (up to about a second),
 * and closes the reaper's handles. */
void reaper_close(struct sched *s);
/* Kills (SIGKILL) every process whose environment has SWEEPD_TRIAL=key:ID
 * for any trial, in one pass over /proc: at start-up, before any trial of
 * this daemon runs, each one is a predecessor's: a descendant that left a
 * trainer's group, or a trainer whose start was never stored (killed
 * between the spawn and the commit). Returns how many. */
int reaper_kill_all(const char *key);
#endif
