/*
 * sweepctl: the command-line client of sweepd.
 *
 *   sweepctl [--state-dir DIR] [--json] COMMAND [ARGS]
 *
 * Each command is one row of cmd_table: its arguments, its options and a
 * handler that sends one or a few requests over a blocking Unix socket and
 * renders the reply (show.c), or prints it untouched with --json.
 *
 * Exit status: 0 success; 1 the daemon answered an error, or a local file
 * could not be read or written; 2 usage error; 3 cannot reach the daemon
 * (no socket, refused, or the connection dropped mid-way); watch and wait:
 * 4 the sweep failed, 5 it was cancelled.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "client/cmd_artifacts.h"
#include "client/cmd_manage.h"
#include "client/cmd_output.h"
#include "client/cmd_serve.h"
#include "client/cmd_watch.h"
#include "client/conn.h"
#include "client/ctl.h"
#include "client/fmt.h"
#include "client/front.h"
#include "client/show.h"
#include "client/specfile.h"
#include "common/cmdcheck.h"
#include "common/statedir.h"
#include "common/vocab.h"

#define SWEEPCTL_VERSION "0.1.0"

/* ---- messages and exit codes ------------------------------------------ */

void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("sweepctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
ctl_put_line(const char *line, size_t len)
{
	/* fwrite, not printf: the exact bytes the daemon sent, whatever
	 * they hold */
	fwrite(line, 1, len, stdout);
	putchar('\n');
}

/* ---- the daemon ------------------------------------------------------- */

static int
ctl_connect(struct ctl *c)
{
	char dir[PATH_MAX];
	int rc;

	if (c->conn.fd >= 0)
		return 0;
	if (c->state_dir) {
		snprintf(dir, sizeof dir, "%s", c->state_dir);
	} else if ((rc = statedir_default(dir, sizeof dir)) < 0) {
		ctl_err("no state directory: pass --state-dir, or set "
			"$SWEEP_STATE_DIR or $HOME");
		return CTL_EXIT_CONN;
	}
	rc = statedir_socket_path(dir, c->sock, sizeof c->sock);
	if (rc < 0) {
		ctl_err("socket path %s/sweepd.sock is too long for a Unix "
			"socket (%d bytes at most)", dir, STATEDIR_SUN_PATH_MAX - 1);
		return CTL_EXIT_CONN;
	}
	rc = conn_open(&c->conn, c->sock);
	if (rc < 0) {
		ctl_err("cannot connect to %s: %s (is sweepd running?)", c->sock,
			strerror(-rc));
		return CTL_EXIT_CONN;
	}
	return 0;
}

int
ctl_exit_for_sweep(const char *st, int n_completed)
{
	if (vocab_sweep_parse(st) == SWEEP_COMPLETED)
		return n_completed == 0 ? CTL_EXIT_SWEEP_FAILED : CTL_EXIT_OK;
	if (vocab_sweep_parse(st) == SWEEP_CANCELLED)
		return CTL_EXIT_SWEEP_CANCELLED;
	return CTL_EXIT_SWEEP_FAILED;
}

/* Reports a failed read of a reply or event; returns the exit code. */
static int
read_failed(struct ctl *c, int rc)
{
	if (rc == -EPIPE)
		ctl_err("connection to sweepd at %s closed before it replied",
			c->sock);
	else if (rc == -E2BIG)
		ctl_err("reply from sweepd is larger than %zu MiB",
			CONN_LINE_MAX >> 20);
	else
		ctl_err("reading from sweepd: %s", strerror(-rc));
	return rc == -EPIPE || rc == -ECONNRESET ? CTL_EXIT_CONN : CTL_EXIT_FAIL;
}

int
ctl_read(struct ctl *c, cJSON **msg, char **line, size_t *len)
{
	int rc = conn_read_line(&c->conn, line, len);

	*msg = NULL;
	if (rc < 0)
		return read_failed(c, rc);
	*msg = cJSON_ParseWithLength(*line, *len);
	if (!cJSON_IsObject(*msg)) {
		ctl_err("sweepd sent a line that is not a JSON object: %.80s", *line);
		cJSON_Delete(*msg);
		*msg = NULL;
		return CTL_EXIT_FAIL;
	}
	return 0;
}

int
ctl_exchange(struct ctl *c, cJSON *req, cJSON **reply, char **line, size_t *len)
{
	int rc;

	*reply = NULL;
	if ((rc = ctl_connect(c)) != 0)
		return rc;
	rc = conn_send(&c->conn, req);
	if (rc < 0) {
		ctl_err("sending to sweepd at %s: %s", c->sock, strerror(-rc));
		return CTL_EXIT_CONN;
	}
	return ctl_read(c, reply, line, len);
}

int
ctl_call(struct ctl *c, cJSON *req, cJSON **reply, char **line, size_t *len)
{
	const cJSON *err;
	int rc;

	if ((rc = ctl_exchange(c, req, reply, line, len)) != 0)
		return rc;
	if (cJSON_IsTrue(fmt_jget(*reply, "ok")))
		return 0;
	/* Scripts reading --json get the error object too, on stdout; people
	 * get the message on stderr either way. */
	if (c->json)
		ctl_put_line(*line, *len);
	err = fmt_jget(*reply, "error");
	ctl_err("%s (%s)", fmt_jstr(err, "message", "request failed"),
		fmt_jstr(err, "code", "error"));
	cJSON_Delete(*reply);
	*reply = NULL;
	return CTL_EXIT_FAIL;
}

cJSON *
ctl_request(const char *op, long long sweep, long long number)
{
	cJSON *req = cJSON_CreateObject();

	if (!req)
		return NULL;
	if (!cJSON_AddStringToObject(req, "op", op) ||
	    (sweep > 0 && !cJSON_AddNumberToObject(req, "sweep", (double)sweep)) ||
	    (number > 0 && !cJSON_AddNumberToObject(req, "number", (double)number))) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

int
ctl_oom(void)
{
	ctl_err("out of memory");
	return CTL_EXIT_FAIL;
}

int
ctl_ask(struct ctl *c, const char *op, long long sweep, long long number,
	int print_json, cJSON **reply)
{
	cJSON *req = ctl_request(op, sweep, number);
	char *line;
	size_t len;
	int rc;

	if (!req)
		return ctl_oom();
	rc = ctl_call(c, req, reply, &line, &len);
	cJSON_Delete(req);
	if (rc == 0 && print_json && c->json)
		ctl_put_line(line, len);
	return rc;
}

int
ctl_confirm(const char *question)
{
	char answer[16] = "";

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof answer, stdin))
		return 0;
	answer[strcspn(answer, "\r\n")] = '\0';
	return strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 ||
	       strcmp(answer, "yes") == 0;
}

/* Sends req (consumed), prints the reply with render, or as is with
 * --json. render gets the reply member named key (NULL: the reply). */
static int
simple(struct ctl *c, cJSON *req, const char *key,
       int (*render)(struct ctl *, const cJSON *))
{
	cJSON *reply = NULL;
	char *line;
	size_t len;
	int rc;

	if (!req)
		return ctl_oom();
	rc = ctl_call(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	if (rc != 0)
		return rc;
	if (c->json)
		ctl_put_line(line, len);
	else
		rc = render(c, key ? fmt_jget(reply, key) : reply);
	cJSON_Delete(reply);
	return rc;
}

/* ---- arguments -------------------------------------------------------- */

/* s as an integer from min (0 or 1) to 2^53; CTL_EXIT_USAGE after a
 * message naming what otherwise. */
static int
parse_int(const char *s, long long min, const char *what, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || s[0] == '+' || s[0] == ' ' ||
	    v > (1LL << 53)) {
		ctl_err("%s must be a %s integer, got \"%s\"", what,
			min > 0 ? "positive" : "non-negative", s);
		return CTL_EXIT_USAGE;
	}
	*out = v;
	return 0;
}

int
ctl_parse_id(const char *s, const char *what, long long *out)
{
	return parse_int(s, 1, what, out);
}

/* ---- commands --------------------------------------------------------- */

static int
render_ping(struct ctl *c, const cJSON *r)
{
	(void)c;
	printf("sweepd %s (pid %.0f)\n", fmt_jstr(r, "version", "?"),
	       fmt_jnum(r, "pid", 0));
	return 0;
}

static int
cmd_ping(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return simple(c, ctl_request("ping", 0, 0), NULL, render_ping);
}

static int
cmd_submit(struct ctl *c, struct ctl_args *a)
{
	const char *path = a->argv[0];
	cJSON *spec = NULL, *req = NULL, *reply = NULL;
	char err[PATH_MAX + 256], *line;
	size_t len;
	int rc;

	if (specfile_load(path, &spec, err, sizeof err) < 0 ||
	    specfile_resolve(spec, path, err, sizeof err) < 0) {
		ctl_err("%s", err);
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	rc = CTL_EXIT_FAIL;
	if (!cJSON_IsObject(spec)) {
		ctl_err("%s: a sweep spec must be a JSON object", path);
		goto out;
	}
	/* A trainer that cannot start is refused here, before anything is
	 * sent; sweepd checks again with the PATH its trainers get. */
	if (cmdcheck_trainer(cJSON_GetObjectItemCaseSensitive(spec, "trainer"),
			     err, sizeof err) < 0) {
		ctl_err("%s: %s", path, err);
		goto out;
	}
	if (!(req = ctl_request("submit", 0, 0)))
		goto oom;
	cJSON_AddItemToObject(req, "spec", spec);
	spec = NULL;
	if ((rc = ctl_call(c, req, &reply, &line, &len)) != 0)
		goto out;
	if (c->json)
		ctl_put_line(line, len);
	else
		printf("%.0f\n", fmt_jnum(reply, "sweep_id", 0));
	rc = 0;
	goto out;
oom:
	rc = ctl_oom();
out:
	cJSON_Delete(spec);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	return rc;
}

/* Prints what show() writes, each row cut to the terminal's width. */
static int
print_fit(int (*show)(FILE *, const cJSON *, time_t), const cJSON *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int rc;

	if (!mem)
		return ctl_oom();
	rc = show(mem, v, time(NULL));
	if (fclose(mem) != 0 || rc < 0) {
		free(buf);
		return ctl_oom();
	}
	select_print_fit(stdout, buf, len, select_width());
	free(buf);
	return 0;
}

static int
render_sweeps(struct ctl *c, const cJSON *v)
{
	cJSON *shown = cJSON_Duplicate(v, 1);
	int hidden = 0, rc;

	if (!shown)
		return ctl_oom();
	if (!c->args_all)
		select_recent_sweeps(shown, (double)time(NULL), &hidden);
	rc = print_fit(show_sweeps, shown);
	if (rc == 0 && hidden)
		printf("%d older sweep%s (ended over 7 days ago) not shown: "
		       "sweepctl ls --all\n", hidden, hidden == 1 ? "" : "s");
	cJSON_Delete(shown);
	return rc;
}

static int
cmd_ls(struct ctl *c, struct ctl_args *a)
{
	c->args_all = a->all;
	return simple(c, ctl_request("sweeps", 0, 0), "sweeps", render_sweeps);
}

/* v: the whole reply, for the storage outage it may carry. */
static int
render_sweep(struct ctl *c, const cJSON *v)
{
	(void)c;
	const cJSON *sw = fmt_jget(v, "sweep");

	if (show_sweep(stdout, sw, time(NULL)) < 0 ||
	    show_front(stdout, fmt_jget(sw, "front"), fmt_jget(sw, "spec")) < 0)
		return ctl_oom();
	show_storage(stdout, 0, v);
	return 0;
}

/* The `importance` op's answer into *out (the caller's): its object, or
 * a string saying why the daemon gave none (an error reply: the report
 * goes on without it). Returns 0 or an exit code. */
int
ctl_fetch_importance(struct ctl *c, long long sweep, cJSON **out)
{
	cJSON *req = ctl_request("importance", sweep, 0), *reply = NULL;
	const cJSON *err;
	char why[512], *line;
	size_t len;
	int rc;

	*out = NULL;
	if (!req)
		return ctl_oom();
	rc = ctl_exchange(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	if (rc != 0)
		return rc;
	err = fmt_jget(reply, "error");
	if (cJSON_IsTrue(fmt_jget(reply, "ok")))
		*out = cJSON_DetachItemFromObjectCaseSensitive(reply, "importance");
	if (!*out) {
		snprintf(why, sizeof why, "%s (%s)", fmt_jstr(err, "message",
			 "the reply has no \"importance\""), fmt_jstr(err, "code", "error"));
		*out = cJSON_CreateString(why);
	}
	cJSON_Delete(reply);
	return *out ? 0 : ctl_oom();
}

/* "what mattered: x 0.89, lr 0.10, z 0.00 (share of the objective's
 * variance, 80 trials; sweepctl importance)" under status: the top 3;
 * nothing when the daemon refuses the op (one from before it). */
static int
status_importance(struct ctl *c, long long sweep)
{
	cJSON *imp = NULL;
	const cJSON *it;
	double sum;
	int rc, n = 0;

	if ((rc = ctl_fetch_importance(c, sweep, &imp)) != 0)
		return rc;
	cJSON_ArrayForEach(it, fmt_jget(imp, "objective")) {
		const cJSON *sh = fmt_jget(it, "share");
		if (!cJSON_IsNumber(sh) || n == 3)
			break;
		printf("%s%s %.2f", n++ ? ", " : "what mattered: ",
		       fmt_jstr(it, "param", "?"), sh->valuedouble);
	}
	sum = fmt_share_sum(fmt_jget(imp, "objective"));
	if (n && FMT_SHARES_OVERLAP(sum))
		printf(" (shares of the objective's variance over %d trials, "
		       "overlapping: sum %.2f, params sampled together; "
		       "sweepctl importance %lld)\n",
		       (int)fmt_jnum(imp, "trials", 0), sum, sweep);
	else if (n)
		printf(" (share of the objective's variance over %d trials; "
		       "sweepctl importance %lld)\n", (int)fmt_jnum(imp, "trials", 0),
		       sweep);
	cJSON_Delete(imp);
	return 0;
}

/* What the daemon has in use and free, under status (sweepctl stats). */
static int
render_capacity(struct ctl *c, const cJSON *stats)
{
	(void)c;
	show_capacity(stdout, stats);
	return 0;
}

static int
cmd_status(struct ctl *c, struct ctl_args *a)
{
	int rc = simple(c, ctl_request("sweep", a->sweep, 0), NULL, render_sweep);

	if (rc == 0 && !c->json)
		rc = status_importance(c, a->sweep);
	if (rc == 0 && !c->json)
		rc = simple(c, ctl_request("stats", 0, 0), NULL, render_capacity);
	return rc;
}

/* trials --sort/--status/--top: over the whole list, then says how many
 * of the sweep's trials are shown. */
static int
render_selected(struct ctl *c, const cJSON *trials, double total)
{
	cJSON *v = cJSON_Duplicate(trials, 1);
	char err[512];
	int rc, n;

	if (!v)
		return ctl_oom();
	if ((rc = select_trials(v, &c->select, err, sizeof err)) < 0) {
		cJSON_Delete(v);
		if (rc == -ENOMEM)
			return ctl_oom();
		ctl_err("trials: %s", err);
		return CTL_EXIT_USAGE;
	}
	n = cJSON_GetArraySize(v);
	if (n == 0)
		printf("no %s trials (of %.0f)\n", c->select.status ?
		       c->select.status : "such", total);
	else if ((rc = print_fit(show_trials, v)) == 0 && n < total)
		printf("%d of %.0f trials shown\n", n, total);
	cJSON_Delete(v);
	return rc;
}

/* r: the whole reply; a page of the trials says which part it is. */
static int
render_trials(struct ctl *c, const cJSON *r)
{
	const cJSON *trials = fmt_jget(r, "trials");
	double total = fmt_jnum(r, "total", NAN);
	int n = cJSON_GetArraySize(trials);

	if (c->selecting)
		return render_selected(c, trials, total);
	if (n == 0 && total > 0) {
		printf("no trials in this range: the sweep has %.0f\n", total);
		return 0;
	}
	if (print_fit(show_trials, trials) != 0)
		return CTL_EXIT_FAIL;
	if (n > 0 && n < total)
		printf("%d of %.0f trials shown (#%.0f to #%.0f)\n", n, total,
		       fmt_jnum(cJSON_GetArrayItem(trials, 0), "number", NAN),
		       fmt_jnum(cJSON_GetArrayItem(trials, n - 1), "number", NAN));
	return 0;
}

/* --limit and --offset (opt, NULL when not given: s): a non-negative
 * integer, added to req as name. */
static int
page_opt(cJSON *req, const char *opt, const char *s, const char *name)
{
	long long v;
	int rc;

	if (!s)
		return 0;
	if ((rc = parse_int(s, 0, opt, &v)) != 0)
		return rc;
	return cJSON_AddNumberToObject(req, name, (double)v) ? 0 : ctl_oom();
}

/* --sort, --desc, --status, --top into c->select; they work on the whole
 * list, so not with --limit/--offset. */
static int
select_opts(struct ctl *c, struct ctl_args *a)
{
	long long top = -1;
	int rc;

	c->selecting = a->sort || a->status || a->top || a->desc;
	if (!c->selecting)
		return 0;
	if (a->limit || a->offset) {
		ctl_err("trials: --sort, --status and --top work on every trial; "
			"give them without --limit and --offset");
		return CTL_EXIT_USAGE;
	}
	if (a->desc && !a->sort) {
		ctl_err("trials: --desc needs --sort KEY");
		return CTL_EXIT_USAGE;
	}
	if (a->top && (rc = parse_int(a->top, 1, "--top", &top)) != 0)
		return rc;
	c->select = (struct select_opts){ a->sort, a->desc, a->status,
					  top > INT_MAX ? INT_MAX : (int)top };
	return 0;
}

static int
cmd_trials(struct ctl *c, struct ctl_args *a)
{
	cJSON *req = ctl_request("trials", a->sweep, 0);
	int rc;

	if (!req)
		return ctl_oom();
	if ((rc = select_opts(c, a)) != 0) {
		cJSON_Delete(req);
		return rc;
	}
	if ((rc = page_opt(req, "--limit", a->limit, "limit")) ||
	    (rc = page_opt(req, "--offset", a->offset, "offset"))) {
		cJSON_Delete(req);
		return rc;
	}
	return simple(c, req, NULL, render_trials);
}

static int
render_trial(struct ctl *c, const cJSON *v)
{
	(void)c;
	return show_trial(stdout, v, 1, time(NULL)) < 0 ? ctl_oom() : 0;
}

static int
cmd_trial(struct ctl *c, struct ctl_args *a)
{
	return simple(c, ctl_request("trial", a->sweep, a->number), "trial",
		      render_trial);
}

/* v: the whole reply; with several objectives it carries the front. */
static int
render_best(struct ctl *c, const cJSON *v)
{
	printf("best trial of sweep %lld: ", c->args_sweep);
	if (show_trial(stdout, fmt_jget(v, "trial"), 0, time(NULL)) < 0)
		return ctl_oom();
	return show_front(stdout, fmt_jget(v, "front"), v) < 0 ?
	       ctl_oom() : 0;
}

static int
cmd_best(struct ctl *c, struct ctl_args *a)
{
	c->args_sweep = a->sweep;
	return simple(c, ctl_request("best", a->sweep, 0), NULL, render_best);
}

/* One line per param: "  lr            0.521  ##########". */
static void
print_shares(const cJSON *arr, int max_rows)
{
	const cJSON *it;
	int n = 0;

	cJSON_ArrayForEach(it, arr) {
		const cJSON *sh = fmt_jget(it, "share");
		if (n++ == max_rows)
			break;
		if (!cJSON_IsNumber(sh)) {
			printf("  %-20s      -\n", fmt_jstr(it, "param", "?"));
			continue;
		}
		printf("  %-20s %6.3f  ", fmt_jstr(it, "param", "?"), sh->valuedouble);
		for (int k = 0; k < (int)(sh->valuedouble * 40 + 0.5); k++)
			putchar('#');
		putchar('\n');
	}
}

static int
render_importance(struct ctl *c, const cJSON *imp)
{
	const cJSON *v;
	double sum = fmt_share_sum(fmt_jget(imp, "objective"));

	printf("what mattered in sweep %lld: share of the objective's variance "
	       "over %d completed trials\n", c->args_sweep,
	       (int)fmt_jnum(imp, "trials", 0));
	print_shares(fmt_jget(imp, "objective"), -1);
	if (FMT_SHARES_OVERLAP(sum))
		printf("  (these sum to %.2f, over 1: params sampled together, as "
		       "TPE samples them, each carry the effect they share; random "
		       "or grid search separates them)\n", sum);
	cJSON_ArrayForEach(v, fmt_jget(imp, "verdicts")) {
		printf("diagnosed %s (%d of %d trials):\n", fmt_jstr(v, "verdict", "?"),
		       (int)fmt_jnum(v, "trials", 0), (int)fmt_jnum(v, "of", 0));
		print_shares(fmt_jget(v, "params"), 3);
	}
	printf("(%s)\n", fmt_jstr(imp, "method", ""));
	return 0;
}

static int
cmd_importance(struct ctl *c, struct ctl_args *a)
{
	c->args_sweep = a->sweep;
	return simple(c, ctl_request("importance", a->sweep, 0), "importance",
		      render_importance);
}

static int
render_changed(struct ctl *c, const cJSON *sum)
{
	printf("sweep %lld %s\n", c->args_sweep, fmt_jstr(sum, "status", "changed"));
	return 0;
}

/* cancel, pause, resume: the op is the command's name. */
static int
cmd_state(struct ctl *c, struct ctl_args *a)
{
	c->args_sweep = a->sweep;
	return simple(c, ctl_request(a->cmd, a->sweep, 0), "sweep", render_changed);
}

static int
render_shutdown(struct ctl *c, const cJSON *r)
{
	(void)c;
	(void)r;
	puts("sweepd shutting down");
	return 0;
}

static int
cmd_shutdown(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return simple(c, ctl_request("shutdown", 0, 0), NULL, render_shutdown);
}

static int
render_stats(struct ctl *c, const cJSON *r)
{
	(void)c;
	return show_stats(stdout, r);
}

static int
cmd_stats(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return simple(c, ctl_request("stats", 0, 0), NULL, render_stats);
}

static int
render_enqueued(struct ctl *c, const cJSON *r)
{
	double n = fmt_jnum(r, "enqueued", 0);

	printf("enqueued %.0f trial%s on sweep %lld\n", n, n == 1 ? "" : "s",
	       c->args_sweep);
	return 0;
}

static int
cmd_enqueue(struct ctl *c, struct ctl_args *a)
{
	const char *path = a->argv[1];
	cJSON *params = NULL, *req = NULL;
	char err[PATH_MAX + 256];

	if (specfile_load(path, &params, err, sizeof err) < 0 ||
	    specfile_check_params(params, path, err, sizeof err) < 0) {
		ctl_err("%s", err);
		cJSON_Delete(params);
		return CTL_EXIT_FAIL;
	}
	if (!(req = ctl_request("enqueue", a->sweep, 0))) {
		cJSON_Delete(params);
		return ctl_oom();
	}
	cJSON_AddItemToObject(req, "params", params);
	c->args_sweep = a->sweep;
	return simple(c, req, NULL, render_enqueued);
}

/*
 * watch and wait: subscribe, then read events until sweep_ended (exit 0
 * when the sweep completed, 4 failed, 5 cancelled) or until the daemon
 * closes the connection (3). quiet: print only the end (wait). watch on a
 * terminal draws the live view (cmd_watch.c); elsewhere one line per event.
 */
static int
follow(struct ctl *c, long long sweep, int quiet)
{
	cJSON *reply = NULL, *ev = NULL, *req = ctl_request("watch", sweep, 0);
	char *line, metric[128];
	size_t len;
	int rc, n_completed = -1;

	if (!req)
		return ctl_oom();
	rc = ctl_call(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	if (rc != 0)
		return rc;
	/* An ended sweep's counts are final: they tell a "completed" sweep
	 * without a completed trial (stored before sweepd refused those). */
	if (!vocab_sweep_active(vocab_sweep_parse(fmt_jstr(fmt_jget(reply, "sweep"),
							    "status", ""))))
		n_completed = (int)fmt_jnum(fmt_jget(fmt_jget(reply, "sweep"), "counts"),
					    vocab_trial_name(TRIAL_COMPLETED), -1);
	if (!quiet && !c->json && isatty(STDOUT_FILENO)) {
		/* people at a terminal get the live view, redrawn in place */
		rc = ctl_watch_live(c, sweep, fmt_jget(reply, "sweep"));
		if (rc != CTL_WATCH_PLAIN) {
			cJSON_Delete(reply);
			return rc;
		}
	}
	snprintf(metric, sizeof metric, "%s", fmt_jstr(fmt_jget(
		fmt_jget(reply, "sweep"), "objective"), "metric", "objective"));
	if (!quiet && c->json) {
		ctl_put_line(line, len);
	} else if (!quiet) {
		const cJSON *s = fmt_jget(reply, "sweep"), *n = fmt_jget(s, "counts");
		double done = 0;
		char tot[FMT_NUM_MAX];

		for (int i = 0; i < TRIAL_N_STATUS; i++)
			if (vocab_trial_ended((enum trial_status)i))
				done += fmt_jnum(n, vocab_trial_name((enum trial_status)i), 0);

		printf("watching sweep %lld (", sweep);
		fmt_puts_clean(stdout, fmt_jstr(s, "name", "-"));
		printf("): %s, %.0f/%s trials done, %.0f running\n",
		       fmt_jstr(s, "status", "-"), done,
		       fmt_jnumber(tot, sizeof tot, fmt_jget(s, "trials_total"), "-"),
		       fmt_jnum(n, vocab_trial_name(TRIAL_RUNNING), 0));
	}
	fflush(stdout);
	cJSON_Delete(reply);
	for (;;) {
		const char *name, *st;

		rc = conn_read_line(&c->conn, &line, &len);
		if (rc < 0) {
			if (rc != -EPIPE)
				return read_failed(c, rc);
			ctl_err("connection to sweepd closed before sweep %lld ended",
				sweep);
			return CTL_EXIT_CONN;
		}
		ev = cJSON_ParseWithLength(line, len);
		name = fmt_jstr(ev, "event", NULL);
		if (!name) {
			ctl_err("ignoring a line from sweepd that is not an event: %.80s",
				line);
			cJSON_Delete(ev);
			continue;
		}
		if (c->json && (!quiet || strcmp(name, "sweep_ended") == 0))
			ctl_put_line(line, len);
		else if (!quiet || strcmp(name, "sweep_ended") == 0)
			show_event(stdout, ev, metric, time(NULL));
		fflush(stdout);
		if (strcmp(name, "sweep_ended") == 0) {
			st = fmt_jstr(ev, "status", "");
			rc = ctl_exit_for_sweep(st, n_completed);
			cJSON_Delete(ev);
			return rc;
		}
		cJSON_Delete(ev);
	}
}

static int
cmd_watch(struct ctl *c, struct ctl_args *a)
{
	return follow(c, a->sweep, 0);
}

static int
cmd_wait(struct ctl *c, struct ctl_args *a)
{
	return follow(c, a->sweep, 1);
}

static int cmd_help(struct ctl *c, struct ctl_args *a);

/* ---- the command table ------------------------------------------------ */

/* Positional argument kinds, checked before the handler runs. */
enum { ARG_NONE, ARG_SWEEP, ARG_SWEEP_N, ARG_FILE, ARG_SWEEP_FILE };

static const struct cmd_def {
	const char *name;
	int args;            /* ARG_* */
	unsigned opts;       /* CTL_OPT_* accepted */
	const char *usage;   /* arguments and options */
	const char *help;    /* one line */
	int (*fn)(struct ctl *, struct ctl_args *);
} cmd_table[] = {
	{ "submit",   ARG_FILE,       0, "FILE", "submit a sweep spec; prints the new sweep id", cmd_submit },
	{ "ls",       ARG_NONE,       CTL_OPT_ALL, "[--all]", "list active and recent sweeps (every one with --all)", cmd_ls },
	{ "status",   ARG_SWEEP,      0, "SWEEP", "one sweep: progress, verdicts, best trial, advice", cmd_status },
	{ "trials",   ARG_SWEEP,      CTL_OPT_PAGE | CTL_OPT_SELECT, "SWEEP [--sort KEY [--desc]] [--status S] [--top N] [--limit N] [--offset N]", "table of a sweep's trials: sorted, filtered, the top N, or a page", cmd_trials },
	{ "trial",    ARG_SWEEP_N,    0, "SWEEP N", "one trial: params, error, diagnosis, learning curve", cmd_trial },
	{ "best",     ARG_SWEEP,      0, "SWEEP", "the best completed trial (and the Pareto front with several objectives)", cmd_best },
	{ "importance", ARG_SWEEP,    0, "SWEEP", "which params mattered: for the objective and for each verdict", cmd_importance },
	{ "curve",    ARG_SWEEP_N,    CTL_OPT_SIZE, "SWEEP N [--width W] [--height H]", "a trial's loss and objective curves, drawn in the terminal", ctl_cmd_curve },
	{ "watch",    ARG_SWEEP,      0, "SWEEP", "print events live until the sweep ends", cmd_watch },
	{ "wait",     ARG_SWEEP,      0, "SWEEP", "block until the sweep ends; exit 0 completed, 4 failed, 5 cancelled", cmd_wait },
	{ "cancel",   ARG_SWEEP,      0, "SWEEP", "stop a sweep and its running trials", cmd_state },
	{ "pause",    ARG_SWEEP,      0, "SWEEP", "start no new trials (running ones finish)", cmd_state },
	{ "resume",   ARG_SWEEP,      0, "SWEEP", "go on with a paused sweep", cmd_state },
	{ "extend",   ARG_SWEEP,      CTL_OPT_TRIALS, "SWEEP --trials N", "give an ended sweep N more trials; its trials and search history kept", ctl_cmd_extend },
	{ "rerun",    ARG_SWEEP_N,    0, "SWEEP N", "run trial N of an ended sweep again (same params and seed) as a new trial", ctl_cmd_rerun },
	{ "rm",       ARG_SWEEP,      CTL_OPT_YES, "SWEEP [--yes]", "delete an ended sweep and its trials (asks unless --yes)", ctl_cmd_rm },
	{ "artifacts", ARG_SWEEP_N,   0, "SWEEP N", "the files in a trial's directory: size, modified, name", ctl_cmd_artifacts },
	{ "clean",    ARG_SWEEP,      CTL_OPT_YES, "SWEEP [--yes]", "remove an ended sweep's trial directories (asks unless --yes)", ctl_cmd_clean },
	{ "enqueue",  ARG_SWEEP_FILE, 0, "SWEEP FILE", "run these params next (an object or an array of them)", cmd_enqueue },
	{ "export",   ARG_SWEEP,      CTL_OPT_FORMAT | CTL_OPT_EPOCHS | CTL_OPT_OUTPUT, "SWEEP [--format csv|json] [--epochs] [-o FILE]", "trials (or every epoch) as CSV or JSON", ctl_cmd_export },
	{ "report",   ARG_SWEEP,      CTL_OPT_OUTPUT, "SWEEP [-o FILE]", "one self-contained HTML report of the sweep", ctl_cmd_report },
	{ "serve",    ARG_NONE,       CTL_OPT_PORT, "[--port N]", "a live dashboard of every sweep, in the browser (127.0.0.1)", ctl_cmd_serve },
	{ "stats",    ARG_NONE,       0, "", "daemon uptime, memory, open files, queue", cmd_stats },
	{ "ping",     ARG_NONE,       0, "", "check that sweepd answers", cmd_ping },
	{ "shutdown", ARG_NONE,       0, "", "stop sweepd gracefully", cmd_shutdown },
	{ "help",     ARG_NONE,       0, "", "this text", cmd_help },
};
#define N_CMDS (sizeof cmd_table / sizeof cmd_table[0])

static void
usage(FILE *out)
{
	fputs("usage: sweepctl [--state-dir DIR] [--json] COMMAND [ARGS]\n\n"
	      "commands:\n", out);
	for (size_t i = 0; i < N_CMDS; i++) {
		char left[80];
		snprintf(left, sizeof left, "%s %s", cmd_table[i].name,
			 cmd_table[i].usage);
		if (strlen(left) <= 26)
			fprintf(out, "  %-26s %s\n", left, cmd_table[i].help);
		else
			fprintf(out, "  %s\n  %-26s %s\n", left, "", cmd_table[i].help);
	}
	fputs("\noptions:\n"
	      "  --state-dir DIR  where sweepd.sock is (default $SWEEP_STATE_DIR,\n"
	      "                   else $XDG_STATE_HOME/sweepd, else ~/.local/state/sweepd)\n"
	      "  --json           print the daemon's reply as is, one JSON object per line\n"
	      "  -h, --help       this text\n"
	      "  --version        sweepctl's version\n\n"
	      "exit status: 0 ok, 1 the daemon or a file gave an error, 2 usage error,\n"
	      "3 cannot connect to sweepd; watch and wait: 4 the sweep failed,\n"
	      "5 it was cancelled\n", out);
}

static int
cmd_help(struct ctl *c, struct ctl_args *a)
{
	(void)c;
	(void)a;
	usage(stdout);
	return 0;
}

static int
usage_error(const struct cmd_def *cmd)
{
	if (cmd)
		fprintf(stderr, "usage: sweepctl [--state-dir DIR] [--json] %s %s\n",
			cmd->name, cmd->usage);
	else
		usage(stderr);
	return CTL_EXIT_USAGE;
}

static const struct cmd_def *
cmd_lookup(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

/* Command options: name, alias, bit, takes a value. */
static const struct opt_def {
	const char *name, *alias;
	unsigned bit;
	int has_value;
} opt_table[] = {
	{ "--format", NULL, CTL_OPT_FORMAT, 1 },
	{ "--epochs", NULL, CTL_OPT_EPOCHS, 0 },
	{ "--output", "-o", CTL_OPT_OUTPUT, 1 },
	{ "--width",  NULL, CTL_OPT_SIZE,   1 },
	{ "--height", NULL, CTL_OPT_SIZE,   1 },
	{ "--limit",  NULL, CTL_OPT_PAGE,   1 },
	{ "--offset", NULL, CTL_OPT_PAGE,   1 },
	{ "--port",   NULL, CTL_OPT_PORT,   1 },
	{ "--sort",   NULL, CTL_OPT_SELECT, 1 },
	{ "--desc",   NULL, CTL_OPT_SELECT, 0 },
	{ "--status", NULL, CTL_OPT_SELECT, 1 },
	{ "--top",    NULL, CTL_OPT_SELECT, 1 },
	{ "--all",    NULL, CTL_OPT_ALL,    0 },
	{ "--yes",    "-y", CTL_OPT_YES,    0 },
	{ "--trials", NULL, CTL_OPT_TRIALS, 1 },
};

static void
opt_store_select(struct ctl_args *a, const char *name, const char *val)
{
	if (strcmp(name, "--sort") == 0)
		a->sort = val;
	else if (strcmp(name, "--desc") == 0)
		a->desc = 1;
	else if (strcmp(name, "--status") == 0)
		a->status = val;
	else
		a->top = val;
}

static void
opt_store(struct ctl_args *a, const struct opt_def *o, const char *val)
{
	if (o->bit == CTL_OPT_FORMAT)
		a->format = val;
	else if (o->bit == CTL_OPT_EPOCHS)
		a->epochs = 1;
	else if (o->bit == CTL_OPT_OUTPUT)
		a->output = val;
	else if (strcmp(o->name, "--width") == 0)
		a->width = val;
	else if (strcmp(o->name, "--height") == 0)
		a->height = val;
	else if (strcmp(o->name, "--limit") == 0)
		a->limit = val;
	else if (o->bit == CTL_OPT_PORT)
		a->port = val;
	else if (o->bit == CTL_OPT_ALL)
		a->all = 1;
	else if (o->bit == CTL_OPT_YES)
		a->yes = 1;
	else if (o->bit == CTL_OPT_TRIALS)
		a->trials = val;
	else if (o->bit == CTL_OPT_SELECT)
		opt_store_select(a, o->name, val);
	else
		a->offset = val;
}

/* One option at argv[*i] (global or the command's). Returns 0, or
 * CTL_EXIT_USAGE after a message. */
static int
parse_opt(struct ctl *c, struct ctl_args *a, const struct cmd_def *cmd,
	  int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);

	if (strcmp(arg, "--json") == 0) {
		c->json = 1;
		return 0;
	}
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		a->help = 1;
		return 0;
	}
	if (strcmp(arg, "--version") == 0) {
		a->version = 1;
		return 0;
	}
	if (strncmp(arg, "--state-dir", nlen) == 0 && nlen == 11) {
		if (eq) {
			c->state_dir = eq + 1;
		} else if (*i + 1 < argc) {
			c->state_dir = argv[++*i];
		} else {
			ctl_err("--state-dir needs a directory");
			return usage_error(cmd);
		}
		return 0;
	}
	for (size_t k = 0; k < sizeof opt_table / sizeof opt_table[0]; k++) {
		const struct opt_def *o = &opt_table[k];
		int named = (strncmp(arg, o->name, nlen) == 0 && strlen(o->name) == nlen) ||
			    (o->alias && strcmp(arg, o->alias) == 0);
		const char *val = eq;

		if (!named)
			continue;
		if (!cmd || !(cmd->opts & o->bit))
			break;
		if (o->has_value && !eq) {
			if (*i + 1 >= argc) {
				ctl_err("%s needs a value", o->name);
				return usage_error(cmd);
			}
			val = argv[++*i];
		} else if (eq) {
			val = eq + 1;
			if (!o->has_value) {
				ctl_err("%s takes no value", o->name);
				return usage_error(cmd);
			}
		}
		opt_store(a, o, val);
		return 0;
	}
	if (cmd)
		ctl_err("%s: unknown option %s", cmd->name, arg);
	else
		ctl_err("unknown option %s", arg);
	return usage_error(cmd);
}

/* Checks the positional arguments against cmd->args. */
static int
check_args(const struct cmd_def *cmd, struct ctl_args *a)
{
	static const int want[] = {
		[ARG_NONE] = 0, [ARG_SWEEP] = 1, [ARG_SWEEP_N] = 2,
		[ARG_FILE] = 1, [ARG_SWEEP_FILE] = 2,
	};
	int n = want[cmd->args], rc;

	if (a->argc != n) {
		if (a->argc < n)
			ctl_err("%s: missing argument%s (%s)", cmd->name,
				n - a->argc > 1 ? "s" : "", cmd->usage);
		else
			ctl_err("%s: unexpected argument \"%s\"", cmd->name,
				a->argv[n]);
		return usage_error(cmd);
	}
	if (cmd->args == ARG_SWEEP || cmd->args == ARG_SWEEP_N ||
	    cmd->args == ARG_SWEEP_FILE) {
		if ((rc = ctl_parse_id(a->argv[0], "sweep id", &a->sweep)) != 0)
			return usage_error(cmd);
	}
	if (cmd->args == ARG_SWEEP_N &&
	    (rc = ctl_parse_id(a->argv[1], "trial number", &a->number)) != 0)
		return usage_error(cmd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl c = { .conn = { .fd = -1 } };
	struct ctl_args a = { 0 };
	const struct cmd_def *cmd = NULL;
	int rc, only_args = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!only_args && strcmp(arg, "--") == 0) {
			only_args = 1;
		} else if (!only_args && arg[0] == '-' && arg[1] &&
			   !(arg[1] >= '0' && arg[1] <= '9')) {
			/* "-3" is a (bad) number, left for the id check */
			if ((rc = parse_opt(&c, &a, cmd, argc, argv, &i)) != 0)
				return rc;
		} else if (!cmd) {
			if (!(cmd = cmd_lookup(arg))) {
				ctl_err("unknown command \"%s\"", arg);
				return usage_error(NULL);
			}
			a.cmd = cmd->name;
		} else if (a.argc < CTL_MAX_ARGS) {
			a.argv[a.argc++] = argv[i];
		} else {
			ctl_err("%s: too many arguments", cmd->name);
			return usage_error(cmd);
		}
	}
	if (a.help) {
		usage(stdout);
		return 0;
	}
	if (a.version) {
		puts("sweepctl " SWEEPCTL_VERSION);
		return 0;
	}
	if (!cmd) {
		ctl_err("no command given");
		return usage_error(NULL);
	}
	if ((rc = check_args(cmd, &a)) != 0)
		return rc;
	rc = cmd->fn(&c, &a);
	conn_close(&c.conn);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sweepctl: writing the output: %s\n", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return rc;
}
