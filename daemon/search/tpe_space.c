/*
 * tpe_space.c: a TPE param's internal space and the kernel math tpe.c and
 * tpe_joint.c share (moved out of tpe.c unchanged).
 */
#include "daemon/search/tpe_space.h"

#include <math.h>

#define RAMP_AFTER    25      /* observations at full weight (the newest) */

static int
is_log(const struct spec_param *p)
{
	return p->kind == SPEC_LOGUNIFORM || p->kind == SPEC_LOGINT;
}

int
tpe_is_int(const struct spec_param *p)
{
	return p->kind == SPEC_INT || p->kind == SPEC_LOGINT;
}

/* A linear range whose width overflows a double ([-1e308, 1e308]) is
 * searched at half scale, where its width and the kernels are finite. */
static double
linear_scale(const struct spec_param *p)
{
	return isfinite(p->high - p->low) ? 1.0 : 0.5;
}

/* Internal space: log for log distributions; an integer k owns
 * [k - 0.5, k + 0.5], so the range widens by half a step each side. */
double
tpe_to_internal(const struct spec_param *p, double v)
{
	return is_log(p) ? log(v) : v * linear_scale(p);
}

void
tpe_internal_bounds(const struct spec_param *p, double *lo, double *hi)
{
	double half = tpe_is_int(p) ? 0.5 : 0.0;

	*lo = tpe_to_internal(p, p->low - half);
	*hi = tpe_to_internal(p, p->high + half);
}

double
tpe_from_internal(const struct spec_param *p, double x)
{
	double v = is_log(p) ? exp(x) : x / linear_scale(p);

	if (tpe_is_int(p))
		v = round(v);
	return fmin(fmax(v, p->low), p->high);
}

int
tpe_choice_index(const struct spec_param *p, const cJSON *v)
{
	const cJSON *c;
	int i = 0;

	if (!v)
		return -1;
	cJSON_ArrayForEach(c, p->values) {
		if (cJSON_Compare(v, c, 1))
			return i;
		i++;
	}
	return -1;
}

/*
 * Weights of a group's members, by trial number: the newest RAMP_AFTER at 1,
 * older ones on a ramp from 1/n up to 1 (Optuna's default_weights), so
 * an early region the search has left counts less.
 */
void
tpe_ramp_weights(double *w, int n)
{
	int old = n - RAMP_AFTER;

	for (int i = 0; i < n; i++) {
		if (n <= RAMP_AFTER || i >= old)
			w[i] = 1.0;
		else
			w[i] = old > 1 ? 1.0 / n + (1.0 - 1.0 / n) * i / (old - 1) :
			       1.0 / n;
	}
}

static double
phi_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

/* Phi(b) - Phi(a) for a <= b, computed on the tail where it is exact. */
double
tpe_phi_diff(double a, double b)
{
	if (a > 0)
		return 0.5 * (erfc(a / M_SQRT2) - erfc(b / M_SQRT2));
	return phi_cdf(b) - phi_cdf(a);
}

/* A draw from N(mu, sigma) truncated to [lo, hi]. Rejection: a kernel
 * centred inside with sigma <= range keeps at least a third of its mass
 * inside, so this rarely loops. */
double
tpe_trunc_draw(double mu, double sigma, double lo, double hi,
	   struct sampler_rng *r)
{
	for (int tries = 0; tries < 100; tries++) {
		double y = mu + sigma * sampler_rng_normal(r);
		if (y >= lo && y <= hi)
			return y;
	}
	return fmin(fmax(mu, lo), hi);
}
