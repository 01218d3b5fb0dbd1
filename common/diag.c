/*
 * diag.c: reads a learning curve the way a practitioner would.
 *
 * The curve is looked at through "series": one metric along the epochs,
 * read as badness (a loss, or 1 - accuracy), so every rule below is written
 * once for "lower is better". Each check records its findings in struct
 * ctx and adds the figures it used to the evidence object; diag_curve()
 * then picks the primary verdict by a fixed precedence and turns the rest
 * into tags.
 * Rules and thresholds are documented in docs/diagnosis.md; keep the two
 * in step.
 */
#include "common/diag.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- verdict names ---------------------------------------------------- */

enum verdict {
	V_GOOD_FIT,
	V_OVERFITTING,
	V_UNDERFITTING,
	V_DIVERGED,
	V_PLATEAU,
	V_VANISHING,
	V_EXPLODING,
	V_IMPROVING,
	V_INSUFFICIENT,
	V_UNKNOWN,
	V_NOT_LEARNING,
	V_NOT_CONVERGED,
	V_PRUNED,
	V_PARTIAL,
	V_COUNT
};

static const char *const verdict_names[V_COUNT] = {
	[V_GOOD_FIT] = "good_fit",
	[V_OVERFITTING] = "overfitting",
	[V_UNDERFITTING] = "underfitting",
	[V_DIVERGED] = "diverged",
	[V_PLATEAU] = "plateau",
	[V_VANISHING] = "vanishing_gradients",
	[V_EXPLODING] = "exploding_gradients",
	[V_IMPROVING] = "improving",
	[V_INSUFFICIENT] = "insufficient_data",
	[V_UNKNOWN] = "unknown",
	[V_NOT_LEARNING] = "not_learning",
	[V_NOT_CONVERGED] = "not_converged",
	[V_PRUNED] = "pruned",
	[V_PARTIAL] = "partial_metrics",
};

static const char *const end_names[] = {
	[DIAG_RUNNING] = "running",
	[DIAG_COMPLETED] = "completed",
	[DIAG_EARLY_STOPPED] = "early_stopped",
	[DIAG_PRUNED] = "pruned",
	[DIAG_FAILED] = "failed",
};

const char *
diag_end_name(enum diag_end e)
{
	if ((unsigned)e >= sizeof(end_names) / sizeof(end_names[0]))
		return "unknown";
	return end_names[e];
}

void
diag_trial_init(struct diag_trial *t, enum diag_end end)
{
	memset(t, 0, sizeof(*t));
	t->end = end;
	t->chance_acc = NAN;
	t->sweep_best_train_acc = NAN;
}

#define TAG_EARLY_STOP "early_stopping_point"

const char *const *
diag_verdict_names(int *n)
{
	if (n)
		*n = V_COUNT;
	return verdict_names;
}

/* ---- configuration ---------------------------------------------------- */

void
diag_config_default(struct diag_config *c)
{
	c->abort_on_divergence = 1;
	c->explode_factor = 10.0;
	c->diverge_rise = 0.5;
	c->spike_factor = 2.0;
	c->min_epochs = 3;
	c->smooth = 3;
	c->plateau_tol = 0.02;
	c->overfit_rise = 0.1;
	c->overfit_patience = 2;
	c->gap_threshold = 0.1;
	c->loss_gap_ratio = 2.0;
	c->underfit_acc = 0.7;
	c->converge_slope = 0.02;
	c->vanish_ratio = 0.01;
	c->explode_ratio = 100.0;
	c->grad_growth = 1000.0;
	c->grad_max = 1000.0;
	c->stop_slack = 3;
	c->chance_acc = 0;
	c->underfit_rel = 0.8;
}

enum key_type { K_BOOL, K_INT, K_NUM };

/* One row per spec key: one loop checks type and range for all. */
static const struct config_key {
	const char *name;
	enum key_type type;
	size_t off;
	double min, max;
	int min_open;         /* the minimum itself is excluded */
} config_keys[] = {
#define KEY(f, t, lo, hi, open) \
	{ #f, t, offsetof(struct diag_config, f), lo, hi, open }
	KEY(abort_on_divergence, K_BOOL, 0, 1, 0),
	KEY(explode_factor, K_NUM, 1, 1e12, 1),
	KEY(diverge_rise, K_NUM, 0, 1e6, 1),
	KEY(spike_factor, K_NUM, 1, 1e12, 1),
	KEY(min_epochs, K_INT, 1, 100000, 0),
	KEY(smooth, K_INT, 1, 1000, 0),
	KEY(plateau_tol, K_NUM, 0, 1, 0),
	KEY(overfit_rise, K_NUM, 0, 1e6, 1),
	KEY(overfit_patience, K_INT, 1, 100000, 0),
	KEY(gap_threshold, K_NUM, 0, 1, 0),
	KEY(loss_gap_ratio, K_NUM, 1, 1e6, 1),
	KEY(underfit_acc, K_NUM, 0, 1, 0),
	KEY(converge_slope, K_NUM, 0, 1, 0),
	KEY(vanish_ratio, K_NUM, 0, 1, 1),
	KEY(explode_ratio, K_NUM, 1, 1e12, 1),
	KEY(grad_growth, K_NUM, 1, 1e12, 1),
	KEY(grad_max, K_NUM, 0, 1e300, 1),
	KEY(stop_slack, K_INT, 1, 100000, 0),
	KEY(chance_acc, K_NUM, 0, 1, 0),
	KEY(underfit_rel, K_NUM, 0, 1, 0),
#undef KEY
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int
set_key(struct diag_config *c, const struct config_key *k, const cJSON *v,
	char *err, size_t errlen)
{
	char *field = (char *)c + k->off;
	double d;

	if (k->type == K_BOOL) {
		if (!cJSON_IsBool(v)) {
			snprintf(err, errlen, "diagnosis.%s: must be true or false",
				 k->name);
			return -EINVAL;
		}
		*(int *)(void *)field = cJSON_IsTrue(v);
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!isfinite(d) || d < k->min || d > k->max ||
	    (k->min_open && d == k->min) ||
	    (k->type == K_INT && d != floor(d))) {
		snprintf(err, errlen, "diagnosis.%s: must be %s in %c%g, %g]",
			 k->name, k->type == K_INT ? "an integer" : "a number",
			 k->min_open ? '(' : '[', k->min, k->max);
		return -EINVAL;
	}
	if (k->type == K_INT)
		*(int *)(void *)field = (int)d;
	else
		*(double *)(void *)field = d;
	return 0;
}

int
diag_config_parse(struct diag_config *c, const cJSON *obj, char *err,
		  size_t errlen)
{
	struct diag_config tmp = *c;
	const cJSON *v;

	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "diagnosis: must be an object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, obj) {
		size_t i;
		int rc;

		for (i = 0; i < N_KEYS; i++)
			if (strcmp(v->string, config_keys[i].name) == 0)
				break;
		if (i == N_KEYS) {
			snprintf(err, errlen, "diagnosis.%s: unknown key", v->string);
			return -EINVAL;
		}
		rc = set_key(&tmp, &config_keys[i], v, err, errlen);
		if (rc < 0)
			return rc;
	}
	*c = tmp;
	return 0;
}

/* ---- from a report line ----------------------------------------------- */

/* A loss as diag wants it: NAN if absent, +inf if reported non-finite. */
static double
loss_of(const struct report_line *r, const char *name)
{
	double v = report_get(r, name);

	if (!report_has(r, name))
		return NAN;
	return isfinite(v) ? v : INFINITY;
}

int
diag_epoch_from_report(struct diag_epoch *e, const struct report_line *r,
		       const char *objective)
{
	if (r->kind != REPORT_EPOCH)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->epoch = r->epoch;
	e->train_loss = loss_of(r, "train_loss");
	e->val_loss = loss_of(r, "val_loss");
	e->train_acc = report_get(r, "train_acc");
	e->val_acc = report_get(r, "val_acc");
	e->objective = objective ? report_get(r, objective) : NAN;
	e->n_grad = r->n_grad;
	e->grad_norm = r->n_grad ? r->grad_norm : NULL;
	return 0;
}

/* ---- series ----------------------------------------------------------- */

enum field { F_TRAIN_LOSS, F_VAL_LOSS, F_TRAIN_ACC, F_VAL_ACC, F_OBJECTIVE };

static const char *const field_names[] = {
	"train_loss", "val_loss", "train_acc", "val_acc", "objective",
};

/* One metric along the curve, read as badness (lower is better). */
struct series {
	const struct diag_epoch *ep;
	int n;
	enum field f;
	int flip;   /* accuracy: badness = 1 - acc; objective with mode max:
		     * badness = -value */
};

static double
raw(const struct diag_epoch *e, enum field f)
{
	switch (f) {
	case F_TRAIN_LOSS: return e->train_loss;
	case F_VAL_LOSS: return e->val_loss;
	case F_TRAIN_ACC: return e->train_acc;
	case F_VAL_ACC: return e->val_acc;
	case F_OBJECTIVE: return e->objective;
	}
	return NAN;
}

static double
sv(const struct series *s, int i)
{
	double v = raw(&s->ep[i], s->f);

	if (!s->flip)
		return v;
	return s->f == F_OBJECTIVE ? -v : 1.0 - v;
}

static int
reported(const struct diag_epoch *ep, int n, enum field f)
{
	for (int i = 0; i < n; i++)
		if (!isnan(raw(&ep[i], f)))
			return 1;
	return 0;
}

static struct series
series_of(const struct diag_epoch *ep, int n, enum field f)
{
	struct series s = { ep, n, f, f == F_TRAIN_ACC || f == F_VAL_ACC };
	return s;
}

/* Index of the first finite value, -1 if none. */
static int
first_finite(const struct series *s)
{
	for (int i = 0; i < s->n; i++)
		if (isfinite(sv(s, i)))
			return i;
	return -1;
}

/* Index of the smallest finite value in [from, n), the earliest on ties;
 * -1 if none. */
static int
argmin_from(const struct series *s, int from)
{
	int best = -1;

	for (int i = from; i < s->n; i++) {
		double v = sv(s, i);

		if (isfinite(v) && (best < 0 || v < sv(s, best)))
			best = i;
	}
	return best;
}

/* Mean of the finite values among the last k epochs; NAN if none. */
static double
tail_mean(const struct series *s, int k)
{
	double sum = 0;
	int m = 0;

	for (int i = s->n - k; i < s->n; i++) {
		if (i >= 0 && isfinite(sv(s, i))) {
			sum += sv(s, i);
			m++;
		}
	}
	return m ? sum / m : NAN;
}

/*
 * How fast the best value still improves at the end: the best of the last
 * k epochs against the best before them, as a fraction of the latter per
 * epoch: (best_before - best_recent) / best_before / k, 0 when the recent
 * best is no better. Best-so-far rather than a slope through the points,
 * because a bump up in a noisy validation curve followed by a return to
 * its old level would read as "still falling steeply"; early stopping
 * looks at the best value for the same reason. NAN when either part has
 * no finite value or the earlier best is 0.
 */
static double
recent_gain(const struct series *s, int k)
{
	int split = s->n - k, before = -1, recent = argmin_from(s, split);
	double b;

	if (split < 1 || recent < 0)
		return NAN;
	for (int i = 0; i < split; i++)
		if (isfinite(sv(s, i)) && (before < 0 || sv(s, i) < sv(s, before)))
			before = i;
	if (before < 0)
		return NAN;
	b = sv(s, before);
	if (b == 0)
		return NAN;
	return fmax(0.0, (b - sv(s, recent)) / fabs(b) / k);
}

/* ---- context ---------------------------------------------------------- */

struct ctx {
	const struct diag_config *c;
	const struct diag_epoch *ep;
	const struct diag_trial *t;
	int n;
	int mode_max;
	int final;
	int pruned;          /* partial curve: see enum diag_end */
	int early;           /* early-stopped, failed or cancelled: ended
			      * before its budget, not "not converged" */
	double chance;       /* accuracy of guessing; NAN unknown */
	int at_chance;       /* accuracy never clearly above chance */
	int have_train, have_val;   /* a training / validation metric */
	cJSON *ev;           /* borrowed from the result: evidence */
	cJSON *not_judged;   /* borrowed from the result */
	int oom;

	/* findings */
	int diverged, vanishing, exploding, plateau, overfit;
	int underfit_level, not_converged, still_improving;
	int blowup;          /* epoch-1 blow-up: counts on a poor curve */
	int val_stuck;       /* V never improved on its first value */
	char why_blowup[192];
	int have_any;        /* some loss or accuracy was reported */
	int shape_ok;        /* enough epochs to judge the shape */
	int stop_epoch;      /* 0 if none */
	int past_stop;
	char why[V_COUNT][400];   /* one reason per finding */
};

static void
ev_num(struct ctx *x, const char *name, double v)
{
	if (!isfinite(v) || cJSON_GetObjectItemCaseSensitive(x->ev, name))
		return;
	if (!cJSON_AddNumberToObject(x->ev, name, v))
		x->oom = 1;
}

static void
not_judged(struct ctx *x, const char *fmt, ...)
{
	char buf[256];
	cJSON *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s = cJSON_CreateString(buf);
	if (!s) {
		x->oom = 1;
		return;
	}
	cJSON_AddItemToArray(x->not_judged, s);
}

static void
reason(struct ctx *x, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why[v], sizeof(x->why[v]), fmt, ap);
	va_end(ap);
}

/* The badness series for train or val: the loss when reported, else
 * 1 - accuracy. *name gets the metric's name. 0 when neither is there. */
static int
pick(const struct ctx *x, int val, struct series *s, const char **name)
{
	enum field loss = val ? F_VAL_LOSS : F_TRAIN_LOSS;
	enum field acc = val ? F_VAL_ACC : F_TRAIN_ACC;

	if (reported(x->ep, x->n, loss)) {
		*s = series_of(x->ep, x->n, loss);
	} else if (reported(x->ep, x->n, acc)) {
		*s = series_of(x->ep, x->n, acc);
	} else {
		return 0;
	}
	*name = s->flip ? (val ? "val error (1 - val_acc)"
			       : "train error (1 - train_acc)")
			: field_names[s->f];
	return 1;
}

/* ---- divergence ------------------------------------------------------- */

/* Where each loss is first finite (-1: never), computed once per curve
 * so the per-epoch checks stay O(1). */
struct firsts {
	int train, val;
};

static void
find_firsts(const struct diag_epoch *ep, int n, struct firsts *fi)
{
	struct series t = series_of(ep, n, F_TRAIN_LOSS);
	struct series v = series_of(ep, n, F_VAL_LOSS);

	fi->train = first_finite(&t);
	fi->val = first_finite(&v);
}

/* A loss that is reported non-finite at epoch i: +-inf, or NaN after a
 * finite value (a caller that did not map reported NaN to inf). */
static int
loss_nonfinite_at(const struct diag_epoch *ep, int i, enum field f,
		  int first)
{
	double v = raw(&ep[i], f);

	return isinf(v) || (isnan(v) && first >= 0 && first < i);
}

static int
grad_nonfinite_at(const struct diag_epoch *e)
{
	for (int g = 0; g < e->n_grad; g++)
		if (!isfinite(e->grad_norm[g]))
			return 1;
	return 0;
}

/* Shared by the live check and the curve: is epoch i diverged by NaN/inf
 * or by explosion? Writes a reason when it is. */
static int
diverged_at(const struct diag_config *c, const struct diag_epoch *ep, int i,
	    const struct firsts *fi, char *why, size_t whylen, double *ratio)
{
	static const enum field losses[] = { F_TRAIN_LOSS, F_VAL_LOSS };
	const int first[] = { fi->train, fi->val };
	struct series t = series_of(ep, i + 1, F_TRAIN_LOSS);
	int f0 = fi->train;

	for (size_t k = 0; k < 2; k++) {
		if (loss_nonfinite_at(ep, i, losses[k], first[k])) {
			snprintf(why, whylen, "%s is %s at epoch %d",
				 field_names[losses[k]],
				 isnan(raw(&ep[i], losses[k])) ? "NaN" : "infinite",
				 ep[i].epoch);
			return 1;
		}
	}
	if (ep[i].grad_norm && grad_nonfinite_at(&ep[i])) {
		snprintf(why, whylen, "a gradient norm is NaN or infinite at epoch %d",
			 ep[i].epoch);
		return 1;
	}
	/* Explosion is judged on the training loss, since a validation loss
	 * climbing is also what overfitting looks like. */
	if (f0 >= 0 && f0 < i && sv(&t, f0) > 0 &&
	    sv(&t, i) > c->explode_factor * sv(&t, f0)) {
		*ratio = sv(&t, i) / sv(&t, f0);
		snprintf(why, whylen,
			 "train_loss %.4g at epoch %d is %.3gx its first value "
			 "%.4g (explode_factor %g)", sv(&t, i), ep[i].epoch,
			 *ratio, sv(&t, f0), c->explode_factor);
		return 1;
	}
	return 0;
}

int
diag_diverged(const struct diag_config *c, const struct diag_epoch *ep,
	      int n, char *why, size_t whylen)
{
	char buf[256];
	double ratio = NAN;
	struct firsts fi;

	if (!c->abort_on_divergence || n <= 0)
		return 0;
	find_firsts(ep, n, &fi);
	if (!diverged_at(c, ep, n - 1, &fi, buf, sizeof(buf), &ratio))
		return 0;
	if (why && whylen)
		snprintf(why, whylen, "%s", buf);
	return 1;
}

/*
 * An unstable run: the train loss multiplied by more than spike_factor
 * from one epoch to the next and landed above half of where it started.
 * The second condition keeps the harmless wobbles of a nearly zero loss
 * (0.01 -> 0.03 late in training) out.
 */
static int
check_spike(struct ctx *x, const struct series *t, int f0)
{
	for (int i = f0 + 1; i < x->n; i++) {
		double prev = sv(t, i - 1), cur = sv(t, i);

		if (!(prev > 0) || !isfinite(cur))
			continue;
		if (cur > x->c->spike_factor * prev && cur > 0.5 * sv(t, f0)) {
			x->diverged = 1;
			ev_num(x, "spike_epoch", x->ep[i].epoch);
			ev_num(x, "spike_ratio", cur / prev);
			reason(x, V_DIVERGED, "train_loss jumped %.3gx in one epoch, "
			       "from %.4g to %.4g at epoch %d (spike_factor %g)",
			       cur / prev, prev, cur, x->ep[i].epoch,
			       x->c->spike_factor);
			return 1;
		}
	}
	return 0;
}

/*
 * A blow-up inside epoch 1: the epoch's average train loss is more than
 * explode_factor times the val loss measured right after it, so some
 * steps produced enormous losses before the weights settled (often into
 * a dead, chance-level network). Counts as divergence only when the rest
 * of the curve is poor; a run that recovered is judged on its curve.
 */
static void
check_blowup(struct ctx *x)
{
	double tl = x->ep[0].train_loss, vl = x->ep[0].val_loss;

	if (!isfinite(tl) || !isfinite(vl) || vl <= 0)
		return;
	ev_num(x, "epoch1_train_val_ratio", tl / vl);
	if (tl > x->c->explode_factor * vl) {
		x->blowup = 1;
		snprintf(x->why_blowup, sizeof(x->why_blowup),
			 "train_loss averaged %.4g over epoch %d, %.3gx the "
			 "val_loss %.4g after it: it blew up within the epoch "
			 "(explode_factor %g)", tl, x->ep[0].epoch, tl / vl, vl,
			 x->c->explode_factor);
	}
}

static void
check_divergence(struct ctx *x)
{
	struct series t;
	double ratio = NAN;
	struct firsts fi;
	int f0;

	find_firsts(x->ep, x->n, &fi);
	for (int i = 0; i < x->n; i++) {
		if (diverged_at(x->c, x->ep, i, &fi, x->why[V_DIVERGED],
				sizeof(x->why[V_DIVERGED]), &ratio)) {
			x->diverged = 1;
			ev_num(x, "diverged_epoch", x->ep[i].epoch);
			ev_num(x, "explode_ratio", ratio);
			return;
		}
	}
	if (!reported(x->ep, x->n, F_TRAIN_LOSS)) {
		if (x->have_any)
			not_judged(x, "divergence by a rising loss: train_loss "
				   "not reported");
		return;
	}
	t = series_of(x->ep, x->n, F_TRAIN_LOSS);
	f0 = first_finite(&t);
	if (f0 < 0 || sv(&t, f0) <= 0)
		return;
	check_blowup(x);
	if (check_spike(x, &t, f0) || x->n - f0 < 2)
		return;
	/* "Grows from the first epochs": the loss at the end (averaged over
	 * up to smooth epochs, never including the first) is well above
	 * where it started. */
	{
		int k = x->c->smooth < x->n - 1 - f0 ? x->c->smooth : x->n - 1 - f0;
		double end = tail_mean(&t, k);
		double rise = end / sv(&t, f0) - 1.0;

		ev_num(x, "train_loss_rise", rise);
		if (rise > x->c->diverge_rise) {
			x->diverged = 1;
			reason(x, V_DIVERGED,
			       "train_loss rose from %.4g to %.4g (+%.0f%%, "
			       "diverge_rise %g)", sv(&t, f0), end, rise * 100,
			       x->c->diverge_rise);
		}
	}
}

/* ---- gradients -------------------------------------------------------- */

/*
 * The training set is fit perfectly, so gradients of exactly 0 are no
 * alarm: train accuracy at the end >= 0.999 when reported; else a train
 * loss below 1% of the best val loss (or, without val, of its own first
 * value). Not the first value when val is there: after a blow-up in epoch
 * 1 the first value is astronomic and anything is below 1% of it.
 */
static int
perfect_fit(const struct ctx *x)
{
	struct series ta = { x->ep, x->n, F_TRAIN_ACC, 0 };
	struct series t = series_of(x->ep, x->n, F_TRAIN_LOSS);
	struct series v = series_of(x->ep, x->n, F_VAL_LOSS);
	double acc = tail_mean(&ta, 1), end = tail_mean(&t, 1);
	int vb = argmin_from(&v, 0), f0 = first_finite(&t);

	if (isfinite(acc))
		return acc >= 0.999;
	if (!isfinite(end))
		return 0;
	if (vb >= 0)
		return end < 0.01 * sv(&v, vb);
	return f0 >= 0 && end < 0.01 * sv(&t, f0);
}

/*
 * A dead network: every layer's gradient norm is exactly 0 from epoch
 * zero_from to the end, so no step changes anything any more (all ReLUs
 * off, typically after a step far too large). That is divergence whatever
 * the loss looks like: a dead net's loss is flat, which alone would pass
 * for converged. The one benign case is a net that fits its training set
 * perfectly (see perfect_fit).
 */
static int perfect_fit(const struct ctx *x);

static void
check_dead(struct ctx *x, int zero_from)
{
	if (!zero_from || perfect_fit(x))
		return;
	ev_num(x, "dead_from_epoch", zero_from);
	if (x->diverged)
		return;
	x->diverged = 1;
	reason(x, V_DIVERGED, "every gradient norm is 0 from epoch %d on: the "
	       "network died and stopped learning", zero_from);
}

#define GRAD_RATIOS_MAX 64

/* What the gradient checks read off the epochs' grad_norm arrays. */
struct grad_scan {
	double ratios[GRAD_RATIOS_MAX]; /* input/output norm of sampled epochs */
	int n_ratio;
	int any;          /* an epoch reported finite norms */
	int multi;        /* one of them reported two layers or more */
	double g0max;     /* the first such epoch's largest norm */
	double gmax;      /* the largest norm of all, at gmax_epoch */
	int gmax_epoch;
	int zero_from;    /* first epoch of a trailing run of all-zero norms */
};

/* The first, the largest and the zero norms of every epoch, and the
 * input/output ratio of at most GRAD_RATIOS_MAX epochs sampled evenly for
 * the median, so the work is bounded however long the curve. */
static void
grad_scan(const struct ctx *x, struct grad_scan *s)
{
	int stride = x->n > GRAD_RATIOS_MAX ?
		     (x->n + GRAD_RATIOS_MAX - 1) / GRAD_RATIOS_MAX : 1;

	s->n_ratio = s->any = s->multi = s->gmax_epoch = s->zero_from = 0;
	s->g0max = s->gmax = NAN;
	for (int i = 0; i < x->n; i++) {
		const struct diag_epoch *e = &x->ep[i];
		double top = 0, in, out;

		if (e->n_grad <= 0 || !e->grad_norm || grad_nonfinite_at(e))
			continue;
		s->any = 1;
		for (int g = 0; g < e->n_grad; g++)
			if (e->grad_norm[g] > top)
				top = e->grad_norm[g];
		if (top == 0 && !s->zero_from)
			s->zero_from = e->epoch;
		else if (top != 0)
			s->zero_from = 0;
		if (isnan(s->g0max))
			s->g0max = top;
		if (isnan(s->gmax) || top > s->gmax) {
			s->gmax = top;
			s->gmax_epoch = e->epoch;
		}
		if (e->n_grad < 2)
			continue;
		s->multi = 1;
		if (i % stride != 0 || s->n_ratio == GRAD_RATIOS_MAX)
			continue;
		in = e->grad_norm[0];
		out = e->grad_norm[e->n_grad - 1];
		if (out > 0)
			s->ratios[s->n_ratio++] = in / out;
		else if (in > 0)
			s->ratios[s->n_ratio++] = INFINITY;
	}
}

/* The largest norm's growth from epoch 1, and its size. */
static void
check_grad_growth(struct ctx *x, const struct grad_scan *s)
{
	double growth = s->g0max > 0 ? s->gmax / s->g0max : NAN;

	ev_num(x, "grad_growth", growth);
	ev_num(x, "grad_norm_max", s->gmax);
	if (isfinite(growth) && growth > x->c->grad_growth) {
		x->exploding = 1;
		reason(x, V_EXPLODING, "the largest gradient norm grew %.3gx "
		       "from epoch 1 (grad_growth %g)", growth, x->c->grad_growth);
	} else if (s->gmax > x->c->grad_max) {
		x->exploding = 1;
		reason(x, V_EXPLODING, "a gradient norm reached %.3g at epoch %d "
		       "(grad_max %g)", s->gmax, s->gmax_epoch, x->c->grad_max);
	}
}

/* The median input/output ratio (s->n_ratio > 0; s->ratios gets sorted):
 * typical over the run, not one unlucky epoch. */
static void
check_grad_ratio(struct ctx *x, struct grad_scan *s)
{
	double *r = s->ratios, ratio;
	int n = s->n_ratio;

	/* Insertion sort: at most GRAD_RATIOS_MAX values. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && r[j - 1] > r[j]; j--) {
			double t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	ratio = n % 2 ? r[n / 2] : 0.5 * (r[n / 2 - 1] + r[n / 2]);
	ev_num(x, "grad_ratio", ratio);
	if (ratio < x->c->vanish_ratio) {
		x->vanishing = 1;
		reason(x, V_VANISHING, "the input-side layer's gradient norm is "
		       "%.3gx the output-side one's (median over epochs; "
		       "vanish_ratio %g)", ratio, x->c->vanish_ratio);
	} else if (ratio > x->c->explode_ratio) {
		x->exploding = 1;
		reason(x, V_EXPLODING, "the input-side layer's gradient norm is "
		       "%.3gx the output-side one's (median over epochs; "
		       "explode_ratio %g)", ratio, x->c->explode_ratio);
	}
}

static void
check_gradients(struct ctx *x)
{
	struct grad_scan s;

	grad_scan(x, &s);
	if (!s.any) {
		not_judged(x, "gradients: grad_norm not reported");
		return;
	}
	check_dead(x, s.zero_from);
	check_grad_growth(x, &s);
	if (!s.multi) {
		not_judged(x, "gradient ratio: grad_norm has one layer only");
		return;
	}
	if (s.n_ratio > 0)
		check_grad_ratio(x, &s);
}

/* ---- plateau ---------------------------------------------------------- */

/* (first - best) / first: how much of its first value a series gained
 * over the run; NAN when it has no finite or positive first value. */
static double
improvement_of(const struct series *s)
{
	int f0 = first_finite(s), b = argmin_from(s, 0);

	if (f0 < 0 || b < 0 || sv(s, f0) <= 0)
		return NAN;
	return (sv(s, f0) - sv(s, b)) / sv(s, f0);
}

static void
check_plateau(struct ctx *x)
{
	struct series t, v;
	const char *tn, *vn;
	double imp, vimp = NAN, acc;

	/* Flat because it learned everything in epoch 1 is not a plateau:
	 * a high training accuracy says so. */
	acc = tail_mean(&(struct series){ x->ep, x->n, F_TRAIN_ACC, 0 },
			x->c->smooth);
	if (isfinite(acc) && x->c->underfit_acc > 0 && acc >= x->c->underfit_acc)
		return;
	if (pick(x, 1, &v, &vn)) {
		vimp = improvement_of(&v);
		ev_num(x, "val_improvement", vimp);
		x->val_stuck = isfinite(vimp) && vimp < x->c->plateau_tol;
	}
	if (!pick(x, 0, &t, &tn))
		return;   /* val alone: val_stuck is the plateau */
	imp = improvement_of(&t);
	ev_num(x, "improvement", imp);
	if (!(imp < x->c->plateau_tol))
		return;
	x->plateau = 1;
	reason(x, V_PLATEAU, "%s improved by %.2f%% of its first value %.4g "
	       "over %d epochs (plateau_tol %g%%)", tn, imp * 100,
	       sv(&t, first_finite(&t)), x->n, x->c->plateau_tol * 100);
}

/* ---- chance level ----------------------------------------------------- */

/* Largest finite value of field f over the curve; NAN if none. */
static double
max_of(const struct ctx *x, enum field f)
{
	double m = NAN;

	for (int i = 0; i < x->n; i++) {
		double v = raw(&x->ep[i], f);

		if (isfinite(v) && (isnan(m) || v > m))
			m = v;
	}
	return m;
}

static double
min_of(const struct ctx *x, enum field f)
{
	double m = NAN;

	for (int i = 0; i < x->n; i++) {
		double v = raw(&x->ep[i], f);

		if (isfinite(v) && (isnan(m) || v < m))
			m = v;
	}
	return m;
}

/*
 * A network that does not learn: every accuracy it reported stayed below
 * chance + 10% of the way from chance to 1; without accuracies, every
 * loss stayed at or above 95% of the loss of a uniform guess, ln(1 /
 * chance). Needs the chance level (diagnosis.chance_acc, or the built-in
 * trainer's number of classes).
 */
static void
check_not_learning(struct ctx *x)
{
	double ch = x->chance, top, guess, low;

	if (!isfinite(ch) || ch <= 0) {
		not_judged(x, "not learning: the chance level is unknown (set "
			   "diagnosis.chance_acc to 1 / classes)");
		return;
	}
	ev_num(x, "chance_acc", ch);
	top = fmax(max_of(x, F_TRAIN_ACC), max_of(x, F_VAL_ACC));
	if (isfinite(top)) {
		ev_num(x, "acc_max", top);
		if (top < ch + 0.1 * (1 - ch)) {
			x->at_chance = 1;
			if (!reported(x->ep, x->n, F_TRAIN_LOSS))
				not_judged(x, "plateau or not learning: train_loss "
					   "not reported, so a loss falling slowly "
					   "from a poor start cannot be told from "
					   "one stuck at the guess level");
			reason(x, V_NOT_LEARNING, "the accuracy never rose clearly "
			       "above chance: at most %.3f over %d epoch%s, chance "
			       "is %.3f (chance_acc)", top, x->n,
			       x->n == 1 ? "" : "s", ch);
		}
		return;
	}
	guess = log(1.0 / ch);
	low = fmin(min_of(x, F_TRAIN_LOSS), min_of(x, F_VAL_LOSS));
	if (isfinite(low) && low >= 0.95 * guess) {
		x->at_chance = 1;
		reason(x, V_NOT_LEARNING, "the loss never fell below %.4g, the "
		       "loss of a uniform guess ln(1/%.3g) = %.4g: the network "
		       "learned nothing", low, ch, guess);
	}
}

/* A plateau far above the guess level is a learning rate too small (the
 * loss is still on its way down from a poor start): plateau, not "not
 * learning". */
static int
plateau_above_guess(const struct ctx *x)
{
	double low = min_of(x, F_TRAIN_LOSS);

	return x->plateau && isfinite(x->chance) && x->chance > 0 &&
	       isfinite(low) && low > 1.05 * log(1.0 / x->chance);
}

/* ---- overfitting ------------------------------------------------------ */

/* The accuracy gap (train - val): at the end (averaged over smooth
 * epochs), at epoch index b and at the first epoch both report. */
static int
acc_gap(const struct ctx *x, int b, double *end, double *at_b, double *first)
{
	struct series ta = { x->ep, x->n, F_TRAIN_ACC, 0 };
	struct series va = { x->ep, x->n, F_VAL_ACC, 0 };

	*end = tail_mean(&ta, x->c->smooth) - tail_mean(&va, x->c->smooth);
	*at_b = sv(&ta, b) - sv(&va, b);
	*first = NAN;
	for (int i = 0; i < x->n && isnan(*first); i++)
		*first = sv(&ta, i) - sv(&va, i);
	return isfinite(*end) && isfinite(*first);
}

/* val_loss / train_loss, the same three ways. */
static int
loss_gap(const struct ctx *x, int b, double *end, double *at_b, double *first)
{
	struct series tl = { x->ep, x->n, F_TRAIN_LOSS, 0 };
	struct series vl = { x->ep, x->n, F_VAL_LOSS, 0 };

	*end = tail_mean(&vl, x->c->smooth) / tail_mean(&tl, x->c->smooth);
	*at_b = sv(&vl, b) / sv(&tl, b);
	*first = NAN;
	for (int i = 0; i < x->n && !isfinite(*first); i++)
		*first = sv(&vl, i) / sv(&tl, i);
	return isfinite(*end) && isfinite(*first);
}

/* Training accuracy below validation accuracy at the end: a network that
 * does worse on the data it trains on is not overfitting it (a val loss
 * going up is then noise or instability). */
static int
train_below_val(const struct ctx *x)
{
	struct series ta = { x->ep, x->n, F_TRAIN_ACC, 0 };
	struct series va = { x->ep, x->n, F_VAL_ACC, 0 };
	double t = tail_mean(&ta, x->c->smooth), v = tail_mean(&va, x->c->smooth);

	return isfinite(t) && isfinite(v) && t < v;
}

/* Validation accuracy never clearly above chance (the level
 * check_not_learning uses) while training accuracy is not yet half way
 * from chance to 1: nothing has been learned that a gap could be made of.
 * With batch norm, train_acc (batch statistics) runs ahead of val_acc
 * (running statistics) for the first steps. A training set learned well
 * with validation at chance is memorized: that stays overfitting. */
static int
too_early_for_a_gap(struct ctx *x)
{
	double ch = x->chance, va = max_of(x, F_VAL_ACC), ta = max_of(x, F_TRAIN_ACC);

	if (!isfinite(ch) || ch <= 0 || !isfinite(va) || !isfinite(ta))
		return 0;
	if (va >= ch + 0.1 * (1 - ch) || ta >= ch + 0.5 * (1 - ch))
		return 0;
	not_judged(x, "overfitting: the validation accuracy never left chance "
		   "(at most %.3f, chance %.3f) and training accuracy is at "
		   "most %.3f: a gap this early is not overfitting", va, ch, ta);
	return 1;
}

static void
check_overfitting(struct ctx *x)
{
	struct series t, v;
	const char *tn, *vn;
	double vbest, vend, tb, tend, rise, gap_end, gap_b, gap_0;
	int b, past, k;

	if (!pick(x, 0, &t, &tn) || !pick(x, 1, &v, &vn)) {
		not_judged(x, "overfitting: needs both a training and a "
			   "validation metric");
		return;
	}
	if (t.flip != v.flip) {
		not_judged(x, "overfitting: %s and %s are not comparable", tn, vn);
		return;
	}
	if (too_early_for_a_gap(x))
		return;
	b = argmin_from(&v, 0);
	if (b < 0)
		return;
	past = x->n - 1 - b;
	vbest = sv(&v, b);
	ev_num(x, "val_best_epoch", x->ep[b].epoch);
	ev_num(x, v.flip ? "val_acc_best" : "val_loss_best", v.flip ? 1 - vbest : vbest);

	/* Rule 1: validation turned up while training kept falling. The end
	 * window lies wholly after the best epoch. */
	k = past < x->c->smooth ? past : x->c->smooth;
	if (k > 0 && vbest > 0) {
		vend = tail_mean(&v, k);
		tb = sv(&t, b);
		tend = tail_mean(&t, k);
		rise = vend / vbest - 1.0;
		ev_num(x, "val_rise", rise);
		if (past >= x->c->overfit_patience && rise > x->c->overfit_rise &&
		    isfinite(tb) && tend < tb && !train_below_val(x)) {
			x->overfit = 1;
			reason(x, V_OVERFITTING, "%s rose %.0f%% above its best "
			       "(epoch %d) over the last %d epochs while %s kept "
			       "falling (overfit_rise %g%%)", vn, rise * 100,
			       x->ep[b].epoch, past, tn, x->c->overfit_rise * 100);
		}
	}

	/* Rule 2: the generalization gap grew past the threshold: wider at
	 * the end than at the first epoch. Accuracies when reported (their
	 * gap has a natural scale), else the loss ratio. */
	if (acc_gap(x, b, &gap_end, &gap_b, &gap_0)) {
		ev_num(x, "gap_first", gap_0);
		ev_num(x, "gap_at_best", gap_b);
		ev_num(x, "gap_end", gap_end);
		if (!x->overfit && gap_end > x->c->gap_threshold &&
		    gap_end > gap_0) {
			x->overfit = 1;
			reason(x, V_OVERFITTING, "train_acc - val_acc grew from "
			       "%.3f to %.3f (gap_threshold %g)", gap_0, gap_end,
			       x->c->gap_threshold);
		}
	} else if (!t.flip && loss_gap(x, b, &gap_end, &gap_b, &gap_0)) {
		ev_num(x, "loss_ratio_first", gap_0);
		ev_num(x, "loss_ratio_at_best", gap_b);
		ev_num(x, "loss_ratio_end", gap_end);
		if (!x->overfit && gap_end > x->c->loss_gap_ratio &&
		    gap_end > gap_0) {
			x->overfit = 1;
			reason(x, V_OVERFITTING, "val_loss / train_loss grew from "
			       "%.2f to %.2f (loss_gap_ratio %g)", gap_0, gap_end,
			       x->c->loss_gap_ratio);
		}
	}
	if (x->overfit)
		ev_num(x, "onset_epoch", x->ep[b].epoch);
}

/* ---- underfitting ----------------------------------------------------- */

/* underfit_acc is one data set's level; the sweep's other trials show what
 * this task allows: a train accuracy far below the best of them, once the
 * curve has flattened, is underfitting too. */
static void
underfit_relative(struct ctx *x, double tacc)
{
	double best = x->t ? x->t->sweep_best_train_acc : NAN;

	if (!isfinite(best) || x->c->underfit_rel <= 0)
		return;
	ev_num(x, "sweep_best_train_acc", best);
	if (x->not_converged || x->still_improving ||
	    tacc >= x->c->underfit_rel * best)
		return;
	x->underfit_level = 1;
	reason(x, V_UNDERFITTING, "converged low: train_acc is %.3f at the end, "
	       "below %g x the %.3f other trials of the sweep reached "
	       "(underfit_rel)", tacc, x->c->underfit_rel, best);
}

static void
check_underfitting(struct ctx *x)
{
	struct series t, v;
	const char *tn, *vn = NULL;
	double tfall, vfall = NAN, tacc, vacc;
	int has_v, k = x->c->smooth;

	if (!pick(x, 0, &t, &tn)) {
		not_judged(x, "underfitting: no training metric reported");
		return;
	}
	has_v = pick(x, 1, &v, &vn);
	/* "Still improving" is about what the trainer is judged on: the
	 * validation accuracy when there is one (its error, 1 - val_acc),
	 * since a loss can keep falling while the accuracy has settled. */
	if (reported(x->ep, x->n, F_VAL_ACC)) {
		v = series_of(x->ep, x->n, F_VAL_ACC);
		vn = "val error (1 - val_acc)";
	}
	if (k > x->n - 1)
		k = x->n - 1;
	tfall = recent_gain(&t, k);
	ev_num(x, t.flip ? "train_err_recent_gain" : "train_recent_gain", tfall);
	if (has_v) {
		vfall = recent_gain(&v, k);
		ev_num(x, v.flip ? "val_err_recent_gain" : "val_recent_gain", vfall);
	}

	/* Still improving fast at the end: both curves (or the training one
	 * when that is all there is). Not for an early-stopped trial: it was
	 * stopped because its objective stopped improving. */
	if (!x->early && isfinite(tfall) && tfall > x->c->converge_slope &&
	    (!has_v || (isfinite(vfall) && vfall > x->c->converge_slope))) {
		if (x->final) {
			char vpart[96] = "";

			if (has_v)
				snprintf(vpart, sizeof(vpart), " and %s %.1f%%/epoch",
					 vn, vfall * 100);
			x->not_converged = 1;
			reason(x, V_NOT_CONVERGED, "still improving when it ended: the best %s still "
			       "improved %.1f%%/epoch%s over the last %d epochs "
			       "(converge_slope %g%%)", tn, tfall * 100, vpart,
			       k, x->c->converge_slope * 100);
		} else {
			x->still_improving = 1;
			reason(x, V_IMPROVING, "the best %s still improves "
			       "%.1f%%/epoch; judged again as epochs arrive", tn,
			       tfall * 100);
		}
	}

	/* Training accuracy itself poor, validation no better. */
	tacc = tail_mean(&(struct series){ x->ep, x->n, F_TRAIN_ACC, 0 }, x->c->smooth);
	vacc = tail_mean(&(struct series){ x->ep, x->n, F_VAL_ACC, 0 }, x->c->smooth);
	ev_num(x, "train_acc_end", tacc);
	ev_num(x, "val_acc_end", vacc);
	if (!isfinite(tacc)) {
		not_judged(x, "underfitting by level: train_acc not reported, "
			   "so a poor final loss cannot be told from a good one");
		return;
	}
	if (!x->final && x->still_improving)
		return;   /* low but still climbing: too early to say */
	if (x->c->underfit_acc > 0 && tacc < x->c->underfit_acc &&
	    !(isfinite(vacc) && vacc >= x->c->underfit_acc)) {
		x->underfit_level = 1;
		reason(x, V_UNDERFITTING, "converged low: train_acc is %.3f at "
		       "the end%s%.3f (underfit_acc %g)", tacc,
		       isfinite(vacc) ? " and val_acc " : "",
		       isfinite(vacc) ? vacc : 0.0, x->c->underfit_acc);
		return;
	}
	underfit_relative(x, tacc);
}

/* ---- early stopping point --------------------------------------------- */

static void
check_stop_point(struct ctx *x)
{
	struct series s;
	int b;

	if (reported(x->ep, x->n, F_OBJECTIVE)) {
		s = series_of(x->ep, x->n, F_OBJECTIVE);
		s.flip = x->mode_max;
	} else if (reported(x->ep, x->n, F_VAL_LOSS)) {
		s = series_of(x->ep, x->n, F_VAL_LOSS);
	} else if (reported(x->ep, x->n, F_VAL_ACC)) {
		s = series_of(x->ep, x->n, F_VAL_ACC);
	} else {
		if (x->n > 0)
			not_judged(x, "early stopping point: no objective or "
				   "validation metric reported");
		return;
	}
	b = argmin_from(&s, 0);
	if (b < 0)
		return;
	x->stop_epoch = x->ep[b].epoch;
	x->past_stop = x->ep[x->n - 1].epoch - x->stop_epoch;
	ev_num(x, "stop_epoch", x->stop_epoch);
	ev_num(x, "epochs_past_stop", x->past_stop);
}

/* ---- verdict and advice ----------------------------------------------- */

/* What an item of advice changes, so it is left out when the trial's
 * params already do it (or, for an external trainer, do not have it). */
enum adv {
	A_ANY,          /* nothing a param shows */
	A_RAISE_LR,     /* not when lr is at the top of its range */
	A_LOWER_LR,     /* not when lr is at the bottom of its range */
	A_OPTIMIZER,    /* not for adam or rmsprop */
	A_BATCHNORM,    /* not when batchnorm is on */
	A_RELU,         /* not for a relu-family activation */
	A_INIT,         /* not for a fan-in-scaled initialization */
	A_REGULARIZE,   /* an external trainer needs dropout or weight_decay */
	A_NL_LOWER,     /* not learning, and a step too large is the likely
			 * cause (see nl_direction) */
	A_NL_RAISE,     /* not learning, and a step too small is */
	A_NL_EITHER,    /* not learning, the cause unknown */
};

struct advice {
	enum adv kind;
	const char *text;
};

#define ADV_END { A_ANY, NULL }

static const struct advice advice_text[V_COUNT][6] = {
	[V_GOOD_FIT] = {
		{ A_ANY, "nothing to fix: train and validation converged "
		  "together; compare the objective with the other trials" },
		ADV_END },
	[V_OVERFITTING] = {
		{ A_ANY, "stop at the onset epoch (early stopping on the "
		  "validation metric)" },
		{ A_REGULARIZE, "regularize: add or raise dropout, add weight "
		  "decay" },
		{ A_ANY, "use more training data (a larger train_fraction, "
		  "augmentation)" },
		{ A_ANY, "use a smaller network" }, ADV_END },
	[V_UNDERFITTING] = {
		{ A_ANY, "use a larger network (wider or more hidden layers): "
		  "the curve flattened at a poor level" },
		{ A_RAISE_LR, "raise the learning rate" },
		{ A_OPTIMIZER, "use a better optimizer (adam, momentum)" },
		ADV_END },
	[V_NOT_CONVERGED] = {
		{ A_ANY, "train for more epochs: the curves were still "
		  "improving when it ended" },
		{ A_RAISE_LR, "raise the learning rate" },
		{ A_OPTIMIZER, "use a better optimizer (adam, momentum)" },
		ADV_END },
	[V_DIVERGED] = {
		{ A_LOWER_LR, "lower the learning rate (3-10x)" },
		{ A_INIT, "check the initialization (scaled to fan-in: He for "
		  "relu, Xavier for tanh/sigmoid)" },
		{ A_ANY, "add gradient clipping or batch normalization" },
		ADV_END },
	[V_PLATEAU] = {
		{ A_RAISE_LR, "raise the learning rate" },
		{ A_OPTIMIZER, "change the optimizer (adam or momentum)" },
		{ A_INIT, "change the initialization (He or Xavier, not tiny "
		  "weights)" }, ADV_END },
	[V_VANISHING] = {
		{ A_RELU, "use a relu-family activation instead of "
		  "sigmoid/tanh" },
		{ A_BATCHNORM, "add batch normalization" },
		{ A_INIT, "use a fan-in-scaled initialization (He or Xavier) "
		  "instead of tiny weights" },
		{ A_ANY, "use fewer layers" }, ADV_END },
	[V_EXPLODING] = {
		{ A_LOWER_LR, "lower the learning rate" },
		{ A_ANY, "clip gradients" },
		{ A_BATCHNORM, "add batch normalization" },
		{ A_INIT, "use a smaller, fan-in-scaled initialization" },
		ADV_END },
	[V_NOT_LEARNING] = {
		{ A_NL_LOWER, "lower the learning rate (3-10x): a step too large "
		  "leaves a network stuck at chance" },
		{ A_NL_RAISE, "raise the learning rate: the loss barely moved "
		  "from where it started" },
		{ A_NL_EITHER, "lower the learning rate if the loss jumped in the "
		  "first steps; raise it if it never moved" },
		{ A_INIT, "check the initialization (He for relu, Xavier for "
		  "tanh/sigmoid)" },
		{ A_ANY, "check the data: labels matching their inputs, inputs "
		  "normalized" }, ADV_END },
	[V_IMPROVING] = {
		{ A_ANY, "let it run: the curves are still improving" }, ADV_END },
	[V_INSUFFICIENT] = {
		{ A_ANY, "wait for more epochs" }, ADV_END },
	[V_UNKNOWN] = {
		{ A_ANY, "report train_loss and val_loss (and train_acc, "
		  "val_acc) on every epoch line so the curve can be judged" },
		ADV_END },
	[V_PRUNED] = {
		{ A_ANY, "nothing to fix from its partial curve: the pruner "
		  "stopped it because other trials were ahead at that epoch" },
		ADV_END },
	[V_PARTIAL] = {
		{ A_ANY, "report a training metric (train_loss or train_acc) and "
		  "a validation one on every epoch line, so over- and "
		  "underfitting can be judged" }, ADV_END },
};

/* An ended trial too short to judge is not told to wait. */
static const struct advice advice_short_ended[] = {
	{ A_ANY, "nothing to judge: too few epochs for the curve's shape "
	  "(min_epochs)" }, ADV_END,
};

static const cJSON *
param(const struct ctx *x, const char *name)
{
	if (!x->t || !x->t->params)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(x->t->params, name);
}

/* The low and high ends of the space's range for a numeric param. */
static int
space_range(const struct ctx *x, const char *name, double *lo, double *hi,
	    int *logscale)
{
	const cJSON *p = x->t && x->t->space ?
		cJSON_GetObjectItemCaseSensitive(x->t->space, name) : NULL;
	const cJSON *a, *v;

	if (!cJSON_IsObject(p) || !(a = p->child) || !cJSON_IsArray(a))
		return 0;
	*logscale = strcmp(a->string, "loguniform") == 0 ||
		    strcmp(a->string, "logint") == 0;
	*lo = INFINITY;
	*hi = -INFINITY;
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsNumber(v))
			return 0;
		*lo = fmin(*lo, v->valuedouble);
		*hi = fmax(*hi, v->valuedouble);
	}
	return *lo < *hi && (!*logscale || *lo > 0);
}

/* +1: the trial's lr is in the top tenth of its range (in log space for
 * a log distribution); -1: in the bottom tenth; 0: between, or unknown. */
static int
lr_edge(const struct ctx *x)
{
	const cJSON *lr = param(x, "lr");
	double lo, hi, v, pos;
	int lg;

	if (!cJSON_IsNumber(lr) || !space_range(x, "lr", &lo, &hi, &lg))
		return 0;
	v = lr->valuedouble;
	if (lg && v <= 0)
		return 0;
	pos = lg ? (log(v) - log(lo)) / (log(hi) - log(lo))
		 : (v - lo) / (hi - lo);
	return pos >= 0.9 ? 1 : pos <= 0.1 ? -1 : 0;
}

static int
param_is(const struct ctx *x, const char *name, const char *const *vals)
{
	const cJSON *p = param(x, name);

	for (; *vals; vals++) {
		if (cJSON_IsString(p) && strcmp(p->valuestring, *vals) == 0)
			return 1;
		if (cJSON_IsTrue(p) && strcmp(*vals, "true") == 0)
			return 1;
	}
	return 0;
}

/*
 * Which way the learning rate should go for a network stuck at chance:
 * -1 lower, +1 raise, 0 unknown. Lower when the loss blew up in epoch 1
 * or started far above the guess level ln(1 / chance); else lower for an
 * adaptive optimizer (adam, rmsprop) in the upper half of its lr range (or
 * at lr >= 0.01 with no range known), whose large steps leave a network
 * dead at the guess level; else raise (plain or momentum sgd crawling).
 */
static int
nl_direction(const struct ctx *x)
{
	static const char *const adaptive[] = { "adam", "rmsprop", NULL };
	const cJSON *lr = param(x, "lr");
	double t0 = x->n > 0 ? x->ep[0].train_loss : NAN, lo, hi, pos;
	int lg;

	if (x->blowup || (isfinite(t0) && isfinite(x->chance) && x->chance > 0 &&
			  t0 > 1.5 * log(1.0 / x->chance)))
		return -1;
	if (!cJSON_IsNumber(lr) || lr->valuedouble <= 0)
		return 0;
	if (!param_is(x, "optimizer", adaptive))
		return param(x, "optimizer") ? 1 : 0;
	if (!space_range(x, "lr", &lo, &hi, &lg))
		return lr->valuedouble >= 0.01 ? -1 : 1;
	pos = lg ? (log(lr->valuedouble) - log(lo)) / (log(hi) - log(lo))
		 : (lr->valuedouble - lo) / (hi - lo);
	return pos >= 0.5 ? -1 : 1;
}

/* The param an advice kind is about; NULL for A_ANY. */
static const char *
adv_param(enum adv k)
{
	switch (k) {
	case A_RAISE_LR: case A_LOWER_LR:
	case A_NL_LOWER: case A_NL_RAISE: case A_NL_EITHER: return "lr";
	case A_OPTIMIZER: return "optimizer";
	case A_BATCHNORM: return "batchnorm";
	case A_RELU: return "activation";
	case A_INIT: return "init";
	case A_REGULARIZE: return "dropout";
	default: return NULL;
	}
}

/* Is this advice for this trial? The trial's params decide; an external
 * trainer gets param advice only for the params it has. */
static int
advice_fits(const struct ctx *x, enum adv k)
{
	static const char *const adaptive[] = { "adam", "rmsprop", NULL };
	static const char *const on[] = { "true", NULL };
	static const char *const relus[] = { "relu", "leaky_relu", "elu", NULL };
	static const char *const scaled[] = { "auto", "he", "xavier", "pytorch",
					      NULL };
	const char *name = adv_param(k);

	if (name && x->t && x->t->params && !x->t->builtin && !param(x, name) &&
	    !(k == A_REGULARIZE && param(x, "weight_decay")))
		return 0;
	switch (k) {
	case A_RAISE_LR: return lr_edge(x) <= 0;
	case A_LOWER_LR: return lr_edge(x) >= 0;
	case A_NL_LOWER: return nl_direction(x) < 0 && lr_edge(x) >= 0;
	case A_NL_RAISE: return nl_direction(x) > 0 && lr_edge(x) <= 0;
	case A_NL_EITHER: return nl_direction(x) == 0;
	case A_OPTIMIZER: return !param_is(x, "optimizer", adaptive);
	case A_BATCHNORM: return !param_is(x, "batchnorm", on);
	case A_RELU: return !param_is(x, "activation", relus);
	case A_INIT: return !param_is(x, "init", scaled);
	default: return 1;
	}
}

static int
add_advice(const struct ctx *x, cJSON *arr, const struct advice *a)
{
	for (; a->text; a++) {
		cJSON *e;

		if (!advice_fits(x, a->kind))
			continue;
		e = cJSON_CreateString(a->text);
		if (!e)
			return -ENOMEM;
		cJSON_AddItemToArray(arr, e);
	}
	return 0;
}

/* The curve itself is poor: flat, low, still far from converged, at
 * chance, or a validation metric that never got better than after epoch
 * 1. */
static int
poor_curve(const struct ctx *x)
{
	return x->plateau || x->underfit_level || x->not_converged ||
	       x->val_stuck || x->at_chance;
}

/* Divergence by a blow-up in epoch 1, which counts only when the curve
 * did not recover (or is too short to tell). */
static int
soft_diverged(const struct ctx *x)
{
	return x->blowup && (poor_curve(x) || !x->shape_ok);
}

static int
finding(const struct ctx *x, enum verdict v)
{
	/* A network at chance is neither over- nor underfitting. */
	int fit = !x->at_chance;

	switch (v) {
	case V_DIVERGED: return x->diverged || soft_diverged(x);
	case V_VANISHING: return x->vanishing;
	case V_EXPLODING: return x->exploding;
	case V_PLATEAU: return x->plateau;
	case V_NOT_LEARNING: return x->at_chance;
	case V_OVERFITTING: return fit && x->overfit;
	case V_UNDERFITTING: return fit && x->underfit_level;
	case V_NOT_CONVERGED: return fit && x->not_converged;
	case V_IMPROVING: return x->still_improving;
	default: return 0;
	}
}

/*
 * Precedence: a diverged run is diverged whatever else it shows. Gradient
 * findings come next only when the curve itself is poor (flat, at chance,
 * underfit or not converged): they are then the cause; on a healthy curve
 * they are a tag. Then a plateau far above the guess level, chance level,
 * plateau, overfitting; a pruned trial stops there. Then not converged,
 * underfitting; good fit only with a training and a validation metric.
 */
static enum verdict
primary(const struct ctx *x)
{
	int poor = poor_curve(x);

	if (x->n == 0)
		return x->pruned ? V_PRUNED : V_INSUFFICIENT;
	if (!x->have_any)
		return x->diverged ? V_DIVERGED : V_UNKNOWN;
	if (x->diverged || soft_diverged(x))
		return V_DIVERGED;
	if ((x->vanishing || x->exploding) && (poor || !x->shape_ok))
		return x->vanishing ? V_VANISHING : V_EXPLODING;
	if (plateau_above_guess(x))
		return V_PLATEAU;
	if (x->at_chance)
		return V_NOT_LEARNING;
	if (!x->shape_ok)
		return x->pruned ? V_PRUNED : V_INSUFFICIENT;
	if (x->plateau)
		return V_PLATEAU;
	if (x->overfit)
		return V_OVERFITTING;
	if (x->pruned)
		return V_PRUNED;
	if (x->not_converged)
		return V_NOT_CONVERGED;
	if (x->underfit_level)
		return V_UNDERFITTING;
	if (x->still_improving)
		return V_IMPROVING;
	if (!x->have_train || !x->have_val)
		return V_PARTIAL;
	return V_GOOD_FIT;
}

static int
add_strings(cJSON *arr, const char *const *s)
{
	for (; *s; s++) {
		cJSON *e = cJSON_CreateString(*s);

		if (!e)
			return -ENOMEM;
		cJSON_AddItemToArray(arr, e);
	}
	return 0;
}

static int
add_tags(const struct ctx *x, cJSON *tags, enum verdict prim)
{
	static const enum verdict order[] = {
		V_DIVERGED, V_VANISHING, V_EXPLODING, V_PLATEAU,
		V_NOT_LEARNING, V_OVERFITTING, V_NOT_CONVERGED, V_UNDERFITTING,
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *name[2] = { verdict_names[order[i]], NULL };

		if (order[i] != prim && finding(x, order[i]) &&
		    add_strings(tags, name) < 0)
			return -ENOMEM;
	}
	if (x->stop_epoch > 0 && x->past_stop >= x->c->stop_slack &&
	    x->shape_ok) {
		const char *name[2] = { TAG_EARLY_STOP, NULL };

		if (add_strings(tags, name) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Replaces root[key] by item; frees item when that fails. */
static int
replace(cJSON *root, const char *key, cJSON *item)
{
	if (!item)
		return -ENOMEM;
	if (!cJSON_ReplaceItemInObjectCaseSensitive(root, key, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

/* The figures every curve gets, whatever fires: where each metric
 * started, its best and where it ended (averaged over smooth epochs). */
static void
describe(struct ctx *x)
{
	static const struct {
		enum field f;
		const char *first, *best, *end;
	} rows[] = {
		{ F_TRAIN_LOSS, "train_loss_first", "train_loss_min", "train_loss_end" },
		{ F_VAL_LOSS, "val_loss_first", "val_loss_min", "val_loss_end" },
		{ F_TRAIN_ACC, NULL, "train_acc_max", "train_acc_end" },
		{ F_VAL_ACC, NULL, "val_acc_max", "val_acc_end" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct series s = series_of(x->ep, x->n, rows[i].f);
		int f0 = first_finite(&s), b = argmin_from(&s, 0);

		if (f0 < 0)
			continue;
		if (rows[i].first)
			ev_num(x, rows[i].first, raw(&x->ep[f0], rows[i].f));
		ev_num(x, rows[i].best, raw(&x->ep[b], rows[i].f));
		ev_num(x, rows[i].end, s.flip ? 1 - tail_mean(&s, x->c->smooth)
					      : tail_mean(&s, x->c->smooth));
	}
}

static const char *
primary_reason(struct ctx *x, enum verdict v)
{
	switch (v) {
	case V_GOOD_FIT:
		return "train and validation curves converged together and "
		       "flattened; no rule fired";
	case V_INSUFFICIENT:
		snprintf(x->why[v], sizeof(x->why[v]), "%d epoch%s: the shape "
			 "needs at least %d (min_epochs)", x->n,
			 x->n == 1 ? "" : "s", x->c->min_epochs);
		return x->why[v];
	case V_UNKNOWN:
		return "no loss or accuracy reported";
	case V_PRUNED:
		snprintf(x->why[v], sizeof(x->why[v]), "stopped by the pruner "
			 "after %d epoch%s; the partial curve shows no "
			 "divergence, gradient problem, chance level or clear "
			 "overfit (it is not judged for under- or non-convergence)",
			 x->n, x->n == 1 ? "" : "s");
		return x->why[v];
	case V_PARTIAL:
		snprintf(x->why[v], sizeof(x->why[v]), "no %s metric reported: "
			 "a fit cannot be judged (over- and underfitting need a "
			 "training and a validation metric); no divergence or "
			 "gradient problem seen", x->have_train ? "validation"
			 : "training");
		return x->why[v];
	case V_DIVERGED:
		if (x->diverged)
			return x->why[v];
		snprintf(x->why[v], sizeof(x->why[v]), "%s, and the curve did "
			 "not recover", x->why_blowup);
		return x->why[v];
	default:
		return x->why[v];
	}
}

/* The chance level for this trial: the spec's, else the trainer's. */
static double
chance_of(const struct diag_config *c, const struct diag_trial *t)
{
	if (c->chance_acc > 0)
		return c->chance_acc;
	return t ? t->chance_acc : NAN;
}

/* The shape checks; which run depends on how the trial ended. */
static void
check_shape(struct ctx *x)
{
	if (x->final || x->shape_ok)
		check_not_learning(x);
	if (!x->shape_ok || x->diverged)
		return;
	if (x->pruned) {
		not_judged(x, "underfitting, convergence and plateau: the pruner "
			   "stopped it after %d epochs, a partial curve cannot "
			   "show them", x->n);
		check_overfitting(x);
		return;
	}
	check_plateau(x);
	check_overfitting(x);
	check_underfitting(x);
}

static int
fill(struct ctx *x, cJSON *root, cJSON *tags, cJSON *adv)
{
	enum verdict v = primary(x);
	const struct advice *a = advice_text[v];

	if (v == V_INSUFFICIENT && x->final)
		a = advice_short_ended;
	if (add_tags(x, tags, v) < 0 || add_advice(x, adv, a) < 0)
		return -ENOMEM;
	if (replace(root, "verdict", cJSON_CreateString(verdict_names[v])) < 0 ||
	    replace(root, "reason", cJSON_CreateString(primary_reason(x, v))) < 0)
		return -ENOMEM;
	if (x->stop_epoch > 0 &&
	    (replace(root, "stop_epoch", cJSON_CreateNumber(x->stop_epoch)) < 0 ||
	     replace(root, "epochs_past_stop", cJSON_CreateNumber(x->past_stop)) < 0))
		return -ENOMEM;
	return 0;
}

cJSON *
diag_curve(const struct diag_config *c, const struct diag_epoch *ep, int n,
	   int mode_max, int final)
{
	struct diag_trial t;

	diag_trial_init(&t, final ? DIAG_COMPLETED : DIAG_RUNNING);
	return diag_trial_curve(c, ep, n, mode_max, &t);
}

cJSON *
diag_trial_curve(const struct diag_config *c, const struct diag_epoch *ep,
		 int n, int mode_max, const struct diag_trial *t)
{
	struct ctx x;
	cJSON *root, *tags, *adv;
	enum diag_end end = t ? t->end : DIAG_COMPLETED;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.ep = ep;
	x.t = t;
	x.n = n > 0 ? n : 0;
	x.mode_max = mode_max;
	x.final = end != DIAG_RUNNING;
	x.pruned = end == DIAG_PRUNED;
	x.early = end == DIAG_EARLY_STOPPED || end == DIAG_FAILED;
	x.chance = chance_of(c, t);
	root = cJSON_CreateObject();
	if (!root)
		return NULL;
	/* Built in key order; each node is attached at once, so the one
	 * cJSON_Delete(root) on the fail path frees everything. */
	if (!cJSON_AddStringToObject(root, "verdict", "") ||
	    !cJSON_AddStringToObject(root, "ended", diag_end_name(end)) ||
	    !(tags = cJSON_AddArrayToObject(root, "tags")) ||
	    !cJSON_AddNullToObject(root, "stop_epoch") ||
	    !cJSON_AddNumberToObject(root, "epochs_past_stop", 0) ||
	    !cJSON_AddStringToObject(root, "reason", "") ||
	    !(x.ev = cJSON_AddObjectToObject(root, "evidence")) ||
	    !(adv = cJSON_AddArrayToObject(root, "advice")) ||
	    !(x.not_judged = cJSON_AddArrayToObject(root, "not_judged")))
		goto fail;

	x.have_train = reported(ep, x.n, F_TRAIN_LOSS) ||
		       reported(ep, x.n, F_TRAIN_ACC);
	x.have_val = reported(ep, x.n, F_VAL_LOSS) ||
		     reported(ep, x.n, F_VAL_ACC);
	x.have_any = x.have_train || x.have_val;
	x.shape_ok = x.n >= c->min_epochs;
	ev_num(&x, "epochs", x.n);
	if (x.n > 0)
		ev_num(&x, "last_epoch", ep[x.n - 1].epoch);
	/* what the *_end figures average: read beside the curve's last
	 * values, they would look wrong without it */
	ev_num(&x, "smooth", c->smooth);

	describe(&x);
	check_divergence(&x);
	check_gradients(&x);
	check_stop_point(&x);
	if (x.n == 0) {
		not_judged(&x, "curve: no epochs reported yet");
	} else if (!x.have_any) {
		not_judged(&x, "curve: no train_loss, val_loss, train_acc or "
			   "val_acc reported");
	} else {
		if (!x.shape_ok)
			not_judged(&x, "curve shape: %d epoch%s, at least %d "
				   "needed (min_epochs)", x.n,
				   x.n == 1 ? "" : "s", c->min_epochs);
		check_shape(&x);
	}
	if (x.oom || fill(&x, root, tags, adv) < 0)
		goto fail;
	return root;

fail:
	cJSON_Delete(root);
	return NULL;
}
