/*
 * report_parallel.c: the HTML report's parallel coordinates
 * (report_impl.h): one line per trial through its params to its
 * objective, coloured by the objective.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

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
		if (!(a->cats = report_categories(trials, a->name, dist)))
			return -ENOMEM;
		lo = 0;
		hi = cJSON_GetArraySize(a->cats) - 1;
	}
	if (!isfinite(lo))
		lo = hi = 0;
	report_scale_fit(&a->s, lo, hi, numeric && (fmt_jget(dist, "loguniform") ||
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
		       ? report_sc(&a->s, v->valuedouble) : NAN;
	ci = report_category_index(a->cats, v);
	return ci < 0 ? NAN : report_sc(&a->s, ci);
}

static void
pc_axis_draw(FILE *out, const struct pc_axis *a, double px)
{
	double t[8];
	const cJSON *c;
	int i = 0, n;

	fprintf(out, "<line x1='%.1f' x2='%.1f' y1='40' y2='250' stroke='#777'/>\n"
		"<text x='%.1f' y='20' class='pcl'>", px, px, px);
	report_esc(out, a->name);
	fputs("</text>\n", out);
	if (a->cats) {
		cJSON_ArrayForEach(c, a->cats) {
			fprintf(out, "<text x='%.1f' y='%.1f' class='pcc'>", px + 5,
				report_sc(&a->s, i++) + 3);
			report_esc(out, c->valuestring);
			fputs("</text>\n", out);
		}
		return;
	}
	n = report_ticks(&a->s, t, 8, 4);
	for (i = 0; i < n; i++) {
		double py = report_sc(&a->s, t[i]);

		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#777'/>"
			"<text x='%.1f' y='%.1f' class='yt'>", px - 3, px, py, py,
			px - 5, py + 3);
		report_num(out, t[i]);
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
		fprintf(out, "%.1f,%.1f'><title>trial %.0f: ", 60 + step * n, report_sc(o, v),
			fmt_jnum(t, "number", 0));
		report_num(out, v);
		fputs("</title></polyline>\n", out);
	}
}

int
report_parcoords(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const char *names[PC_MAX];
	struct pc_axis ax[PC_MAX + 1];
	double lo, hi, nmax, step;
	int n = report_searched_params(sw, trials, names, PC_MAX), rc = 0, k = 0, w;

	fputs("<h2 id='parcoords'>Parallel coordinates</h2>\n", out);
	if (n == 0 || !report_objective_range(trials, &lo, &hi, &nmax)) {
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
	report_scale_fit(&ax[n].s, lo, hi, 0, 250, 40);
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
