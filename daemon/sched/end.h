/*
 * end.h: the end of a trial: classified (outcome.h), retried or requeued,
 * stored, counted and told to watchers; the sweep's failure budget and
 * fail-fast rule.
 */
#ifndef SWEEPD_SCHED_END_H
#define SWEEPD_SCHED_END_H

#include <stddef.h>
#include <uv.h>

struct outcome_in;
struct sched;
struct sweep;
struct trial;

/* Called by trial.c and manual.c once t's process (if any) is gone:
 * records the end and frees t, or requeues it. */
void sched_trial_ended(struct trial *t);
/* What is known of ended t, for outcome.h; borrows from t. */
void end_input(const struct trial *t, struct outcome_in *in);
/* Counts the ends a committed batch stored (batch.h, end_gen): the
 * sweeps' counters, and the sweeps that are done with them; then trials
 * start in the room they left. batch.c calls it before the loop polls. */
void end_count_stored(struct sched *s);
/* Redoes the writes an outage left undone in sw; 0 once all went through,
 * else the first failure. */
int end_flush_sweep(struct sweep *sw);
/* The storage outage's retry (hold.h), every SCHED_STORAGE_RETRY_MS: redoes
 * what it left undone; once that and a probe write go through, the outage
 * is over: sweeps may finish and trials start again. */
void end_storage_retry(uv_timer_t *tm);
/* Writes the outage left undone: unstored trial ends and requeues. */
int sched_unstored(const struct sched *s);

#endif
