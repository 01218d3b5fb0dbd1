/*
 * tpe_joint.h: multivariate TPE (search.multivariate): the params without
 * "when" drawn and scored jointly, one product kernel per trial, as
 * Optuna's TPESampler(multivariate=True) and BOHB do. tpe.c calls it with
 * its good/bad split; the conditional params stay with tpe.c's
 * univariate estimators.
 */
#ifndef SWEEPD_DAEMON_TPE_JOINT_H
#define SWEEPD_DAEMON_TPE_JOINT_H

#include "daemon/search/sampler_rng.h"
#include "daemon/search/spec.h"

/*
 * The joint params of s (sampled, without "when"), in spec order, into
 * p[] (room for s->n_params), and their values for trial `number` into
 * out[] (numbers; a choice's index into its values), learnt from obs[n_obs]
 * split by group[] (1 good, 0 bad, -1 ignored) with the good members'
 * weights wgood[] per observation (NULL: by age). Its draws come from its
 * own stream of the trial's seed. Returns how many joint params there
 * are (0: none, out untouched) or -ENOMEM.
 */
int tpe_joint_suggest(const struct spec *s, int number,
		      const struct sampler_obs *obs, int n_obs,
		      const signed char *group, const double *wgood,
		      const struct spec_param **p, double *out);

#endif
