/*
 * trialdiag.h: the learning-curve diagnosis of one trial, given what the
 * daemon knows of it besides its curve: how it ended, its params, the
 * sweep's space, the trainer kind and its chance level, and the best
 * training accuracy the sweep's ended trials reached. The rules are in
 * common/diag.[ch] and docs/diagnosis.md; this is the daemon's glue.
 */
#ifndef SWEEPD_DAEMON_TRIALDIAG_H
#define SWEEPD_DAEMON_TRIALDIAG_H

#include <cJSON.h>

#include "common/diag.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"

/* How a trial that ends as st (stopped for t->stop) ended, for the
 * diagnosis: a pruner or the live divergence check cut its curve short;
 * early stopping ended it when its objective stalled. */
enum diag_end tdiag_end_of(const struct trial *t, enum trial_status st);

/* The accuracy of guessing for a built-in trainer's trial: 1 / classes of
 * its dataset (fashion-mnist: 10; synthetic: synthetic_classes), params
 * winning over the trainer's options. NAN when unknown (an external
 * trainer, an idx: dataset). */
double tdiag_chance(const struct spec *sp, const cJSON *params);

/* A NEW diagnosis of t's curve so far (cJSON_Delete), NULL on ENOMEM. */
cJSON *tdiag_run(const struct sweep *sw, const struct trial *t,
		 enum diag_end end);

/* Records an ended trial's best train_acc as the sweep's, for the
 * relative underfitting rule (diagnosis.underfit_rel) of later trials. */
void tdiag_note_end(struct sweep *sw, const struct trial *t);

#endif
