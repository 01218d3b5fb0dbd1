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
#include "client/report_impl.h"
#include "common/json.h"
#include "common/vocab.h"

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

void
report_esc(FILE *out, const char *s)
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
esc(FILE *out, const char *s)
{
	report_esc(out, s);
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

/* Up to max tick values inside the scale, about want of them: 1-2-5
 * steps, or decades on a log axis. Returns how many. */
static int
ticks_n(const struct scale *s, double *t, int max, int want)
{
	int n = 0;

	if (s->log) {
		for (double k = ceil(log10(s->lo)); k <= floor(log10(s->hi)) && n < max; k++)
			t[n++] = pow(10, k);
		if (n >= 2)
			return n;
		n = 0;
	}
	double raw = (s->hi - s->lo) / want, mag = pow(10, floor(log10(raw)));
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
axes_n(FILE *out, const struct scale *x, const struct scale *y,
       const char *xlabel, const char *ylabel, int xticks, int want)
{
	double t[16];
	int n;

	fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
		"class='frame'/>\n", x->p0, y->p1, x->p1 - x->p0, y->p0 - y->p1);
	n = ticks_n(y, t, 16, want);
	for (int i = 0; i < n; i++) {
		double py = sc(y, t[i]);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' "
			"class='grid'/><text x='%.1f' y='%.1f' class='yt'>",
			x->p0, x->p1, py, py, x->p0 - 4, py + 3);
		num(out, t[i]);
		fputs("</text>\n", out);
	}
	n = xticks ? ticks_n(x, t, 16, want) : 0;
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

static void
axes(FILE *out, const struct scale *x, const struct scale *y,
     const char *xlabel, const char *ylabel, int xticks)
{
	axes_n(out, x, y, xlabel, ylabel, xticks, 5);
}

/* ---- page head and summary -------------------------------------------- */

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1320px;"
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
	"table.trials{font-size:13px}table.trials td{max-width:14em;overflow:hidden;"
	"text-overflow:ellipsis}\n"
	".scroll{max-width:100%;overflow-x:auto}\n"
	".arrow{display:inline-block;width:1em;color:#555;font-size:10px;"
	"padding-left:2px}\n"
	".pcl{text-anchor:middle;font-weight:bold}.pct{text-anchor:middle;fill:#555}"
	".pcc{fill:#333}.pcax text{paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
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

/* A local date and time, "2026-12-01 09:14:53"; "-" when unknown. */
static char *
stamp(char *buf, size_t len, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!isfinite(t) || t <= 0 || t > 1e12 || !localtime_r(&tt, &tm))
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static void
summary(FILE *out, const cJSON *sw)
{
	const cJSON *obj = fmt_jget(sw, "objective"), *verdicts, *v;
	char line[512], a[FMT_NUM_MAX], b[FMT_NUM_MAX];
	size_t used = 0;
	double t0 = fmt_jnum(sw, "created_at", 0), t1 = fmt_jnum(sw, "ended_at", 0);

	fputs("<h2 id='summary'>Summary</h2>\n<table class='kv'>\n", out);
	kv_row(out, "status", fmt_jstr(sw, "status", "-"));
	kv_row(out, "created", stamp(a, sizeof a, t0));
	if (t1 > 0) {
		snprintf(line, sizeof line, "%s (ran %s)", stamp(a, sizeof a, t1),
			 fmt_duration(b, sizeof b, t1 - t0));
		kv_row(out, "ended", line);
	}
	snprintf(line, sizeof line, "%s (%s)", fmt_jstr(obj, "metric", "-"),
		 fmt_jstr(obj, "mode", "-"));
	kv_row(out, "objective", line);
	line[0] = '\0';
	for (int i = 0; i < TRIAL_N_STATUS && used < sizeof line; i++) {
		const char *st = vocab_trial_name((enum trial_status)i);
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%.0f %s",
					 i ? ", " : "", fmt_jnum(fmt_jget(sw, "counts"),
								 st, 0), st);
	}
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
	int pruned = vocab_trial_parse(fmt_jstr(t, "status", "")) == TRIAL_PRUNED;

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
		if (!isfinite(v) ||
		    vocab_trial_parse(fmt_jstr(t, "status", "")) != TRIAL_COMPLETED)
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
				sc(x, ex[i]), sc(y, vi), color);
			continue;
		}
		if (ok && !open) {
			fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.4'%s"
				" points='", color, dash);
			open = 1;
		}
		if (ok)
			fprintf(out, "%.1f,%.1f ", sc(x, ex[i]), sc(y, vi));
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
	const char *verdict = trial_verdict(t);

	fprintf(out, "<svg viewBox='0 0 230 160' width='230' height='160'>"
		"<rect x='1' y='1' width='228' height='158' fill='none' stroke='%s' "
		"stroke-width='2'/>\n<text x='6' y='13' fill='%s'><tspan "
		"font-weight='bold'>#%.0f</tspan> ", color, color,
		fmt_jnum(t, "number", 0));
	esc(out, verdict ? verdict : fmt_jstr(t, "status", ""));
	fputs(" ", out);
	if (cJSON_IsNumber(fmt_jget(t, "objective")))
		num(out, fmt_jnum(t, "objective", 0));
	fputs("</text>\n<text x='224' y='13' text-anchor='end' fill='#999'>", out);
	esc(out, what);
	fputs("</text>\n", out);
}

static void
panel(FILE *out, const cJSON *t, const struct curve *c, const char *metric,
      const struct shared *sh)
{
	const cJSON *d = fmt_jget(t, "diagnosis");
	const char *color = report_verdict_color(trial_verdict(t));
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
	scale_fit(&x, sh->elo, sh->ehi, 0, 44, 222);
	if (loss)
		scale_fit(&y, sh->llo, sh->lhi, sh->loss_log, 130, 22);
	else
		scale_fit(&y, sh->olo, sh->ohi, 0, 130, 22);
	axes_n(out, &x, &y, NULL, NULL, 1, 3);
	if (cJSON_IsNumber(fmt_jget(d, "stop_epoch"))) {
		double px = sc(&x, fmt_jnum(d, "stop_epoch", 0));
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

/* A badge for each verdict some trial has, in the table's order. */
static void
verdict_legend(FILE *out, const cJSON *trials)
{
	for (size_t i = 0; i < N_VERDICTS; i++) {
		const cJSON *t;
		int seen = 0;

		cJSON_ArrayForEach(t, trials)
			seen |= trial_verdict(t) &&
				strcmp(trial_verdict(t), verdict_colors[i].verdict) == 0;
		if (!seen)
			continue;
		fputs("<span>", out);
		badge(out, verdict_colors[i].verdict);
		fputs("</span>", out);
	}
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
	verdict_legend(out, trials);
	fputs("</p>\n<div class='grid2'>\n", out);
	cJSON_ArrayForEach(t, trials) {
		double k = fmt_jnum(t, "number", 0);
		panel(out, t, k >= 1 && k < (double)n ? &c[(size_t)k] : &empty, metric,
		      &sh);
	}
	fputs("</div>\n", out);
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

/* The params worth a chart or an axis: every param the spec searches
 * over; without a spec (an external trainer's enqueued params, say),
 * every param that varies. Fills names (borrowed from trials). */
static int
searched_params(const cJSON *sw, const cJSON *trials, const char **names, int max)
{
	const cJSON *space = fmt_jget(fmt_jget(sw, "spec"), "space");
	const cJSON *first = fmt_jget(cJSON_GetArrayItem(trials, 0), "params"), *p;
	int n = 0;

	if (cJSON_IsObject(first))
		cJSON_ArrayForEach(p, first) {
			if (n == max)
				break;
			if (is_distribution(fmt_jget(space, p->string)) ||
			    varies(trials, p->string))
				names[n++] = p->string;
		}
	return n;
}

static int
params_section(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const cJSON *space = fmt_jget(fmt_jget(sw, "spec"), "space");
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	const char *names[64];
	int drawn = searched_params(sw, trials, names, 64);

	fputs("<h2 id='params'>Objective vs hyperparameters</h2>\n<div class='grid2'>\n",
	      out);
	for (int i = 0; i < drawn; i++)
		if (param_chart(out, trials, names[i], fmt_jget(space, names[i]),
				metric) < 0)
			return -ENOMEM;
	fputs("</div>\n", out);
	if (!drawn)
		fputs("<p>No searched hyperparameter to plot.</p>\n", out);
	return 0;
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
		num(out, fmt_jnum(t, "objective", 0));
	fputs(" (", out);
	esc(out, fmt_jstr(t, "status", "?"));
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
	scale_fit(&x, elo, ehi, 0, 60, 600);
	scale_fit(&y, lo, hi, 0, 260, 15);
	fputs("<svg viewBox='0 0 720 300' width='720' height='300' role='img' "
	      "aria-label='objective by epoch, every trial'>\n", out);
	axes(out, &x, &y, "epoch", metric, 1);
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
				num(out, fmt_jnum(t, "objective", NAN));
		fputs("</text>\n", out);
	}
	fprintf(out, "</svg>\n<p class='legend'>%d trials; the best %s in colour, "
		"the others grey.</p>\n", drawn,
		best[1] ? "completed trials" : "completed trial");
}

/* ---- parallel coordinates ---------------------------------------------- */

#define PC_MAX 16   /* params drawn, at most */

/* A viridis colour for f in [0, 1]: dark purple (0) to yellow (1). */
static void
ramp(char buf[8], double f)
{
	static const int stops[5][3] = {
		{ 68, 1, 84 }, { 59, 82, 139 }, { 33, 145, 140 }, { 94, 201, 98 },
		{ 253, 231, 37 },
	};
	double p = (isfinite(f) ? fmin(fmax(f, 0), 1) : 0) * 4;
	int i = p >= 4 ? 3 : (int)p, rgb[3];

	for (int k = 0; k < 3; k++)
		rgb[k] = (int)lround(stops[i][k] + (p - i) * (stops[i + 1][k] - stops[i][k]));
	snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

struct pc_axis {
	const char *name;
	struct scale s;
	cJSON *cats;          /* categories (owned), or NULL: numeric */
};

/* The vertical scale of one param's axis at x = px. */
static int
pc_axis_fit(struct pc_axis *a, const cJSON *sw, const cJSON *trials)
{
	const cJSON *dist = fmt_jget(fmt_jget(fmt_jget(sw, "spec"), "space"), a->name), *t;
	double lo = INFINITY, hi = -INFINITY;
	int numeric = !fmt_jget(dist, "choice");

	cJSON_ArrayForEach(t, trials) {
		const cJSON *v = fmt_jget(fmt_jget(t, "params"), a->name);
		if (!v)
			continue;
		if (!cJSON_IsNumber(v))
			numeric = 0;
		lo = cJSON_IsNumber(v) ? fmin(lo, v->valuedouble) : lo;
		hi = cJSON_IsNumber(v) ? fmax(hi, v->valuedouble) : hi;
	}
	a->cats = NULL;
	if (!numeric) {
		if (!(a->cats = categories(trials, a->name, dist)))
			return -ENOMEM;
		lo = 0;
		hi = cJSON_GetArraySize(a->cats) - 1;
	}
	if (!isfinite(lo))
		lo = hi = 0;
	scale_fit(&a->s, lo, hi, numeric && (fmt_jget(dist, "loguniform") ||
					     fmt_jget(dist, "logint")), 250, 40);
	return 0;
}

/* Where trial t crosses axis a; NAN when it has no (drawable) value. */
static double
pc_y(const struct pc_axis *a, const cJSON *t)
{
	const cJSON *v = fmt_jget(fmt_jget(t, "params"), a->name);
	int ci;

	if (!v)
		return NAN;
	if (!a->cats)
		return cJSON_IsNumber(v) && (!a->s.log || v->valuedouble > 0)
		       ? sc(&a->s, v->valuedouble) : NAN;
	ci = category_index(a->cats, v);
	return ci < 0 ? NAN : sc(&a->s, ci);
}

static void
pc_axis_draw(FILE *out, const struct pc_axis *a, double px)
{
	double t[8];
	const cJSON *c;
	int i = 0, n;

	fprintf(out, "<line x1='%.1f' x2='%.1f' y1='40' y2='250' stroke='#777'/>\n"
		"<text x='%.1f' y='20' class='pcl'>", px, px, px);
	esc(out, a->name);
	fputs("</text>\n", out);
	if (a->cats) {
		cJSON_ArrayForEach(c, a->cats) {
			fprintf(out, "<text x='%.1f' y='%.1f' class='pcc'>", px + 5,
				sc(&a->s, i++) + 3);
			esc(out, c->valuestring);
			fputs("</text>\n", out);
		}
		return;
	}
	n = ticks_n(&a->s, t, 8, 4);
	for (i = 0; i < n; i++) {
		double py = sc(&a->s, t[i]);

		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#777'/>"
			"<text x='%.1f' y='%.1f' class='yt'>", px - 3, px, py, py,
			px - 5, py + 3);
		num(out, t[i]);
		fputs("</text>\n", out);
	}
}

static void
pc_lines(FILE *out, const cJSON *sw, const cJSON *trials, const struct pc_axis *ax,
	 int n, double step)
{
	int maxmode = strcmp(fmt_jstr(fmt_jget(sw, "objective"), "mode", "max"), "min") != 0;
	const struct scale *o = &ax[n].s;
	const cJSON *t;

	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN), f;
		char color[8];

		if (!isfinite(v))
			continue;
		/* bright is better, whichever the mode */
		f = o->hi > o->lo ? (v - o->lo) / (o->hi - o->lo) : 0.5;
		ramp(color, maxmode ? f : 1 - f);
		fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.6' "
			"opacity='0.85' points='", color);
		for (int i = 0; i < n; i++) {
			double y = pc_y(&ax[i], t);
			if (isfinite(y))
				fprintf(out, "%.1f,%.1f ", 60 + step * i, y);
		}
		fprintf(out, "%.1f,%.1f'><title>trial %.0f: ", 60 + step * n, sc(o, v),
			fmt_jnum(t, "number", 0));
		num(out, v);
		fputs("</title></polyline>\n", out);
	}
}

static int
parcoords(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const char *names[PC_MAX];
	struct pc_axis ax[PC_MAX + 1];
	double lo, hi, nmax, step;
	int n = searched_params(sw, trials, names, PC_MAX), rc = 0, k = 0, w;

	fputs("<h2 id='parcoords'>Parallel coordinates</h2>\n", out);
	if (n == 0 || !objective_range(trials, &lo, &hi, &nmax)) {
		fputs("<p>Nothing to draw yet: no searched hyperparameter, or no "
		      "objective.</p>\n", out);
		return 0;
	}
	for (; k < n; k++) {
		ax[k].name = names[k];
		if ((rc = pc_axis_fit(&ax[k], sw, trials)) < 0)
			goto out;
	}
	ax[n].name = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	ax[n].cats = NULL;
	scale_fit(&ax[n].s, lo, hi, 0, 250, 40);
	w = 120 + 130 * n;
	step = 130;
	fprintf(out, "<svg viewBox='0 0 %d 280' width='%d' height='280' role='img' "
		"aria-label='parallel coordinates'>\n", w, w);
	pc_lines(out, sw, trials, ax, n, step);
	fputs("<g class='pcax'>\n", out);
	for (int i = 0; i <= n; i++)
		pc_axis_draw(out, &ax[i], 60 + step * i);
	fputs("</g>\n", out);
	fputs("</svg>\n<p class='legend'>One line per trial with an objective, "
	      "through its value of each hyperparameter to its objective; "
	      "coloured by the objective, bright yellow the best, dark purple the "
	      "worst.</p>\n", out);
out:
	for (int i = 0; i < k; i++)
		cJSON_Delete(ax[i].cats);
	return rc;
}

/* ---- failures ----------------------------------------------------------- */

/* The failed trials grouped by error class and message:
 * [{"class","message","count","trials":[N...]}] (new). */
static cJSON *
group_failures(const cJSON *trials)
{
	cJSON *groups = cJSON_CreateArray();
	const cJSON *t;

	cJSON_ArrayForEach(t, trials) {
		const cJSON *err = fmt_jget(t, "error");
		const char *cl = fmt_jstr(err, "class", "error");
		const char *msg = fmt_jstr(err, "message", "");
		cJSON *g;

		if (!groups)
			return NULL;
		if (vocab_trial_parse(fmt_jstr(t, "status", "")) != TRIAL_FAILED)
			continue;
		cJSON_ArrayForEach(g, groups)
			if (strcmp(fmt_jstr(g, "class", ""), cl) == 0 &&
			    strcmp(fmt_jstr(g, "message", ""), msg) == 0)
				break;
		if (!g && (!(g = cJSON_CreateObject()) ||
			   !cJSON_AddItemToArray(groups, g) ||
			   !cJSON_AddStringToObject(g, "class", cl) ||
			   !cJSON_AddStringToObject(g, "message", msg) ||
			   !cJSON_AddNumberToObject(g, "count", 0) ||
			   !cJSON_AddArrayToObject(g, "trials")))
			goto oom;
		cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "count"),
				     fmt_jnum(g, "count", 0) + 1);
		if (!cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(g, "trials"),
					  cJSON_CreateNumber(fmt_jnum(t, "number", 0))))
			goto oom;
	}
	return groups;
oom:
	cJSON_Delete(groups);
	return NULL;
}

static void
failure_row(FILE *out, const cJSON *f, const cJSON *local)
{
	const cJSON *g, *n, *nums = fmt_jget(f, "trials");
	int shown = 0;

	/* the daemon's summary may not list the trials: the local groups do */
	cJSON_ArrayForEach(g, local)
		if (!nums && strcmp(fmt_jstr(g, "class", ""), fmt_jstr(f, "class", "")) == 0 &&
		    strcmp(fmt_jstr(g, "message", ""), fmt_jstr(f, "message", "")) == 0)
			nums = fmt_jget(g, "trials");
	fputs("<tr><td>", out);
	esc(out, fmt_jstr(f, "class", "error"));
	fputs("</td><td>", out);
	esc(out, fmt_jstr(f, "message", ""));
	fprintf(out, "</td><td class='n'>%.0f</td><td>", fmt_jnum(f, "count", 0));
	cJSON_ArrayForEach(n, nums) {
		if (shown++ == 12) {
			fputs(" ...", out);
			break;
		}
		fprintf(out, "%s#%.0f", shown > 1 ? " " : "", cJSON_GetNumberValue(n));
	}
	fputs("</td></tr>\n", out);
}

static int
failures(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const cJSON *daemon = fmt_jget(sw, "failures"), *f;
	cJSON *local = group_failures(trials);
	const cJSON *rows;

	if (!local)
		return -ENOMEM;
	/* the daemon's summary counts every failure of the sweep; without
	 * it (an older daemon), the trials sent are grouped here */
	rows = cJSON_GetArraySize(daemon) > 0 ? daemon : local;
	fputs("<h2 id='failures'>Failures</h2>\n", out);
	if (cJSON_GetArraySize(rows) == 0)
		fputs("<p>No trial failed.</p>\n", out);
	else {
		fputs("<table class='trials'><thead><tr><th>class</th><th>message</th>"
		      "<th>trials</th><th>which</th></tr></thead><tbody>\n", out);
		cJSON_ArrayForEach(f, rows)
			failure_row(out, f, local);
		fputs("</tbody></table>\n", out);
	}
	cJSON_Delete(local);
	return 0;
}

/* ---- trial table -------------------------------------------------------- */

/* A number cell, sorted by its value; with t0 (> 0) a tooltip saying
 * when the trial ran. */
static void
cell_num(FILE *out, const cJSON *v, double t0, double t1)
{
	char a[FMT_NUM_MAX], b[FMT_NUM_MAX];

	if (cJSON_IsNumber(v)) {
		fprintf(out, "<td class='n' data-v='%.17g'", v->valuedouble);
		if (t0 > 0)
			fprintf(out, " title='%s to %s'", stamp(a, sizeof a, t0),
				stamp(b, sizeof b, t1));
		fputc('>', out);
		num(out, v->valuedouble);
		fputs("</td>", out);
	} else {
		fputs("<td class='n' data-v=''>-</td>", out);
	}
}

/* The table's header row: the fixed columns, then one per param that
 * differs between trials (first: the first trial's params, borrowed). */
static void
trial_table_head(FILE *out, const cJSON *first, const cJSON *same)
{
	/* "epochs run", not "epochs": a searched epochs param gets a column
	 * of its own */
	static const char *const fixed[] = {
		"#", "status", "objective", "best epoch", "epochs run", "verdict",
		"seconds", "error",
	};
	const cJSON *p;

	fputs("<h2 id='trials'>Trials</h2>\n<p class='legend'>Click a column "
	      "header to sort.</p>\n<div class='scroll'><table class='trials' "
	      "id='trial-table'>\n<thead><tr>", out);
	/* sorted by number as sent: the arrow says so */
	fputs("<th aria-sort='ascending'>#<span class='arrow'>\xe2\x96\xb2</span></th>",
	      out);
	for (size_t i = 1; i < sizeof fixed / sizeof fixed[0]; i++)
		fprintf(out, "<th>%s<span class='arrow'></span></th>", fixed[i]);
	if (cJSON_IsObject(first))
		cJSON_ArrayForEach(p, first) {
			if (fmt_jget(same, p->string))
				continue;
			fputs("<th>", out);
			esc(out, p->string);
			fputs("<span class='arrow'></span></th>", out);
		}
	fputs("</tr></thead>\n<tbody>\n", out);
}

/* The error cell: the class, with the message as its tooltip. */
static void
error_cell(FILE *out, const cJSON *err)
{
	fputs("<td>", out);
	if (cJSON_IsObject(err)) {
		fputs("<span class='cut' title='", out);
		esc(out, fmt_jstr(err, "message", ""));
		fputs("'>", out);
		esc(out, fmt_jstr(err, "class", "error"));
		fputs("</span>", out);
	}
	fputs("</td>", out);
}

/* One trial's row (columns as trial_table_head's). 0 or -ENOMEM. */
static int
trial_table_row(FILE *out, const cJSON *t, const cJSON *first,
		const cJSON *same)
{
	double t0 = fmt_jnum(t, "started_at", NAN), t1 = fmt_jnum(t, "ended_at", NAN);
	cJSON *secs = cJSON_CreateNumber(t1 - t0);
	const cJSON *p;

	fputs("<tr>", out);
	cell_num(out, fmt_jget(t, "number"), 0, 0);
	fputs("<td>", out);
	esc(out, fmt_jstr(t, "status", "-"));
	fputs("</td>", out);
	cell_num(out, fmt_jget(t, "objective"), 0, 0);
	cell_num(out, fmt_jget(t, "best_epoch"), 0, 0);
	cell_num(out, fmt_jget(t, "epochs"), 0, 0);
	fputs("<td>", out);
	if (trial_verdict(t))
		badge(out, trial_verdict(t));
	fputs("</td>", out);
	cell_num(out, isfinite(t1 - t0) ? secs : NULL, t0, t1);
	cJSON_Delete(secs);
	error_cell(out, fmt_jget(t, "error"));
	if (cJSON_IsObject(first))
		cJSON_ArrayForEach(p, first) {
			const cJSON *v = fmt_jget(fmt_jget(t, "params"), p->string);
			if (fmt_jget(same, p->string))
				continue;
			if (cJSON_IsNumber(v)) {
				cell_num(out, v, 0, 0);
				continue;
			}
			fputs("<td>", out);
			if (value(out, v) < 0)
				return -ENOMEM;
			fputs("</td>", out);
		}
	fputs("</tr>\n", out);
	return 0;
}

static int
trial_table(FILE *out, const cJSON *trials)
{
	const cJSON *first = fmt_jget(cJSON_GetArrayItem(trials, 0), "params"), *t;
	/* Params the same in every trial get no column (the constant epochs
	 * would sit beside the reported "epochs"); they are listed once
	 * under the table instead, as `sweepctl trials` does. */
	cJSON *same = fmt_common_params(trials);
	char *same_txt;

	if (!same)
		return -ENOMEM;
	trial_table_head(out, first, same);
	cJSON_ArrayForEach(t, trials)
		if (trial_table_row(out, t, first, same) < 0)
			goto oom;
	fputs("</tbody>\n</table></div>\n", out);
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

/* sweepdSortable(root): the trial table in root sorts by the clicked
 * column (numbers by data-v, empty ones last; the rest as text), a second
 * click reverses, the header's arrow and aria-sort say how it is sorted.
 * The order chosen is kept in sweepdSortable.state, so the live dashboard
 * re-applies it to the table of its next refresh. */
static const char sort_script[] =
	"function sweepdSortable(root){\n"
	"var table=root.querySelector('#trial-table');\n"
	"if(!table)return;\n"
	"var heads=table.tHead.rows[0].cells;\n"
	"function key(r,col){var c=r.cells[col],v=c.getAttribute('data-v');\n"
	"  if(v!==null)return v===''?null:parseFloat(v);\n"
	"  return c.textContent;}\n"
	"function sortBy(col,asc){\n"
	"  var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);\n"
	"  rows.sort(function(a,b){var x=key(a,col),y=key(b,col);\n"
	"    if(x===null||y===null)return (x===null)-(y===null);\n"
	"    var r=(typeof x==='number'&&typeof y==='number')?x-y:"
	"String(x).localeCompare(String(y));\n"
	"    return asc?r:-r;});\n"
	"  rows.forEach(function(r){body.appendChild(r);});\n"
	"  for(var i=0;i<heads.length;i++){heads[i].removeAttribute('aria-sort');\n"
	"    var s=heads[i].querySelector('.arrow');if(s)s.textContent='';}\n"
	"  heads[col].setAttribute('aria-sort',asc?'ascending':'descending');\n"
	"  var a=heads[col].querySelector('.arrow');\n"
	"  if(a)a.textContent=asc?'\\u25b2':'\\u25bc';\n"
	"  sweepdSortable.state={col:col,asc:asc};}\n"
	"for(var i=0;i<heads.length;i++)(function(col){\n"
	"  heads[col].addEventListener('click',function(){\n"
	"    var st=sweepdSortable.state;\n"
	"    sortBy(col,!(st&&st.col===col&&st.asc));});\n"
	"})(i);\n"
	"var st=sweepdSortable.state||{col:0,asc:true};\n"
	"if(st.col<heads.length)sortBy(st.col,st.asc);\n"
	"}\n";

const char *
report_script(void)
{
	return sort_script;
}

const char *
report_css(void)
{
	return css;
}

/* cJSON_Print's text, escaped, with two spaces for each tab that indents
 * and one for the tab after a colon (a tab inside a string is written
 * \t, so every tab is layout). */
static void
untab(FILE *out, const char *s)
{
	char c[2] = { 0 };
	int start = 1;

	for (; *s; s++) {
		if (*s == '\t') {
			fputs(start ? "  " : " ", out);
			continue;
		}
		start = *s == '\n';
		c[0] = *s;
		esc(out, c);
	}
}

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
	untab(out, txt);
	fputs("</pre>\n", out);
	free(txt);
	return 0;
}

/* The sections, summary to spec, without the page around them. */
int
report_write_body(FILE *out, const cJSON *sw, const cJSON *trials,
		  const cJSON *epochs)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	struct curve *c = NULL;
	size_t n = 0;
	int rc;

	if (epochs && !(c = curves_build(trials, epochs, metric, &n)))
		return -ENOMEM;
	summary(out, sw);
	if ((rc = best(out, sw)) < 0 || (rc = failures(out, sw, trials)) < 0)
		goto out;
	history(out, sw, trials);
	if ((rc = report_front(out, sw, trials, epochs)) < 0)
		goto out;
	overlay(out, sw, trials, c, n);
	curves(out, sw, trials, c, n);
	if ((rc = params_section(out, sw, trials)) < 0 ||
	    (rc = parcoords(out, sw, trials)) < 0 ||
	    (rc = trial_table(out, trials)) < 0 ||
	    (rc = spec_section(out, sw)) < 0)
		goto out;
	rc = 0;
out:
	curves_free(c, n);
	return rc;
}

int
report_write(FILE *out, const cJSON *sw, const cJSON *trials,
	     const cJSON *epochs, time_t now)
{
	int rc;

	head(out, sw, now);
	if ((rc = report_write_body(out, sw, trials, epochs)) < 0)
		return rc;
	fprintf(out, "<script>\n%s\nsweepdSortable(document);\n</script>\n",
		report_script());
	fputs("</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

/* ---- for the other sections' files (report_impl.h) -------------------- */

double
report_sc(const struct scale *s, double v)
{
	return sc(s, v);
}

void
report_scale_fit(struct scale *s, double lo, double hi, int log,
		 double p0, double p1)
{
	scale_fit(s, lo, hi, log, p0, p1);
}

void
report_axes(FILE *out, const struct scale *x,
	    const struct scale *y, const char *xlabel,
	    const char *ylabel)
{
	axes(out, x, y, xlabel, ylabel, 1);
}

void
report_num(FILE *out, double v)
{
	num(out, v);
}
