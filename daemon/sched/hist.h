/*
 * hist.h: what the search and the pruners know of a sweep's trials.
 *
 * One record per trial number: its params, its state for the sampler, its
 * best objective and its objective curve. Kept only when the sweep's
 * algorithm (TPE) or pruner needs history; with on == 0 every call is a
 * no-op and hist_at returns NULL.
 */
#ifndef SWEEPD_SCHED_HIST_H
#define SWEEPD_SCHED_HIST_H

#include <cJSON.h>

#include "daemon/search/spec.h"

struct prune_curve;
struct rungs;
struct sampler_obs;

/* What the search and the pruners know of one trial (by number). */
struct sweep_hist {
	cJSON *params;         /* owned */
	int state;             /* enum sampler_state */
	double value;          /* best objective, NAN if none */
	/* Several objectives: each one's value at the best epoch of the
	 * first (hist_mo.h), NAN if none. */
	double values[SPEC_MAX_OBJECTIVES];
	/* The objective curve, one point per epoch line (not per epoch
	 * number: a trainer may count in global steps, up to
	 * REPORT_MAX_EPOCH): curve[i] at epoch epochs[i], ascending. */
	double *curve;         /* owned [cap_curve] */
	int *epochs;           /* owned [cap_curve] */
	int n_curve, cap_curve;
	/* ASHA's promotion (promote.h), kept while the trial has ended: its
	 * trials.id, SWEEP_SEED and attempts so far, the rung ASHA stopped
	 * it at (0: none, or not stopped by ASHA now), the highest rung it
	 * was promoted from and its promotions. */
	int64_t id;
	uint64_t seed;
	int attempt, asha_rung, promoted_rung, promotions;
};

struct hist {
	int on;                /* the sweep needs history */
	struct sweep_hist *v;  /* NULL or owned [cap], index number-1 */
	int cap;
	/* NULL or owned: ASHA's promotion index (rungs.h), made at the
	 * first hist_promotion of a sweep that promotes. Every write to a
	 * record goes through hist_at (hist_set_params, hist_push and
	 * hist_cut call it), and hist_at marks the record for the index to
	 * read again at the next hist_promotion. */
	struct rungs *rungs;
};

/* Trial number's record, grown as needed; NULL when off or out of memory.
 * Write through it at once, not after a later hist_promotion: the
 * promotion index reads the record again at the next one. */
struct sweep_hist *hist_at(struct hist *hs, int number);
/* A new trial (or attempt): params (JSON text) parsed, running, no curve. */
void hist_set_params(struct hist *hs, int number, const char *params_json);
/* Drops trial number's points from epoch on (epochs a lost batch did not
 * store), best: its best objective over what is left (NAN: none). */
void hist_cut(struct hist *hs, int number, int epoch, double best);
/* Appends epoch's value to trial number's curve. */
void hist_push(struct hist *hs, int number, int epoch, double v);
/* The last epoch number h reached, 0 if none. */
int hist_last_epoch(const struct sweep_hist *h);
/* ASHA's promotion (pruner.promote): the number of the trial of 1..n_created
 * to promote now, prune_promote's answer over the curves (prune.h), with
 * *rung; 0 when none (the pruner does not promote, nothing to promote, or
 * out of memory: then the index is dropped and made again at the next
 * call). sp is the sweep's, the same at every call. From hs->rungs:
 * O(rungs * (points + log n)) per record changed since the last call,
 * O(rungs * log n) for the answer. The scheduler asks for every sweep it
 * looks at, several times per kick. */
int hist_promotion(struct hist *hs, const struct spec *sp, int n_created,
		   int *rung);
/* h's curve as the pruners read it (prune.h), borrowing h's points: done
 * when h completed; budget 0 (unknown). */
void hist_curve(const struct sweep_hist *h, struct prune_curve *c);
void hist_free(struct hist *hs);
/* Observations for the sampler, of numbers 1..n_created: calloc'ed (the
 * caller frees), params borrowed from hs. NULL when none. */
struct sampler_obs *hist_build_obs(struct hist *hs, int n_created, int *n_out);
/* Whether any of trials 1..n_created has a value TPE can learn from. */
int hist_any_valued(const struct hist *hs, int n_created);

#endif
