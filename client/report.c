/*
 * report.c: the HTML report. The page is written top to bottom in one
 * pass; each section has its own function, each chart draws into a plain
 * <svg> with a viewBox so the browser scales it. Every string that came
 * from the daemon (names, params, messages, the spec) goes through esc().
 */
#include "client/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "common/json.h"

/* ---- verdict colours ---------------------------------------------------- */

static const struct { const char *verdict, *color; } verdict_colors[] = {
	{ "good_fit",            "#2e7d32" },
	{ "improving",           "#00897b" },
	{ "overfitting",         "#ef6c00" },
	{ "underfitting",        "#1565c0" },
	{ "plateau",             "#8d6e63" },
	{ "diverged",            "#c62828" },
	{ "vanishing_gradients", "#6a1b9a" },
	{ "exploding_gradients", "#ad1457" },
	{ "insufficient_data",   "#9e9e9e" },
	{ "unknown",             "#757575" },
	{ "not_learning",        "#b71c1c" },
	{ "not_converged",       "#0277bd" },
	{ "pruned",              "#bdbdbd" },
	{ "partial_metrics",     "#616161" },
};
#define N_VERDICTS (sizeof verdict_colors / sizeof verdict_colors[0])
#define NO_VERDICT_COLOR "#9e9e9e"

const char *
report_verdict_color(const char *v)
{
	for (size_t i = 0; v && i < N_VERDICTS; i++)
		if (strcmp(verdict_colors[i].verdict, v) == 0)
			return verdict_colors[i].color;
	return NO_VERDICT_COLOR;
}

static const char *
trial_verdict(const cJSON *t)
{
	return fmt_jstr(fmt_jget(t, "diagnosis"), "verdict", NULL);
}

/* ---- text ------------------------------------------------------------- */

static void
esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static void
num(FILE *out, double v)
{
	char b[FMT_NUM_MAX];

	fputs(fmt_double(b, sizeof b, v), out);
}

/* A JSON value as text (escaped); "-" for null or missing. */
static int
value(FILE *out, const cJSON *v)
{
	char *s;

	if (!v || cJSON_IsNull(v)) {
		fputs("-", out);
		return 0;
	}
	if (!(s = fmt_value(v, 0)))
		return -ENOMEM;
	esc(out, s);
	free(s);
	return 0;
}

/* ---- scales and axes ---------------------------------------------------- */

struct scale {
	double lo, hi;     /* data range */
	int log;           /* log10 axis (lo > 0) */
	double p0, p1;     /* pixel positions of lo and hi */
};

static double
sc_t(const struct scale *s, double v)
{
	return s->log ? log10(v) : v;
}

static double
sc(const struct scale *s, double v)
{
	double a = sc_t(s, s->lo), b = sc_t(s, s->hi);

	return s->p0 + (sc_t(s, v) - a) / (b - a) * (s->p1 - s->p0);
}

/* Fits a scale to [lo, hi], widening an empty range. */
static void
scale_fit(struct scale *s, double lo, double hi, int log, double p0, double p1)
{
	s->log = log && lo > 0;
	if (!(hi > lo)) {
		double d = s->log ? lo * 0.5 : (lo != 0 ? fabs(lo) * 0.1 : 1);
		lo -= d;
		hi += s->log ? hi : d;
	} else if (!s->log) {
		/* a little air, so points do not sit on the frame */
		double pad = (hi - lo) * 0.04;
		lo -= pad;
		hi += pad;
	}
	s->lo = lo;
	s->hi = hi;
	s->p0 = p0;
	s->p1 = p1;
}

/* Up to max tick values inside the scale: 1-2-5 steps, or decades on a
 * log axis. Returns how many. */
static int
ticks(const struct scale *s, double *t, int max)
{
	int n = 0;

	if (s->log) {
		for (double k = ceil(log10(s->lo)); k <= floor(log10(s->hi)) && n < max; k++)
			t[n++] = pow(10, k);
		if (n >= 2)
			return n;
		n = 0;
	}
	double raw = (s->hi - s->lo) / 5, mag = pow(10, floor(log10(raw)));
	double norm = raw / mag;
	double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;

	for (double v = ceil(s->lo / step) * step; v <= s->hi + step * 1e-9 && n < max;
	     v += step)
		t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	return n;
}

/* Frame, grid and tick labels of a chart whose plot area is the box of
 * the two scales; xticks 0 leaves the x labels to the caller (categories). */
static void
axes(FILE *out, const struct scale *x, const struct scale *y,
     const char *xlabel, const char *ylabel, int xticks)
{
	double t[16];
	int n;

	fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
		"class='frame'/>\n", x->p0, y->p1, x->p1 - x->p0, y->p0 - y->p1);
	n = ticks(y, t, 16);
	for (int i = 0; i < n; i++) {
		double py = sc(y, t[i]);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' "
			"class='grid'/><text x='%.1f' y='%.1f' class='yt'>",
			x->p0, x->p1, py, py, x->p0 - 4, py + 3);
		num(out, t[i]);
		fputs("</text>\n", out);
	}
	n = xticks ? ticks(x, t, 16) : 0;
	for (int i = 0; i < n; i++) {
		double px = sc(x, t[i]);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' "
			"class='tick'/><text x='%.1f' y='%.1f' class='xt'>",
			px, px, y->p0, y->p0 + 4, px, y->p0 + 15);
		num(out, t[i]);
		fputs("</text>\n", out);
	}
	if (xlabel) {
		fprintf(out, "<text x='%.1f' y='%.1f' class='xl'>",
			(x->p0 + x->p1) / 2, y->p0 + 30);
		esc(out, xlabel);
		fputs("</text>\n", out);
	}
	if (ylabel) {
		fprintf(out, "<text transform='translate(12,%.1f) rotate(-90)' "
			"class='yl'>", (y->p0 + y->p1) / 2);
		esc(out, ylabel);
		fputs("</text>\n", out);
	}
}

/* ---- page head and summary -------------------------------------------- */

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;"
	"padding:0 16px;color:#222}\n"
	"h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;"
	"border-bottom:1px solid #ddd}\n"
	".sub{color:#666;margin-top:0}\n"
	"table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left;"
	"vertical-align:top}\n"
	"table.kv th{color:#555;font-weight:normal;padding-right:16px}\n"
	"table.trials th{cursor:pointer;border-bottom:1px solid #999;white-space:nowrap}\n"
	"table.trials td{border-bottom:1px solid #eee;white-space:nowrap}\n"
	"table.trials td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	".badge{color:#fff;border-radius:3px;padding:0 5px;font-size:12px}\n"
	"svg{font:10px system-ui,sans-serif}\n"
	".frame{fill:none;stroke:#bbb}.grid{stroke:#eee}.tick{stroke:#999}\n"
	".yt{text-anchor:end}.xt{text-anchor:middle}.xl{text-anchor:middle}"
	".yl{text-anchor:middle}\n"
	".grid2{display:flex;flex-wrap:wrap;gap:8px}\n"
	".legend span{margin-right:14px;white-space:nowrap}\n"
	"pre{background:#f6f6f6;padding:8px;overflow:auto}\n";

static void
badge(FILE *out, const char *verdict)
{
	fprintf(out, "<span class='badge' style='background:%s'>",
		report_verdict_color(verdict));
	esc(out, verdict ? verdict : "none");
	fputs("</span>", out);
}

static void
kv_row(FILE *out, const char *key, const char *val)
{
	fprintf(out, "<tr><th>%s</th><td>", key);
	esc(out, val ? val : "-");
	fputs("</td></tr>\n", out);
}

static void
head(FILE *out, const cJSON *sw, time_t now)
{
	char when[FMT_NUM_MAX];
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	fputs("<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
	      "<meta name='viewport' content='width=device-width,initial-scale=1'>\n"
	      "<title>", out);
	fprintf(out, "sweep %.0f: ", fmt_jnum(sw, "id", 0));
	esc(out, fmt_jstr(sw, "name", ""));
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>sweep %.0f: ",
		css, fmt_jnum(sw, "id", 0));
	esc(out, fmt_jstr(sw, "name", ""));
	fprintf(out, "</h1>\n<p class='sub'>report written by sweepctl on %s</p>\n",
		when);
}

static void
summary(FILE *out, const cJSON *sw, time_t now)
{
	static const char *const states[] = {
		"queued", "running", "completed", "failed", "pruned", "cancelled",
	};
	const cJSON *obj = fmt_jget(sw, "objective"), *verdicts, *v;
	char line[512], a[FMT_NUM_MAX], b[FMT_NUM_MAX];
	size_t used = 0;
	double t0 = fmt_jnum(sw, "created_at", 0), t1 = fmt_jnum(sw, "ended_at", 0);

	fputs("<h2 id='summary'>Summary</h2>\n<table class='kv'>\n", out);
	kv_row(out, "status", fmt_jstr(sw, "status", "-"));
	kv_row(out, "created", fmt_when(a, sizeof a, t0, now));
	if (t1 > 0) {
		snprintf(line, sizeof line, "%s (ran %s)", fmt_when(a, sizeof a, t1, now),
			 fmt_duration(b, sizeof b, t1 - t0));
		kv_row(out, "ended", line);
	}
	snprintf(line, sizeof line, "%s (%s)", fmt_jstr(obj, "metric", "-"),
		 fmt_jstr(obj, "mode", "-"));
	kv_row(out, "objective", line);
	line[0] = '\0';
	for (size_t i = 0; i < sizeof states / sizeof states[0] && used < sizeof line; i++)
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%.0f %s",
					 i ? ", " : "", fmt_jnum(fmt_jget(sw, "counts"),
								 states[i], 0), states[i]);
	kv_row(out, "trials", line);
	fmt_jnumber(a, sizeof a, fmt_jget(sw, "trials_total"), "-");
	kv_row(out, "planned", a);
	if (fmt_jstr(sw, "error", NULL))
		kv_row(out, "error", fmt_jstr(sw, "error", NULL));
	fputs("<tr><th>verdicts</th><td>", out);
	verdicts = fmt_jget(sw, "verdicts");
	if (!cJSON_IsObject(verdicts) || !verdicts->child)
		fputs("none yet", out);
	else
		cJSON_ArrayForEach(v, verdicts) {
			badge(out, v->string);
			fprintf(out, " %.0f &nbsp; ", cJSON_IsNumber(v) ? v->valuedouble : 0);
		}
	fputs("</td></tr>\n</table>\n", out);
}

static int
params_table(FILE *out, const cJSON *params)
{
	const cJSON *p;

	fputs("<table class='kv'>\n", out);
	if (cJSON_IsObject(params))
		cJSON_ArrayForEach(p, params) {
			fputs("<tr><th>", out);
			esc(out, p->string);
			fputs("</th><td>", out);
			if (value(out, p) < 0)
				return -ENOMEM;
			fputs("</td></tr>\n", out);
		}
	fputs("</table>\n", out);
	return 0;
}

static void
list(FILE *out, const cJSON *arr)
{
	const cJSON *a;

	if (cJSON_GetArraySize(arr) == 0)
		return;
	fputs("<ul>\n", out);
	cJSON_ArrayForEach(a, arr) {
		if (!cJSON_IsString(a))
			continue;
		fputs("<li>", out);
		esc(out, a->valuestring);
		fputs("</li>\n", out);
	}
	fputs("</ul>\n", out);
}

static int
best(FILE *out, const cJSON *sw)
{
	const cJSON *t = fmt_jget(sw, "best_trial"), *d = fmt_jget(t, "diagnosis");
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	char a[FMT_NUM_MAX], b[FMT_NUM_MAX];

	fputs("<h2 id='best'>Best trial</h2>\n", out);
	if (!cJSON_IsObject(t)) {
		fputs("<p>No trial has completed yet.</p>\n", out);
		return 0;
	}
	fprintf(out, "<p><b>trial %.0f</b>: ", fmt_jnum(t, "number", 0));
	esc(out, metric);
	fprintf(out, " = %s at epoch %s of %.0f &nbsp; ",
		fmt_jnumber(a, sizeof a, fmt_jget(t, "objective"), "-"),
		fmt_jnumber(b, sizeof b, fmt_jget(t, "best_epoch"), "-"),
		fmt_jnum(t, "epochs", 0));
	badge(out, trial_verdict(t));
	if (cJSON_IsNumber(fmt_jget(t, "test_acc")))
		fprintf(out, " &nbsp; test_acc %s",
			fmt_jnumber(a, sizeof a, fmt_jget(t, "test_acc"), "-"));
	fputs("</p>\n", out);
	if (params_table(out, fmt_jget(t, "params")) < 0)
		return -ENOMEM;
	if (cJSON_IsObject(d)) {
		if (fmt_jstr(d, "reason", NULL)) {
			fputs("<p>", out);
			esc(out, fmt_jstr(d, "reason", NULL));
			fputs("</p>\n", out);
		}
		if (cJSON_IsNumber(fmt_jget(d, "stop_epoch")))
			fprintf(out, "<p>Early stopping point: epoch %.0f (%.0f epochs "
				"past it).</p>\n", fmt_jnum(d, "stop_epoch", 0),
				fmt_jnum(d, "epochs_past_stop", 0));
	}
	if (cJSON_GetArraySize(fmt_jget(sw, "advice")) > 0) {
		fputs("<p>Advice:</p>\n", out);
		list(out, fmt_jget(sw, "advice"));
	}
	return 0;
}

/* ---- optimization history --------------------------------------------- */

/* Extremes of the numeric objectives; returns how many there are. */
static int
objective_range(const cJSON *trials, double *lo, double *hi, double *nmax)
{
	const cJSON *t;
	int n = 0;

	*lo = INFINITY;
	*hi = -INFINITY;
	*nmax = 1;
	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN);
		*nmax = fmax(*nmax, fmt_jnum(t, "number", 1));
		if (!isfinite(v))
			continue;
		*lo = fmin(*lo, v);
		*hi = fmax(*hi, v);
		n++;
	}
	return n;
}

/* One data point: a filled circle, hollow for a pruned trial, with a
 * tooltip. */
static void
dot(FILE *out, double x, double y, const cJSON *t, double v)
{
	const char *color = report_verdict_color(trial_verdict(t));
	int pruned = strcmp(fmt_jstr(t, "status", ""), "pruned") == 0;

	fprintf(out, "<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s' stroke='%s'>"
		"<title>trial %.0f: ", x, y, pruned ? "#fff" : color, color,
		fmt_jnum(t, "number", 0));
	num(out, v);
	fputs(" (", out);
	esc(out, fmt_jstr(t, "status", "?"));
	if (trial_verdict(t)) {
		fputs(", ", out);
		esc(out, trial_verdict(t));
	}
	fputs(")</title></circle>\n", out);
}

static void
history(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	int maxmode = strcmp(fmt_jstr(fmt_jget(sw, "objective"), "mode", "max"), "min") != 0;
	struct scale x, y;
	double lo, hi, nmax, bestv = NAN;
	const cJSON *t;
	int first = 1;

	fputs("<h2 id='history'>Optimization history</h2>\n", out);
	if (!objective_range(trials, &lo, &hi, &nmax)) {
		fputs("<p>No trial has reported an objective yet.</p>\n", out);
		return;
	}
	scale_fit(&x, 1, nmax, 0, 60, 700);
	scale_fit(&y, lo, hi, 0, 250, 15);
	fputs("<svg viewBox='0 0 720 290' width='720' height='290' role='img' "
	      "aria-label='objective by trial number'>\n", out);
	axes(out, &x, &y, "trial number", metric, 1);
	/* best so far among completed trials, as a step line */
	fputs("<polyline fill='none' stroke='#333' stroke-width='1.5' points='", out);
	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN), n = fmt_jnum(t, "number", 0);
		if (!isfinite(v) || strcmp(fmt_jstr(t, "status", ""), "completed") != 0)
			continue;
		if (isfinite(bestv) && !(maxmode ? v > bestv : v < bestv))
			continue;
		if (!first)
			fprintf(out, "%.1f,%.1f ", sc(&x, n), sc(&y, bestv));
		fprintf(out, "%.1f,%.1f ", sc(&x, n), sc(&y, v));
		bestv = v;
		first = 0;
	}
	if (isfinite(bestv))
		fprintf(out, "%.1f,%.1f", sc(&x, nmax), sc(&y, bestv));
	fputs("'/>\n", out);
	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN);
		if (isfinite(v))
			dot(out, sc(&x, fmt_jnum(t, "number", 0)), sc(&y, v), t, v);
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

/* A polyline through the finite points, broken at the non-finite ones. */
static void
path(FILE *out, const struct scale *x, const struct scale *y, const double *ex,
     const double *v, size_t n, const char *color, const char *dash)
{
	int open = 0;

	for (size_t i = 0; i <= n; i++) {
		int ok = i < n && isfinite(ex[i]) && isfinite(v[i]) && (!y->log || v[i] > 0);
		if (ok && !open) {
			fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.4'%s"
				" points='", color, dash);
			open = 1;
		}
		if (ok)
			fprintf(out, "%.1f,%.1f ", sc(x, ex[i]), sc(y, v[i]));
		if (!ok && open) {
			fputs("'/>\n", out);
			open = 0;
		}
	}
}

static void
panel(FILE *out, const cJSON *t, const struct curve *c, const char *metric)
{
	const cJSON *d = fmt_jget(t, "diagnosis");
	const char *verdict = trial_verdict(t), *color = report_verdict_color(verdict);
	const double *a = c->vl, *b = c->tl;
	double lo, hi, elo = INFINITY, ehi = -INFINITY;
	struct scale x, y;
	int allpos, have;

	have = extent(c->vl, c->tl, c->n, &lo, &hi, &allpos);
	if (!have) {   /* no loss reported: draw the objective metric */
		a = c->obj;
		b = NULL;
		have = extent(c->obj, NULL, c->n, &lo, &hi, &allpos);
	}
	for (size_t i = 0; i < c->n; i++)
		if (isfinite(c->ep[i])) {
			elo = fmin(elo, c->ep[i]);
			ehi = fmax(ehi, c->ep[i]);
		}
	fprintf(out, "<svg viewBox='0 0 200 130' width='200' height='130'>"
		"<rect x='1' y='1' width='198' height='128' fill='none' stroke='%s' "
		"stroke-width='2'/>\n<text x='6' y='13' fill='%s'><tspan "
		"font-weight='bold'>#%.0f</tspan> ", color, color,
		fmt_jnum(t, "number", 0));
	esc(out, verdict ? verdict : fmt_jstr(t, "status", ""));
	fputs(" ", out);
	if (cJSON_IsNumber(fmt_jget(t, "objective")))
		num(out, fmt_jnum(t, "objective", 0));
	fputs("</text>\n", out);
	if (!have || !isfinite(elo)) {
		fputs("<text x='100' y='70' text-anchor='middle' fill='#999'>"
		      "no curve</text></svg>\n", out);
		return;
	}
	scale_fit(&x, elo, ehi, 0, 8, 192);
	/* a diverging loss spans decades: log scale keeps the rest visible */
	scale_fit(&y, lo, hi, allpos && hi / lo > 1e3, 118, 20);
	if (cJSON_IsNumber(fmt_jget(d, "stop_epoch"))) {
		double px = sc(&x, fmt_jnum(d, "stop_epoch", 0));
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='18' y2='120' stroke='#888' "
			"stroke-dasharray='3,2'><title>early stopping point: epoch %.0f"
			"</title></line>\n", px, px, fmt_jnum(d, "stop_epoch", 0));
	}
	if (b)
		path(out, &x, &y, c->ep, b, c->n, color, " stroke-dasharray='4,2'");
	path(out, &x, &y, c->ep, a, c->n, color, "");
	fputs("<text x='194' y='126' text-anchor='end' fill='#999'>", out);
	num(out, lo);
	fputs("&#8211;", out);
	num(out, hi);
	if (y.log)
		fputs(" log", out);
	if (a == c->obj) {
		fputs(" ", out);
		esc(out, metric);
	}
	fputs("</text></svg>\n", out);
}

static int
curves(FILE *out, const cJSON *sw, const cJSON *trials, const cJSON *epochs)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	struct curve *c, empty = { 0 };
	const cJSON *t;
	size_t n;

	fputs("<h2 id='curves'>Learning curves</h2>\n", out);
	if (!epochs) {
		fputs("<p>The daemon did not send the epochs table.</p>\n", out);
		return 0;
	}
	if (!(c = curves_build(trials, epochs, metric, &n)))
		return -ENOMEM;
	fputs("<p class='legend'>Solid: val_loss, dashed: train_loss (the objective "
	      "metric when no loss was reported); dotted vertical line: the early "
	      "stopping point. Each panel has its own y range, shown bottom "
	      "right.<br>", out);
	for (size_t i = 0; i < N_VERDICTS; i++) {
		fputs("<span>", out);
		badge(out, verdict_colors[i].verdict);
		fputs("</span>", out);
	}
	fputs("</p>\n<div class='grid2'>\n", out);
	cJSON_ArrayForEach(t, trials) {
		double k = fmt_jnum(t, "number", 0);
		panel(out, t, k >= 1 && k < (double)n ? &c[(size_t)k] : &empty, metric);
	}
	fputs("</div>\n", out);
	curves_free(c, n);
	return 0;
}

/* ---- objective vs hyperparameters -------------------------------------- */

static int
is_distribution(const cJSON *v)
{
	static const char *const kinds[] = {
		"choice", "uniform", "loguniform", "int", "logint",
	};

	for (size_t i = 0; cJSON_IsObject(v) && i < sizeof kinds / sizeof kinds[0]; i++)
		if (fmt_jget(v, kinds[i]))
			return 1;
	return 0;
}

/* Whether the trials' values of param differ (a param worth plotting when
 * the spec does not say it is searched). */
static int
varies(const cJSON *trials, const char *param)
{
	const cJSON *t, *first = NULL;

	cJSON_ArrayForEach(t, trials) {
		const cJSON *v = fmt_jget(fmt_jget(t, "params"), param);
		if (!v)
			continue;
		if (!first)
			first = v;
		else if (!cJSON_Compare(first, v, 1))
			return 1;
	}
	return 0;
}

/* Categories of param: the spec's choice list if any, else values in
 * first-seen order. Returns a new array of strings (fmt_value text). */
static cJSON *
categories(const cJSON *trials, const char *param, const cJSON *dist)
{
	const cJSON *choice = fmt_jget(dist, "choice"), *v, *t;
	cJSON *cats = cJSON_CreateArray();

	if (!cats)
		return NULL;
	cJSON_ArrayForEach(v, choice) {
		char *s = fmt_value(v, 0);
		if (!s || !cJSON_AddItemToArray(cats, cJSON_CreateString(s))) {
			free(s);
			cJSON_Delete(cats);
			return NULL;
		}
		free(s);
	}
	cJSON_ArrayForEach(t, trials) {
		const cJSON *c;
		char *s;
		int seen = 0;

		if (!(v = fmt_jget(fmt_jget(t, "params"), param)))
			continue;
		if (!(s = fmt_value(v, 0)))
			goto fail;
		cJSON_ArrayForEach(c, cats)
			seen |= strcmp(c->valuestring, s) == 0;
		if (!seen && !cJSON_AddItemToArray(cats, cJSON_CreateString(s))) {
			free(s);
			goto fail;
		}
		free(s);
	}
	return cats;
fail:
	cJSON_Delete(cats);
	return NULL;
}

static int
category_index(const cJSON *cats, const cJSON *v)
{
	char *s = fmt_value(v, 0);
	const cJSON *c;
	int i = 0, found = -1;

	if (!s)
		return -1;
	cJSON_ArrayForEach(c, cats) {
		if (strcmp(c->valuestring, s) == 0) {
			found = i;
			break;
		}
		i++;
	}
	free(s);
	return found;
}

/* A deterministic jitter in [-0.2, 0.2] from the trial number, so points
 * of one category do not sit on top of each other. */
static double
jitter(double number)
{
	double f = fmod(number * 0.6180339887, 1.0);

	return (f - 0.5) * 0.4;
}

static int
param_chart(FILE *out, const cJSON *trials, const char *param,
	    const cJSON *dist, const char *metric)
{
	int numeric = !fmt_jget(dist, "choice"), logx = 0, rc = 0;
	double xlo = INFINITY, xhi = -INFINITY, lo, hi, nmax;
	char xlabel[300];
	cJSON *cats = NULL;
	struct scale x, y;
	const cJSON *t;

	logx = fmt_jget(dist, "loguniform") || fmt_jget(dist, "logint");
	cJSON_ArrayForEach(t, trials) {
		const cJSON *v = fmt_jget(fmt_jget(t, "params"), param);
		if (!v)
			continue;
		if (!cJSON_IsNumber(v))
			numeric = 0;
		else {
			xlo = fmin(xlo, v->valuedouble);
			xhi = fmax(xhi, v->valuedouble);
		}
	}
	if (!objective_range(trials, &lo, &hi, &nmax))
		return 0;
	if (!numeric) {
		if (!(cats = categories(trials, param, dist)))
			return -ENOMEM;
		xlo = -0.5;
		xhi = cJSON_GetArraySize(cats) - 0.5;
		logx = 0;
	}
	if (!isfinite(xlo))
		goto out;
	scale_fit(&x, xlo, xhi, logx && xlo > 0, 50, 330);
	scale_fit(&y, lo, hi, 0, 180, 12);
	fputs("<svg viewBox='0 0 340 220' width='340' height='220'>\n", out);
	snprintf(xlabel, sizeof xlabel, "%s%s", param, x.log ? " (log scale)" : "");
	axes(out, &x, &y, xlabel, metric, numeric);
	if (!numeric) {
		const cJSON *c;
		int i = 0;

		cJSON_ArrayForEach(c, cats) {
			fprintf(out, "<text x='%.1f' y='%.1f' class='xt'>", sc(&x, i),
				y.p0 + 15);
			esc(out, c->valuestring);
			fputs("</text>\n", out);
			i++;
		}
	}
	cJSON_ArrayForEach(t, trials) {
		const cJSON *v = fmt_jget(fmt_jget(t, "params"), param);
		double o = fmt_jnum(t, "objective", NAN), px;
		if (!v || !isfinite(o))
			continue;
		if (numeric) {
			if (x.log && v->valuedouble <= 0)
				continue;
			px = sc(&x, v->valuedouble);
		} else {
			int ci = category_index(cats, v);
			if (ci < 0)
				continue;
			px = sc(&x, ci + jitter(fmt_jnum(t, "number", 0)));
		}
		dot(out, px, sc(&y, o), t, o);
	}
	fputs("</svg>\n", out);
out:
	cJSON_Delete(cats);
	return rc;
}

static int
params_section(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const cJSON *space = fmt_jget(fmt_jget(sw, "spec"), "space");
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	const cJSON *first = fmt_jget(cJSON_GetArrayItem(trials, 0), "params"), *p;
	int drawn = 0;

	fputs("<h2 id='params'>Objective vs hyperparameters</h2>\n<div class='grid2'>\n",
	      out);
	/* Every param the spec searches over; without a spec (an external
	 * trainer's enqueued params, say), every param that varies. */
	if (cJSON_IsObject(first))
		cJSON_ArrayForEach(p, first) {
			const cJSON *dist = fmt_jget(space, p->string);
			if (!is_distribution(dist) && !varies(trials, p->string))
				continue;
			if (param_chart(out, trials, p->string, dist, metric) < 0)
				return -ENOMEM;
			drawn++;
		}
	fputs("</div>\n", out);
	if (!drawn)
		fputs("<p>No searched hyperparameter to plot.</p>\n", out);
	return 0;
}

/* ---- trial table -------------------------------------------------------- */

static void
cell_num(FILE *out, const cJSON *v)
{
	if (cJSON_IsNumber(v)) {
		fprintf(out, "<td class='n' data-v='%.17g'>", v->valuedouble);
		num(out, v->valuedouble);
		fputs("</td>", out);
	} else {
		fputs("<td class='n' data-v=''>-</td>", out);
	}
}

static int
trial_table(FILE *out, const cJSON *trials)
{
	static const char *const fixed[] = {
		"#", "status", "objective", "best epoch", "epochs", "verdict",
		"seconds", "error",
	};
	const cJSON *first = fmt_jget(cJSON_GetArrayItem(trials, 0), "params"), *t, *p;
	/* Params the same in every trial get no column (the constant epochs
	 * would sit beside the reported "epochs"); they are listed once
	 * under the table instead, as `sweepctl trials` does. */
	cJSON *same = fmt_common_params(trials);
	char *same_txt;

	if (!same)
		return -ENOMEM;
	fputs("<h2 id='trials'>Trials</h2>\n<p class='legend'>Click a column "
	      "header to sort.</p>\n<table class='trials' id='trial-table'>\n"
	      "<thead><tr>", out);
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		fprintf(out, "<th>%s</th>", fixed[i]);
	if (cJSON_IsObject(first))
		cJSON_ArrayForEach(p, first) {
			if (fmt_jget(same, p->string))
				continue;
			fputs("<th>", out);
			esc(out, p->string);
			fputs("</th>", out);
		}
	fputs("</tr></thead>\n<tbody>\n", out);
	cJSON_ArrayForEach(t, trials) {
		const cJSON *err = fmt_jget(t, "error");
		double t0 = fmt_jnum(t, "started_at", NAN), t1 = fmt_jnum(t, "ended_at", NAN);
		cJSON *secs = cJSON_CreateNumber(t1 - t0);

		fputs("<tr>", out);
		cell_num(out, fmt_jget(t, "number"));
		fputs("<td>", out);
		esc(out, fmt_jstr(t, "status", "-"));
		fputs("</td>", out);
		cell_num(out, fmt_jget(t, "objective"));
		cell_num(out, fmt_jget(t, "best_epoch"));
		cell_num(out, fmt_jget(t, "epochs"));
		fputs("<td>", out);
		if (trial_verdict(t))
			badge(out, trial_verdict(t));
		fputs("</td>", out);
		cell_num(out, isfinite(t1 - t0) ? secs : NULL);
		cJSON_Delete(secs);
		fputs("<td>", out);
		if (cJSON_IsObject(err)) {
			fputs("<span title='", out);
			esc(out, fmt_jstr(err, "message", ""));
			fputs("'>", out);
			esc(out, fmt_jstr(err, "class", "error"));
			fputs("</span>", out);
		}
		fputs("</td>", out);
		if (cJSON_IsObject(first))
			cJSON_ArrayForEach(p, first) {
				const cJSON *v = fmt_jget(fmt_jget(t, "params"), p->string);
				if (fmt_jget(same, p->string))
					continue;
				if (cJSON_IsNumber(v)) {
					cell_num(out, v);
					continue;
				}
				fputs("<td>", out);
				if (value(out, v) < 0)
					goto oom;
				fputs("</td>", out);
			}
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
	if (cJSON_GetArraySize(same) > 0) {
		if (!(same_txt = fmt_params(same, 0, NULL)))
			goto oom;
		fputs("<p class='legend'>Same in every trial: ", out);
		esc(out, same_txt);
		fputs("</p>\n", out);
		free(same_txt);
	}
	cJSON_Delete(same);
	return 0;
oom:
	cJSON_Delete(same);
	return -ENOMEM;
}

/* Sorts the table by the clicked column: numbers (data-v) numerically,
 * everything else as text; a second click reverses. */
static const char sort_script[] =
	"<script>\n"
	"(function(){\n"
	"var table=document.getElementById('trial-table');\n"
	"if(!table)return;\n"
	"var heads=table.tHead.rows[0].cells;\n"
	"for(var i=0;i<heads.length;i++)(function(col){\n"
	"  var asc=true;\n"
	"  heads[col].addEventListener('click',function(){\n"
	"    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);\n"
	"    function key(r){var c=r.cells[col],v=c.getAttribute('data-v');\n"
	"      if(v!==null)return v===''?(asc?Infinity:-Infinity):parseFloat(v);\n"
	"      return c.textContent;}\n"
	"    rows.sort(function(a,b){var x=key(a),y=key(b);\n"
	"      var r=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));\n"
	"      return asc?r:-r;});\n"
	"    rows.forEach(function(r){body.appendChild(r);});\n"
	"    asc=!asc;\n"
	"  });\n"
	"})(i);\n"
	"})();\n"
	"</script>\n";

static int
spec_section(FILE *out, const cJSON *sw)
{
	const cJSON *spec = fmt_jget(sw, "spec");
	char *txt;

	fputs("<h2 id='spec'>Spec</h2>\n", out);
	if (!spec) {
		fputs("<p>-</p>\n", out);
		return 0;
	}
	if (!(txt = json_print_indented(spec)))
		return -ENOMEM;
	fputs("<pre>", out);
	esc(out, txt);
	fputs("</pre>\n", out);
	free(txt);
	return 0;
}

int
report_write(FILE *out, const cJSON *sw, const cJSON *trials,
	     const cJSON *epochs, time_t now)
{
	int rc;

	head(out, sw, now);
	summary(out, sw, now);
	if ((rc = best(out, sw)) < 0)
		return rc;
	history(out, sw, trials);
	if ((rc = curves(out, sw, trials, epochs)) < 0)
		return rc;
	if ((rc = params_section(out, sw, trials)) < 0)
		return rc;
	if ((rc = trial_table(out, trials)) < 0)
		return rc;
	if ((rc = spec_section(out, sw)) < 0)
		return rc;
	fputs(sort_script, out);
	fputs("</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
