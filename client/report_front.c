/*
 * report_front.c: the HTML report's "Pareto front" section with several
 * objectives (report_impl.h): a scatter of the first two objectives, the
 * front drawn over it.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

/* One dot: a completed trial's first two values, on the front or not. */
struct fpt {
	double number, x, y;
	int front;
};

/* The member of front numbered n, or NULL. */
static const cJSON *
member(const cJSON *front, double n)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, front)
		if (fmt_jnum(t, "number", -1) == n)
			return t;
	return NULL;
}

/* Trial t's row of epochs at its best epoch, or NULL: of the latest
 * attempt up to its own that reported that epoch (a resumed trial's curve
 * spans attempts, docs/DESIGN.md). */
const cJSON *
report_best_row(const cJSON *epochs, const cJSON *t)
{
	double n = fmt_jnum(t, "number", -1), a = fmt_jnum(t, "attempt", -1),
	       e = fmt_jnum(t, "best_epoch", -1), got = -1;
	const cJSON *r, *best = NULL;

	cJSON_ArrayForEach(r, epochs) {
		double ra = fmt_jnum(r, "attempt", -2);
		if (fmt_jnum(r, "number", -2) == n && ra <= a && ra > got &&
		    fmt_jnum(r, "epoch", -2) == e) {
			best = r;
			got = ra;
		}
	}
	return best;
}

/* The completed trials' points into p (n of them, the caller's array of
 * one per trial); a trial without both values is left out. */
static int
collect(const cJSON *sw, const cJSON *trials, const cJSON *epochs,
	struct fpt *p, const char *m0, const char *m1)
{
	const cJSON *front = fmt_jget(sw, "front"), *t;
	int n = 0;

	cJSON_ArrayForEach(t, trials) {
		const cJSON *f, *r;
		double num = fmt_jnum(t, "number", -1);

		if (vocab_trial_parse(fmt_jstr(t, "status", "")) != TRIAL_COMPLETED)
			continue;
		if ((f = member(front, num))) {
			const cJSON *v = fmt_jget(f, "values");
			p[n] = (struct fpt){ num,
				cJSON_GetArrayItem(v, 0) ?
				cJSON_GetArrayItem(v, 0)->valuedouble : NAN,
				cJSON_GetArrayItem(v, 1) ?
				cJSON_GetArrayItem(v, 1)->valuedouble : NAN, 1 };
		} else if ((r = report_best_row(epochs, t))) {
			p[n] = (struct fpt){ num, fmt_jnum(r, m0, NAN),
					     fmt_jnum(r, m1, NAN), 0 };
		} else {
			continue;
		}
		if (isfinite(p[n].x) && isfinite(p[n].y))
			n++;
	}
	return n;
}

static int
by_x(const void *a, const void *b)
{
	const struct fpt *p = a, *q = b;

	return (p->x > q->x) - (p->x < q->x);
}

static void
draw(FILE *out, struct fpt *p, int n, const char *m0, const char *m1)
{
	struct scale x, y;
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;

	for (int i = 0; i < n; i++) {
		xlo = fmin(xlo, p[i].x);
		xhi = fmax(xhi, p[i].x);
		ylo = fmin(ylo, p[i].y);
		yhi = fmax(yhi, p[i].y);
	}
	/* log where the values are positive and span two decades or more */
	report_scale_fit(&x, xlo, xhi, xlo > 0 && xhi >= 100 * xlo, 60, 700);
	report_scale_fit(&y, ylo, yhi, ylo > 0 && yhi >= 100 * ylo, 250, 15);
	fputs("<svg viewBox='0 0 720 290' width='720' height='290' role='img' "
	      "aria-label='first two objectives, Pareto front'>\n", out);
	report_axes(out, &x, &y, m0, m1);
	qsort(p, (size_t)n, sizeof *p, by_x);
	fputs("<polyline class='front-line' fill='none' stroke='#c62828' "
	      "stroke-width='1.5' points='", out);
	for (int i = 0; i < n; i++)
		if (p[i].front)
			fprintf(out, "%.1f,%.1f ", report_sc(&x, p[i].x),
				report_sc(&y, p[i].y));
	fputs("'/>\n", out);
	for (int i = 0; i < n; i++) {
		fprintf(out, "<circle class='%s' cx='%.1f' cy='%.1f' r='3.5' "
			"fill='%s'><title>trial %.0f: ", p[i].front ? "pt front" : "pt",
			report_sc(&x, p[i].x), report_sc(&y, p[i].y),
			p[i].front ? "#c62828" : "#9e9e9e", p[i].number);
		report_num(out, p[i].x);
		fputs(", ", out);
		report_num(out, p[i].y);
		fputs(p[i].front ? " (on the front)" : "", out);
		fputs("</title></circle>\n", out);
	}
	fputs("</svg>\n", out);
}

int
report_front(FILE *out, const cJSON *sw, const cJSON *trials,
	     const cJSON *epochs)
{
	const cJSON *front = fmt_jget(sw, "front");
	const cJSON *objs = fmt_jget(fmt_jget(sw, "spec"), "objectives");
	const char *m0 = fmt_jstr(cJSON_GetArrayItem(objs, 0), "metric", "?");
	const char *m1 = fmt_jstr(cJSON_GetArrayItem(objs, 1), "metric", "?");
	int size = cJSON_GetArraySize(trials), n, k = cJSON_GetArraySize(objs);
	struct fpt *p;

	if (!cJSON_IsArray(front))
		return 0;
	fputs("<h2 id='pareto'>Pareto front</h2>\n", out);
	p = calloc((size_t)(size > 0 ? size : 1), sizeof *p);
	if (!p)
		return -ENOMEM;
	n = collect(sw, trials, epochs, p, m0, m1);
	if (n == 0)
		fputs("<p>No completed trial has a value of both objectives "
		      "yet.</p>\n", out);
	else
		draw(out, p, n, m0, m1);
	fprintf(out, "<p class='legend'>Each dot is a completed trial, at its "
		"values of the first two objectives (at its best epoch of the "
		"first); in red the %d trial%s of the Pareto front (not "
		"dominated on %s objectives), joined in order of ",
		cJSON_GetArraySize(front),
		cJSON_GetArraySize(front) == 1 ? "" : "s",
		k > 2 ? "all the" : "both");
	report_esc(out, m0);
	fputs(".</p>\n", out);
	free(p);
	return 0;
}
