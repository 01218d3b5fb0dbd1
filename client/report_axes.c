/*
 * report_axes.c: what the HTML report's charts share (report_impl.h):
 * scales, ticks, the frame and labels of a plot area, and the trial dot.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

/* ---- scales and axes ---------------------------------------------------- */

static double
sc_t(const struct scale *s, double v)
{
	return s->log ? log10(v) : v;
}

double
report_sc(const struct scale *s, double v)
{
	double a = sc_t(s, s->lo), b = sc_t(s, s->hi);

	return s->p0 + (sc_t(s, v) - a) / (b - a) * (s->p1 - s->p0);
}

/* Fits a scale to [lo, hi], widening an empty range. */
void
report_scale_fit(struct scale *s, double lo, double hi, int log, double p0, double p1)
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
int
report_ticks(const struct scale *s, double *t, int max, int want)
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
void
report_axes_n(FILE *out, const struct scale *x, const struct scale *y,
       const char *xlabel, const char *ylabel, int xticks, int want)
{
	double t[16];
	int n;

	fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
		"class='frame'/>\n", x->p0, y->p1, x->p1 - x->p0, y->p0 - y->p1);
	n = report_ticks(y, t, 16, want);
	for (int i = 0; i < n; i++) {
		double py = report_sc(y, t[i]);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' "
			"class='grid'/><text x='%.1f' y='%.1f' class='yt'>",
			x->p0, x->p1, py, py, x->p0 - 4, py + 3);
		report_num(out, t[i]);
		fputs("</text>\n", out);
	}
	n = xticks ? report_ticks(x, t, 16, want) : 0;
	for (int i = 0; i < n; i++) {
		double px = report_sc(x, t[i]);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' "
			"class='tick'/><text x='%.1f' y='%.1f' class='xt'>",
			px, px, y->p0, y->p0 + 4, px, y->p0 + 15);
		report_num(out, t[i]);
		fputs("</text>\n", out);
	}
	if (xlabel) {
		fprintf(out, "<text x='%.1f' y='%.1f' class='xl'>",
			(x->p0 + x->p1) / 2, y->p0 + 30);
		report_esc(out, xlabel);
		fputs("</text>\n", out);
	}
	if (ylabel) {
		fprintf(out, "<text transform='translate(12,%.1f) rotate(-90)' "
			"class='yl'>", (y->p0 + y->p1) / 2);
		report_esc(out, ylabel);
		fputs("</text>\n", out);
	}
}

void
report_axes(FILE *out, const struct scale *x, const struct scale *y,
	    const char *xlabel, const char *ylabel)
{
	report_axes_n(out, x, y, xlabel, ylabel, 1, 5);
}

/* ---- points -------------------------------------------------------------- */

/* Extremes of the numeric objectives; returns how many there are. */
int
report_objective_range(const cJSON *trials, double *lo, double *hi, double *nmax)
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
void
report_dot(FILE *out, double x, double y, const cJSON *t, double v)
{
	const char *color = report_verdict_color(report_trial_verdict(t));
	int pruned = vocab_trial_parse(fmt_jstr(t, "status", "")) == TRIAL_PRUNED;

	fprintf(out, "<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s' stroke='%s'>"
		"<title>trial %.0f: ", x, y, pruned ? "#fff" : color, color,
		fmt_jnum(t, "number", 0));
	report_num(out, v);
	fputs(" (", out);
	report_esc(out, fmt_jstr(t, "status", "?"));
	if (report_trial_verdict(t)) {
		fputs(", ", out);
		report_esc(out, report_trial_verdict(t));
	}
	fputs(")</title></circle>\n", out);
}
