/*
 * report_table.c: the HTML report's tables (report_impl.h): the failures
 * grouped by kind and the sortable table of the trials.
 */
#include "client/report_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"
#include "common/vocab.h"

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
	report_esc(out, fmt_jstr(f, "class", "error"));
	fputs("</td><td>", out);
	report_esc(out, fmt_jstr(f, "message", ""));
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

int
report_failures(FILE *out, const cJSON *sw, const cJSON *trials)
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
			fprintf(out, " title='%s to %s'", report_stamp(a, sizeof a, t0),
				report_stamp(b, sizeof b, t1));
		fputc('>', out);
		report_num(out, v->valuedouble);
		fputs("</td>", out);
	} else {
		fputs("<td class='n' data-v=''>-</td>", out);
	}
}

/* The table's header row: the fixed columns, then one per param that
 * differs between trials (first: an object with a member per column). */
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
			report_esc(out, p->string);
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
		report_esc(out, fmt_jstr(err, "message", ""));
		fputs("'>", out);
		report_esc(out, fmt_jstr(err, "class", "error"));
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
	report_esc(out, fmt_jstr(t, "status", "-"));
	fputs("</td>", out);
	cell_num(out, fmt_jget(t, "objective"), 0, 0);
	cell_num(out, fmt_jget(t, "best_epoch"), 0, 0);
	cell_num(out, fmt_jget(t, "epochs"), 0, 0);
	fputs("<td>", out);
	if (report_trial_verdict(t))
		report_badge(out, report_trial_verdict(t));
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
			if (report_value(out, v) < 0)
				return -ENOMEM;
			fputs("</td>", out);
		}
	fputs("</tr>\n", out);
	return 0;
}

/* Every param some trial has, in the order trials first have them (a
 * conditional param the first trial lacks gets its column too): a new
 * object of nulls, or NULL. */
static cJSON *
param_columns(const cJSON *trials)
{
	cJSON *cols = cJSON_CreateObject();
	const cJSON *t, *p;

	cJSON_ArrayForEach(t, trials)
		cJSON_ArrayForEach(p, fmt_jget(t, "params"))
			if (cols && p->string &&
			    !cJSON_GetObjectItemCaseSensitive(cols, p->string) &&
			    !cJSON_AddNullToObject(cols, p->string)) {
				cJSON_Delete(cols);
				cols = NULL;
			}
	return cols;
}

int
report_trial_table(FILE *out, const cJSON *trials)
{
	cJSON *cols = param_columns(trials);
	/* Params the same in every trial get no column (the constant epochs
	 * would sit beside the reported "epochs"); they are listed once
	 * under the table instead, as `sweepctl trials` does. */
	cJSON *same = fmt_common_params(trials);
	const cJSON *t;
	char *same_txt;
	int rc = -ENOMEM;

	if (!same || !cols)
		goto out;
	trial_table_head(out, cols, same);
	cJSON_ArrayForEach(t, trials)
		if (trial_table_row(out, t, cols, same) < 0)
			goto out;
	fputs("</tbody>\n</table></div>\n", out);
	if (cJSON_GetArraySize(same) > 0) {
		if (!(same_txt = fmt_params(same, 0, NULL)))
			goto out;
		fputs("<p class='legend'>Same in every trial: ", out);
		report_esc(out, same_txt);
		fputs("</p>\n", out);
		free(same_txt);
	}
	rc = 0;
out:
	cJSON_Delete(cols);
	cJSON_Delete(same);
	return rc;
}
