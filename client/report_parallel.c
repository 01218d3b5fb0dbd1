/*
 * report_parallel.c: the HTML report's parallel coordinates
 * (report_impl.h): one line per trial through its params to its
 * objectives, coloured by the (first) objective with a colour bar beside
 * its axis. A choice's axis has its categories; a conditional param a
 * trial does not have (inactive) is drawn at the axis' "absent" mark
 * below it, so its line does not cross the axis at a value it never had.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

#define PC_MAX 16        /* params drawn, at most */
#define PC_OBJ_MAX 4     /* objectives drawn, at most */
#define PC_TOP 40        /* pixel of an axis' top (its highest value) */
#define PC_BOTTOM 250    /* and of its bottom */
#define PC_ABSENT 274    /* the "absent" mark below it */
#define PC_STEP 130      /* between axes */
#define PC_X0 60         /* the first axis */
#define PC_NAME_MAX 18   /* an axis' name is cut to fit between axes */
#define PC_CAT_MAX 14    /* and a category, before the next axis' ticks */

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

/* How a trial's (first) objective v becomes its line's colour: bright is
 * better, whichever the mode, over the drawn trials' range [lo, hi]. */
struct pc_colour {
	double lo, hi;
	int maxmode;
};

static void
pc_colour(char buf[8], const struct pc_colour *c, double v)
{
	double f = c->hi > c->lo ? (v - c->lo) / (c->hi - c->lo) : 0.5;

	ramp(buf, c->maxmode ? f : 1 - f);
}

struct pc_axis {
	const char *name;     /* borrowed */
	struct scale s;
	cJSON *cats;          /* categories (owned), or NULL: numeric */
	int obj;              /* -1: a param; else which objective */
	int absent;           /* some drawn trial has no value here */
};

/* Whether trial t is drawn: it has a finite (first) objective. */
static int
pc_drawn(const cJSON *t)
{
	return isfinite(fmt_jnum(t, "objective", NAN));
}

/* Trial t's value of objective j (the first: its "objective"; the
 * others: from its row of epochs at its best epoch), NAN when none. */
static double
pc_objective(const cJSON *sw, const cJSON *epochs, const cJSON *t, int j)
{
	const cJSON *objs = fmt_jget(fmt_jget(sw, "spec"), "objectives");

	if (j == 0)
		return fmt_jnum(t, "objective", NAN);
	return fmt_jnum(report_best_row(epochs, t),
			fmt_jstr(cJSON_GetArrayItem(objs, j), "metric", ""), NAN);
}

/* The vertical scale of one param's axis. 0 or -ENOMEM. */
static int
pc_param_fit(struct pc_axis *a, const cJSON *sw, const cJSON *trials)
{
	const cJSON *dist = fmt_jget(fmt_jget(fmt_jget(sw, "spec"), "space"), a->name), *t;
	double lo = INFINITY, hi = -INFINITY;
	int numeric = !fmt_jget(dist, "choice");

	a->cats = NULL;
	a->absent = 0;
	cJSON_ArrayForEach(t, trials) {
		const cJSON *v = fmt_jget(fmt_jget(t, "params"), a->name);
		if (!pc_drawn(t))
			continue;
		if (!v) {
			a->absent = 1;
			continue;
		}
		if (!cJSON_IsNumber(v))
			numeric = 0;
		lo = cJSON_IsNumber(v) ? fmin(lo, v->valuedouble) : lo;
		hi = cJSON_IsNumber(v) ? fmax(hi, v->valuedouble) : hi;
	}
	if (!numeric) {
		if (!(a->cats = report_categories(trials, a->name, dist)))
			return -ENOMEM;
		lo = 0;
		hi = cJSON_GetArraySize(a->cats) - 1;
	}
	if (!isfinite(lo))
		lo = hi = 0;
	report_scale_fit(&a->s, lo, hi, numeric && (fmt_jget(dist, "loguniform") ||
						    fmt_jget(dist, "logint")),
			 PC_BOTTOM, PC_TOP);
	return 0;
}

/* The scale of objective j's axis over the drawn trials. */
static void
pc_objective_fit(struct pc_axis *a, const cJSON *sw, const cJSON *trials,
		 const cJSON *epochs)
{
	double lo = INFINITY, hi = -INFINITY;
	const cJSON *t;

	a->cats = NULL;
	a->absent = 0;
	cJSON_ArrayForEach(t, trials) {
		double v = pc_objective(sw, epochs, t, a->obj);
		if (!pc_drawn(t))
			continue;
		if (!isfinite(v)) {
			a->absent = 1;
			continue;
		}
		lo = fmin(lo, v);
		hi = fmax(hi, v);
	}
	if (!isfinite(lo))
		lo = hi = 0;
	report_scale_fit(&a->s, lo, hi, 0, PC_BOTTOM, PC_TOP);
}

/* Where trial t crosses axis a: PC_ABSENT when it has no value there, NAN
 * when it has one that cannot be drawn (not positive on a log axis). */
static double
pc_y(const struct pc_axis *a, const cJSON *sw, const cJSON *epochs,
     const cJSON *t)
{
	const cJSON *v;
	double o;
	int ci;

	if (a->obj >= 0) {
		o = pc_objective(sw, epochs, t, a->obj);
		return isfinite(o) ? report_sc(&a->s, o) : PC_ABSENT;
	}
	if (!(v = fmt_jget(fmt_jget(t, "params"), a->name)))
		return PC_ABSENT;
	if (!a->cats)
		return cJSON_IsNumber(v) && (!a->s.log || v->valuedouble > 0)
		       ? report_sc(&a->s, v->valuedouble) : NAN;
	ci = report_category_index(a->cats, v);
	return ci < 0 ? NAN : report_sc(&a->s, ci);
}

/* Ticks or categories along the axis at px; right: labels on its right
 * (the objectives', clear of the lines that end there). */
static void
pc_axis_labels(FILE *out, const struct pc_axis *a, double px, int right)
{
	double t[8];
	const cJSON *c;
	int i = 0, n;

	if (a->cats) {
		cJSON_ArrayForEach(c, a->cats) {
			fprintf(out, "<text x='%.1f' y='%.1f' class='pcc'>", px + 5,
				report_sc(&a->s, i++) + 3);
			report_cut(out, c->valuestring, PC_CAT_MAX);
			fputs("</text>\n", out);
		}
		return;
	}
	n = report_ticks(&a->s, t, 8, 4);
	for (i = 0; i < n; i++) {
		double py = report_sc(&a->s, t[i]);

		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#777'/>"
			"<text x='%.1f' y='%.1f' class='yt'%s>", right ? px : px - 3,
			right ? px + 12 : px, py, py, right ? px + 14 : px - 5, py + 3,
			right ? " style='text-anchor:start'" : "");
		report_num(out, t[i]);
		fputs("</text>\n", out);
	}
}

static void
pc_axis_draw(FILE *out, const struct pc_axis *a, double px)
{
	fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#777'/>\n"
		"<text x='%.1f' y='20' class='pcl'>", px, px, PC_TOP, PC_BOTTOM, px);
	report_cut(out, a->name, PC_NAME_MAX);
	fputs("</text>\n", out);
	pc_axis_labels(out, a, px, a->obj >= 0);
	if (a->absent)
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#777' "
			"stroke-dasharray='2,2'/><circle cx='%.1f' cy='%d' r='2.5' "
			"fill='#777'/><text x='%.1f' y='%d' class='pcc pcabs'>absent"
			"</text>\n", px, px, PC_BOTTOM, PC_ABSENT, px, PC_ABSENT, px + 5,
			PC_ABSENT + 4);
}

/* The colour bar: the ramp beside the first objective's axis (o at px),
 * so a line's colour is the bar's where the line meets the axis. */
static void
pc_colour_bar(FILE *out, const struct pc_axis *o, double px,
	      const struct pc_colour *col)
{
	char c[8];

	fputs("<defs><linearGradient id='pc-ramp' x1='0' y1='1' x2='0' y2='0'>", out);
	for (int k = 0; k <= 8; k++) {
		pc_colour(c, col, o->s.lo + k / 8.0 * (o->s.hi - o->s.lo));
		fprintf(out, "<stop offset='%.3f' stop-color='%s'/>", k / 8.0, c);
	}
	fprintf(out, "</linearGradient></defs>\n<rect class='pc-ramp' x='%.1f' y='%d' "
		"width='8' height='%d' fill='url(#pc-ramp)' stroke='#999'/>\n",
		px + 2, PC_TOP, PC_BOTTOM - PC_TOP);
}

static void
pc_lines(FILE *out, const cJSON *sw, const cJSON *trials, const cJSON *epochs,
	 const struct pc_axis *ax, int n, const struct pc_colour *col)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, trials) {
		double v = fmt_jnum(t, "objective", NAN);
		char color[8];

		if (!pc_drawn(t))
			continue;
		pc_colour(color, col, v);
		fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.6' "
			"opacity='0.85' points='", color);
		for (int i = 0; i < n; i++) {
			double y = pc_y(&ax[i], sw, epochs, t);
			if (isfinite(y))
				fprintf(out, "%.1f,%.1f ", (double)PC_X0 + PC_STEP * i, y);
		}
		fprintf(out, "'><title>trial %.0f: ", fmt_jnum(t, "number", 0));
		report_num(out, v);
		fputs("</title></polyline>\n", out);
	}
}

/* The objectives' axes after the params' (ax[n...]): the sweep's
 * objective, or each of its "objectives". Returns how many. */
static int
pc_objective_axes(struct pc_axis *ax, const cJSON *sw, const cJSON *trials,
		  const cJSON *epochs)
{
	const cJSON *objs = fmt_jget(fmt_jget(sw, "spec"), "objectives");
	int k = cJSON_GetArraySize(objs) > 1 ? cJSON_GetArraySize(objs) : 1;

	if (k > PC_OBJ_MAX)
		k = PC_OBJ_MAX;
	for (int j = 0; j < k; j++) {
		ax[j].name = j == 0 ? fmt_jstr(fmt_jget(sw, "objective"), "metric",
					       "objective")
				    : fmt_jstr(cJSON_GetArrayItem(objs, j), "metric", "?");
		ax[j].obj = j;
		pc_objective_fit(&ax[j], sw, trials, epochs);
	}
	return k;
}

static void
pc_legend(FILE *out, const cJSON *sw, int maxmode, int absent)
{
	fputs("<p class='legend'>One line per trial with an objective, through "
	      "its value of each hyperparameter to its objective", out);
	fputs(cJSON_GetArraySize(fmt_jget(fmt_jget(sw, "spec"), "objectives")) > 1 ?
	      "s" : "", out);
	fputs("; coloured by ", out);
	report_esc(out, fmt_jstr(fmt_jget(sw, "objective"), "metric", "the objective"));
	fprintf(out, " (the bar beside its axis): bright yellow the best (the %s), "
		"dark purple the worst.%s</p>\n", maxmode ? "highest" : "lowest",
		absent ? " A trial without a value on an axis (a conditional param "
		"that was inactive, an objective not reported) meets it at its "
		"<i>absent</i> mark below." : "");
}

int
report_parcoords(FILE *out, const cJSON *sw, const cJSON *trials,
		 const cJSON *epochs)
{
	struct pc_colour col = {
		.maxmode = strcmp(fmt_jstr(fmt_jget(sw, "objective"), "mode", "max"),
				  "min") != 0,
	};
	const char *names[PC_MAX];
	struct pc_axis ax[PC_MAX + PC_OBJ_MAX];
	double nmax;
	int n = report_searched_params(sw, trials, names, PC_MAX), rc = 0, k = 0;
	int w, m, absent = 0;

	fputs("<h2 id='parcoords'>Parallel coordinates</h2>\n", out);
	if (n < 0)
		return n;
	if (n == 0 || !report_objective_range(trials, &col.lo, &col.hi, &nmax)) {
		fputs("<p>Nothing to draw yet: no searched hyperparameter, or no "
		      "objective.</p>\n", out);
		return 0;
	}
	for (; k < n; k++) {
		ax[k].name = names[k];
		ax[k].obj = -1;
		if ((rc = pc_param_fit(&ax[k], sw, trials)) < 0)
			goto out;
	}
	m = n + pc_objective_axes(ax + n, sw, trials, epochs);
	w = PC_X0 + PC_STEP * (m - 1) + 70;
	fprintf(out, "<svg viewBox='0 0 %d 290' width='%d' height='290' role='img' "
		"aria-label='parallel coordinates'>\n", w, w);
	pc_lines(out, sw, trials, epochs, ax, m, &col);
	pc_colour_bar(out, &ax[n], PC_X0 + PC_STEP * n, &col);
	fputs("<g class='pcax'>\n", out);
	for (int i = 0; i < m; i++) {
		pc_axis_draw(out, &ax[i], PC_X0 + PC_STEP * i);
		absent |= ax[i].absent;
	}
	fputs("</g>\n</svg>\n", out);
	pc_legend(out, sw, col.maxmode, absent);
out:
	for (int i = 0; i < k; i++)
		cJSON_Delete(ax[i].cats);
	return rc;
}
