/*
 * nn.c: layer primitives and the MLP built from them.
 *
 * The loops over (B, n) arrays run row by row with the feature index
 * innermost, so per-feature reductions (BatchNorm) vectorise without a
 * transpose.
 */
#include "worker/nn.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
nn_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
	const float *B, int ldb, float beta, float *C, int ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void
nn_dense_forward(float *out, const float *in, const float *w, const float *b, int B,
		 int n_in, int n_out)
{
	/* out (B, n_out) = in (B, n_in) . w^T (n_in, n_out) */
	nn_gemm(false, true, B, n_out, n_in, 1.0f, in, n_in, w, n_in, 0.0f, out, n_out);
	for (int i = 0; i < B; i++) {
		float *o = out + (size_t)i * n_out;
		for (int j = 0; j < n_out; j++)
			o[j] += b[j];
	}
}

void
nn_dense_backward(float *din, float *dw, float *db, const float *dout, const float *in,
		  const float *w, int B, int n_in, int n_out)
{
	/* dw (n_out, n_in) += dout^T (n_out, B) . in (B, n_in) */
	nn_gemm(true, false, n_out, n_in, B, 1.0f, dout, n_out, in, n_in, 1.0f, dw, n_in);
	for (int i = 0; i < B; i++) {
		const float *d = dout + (size_t)i * n_out;
		for (int j = 0; j < n_out; j++)
			db[j] += d[j];
	}
	/* din (B, n_in) = dout (B, n_out) . w (n_out, n_in) */
	if (din)
		nn_gemm(false, false, B, n_in, n_out, 1.0f, dout, n_out, w, n_in, 0.0f, din,
			n_in);
}

void
nn_act_forward(int act, float *y, const float *x, size_t n)
{
	switch (act) {
	case ACT_RELU:
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] > 0.0f ? x[i] : 0.0f;
		break;
	case ACT_LEAKY_RELU:
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] > 0.0f ? x[i] : NN_LEAKY_SLOPE * x[i];
		break;
	case ACT_ELU:
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] > 0.0f ? x[i] : NN_ELU_ALPHA * expm1f(x[i]);
		break;
	case ACT_TANH:
		for (size_t i = 0; i < n; i++)
			y[i] = tanhf(x[i]);
		break;
	case ACT_SIGMOID:
		/* 1 / (1 + e^-x) overflows harmlessly to 0 for very negative x. */
		for (size_t i = 0; i < n; i++)
			y[i] = 1.0f / (1.0f + expf(-x[i]));
		break;
	}
}

void
nn_act_backward(int act, float *dx, const float *dy, const float *y, size_t n)
{
	/* Both arms of each select are computed from unconditional loads, so
	 * the compiler emits blends instead of a branch per element (a branch
	 * on the sign of an activation mispredicts half the time). */
	switch (act) {
	case ACT_RELU:
		for (size_t i = 0; i < n; i++) {
			float d = dy[i];
			dx[i] = y[i] > 0.0f ? d : 0.0f;
		}
		break;
	case ACT_LEAKY_RELU:
		/* the slope is positive, so y > 0 exactly when x > 0 */
		for (size_t i = 0; i < n; i++) {
			float d = dy[i];
			dx[i] = y[i] > 0.0f ? d : NN_LEAKY_SLOPE * d;
		}
		break;
	case ACT_ELU:
		/* x <= 0: d/dx alpha (e^x - 1) = alpha e^x = y + alpha */
		for (size_t i = 0; i < n; i++) {
			float d = dy[i], yi = y[i];
			dx[i] = yi > 0.0f ? d : d * (yi + NN_ELU_ALPHA);
		}
		break;
	case ACT_TANH:
		for (size_t i = 0; i < n; i++)
			dx[i] = dy[i] * (1.0f - y[i] * y[i]);
		break;
	case ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			dx[i] = dy[i] * y[i] * (1.0f - y[i]);
		break;
	}
}

void
nn_bn_forward_train(float *y, float *xhat, float *mean, float *rstd, float *run_mean,
		    float *run_var, const float *x, const float *gamma, const float *beta,
		    int B, int n)
{
	const float m = NN_BN_MOMENTUM;

	/* mean, then the biased variance from the centred values (two passes:
	 * E[x^2] - E[x]^2 in float loses the small variances) */
	for (int j = 0; j < n; j++) {
		mean[j] = 0.0f;
		rstd[j] = 0.0f;
	}
	for (int i = 0; i < B; i++) {
		const float *xi = x + (size_t)i * n;
		for (int j = 0; j < n; j++)
			mean[j] += xi[j];
	}
	for (int j = 0; j < n; j++)
		mean[j] /= (float)B;
	for (int i = 0; i < B; i++) {
		const float *xi = x + (size_t)i * n;
		float *hi = xhat + (size_t)i * n;
		for (int j = 0; j < n; j++) {
			hi[j] = xi[j] - mean[j];
			rstd[j] += hi[j] * hi[j];   /* sum of squares for now */
		}
	}
	for (int j = 0; j < n; j++) {
		float var = rstd[j] / (float)B;
		run_mean[j] = (1.0f - m) * run_mean[j] + m * mean[j];
		/* PyTorch keeps the unbiased variance as the running estimate */
		run_var[j] = (1.0f - m) * run_var[j] + m * var * (float)B / (float)(B - 1);
		rstd[j] = 1.0f / sqrtf(var + NN_BN_EPS);
	}
	for (int i = 0; i < B; i++) {
		float *hi = xhat + (size_t)i * n, *yi = y + (size_t)i * n;
		for (int j = 0; j < n; j++) {
			hi[j] *= rstd[j];
			yi[j] = gamma[j] * hi[j] + beta[j];
		}
	}
}

void
nn_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
		   const float *run_mean, const float *run_var, int B, int n)
{
	for (int i = 0; i < B; i++) {
		const float *xi = x + (size_t)i * n;
		float *yi = y + (size_t)i * n;
		for (int j = 0; j < n; j++)
			yi[j] = gamma[j] * (xi[j] - run_mean[j]) / sqrtf(run_var[j] + NN_BN_EPS) +
				beta[j];
	}
}

void
nn_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
	       const float *rstd, const float *gamma, int B, int n, float *tmp)
{
	float *sdy = tmp, *sdyx = tmp + n;   /* sum(dy), sum(dy xhat) per feature */

	for (int j = 0; j < n; j++) {
		sdy[j] = 0.0f;
		sdyx[j] = 0.0f;
	}
	for (int i = 0; i < B; i++) {
		const float *di = dy + (size_t)i * n, *hi = xhat + (size_t)i * n;
		for (int j = 0; j < n; j++) {
			sdy[j] += di[j];
			sdyx[j] += di[j] * hi[j];
		}
	}
	for (int j = 0; j < n; j++) {
		dgamma[j] += sdyx[j];
		dbeta[j] += sdy[j];
		/* fold gamma / B into the sums: dx = g rstd (dy - sdy/B - xhat sdyx/B) */
		sdy[j] /= (float)B;
		sdyx[j] /= (float)B;
	}
	for (int i = 0; i < B; i++) {
		const float *di = dy + (size_t)i * n, *hi = xhat + (size_t)i * n;
		float *xi = dx + (size_t)i * n;
		for (int j = 0; j < n; j++)
			xi[j] = gamma[j] * rstd[j] * (di[j] - sdy[j] - hi[j] * sdyx[j]);
	}
}

void
nn_dropout_forward(float *y, float *mask, const float *x, size_t n, float p, struct rng *r)
{
	const float keep = 1.0f / (1.0f - p);
	/* compare 24-bit integers: u < p  <=>  bits < p * 2^24 */
	const uint32_t cut = (uint32_t)(p * 16777216.0f);

	for (size_t i = 0; i < n; i += 2) {
		/* one 64-bit draw feeds two units */
		uint64_t bits = rng_next(r);
		uint32_t u0 = (uint32_t)(bits >> 40), u1 = (uint32_t)(bits >> 8) & 0xffffff;
		mask[i] = u0 < cut ? 0.0f : keep;
		y[i] = x[i] * mask[i];
		if (i + 1 < n) {
			mask[i + 1] = u1 < cut ? 0.0f : keep;
			y[i + 1] = x[i + 1] * mask[i + 1];
		}
	}
}

void
nn_dropout_backward(float *dx, const float *dy, const float *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dx[i] = dy[i] * mask[i];
}

double
nn_xent_forward(float *probs, int *correct, const float *logits, const int32_t *y, int B,
		int C)
{
	double loss = 0.0;

	for (int i = 0; i < B; i++) {
		const float *l = logits + (size_t)i * C;
		float *p = probs + (size_t)i * C;
		float mx = l[0];
		int arg = 0;
		for (int c = 1; c < C; c++)
			if (l[c] > mx) {
				mx = l[c];
				arg = c;
			}
		double sum = 0.0;
		for (int c = 0; c < C; c++) {
			p[c] = expf(l[c] - mx);
			sum += p[c];
		}
		float inv = (float)(1.0 / sum);
		for (int c = 0; c < C; c++)
			p[c] *= inv;
		/* -log softmax_y = log sum e^(l - max) - (l_y - max); NaN logits
		 * make a NaN loss, which the trainer reports as divergence */
		loss += log(sum) - (double)(l[y[i]] - mx);
		if (arg == y[i])
			(*correct)++;
	}
	return loss;
}

void
nn_xent_backward(float *dlogits, const float *probs, const int32_t *y, int B, int C,
		 float scale)
{
	for (int i = 0; i < B; i++) {
		const float *p = probs + (size_t)i * C;
		float *d = dlogits + (size_t)i * C;
		for (int c = 0; c < C; c++)
			d[c] = p[c] * scale;
		d[y[i]] -= scale;
	}
}

/* ---- the net ---- */

static size_t
arena_floats(int n, int mb, bool bn, bool drop)
{
	size_t per = (size_t)mb * n;
	/* z, a, d always; xhat with batchnorm; mask and h with dropout */
	size_t f = 3 * per + (bn ? per + 4 * (size_t)n : 0) + (drop ? 2 * per : 0);
	return f;
}

int
nn_init(struct nn_net *net, int n_in, const struct params_int_list *hidden, int n_classes,
	int act, bool batchnorm, float dropout, int max_batch)
{
	struct nn_net n = { 0 };
	size_t np = 0, ns = 0, na = 0;
	int prev = n_in;

	memset(net, 0, sizeof(*net));
	if (n_in < 1 || n_classes < 2 || max_batch < 1 || hidden->n > PARAMS_MAX_HIDDEN)
		return -EINVAL;
	n.n_layers = hidden->n + 1;
	n.n_in = n_in;
	n.n_classes = n_classes;
	n.max_batch = max_batch;
	n.act = act;
	n.batchnorm = batchnorm;
	n.dropout = dropout;
	/* first pass: sizes */
	for (int l = 0; l < n.n_layers; l++) {
		struct nn_layer *L = &n.layer[l];
		L->hidden = l < hidden->n;
		L->n_in = prev;
		L->n_out = L->hidden ? hidden->v[l] : n_classes;
		if (L->n_out < 1)
			return -EINVAL;
		bool bn = L->hidden && batchnorm, drop = L->hidden && dropout > 0.0f;
		np += (size_t)L->n_out * L->n_in + L->n_out + (bn ? 2 * (size_t)L->n_out : 0);
		ns += bn ? 2 * (size_t)L->n_out : 0;
		na += L->hidden ? arena_floats(L->n_out, max_batch, bn, drop)
				: 2 * (size_t)max_batch * L->n_out;
		prev = L->n_out;
	}
	na += (size_t)max_batch * n_classes;   /* probs */
	n.n_params = np;
	n.n_stats = ns;
	n.params = calloc(np, sizeof(float));
	n.grads = calloc(np, sizeof(float));
	n.stats = calloc(ns + 1, sizeof(float));
	n.arena = calloc(na, sizeof(float));
	if (!n.params || !n.grads || !n.stats || !n.arena) {
		nn_free(&n);
		return -ENOMEM;
	}
	/* second pass: carve the blocks */
	float *p = n.params, *g = n.grads, *s = n.stats, *a = n.arena;
	for (int l = 0; l < n.n_layers; l++) {
		struct nn_layer *L = &n.layer[l];
		size_t nw = (size_t)L->n_out * L->n_in, per = (size_t)max_batch * L->n_out;
		bool bn = L->hidden && batchnorm, drop = L->hidden && dropout > 0.0f;
		L->w = p, L->dw = g, p += nw, g += nw;
		L->b = p, L->db = g, p += L->n_out, g += L->n_out;
		if (bn) {
			L->gamma = p, L->dgamma = g, p += L->n_out, g += L->n_out;
			L->beta = p, L->dbeta = g, p += L->n_out, g += L->n_out;
			L->run_mean = s, s += L->n_out;
			L->run_var = s, s += L->n_out;
			L->xhat = a, a += per;
			L->mean = a, a += L->n_out;
			L->rstd = a, a += L->n_out;
			L->tmp = a, a += 2 * (size_t)L->n_out;
		}
		L->z = a, a += per;
		L->d = a, a += per;
		if (L->hidden)
			L->a = a, a += per;
		if (drop) {
			L->mask = a, a += per;
			L->h = a, a += per;
		}
	}
	n.probs = a;
	*net = n;
	return 0;
}

void
nn_free(struct nn_net *net)
{
	if (!net)
		return;
	free(net->params);
	free(net->grads);
	free(net->stats);
	free(net->arena);
	memset(net, 0, sizeof(*net));
}

static void
fill_normal(float *w, size_t n, double std, struct rng *r)
{
	for (size_t i = 0; i < n; i++)
		w[i] = (float)(rng_normal(r) * std);
}

static void
fill_uniform(float *w, size_t n, double bound, struct rng *r)
{
	for (size_t i = 0; i < n; i++)
		w[i] = (float)((2.0 * rng_uniform(r) - 1.0) * bound);
}

void
nn_init_weights(struct nn_net *net, int kind, float init_std, struct rng *r)
{
	if (kind == INIT_AUTO || kind == INIT_AUTOENCODER)
		kind = (net->act == ACT_TANH || net->act == ACT_SIGMOID) ? INIT_XAVIER : INIT_HE;
	for (int l = 0; l < net->n_layers; l++) {
		struct nn_layer *L = &net->layer[l];
		size_t nw = (size_t)L->n_out * L->n_in;
		double fan_in = L->n_in, fan_out = L->n_out;

		memset(L->b, 0, (size_t)L->n_out * sizeof(float));
		switch (kind) {
		case INIT_SMALL_NORMAL:
			fill_normal(L->w, nw, init_std, r);
			break;
		case INIT_HE:
			/* He et al. for the rectifier layers; the output layer feeds
			 * softmax, not a rectifier, so it gets Glorot's variance */
			if (L->hidden) {
				fill_normal(L->w, nw, sqrt(2.0 / fan_in), r);
				break;
			}
			/* fall through */
		case INIT_XAVIER:
			fill_uniform(L->w, nw, sqrt(6.0 / (fan_in + fan_out)), r);
			break;
		case INIT_PYTORCH:
			fill_uniform(L->w, nw, 1.0 / sqrt(fan_in), r);
			fill_uniform(L->b, (size_t)L->n_out, 1.0 / sqrt(fan_in), r);
			break;
		}
		if (L->gamma) {
			for (int j = 0; j < L->n_out; j++) {
				L->gamma[j] = 1.0f;
				L->beta[j] = 0.0f;
				L->run_mean[j] = 0.0f;
				L->run_var[j] = 1.0f;
			}
		}
	}
}

const float *
nn_forward(struct nn_net *net, const float *x, int B, bool train, struct rng *r)
{
	const float *in = x;

	for (int l = 0; l < net->n_layers; l++) {
		struct nn_layer *L = &net->layer[l];
		size_t n = (size_t)B * L->n_out;

		nn_dense_forward(L->z, in, L->w, L->b, B, L->n_in, L->n_out);
		if (!L->hidden) {
			L->out = L->z;
			break;
		}
		const float *pre = L->z;
		if (L->gamma) {
			if (train)
				nn_bn_forward_train(L->a, L->xhat, L->mean, L->rstd, L->run_mean,
						    L->run_var, L->z, L->gamma, L->beta, B,
						    L->n_out);
			else
				nn_bn_forward_eval(L->a, L->z, L->gamma, L->beta, L->run_mean,
						   L->run_var, B, L->n_out);
			pre = L->a;
		}
		nn_act_forward(net->act, L->a, pre, n);
		L->out = L->a;
		if (train && L->mask) {
			nn_dropout_forward(L->h, L->mask, L->a, n, net->dropout, r);
			L->out = L->h;
		}
		in = L->out;
	}
	return net->layer[net->n_layers - 1].z;
}

double
nn_backward(struct nn_net *net, const float *x, const int32_t *y, int B, int *correct)
{
	struct nn_layer *top = &net->layer[net->n_layers - 1];
	double loss;

	loss = nn_xent_forward(net->probs, correct, top->z, y, B, net->n_classes);
	nn_xent_backward(top->d, net->probs, y, B, net->n_classes, 1.0f / (float)B);
	for (int l = net->n_layers - 1; l >= 0; l--) {
		struct nn_layer *L = &net->layer[l];
		size_t n = (size_t)B * L->n_out;

		/* here L->d holds the gradient w.r.t. the layer's output */
		if (L->hidden) {
			if (L->mask)
				nn_dropout_backward(L->d, L->d, L->mask, n);
			nn_act_backward(net->act, L->d, L->d, L->a, n);
			if (L->gamma)
				nn_bn_backward(L->d, L->dgamma, L->dbeta, L->d, L->xhat, L->rstd,
					       L->gamma, B, L->n_out, L->tmp);
		}
		const float *in = l ? net->layer[l - 1].out : x;
		float *din = l ? net->layer[l - 1].d : NULL;
		nn_dense_backward(din, L->dw, L->db, L->d, in, L->w, B, L->n_in, L->n_out);
	}
	return loss;
}

void
nn_evaluate(struct nn_net *net, const float *x, const int32_t *y, size_t n, double *loss,
	    double *acc)
{
	double sum = 0.0;
	int correct = 0;

	for (size_t i = 0; i < n; i += (size_t)net->max_batch) {
		int B = (int)(n - i < (size_t)net->max_batch ? n - i : (size_t)net->max_batch);
		const float *logits = nn_forward(net, x + i * (size_t)net->n_in, B, false, NULL);
		sum += nn_xent_forward(net->probs, &correct, logits, y + i, B, net->n_classes);
	}
	*loss = n ? sum / (double)n : 0.0;
	*acc = n ? (double)correct / (double)n : 0.0;
}

void
nn_zero_grad(struct nn_net *net)
{
	memset(net->grads, 0, net->n_params * sizeof(float));
}
