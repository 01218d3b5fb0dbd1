/*
 * show.c: tables and summaries for people. Layout choices worth knowing:
 * key/value blocks use one fixed key column (KEYW) so the values line up
 * across sections; tables size their columns from the data (fmt_table).
 */
#include "client/show.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "common/json.h"
#include "common/vocab.h"

#define KEYW 12          /* key column of key/value blocks */
#define PARAM_W 14       /* longest param value in tables before "…" */
#define WRAP_COL 80      /* key/value blocks wrap their values here */

/* Metrics in the order people expect them; others follow in the order
 * they first appear. */
static const char *const std_metrics[] = {
	"train_loss", "val_loss", "train_acc", "val_acc", "lr", "seconds",
};
#define N_STD (sizeof std_metrics / sizeof std_metrics[0])

/* "  key" padded to w columns, then the cleaned value, wrapped at spaces
 * so that no line passes WRAP_COL (continuation lines are indented to the
 * value column); a single word longer than that stays whole. */
static void
kv_w(FILE *out, int w, const char *key, const char *val)
{
	size_t col = 2 + (size_t)w, avail = WRAP_COL - col, used = 0;
	const char *p = val ? val : "-";

	fprintf(out, "  %-*s", w, key);
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);
		char *word = strndup(p, n);

		if (!word)
			break;
		if (used && used + 1 + fmt_width(word) > avail) {
			fputc('\n', out);
			fmt_pad(out, col);
			used = 0;
		} else if (used) {
			fputc(' ', out);
			used++;
		}
		fmt_puts_clean(out, word);
		used += fmt_width(word);
		free(word);
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void
kv(FILE *out, const char *key, const char *val)
{
	kv_w(out, KEYW, key, val);
}

static double
counts_get(const cJSON *sum, enum trial_status st)
{
	return fmt_jnum(fmt_jget(sum, "counts"), vocab_trial_name(st), 0);
}

/* Ended trials: everything but queued and running. */
static double
done_count(const cJSON *sum)
{
	double n = 0;

	for (int i = 0; i < TRIAL_N_STATUS; i++)
		if (vocab_trial_ended((enum trial_status)i))
			n += counts_get(sum, (enum trial_status)i);
	return n;
}

/* "val_acc=0.8812 (#4)" for a summary's "best", "-" without one. */
static void
best_cell(char *buf, size_t len, const cJSON *sum)
{
	const cJSON *best = fmt_jget(sum, "best");
	const char *metric = fmt_jstr(fmt_jget(sum, "objective"), "metric",
				      "objective");
	char v[FMT_NUM_MAX];

	if (!cJSON_IsObject(best)) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_jnumber(v, sizeof v, fmt_jget(best, "objective"), "-");
	snprintf(buf, len, "%s=%s (#%.0f)", metric, v,
		 fmt_jnum(best, "number", 0));
}

/* "16 failed: exited with status 1: ..." for one group of "failures". */
static void
failure_line(char *buf, size_t len, const cJSON *f)
{
	snprintf(buf, len, "%.0f failed: %s", fmt_jnum(f, "count", 0),
		 fmt_jstr(f, "message", "-"));
}

/* Under the table, the largest group of failures of each sweep that has
 * any: the why of a failed sweep without `status` for each. */
static void
sweeps_failures(FILE *out, const cJSON *sweeps)
{
	const cJSON *s;
	int first = 1;
	char line[1024];

	cJSON_ArrayForEach(s, sweeps) {
		const cJSON *f = cJSON_GetArrayItem(fmt_jget(s, "failures"), 0);
		char id[FMT_NUM_MAX], key[FMT_NUM_MAX + 16];

		if (!cJSON_IsObject(f))
			continue;
		if (first)
			fputs("\nfailures (the largest group of each sweep):\n", out);
		first = 0;
		fmt_jnumber(id, sizeof id, fmt_jget(s, "id"), "-");
		snprintf(key, sizeof key, "sweep %s:", id);
		failure_line(line, sizeof line, f);
		kv_w(out, (int)strlen(key) + 1, key, line);
	}
}

int
show_sweeps(FILE *out, const cJSON *sweeps, time_t now)
{
	static const char *const head[] = {
		"ID", "NAME", "STATUS", "DONE/TOTAL", "RUNNING", "BEST", "CREATED",
	};
	struct fmt_table *t;
	const cJSON *s;
	int rc = 0;

	if (cJSON_GetArraySize(sweeps) == 0) {
		fputs("no sweeps\n", out);
		return 0;
	}
	if (!(t = fmt_table_new(7, head)))
		return -ENOMEM;
	fmt_table_right(t, 0);
	fmt_table_right(t, 3);
	fmt_table_right(t, 4);
	cJSON_ArrayForEach(s, sweeps) {
		char id[FMT_NUM_MAX], done[2 * FMT_NUM_MAX + 2], run[FMT_NUM_MAX];
		char tot[FMT_NUM_MAX], best[256], when[FMT_NUM_MAX];
		const char *row[7];

		fmt_jnumber(id, sizeof id, fmt_jget(s, "id"), "-");
		fmt_jnumber(tot, sizeof tot, fmt_jget(s, "trials_total"), "-");
		snprintf(done, sizeof done, "%.0f/%s", done_count(s), tot);
		fmt_double(run, sizeof run, counts_get(s, TRIAL_RUNNING));
		best_cell(best, sizeof best, s);
		fmt_when(when, sizeof when, fmt_jnum(s, "created_at", 0), now);
		row[0] = id;
		row[1] = fmt_jstr(s, "name", "-");
		row[2] = fmt_jstr(s, "status", "-");
		row[3] = done;
		row[4] = run;
		row[5] = best;
		row[6] = when;
		if ((rc = fmt_table_add(t, row)) < 0)
			goto out;
	}
	fmt_table_print(t, out);
	sweeps_failures(out, sweeps);
out:
	fmt_table_free(t);
	return rc;
}

/* "10 completed, 1 failed, ..." over the states with a non-zero count
 * (all six when every count is zero would say nothing: "none"). */
static void
counts_line(char *buf, size_t len, const cJSON *sum)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < TRIAL_N_STATUS && used < len; i++) {
		const char *name = vocab_trial_name((enum trial_status)i);
		double n = counts_get(sum, (enum trial_status)i);
		if (n > 0)
			used += (size_t)snprintf(buf + used, len - used, "%s%.0f %s",
						 used ? ", " : "", n, name);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* "good_fit 3, overfitting 2" from the verdicts object. */
static void
verdicts_line(char *buf, size_t len, const cJSON *verdicts)
{
	const cJSON *v;
	size_t used = 0;

	buf[0] = '\0';
	if (!cJSON_IsObject(verdicts))
		verdicts = NULL;
	cJSON_ArrayForEach(v, verdicts) {
		if (used >= len)
			break;
		used += (size_t)snprintf(buf + used, len - used, "%s%s %.0f",
					 used ? ", " : "", v->string,
					 cJSON_IsNumber(v) ? v->valuedouble : 0);
	}
	if (!buf[0])
		snprintf(buf, len, "none yet");
}

/* Each string of arr as "    - text". */
static void
bullets(FILE *out, const cJSON *arr, const char *indent)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, arr) {
		if (!cJSON_IsString(a))
			continue;
		fprintf(out, "%s- ", indent);
		fmt_puts_clean(out, a->valuestring);
		fputc('\n', out);
	}
}

/* "created 2026-11-26 12:00, ran 5m12s" style line for a sweep or trial:
 * the duration runs to ended_at, or to now while not ended. */
static void
span_line(char *buf, size_t len, const cJSON *o, const char *start_key,
	  time_t now)
{
	double t0 = fmt_jnum(o, start_key, 0), t1 = fmt_jnum(o, "ended_at", 0);
	char a[FMT_NUM_MAX], b[FMT_NUM_MAX], d[FMT_NUM_MAX];

	if (t0 <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_when(a, sizeof a, t0, now);
	if (t1 > 0)
		snprintf(buf, len, "%s, ended %s (%s)", a,
			 fmt_when(b, sizeof b, t1, now),
			 fmt_duration(d, sizeof d, t1 - t0));
	else
		snprintf(buf, len, "%s (%s so far)", a,
			 fmt_duration(d, sizeof d, (double)now - t0));
}

static int
show_best_short(FILE *out, const cJSON *best, const char *metric)
{
	const cJSON *d = fmt_jget(best, "diagnosis");
	char v[FMT_NUM_MAX], ep[FMT_NUM_MAX], line[256];
	char *params;

	fmt_jnumber(v, sizeof v, fmt_jget(best, "objective"), "-");
	fmt_jnumber(ep, sizeof ep, fmt_jget(best, "best_epoch"), "-");
	fprintf(out, "best trial #%.0f\n", fmt_jnum(best, "number", 0));
	snprintf(line, sizeof line, "%s=%s at epoch %s", metric, v, ep);
	kv(out, "objective", line);
	if (!(params = fmt_params(fmt_jget(best, "params"), 0, NULL)))
		return -ENOMEM;
	kv(out, "params", params);
	free(params);
	if (cJSON_IsObject(d))
		kv(out, "verdict", fmt_jstr(d, "verdict", "-"));
	return 0;
}

/* The groups of failed trials, largest first, and how many failed in
 * groups the reply left out. */
static void
failures_block(FILE *out, const cJSON *sw)
{
	const cJSON *f;
	double shown = 0;
	char line[1024];
	const char *key = "failures";

	cJSON_ArrayForEach(f, fmt_jget(sw, "failures")) {
		failure_line(line, sizeof line, f);
		kv(out, key, line);
		key = "";
		shown += fmt_jnum(f, "count", 0);
	}
	if (shown > 0 && counts_get(sw, TRIAL_FAILED) > shown) {
		snprintf(line, sizeof line, "%.0f more failed in other ways "
			 "(sweepctl trials)", counts_get(sw, TRIAL_FAILED) - shown);
		kv(out, key, line);
	}
}

/* What each trial holds, when the spec asks for more than the default of
 * one CPU (what the daemon has free: sweepctl stats). */
static void
resources_line(FILE *out, const cJSON *sw)
{
	const cJSON *res = fmt_jget(fmt_jget(sw, "spec"), "resources");
	double cpus = fmt_jnum(res, "cpus", 1), gpus = fmt_jnum(res, "gpus", 0);
	char line[128];

	if (cpus == 1 && gpus == 0)
		return;
	snprintf(line, sizeof line, "%.0f CPU%s, %.0f GPU%s per trial", cpus,
		 cpus == 1 ? "" : "s", gpus, gpus == 1 ? "" : "s");
	kv(out, "resources", line);
}

int
show_sweep(FILE *out, const cJSON *sw, time_t now)
{
	const cJSON *obj = fmt_jget(sw, "objective");
	const char *metric = fmt_jstr(obj, "metric", "objective");
	const cJSON *best = fmt_jget(sw, "best_trial");
	char line[1024], tot[FMT_NUM_MAX];

	fprintf(out, "sweep %.0f: ", fmt_jnum(sw, "id", 0));
	fmt_puts_clean(out, fmt_jstr(sw, "name", "-"));
	fputc('\n', out);
	kv(out, "status", fmt_jstr(sw, "status", "-"));
	if (fmt_jstr(sw, "error", NULL))
		kv(out, "error", fmt_jstr(sw, "error", NULL));
	failures_block(out, sw);
	span_line(line, sizeof line, sw, "created_at", now);
	kv(out, "created", line);
	fmt_jnumber(tot, sizeof tot, fmt_jget(sw, "trials_total"), "-");
	snprintf(line, sizeof line, "%.0f/%s done, %.0f running, %.0f queued",
		 done_count(sw), tot, counts_get(sw, TRIAL_RUNNING),
		 counts_get(sw, TRIAL_QUEUED));
	kv(out, "progress", line);
	resources_line(out, sw);
	counts_line(line, sizeof line, sw);
	kv(out, "trials", line);
	snprintf(line, sizeof line, "%s (%s)", metric, fmt_jstr(obj, "mode", "-"));
	kv(out, "objective", line);
	verdicts_line(line, sizeof line, fmt_jget(sw, "verdicts"));
	kv(out, "verdicts", line);
	if (!cJSON_IsObject(best)) {
		fputs("best trial: none completed yet\n", out);
		return 0;
	}
	if (show_best_short(out, best, metric) < 0)
		return -ENOMEM;
	if (cJSON_GetArraySize(fmt_jget(sw, "advice")) > 0) {
		fputs("advice for the best trial\n", out);
		bullets(out, fmt_jget(sw, "advice"), "  ");
	}
	return 0;
}

/* "failed(timeout)" for a failed trial with an error class, else the
 * status itself. */
static void
status_cell(char *buf, size_t len, const cJSON *t)
{
	const char *st = fmt_jstr(t, "status", "-");
	const char *cls = fmt_jstr(fmt_jget(t, "error"), "class", NULL);

	if (cls && vocab_trial_parse(st) == TRIAL_FAILED)
		snprintf(buf, len, "%s(%s)", st, cls);
	else
		snprintf(buf, len, "%s", st);
}

/* Wall time of a trial: to ended_at, or to now while it runs. */
static double
trial_seconds(const cJSON *t, time_t now)
{
	double t0 = fmt_jnum(t, "started_at", 0), t1 = fmt_jnum(t, "ended_at", 0);

	if (t0 <= 0)
		return NAN;
	if (t1 <= 0)
		t1 = vocab_trial_parse(fmt_jstr(t, "status", "")) == TRIAL_RUNNING ?
		     (double)now : NAN;
	return t1 - t0;
}

static int
trial_row(struct fmt_table *tab, const cJSON *t, const cJSON *common,
	  time_t now)
{
	char num[FMT_NUM_MAX], st[128], obj[FMT_NUM_MAX], bep[FMT_NUM_MAX];
	char eps[FMT_NUM_MAX], tm[FMT_NUM_MAX];
	const char *row[8];
	char *params = fmt_params(fmt_jget(t, "params"), PARAM_W, common);
	int rc;

	if (!params)
		return -ENOMEM;
	fmt_jnumber(num, sizeof num, fmt_jget(t, "number"), "-");
	status_cell(st, sizeof st, t);
	fmt_jnumber(obj, sizeof obj, fmt_jget(t, "objective"), "-");
	fmt_jnumber(bep, sizeof bep, fmt_jget(t, "best_epoch"), "-");
	fmt_jnumber(eps, sizeof eps, fmt_jget(t, "epochs"), "-");
	fmt_duration(tm, sizeof tm, trial_seconds(t, now));
	row[0] = num;
	row[1] = st;
	row[2] = obj;
	row[3] = bep;
	row[4] = eps;
	row[5] = fmt_jstr(fmt_jget(t, "diagnosis"), "verdict", "-");
	row[6] = tm;
	row[7] = params;
	rc = fmt_table_add(tab, row);
	free(params);
	return rc;
}

int
show_trials(FILE *out, const cJSON *trials, time_t now)
{
	static const char *const head[] = {
		"#", "STATUS", "OBJECTIVE", "BEST_EP", "EPOCHS", "VERDICT",
		"TIME", "PARAMS",
	};
	struct fmt_table *tab = NULL;
	cJSON *common = NULL;
	char *same = NULL;
	const cJSON *t;
	int rc = -ENOMEM;

	if (cJSON_GetArraySize(trials) == 0) {
		fputs("no trials yet\n", out);
		return 0;
	}
	if (!(common = fmt_common_params(trials)) ||
	    !(tab = fmt_table_new(8, head)))
		goto out;
	for (size_t c = 0; c < 7; c++)
		if (c != 1 && c != 5)
			fmt_table_right(tab, c);
	cJSON_ArrayForEach(t, trials)
		if ((rc = trial_row(tab, t, common, now)) < 0)
			goto out;
	fmt_table_print(tab, out);
	rc = -ENOMEM;
	if (!(same = fmt_params(common, 0, NULL)))
		goto out;
	if (same[0]) {
		fputs("same in every trial: ", out);
		fmt_puts_clean(out, same);
		fputc('\n', out);
	}
	rc = 0;
out:
	free(same);
	fmt_table_free(tab);
	cJSON_Delete(common);
	return rc;
}

/* "  key" padded to w columns (key cleaned of control characters). */
static void
key_pad(FILE *out, const char *key, size_t w)
{
	size_t kw = fmt_width(key);

	fputs("  ", out);
	fmt_puts_clean(out, key);
	fmt_pad(out, kw < w ? w - kw : 1);
}

/* One key/value line per param, keys padded to the longest. */
static int
params_block(FILE *out, const cJSON *params)
{
	const cJSON *p;
	size_t w = KEYW;

	if (!cJSON_IsObject(params))
		params = NULL;
	cJSON_ArrayForEach(p, params)
		if (fmt_width(p->string) + 2 > w)
			w = fmt_width(p->string) + 2;
	fputs("params\n", out);
	cJSON_ArrayForEach(p, params) {
		char *v = fmt_value(p, 0);
		if (!v)
			return -ENOMEM;
		key_pad(out, p->string, w);
		fmt_puts_clean(out, v);
		fputc('\n', out);
		free(v);
	}
	return 0;
}

/* The error block of a failed trial, with the tail of its stderr. */
static void
error_block(FILE *out, const cJSON *err, const char *tail)
{
	char line[128];
	const char *s, *nl;

	fputs("error: ", out);
	fmt_puts_clean(out, fmt_jstr(err, "class", "unknown"));
	fputc('\n', out);
	if (fmt_jstr(err, "message", NULL))
		kv(out, "message", fmt_jstr(err, "message", NULL));
	if (cJSON_IsNumber(fmt_jget(err, "exit_code")) &&
	    fmt_jnum(err, "exit_code", -1) >= 0) {
		snprintf(line, sizeof line, "%.0f", fmt_jnum(err, "exit_code", 0));
		kv(out, "exit code", line);
	}
	if (fmt_jnum(err, "signal", 0) > 0) {
		snprintf(line, sizeof line, "%.0f", fmt_jnum(err, "signal", 0));
		kv(out, "signal", line);
	}
	if (!tail || !*tail)
		return;
	fputs("  stderr (tail)\n", out);
	for (s = tail; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		fputs("    | ", out);
		for (const char *c = s; c < nl; c++)
			fputc((unsigned char)*c < 0x20 || *c == 0x7f ? ' ' : *c, out);
		fputc('\n', out);
		if (!*nl)
			break;
	}
}

/* Under the evidence: what its *_end figures are (means over the last
 * smooth epochs, docs/diagnosis.md), which beside the curve's last row
 * would read as a contradiction. Nothing when there are none, or when
 * the daemon did not say (an older one). */
static void
end_note(FILE *out, const cJSON *ev)
{
	const cJSON *e;
	char line[128];
	double k = fmt_jnum(ev, "smooth", 0);
	int any = 0;

	cJSON_ArrayForEach(e, ev) {
		size_t n = e->string ? strlen(e->string) : 0;
		if (n > 4 && strcmp(e->string + n - 4, "_end") == 0)
			any = 1;
	}
	if (!any || !cJSON_IsNumber(fmt_jget(ev, "smooth")) || k < 1)
		return;
	if (k == 1)
		snprintf(line, sizeof line, "*_end: the last epoch's value");
	else
		snprintf(line, sizeof line, "*_end: the mean of the last %.0f "
			 "epochs, not the last value", k);
	kv(out, "", line);
}

/* "epochs=15 val_best_epoch=6 ..." for the numbers of evidence. */
static int
evidence_line(FILE *out, const cJSON *ev)
{
	char *s;

	if (!cJSON_IsObject(ev) || !ev->child)
		return 0;
	if (!(s = fmt_params(ev, 0, NULL)))
		return -ENOMEM;
	kv(out, "evidence", s);
	free(s);
	end_note(out, ev);
	return 0;
}

static int
diagnosis_block(FILE *out, const cJSON *d)
{
	const cJSON *tags = fmt_jget(d, "tags"), *a;
	char line[512];
	size_t used = 0;

	fputs("diagnosis: ", out);
	fmt_puts_clean(out, fmt_jstr(d, "verdict", "-"));
	fputc('\n', out);
	if (fmt_jstr(d, "reason", NULL))
		kv(out, "reason", fmt_jstr(d, "reason", NULL));
	line[0] = '\0';
	cJSON_ArrayForEach(a, tags)
		if (cJSON_IsString(a) && used < sizeof line)
			used += (size_t)snprintf(line + used, sizeof line - used,
						 "%s%s", used ? ", " : "",
						 a->valuestring);
	if (line[0])
		kv(out, "tags", line);
	if (cJSON_IsNumber(fmt_jget(d, "stop_epoch"))) {
		double past = fmt_jnum(d, "epochs_past_stop", 0);

		snprintf(line, sizeof line, "%.0f (%.0f epoch%s past it)",
			 fmt_jnum(d, "stop_epoch", 0), past, past == 1 ? "" : "s");
		kv(out, "stop epoch", line);
	}
	if (evidence_line(out, fmt_jget(d, "evidence")) < 0)
		return -ENOMEM;
	if (cJSON_GetArraySize(fmt_jget(d, "advice")) > 0) {
		fputs("  advice\n", out);
		bullets(out, fmt_jget(d, "advice"), "    ");
	}
	if (cJSON_GetArraySize(fmt_jget(d, "not_judged")) > 0) {
		fputs("  not judged\n", out);
		bullets(out, fmt_jget(d, "not_judged"), "    ");
	}
	return 0;
}

/* "promoted  from the 2-epoch rung (1 promotion)" for a trial ASHA's
 * promotion sent on; nothing for the others. */
static void
promoted_line(FILE *out, const cJSON *t)
{
	char line[128];
	double n = fmt_jnum(t, "promotions", 0);

	if (n < 1 || !cJSON_IsNumber(fmt_jget(t, "promoted_rung")))
		return;
	snprintf(line, sizeof line, "from the %.0f-epoch rung (%.0f promotion%s)",
		 fmt_jnum(t, "promoted_rung", 0), n, n == 1 ? "" : "s");
	kv(out, "promoted", line);
}

int
show_trial(FILE *out, const cJSON *t, int with_curve, time_t now)
{
	const cJSON *err = fmt_jget(t, "error"), *d = fmt_jget(t, "diagnosis");
	const cJSON *curve = fmt_jget(t, "curve");
	char a[FMT_NUM_MAX], b[FMT_NUM_MAX], line[512];

	/* a seed is an identifier: all its digits, never %.4g */
	if (cJSON_IsNumber(fmt_jget(t, "seed")))
		snprintf(a, sizeof a, "%.0f", fmt_jnum(t, "seed", 0));
	else
		snprintf(a, sizeof a, "-");
	fprintf(out, "trial %.0f (attempt %.0f, seed %s)\n",
		fmt_jnum(t, "number", 0), fmt_jnum(t, "attempt", 1), a);
	status_cell(line, sizeof line, t);
	kv(out, "status", line);
	if (fmt_jstr(t, "note", NULL))
		kv(out, "note", fmt_jstr(t, "note", NULL));
	fmt_jnumber(a, sizeof a, fmt_jget(t, "objective"), "-");
	fmt_jnumber(b, sizeof b, fmt_jget(t, "best_epoch"), "-");
	if (cJSON_IsNumber(fmt_jget(t, "objective")))
		snprintf(line, sizeof line, "%s at epoch %s of %.0f", a, b,
			 fmt_jnum(t, "epochs", 0));
	else
		snprintf(line, sizeof line, "- (%.0f epochs reported)",
			 fmt_jnum(t, "epochs", 0));
	kv(out, "objective", line);
	if (cJSON_IsNumber(fmt_jget(t, "test_loss")) ||
	    cJSON_IsNumber(fmt_jget(t, "test_acc"))) {
		fmt_jnumber(a, sizeof a, fmt_jget(t, "test_loss"), "-");
		fmt_jnumber(b, sizeof b, fmt_jget(t, "test_acc"), "-");
		snprintf(line, sizeof line, "loss %s, acc %s", a, b);
		kv(out, "test", line);
	}
	span_line(line, sizeof line, t, "started_at", now);
	kv(out, "started", line);
	promoted_line(out, t);
	if (fmt_jstr(t, "trial_dir", NULL))
		kv(out, "trial dir", fmt_jstr(t, "trial_dir", NULL));
	if (params_block(out, fmt_jget(t, "params")) < 0)
		return -ENOMEM;
	if (cJSON_IsObject(err))
		error_block(out, err, fmt_jstr(t, "stderr_tail", NULL));
	if (cJSON_IsObject(d) && diagnosis_block(out, d) < 0)
		return -ENOMEM;
	if (!with_curve || cJSON_GetArraySize(curve) == 0)
		return 0;
	fputs("curve\n", out);
	return show_curve(out, curve);
}

/* Column names for a curve: epoch, the standard metrics present, then any
 * other key in first-seen order. Returns a new array of strings. */
static cJSON *
curve_columns(const cJSON *curve)
{
	cJSON *cols = cJSON_CreateArray();
	const cJSON *e, *m;

	if (!cols)
		return NULL;
	cJSON_AddItemToArray(cols, cJSON_CreateString("epoch"));
	for (size_t i = 0; i < N_STD; i++)
		cJSON_ArrayForEach(e, curve)
			if (fmt_jget(e, std_metrics[i])) {
				cJSON_AddItemToArray(cols, cJSON_CreateString(std_metrics[i]));
				break;
			}
	cJSON_ArrayForEach(e, curve) {
		if (!cJSON_IsObject(e))
			continue;
		cJSON_ArrayForEach(m, e) {
			const cJSON *c;
			int seen = 0;

			cJSON_ArrayForEach(c, cols)
				if (strcmp(c->valuestring, m->string) == 0)
					seen = 1;
			if (!seen)
				cJSON_AddItemToArray(cols, cJSON_CreateString(m->string));
		}
	}
	return cols;
}

/* One curve cell: a number, nan for null/missing, a/b/c for an array. */
static void
curve_cell(char *buf, size_t len, const cJSON *v)
{
	const cJSON *x;
	size_t used = 0;

	if (!cJSON_IsArray(v)) {
		fmt_jnumber(buf, len, v, "nan");
		return;
	}
	buf[0] = '\0';
	cJSON_ArrayForEach(x, v) {
		if (used >= len)
			break;
		if (cJSON_IsNumber(x))
			used += (size_t)snprintf(buf + used, len - used, "%s%.2g",
						 used ? "/" : "", x->valuedouble);
		else
			used += (size_t)snprintf(buf + used, len - used, "%snan",
						 used ? "/" : "");
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

int
show_curve(FILE *out, const cJSON *curve)
{
	cJSON *cols = curve_columns(curve);
	struct fmt_table *tab = NULL;
	const char **row = NULL;
	char (*cells)[96] = NULL;
	const cJSON *e, *c;
	size_t n, i;
	int rc = -ENOMEM;

	if (!cols)
		return -ENOMEM;
	n = (size_t)cJSON_GetArraySize(cols);
	row = calloc(n, sizeof *row);
	cells = calloc(n, sizeof *cells);
	if (!row || !cells)
		goto out;
	i = 0;
	cJSON_ArrayForEach(c, cols)
		row[i++] = c->valuestring;
	if (!(tab = fmt_table_new(n, row)))
		goto out;
	for (i = 0; i < n; i++)
		fmt_table_right(tab, i);
	cJSON_ArrayForEach(e, curve) {
		i = 0;
		cJSON_ArrayForEach(c, cols) {
			curve_cell(cells[i], sizeof cells[i], fmt_jget(e, c->valuestring));
			row[i] = cells[i];
			i++;
		}
		if ((rc = fmt_table_add(tab, row)) < 0)
			goto out;
	}
	fmt_table_print(tab, out);
	rc = 0;
out:
	fmt_table_free(tab);
	free(cells);
	free(row);
	cJSON_Delete(cols);
	return rc;
}

void
show_storage(FILE *out, int w, const cJSON *reply)
{
	const cJSON *st = fmt_jget(reply, "storage");
	char line[1024], n[FMT_NUM_MAX];

	if (!st)
		return;
	if (w <= 0)
		w = KEYW;
	if (cJSON_IsTrue(fmt_jget(st, "ok"))) {
		kv_w(out, w, "storage", "ok");
		return;
	}
	snprintf(line, sizeof line, "%s: %s; no trial starts until writes go "
		 "through again (writes held in memory: %s)",
		 fmt_jstr(st, "error", "?"), fmt_jstr(st, "message", ""),
		 fmt_jnumber(n, sizeof n, fmt_jget(st, "unstored"), "0"));
	kv_w(out, w, "storage", line);
}

/* Trial starts held for want of descriptors or processes (sweepd's own
 * trouble: the trials wait in their queues). */
static void
show_spawn(FILE *out, int w, const cJSON *reply)
{
	const cJSON *sp = fmt_jget(reply, "spawn");
	char line[1024], n[FMT_NUM_MAX];

	if (!sp || cJSON_IsTrue(fmt_jget(sp, "ok")))
		return;
	snprintf(line, sizeof line, "held (%s): %s; trials wait queued, "
		 "starts retried every second (held so far: %s)",
		 fmt_jstr(sp, "error", "?"), fmt_jstr(sp, "message", ""),
		 fmt_jnumber(n, sizeof n, fmt_jget(sp, "held"), "0"));
	kv_w(out, w, "trial starts", line);
}

/* The ids of a JSON array of numbers, comma-separated ("-" for none). */
static const char *
id_list(char *buf, size_t len, const cJSON *arr)
{
	const cJSON *it;
	size_t used = 0;

	snprintf(buf, len, "-");
	cJSON_ArrayForEach(it, arr) {
		if (used < len && cJSON_IsNumber(it))
			used += (size_t)snprintf(buf + used, len - used, "%s%.0f",
						 used ? "," : "", it->valuedouble);
	}
	return buf;
}

/* CPUs and GPUs the trials hold and what is free (sweepd --cpus, --gpus). */
static void
show_resources(FILE *out, int w, const cJSON *r)
{
	const cJSON *c = fmt_jget(r, "cpus"), *g = fmt_jget(r, "gpus");
	char u[512], f[512], line[sizeof u + sizeof f + 128];

	if (cJSON_IsObject(c)) {
		snprintf(line, sizeof line, "%.0f used, %.0f free of %.0f",
			 fmt_jnum(c, "used", 0), fmt_jnum(c, "free", 0),
			 fmt_jnum(c, "total", 0));
		kv_w(out, w, "cpus", line);
	}
	if (!cJSON_IsObject(g))
		return;
	if (fmt_jnum(g, "total", 0) == 0) {
		kv_w(out, w, "gpus", "none (sweepd --gpus)");
		return;
	}
	snprintf(line, sizeof line, "%d used, %d free of %.0f (in use: %s; free: %s)",
		 cJSON_GetArraySize(fmt_jget(g, "used")),
		 cJSON_GetArraySize(fmt_jget(g, "free")), fmt_jnum(g, "total", 0),
		 id_list(u, sizeof u, fmt_jget(g, "used")),
		 id_list(f, sizeof f, fmt_jget(g, "free")));
	kv_w(out, w, "gpus", line);
}

void
show_capacity(FILE *out, const cJSON *r)
{
	const cJSON *c = fmt_jget(r, "cpus"), *g = fmt_jget(r, "gpus");
	char line[1024], gpus[256];

	if (!cJSON_IsObject(c))
		return;   /* a daemon that does not count them */
	if (cJSON_IsObject(g) && fmt_jnum(g, "total", 0) > 0)
		snprintf(gpus, sizeof gpus, "; GPUs %d used, %d free of %.0f",
			 cJSON_GetArraySize(fmt_jget(g, "used")),
			 cJSON_GetArraySize(fmt_jget(g, "free")),
			 fmt_jnum(g, "total", 0));
	else
		snprintf(gpus, sizeof gpus, "; no GPUs");
	snprintf(line, sizeof line, "CPUs %.0f used, %.0f free of %.0f%s",
		 fmt_jnum(c, "used", 0), fmt_jnum(c, "free", 0),
		 fmt_jnum(c, "total", 0), gpus);
	kv(out, "daemon", line);
}

int
show_stats(FILE *out, const cJSON *r)
{
	static const struct { const char *key, *label; } counters[] = {
		{ "open_fds", "open fds" }, { "running", "running" },
		{ "queued", "queued" }, { "trials_run", "trials run" },
		{ "sweeps_active", "sweeps active" }, { "clients", "clients" },
		{ "max_clients", "max clients" },
		{ "paused_clients", "paused clients" }, { "workers", "workers" },
	};
	char buf[FMT_NUM_MAX];
	const int w = 15;   /* "sweeps active" and a gap */

	kv_w(out, w, "uptime", fmt_duration(buf, sizeof buf, fmt_jnum(r, "uptime_s", NAN)));
	kv_w(out, w, "memory (rss)", fmt_kib(buf, sizeof buf, fmt_jnum(r, "rss_kb", NAN)));
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
		if (fmt_jget(r, counters[i].key))
			kv_w(out, w, counters[i].label,
			   fmt_jnumber(buf, sizeof buf, fmt_jget(r, counters[i].key), "-"));
	if (fmt_jget(r, "queued_output_bytes"))
		kv_w(out, w, "output queued", fmt_kib(buf, sizeof buf,
		     fmt_jnum(r, "queued_output_bytes", NAN) / 1024));
	show_resources(out, w, r);
	show_storage(out, w, r);
	show_spawn(out, w, r);
	if (cJSON_IsString(fmt_jget(r, "trial_cgroups")))
		kv_w(out, w, "trial cgroups", fmt_jstr(r, "trial_cgroups", ""));
	else if (fmt_jget(r, "trial_cgroups"))
		kv_w(out, w, "trial cgroups", "off (the subreaper alone)");
	return 0;
}

/* " name=value" for each numeric metric; metric (if present) first. */
static void
metrics_inline(FILE *out, const cJSON *metrics, const char *first)
{
	const cJSON *m;
	char v[FMT_NUM_MAX];

	if (first && cJSON_IsNumber(fmt_jget(metrics, first)))
		fprintf(out, " %s=%s", first,
			fmt_double(v, sizeof v, fmt_jnum(metrics, first, 0)));
	if (!cJSON_IsObject(metrics))
		return;
	cJSON_ArrayForEach(m, metrics) {
		if ((first && strcmp(m->string, first) == 0) ||
		    strcmp(m->string, "epoch") == 0 || cJSON_IsArray(m))
			continue;
		fputc(' ', out);
		fmt_puts_clean(out, m->string);
		fprintf(out, "=%s", fmt_jnumber(v, sizeof v, m, "nan"));
	}
}

static int
event_trial_ended(FILE *out, const cJSON *ev, const char *metric)
{
	const cJSON *err = fmt_jget(ev, "error");
	const char *verdict = fmt_jstr(fmt_jget(ev, "diagnosis"), "verdict", NULL);
	char v[FMT_NUM_MAX], b[FMT_NUM_MAX];

	const char *status = fmt_jstr(ev, "status", "ended");

	fprintf(out, "trial %.0f ", fmt_jnum(ev, "number", 0));
	fmt_puts_clean(out, status);
	if (cJSON_IsNumber(fmt_jget(ev, "objective")))
		fprintf(out, "  %s=%s (best epoch %s)", metric ? metric : "objective",
			fmt_jnumber(v, sizeof v, fmt_jget(ev, "objective"), "-"),
			fmt_jnumber(b, sizeof b, fmt_jget(ev, "best_epoch"), "-"));
	/* A pruned or cancelled trial's "error" is why it was stopped, not a
	 * fault: "why: MESSAGE", and its verdict (the same word) once. */
	if (verdict && strcmp(verdict, status) != 0) {
		fputs("  ", out);
		fmt_puts_clean(out, verdict);
	}
	if (cJSON_IsObject(err)) {
		const char *cls = fmt_jstr(err, "class", "unknown");
		const char *msg = fmt_jstr(err, "message", NULL);

		if (msg && strcmp(cls, status) == 0) {
			fputs("  why: ", out);
			fmt_puts_clean(out, msg);
			return 0;
		}
		fputs("  error ", out);
		fmt_puts_clean(out, cls);
		if (msg) {
			fputs(": ", out);
			fmt_puts_clean(out, msg);
		}
	}
	return 0;
}

int
show_event(FILE *out, const cJSON *ev, const char *metric, time_t at)
{
	const char *name = fmt_jstr(ev, "event", "?");
	char stamp[16], *s;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	fprintf(out, "[%s] ", stamp);
	if (strcmp(name, "trial_started") == 0) {
		if (!(s = fmt_params(fmt_jget(ev, "params"), PARAM_W, NULL)))
			return -ENOMEM;
		fprintf(out, "trial %.0f started (attempt %.0f%s)  ",
			fmt_jnum(ev, "number", 0), fmt_jnum(ev, "attempt", 1),
			cJSON_IsTrue(fmt_jget(ev, "pending")) ?
			", pending in Slurm's queue" : "");
		fmt_puts_clean(out, s);
		free(s);
	} else if (strcmp(name, "trial_running") == 0) {
		fprintf(out, "trial %.0f running, after %.1f s in Slurm's queue",
			fmt_jnum(ev, "number", 0), fmt_jnum(ev, "queue_s", 0));
	} else if (strcmp(name, "epoch") == 0) {
		const char *verdict = fmt_jstr(fmt_jget(ev, "diagnosis"), "verdict", NULL);

		fprintf(out, "trial %.0f epoch %.0f ", fmt_jnum(ev, "number", 0),
			fmt_jnum(ev, "epoch", 0));
		metrics_inline(out, fmt_jget(ev, "metrics"), metric);
		if (verdict) {
			fputs("  [", out);
			fmt_puts_clean(out, verdict);
			fputc(']', out);
		}
	} else if (strcmp(name, "trial_ended") == 0) {
		event_trial_ended(out, ev, metric);
	} else if (strcmp(name, "sweep_ended") == 0) {
		fprintf(out, "sweep %.0f ", fmt_jnum(ev, "sweep", 0));
		fmt_puts_clean(out, fmt_jstr(ev, "status", "ended"));
		if (fmt_jstr(ev, "error", NULL)) {
			fputs(": ", out);
			fmt_puts_clean(out, fmt_jstr(ev, "error", NULL));
		}
	} else if (strcmp(name, "sweep_paused") == 0 ||
		   strcmp(name, "sweep_resumed") == 0) {
		fprintf(out, "sweep %.0f %s", fmt_jnum(ev, "sweep", 0),
			name[6] == 'p' ? "paused" : "resumed");
	} else {
		if (!(s = json_print(ev)))
			return -ENOMEM;
		fmt_puts_clean(out, s);
		free(s);
	}
	fputc('\n', out);
	return 0;
}
