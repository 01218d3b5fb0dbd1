/*
 * test_opt.c: optimiser steps against values computed by hand from
 * PyTorch's update rules, and the learning-rate schedules.
 */
#include <errno.h>

#include "tests/harness.h"
#include "worker/opt.h"

static void
make(struct opt *o, int kind, double wd)
{
	struct params p;
	params_defaults(&p);
	p.optimizer = kind;
	p.weight_decay = wd;
	CHECK(opt_init(o, &p, 1) == 0);
}

static void
sgd_step_is_p_minus_lr_g(void)
{
	struct opt o;
	float p = 1.0f, g = 0.5f;

	make(&o, OPT_SGD, 0);
	opt_step(&o, &p, &g, 0.1f);
	CHECK_NEAR(p, 0.95, 1e-7);
	opt_free(&o);
}

static void
weight_decay_adds_wd_p_to_the_gradient(void)
{
	struct opt o;
	float p = 2.0f, g = 1.0f;

	make(&o, OPT_SGD, 0.1);
	opt_step(&o, &p, &g, 0.5f);
	/* 2 - 0.5 (1 + 0.1 * 2) */
	CHECK_NEAR(p, 1.4, 1e-6);
	opt_free(&o);
}

static void
momentum_steps_match_hand_values(void)
{
	struct opt o;
	float p = 1.0f, g = 1.0f;

	make(&o, OPT_MOMENTUM, 0);
	opt_step(&o, &p, &g, 0.1f);   /* buf = 1, p = 0.9 */
	CHECK_NEAR(p, 0.9, 1e-6);
	opt_step(&o, &p, &g, 0.1f);   /* buf = 0.9 + 1 = 1.9, p = 0.71 */
	CHECK_NEAR(p, 0.71, 1e-6);
	g = -2.0f;
	opt_step(&o, &p, &g, 0.1f);   /* buf = 1.71 - 2 = -0.29, p = 0.739 */
	CHECK_NEAR(p, 0.739, 1e-6);
	opt_free(&o);
}

static void
nesterov_steps_match_hand_values(void)
{
	struct opt o;
	float p = 1.0f, g = 1.0f;

	make(&o, OPT_NESTEROV, 0);
	opt_step(&o, &p, &g, 0.1f);   /* buf = 1; p -= 0.1 (1 + 0.9) */
	CHECK_NEAR(p, 0.81, 1e-6);
	opt_step(&o, &p, &g, 0.1f);   /* buf = 1.9; p -= 0.1 (1 + 1.71) */
	CHECK_NEAR(p, 0.539, 1e-6);
	opt_free(&o);
}

static void
adam_steps_match_hand_values(void)
{
	struct opt o;
	float p = 1.0f, g = 0.5f;

	make(&o, OPT_ADAM, 0);
	/* step 1: m = 0.05, v = 0.00025; mhat = 0.5, vhat = 0.25:
	 * p -= 0.1 * 0.5 / (0.5 + 1e-8) */
	opt_step(&o, &p, &g, 0.1f);
	CHECK_NEAR(p, 0.9, 1e-6);
	/* step 2, g = -1: m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 =
	 * 0.00124975; mhat = -0.055 / 0.19 = -0.289474,
	 * vhat = 0.00124975 / 0.001999 = 0.625188, sqrt = 0.790688;
	 * p -= 0.1 * -0.289474 / 0.790688 = -0.0366103 */
	g = -1.0f;
	opt_step(&o, &p, &g, 0.1f);
	CHECK_NEAR(p, 0.9366103, 2e-6);
	opt_free(&o);
}

static void
rmsprop_steps_match_hand_values(void)
{
	struct opt o;
	float p = 1.0f, g = 1.0f;

	make(&o, OPT_RMSPROP, 0);
	/* v = 0.01; p -= 0.01 / 0.1 */
	opt_step(&o, &p, &g, 0.01f);
	CHECK_NEAR(p, 0.9, 1e-6);
	/* v = 0.0099 + 0.01 = 0.0199; p -= 0.01 / 0.1410674 = 0.0708881 */
	opt_step(&o, &p, &g, 0.01f);
	CHECK_NEAR(p, 0.8291119, 2e-6);
	opt_free(&o);
}

static void
schedules_follow_their_formulas(void)
{
	struct params p;

	params_defaults(&p);
	p.lr = 0.1;
	p.epochs = 10;
	CHECK_NEAR(opt_schedule_lr(&p, 7), 0.1, 0);
	p.lr_schedule = SCHED_STEP;
	p.lr_step = 3;
	p.lr_gamma = 0.5;
	CHECK_NEAR(opt_schedule_lr(&p, 1), 0.1, 1e-12);
	CHECK_NEAR(opt_schedule_lr(&p, 3), 0.1, 1e-12);
	CHECK_NEAR(opt_schedule_lr(&p, 4), 0.05, 1e-12);
	CHECK_NEAR(opt_schedule_lr(&p, 7), 0.025, 1e-12);
	p.lr_schedule = SCHED_COSINE;
	p.lr_min = 0.0;
	CHECK_NEAR(opt_schedule_lr(&p, 1), 0.1, 1e-12);
	CHECK_NEAR(opt_schedule_lr(&p, 6), 0.05, 1e-12);   /* cos(pi/2) */
	CHECK(opt_schedule_lr(&p, 10) < 0.003);
}

static void
opt_free_is_harmless_twice(void)
{
	struct opt o;
	make(&o, OPT_ADAM, 0);
	opt_free(&o);
	opt_free(&o);
	CHECK(o.m == NULL && o.v == NULL);
}

int
main(void)
{
	RUN(sgd_step_is_p_minus_lr_g);
	RUN(weight_decay_adds_wd_p_to_the_gradient);
	RUN(momentum_steps_match_hand_values);
	RUN(nesterov_steps_match_hand_values);
	RUN(adam_steps_match_hand_values);
	RUN(rmsprop_steps_match_hand_values);
	RUN(schedules_follow_their_formulas);
	RUN(opt_free_is_harmless_twice);
	return harness_done();
}
