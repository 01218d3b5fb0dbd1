/*
 * tpe_space.h: what the univariate estimators (tpe.c) and the joint ones
 * (tpe_joint.c) share: a param's internal space (log for log
 * distributions; an integer k owns [k - 0.5, k + 0.5]), the weights of a
 * group's members, the truncated Gaussian's mass and draws.
 */
#ifndef SWEEPD_DAEMON_TPE_SPACE_H
#define SWEEPD_DAEMON_TPE_SPACE_H

#include <stdint.h>

#include <cJSON.h>

#include "daemon/search/sampler_rng.h"
#include "daemon/search/spec.h"

/* Xored into a trial's seed for every TPE draw of it. */
#define TPE_STREAM    UINT64_C(0x7470652d7374726d)   /* "tpe-strm" */
/* The prior kernel's weight (a member weighs at most 1). */
#define TPE_PRIOR_WEIGHT  1.0
/* A kernel whose log density at x is this far below the largest one adds
 * less than e^-40 = 4e-18 of it: with at most a million kernels, a
 * relative error under 1e-11, so its exp() is skipped. */
#define TPE_LOG_NEGLIGIBLE 40.0

/* Whether p is an int or logint range (values rounded, bins of width 1). */
int tpe_is_int(const struct spec_param *p);

/* v (within p's range) in p's internal space. */
double tpe_to_internal(const struct spec_param *p, double v);

/* p's internal bounds, widened by half a step each side for integers. */
void tpe_internal_bounds(const struct spec_param *p, double *lo, double *hi);

/* An internal value back to p's value: rounded for integers, clamped to
 * the range. */
double tpe_from_internal(const struct spec_param *p, double x);

/* The index of v (borrowed, may be NULL) among choice p's values; -1. */
int tpe_choice_index(const struct spec_param *p, const cJSON *v);

/* Weights w[n] of a group's n members in trial-number order: the newest
 * 25 at 1, older ones on a ramp from 1/n up to 1 (Optuna's
 * default_weights). */
void tpe_ramp_weights(double *w, int n);

/* Phi(b) - Phi(a) for a <= b (standard normal), exact on the tails. */
double tpe_phi_diff(double a, double b);

/* A draw from N(mu, sigma) truncated to [lo, hi] with r. */
double tpe_trunc_draw(double mu, double sigma, double lo, double hi,
		      struct sampler_rng *r);

#endif
