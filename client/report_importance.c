/*
 * report_importance.c: the HTML report's "What mattered" section
 * (report_impl.h): the daemon's `importance` answer drawn as horizontal
 * bars, each param's share of the objective's variance and, for each
 * verdict, of "the trial was diagnosed so"; a verdict too few trials got
 * is a small table of those trials instead.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"

/* The daemon estimates nothing from fewer completed trials (docs/cli.md,
 * `importance`): the section says so rather than draw empty bars. */
#define IMP_MIN_TRIALS 4
/* A verdict fewer trials got is listed, not charted. */
#define IMP_FEW 5
#define IMP_MAX_BARS 24     /* bars in one chart, at most */
#define IMP_MAX_ROWS 10     /* rows of a verdict's table, at most */
#define IMP_NAME_MAX 26     /* a longer param name is cut (whole in the tooltip) */

#define IMP_OBJECTIVE_COLOR "#1565c0"

/* One bar: a param (borrowed from the reply) and its share, NAN when the
 * daemon could not estimate it. */
struct bar {
	const char *param;
	double share;
	int order;          /* its place in the reply: ties keep it */
};

static int
by_share(const void *a, const void *b)
{
	const struct bar *p = a, *q = b;
	int pn = isnan(p->share), qn = isnan(q->share);

	if (pn != qn)
		return pn - qn;          /* not estimable last */
	if (!pn && p->share != q->share)
		return p->share < q->share ? 1 : -1;
	return p->order - q->order;
}

/* The reply's [{"param","share"}] into b (at most max), largest first.
 * Returns how many; *estimable gets how many have a share. */
static int
bars_collect(const cJSON *arr, struct bar *b, int max, int *estimable)
{
	const cJSON *it;
	int n = 0;

	*estimable = 0;
	cJSON_ArrayForEach(it, arr) {
		const cJSON *sh = fmt_jget(it, "share");
		if (n == max)
			break;
		if (!fmt_jstr(it, "param", NULL))
			continue;
		b[n] = (struct bar){ fmt_jstr(it, "param", NULL),
				     cJSON_IsNumber(sh) && isfinite(sh->valuedouble) ?
				     fmin(fmax(sh->valuedouble, 0), 1) : NAN, n };
		*estimable += !isnan(b[n].share);
		n++;
	}
	qsort(b, (size_t)n, sizeof *b, by_share);
	return n;
}

/* Geometry of a bar chart: labels right-aligned at LABEL_X, bars from
 * BAR_X0 (share 0) to BAR_X1 (share 1), one row of ROW_H each. */
#define LABEL_X 176
#define BAR_X0 184.0
#define BAR_X1 620.0
#define ROW_H 22
#define TOP 6

static void
bar_row(FILE *out, const struct bar *b, int row, const char *color)
{
	double y = TOP + row * ROW_H, w = isnan(b->share) ? 0 :
		   b->share * (BAR_X1 - BAR_X0);

	fputs("<g class='imp-bar' data-param='", out);
	report_esc(out, b->param);
	fputs("' data-share='", out);
	if (isnan(b->share))
		fputs("'><title>", out);
	else
		fprintf(out, "%.6f'><title>", b->share);
	report_esc(out, b->param);
	fputs(isnan(b->share) ? ": not estimable" : ": ", out);
	if (!isnan(b->share))
		fprintf(out, "%.3f of the variance", b->share);
	fprintf(out, "</title><text x='%d' y='%.1f' class='yt'>", LABEL_X,
		y + ROW_H / 2 + 4);
	report_cut(out, b->param, IMP_NAME_MAX);
	fputs("</text>", out);
	if (isnan(b->share)) {
		fprintf(out, "<text x='%.1f' y='%.1f' fill='#888'>not estimable"
			"</text></g>\n", BAR_X0 + 4, y + ROW_H / 2 + 4);
		return;
	}
	fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='%s'/>"
		"<text x='%.1f' y='%.1f'>%.3f</text></g>\n", BAR_X0, y + 3,
		fmax(w, 1), ROW_H - 6, color, BAR_X0 + fmax(w, 1) + 4,
		y + ROW_H / 2 + 4, b->share);
}

/* The bars b[n] in color, on a shared 0 to 1 axis (a share of 0.2 looks
 * the same in every chart of the section). */
static void
bars_draw(FILE *out, const struct bar *b, int n, const char *color,
	  const char *what)
{
	int h = TOP + n * ROW_H, ht = h + 24;

	fprintf(out, "<svg class='imp' viewBox='0 0 680 %d' width='680' height='%d' "
		"role='img' aria-label='", ht, ht);
	report_esc(out, what);
	fputs("'>\n", out);
	for (int k = 0; k <= 4; k++) {
		double x = BAR_X0 + k / 4.0 * (BAR_X1 - BAR_X0);
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' class='%s'/>"
			"<text x='%.1f' y='%d' class='xt'>%s</text>\n", x, x, TOP, h + 3,
			k ? "grid" : "tick", x, h + 15,
			(const char *[]){ "0", "0.25", "0.5", "0.75", "1" }[k]);
	}
	for (int i = 0; i < n; i++)
		bar_row(out, &b[i], i, color);
	fputs("</svg>\n", out);
}

/* The objective's shares, or why there are none. 1 when it drew bars, 0
 * when it did not, or -ENOMEM. */
static int
objective_bars(FILE *out, const cJSON *sw, const cJSON *imp)
{
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	int trials = (int)fmt_jnum(imp, "trials", 0), n, est;
	double sum;
	struct bar *b = calloc(IMP_MAX_BARS, sizeof *b);

	if (!b)
		return -ENOMEM;
	n = bars_collect(fmt_jget(imp, "objective"), b, IMP_MAX_BARS, &est);
	fputs("<p>Each param's share of the variance of ", out);
	report_esc(out, metric);
	fprintf(out, " over <b>%d completed trial%s</b>, largest first (method: ",
		trials, trials == 1 ? "" : "s");
	report_esc(out, fmt_jstr(imp, "method", "not said"));
	fputs(").</p>\n", out);
	sum = fmt_share_sum(fmt_jget(imp, "objective"));
	if (est > 0 && FMT_SHARES_OVERLAP(sum))
		fprintf(out, "<p class='imp-overlap'>These shares sum to %.2f, over "
			"1: params sampled together (as TPE samples them) each carry "
			"the effect they share. Random or grid search separates "
			"them.</p>\n", sum);
	if (est > 0)
		bars_draw(out, b, n, IMP_OBJECTIVE_COLOR, "share of the objective's "
			  "variance by param");
	else if (trials < IMP_MIN_TRIALS)
		fprintf(out, "<p class='imp-none'>Too few completed trials to say "
			"what mattered: %d so far, the shares need at least %d.</p>\n",
			trials, IMP_MIN_TRIALS);
	else if (n == 0)
		fputs("<p class='imp-none'>No searched param varies: nothing to "
		      "split the variance by.</p>\n", out);
	else
		fputs("<p class='imp-none'>No share could be estimated: the "
		      "objective did not vary, or no param took more than one "
		      "value.</p>\n", out);
	free(b);
	return est > 0;
}

/* The trials that got verdict: their objective and searched params. */
static int
verdict_table(FILE *out, const cJSON *sw, const cJSON *trials,
	      const char *verdict)
{
	const char *names[16];
	int np = report_searched_params(sw, trials, names, 16), shown = 0, more = 0;
	const cJSON *t;

	if (np < 0)
		return np;
	fputs("<table class='trials imp-trials'><thead><tr><th>#</th><th>objective"
	      "</th>", out);
	for (int i = 0; i < np; i++) {
		fputs("<th>", out);
		report_esc(out, names[i]);
		fputs("</th>", out);
	}
	fputs("</tr></thead><tbody>\n", out);
	cJSON_ArrayForEach(t, trials) {
		const char *v = report_trial_verdict(t);
		if (!v || strcmp(v, verdict) != 0)
			continue;
		if (shown == IMP_MAX_ROWS) {
			more++;
			continue;
		}
		fprintf(out, "<tr><td class='n'>%.0f</td><td class='n'>",
			fmt_jnum(t, "number", 0));
		if (report_value(out, fmt_jget(t, "objective")) < 0)
			return -ENOMEM;
		for (int i = 0; i < np; i++) {
			fputs("</td><td>", out);
			if (report_value(out, fmt_jget(fmt_jget(t, "params"), names[i])) < 0)
				return -ENOMEM;
		}
		fputs("</td></tr>\n", out);
		shown++;
	}
	fputs("</tbody></table>\n", out);
	if (more)
		fprintf(out, "<p class='legend'>and %d more.</p>\n", more);
	return 0;
}

/* One verdict of the reply: which params drive it, as bars or, for a
 * verdict few trials got, the table of those trials. 1 when it drew
 * bars, 0 when it did not, or -ENOMEM. */
static int
verdict_part(FILE *out, const cJSON *sw, const cJSON *trials, const cJSON *v)
{
	const char *verdict = fmt_jstr(v, "verdict", "?");
	int k = (int)fmt_jnum(v, "trials", 0), of = (int)fmt_jnum(v, "of", 0), n, est;
	struct bar *b = calloc(IMP_MAX_BARS, sizeof *b);
	char what[160];
	int rc = 0;

	if (!b)
		return -ENOMEM;
	n = bars_collect(fmt_jget(v, "params"), b, IMP_MAX_BARS, &est);
	fputs("<h3 class='imp-verdict'>", out);
	report_badge(out, verdict);
	fprintf(out, " %d of %d diagnosed trials</h3>\n", k, of);
	if (k >= IMP_FEW && est > 0) {
		snprintf(what, sizeof what, "share of the variance of diagnosed %s "
			 "by param", verdict);
		bars_draw(out, b, n, report_verdict_color(verdict), what);
		rc = 1;
	} else {
		fprintf(out, "<p>%s: too few to say which params drive it; the "
			"trial%s:</p>\n", k < IMP_FEW ? (k == 1 ? "Only one trial" :
			"Only a few trials") : "No share could be estimated",
			k == 1 ? "" : "s");
		rc = verdict_table(out, sw, trials, verdict);
	}
	free(b);
	return rc;
}

int
report_importance(FILE *out, const cJSON *sw, const cJSON *trials,
		  const cJSON *imp)
{
	const cJSON *v, *verdicts = fmt_jget(imp, "verdicts");
	int rc, drawn;

	fputs("<h2 id='importance'>What mattered</h2>\n", out);
	if (!cJSON_IsObject(imp)) {
		fputs("<p class='imp-none'>The daemon gave no importance", out);
		if (cJSON_IsString(imp)) {
			fputs(": ", out);
			report_esc(out, imp->valuestring);
		}
		fputs(".</p>\n", out);
		return 0;
	}
	if ((drawn = objective_bars(out, sw, imp)) < 0)
		return drawn;
	if (cJSON_GetArraySize(verdicts) > 0)
		fputs("<h3>Verdicts</h3>\n<p>For each verdict some but not all "
		      "diagnosed trials got, each param's share of the variance of "
		      "\"the trial was diagnosed so\" (0 or 1): the params that "
		      "drive it.</p>\n", out);
	else if (drawn)
		fputs("<p>No verdict to explain: no trial was diagnosed, or every "
		      "diagnosed trial got the same verdict.</p>\n", out);
	cJSON_ArrayForEach(v, verdicts) {
		if ((rc = verdict_part(out, sw, trials, v)) < 0)
			return rc;
		drawn |= rc;
	}
	if (drawn)
		fputs("<p class='legend'>A share is a param's main effect, "
		      "Var(E[value | param]) / Var(value), on one scale from 0 to 1 "
		      "in every chart; shares need not sum to 1 (the rest is "
		      "interactions and noise). With TPE the params are correlated "
		      "by the search: read the shares as a hint. Not estimable: a "
		      "param with one value only, or no variance.</p>\n", out);
	return 0;
}
