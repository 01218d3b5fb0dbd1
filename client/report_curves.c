/*
 * report_curves.c: the HTML report's sections over time (report_impl.h):
 * the optimization history, every trial's objective by epoch overlaid
 * (the best highlighted) and the learning curves as small multiples.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

/* ---- optimization history --------------------------------------------- */

void
report_history(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	int maxmode = strcmp(fmt_jstr(fmt_jget(sw, "objective"), "mode", "max"), "min") != 0;
	struct scale x, y;
	double lo, hi, nmax, bestv = NAN;
	const cJSON *t;
	int first = 1;

	fputs("<h2 id='history'>Optimization history</h2>\n", out);
	if (!report_objective_range(trials, &lo, &hi, &nmax)) {
		fputs("<p>No trial has reported an objective yet.</p>\n", out);
		return;
	}
	report_scale_fit(&x, 1, nmax, 0, 60, 700);
	report_scale_fit(&y, lo, hi, 0, 250, 15);
	fputs("<svg viewBox='0 0 720 290' width='720' height='290' role='img' "
	      "aria-label='objective by trial number'>\n", out);
	report_axes_n(out, &x, &y, "trial number", metric, 1, 5);
	/* best so far among completed trials, as a step line */
	fputs("<polyline fill='none' stroke='#333' stroke-width='1.5' points='", out);
	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN), n = fmt_jnum(t, "number", 0);
		if (!isfinite(v) ||
		    vocab_trial_parse(fmt_jstr(t, "status", "")) != TRIAL_COMPLETED)
			continue;
		if (isfinite(bestv) && !(maxmode ? v > bestv : v < bestv))
			continue;
		if (!first)
			fprintf(out, "%.1f,%.1f ", report_sc(&x, n), report_sc(&y, bestv));
		fprintf(out, "%.1f,%.1f ", report_sc(&x, n), report_sc(&y, v));
		bestv = v;
		first = 0;
	}
	if (isfinite(bestv))
		fprintf(out, "%.1f,%.1f", report_sc(&x, nmax), report_sc(&y, bestv));
	fputs("'/>\n", out);
	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN);
		if (isfinite(v))
			report_dot(out, report_sc(&x, fmt_jnum(t, "number", 0)), report_sc(&y, v), t, v);
	}
	fputs("</svg>\n<p class='legend'>Each dot is a trial, coloured by verdict "
	      "(hollow: pruned); the line is the best completed trial so far. "
	      "Failed trials have no objective and are not drawn.</p>\n", out);
}

/* ---- learning curves -------------------------------------------------- */

struct curve {
	size_t n, cap;
	double *ep, *tl, *vl, *obj;   /* (n) epoch, train_loss, val_loss, objective metric */
};

static int
curve_push(struct curve *c, const cJSON *row, const char *metric)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		double *p[4] = { c->ep, c->tl, c->vl, c->obj };
		for (int i = 0; i < 4; i++) {
			double *q = realloc(p[i], cap * sizeof *q);
			if (!q)
				return -ENOMEM;
			p[i] = q;
			/* store at once: a later failure must not lose a block */
			if (i == 0) c->ep = q;
			if (i == 1) c->tl = q;
			if (i == 2) c->vl = q;
			if (i == 3) c->obj = q;
		}
		c->cap = cap;
	}
	c->ep[c->n] = fmt_jnum(row, "epoch", NAN);
	c->tl[c->n] = fmt_jnum(row, "train_loss", NAN);
	c->vl[c->n] = fmt_jnum(row, "val_loss", NAN);
	c->obj[c->n] = fmt_jnum(row, metric, NAN);
	c->n++;
	return 0;
}

static void
curves_free(struct curve *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].ep);
		free(c[i].tl);
		free(c[i].vl);
		free(c[i].obj);
	}
	free(c);
}

/* Groups the epoch rows by trial number (index = number), keeping only
 * the rows of each trial's current attempt. *n gets the array length. */
static struct curve *
curves_build(const cJSON *trials, const cJSON *epochs, const char *metric,
	     size_t *n)
{
	double nmax = 0;
	const cJSON *t, *e;
	struct curve *c;
	int *attempt;

	cJSON_ArrayForEach(t, trials)
		nmax = fmax(nmax, fmt_jnum(t, "number", 0));
	if (nmax > 1e7)
		nmax = 1e7;
	*n = (size_t)nmax + 1;
	c = calloc(*n, sizeof *c);
	attempt = calloc(*n, sizeof *attempt);
	if (!c || !attempt)
		goto fail;
	cJSON_ArrayForEach(t, trials) {
		double k = fmt_jnum(t, "number", 0);
		if (k >= 1 && k < (double)*n)
			attempt[(size_t)k] = (int)fmt_jnum(t, "attempt", 0);
	}
	cJSON_ArrayForEach(e, epochs) {
		double k = fmt_jnum(e, "number", 0);
		int a = (int)fmt_jnum(e, "attempt", 0);
		if (!(k >= 1 && k < (double)*n))
			continue;
		if (a && attempt[(size_t)k] && a != attempt[(size_t)k])
			continue;
		if (curve_push(&c[(size_t)k], e, metric) < 0)
			goto fail;
	}
	free(attempt);
	return c;
fail:
	free(attempt);
	curves_free(c, *n);
	return NULL;
}

/* Extremes of the finite values of up to three arrays. */
static int
extent(const double *a, const double *b, size_t n, double *lo, double *hi,
       int *allpos)
{
	int k = 0;

	*lo = INFINITY;
	*hi = -INFINITY;
	*allpos = 1;
	for (size_t i = 0; i < n; i++) {
		const double v[2] = { a[i], b ? b[i] : NAN };
		for (int j = 0; j < 2; j++) {
			if (!isfinite(v[j]))
				continue;
			*lo = fmin(*lo, v[j]);
			*hi = fmax(*hi, v[j]);
			*allpos &= v[j] > 0;
			k++;
		}
	}
	return k;
}

/* A polyline through the finite points, broken at the non-finite ones; a
 * point with no finite neighbour is a dot (a trial pruned after one
 * epoch has a curve of one point). cls: a class attribute, or "". */
static void
path(FILE *out, const struct scale *x, const struct scale *y, const double *ex,
     const double *v, size_t n, const char *color, const char *dash)
{
	int open = 0;

	for (size_t i = 0; i <= n; i++) {
		int ok = i < n && isfinite(ex[i]) && isfinite(v[i]) && (!y->log || v[i] > 0);
		int next = ok && i + 1 < n && isfinite(ex[i + 1]) && isfinite(v[i + 1]) &&
			   (!y->log || v[i + 1] > 0);
		/* past a cut range: drawn on its edge */
		double vi = ok ? fmax(fmin(v[i], y->hi), y->lo) : 0;

		if (ok && !open && !next) {
			fprintf(out, "<circle cx='%.1f' cy='%.1f' r='2.5' fill='%s'/>\n",
				report_sc(x, ex[i]), report_sc(y, vi), color);
			continue;
		}
		if (ok && !open) {
			fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.4'%s"
				" points='", color, dash);
			open = 1;
		}
		if (ok)
			fprintf(out, "%.1f,%.1f ", report_sc(x, ex[i]), report_sc(y, vi));
		if (!ok && open) {
			fputs("'/>\n", out);
			open = 0;
		}
	}
}

/* The ranges every small multiple shares: the losses over all trials
 * (log when they span decades, a diverged run), the objective for trials
 * that report no loss, and the epochs. */
struct shared {
	double llo, lhi, olo, ohi, elo, ehi;
	int have_loss, have_obj, loss_log;
	double cut;             /* losses above are drawn at the top; 0: none */
};

/* The first finite loss of a curve, NAN when none. */
static double
first_loss(const struct curve *c)
{
	for (size_t i = 0; i < c->n; i++) {
		double v = fmax(isfinite(c->vl[i]) ? c->vl[i] : -INFINITY,
				isfinite(c->tl[i]) ? c->tl[i] : -INFINITY);
		if (isfinite(v))
			return v;
	}
	return NAN;
}

static void
shared_ranges(struct shared *sh, const struct curve *c, size_t n)
{
	int lpos = 1;
	double start = -INFINITY;

	*sh = (struct shared){ INFINITY, -INFINITY, INFINITY, -INFINITY,
			       INFINITY, -INFINITY, 0, 0, 0, 0 };
	for (size_t k = 0; k < n; k++) {
		double lo, hi;
		int pos;

		if (extent(c[k].vl, c[k].tl, c[k].n, &lo, &hi, &pos)) {
			sh->llo = fmin(sh->llo, lo);
			sh->lhi = fmax(sh->lhi, hi);
			lpos &= pos;
			sh->have_loss = 1;
			start = fmax(start, first_loss(&c[k]));
		} else if (extent(c[k].obj, NULL, c[k].n, &lo, &hi, &pos)) {
			sh->olo = fmin(sh->olo, lo);
			sh->ohi = fmax(sh->ohi, hi);
			sh->have_obj = 1;
		}
		for (size_t i = 0; i < c[k].n; i++)
			if (isfinite(c[k].ep[i])) {
				sh->elo = fmin(sh->elo, c[k].ep[i]);
				sh->ehi = fmax(sh->ehi, c[k].ep[i]);
			}
	}
	/* A diverging loss would flatten every other curve: the range stops
	 * at 3 times the highest starting loss. */
	if (sh->have_loss && isfinite(start) && start > 0 && sh->lhi > 3 * start) {
		sh->cut = 3 * start;
		sh->lhi = sh->cut;
	}
	sh->loss_log = sh->have_loss && lpos && sh->lhi / sh->llo > 1e3;
}

static void
panel_title(FILE *out, const cJSON *t, const char *color, const char *what)
{
	const char *verdict = report_trial_verdict(t);

	fprintf(out, "<svg viewBox='0 0 230 160' width='230' height='160'>"
		"<rect x='1' y='1' width='228' height='158' fill='none' stroke='%s' "
		"stroke-width='2'/>\n<text x='6' y='13' fill='%s'><tspan "
		"font-weight='bold'>#%.0f</tspan> ", color, color,
		fmt_jnum(t, "number", 0));
	report_esc(out, verdict ? verdict : fmt_jstr(t, "status", ""));
	fputs(" ", out);
	if (cJSON_IsNumber(fmt_jget(t, "objective")))
		report_num(out, fmt_jnum(t, "objective", 0));
	fputs("</text>\n<text x='224' y='13' text-anchor='end' fill='#999'>", out);
	report_esc(out, what);
	fputs("</text>\n", out);
}

static void
panel(FILE *out, const cJSON *t, const struct curve *c, const char *metric,
      const struct shared *sh)
{
	const cJSON *d = fmt_jget(t, "diagnosis");
	const char *color = report_verdict_color(report_trial_verdict(t));
	double lo, hi;
	struct scale x, y;
	int allpos, loss = extent(c->vl, c->tl, c->n, &lo, &hi, &allpos) > 0;
	int have = loss || extent(c->obj, NULL, c->n, &lo, &hi, &allpos) > 0;

	char what[FMT_NUM_MAX + 32], cutv[FMT_NUM_MAX];

	if (loss && sh->cut > 0)
		snprintf(what, sizeof what, "loss, cut at %s",
			 fmt_double(cutv, sizeof cutv, sh->cut));
	else
		snprintf(what, sizeof what, "%s", loss ? (sh->loss_log ? "loss (log)" : "loss")
						       : metric);
	panel_title(out, t, color, have ? what : "");
	if (!have) {
		fputs("<text x='115' y='85' text-anchor='middle' fill='#999'>"
		      "no curve</text></svg>\n", out);
		return;
	}
	report_scale_fit(&x, sh->elo, sh->ehi, 0, 44, 222);
	if (loss)
		report_scale_fit(&y, sh->llo, sh->lhi, sh->loss_log, 130, 22);
	else
		report_scale_fit(&y, sh->olo, sh->ohi, 0, 130, 22);
	report_axes_n(out, &x, &y, NULL, NULL, 1, 3);
	if (cJSON_IsNumber(fmt_jget(d, "stop_epoch"))) {
		double px = report_sc(&x, fmt_jnum(d, "stop_epoch", 0));
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='22' y2='130' stroke='#888' "
			"stroke-dasharray='3,2'><title>early stopping point: epoch %.0f"
			"</title></line>\n", px, px, fmt_jnum(d, "stop_epoch", 0));
	}
	if (loss) {
		path(out, &x, &y, c->ep, c->tl, c->n, color, " stroke-dasharray='4,2'");
		path(out, &x, &y, c->ep, c->vl, c->n, color, "");
	} else {
		path(out, &x, &y, c->ep, c->obj, c->n, color, "");
	}
	fputs("</svg>\n", out);
}

/* c: the curves by trial number (n of them), NULL without the epochs
 * table. */
static void
curves(FILE *out, const cJSON *sw, const cJSON *trials, const struct curve *c,
       size_t n)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	struct curve empty = { 0 };
	struct shared sh;
	const cJSON *t;

	fputs("<h2 id='curves'>Learning curves</h2>\n", out);
	if (!c) {
		fputs("<p>The daemon did not send the epochs table.</p>\n", out);
		return;
	}
	shared_ranges(&sh, c, n);
	fputs("<p class='legend'>Solid: val_loss, dashed: train_loss (the objective "
	      "metric when no loss was reported); dotted vertical line: the early "
	      "stopping point; a trial with one epoch is a dot. Every panel has the "
	      "same axes, so trials compare at a glance.<br>", out);
	report_verdict_legend(out, trials);
	fputs("</p>\n<div class='grid2'>\n", out);
	cJSON_ArrayForEach(t, trials) {
		double k = fmt_jnum(t, "number", 0);
		panel(out, t, k >= 1 && k < (double)n ? &c[(size_t)k] : &empty, metric,
		      &sh);
	}
	fputs("</div>\n", out);
}

/* ---- every objective curve, overlaid ----------------------------------- */

#define N_HIGHLIGHT 3
static const char *const highlight_colors[N_HIGHLIGHT] = {
	"#d62728", "#1f77b4", "#2ca02c",
};

/* The numbers of the (up to) N_HIGHLIGHT best completed trials, best
 * first; 0 past the end. */
static void
best_numbers(const cJSON *sw, const cJSON *trials, int best[N_HIGHLIGHT])
{
	int maxmode = strcmp(fmt_jstr(fmt_jget(sw, "objective"), "mode", "max"), "min") != 0;
	double bv[N_HIGHLIGHT];
	const cJSON *t;

	for (int i = 0; i < N_HIGHLIGHT; i++)
		best[i] = 0;
	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN);
		int k = N_HIGHLIGHT;

		if (!isfinite(v) ||
		    vocab_trial_parse(fmt_jstr(t, "status", "")) != TRIAL_COMPLETED)
			continue;
		while (k > 0 && (!best[k - 1] || (maxmode ? v > bv[k - 1] : v < bv[k - 1])))
			k--;
		if (k == N_HIGHLIGHT)
			continue;
		memmove(best + k + 1, best + k, (N_HIGHLIGHT - k - 1) * sizeof *best);
		memmove(bv + k + 1, bv + k, (N_HIGHLIGHT - k - 1) * sizeof *bv);
		best[k] = (int)fmt_jnum(t, "number", 0);
		bv[k] = v;
	}
}

static int
rank_of(const int best[N_HIGHLIGHT], double number)
{
	for (int i = 0; i < N_HIGHLIGHT; i++)
		if (best[i] && best[i] == (int)number)
			return i;
	return -1;
}

/* One trial's objective curve in the overlay: grey, or coloured and
 * thick for a best one. */
static void
overlay_trial(FILE *out, const cJSON *t, const struct curve *c,
	      const struct scale *x, const struct scale *y, int rank)
{
	fprintf(out, "<g%s%s>", rank >= 0 ? " class='best' stroke-width='2.4'" : "",
		rank >= 0 ? "" : " opacity='0.55'");
	fprintf(out, "<title>trial %.0f: ", fmt_jnum(t, "number", 0));
	if (cJSON_IsNumber(fmt_jget(t, "objective")))
		report_num(out, fmt_jnum(t, "objective", 0));
	fputs(" (", out);
	report_esc(out, fmt_jstr(t, "status", "?"));
	fputs(")</title>\n", out);
	path(out, x, y, c->ep, c->obj, c->n,
	     rank >= 0 ? highlight_colors[rank] : "#8a96a3", "");
	fputs("</g>\n", out);
}

static void
overlay(FILE *out, const cJSON *sw, const cJSON *trials, const struct curve *c,
	size_t n)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	double lo = INFINITY, hi = -INFINITY, elo = INFINITY, ehi = -INFINITY;
	int best[N_HIGHLIGHT], drawn = 0;
	struct scale x, y;
	const cJSON *t;

	fputs("<h2 id='overlay'>Objective by epoch</h2>\n", out);
	for (size_t k = 0; c && k < n; k++)
		for (size_t i = 0; i < c[k].n; i++)
			if (isfinite(c[k].obj[i]) && isfinite(c[k].ep[i])) {
				lo = fmin(lo, c[k].obj[i]);
				hi = fmax(hi, c[k].obj[i]);
				elo = fmin(elo, c[k].ep[i]);
				ehi = fmax(ehi, c[k].ep[i]);
			}
	if (!isfinite(lo)) {
		fputs("<p>No trial has reported the objective by epoch yet.</p>\n", out);
		return;
	}
	best_numbers(sw, trials, best);
	report_scale_fit(&x, elo, ehi, 0, 60, 600);
	report_scale_fit(&y, lo, hi, 0, 260, 15);
	fputs("<svg viewBox='0 0 720 300' width='720' height='300' role='img' "
	      "aria-label='objective by epoch, every trial'>\n", out);
	report_axes_n(out, &x, &y, "epoch", metric, 1, 5);
	/* the rest first, the best on top */
	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(t, trials) {
			double k = fmt_jnum(t, "number", 0);
			int r = rank_of(best, k);

			if (!(k >= 1 && k < (double)n) || c[(size_t)k].n == 0 ||
			    (pass == 0) != (r < 0))
				continue;
			overlay_trial(out, t, &c[(size_t)k], &x, &y, r);
			drawn++;
		}
	for (int i = 0; i < N_HIGHLIGHT && best[i]; i++) {
		fprintf(out, "<text x='610' y='%d' fill='%s' font-weight='bold'>#%d ",
			30 + 14 * i, highlight_colors[i], best[i]);
		cJSON_ArrayForEach(t, trials)
			if ((int)fmt_jnum(t, "number", 0) == best[i])
				report_num(out, fmt_jnum(t, "objective", NAN));
		fputs("</text>\n", out);
	}
	fprintf(out, "</svg>\n<p class='legend'>%d trials; the best %s in colour, "
		"the others grey.</p>\n", drawn,
		best[1] ? "completed trials" : "completed trial");
}

/* ---- for report.c (report_impl.h) -------------------------------------- */

struct report_curves {
	struct curve *c;        /* by trial number (owned) */
	size_t n;
};

int
report_curves_build(const cJSON *sw, const cJSON *trials, const cJSON *epochs,
		    struct report_curves **cv)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	struct report_curves *r;

	*cv = NULL;
	if (!epochs)
		return 0;
	if (!(r = calloc(1, sizeof *r)))
		return -ENOMEM;
	if (!(r->c = curves_build(trials, epochs, metric, &r->n))) {
		free(r);
		return -ENOMEM;
	}
	*cv = r;
	return 0;
}

void
report_curves_free(struct report_curves *cv)
{
	if (!cv)
		return;
	curves_free(cv->c, cv->n);
	free(cv);
}

void
report_overlay(FILE *out, const cJSON *sw, const cJSON *trials,
	       const struct report_curves *cv)
{
	overlay(out, sw, trials, cv ? cv->c : NULL, cv ? cv->n : 0);
}

void
report_learning_curves(FILE *out, const cJSON *sw, const cJSON *trials,
		       const struct report_curves *cv)
{
	curves(out, sw, trials, cv ? cv->c : NULL, cv ? cv->n : 0);
}
