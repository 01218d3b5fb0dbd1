/*
 * nn.h: the MLP: layer primitives and a net that strings them together.
 *
 * Tensors are flat row-major float arrays, (B, n) for a batch of B samples
 * of n features. Each layer is a forward/backward pair; a backward ADDS
 * into its parameter gradients (nn_zero_grad clears them once per step) and
 * writes (not adds) the gradient of its input. Every matrix product goes
 * through nn_gemm (CBLAS sgemm). A net allocates everything it will ever
 * need in nn_init, for batches up to max_batch, so a training step never
 * allocates.
 *
 * Net layout, per hidden layer i:
 *   Linear(W_i, b_i) -> [BatchNorm(gamma_i, beta_i)] -> activation -> [Dropout]
 * then a final Linear to the classes and softmax cross-entropy.
 */
#ifndef SWEEPD_WORKER_NN_H
#define SWEEPD_WORKER_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/params.h"
#include "worker/rng.h"

#define NN_MAX_LAYERS (PARAMS_MAX_HIDDEN + 1)
#define NN_BN_MOMENTUM 0.1f   /* PyTorch BatchNorm1d defaults */
#define NN_BN_EPS 1e-5f
#define NN_LEAKY_SLOPE 0.01f  /* PyTorch LeakyReLU default */
#define NN_ELU_ALPHA 1.0f

/* ---- primitives ---- */

/* C = alpha * op(A) op(B) + beta * C, row-major; op(A) is (M, K), op(B)
 * (K, N); ta/tb transpose. One place for leading dimensions. */
void
nn_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
	const float *B, int ldb, float beta, float *C, int ldc);

/* out (B, n_out) = in (B, n_in) W^T + b; w (n_out, n_in), b (n_out). */
void
nn_dense_forward(float *out, const float *in, const float *w, const float *b, int B,
		 int n_in, int n_out);

/* dw += dout^T in, db += column sums of dout; din (B, n_in) = dout W, or
 * skipped when din is NULL (the first layer needs no input gradient). */
void
nn_dense_backward(float *din, float *dw, float *db, const float *dout, const float *in,
		  const float *w, int B, int n_in, int n_out);

/* y = f(x) elementwise over n values; y may equal x. */
void
nn_act_forward(int act, float *y, const float *x, size_t n);

/* dx = dy * f'(x), computed from the forward OUTPUT y (every supported f'
 * is a function of y). dx may equal dy. */
void
nn_act_backward(int act, float *dx, const float *dy, const float *y, size_t n);

/* BatchNorm1d, training mode: normalise x (B, n) with the batch mean and
 * biased variance, y = gamma * xhat + beta. Keeps xhat (B, n), mean (n) and
 * rstd (n) for backward; updates run_mean and run_var (unbiased variance)
 * with momentum NN_BN_MOMENTUM. B >= 2. y may equal x. */
void
nn_bn_forward_train(float *y, float *xhat, float *mean, float *rstd, float *run_mean,
		    float *run_var, const float *x, const float *gamma, const float *beta,
		    int B, int n);

/* BatchNorm1d, evaluation mode: the running statistics. */
void
nn_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
		   const float *run_mean, const float *run_var, int B, int n);

/* dgamma += sum(dy xhat), dbeta += sum(dy); dx from the training-mode
 * formula, dx = rstd / B * (B dxhat - sum(dxhat) - xhat sum(dxhat xhat))
 * with dxhat = dy gamma. tmp is (2n) scratch. dx may equal dy. */
void
nn_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
	       const float *rstd, const float *gamma, int B, int n, float *tmp);

/* Inverted dropout: mask[i] = 0 with probability p, else 1 / (1 - p);
 * y = x * mask. y may equal x. */
void
nn_dropout_forward(float *y, float *mask, const float *x, size_t n, float p, struct rng *r);

/* dx = dy * mask; dx may equal dy. */
void
nn_dropout_backward(float *dx, const float *dy, const float *mask, size_t n);

/* Softmax cross-entropy of logits (B, C) against labels y. Writes probs
 * (B, C); returns the SUM of the B losses; *correct += argmax hits. */
double
nn_xent_forward(float *probs, int *correct, const float *logits, const int32_t *y, int B,
		int C);

/* dlogits = (probs - onehot(y)) * scale; scale 1/B gives the mean loss's
 * gradient. dlogits may equal probs. */
void
nn_xent_backward(float *dlogits, const float *probs, const int32_t *y, int B, int C,
		 float scale);

/* ---- the net ---- */

struct nn_layer {
	int n_in, n_out;
	bool hidden;          /* false for the output layer */
	/* parameters and gradients: pointers into the net's blocks */
	float *w, *dw;        /* (n_out, n_in) */
	float *b, *db;        /* (n_out) */
	float *gamma, *dgamma, *beta, *dbeta;   /* (n_out); NULL without batchnorm */
	float *run_mean, *run_var;              /* (n_out) in net->stats; NULL without */
	/* activations kept for backward, (max_batch, n_out) unless noted */
	float *z;             /* Linear output */
	float *xhat;          /* BatchNorm normalised input; NULL without */
	float *mean, *rstd;   /* (n_out) BatchNorm batch mean, 1/sqrt(var + eps) */
	float *tmp;           /* (2 n_out) BatchNorm backward scratch */
	float *a;             /* activation output (BatchNorm output before it, in place) */
	float *mask;          /* dropout mask; NULL without dropout */
	float *h;             /* a * mask; NULL without dropout */
	const float *out;     /* what the last forward passed on: a, h or z */
	float *d;             /* gradient w.r.t. z, then w.r.t. h (reused) */
};

struct nn_net {
	int n_layers;         /* hidden layers + 1 */
	int n_in, n_classes, max_batch;
	int act;              /* enum params_activation */
	bool batchnorm;
	float dropout;
	struct nn_layer layer[NN_MAX_LAYERS];
	float *params, *grads;  /* (n_params) each, owned; all W, b, gamma, beta */
	size_t n_params;
	float *stats;           /* (n_stats) owned: BatchNorm running means and vars */
	size_t n_stats;
	float *arena;           /* owned: every activation buffer */
	float *probs;           /* (max_batch, n_classes), into arena */
};

/* Build a net for inputs of n_in features, the hidden widths of p, n_classes
 * outputs and batches of at most max_batch. Weights are zero until
 * nn_init_weights. Returns 0, -EINVAL (a width or batch < 1), -ENOMEM. */
int
nn_init(struct nn_net *net, int n_in, const struct params_int_list *hidden, int n_classes,
	int act, bool batchnorm, float dropout, int max_batch);

/* Free what nn_init allocated; zeroed or freed nets are fine. */
void
nn_free(struct nn_net *net);

/* Initialise weights (biases 0, gamma 1, beta 0, running mean 0, var 1).
 * kind: enum params_init except INIT_AUTOENCODER (the trainer runs it on top
 * of INIT_AUTO). auto is he for relu-like activations and xavier for tanh
 * and sigmoid; with he and auto the output layer (into softmax, no
 * activation) gets xavier. pytorch: W, b ~ U(+-1/sqrt(fan_in)). */
void
nn_init_weights(struct nn_net *net, int kind, float init_std, struct rng *r);

/* Forward x (B, n_in), B <= max_batch. train: batch statistics and dropout
 * (drawing from r); else running statistics, no dropout. Returns the
 * logits (B, n_classes), valid until the next call. */
const float *
nn_forward(struct nn_net *net, const float *x, int B, bool train, struct rng *r);

/* Loss and gradients of the last forward (which must have had train=true):
 * returns the summed cross-entropy, adds hits to *correct and the mean
 * loss's gradients into net->grads. */
double
nn_backward(struct nn_net *net, const float *x, const int32_t *y, int B, int *correct);

/* Evaluate (eval mode) on n samples in chunks of max_batch: mean loss and
 * accuracy. */
void
nn_evaluate(struct nn_net *net, const float *x, const int32_t *y, size_t n, double *loss,
	    double *acc);

void
nn_zero_grad(struct nn_net *net);

#endif
