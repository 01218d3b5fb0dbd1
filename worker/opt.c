/*
 * opt.c: the update rules, one loop over n floats each.
 */
#include "worker/opt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int
opt_init(struct opt *o, const struct params *p, size_t n)
{
	memset(o, 0, sizeof(*o));
	o->kind = p->optimizer;
	o->momentum = (float)p->momentum;
	o->beta1 = (float)p->beta1;
	o->beta2 = (float)p->beta2;
	o->eps = (float)p->eps;
	o->alpha = (float)p->alpha;
	o->weight_decay = (float)p->weight_decay;
	o->n = n;
	o->m = calloc(n + 1, sizeof(float));
	o->v = calloc(n + 1, sizeof(float));
	if (!o->m || !o->v) {
		opt_free(o);
		return -ENOMEM;
	}
	return 0;
}

void
opt_free(struct opt *o)
{
	if (!o)
		return;
	free(o->m);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

static void
step_sgd(struct opt *o, float *p, const float *g, float lr)
{
	const float wd = o->weight_decay, mu = o->momentum;
	const bool first = o->step == 1;

	switch (o->kind) {
	case OPT_SGD:
		for (size_t i = 0; i < o->n; i++)
			p[i] -= lr * (g[i] + wd * p[i]);
		break;
	case OPT_MOMENTUM:
		/* buf = mu buf + g (buf = g on the first step); p -= lr buf */
		for (size_t i = 0; i < o->n; i++) {
			float gi = g[i] + wd * p[i];
			o->m[i] = first ? gi : mu * o->m[i] + gi;
			p[i] -= lr * o->m[i];
		}
		break;
	case OPT_NESTEROV:
		/* buf as above; p -= lr (g + mu buf) */
		for (size_t i = 0; i < o->n; i++) {
			float gi = g[i] + wd * p[i];
			o->m[i] = first ? gi : mu * o->m[i] + gi;
			p[i] -= lr * (gi + mu * o->m[i]);
		}
		break;
	}
}

static void
step_adam(struct opt *o, float *p, const float *g, float lr)
{
	const float b1 = o->beta1, b2 = o->beta2, eps = o->eps, wd = o->weight_decay;
	/* torch: p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps) */
	const double bc1 = 1.0 - pow(b1, (double)o->step);
	const double bc2 = 1.0 - pow(b2, (double)o->step);
	const float step_size = (float)(lr / bc1);
	const float rbc2 = (float)(1.0 / sqrt(bc2));

	for (size_t i = 0; i < o->n; i++) {
		float gi = g[i] + wd * p[i];
		o->m[i] = b1 * o->m[i] + (1.0f - b1) * gi;
		o->v[i] = b2 * o->v[i] + (1.0f - b2) * gi * gi;
		p[i] -= step_size * o->m[i] / (sqrtf(o->v[i]) * rbc2 + eps);
	}
}

static void
step_rmsprop(struct opt *o, float *p, const float *g, float lr)
{
	const float a = o->alpha, eps = o->eps, wd = o->weight_decay;

	/* v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps) */
	for (size_t i = 0; i < o->n; i++) {
		float gi = g[i] + wd * p[i];
		o->v[i] = a * o->v[i] + (1.0f - a) * gi * gi;
		p[i] -= lr * gi / (sqrtf(o->v[i]) + eps);
	}
}

void
opt_step(struct opt *o, float *params, const float *grads, float lr)
{
	o->step++;
	switch (o->kind) {
	case OPT_ADAM:
		step_adam(o, params, grads, lr);
		break;
	case OPT_RMSPROP:
		step_rmsprop(o, params, grads, lr);
		break;
	default:
		step_sgd(o, params, grads, lr);
		break;
	}
}

double
opt_schedule_lr(const struct params *p, int epoch)
{
	switch (p->lr_schedule) {
	case SCHED_STEP:
		return p->lr * pow(p->lr_gamma, (double)((epoch - 1) / p->lr_step));
	case SCHED_COSINE:
		return p->lr_min + (p->lr - p->lr_min) *
			(1.0 + cos(M_PI * (double)(epoch - 1) / (double)p->epochs)) / 2.0;
	default:
		return p->lr;
	}
}
