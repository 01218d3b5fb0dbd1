/*
 * pretrain.c: greedy layer-wise autoencoder pre-training (init "autoencoder").
 *
 * Hidden layer l is trained as the encoder of a one-hidden-layer
 * autoencoder, h = f(W_l x + b_l), x' = W' h + b' (linear decoder, dropped
 * afterwards), minimising the mean squared reconstruction error of its
 * input x: the training images for l = 0, else their codes through the
 * already pre-trained layers 0..l-1 (no BatchNorm, no dropout: BatchNorm
 * starts at identity when supervised training begins). Each layer gets
 * pretrain_epochs epochs with the trial's optimiser, lr and batch size;
 * the output layer keeps its random init.
 */
#include "worker/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/opt.h"

struct ae {
	int n_in, n_out, B;
	float *params, *grads;   /* (n) each: We (n_out, n_in), be, Wd (n_in, n_out), bd */
	size_t n;
	float *we, *be, *wd, *bd, *dwe, *dbe, *dwd, *dbd;
	float *h, *dh;           /* (B, n_out) code and its gradient */
	float *r;                /* (B, n_in) reconstruction, then its gradient */
};

static void
ae_free(struct ae *a)
{
	free(a->params);
	free(a->grads);
	free(a->h);
	free(a->dh);
	free(a->r);
	memset(a, 0, sizeof(*a));
}

static int
ae_init(struct ae *a, const struct nn_layer *L, int B, struct rng *rg)
{
	size_t nw = (size_t)L->n_in * L->n_out;

	memset(a, 0, sizeof(*a));
	a->n_in = L->n_in;
	a->n_out = L->n_out;
	a->B = B;
	a->n = 2 * nw + (size_t)L->n_in + (size_t)L->n_out;
	a->params = calloc(a->n, sizeof(float));
	a->grads = calloc(a->n, sizeof(float));
	a->h = malloc((size_t)B * L->n_out * sizeof(float));
	a->dh = malloc((size_t)B * L->n_out * sizeof(float));
	a->r = malloc((size_t)B * L->n_in * sizeof(float));
	if (!a->params || !a->grads || !a->h || !a->dh || !a->r) {
		ae_free(a);
		return -ENOMEM;
	}
	a->we = a->params, a->dwe = a->grads;
	a->be = a->we + nw, a->dbe = a->dwe + nw;
	a->wd = a->be + L->n_out, a->dwd = a->dbe + L->n_out;
	a->bd = a->wd + nw, a->dbd = a->dwd + nw;
	memcpy(a->we, L->w, nw * sizeof(float));
	memcpy(a->be, L->b, (size_t)L->n_out * sizeof(float));
	/* decoder: Glorot uniform */
	double bound = sqrt(6.0 / (L->n_in + L->n_out));
	for (size_t i = 0; i < nw; i++)
		a->wd[i] = (float)((2.0 * rng_uniform(rg) - 1.0) * bound);
	return 0;
}

/* One step on the batch x (B, n_in); returns the summed squared error. */
static double
ae_step(struct ae *a, int act, const float *x, int B, struct opt *o, float lr)
{
	size_t nh = (size_t)B * a->n_out, nx = (size_t)B * a->n_in;
	double sse = 0.0;

	nn_dense_forward(a->h, x, a->we, a->be, B, a->n_in, a->n_out);
	nn_act_forward(act, a->h, a->h, nh);
	nn_dense_forward(a->r, a->h, a->wd, a->bd, B, a->n_out, a->n_in);
	/* loss = sum (r - x)^2 / (B n_in); dr = 2 (r - x) / (B n_in) */
	float scale = 2.0f / (float)nx;
	for (size_t i = 0; i < nx; i++) {
		float e = a->r[i] - x[i];
		sse += (double)e * e;
		a->r[i] = scale * e;
	}
	memset(a->grads, 0, a->n * sizeof(float));
	nn_dense_backward(a->dh, a->dwd, a->dbd, a->r, a->h, a->wd, B, a->n_out, a->n_in);
	nn_act_backward(act, a->dh, a->dh, a->h, nh);
	nn_dense_backward(NULL, a->dwe, a->dbe, a->dh, x, a->we, B, a->n_in, a->n_out);
	opt_step(o, a->params, a->grads, lr);
	return sse;
}

/* Codes of samples idx[0..B) through layers 0..upto-1 into out (B, width). */
static const float *
encode(const struct nn_net *net, int upto, const struct data_set *train, const uint32_t *idx,
       int B, float *xb, float *bufs[2])
{
	const float *in = xb;

	for (int i = 0; i < B; i++)
		memcpy(xb + (size_t)i * train->d, train->x + (size_t)idx[i] * train->d,
		       (size_t)train->d * sizeof(float));
	for (int l = 0; l < upto; l++) {
		const struct nn_layer *L = &net->layer[l];
		float *out = bufs[l & 1];
		nn_dense_forward(out, in, L->w, L->b, B, L->n_in, L->n_out);
		nn_act_forward(net->act, out, out, (size_t)B * L->n_out);
		in = out;
	}
	return in;
}

int
train_pretrain(struct nn_net *net, const struct params *p, const struct data_set *train,
	       struct rng *r, volatile sig_atomic_t *stop)
{
	int B = p->batch_size, widest = 1, rc = 0;
	float *xb = NULL, *bufs[2] = { NULL, NULL };
	uint32_t *order = NULL;
	struct ae a = { 0 };
	struct opt o = { 0 };

	for (int l = 0; l < net->n_layers; l++)
		widest = net->layer[l].n_out > widest ? net->layer[l].n_out : widest;
	xb = malloc((size_t)B * train->d * sizeof(float));
	bufs[0] = malloc((size_t)B * widest * sizeof(float));
	bufs[1] = malloc((size_t)B * widest * sizeof(float));
	order = malloc(train->n * sizeof(uint32_t));
	if (!xb || !bufs[0] || !bufs[1] || !order) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < train->n; i++)
		order[i] = (uint32_t)i;
	for (int l = 0; l < net->n_layers - 1; l++) {
		struct nn_layer *L = &net->layer[l];
		if ((rc = ae_init(&a, L, B, r)) < 0 || (rc = opt_init(&o, p, a.n)) < 0)
			goto out;
		for (int e = 0; e < p->pretrain_epochs; e++) {
			double sse = 0.0;
			rng_shuffle(r, order, train->n);
			for (size_t s = 0; s < train->n; s += (size_t)B) {
				int b = (int)(train->n - s < (size_t)B ? train->n - s : (size_t)B);
				const float *in = encode(net, l, train, order + s, b, xb, bufs);
				sse += ae_step(&a, net->act, in, b, &o, (float)p->lr);
				if (stop && *stop) {
					rc = -EINTR;
					goto out;
				}
			}
			fprintf(stderr, "sweep-worker: pretrain layer %d epoch %d: mse %.5g\n",
				l + 1, e + 1, sse / ((double)train->n * L->n_in));
		}
		memcpy(L->w, a.we, (size_t)L->n_in * L->n_out * sizeof(float));
		memcpy(L->b, a.be, (size_t)L->n_out * sizeof(float));
		ae_free(&a);
		opt_free(&o);
	}
out:
	ae_free(&a);
	opt_free(&o);
	free(xb);
	free(bufs[0]);
	free(bufs[1]);
	free(order);
	return rc;
}
