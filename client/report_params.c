/*
 * report_params.c: the HTML report's "Objective vs hyperparameters"
 * section (report_impl.h), one scatter per searched param, and the
 * searched params and their categories the other sections use.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

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
cJSON *
report_categories(const cJSON *trials, const char *param, const cJSON *dist)
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

int
report_category_index(const cJSON *cats, const cJSON *v)
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
	if (!report_objective_range(trials, &lo, &hi, &nmax))
		return 0;
	if (!numeric) {
		if (!(cats = report_categories(trials, param, dist)))
			return -ENOMEM;
		xlo = -0.5;
		xhi = cJSON_GetArraySize(cats) - 0.5;
		logx = 0;
	}
	if (!isfinite(xlo))
		goto out;
	report_scale_fit(&x, xlo, xhi, logx && xlo > 0, 50, 330);
	report_scale_fit(&y, lo, hi, 0, 180, 12);
	fputs("<svg viewBox='0 0 340 220' width='340' height='220'>\n", out);
	snprintf(xlabel, sizeof xlabel, "%s%s", param, x.log ? " (log scale)" : "");
	report_axes_n(out, &x, &y, xlabel, metric, numeric, 5);
	if (!numeric) {
		const cJSON *c;
		int i = 0;

		/* each label within its category's width (about 6.5 px a character) */
		size_t max = (size_t)fmax(3, (x.p1 - x.p0) / cJSON_GetArraySize(cats) / 6.5);

		cJSON_ArrayForEach(c, cats) {
			fprintf(out, "<text x='%.1f' y='%.1f' class='xt'>", report_sc(&x, i),
				y.p0 + 15);
			report_cut(out, c->valuestring, max);
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
			px = report_sc(&x, v->valuedouble);
		} else {
			int ci = report_category_index(cats, v);
			if (ci < 0)
				continue;
			px = report_sc(&x, ci + jitter(fmt_jnum(t, "number", 0)));
		}
		report_dot(out, px, report_sc(&y, o), t, o);
	}
	fputs("</svg>\n", out);
out:
	cJSON_Delete(cats);
	return rc;
}

/* The params worth a chart or an axis: every param the spec searches
 * over; without a spec (an external trainer's enqueued params, say),
 * every param that varies. In the order trials first have them, so a
 * conditional param the first trial lacks is there too. Fills names
 * (borrowed from trials); -ENOMEM when out of memory. */
int
report_searched_params(const cJSON *sw, const cJSON *trials, const char **names, int max)
{
	const cJSON *space = fmt_jget(fmt_jget(sw, "spec"), "space"), *t, *p;
	cJSON *seen = cJSON_CreateObject();   /* names looked at (owned) */
	int n = 0;

	if (!seen)
		return -ENOMEM;
	cJSON_ArrayForEach(t, trials) {
		cJSON_ArrayForEach(p, fmt_jget(t, "params")) {
			if (n == max)
				break;
			if (!p->string || cJSON_GetObjectItemCaseSensitive(seen, p->string))
				continue;
			if (!cJSON_AddNullToObject(seen, p->string)) {
				cJSON_Delete(seen);
				return -ENOMEM;
			}
			if (is_distribution(fmt_jget(space, p->string)) ||
			    varies(trials, p->string))
				names[n++] = p->string;
		}
	}
	cJSON_Delete(seen);
	return n;
}

int
report_params(FILE *out, const cJSON *sw, const cJSON *trials)
{
	const cJSON *space = fmt_jget(fmt_jget(sw, "spec"), "space");
	const char *metric = fmt_jstr(fmt_jget(sw, "objective"), "metric", "objective");
	const char *names[64];
	int drawn = report_searched_params(sw, trials, names, 64);

	if (drawn < 0)
		return drawn;
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
