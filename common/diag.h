/*
 * diag.h: learning-curve diagnosis. A pure module: a curve (one struct
 * diag_epoch per reported epoch) goes in, a verdict comes out as JSON; no
 * I/O, no clock, no global state.
 *
 * The daemon calls diag_diverged() on every epoch line (to stop a trial
 * whose loss went NaN/inf or exploded), diag_curve() as epochs arrive and
 * when the trial ends, and stores the JSON with the trial. The rules, the
 * thresholds and their spec keys are documented in docs/diagnosis.md.
 */
#ifndef SWEEPD_COMMON_DIAG_H
#define SWEEPD_COMMON_DIAG_H

#include <stddef.h>

#include <cJSON.h>

#include "common/report.h"

/*
 * One epoch of a curve. A metric the trainer did not report is NAN. A loss
 * it did report as NaN (or inf) should be +INFINITY, so it is not taken
 * for "not reported"; diag_epoch_from_report() does that. When a caller
 * passes NAN anyway, a loss that was finite at an earlier epoch and is NaN
 * now still counts as diverged.
 */
struct diag_epoch {
	int epoch;             /* 1-based, ascending along the curve */
	double train_loss, val_loss;
	double train_acc, val_acc;   /* fractions in [0, 1] */
	double objective;      /* the sweep's objective metric, NAN if absent */
	int n_grad;            /* entries in grad_norm, 0 if not reported */
	const double *grad_norm;     /* borrowed; one per weight layer, input
				      * side first */
};

/*
 * Thresholds. diag_config_default() sets the defaults given here; the spec's
 * "diagnosis" object overrides them key by key (the spec key is the field
 * name). Fractions are relative unless said otherwise.
 */
struct diag_config {
	int abort_on_divergence;  /* 1: diag_diverged() may stop a trial */
	double explode_factor;    /* 10: train loss above this times its first
				   * value = diverged (live and final) */
	double diverge_rise;      /* 0.5: final train loss (smoothed) above its
				   * first value by this fraction = diverged */
	double spike_factor;      /* 2: train loss multiplied by more than
				   * this from one epoch to the next, landing
				   * above half its first value = diverged */
	int min_epochs;           /* 3: epochs needed to judge a curve's shape */
	int smooth;               /* 3: epochs averaged for end values/slopes */
	double plateau_tol;       /* 0.02: train loss improved by less than this
				   * fraction of its first value = plateau */
	double overfit_rise;      /* 0.1: val loss (smoothed end) above its best
				   * by this fraction, train still falling */
	int overfit_patience;     /* 2: epochs past the best val epoch needed
				   * before a rise counts */
	double gap_threshold;     /* 0.1: train_acc - val_acc at the end above
				   * this (and growing) = overfitting */
	double loss_gap_ratio;    /* 2: val_loss / train_loss at the end above
				   * this (and growing) = overfitting, used
				   * when no accuracies are reported */
	double underfit_acc;      /* 0.7: final train accuracy below this =
				   * underfitting (0 turns the rule off) */
	double converge_slope;    /* 0.02: train and val loss both still
				   * falling faster than this fraction per
				   * epoch at the end = not converged */
	double vanish_ratio;      /* 0.01: first/last layer grad norm below
				   * this = vanishing gradients */
	double explode_ratio;     /* 100: first/last layer grad norm above
				   * this = exploding gradients */
	double grad_growth;       /* 1000: largest grad norm grew by this
				   * factor from epoch 1 = exploding */
	double grad_max;          /* 1000: a layer's grad norm above this
				   * (absolute) = exploding */
	int stop_slack;           /* 2: epochs past the best epoch before the
				   * early_stopping_point tag is given */
	double chance_acc;        /* 0: the accuracy of guessing (1 / classes);
				   * 0 = unknown (then struct diag_trial's,
				   * set for the built-in trainer) */
	double underfit_rel;      /* 0.8: final train accuracy below this
				   * times the sweep's best = underfitting
				   * (0 turns the rule off) */
};

/* Fills c with the defaults above. */
void diag_config_default(struct diag_config *c);

/*
 * Applies the spec's "diagnosis" object over *c (which the caller has set,
 * normally with diag_config_default). obj NULL leaves *c unchanged. Each key
 * is checked for type and range; on error *c is unchanged and err says
 * which, e.g. `diagnosis.gap_threshold: must be a number in [0, 1]` or
 * `diagnosis.foo: unknown key`. Returns 0 or -EINVAL.
 */
int diag_config_parse(struct diag_config *c, const cJSON *obj, char *err,
		      size_t errlen);

/*
 * Fills *e from an epoch report line: train_loss, val_loss, train_acc,
 * val_acc and the metric named objective (NULL: none). Losses reported as
 * NaN or null become +INFINITY (see struct diag_epoch). e->grad_norm
 * borrows r->grad_norm: copy it if r does not outlive e. 0, or -EINVAL
 * when r is not an epoch line.
 */
int diag_epoch_from_report(struct diag_epoch *e, const struct report_line *r,
			   const char *objective);

/* How a trial ended, as far as the diagnosis cares: a pruned trial's curve
 * is partial (only divergence, gradients, chance level and a clear overfit
 * are judged, and it is never told to train longer); an early-stopped one
 * stopped because its objective stalled, so it is not "not converged". */
enum diag_end {
	DIAG_RUNNING,
	DIAG_COMPLETED,
	DIAG_EARLY_STOPPED,
	DIAG_PRUNED,          /* by a pruner, or stopped live as diverged */
	DIAG_FAILED,          /* failed or cancelled: cut short like an
			       * early-stopped one, never "not converged" */
};

/* What the diagnosis knows about the trial beyond its curve. All borrowed;
 * diag_trial_init() sets "nothing known". */
struct diag_trial {
	enum diag_end end;
	const cJSON *params;      /* the trial's params object, or NULL */
	const cJSON *space;       /* the sweep's space object, or NULL */
	int builtin;              /* 1: the built-in trainer: its params are
				   * known, so advice can name them */
	double chance_acc;        /* accuracy of guessing for this trial's
				   * task; NAN: unknown (c->chance_acc wins
				   * when that is set) */
	double sweep_best_train_acc;   /* the best train_acc of the sweep's
					* trials that ended before; NAN: none */
};

void diag_trial_init(struct diag_trial *t, enum diag_end end);

/* "running", "completed", "early_stopped", "pruned", "failed". */
const char *diag_end_name(enum diag_end e);

/*
 * Diagnoses a curve of n epochs (n >= 0; ep may be NULL when n is 0).
 * mode_max: 1 when a larger objective is better, 0 when smaller is.
 * final: 1 once the trial has ended; 0 while it runs, when a curve still
 * falling steeply is "improving" rather than "underfitting", and a low
 * accuracy counts only once the curve has flattened.
 *
 * Returns a NEW object owned by the caller (cJSON_Delete), NULL on ENOMEM:
 *   {"verdict": "overfitting",
 *    "tags": ["early_stopping_point", ...],   secondary findings
 *    "stop_epoch": 6,            best validation epoch, or null
 *    "epochs_past_stop": 9,
 *    "reason": "val_loss rose 31% above its best (epoch 6) while ...",
 *    "evidence": {"epochs": 15, "val_best_epoch": 6, ...},   numbers only
 *    "advice": ["...", ...],
 *    "not_judged": ["gradients: grad_norm not reported", ...]}
 * The verdict is one of diag_verdict_names(); "insufficient_data" when the
 * curve is too short to judge, "unknown" when it has no loss or accuracy,
 * "not_learning" when its accuracy stayed at chance (needs the chance
 * level), "not_converged" when it ended still improving.
 */
cJSON *diag_curve(const struct diag_config *c, const struct diag_epoch *ep,
		  int n, int mode_max, int final);

/*
 * diag_curve() with what is known of the trial (t NULL: nothing; final is
 * then t->end != DIAG_RUNNING). The object also gets "ended": the name of
 * t->end. A pruned trial with no finding gets the verdict "pruned"; a trial
 * whose metrics cannot show a fit (no training or no validation metric)
 * gets "partial_metrics" instead of "good_fit"; advice that the trial's
 * params already follow (adam to an adam trial, a higher learning rate at
 * the top of its range) is left out.
 */
cJSON *diag_trial_curve(const struct diag_config *c,
			const struct diag_epoch *ep, int n, int mode_max,
			const struct diag_trial *t);

/*
 * The live check, on the newest epoch ep[n-1]: 1 when the trial diverged
 * and should be stopped now (train or val loss NaN/inf, a grad norm
 * NaN/inf, or train loss above explode_factor times its first value), with
 * a one-line reason in why (when not NULL); 0 otherwise, and always 0 when
 * c->abort_on_divergence is 0.
 */
int diag_diverged(const struct diag_config *c, const struct diag_epoch *ep,
		  int n, char *why, size_t whylen);

/* Every verdict string diag_curve() can return, in a fixed order; *n gets
 * the count. Static storage. Tags are verdict names too, plus
 * "early_stopping_point". */
const char *const *diag_verdict_names(int *n);

#endif
