/*
 * scheduler.h: worker slots, and trials created and started.
 *
 * The scheduler owns the active sweeps (running or paused) in memory and
 * hands free worker slots to them round-robin, at most search.parallel per
 * sweep and --workers in all. Trials are created lazily, one number at a
 * time, from the sweep's sampler, so search.trials is a total kept in the
 * database across restarts. Every state change is written to the database
 * before anything is acknowledged.
 *
 * The rest of the scheduler, by concept: sweep.h (a sweep's lists and
 * life), control.h (what clients change: submit, cancel, pause, resume,
 * enqueue, extend, rerun), progress.h (report lines), end.h and outcome.h
 * (the end of a trial), hold.h (storage outages, spawn failures),
 * recover.h (start-up), hist.h (history for TPE and the pruners).
 */
#ifndef SWEEPD_SCHED_SCHEDULER_H
#define SWEEPD_SCHED_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#include "daemon/sched/state.h"
#include "daemon/sched/sweep.h"

struct trial;

/* The spawn hold's retry (hold.h): starts may go again. */
void sched_spawn_retry(uv_timer_t *tm);

/* Starts trials while slots are free. Cheap when there is nothing to do. */
void sched_kick(struct sched *s);
/* Stops every running trial for a shutdown (they are requeued). */
void sched_stop_all(struct sched *s);
/* Frees every active sweep (after the loop ended). */
void sched_free_all(struct sched *s);

/* Samples trial number n_created + 1 (fixed: NULL or partial params) and
 * stores it as queued into *out. learn: 0 when the caller knows no trial
 * has a value yet. 0, or a negative errno with err. */
int sched_create_trial(struct sweep *sw, const cJSON *fixed, int learn,
		       struct trial **out, char *err, size_t errlen);

/* For ask and tell (manual.c): the next trial of sw, a queued one first,
 * else a new one sampled and stored, moved to the running list (its
 * attempt not yet counted), into *out. 0, or the negative errno of the
 * sampler or the store with err (then *out is NULL). */
int sched_take(struct sweep *sw, struct trial **out, char *err, size_t errlen);
/* Tells watchers that t started. */
void sched_trial_started(struct trial *t);
/* A trial whose spawn was held: as it was before the attempt, at the head
 * of its queue. The database still has it queued (its start was never
 * recorded). */
void sched_put_back(struct trial *t);


#endif
