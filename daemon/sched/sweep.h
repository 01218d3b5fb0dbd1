/*
 * sweep.h: an active sweep's life: created, ended (cancelled, failed,
 * completed) and freed; its queue and running list. struct sweep itself is
 * in state.h, with the scheduler's, so that trial.c can read it without
 * depending on this module.
 *
 * Invariants:
 * - n_created only grows: trial numbers are never reused, and a sweep has
 *   at most search.trials of them whatever happens to the daemon.
 * - A sweep leaves the active list only after its last running trial has
 *   ended, so a trial never points to a freed sweep.
 */
#ifndef SWEEPD_SCHED_SWEEP_H
#define SWEEPD_SCHED_SWEEP_H

#include <stdint.h>
#include <cJSON.h>

#include "common/vocab.h"
#include "daemon/sched/state.h"   /* struct sweep */

struct sched;
struct spec;
struct trial;


/* Failed trials, before any epoch and all alike, that end a sweep whose
 * spec sets no limits.max_failures. */
#define SCHED_FAIL_FAST 3

/* The active sweep with this id, or NULL (ended or unknown). */
struct sweep *sched_find(struct sched *s, int64_t id);
/* The running trial whose trainer has pid (when pid > 0) or whose id is
 * id (when id > 0); NULL if none. Its trainer may have exited already
 * (t->exited) while its pipes drain. */
struct trial *sched_running_trial(const struct sched *s, int pid, int64_t id);

/* A sweep in memory for the stored sweep id, running; it owns sp. NULL on
 * ENOMEM. Not yet in the scheduler's list. */
struct sweep *sweep_new(struct sched *s, int64_t id, struct spec *sp);
/* Frees sw with its queued and unstored trials (none may run). NULL ok. */
void sweep_free(struct sweep *sw);
/* Into, out of the scheduler's list of active sweeps (ascending id). */
void sweep_insert(struct sched *s, struct sweep *sw);
void sweep_unlink(struct sched *s, struct sweep *sw);

/* The queue (run in this order) and the running list. */
void sweep_queue_push(struct sweep *sw, struct trial *t);
/* Back at the head: a trial whose start was held goes first again. */
void sweep_queue_push_front(struct sweep *sw, struct trial *t);
struct trial *sweep_queue_pop(struct sweep *sw);
void sweep_running_add(struct sweep *sw, struct trial *t);
void sweep_running_remove(struct sweep *sw, struct trial *t);

/* {"event":name,"sweep","status"} to the sweep's watchers: sweep_ended
 * (with "error": null or why it failed or was cancelled), sweep_paused,
 * sweep_resumed. */
void sweep_broadcast_event(struct sweep *sw, const char *name,
			   enum sweep_status st, const char *error);
/* Decides the sweep's end (cancel, too many failures): the status is
 * stored at once, running trials are stopped, and the sweep is finished
 * when the last of them has ended. 0 or a storage error. */
int sweep_end(struct sweep *sw, enum sweep_status st, const char *error);
/* Finishes sw when nothing of it is left to run or store. Returns 1 when
 * the sweep ended (and was freed). */
int sweep_check_done(struct sweep *sw);
/* Whether a trial ASHA stopped may be promoted now (pruner.promote,
 * promote.h): the sweep is not done while one may. Answered from an
 * index of sw's history (hist_promotion), not a scan of it: the
 * scheduler asks for every sweep it looks at, several times per kick. */
int sweep_promotable(struct sweep *sw);

#endif
