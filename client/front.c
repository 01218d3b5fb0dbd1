/*
 * front.c: the Pareto front as text (front.h).
 */
#include "client/front.h"

#include <string.h>

#include "client/fmt.h"

/* The name of objective j (from 0) of spec, or NULL. */
static const char *
objective_name(const cJSON *spec, int j, const char **mode)
{
	const cJSON *o = cJSON_GetArrayItem(fmt_jget(spec, "objectives"), j);

	*mode = fmt_jstr(o, "mode", NULL);
	return fmt_jstr(o, "metric", NULL);
}

static void
header(FILE *out, const cJSON *front, const cJSON *spec)
{
	int n = cJSON_GetArraySize(front), k = 0;
	const cJSON *first = cJSON_GetArrayItem(front, 0);

	fprintf(out, "Pareto front: %d trial%s", n, n == 1 ? "" : "s");
	k = cJSON_GetArraySize(fmt_jget(spec, "objectives"));
	for (int j = 0; j < k; j++) {
		const char *mode, *name = objective_name(spec, j, &mode);
		fprintf(out, "%s%s %s", j ? ", " : " (", name ? name : "?",
			mode ? mode : "");
	}
	fputs(k ? ")" : "", out);
	if (!first)
		fputs(": no completed trial has every objective", out);
	fputc('\n', out);
}

int
show_front(FILE *out, const cJSON *front, const cJSON *spec)
{
	const cJSON *t;

	if (!cJSON_IsArray(front))
		return 0;
	header(out, front, spec);
	cJSON_ArrayForEach(t, front) {
		const cJSON *v;
		int j = 0;

		fprintf(out, "  #%.0f ", fmt_jnum(t, "number", 0));
		cJSON_ArrayForEach(v, fmt_jget(t, "values")) {
			const char *mode, *name = objective_name(spec, j, &mode);
			char num[64], dflt[32];

			if (!name) {
				snprintf(dflt, sizeof dflt, "objective %d", j + 1);
				name = dflt;
			}
			fprintf(out, " %s %s", name,
				fmt_jnumber(num, sizeof num, v, "-"));
			j++;
		}
		fputc('\n', out);
	}
	return ferror(out) ? -1 : 0;
}
