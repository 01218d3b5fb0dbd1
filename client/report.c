/*
 * report.c: the HTML report. The page is written top to bottom in one
 * pass; each section has its own function (the charts' sections in the
 * other report_*.c files, report_impl.h), each chart draws into a plain
 * <svg> with a viewBox so the browser scales it. Every string that came
 * from the daemon (names, params, messages, the spec) goes through
 * report_esc().
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

const char *
report_trial_verdict(const cJSON *t)
{
	return fmt_jstr(fmt_jget(t, "diagnosis"), "verdict", NULL);
}

/* A badge for each verdict some trial has, in the table's order. */
void
report_verdict_legend(FILE *out, const cJSON *trials)
{
	for (size_t i = 0; i < N_VERDICTS; i++) {
		const cJSON *t;
		int seen = 0;

		cJSON_ArrayForEach(t, trials)
			seen |= report_trial_verdict(t) &&
				strcmp(report_trial_verdict(t), verdict_colors[i].verdict) == 0;
		if (!seen)
			continue;
		fputs("<span>", out);
		report_badge(out, verdict_colors[i].verdict);
		fputs("</span>", out);
	}
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

void
report_num(FILE *out, double v)
{
	char b[FMT_NUM_MAX];

	fputs(fmt_double(b, sizeof b, v), out);
}

void
report_cut(FILE *out, const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0, cut = max > 1 ? max - 1 : 1;
	char buf[256];

	if (len <= max || max >= sizeof buf - 4) {
		report_esc(out, s);
		return;
	}
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(buf, s, cut);
	memcpy(buf + cut, "\xe2\x80\xa6", 4);
	report_esc(out, buf);
	fputs("<title>", out);
	report_esc(out, s);
	fputs("</title>", out);
}

/* A JSON value as text (escaped); "-" for null or missing. */
int
report_value(FILE *out, const cJSON *v)
{
	char *s;

	if (!v || cJSON_IsNull(v)) {
		fputs("-", out);
		return 0;
	}
	if (!(s = fmt_value(v, 0)))
		return -ENOMEM;
	report_esc(out, s);
	free(s);
	return 0;
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

void
report_badge(FILE *out, const char *verdict)
{
	fprintf(out, "<span class='badge' style='background:%s'>",
		report_verdict_color(verdict));
	report_esc(out, verdict ? verdict : "none");
	fputs("</span>", out);
}

static void
kv_row(FILE *out, const char *key, const char *val)
{
	fprintf(out, "<tr><th>%s</th><td>", key);
	report_esc(out, val ? val : "-");
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
	report_esc(out, fmt_jstr(sw, "name", ""));
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>sweep %.0f: ",
		css, fmt_jnum(sw, "id", 0));
	report_esc(out, fmt_jstr(sw, "name", ""));
	fprintf(out, "</h1>\n<p class='sub'>report written by sweepctl on %s</p>\n",
		when);
}

/* A local date and time, "2026-12-01 09:14:53"; "-" when unknown. */
char *
report_stamp(char *buf, size_t len, double t)
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
	kv_row(out, "created", report_stamp(a, sizeof a, t0));
	if (t1 > 0) {
		snprintf(line, sizeof line, "%s (ran %s)", report_stamp(a, sizeof a, t1),
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
			report_badge(out, v->string);
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
			report_esc(out, p->string);
			fputs("</th><td>", out);
			if (report_value(out, p) < 0)
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
		report_esc(out, a->valuestring);
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
	report_esc(out, metric);
	fprintf(out, " = %s at epoch %s of %.0f &nbsp; ",
		fmt_jnumber(a, sizeof a, fmt_jget(t, "objective"), "-"),
		fmt_jnumber(b, sizeof b, fmt_jget(t, "best_epoch"), "-"),
		fmt_jnum(t, "epochs", 0));
	report_badge(out, report_trial_verdict(t));
	if (cJSON_IsNumber(fmt_jget(t, "test_acc")))
		fprintf(out, " &nbsp; test_acc %s",
			fmt_jnumber(a, sizeof a, fmt_jget(t, "test_acc"), "-"));
	fputs("</p>\n", out);
	if (params_table(out, fmt_jget(t, "params")) < 0)
		return -ENOMEM;
	if (cJSON_IsObject(d)) {
		if (fmt_jstr(d, "reason", NULL)) {
			fputs("<p>", out);
			report_esc(out, fmt_jstr(d, "reason", NULL));
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
		report_esc(out, c);
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
		  const cJSON *epochs, const cJSON *imp)
{
	struct report_curves *cv = NULL;
	int rc;

	if ((rc = report_curves_build(sw, trials, epochs, &cv)) < 0)
		return rc;
	summary(out, sw);
	if ((rc = best(out, sw)) < 0 || (rc = report_failures(out, sw, trials)) < 0)
		goto out;
	report_history(out, sw, trials);
	if ((rc = report_front(out, sw, trials, epochs)) < 0)
		goto out;
	report_overlay(out, sw, trials, cv);
	report_learning_curves(out, sw, trials, cv);
	if ((rc = report_importance(out, sw, trials, imp)) < 0 ||
	    (rc = report_params(out, sw, trials)) < 0 ||
	    (rc = report_parcoords(out, sw, trials, epochs)) < 0 ||
	    (rc = report_trial_table(out, trials)) < 0 ||
	    (rc = spec_section(out, sw)) < 0)
		goto out;
	rc = 0;
out:
	report_curves_free(cv);
	return rc;
}

int
report_write(FILE *out, const cJSON *sw, const cJSON *trials,
	     const cJSON *epochs, const cJSON *imp, time_t now)
{
	int rc;

	head(out, sw, now);
	if ((rc = report_write_body(out, sw, trials, epochs, imp)) < 0)
		return rc;
	fprintf(out, "<script>\n%s\nsweepdSortable(document);\n</script>\n",
		report_script());
	fputs("</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
