/*
 * sampler_rng.c: the random source and one random draw of a param.
 */
#include "daemon/search/sampler_rng.h"

#include <math.h>

#define GOLDEN        UINT64_C(0x9e3779b97f4a7c15)

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t
sampler_trial_seed(uint64_t sweep_seed, int number)
{
	/* The number-th output of splitmix64 started at sweep_seed. */
	return mix64(sweep_seed + GOLDEN * (uint64_t)(int64_t)number) &
	       ((UINT64_C(1) << 53) - 1);
}

void
sampler_rng_init(struct sampler_rng *r, uint64_t seed, uint64_t stream)
{
	/* Mixing twice keeps nearby (seed, stream) pairs apart. */
	r->state = mix64(seed ^ mix64(stream + GOLDEN));
}

uint64_t
sampler_rng_next(struct sampler_rng *r)
{
	r->state += GOLDEN;
	return mix64(r->state);
}

double
sampler_rng_uniform(struct sampler_rng *r)
{
	return (double)(sampler_rng_next(r) >> 11) * 0x1.0p-53;
}

double
sampler_rng_normal(struct sampler_rng *r)
{
	double u1 = 1.0 - sampler_rng_uniform(r);   /* (0, 1]: log is finite */
	double u2 = sampler_rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t
sampler_name_stream(const char *name)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		h ^= *c;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

cJSON *
sampler_random_value(const struct spec_param *p, struct sampler_rng *r)
{
	double u = sampler_rng_uniform(r), x;
	int i;

	switch (p->kind) {
	case SPEC_CONST:
		return cJSON_Duplicate(p->values, 1);
	case SPEC_CHOICE:
		i = (int)(u * p->n_values);
		if (i >= p->n_values)
			i = p->n_values - 1;
		return cJSON_Duplicate(cJSON_GetArrayItem(p->values, i), 1);
	case SPEC_UNIFORM:
		/* Halved when the width overflows ([-1e308, 1e308]); the usual
		 * form otherwise, so existing sweeps draw the same values. */
		if (isfinite(p->high - p->low))
			x = p->low + u * (p->high - p->low);
		else
			x = 2.0 * (p->low / 2 + u * (p->high / 2 - p->low / 2));
		break;
	case SPEC_LOGUNIFORM:
		x = exp(log(p->low) + u * (log(p->high) - log(p->low)));
		break;
	case SPEC_INT:
		/* floor(u * n) for n = high - low + 1 <= 2^53 values. */
		x = p->low + floor(u * (p->high - p->low + 1));
		break;
	case SPEC_LOGINT:
		/* Each integer owns [k - 0.5, k + 0.5) of the log range. */
		x = log(p->low - 0.5) + u * (log(p->high + 0.5) - log(p->low - 0.5));
		x = round(exp(x));
		break;
	default:
		return NULL;
	}
	return cJSON_CreateNumber(clamp(x, p->low, p->high));
}

