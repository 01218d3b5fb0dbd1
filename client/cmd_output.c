/*
 * cmd_output.c: the sweepctl commands that turn a sweep into something
 * other than a reply on screen: `curve` (terminal charts, plot.c),
 * `export` (CSV/JSON, export.c) and `report` (HTML, report.c). Each
 * fetches what it needs with a few requests on one connection.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "client/cmd_output.h"
#include "client/export.h"
#include "client/fmt.h"
#include "client/plot.h"
#include "client/report.h"

#define CURVE_HEIGHT 10    /* rows per chart by default */

/* Sends op for sweep (and number) and returns the reply member key,
 * detached into *out (the caller's). Returns 0 or an exit code. */
static int
fetch(struct ctl *c, const char *op, long long sweep, long long number,
      const char *key, cJSON **out)
{
	cJSON *req = ctl_request(op, sweep, number), *reply = NULL;
	char *line;
	size_t len;
	int rc;

	*out = NULL;
	if (!req)
		return ctl_oom();
	rc = ctl_call(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	if (rc != 0)
		return rc;
	*out = cJSON_DetachItemFromObjectCaseSensitive(reply, key);
	cJSON_Delete(reply);
	if (!*out) {
		ctl_err("the %s reply from sweepd has no \"%s\"", op, key);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* Every epoch row of the sweep: the daemon sends them a page per request
 * (docs/DESIGN.md), each page's "next" is the next request's "after". */
static int
fetch_epochs(struct ctl *c, long long sweep, cJSON **out)
{
	cJSON *all = cJSON_CreateArray(), *after = NULL, *req, *reply;
	char *line;
	size_t len;
	int rc = 0;

	if (!all)
		return ctl_oom();
	do {
		if (!(req = ctl_request("epochs", sweep, 0))) {
			cJSON_Delete(after);
			rc = ctl_oom();
			break;
		}
		if (after)
			cJSON_AddItemToObject(req, "after", after);
		rc = ctl_call(c, req, &reply, &line, &len);
		cJSON_Delete(req);
		if (rc == 0 && export_take_epochs_page(reply, all, &after) < 0) {
			ctl_err("the epochs reply from sweepd has no \"epochs\" "
				"page");
			rc = CTL_EXIT_FAIL;
		}
	} while (rc == 0 && after);
	if (rc != 0) {
		cJSON_Delete(all);
		all = NULL;
	}
	*out = all;
	return rc;
}

/* A positive size option, or dflt when not given. */
static int
size_opt(const char *s, const char *name, int lo, int hi, int dflt, int *out)
{
	char *end;
	long v;

	if (!s) {
		*out = dflt;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi) {
		ctl_err("%s must be an integer from %d to %d, got \"%s\"", name, lo,
			hi, s);
		return CTL_EXIT_USAGE;
	}
	*out = (int)v;
	return 0;
}

/* Plot width from the terminal when stdout is one, else 60. */
static int
default_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 30)
		return ws.ws_col - 14 > 160 ? 160 : ws.ws_col - 14;
	return 60;
}

/* Colour only on a terminal that wants it (https://no-color.org). */
static int
want_color(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term &&
	       strcmp(term, "dumb") != 0;
}

/* The curve's values of key, as doubles (NAN where missing), in *out
 * (malloc'ed, n entries). Returns how many are finite, or -ENOMEM. */
static int
column(const cJSON *curve, const char *key, double **out)
{
	int n = cJSON_GetArraySize(curve), finite = 0, i = 0;
	const cJSON *e;

	*out = calloc(n > 0 ? (size_t)n : 1, sizeof **out);
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(e, curve) {
		(*out)[i] = fmt_jnum(e, key, NAN);
		finite += isfinite((*out)[i]);
		i++;
	}
	return finite;
}

/*
 * One chart of up to two metrics against the epoch: `line` drawn as a
 * plain line, `marked` as a line with a dot per epoch (the validation
 * side, the one early stopping and the objective look at).
 */
static int
chart(const cJSON *curve, const double *epoch, const char *title,
      const char *line_key, const char *marked_key, struct plot_opts *o)
{
	struct plot_series s[2];
	double *a = NULL, *b = NULL;
	size_t ns = 0, n = (size_t)cJSON_GetArraySize(curve);
	int rc;

	if (line_key && (rc = column(curve, line_key, &a)) < 0)
		goto out;
	if (line_key && rc > 0)
		s[ns++] = (struct plot_series){ .label = line_key, .x = epoch,
			.y = a, .n = n, .color = 34 };
	if (marked_key && (rc = column(curve, marked_key, &b)) < 0)
		goto out;
	if (marked_key && rc > 0)
		s[ns++] = (struct plot_series){ .label = marked_key, .x = epoch,
			.y = b, .n = n, .mark = "\xe2\x80\xa2", .color = 31 };
	rc = 0;
	if (!ns)
		goto out;
	o->title = title;
	putchar('\n');
	rc = plot_render(stdout, o, s, ns);
	if (rc == -ENODATA) {
		printf("%s: no finite values to draw\n", title);
		rc = 0;
	}
out:
	free(a);
	free(b);
	return rc;
}

/* "train_acc" for "val_acc": the training twin of a validation metric. */
static void
train_twin(char *buf, size_t len, const char *metric)
{
	buf[0] = '\0';
	if (strncmp(metric, "val_", 4) == 0)
		snprintf(buf, len, "train_%s", metric + 4);
}

static void
curve_header(long long sweep, const cJSON *t)
{
	const cJSON *d = fmt_jget(t, "diagnosis");
	char a[FMT_NUM_MAX];

	printf("sweep %lld trial %.0f: ", sweep, fmt_jnum(t, "number", 0));
	fmt_puts_clean(stdout, fmt_jstr(t, "status", "-"));
	if (!cJSON_IsObject(d)) {
		puts(", not diagnosed");
		return;
	}
	fputs(", verdict ", stdout);
	fmt_puts_clean(stdout, fmt_jstr(d, "verdict", "-"));
	if (cJSON_IsNumber(fmt_jget(d, "stop_epoch"))) {
		double past = fmt_jnum(d, "epochs_past_stop", 0);

		printf(", early stopping point at epoch %s (%.0f epoch%s past it)",
		       fmt_jnumber(a, sizeof a, fmt_jget(d, "stop_epoch"), "-"),
		       past, past == 1 ? "" : "s");
	}
	putchar('\n');
	if (fmt_jstr(d, "reason", NULL)) {
		fputs("  ", stdout);
		fmt_puts_clean(stdout, fmt_jstr(d, "reason", NULL));
		putchar('\n');
	}
}

int
ctl_cmd_curve(struct ctl *c, struct ctl_args *a)
{
	cJSON *t = NULL, *sw = NULL;
	const cJSON *curve, *d;
	struct plot_opts o = { .logy = -1, .vline = NAN };
	char metric[128], twin[140], title[256], stop[32];
	double *epoch = NULL;
	int rc;

	if ((rc = size_opt(a->width, "--width", 20, 400, default_width(), &o.width)) ||
	    (rc = size_opt(a->height, "--height", 3, 100, CURVE_HEIGHT, &o.height)))
		return rc;
	if (c->json) {
		/* the raw trial reply: the curve is in it */
		cJSON *req = ctl_request("trial", a->sweep, a->number), *reply = NULL;
		char *line;
		size_t len;

		if (!req)
			return ctl_oom();
		rc = ctl_call(c, req, &reply, &line, &len);
		if (rc == 0)
			ctl_put_line(line, len);
		cJSON_Delete(req);
		cJSON_Delete(reply);
		return rc;
	}
	if ((rc = fetch(c, "trial", a->sweep, a->number, "trial", &t)) ||
	    (rc = fetch(c, "sweep", a->sweep, 0, "sweep", &sw)))
		goto out;
	snprintf(metric, sizeof metric, "%s", fmt_jstr(fmt_jget(sw, "objective"),
						       "metric", "val_acc"));
	train_twin(twin, sizeof twin, metric);
	curve = fmt_jget(t, "curve");
	d = fmt_jget(t, "diagnosis");
	curve_header(a->sweep, t);
	if (cJSON_GetArraySize(curve) == 0) {
		puts("no epochs reported");
		goto out;
	}
	if ((rc = column(curve, "epoch", &epoch)) < 0)
		goto oom;
	o.color = want_color();
	if (cJSON_IsNumber(fmt_jget(d, "stop_epoch"))) {
		o.vline = fmt_jnum(d, "stop_epoch", 0);
		snprintf(stop, sizeof stop, "stop %.0f", o.vline);
		o.vline_label = stop;
	}
	if ((rc = chart(curve, epoch, "loss", "train_loss", "val_loss", &o)) < 0)
		goto oom;
	/* The objective's chart, unless it is one of the losses just drawn;
	 * then accuracy, which the loss chart does not show. */
	if (strcmp(metric, "val_loss") == 0 || strcmp(metric, "train_loss") == 0) {
		snprintf(metric, sizeof metric, "val_acc");
		snprintf(twin, sizeof twin, "train_acc");
		snprintf(title, sizeof title, "accuracy");
	} else {
		snprintf(title, sizeof title, "%s (objective, %s)", metric,
			 fmt_jstr(fmt_jget(sw, "objective"), "mode", "max"));
	}
	o.logy = 0;
	if ((rc = chart(curve, epoch, title, twin[0] ? twin : NULL, metric, &o)) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	rc = ctl_oom();
out:
	free(epoch);
	cJSON_Delete(t);
	cJSON_Delete(sw);
	return rc;
}

/* Opens -o FILE (or stdout for none or "-"). */
static FILE *
open_output(const char *path)
{
	FILE *f;

	if (!path || strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		ctl_err("cannot write %s: %s", path, strerror(errno));
	return f;
}

/* Closes what open_output opened; reports a write error. Returns 0 or
 * CTL_EXIT_FAIL. */
static int
close_output(FILE *f, const char *path, int rc)
{
	int bad = rc == -EIO || ferror(f);

	if (f != stdout) {
		bad |= fclose(f) != 0;
		if (bad || rc < 0)
			unlink(path);   /* a half-written file is worse than none */
	}
	if (bad) {
		ctl_err("writing %s failed: %s", f == stdout ? "the output" : path,
			strerror(errno ? errno : EIO));
		return CTL_EXIT_FAIL;
	}
	return rc == -ENOMEM ? ctl_oom() : 0;
}

int
ctl_cmd_export(struct ctl *c, struct ctl_args *a)
{
	enum export_format f = EXPORT_CSV;
	cJSON *rows = NULL;
	FILE *out;
	int rc;

	if (a->format && strcmp(a->format, "json") == 0) {
		f = EXPORT_JSON;
	} else if (a->format && strcmp(a->format, "csv") != 0) {
		ctl_err("--format must be csv or json, got \"%s\"", a->format);
		fprintf(stderr, "usage: sweepctl export SWEEP [--format csv|json] "
			"[--epochs] [-o FILE]\n");
		return CTL_EXIT_USAGE;
	}
	rc = a->epochs ? fetch_epochs(c, a->sweep, &rows)
		       : fetch(c, "trials", a->sweep, 0, "trials", &rows);
	if (rc != 0)
		return rc;
	if (!(out = open_output(a->output))) {
		cJSON_Delete(rows);
		return CTL_EXIT_FAIL;
	}
	rc = a->epochs ? export_epochs(out, rows, f) : export_trials(out, rows, f);
	cJSON_Delete(rows);
	return close_output(out, a->output, rc);
}

int
ctl_cmd_report(struct ctl *c, struct ctl_args *a)
{
	cJSON *sw = NULL, *trials = NULL, *epochs = NULL, *imp = NULL;
	char defpath[64];
	const char *path = a->output;
	FILE *out = NULL;
	int rc;

	if (!path) {
		snprintf(defpath, sizeof defpath, "sweep-%lld-report.html", a->sweep);
		path = defpath;
	}
	if ((rc = fetch(c, "sweep", a->sweep, 0, "sweep", &sw)) ||
	    (rc = fetch(c, "trials", a->sweep, 0, "trials", &trials)) ||
	    (rc = fetch_epochs(c, a->sweep, &epochs)) ||
	    (rc = ctl_fetch_importance(c, a->sweep, &imp)))
		goto out;
	if (!(out = open_output(path))) {
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	rc = close_output(out, path, report_write(out, sw, trials, epochs, imp,
						  time(NULL)));
	if (rc == 0 && out != stdout)
		fprintf(stderr, "wrote %s\n", path);
out:
	cJSON_Delete(sw);
	cJSON_Delete(trials);
	cJSON_Delete(epochs);
	cJSON_Delete(imp);
	return rc;
}
