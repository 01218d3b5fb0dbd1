/*
 * test_nn.c: finite-difference gradient checks of every layer, activation
 * and the loss, BatchNorm in both modes, dropout's expectation, and the
 * GEMM wrapper's transposes.
 *
 * The layers compute in float, so the checks use central differences with
 * a step of 1e-2 and a tolerance relative to the gradient's size.
 */
#include <cblas.h>
#include <stdlib.h>

#include "tests/harness.h"
#include "worker/nn.h"

#define FD_EPS 1e-2f

static void
fill(float *x, size_t n, struct rng *r, float scale)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(rng_normal(r) * scale);
}

static int
close_enough(double analytic, double numeric)
{
	return fabs(analytic - numeric) <= 2e-3 + 2e-2 * fabs(numeric);
}

/* L = sum(out * R): dL/dout = R, so backward(R) must match d/dparam of L. */
static double
dot(const float *a, const float *b, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void
gemm_matches_naive_for_every_transpose(void)
{
	struct rng r;
	float A[6 * 5], B[5 * 4], C[6 * 4];
	rng_seed(&r, 1, 99);
	fill(A, 30, &r, 1);
	fill(B, 20, &r, 1);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			/* op(A) is (6, 5), op(B) (5, 4); storage transposed when t* */
			nn_gemm(ta, tb, 6, 4, 5, 1.0f, A, ta ? 6 : 5, B, tb ? 5 : 4, 0.0f, C, 4);
			for (int i = 0; i < 6; i++)
				for (int j = 0; j < 4; j++) {
					double s = 0;
					for (int k = 0; k < 5; k++)
						s += (double)(ta ? A[k * 6 + i] : A[i * 5 + k]) *
						     (tb ? B[j * 5 + k] : B[k * 4 + j]);
					CHECK_NEAR(C[i * 4 + j], s, 1e-4);
				}
		}
}

static void
dense_gradients_match_finite_differences(void)
{
	enum { B = 4, NI = 5, NO = 3 };
	float x[B * NI], w[NO * NI], b[NO], out[B * NO], R[B * NO];
	float dx[B * NI], dw[NO * NI] = { 0 }, db[NO] = { 0 };
	struct rng r;

	rng_seed(&r, 2, 99);
	fill(x, B * NI, &r, 1);
	fill(w, NO * NI, &r, 1);
	fill(b, NO, &r, 1);
	fill(R, B * NO, &r, 1);
	nn_dense_forward(out, x, w, b, B, NI, NO);
	/* the forward itself against a naive sum */
	for (int i = 0; i < B; i++)
		for (int o = 0; o < NO; o++) {
			double s = b[o];
			for (int k = 0; k < NI; k++)
				s += (double)x[i * NI + k] * w[o * NI + k];
			CHECK_NEAR(out[i * NO + o], s, 1e-4);
		}
	nn_dense_backward(dx, dw, db, R, x, w, B, NI, NO);
	float *vars[3] = { x, w, b }, *grads[3] = { dx, dw, db };
	int sizes[3] = { B * NI, NO * NI, NO };
	for (int v = 0; v < 3; v++)
		for (int i = 0; i < sizes[v]; i++) {
			float keep = vars[v][i];
			vars[v][i] = keep + FD_EPS;
			nn_dense_forward(out, x, w, b, B, NI, NO);
			double lp = dot(out, R, B * NO);
			vars[v][i] = keep - FD_EPS;
			nn_dense_forward(out, x, w, b, B, NI, NO);
			double lm = dot(out, R, B * NO);
			vars[v][i] = keep;
			double num = (lp - lm) / (2 * FD_EPS);
			CHECK_MSG(close_enough(grads[v][i], num), "var %d idx %d: %g vs %g", v, i,
				  grads[v][i], num);
		}
	/* backward adds into dw: a second call doubles it */
	float dw1 = dw[0];
	nn_dense_backward(NULL, dw, db, R, x, w, B, NI, NO);
	CHECK_NEAR(dw[0], 2 * dw1, 1e-5);
}

static void
activation_gradients_match_finite_differences(void)
{
	enum { N = 64 };
	float x[N], y[N], dy[N], dx[N];
	struct rng r;

	rng_seed(&r, 3, 99);
	for (int act = ACT_RELU; act <= ACT_SIGMOID; act++) {
		fill(x, N, &r, 2);
		fill(dy, N, &r, 1);
		/* keep clear of ReLU's kink, where the derivative is undefined */
		for (int i = 0; i < N; i++)
			if (fabsf(x[i]) < 0.05f)
				x[i] = 0.5f;
		nn_act_forward(act, y, x, N);
		nn_act_backward(act, dx, dy, y, N);
		for (int i = 0; i < N; i++) {
			float keep = x[i], yp, ym;
			x[i] = keep + 1e-3f;
			nn_act_forward(act, &yp, &x[i], 1);
			x[i] = keep - 1e-3f;
			nn_act_forward(act, &ym, &x[i], 1);
			x[i] = keep;
			double num = dy[i] * ((double)yp - ym) / 2e-3;
			CHECK_MSG(close_enough(dx[i], num), "act %d x %g: %g vs %g", act, x[i],
				  dx[i], num);
		}
	}
	/* a few exact values */
	float in[3] = { -2.0f, 0.0f, 3.0f }, out[3];
	nn_act_forward(ACT_LEAKY_RELU, out, in, 3);
	CHECK_NEAR(out[0], -0.02, 1e-7);
	CHECK_NEAR(out[2], 3.0, 0);
	nn_act_forward(ACT_ELU, out, in, 3);
	CHECK_NEAR(out[0], expm1(-2.0), 1e-6);
	nn_act_forward(ACT_SIGMOID, out, in, 3);
	CHECK_NEAR(out[1], 0.5, 1e-7);
}

static void
batchnorm_train_gradients_match_finite_differences(void)
{
	enum { B = 6, N = 4 };
	float x[B * N], g[N], be[N], y[B * N], xhat[B * N], mean[N], rstd[N], rm[N], rv[N];
	float R[B * N], dx[B * N], dg[N] = { 0 }, db[N] = { 0 }, tmp[2 * N];
	struct rng r;

	rng_seed(&r, 4, 99);
	fill(x, B * N, &r, 2);
	fill(g, N, &r, 1);
	fill(be, N, &r, 1);
	fill(R, B * N, &r, 1);
	nn_bn_forward_train(y, xhat, mean, rstd, rm, rv, x, g, be, B, N);
	nn_bn_backward(dx, dg, db, R, xhat, rstd, g, B, N, tmp);
	float *vars[3] = { x, g, be }, *grads[3] = { dx, dg, db };
	int sizes[3] = { B * N, N, N };
	for (int v = 0; v < 3; v++)
		for (int i = 0; i < sizes[v]; i++) {
			float keep = vars[v][i];
			vars[v][i] = keep + FD_EPS;
			nn_bn_forward_train(y, xhat, mean, rstd, rm, rv, x, g, be, B, N);
			double lp = dot(y, R, B * N);
			vars[v][i] = keep - FD_EPS;
			nn_bn_forward_train(y, xhat, mean, rstd, rm, rv, x, g, be, B, N);
			double lm = dot(y, R, B * N);
			vars[v][i] = keep;
			double num = (lp - lm) / (2 * FD_EPS);
			CHECK_MSG(close_enough(grads[v][i], num), "var %d idx %d: %g vs %g", v, i,
				  grads[v][i], num);
		}
}

static void
batchnorm_train_normalises_and_updates_running_stats(void)
{
	enum { B = 8, N = 3 };
	float x[B * N], g[N] = { 1, 1, 1 }, be[N] = { 0, 0, 0 }, y[B * N], xhat[B * N];
	float mean[N], rstd[N], rm[N] = { 0, 0, 0 }, rv[N] = { 1, 1, 1 }, ye[B * N];
	struct rng r;

	rng_seed(&r, 5, 99);
	for (int i = 0; i < B * N; i++)
		x[i] = (float)(3.0 + 2.0 * rng_normal(&r));
	nn_bn_forward_train(y, xhat, mean, rstd, rm, rv, x, g, be, B, N);
	for (int j = 0; j < N; j++) {
		double m = 0, v = 0, ym = 0, yv = 0;
		for (int i = 0; i < B; i++)
			m += x[i * N + j] / (double)B;
		for (int i = 0; i < B; i++)
			v += (x[i * N + j] - m) * (x[i * N + j] - m);
		for (int i = 0; i < B; i++)
			ym += y[i * N + j] / (double)B;
		for (int i = 0; i < B; i++)
			yv += (y[i * N + j] - ym) * (y[i * N + j] - ym) / (double)B;
		CHECK_NEAR(ym, 0.0, 1e-5);
		/* biased variance plus eps in the denominator */
		CHECK_NEAR(yv, (v / B) / (v / B + 1e-5), 1e-4);
		/* PyTorch: running = 0.9 running + 0.1 batch, unbiased variance */
		CHECK_NEAR(rm[j], 0.1 * m, 1e-5);
		CHECK_NEAR(rv[j], 0.9 + 0.1 * v / (B - 1), 1e-5);
	}
	/* eval mode uses the running statistics, not the batch's */
	nn_bn_forward_eval(ye, x, g, be, rm, rv, B, N);
	for (int i = 0; i < B * N; i++) {
		int j = i % N;
		CHECK_NEAR(ye[i], (x[i] - rm[j]) / sqrt(rv[j] + 1e-5), 1e-4);
	}
	CHECK(fabsf(ye[0] - y[0]) > 0.1f);
}

static void
batchnorm_eval_converges_to_train_on_a_stationary_stream(void)
{
	/* after many batches from one distribution the running statistics
	 * approach the population's, so eval ~ train on a large batch */
	enum { B = 256, N = 2 };
	static float x[B * N], y[B * N], xhat[B * N], ye[B * N];
	float g[N] = { 1.5f, 0.5f }, be[N] = { 0.2f, -1.0f }, mean[N], rstd[N];
	float rm[N] = { 0, 0 }, rv[N] = { 1, 1 };
	struct rng r;

	rng_seed(&r, 6, 99);
	for (int it = 0; it < 200; it++) {
		for (int i = 0; i < B * N; i++)
			x[i] = (float)((i % N ? -4.0 : 7.0) + (i % N ? 0.5 : 3.0) * rng_normal(&r));
		nn_bn_forward_train(y, xhat, mean, rstd, rm, rv, x, g, be, B, N);
	}
	CHECK_NEAR(rm[0], 7.0, 0.3);
	CHECK_NEAR(rm[1], -4.0, 0.1);
	CHECK_NEAR(rv[0], 9.0, 1.5);
	CHECK_NEAR(rv[1], 0.25, 0.05);
	nn_bn_forward_eval(ye, x, g, be, rm, rv, B, N);
	double maxdiff = 0;
	for (int i = 0; i < B * N; i++)
		maxdiff = fmax(maxdiff, fabs(ye[i] - y[i]));
	CHECK(maxdiff < 0.3);
}

static void
dropout_keeps_the_expectation(void)
{
	enum { N = 200000 };
	float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
	float *mask = malloc(N * sizeof(float)), *dx = malloc(N * sizeof(float));
	struct rng r;
	double sum = 0;
	long zeros = 0, other = 0;

	rng_seed(&r, 7, 99);
	for (int i = 0; i < N; i++)
		x[i] = 1.0f;
	nn_dropout_forward(y, mask, x, N, 0.3f, &r);
	for (int i = 0; i < N; i++) {
		sum += y[i];
		if (y[i] == 0.0f)
			zeros++;
		else if (fabsf(y[i] - 1.0f / 0.7f) > 1e-6f)
			other++;
	}
	CHECK_NEAR(sum / N, 1.0, 0.01);
	CHECK_NEAR((double)zeros / N, 0.3, 0.005);
	CHECK(other == 0);
	/* backward routes the gradient through the same mask */
	nn_dropout_backward(dx, x, mask, N);
	for (int i = 0; i < 1000; i++)
		CHECK(dx[i] == mask[i]);
	free(x);
	free(y);
	free(mask);
	free(dx);
}

static void
xent_value_and_gradient(void)
{
	enum { B = 3, C = 4 };
	float logits[B * C], probs[B * C], d[B * C];
	int32_t y[B] = { 0, 3, 1 };
	int correct = 0;
	struct rng r;

	rng_seed(&r, 8, 99);
	fill(logits, B * C, &r, 2);
	double loss = nn_xent_forward(probs, &correct, logits, y, B, C);
	double want = 0;
	int hits = 0;
	for (int i = 0; i < B; i++) {
		double s = 0;
		int arg = 0;
		for (int c = 0; c < C; c++) {
			s += exp(logits[i * C + c]);
			if (logits[i * C + c] > logits[i * C + arg])
				arg = c;
		}
		want += log(s) - logits[i * C + y[i]];
		hits += arg == y[i];
	}
	CHECK_NEAR(loss, want, 1e-5);
	CHECK(correct == hits);
	nn_xent_backward(d, probs, y, B, C, 1.0f / B);
	for (int i = 0; i < B * C; i++) {
		float keep = logits[i];
		int dummy = 0;
		logits[i] = keep + 1e-2f;
		double lp = nn_xent_forward(probs, &dummy, logits, y, B, C) / B;
		logits[i] = keep - 1e-2f;
		double lm = nn_xent_forward(probs, &dummy, logits, y, B, C) / B;
		logits[i] = keep;
		CHECK_MSG(close_enough(d[i], (lp - lm) / 2e-2), "logit %d: %g vs %g", i, d[i],
			  (lp - lm) / 2e-2);
	}
	/* huge logits stay finite */
	float big[C] = { 1000.0f, 0.0f, -1000.0f, 999.0f };
	int32_t y0 = 0;
	CHECK(isfinite(nn_xent_forward(probs, &correct, big, &y0, 1, C)));
}

/* The whole net: every parameter against finite differences of the mean
 * loss, with BatchNorm in training mode and a fixed dropout mask. */
static void
check_net(int act, bool bn, float dropout)
{
	enum { B = 5, NI = 6, C = 3 };
	struct params_int_list hidden = { 2, { 5, 4 } };
	struct nn_net net;
	float x[B * NI];
	int32_t y[B] = { 0, 1, 2, 1, 0 };
	struct rng r, dr;
	int correct = 0, bad = 0;

	CHECK(nn_init(&net, NI, &hidden, C, act, bn, dropout, B) == 0);
	rng_seed(&r, 9, 99);
	nn_init_weights(&net, INIT_XAVIER, 0, &r);
	/* non-trivial gamma and beta so their gradients are exercised */
	for (size_t i = 0; i < net.n_params; i++)
		net.params[i] += (float)(0.3 * rng_normal(&r));
	fill(x, B * NI, &r, 1);
	rng_seed(&dr, 10, 99);
	nn_forward(&net, x, B, true, &dr);
	nn_zero_grad(&net);
	nn_backward(&net, x, y, B, &correct);
	/* a smaller step for the rectifiers, whose kinks a large step crosses */
	const float eps = act <= ACT_LEAKY_RELU ? 1e-3f : FD_EPS;
	for (size_t i = 0; i < net.n_params; i++) {
		float keep = net.params[i];
		double l[2];
		for (int s = 0; s < 2; s++) {
			net.params[i] = keep + (s ? -eps : eps);
			rng_seed(&dr, 10, 99);   /* the same dropout mask */
			const float *lg = nn_forward(&net, x, B, true, &dr);
			l[s] = nn_xent_forward(net.probs, &correct, lg, y, B, C) / B;
		}
		net.params[i] = keep;
		double num = (l[0] - l[1]) / (2 * eps);
		if (!close_enough(net.grads[i], num)) {
			bad++;
			printf("# act %d bn %d drop %g param %zu: %g vs %g\n", act, bn, dropout, i,
			       net.grads[i], num);
		}
	}
	CHECK_MSG(bad == 0, "act %d bn %d dropout %g: %d of %zu params off", act, bn, dropout,
		  bad, net.n_params);
	nn_free(&net);
}

static void
net_gradients_match_finite_differences(void)
{
	for (int act = ACT_RELU; act <= ACT_SIGMOID; act++) {
		check_net(act, false, 0.0f);
		check_net(act, true, 0.0f);
	}
	check_net(ACT_RELU, true, 0.3f);
	check_net(ACT_TANH, false, 0.5f);
}

static void
softmax_regression_net_has_one_layer(void)
{
	struct params_int_list none = { 0 };
	struct nn_net net;

	CHECK(nn_init(&net, 7, &none, 3, ACT_RELU, true, 0.5f, 4) == 0);
	CHECK(net.n_layers == 1);
	CHECK(net.n_params == 7 * 3 + 3);
	CHECK(net.n_stats == 0);
	nn_free(&net);
	nn_free(&net);   /* harmless twice */
}

static void
eval_mode_is_deterministic_and_ignores_dropout(void)
{
	struct params_int_list hidden = { 1, { 16 } };
	struct nn_net net;
	float x[8 * 4], a[8 * 3], b[8 * 3];
	struct rng r;

	CHECK(nn_init(&net, 4, &hidden, 3, ACT_RELU, true, 0.5f, 8) == 0);
	rng_seed(&r, 11, 99);
	nn_init_weights(&net, INIT_HE, 0, &r);
	fill(x, 32, &r, 1);
	memcpy(a, nn_forward(&net, x, 8, false, NULL), sizeof(a));
	memcpy(b, nn_forward(&net, x, 8, false, NULL), sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	/* in eval, a sample's output does not depend on its batch mates */
	const float *one = nn_forward(&net, x, 1, false, NULL);
	for (int c = 0; c < 3; c++)
		CHECK_NEAR(one[c], a[c], 1e-6);
	nn_free(&net);
}

int
main(void)
{
	openblas_set_num_threads(1);
	RUN(gemm_matches_naive_for_every_transpose);
	RUN(dense_gradients_match_finite_differences);
	RUN(activation_gradients_match_finite_differences);
	RUN(batchnorm_train_gradients_match_finite_differences);
	RUN(batchnorm_train_normalises_and_updates_running_stats);
	RUN(batchnorm_eval_converges_to_train_on_a_stationary_stream);
	RUN(dropout_keeps_the_expectation);
	RUN(xent_value_and_gradient);
	RUN(net_gradients_match_finite_differences);
	RUN(softmax_regression_net_has_one_layer);
	RUN(eval_mode_is_deterministic_and_ignores_dropout);
	return harness_done();
}
