/*
 * opt.h: optimisers over one flat parameter block, with PyTorch's update
 * rules (torch.optim SGD with momentum/nesterov, Adam, RMSprop; dampening
 * 0, no amsgrad, rmsprop without momentum or centering), and the per-epoch
 * learning-rate schedules.
 *
 * weight_decay is PyTorch's: g += wd * p before the update, for every
 * parameter in the block.
 */
#ifndef SWEEPD_WORKER_OPT_H
#define SWEEPD_WORKER_OPT_H

#include <stddef.h>

#include "worker/params.h"

struct opt {
	int kind;             /* enum params_optimizer */
	float momentum, beta1, beta2, eps, alpha, weight_decay;
	size_t n;
	long step;            /* steps taken, for Adam's bias correction */
	float *m;             /* (n) owned: momentum buffer / Adam first moment */
	float *v;             /* (n) owned: Adam second moment / RMSprop square average */
};

/* Set up for n parameters with p's optimiser settings. Returns 0 or -ENOMEM.
 * Buffers start at zero, like PyTorch's lazily created state. */
int
opt_init(struct opt *o, const struct params *p, size_t n);

/* Free the buffers; zeroed or freed is fine. */
void
opt_free(struct opt *o);

/* One update of params (n) from grads (n) with learning rate lr. grads is
 * not modified. */
void
opt_step(struct opt *o, float *params, const float *grads, float lr);

/* The learning rate of epoch (1-based) under p's schedule:
 * constant: lr; step: lr * lr_gamma^floor((epoch - 1) / lr_step);
 * cosine: lr_min + (lr - lr_min) (1 + cos(pi (epoch - 1) / epochs)) / 2. */
double
opt_schedule_lr(const struct params *p, int epoch);

#endif
