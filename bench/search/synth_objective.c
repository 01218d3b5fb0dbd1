/*
 * synth_objective: a cheap synthetic "MLP tuning" trainer for the search
 * benchmarks (bench/search/bench_search.py). Not a test.
 *
 * It reads SWEEP_PARAMS and SWEEP_SEED, computes a validation-accuracy
 * curve over `epochs` epochs from a closed-form model of how an MLP's
 * accuracy depends on its hyperparameters, and reports it with the report
 * protocol of docs/DESIGN.md (on SWEEP_REPORT_FD when set, else stdout).
 * No training: a trial takes well under a millisecond of CPU.
 *
 * Params (any missing one takes the default in brackets):
 *   lr          number > 0        [1e-3]
 *   batch_size  integer > 0       [64]
 *   activation  relu|elu|tanh|sigmoid              [relu]
 *   optimizer   sgd|momentum|adam|rmsprop          [adam]
 *   dropout     number in [0, 1)  [0]
 *   epochs      integer 1..1000   [12]
 * and the chapter's other knobs, each without effect when absent (so the
 * five-knob space above gives the same curves as before they existed):
 *   units         hidden width, integer >= 1
 *   batchnorm     true|false
 *   init          small_normal|xavier|he
 *   weight_decay  number >= 0
 *   scaling       none|standardize|minmax   (of the input pixels)
 * and conditional knobs (bench_cond.py), each without effect when absent
 * and ignored while its parent rules it out:
 *   momentum      number in [0, 1), only with optimizer momentum
 *   beta1         number in [0, 1), only with optimizer adam
 *   lr_schedule   constant|step|cosine       [constant]
 *   lr_step       integer >= 1, only with lr_schedule step   [5]
 *   lr_gamma      number in (0, 1], only with lr_schedule step   [0.5]
 *
 * The model, with d = log10(lr) - log10(lr*), the distance in decades from
 * the optimizer's best learning rate:
 *   - lr* depends on the optimizer (sgd 0.1, momentum 0.01, adam 1e-3,
 *     rmsprop 5e-4) and grows with sqrt(batch_size / 64) (the square-root
 *     scaling rule): lr x batch size interaction.
 *   - too low (d < 0): the curve rises slowly (speed x 10^(0.8 d));
 *   - too high (d > 0): the plateau drops by up to 0.35 (a Gaussian in d of
 *     width w_opt, 0.4..0.6 decades), and beyond d = 3 w_opt the run
 *     diverges: NaN loss, chance accuracy;
 *   - the plateau: per optimizer (sgd 0.885 .. adam 0.91), per activation
 *     (elu +0.002, relu 0, tanh -0.008, sigmoid -0.025), sigmoid with sgd
 *     or momentum learns 3x slower (vanishing gradients: optimizer x
 *     activation), big batches generalize a little worse (-0.003 per
 *     doubling above 128);
 *   - dropout: its best value depends on the activation (relu/elu 0.3,
 *     tanh 0.15, sigmoid 0.05) and on the batch (+0.1 for batches <= 32);
 *     the plateau loses 0.15 (dropout - best)^2; with little dropout the
 *     curve overfits after epoch 4 + 20 dropout (val_acc falls 0.003 (1 -
 *     dropout) per epoch);
 *   - noise: N(0, 0.002) per epoch, seeded by SWEEP_SEED.
 * The other knobs (bench_search.py's ten-knob space):
 *   - units: the plateau loses 0.012 per halving below 256 (too small a
 *     network underfits); above 256 the curve overfits earlier, 2 epochs
 *     per doubling (a big net needs its dropout or weight decay);
 *   - batchnorm: the stable lr window is 1.5x wider (so is the distance to
 *     divergence), learning 1.3x faster, sigmoid/tanh no longer slowed by
 *     sgd/momentum (no vanishing gradients), the plateau +0.003;
 *   - init: he suits relu/elu, xavier tanh/sigmoid; the other one learns
 *     at 0.8 the speed and loses 0.002; small_normal learns at half the
 *     speed without batchnorm (signals shrink layer by layer);
 *   - weight_decay: 1e-5..1e-3 delays overfitting by 4 epochs; above 1e-3
 *     the plateau loses 0.03 per decade squared (underfitting);
 *   - scaling: raw pixels ("none", 0..255) make gradients ~100x larger:
 *     the best lr moves two decades down and the plateau loses 0.01;
 *     minmax loses 0.002 against standardize.
 * The conditional knobs (cond_knobs()):
 *   - momentum: the effective lr is lr / (1 - momentum), so the best lr
 *     moves down as momentum grows (0.9 is what opt_lr assumes: 0.99 puts
 *     it a decade lower); the plateau loses 0.1 (momentum - 0.9)^2;
 *   - beta1: the plateau loses 1.5 (beta1 - 0.9)^2;
 *   - lr_schedule: cosine +0.004; step +0.012 q - 0.004 with q =
 *     exp(-((lr_step - 4) / 2)^2 - ((lr_gamma - 0.3) / 0.15)^2), so a well
 *     tuned step schedule is the best (+0.008) and a badly tuned one worse
 *     than none.
 * The best reachable val_acc is about 0.915 (adam, elu, small batch, lr at
 * its optimum, dropout 0.4) in the five-knob space, 0.918 with
 * batchnorm in the ten-knob one.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

static uint64_t rng_state;

static uint64_t
next64(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
normal(void)
{
	double u1 = ((next64() >> 11) + 0.5) * 0x1.0p-53;
	double u2 = (next64() >> 11) * 0x1.0p-53;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double
num(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static const char *
str(const cJSON *o, const char *k, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : def;
}

static int
pick(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/*
 * The conditional knobs: adds to *d (decades above the best lr) and *peak.
 * opt is the optimizer's index (1 momentum, 2 adam). Returns 0, or -1 for
 * a bad value. A knob whose parent rules it out is ignored.
 */
static int
cond_knobs(const cJSON *p, int opt, double *d, double *peak)
{
	static const char *const scheds[] = { "constant", "step", "cosine" };
	double m = num(p, "momentum", 0.9), b1 = num(p, "beta1", 0.9);
	double step = num(p, "lr_step", 5), gamma = num(p, "lr_gamma", 0.5), q;
	int sched = pick(str(p, "lr_schedule", "constant"), scheds, 3);

	if (!(m >= 0 && m < 1) || !(b1 >= 0 && b1 < 1) || sched < 0 ||
	    !(step >= 1) || !(gamma > 0 && gamma <= 1))
		return -1;
	if (opt == 1 && cJSON_HasObjectItem(p, "momentum")) {
		*d += log10(0.1 / (1 - m));
		*peak -= 0.1 * (m - 0.9) * (m - 0.9);
	}
	if (opt == 2 && cJSON_HasObjectItem(p, "beta1"))
		*peak -= 1.5 * (b1 - 0.9) * (b1 - 0.9);
	if (sched == 2)
		*peak += 0.004;
	if (sched == 1) {
		q = exp(-((step - 4) / 2) * ((step - 4) / 2) -
			((gamma - 0.3) / 0.15) * ((gamma - 0.3) / 0.15));
		*peak += 0.012 * q - 0.004;
	}
	return 0;
}

int
main(void)
{
	static const char *const opts[] = { "sgd", "momentum", "adam", "rmsprop" };
	static const double opt_lr[] = { 0.1, 0.01, 1e-3, 5e-4 };
	static const double opt_w[] = { 0.6, 0.5, 0.45, 0.4 };
	static const double opt_peak[] = { 0.885, 0.905, 0.91, 0.90 };
	static const char *const acts[] = { "relu", "elu", "tanh", "sigmoid" };
	static const double act_peak[] = { 0.0, 0.002, -0.008, -0.025 };
	static const double act_drop[] = { 0.3, 0.3, 0.15, 0.05 };
	static const char *const inits[] = { "small_normal", "xavier", "he" };
	static const char *const scalings[] = { "none", "standardize", "minmax" };
	const char *ps = getenv("SWEEP_PARAMS"), *fd = getenv("SWEEP_REPORT_FD");
	const char *seed = getenv("SWEEP_SEED");
	cJSON *p = ps ? cJSON_Parse(ps) : NULL;
	FILE *out = stdout;
	double lr, bs, drop, d, w, peak, speed, best = -1, q, drop_best, overfit_at;
	double units, wd, cond_d = 0, cond_peak = 0;
	int opt, act, epochs, best_epoch = 0, diverged, bn, init, scaling;

	if (!p || !cJSON_IsObject(p)) {
		fprintf(stderr, "synth_objective: SWEEP_PARAMS is not a JSON object\n");
		return 2;
	}
	lr = num(p, "lr", 1e-3);
	bs = num(p, "batch_size", 64);
	drop = num(p, "dropout", 0);
	epochs = (int)num(p, "epochs", 12);
	opt = pick(str(p, "optimizer", "adam"), opts, 4);
	act = pick(str(p, "activation", "relu"), acts, 4);
	units = num(p, "units", 256);
	wd = num(p, "weight_decay", 0);
	bn = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "batchnorm"));
	init = cJSON_HasObjectItem(p, "init") ?
	       pick(str(p, "init", ""), inits, 3) : 3;   /* 3: absent */
	scaling = pick(str(p, "scaling", "standardize"), scalings, 3);
	if (!(lr > 0) || !(bs >= 1) || !(drop >= 0 && drop < 1) || epochs < 1 ||
	    epochs > 1000 || opt < 0 || act < 0 || !(units >= 1) || !(wd >= 0) ||
	    init < 0 || scaling < 0 || cond_knobs(p, opt, &cond_d, &cond_peak) < 0) {
		fprintf(stderr, "synth_objective: bad params %s\n", ps);
		return 2;
	}
	if (fd && atoi(fd) > 2) {
		out = fdopen(atoi(fd), "w");
		if (!out) {
			perror("synth_objective: fd");
			return 1;
		}
	}
	rng_state = seed ? strtoull(seed, NULL, 10) : 1;

	d = log10(lr) - log10(opt_lr[opt] * sqrt(bs / 64.0));
	if (scaling == 0)
		d += 2;   /* raw pixels: the best lr is two decades lower */
	peak = opt_peak[opt] + act_peak[act] - 0.003 * fmax(0, log2(bs / 128.0));
	d += cond_d;
	peak += cond_peak;
	w = opt_w[opt] * (bn ? 1.5 : 1.0);
	diverged = d > 3 * w;
	q = d > 0 ? exp(-0.5 * (d / w) * (d / w)) : 1.0;
	drop_best = act_drop[act] + (bs <= 32 ? 0.1 : 0.0);
	peak -= 0.15 * (drop - drop_best) * (drop - drop_best);
	peak -= 0.35 * (1 - q);
	speed = 0.7 * pow(10, 0.8 * fmin(d, 0)) * (1 - 0.5 * drop);
	if (act == 3 && opt <= 1 && !bn)
		speed /= 3;
	overfit_at = 4 + 20 * drop;
	/* The ten-knob space's knobs; none of this applies when absent. */
	peak -= 0.012 * fmax(0, log2(256 / units));
	overfit_at -= 2 * fmax(0, log2(units / 256));
	if (bn) {
		speed *= 1.3;
		peak += 0.003;
	}
	if (init == 0 && !bn)
		speed *= 0.5;
	if ((init == 1 && act <= 1) || (init == 2 && act >= 2)) {
		speed *= 0.8;
		peak -= 0.002;
	}
	if (wd >= 1e-5 && wd <= 1e-3)
		overfit_at += 4;
	if (wd > 1e-3)
		peak -= 0.03 * (log10(wd) + 3) * (log10(wd) + 3);
	if (scaling == 0)
		peak -= 0.01;
	else if (scaling == 2)
		peak -= 0.002;

	for (int e = 1; e <= epochs; e++) {
		double acc, tacc, vloss, tloss;

		if (diverged) {
			fprintf(out, "{\"epoch\":%d,\"train_loss\":NaN,\"train_acc\":0.1,"
				"\"val_loss\":NaN,\"val_acc\":%.5f}\n", e,
				0.1 + 0.002 * normal());
			best_epoch = e;
			break;   /* a diverged run stops, as the built-in trainer does */
		}
		acc = 0.1 + (peak - 0.1) * (1 - exp(-speed * e));
		tacc = acc + 0.01 * e * (1 - drop) / epochs;
		if (e > overfit_at)
			acc -= 0.003 * (1 - drop) * (e - overfit_at);
		acc += 0.002 * normal();
		tacc = fmin(tacc, 0.999);
		vloss = -log(fmax(acc, 1e-3)) * 1.3;
		tloss = -log(fmax(tacc, 1e-3)) * 1.3;
		if (acc > best) {
			best = acc;
			best_epoch = e;
		}
		fprintf(out, "{\"epoch\":%d,\"train_loss\":%.5f,\"train_acc\":%.5f,"
			"\"val_loss\":%.5f,\"val_acc\":%.5f}\n", e, tloss, tacc,
			vloss, acc);
	}
	fprintf(out, "{\"final\":true,\"best_epoch\":%d}\n", best_epoch);
	fflush(out);
	cJSON_Delete(p);
	return 0;
}
