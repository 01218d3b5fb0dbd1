/*
 * rng.h: the worker's only source of randomness.
 *
 * xoshiro256** seeded through splitmix64. Every random decision of a trial
 * (split shuffle, weight init, epoch order, dropout masks, augmentation)
 * draws from its own stream derived from SWEEP_SEED, so turning dropout on
 * does not change the weight init, and results never depend on libc's rand.
 */
#ifndef SWEEPD_WORKER_RNG_H
#define SWEEPD_WORKER_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Named streams: one per kind of random decision. */
enum rng_stream {
	RNG_SPLIT = 1,    /* train/val shuffle */
	RNG_INIT,         /* weight init, autoencoder pre-training order */
	RNG_ORDER,        /* per-epoch batch order */
	RNG_DROPOUT,      /* dropout masks */
	RNG_AUGMENT,      /* shifts and flips */
	RNG_DATA,         /* synthetic data set (seeded by a constant, not SWEEP_SEED) */
};

/* Seed stream `stream` of `seed`; distinct (seed, stream) pairs give
 * independent-looking sequences. Never fails. */
void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

/* Next 64 random bits. */
uint64_t
rng_next(struct rng *r);

/* Uniform in [0, 1) with 24 (float) or 53 (double) random bits. */
float
rng_uniformf(struct rng *r);
double
rng_uniform(struct rng *r);

/* Standard normal (Box-Muller, no cached second value, so the sequence
 * depends only on the number of calls). */
double
rng_normal(struct rng *r);

/* Uniform integer in [0, n), n > 0; Lemire's multiply-shift with rejection,
 * so it is unbiased. */
uint32_t
rng_below(struct rng *r, uint32_t n);

/* Fisher-Yates shuffle of a[0..n). */
void
rng_shuffle(struct rng *r, uint32_t *a, size_t n);

#endif
