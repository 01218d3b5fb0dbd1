/*
 * trial.c: spawning a trainer and reading what it reports.
 *
 * The child runs in its own session (UV_PROCESS_DETACHED calls setsid), so
 * its pid is also its process group: signals go to -pid and reach whatever
 * the trainer forked. A trial ends when the child was reaped and its three
 * pipes closed, whichever came last (as tmux's job.c does). Once the
 * child has exited, its group is SIGKILLed so that grandchildren holding
 * the pipes open cannot keep the trial alive; a drain timer closes the
 * pipes anyway if something outside the group still holds them. What left
 * the group is killed with the trial's cgroup (trialcg.c), where there is
 * one, and by the daemon as their subreaper (reaper.c).
 *
 * Report pipes (fd 3, stdout) are read into a backlog that on_drain, an
 * idle handle, hands to the line splitter BATCH_LINES lines per pipe per
 * turn of the loop; past BACKLOG_HIGH the pipe is not read until the
 * backlog is handled, so a trainer that floods it blocks in write.
 */
#include "daemon/sched/trial.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "daemon/log.h"
#include "daemon/sched/manual.h"
#include "daemon/sched/reaper.h"
#include "daemon/sched/end.h"
#include "daemon/sched/progress.h"
#include "daemon/sched/sweep.h"
#include "daemon/serve/server.h"
#include "daemon/search/spec.h"
#include "daemon/sched/trialcg.h"

#define KILL_GRACE_MS   5000   /* SIGTERM -> SIGKILL */
#define DRAIN_MS        5000   /* exited -> force the pipes shut */
#define BATCH_LINES     32     /* report lines handled per pipe per turn */
#define BACKLOG_HIGH    (64 * 1024)   /* stop reading a pipe past this */

extern char **environ;

static const char *const status_names[] = {
	[TRIAL_QUEUED] = "queued",       [TRIAL_RUNNING] = "running",
	[TRIAL_COMPLETED] = "completed", [TRIAL_FAILED] = "failed",
	[TRIAL_PRUNED] = "pruned",       [TRIAL_CANCELLED] = "cancelled",
};

const char *
trial_status_name(enum trial_status st)
{
	return status_names[st];
}

struct trial *
trial_new(struct sweep *sw, int64_t id, int number, int attempt, uint64_t seed,
	  const char *params_json)
{
	struct trial *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->params_json = strdup(params_json);
	if (!t->params_json) {
		free(t);
		return NULL;
	}
	t->sweep = sw;
	t->id = id;
	t->number = number;
	t->attempt = attempt;
	t->seed = seed;
	t->status = TRIAL_QUEUED;
	t->best = NAN;
	t->test_loss = NAN;
	t->test_acc = NAN;
	return t;
}

static void
curve_clear(struct trial *t)
{
	for (int i = 0; i < t->n_curve; i++)
		free((void *)t->curve[i].grad_norm);
	free(t->curve);
	t->curve = NULL;
	t->n_curve = t->cap_curve = 0;
}

void
trial_free(struct trial *t)
{
	if (!t)
		return;
	curve_clear(t);
	linebuf_free(&t->report_lb);
	linebuf_free(&t->out_lb);
	free(t->report_bl.buf);
	free(t->out_bl.buf);
	cJSON_Delete(t->diagnosis);
	free(t->params_json);
	free(t->end_msg);
	free(t->end_diag);
	free(t);
}

int64_t
trial_proc_start(int pid)
{
	char buf[1024];
	const char *p = reaper_proc_stat(pid, buf, sizeof buf);
	long long start;

	if (!p)
		return -1;
	/* p is the space before field 3; after the loop, the one before field
	 * 22, starttime. (sscanf with 19 skipped conversions cost more than
	 * the rest of starting a trial.) */
	for (int field = 4; field <= 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	start = strtoll(p + 1, NULL, 10);
	return start > 0 ? start : -1;
}

int
trial_wrapper_error(const struct trial *t, char *buf, size_t len)
{
	static const char tag[] = "sweepd: ";
	const char *line = NULL, *end = t->errtail + t->errtail_len;
	size_t n = 0;

	if (!t->wrapped || t->term_signal ||
	    (t->exit_status != 126 && t->exit_status != 127))
		return 0;
	/* main.c's exec_trial writes one line, the last thing before exit */
	for (const char *p = t->errtail; p < end; p++)
		if ((p == t->errtail || p[-1] == '\n') &&
		    (size_t)(end - p) > sizeof tag - 1 &&
		    memcmp(p, tag, sizeof tag - 1) == 0)
			line = p + sizeof tag - 1;
	if (!line)
		return 0;
	while (line + n < end && line[n] != '\n')
		n++;
	snprintf(buf, len, "%.*s", (int)n, line);
	return 1;
}

/* ---- ending ---------------------------------------------------------- */

static void
on_handle_closed(uv_handle_t *h)
{
	struct trial *t = h->data;

	if (--t->open_handles == 0)
		sched_trial_ended(t);
}

static void
close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_handle_closed);
}

/* Once the child is reaped and the pipes are shut, only the timers remain. */
static void
maybe_done(struct trial *t)
{
	if (!t->exited || t->pipes_open > 0)
		return;
	close_handle((uv_handle_t *)&t->deadline);
	close_handle((uv_handle_t *)&t->killer);
	close_handle((uv_handle_t *)&t->stall);
	close_handle((uv_handle_t *)&t->drain);
}

static struct trial_backlog *
backlog_of(struct trial *t, uv_pipe_t *p)
{
	if (p == &t->report)
		return &t->report_bl;
	return p == &t->out ? &t->out_bl : NULL;
}

/* Whatever is still unread in a closed pipe's backlog is dropped with it. */
static void
close_pipe(struct trial *t, uv_pipe_t *p)
{
	struct trial_backlog *b = backlog_of(t, p);

	if (uv_is_closing((uv_handle_t *)p))
		return;
	if (b) {
		free(b->buf);
		memset(b, 0, sizeof *b);
	}
	uv_read_stop((uv_stream_t *)p);
	t->pipes_open--;
	close_handle((uv_handle_t *)p);
	maybe_done(t);
}

static void
signal_group(struct trial *t, int sig)
{
	if (t->pid <= 0)
		return;
	/* The group first (grandchildren), then the leader in case it left. */
	if (kill(-t->pid, sig) < 0 && errno != ESRCH)
		log_warn("kill(-%d, %d): %s", t->pid, sig, strerror(errno));
	kill(t->pid, sig);
}

static void
on_killer(uv_timer_t *tm)
{
	struct trial *t = tm->data;

	if (!t->exited) {
		log_warn("trial %d/%d (pid %d) ignored SIGTERM: SIGKILL",
			 t->number, t->attempt, t->pid);
		signal_group(t, SIGKILL);
		return;
	}
	/* Exited, but something outside its group still holds a pipe. */
	close_pipe(t, &t->report);
	close_pipe(t, &t->out);
	close_pipe(t, &t->err);
}

void
trial_stop(struct trial *t, enum trial_stop why, const char *msg)
{
	if (t->stop == STOP_NONE) {
		t->stop = why;
		snprintf(t->stop_msg, sizeof t->stop_msg, "%s", msg ? msg : "");
	}
	if (t->manual) {
		manual_stop(t);
		return;
	}
	if (t->exited || t->pid <= 0)
		return;
	signal_group(t, SIGTERM);
	if (!uv_is_active((uv_handle_t *)&t->killer))
		uv_timer_start(&t->killer, on_killer, KILL_GRACE_MS, 0);
}

static void
on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct trial *t = p->data;

	t->exited = 1;
	t->exit_status = exit_status;
	t->term_signal = term_signal;
	/* Whatever the trainer left behind in its group goes with it; what
	 * left the group comes back to the daemon, the subreaper (reaper.c). */
	if (kill(-t->pid, SIGKILL) < 0 && errno != ESRCH)
		log_warn("kill(-%d): %s", t->pid, strerror(errno));
	trialcg_kill(t->sweep->srv, t->id);
	reaper_schedule(t->sweep->srv);
	uv_timer_stop(&t->deadline);
	uv_timer_stop(&t->killer);
	uv_timer_stop(&t->stall);
	close_handle((uv_handle_t *)&t->proc);
	if (t->pipes_open > 0)
		uv_timer_start(&t->killer, on_killer, DRAIN_MS, 0);
	maybe_done(t);
}

/* ---- reading --------------------------------------------------------- */

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct trial *t = h->data;
	struct server *s = t->sweep->srv;

	(void)suggested;
	buf->base = s->readbuf;
	buf->len = sizeof s->readbuf;
}

static void
protocol_error(struct trial *t, const char *msg)
{
	log_warn("sweep %" PRId64 " trial %d: %s", t->sweep->id, t->number,
		 msg);
	trial_stop(t, STOP_PROTOCOL, msg);
}

/* False (with the message) when the epoch line gives the objective metric
 * as a string: it would never count, and "never reported" would mislead. */
static int
objective_is_number(const struct trial *t, const struct report_line *r,
		    const char *line, size_t len, char *err, size_t errlen)
{
	const char *metric = t->sweep->spec->metric;
	char text[64];

	if (report_has(r, metric) ||
	    !report_string_value(line, len, metric, text, sizeof text))
		return 1;
	snprintf(err, errlen, "the objective metric \"%s\" is a string "
		 "(\"%s\"), not a number: %.200s", metric, text, line);
	return 0;
}

static int
handle_line(struct trial *t, const char *line, size_t len)
{
	struct report_line r;
	char err[512];

	if (t->stop != STOP_NONE)
		return 0;   /* stopping: late lines are not part of the result */
	if (len == 0)
		return 0;
	if (report_parse(line, len, &r, err, sizeof err) < 0) {
		protocol_error(t, err);
		return -EPROTO;
	}
	t->last_report_ms = uv_now(t->sweep->srv->loop);
	if (t->got_final || (r.kind == REPORT_EPOCH &&
			     !objective_is_number(t, &r, line, len, err,
						  sizeof err))) {
		if (t->got_final)
			snprintf(err, sizeof err, "%s line after the final line: "
				 "%.200s", r.kind == REPORT_EPOCH ? "an epoch" :
				 "a second final", line);
		protocol_error(t, err);
		return -EPROTO;
	}
	if (r.kind == REPORT_EPOCH) {
		if (r.epoch <= t->last_epoch) {
			snprintf(err, sizeof err,
				 "epoch %d reported after epoch %d", r.epoch,
				 t->last_epoch);
			protocol_error(t, err);
			return -EPROTO;
		}
		t->last_epoch = r.epoch;
	} else {
		t->got_final = 1;
		t->final_best_epoch = r.best_epoch;
		t->test_loss = report_get(&r, "test_loss");
		t->test_acc = report_get(&r, "test_acc");
	}
	sched_trial_report(t, &r);
	return 0;
}

static int
on_report_line(void *ud, char *line, size_t len)
{
	return handle_line(ud, line, len);
}

/* A line on stdout without the prefix that would be a valid report line:
 * counted, until a real report arrives, so that a trainer that forgot the
 * prefix (or fd 3) is told so instead of "never reported". */
static void
note_plain_report(struct trial *t, const char *line, size_t len)
{
	struct report_line r;
	size_t i = 0;

	if (t->last_epoch > 0 || t->got_final)
		return;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] != '{' ||
	    report_parse(line + i, len - i, &r, NULL, 0) < 0)
		return;
	if (t->plain_reports++ == 0) {
		size_t cut = len - i < 80 ? len - i : 80;
		/* not inside a UTF-8 sequence: the message must stay valid */
		while (cut < len - i && cut > 0 &&
		       ((unsigned char)line[i + cut] & 0xc0) == 0x80)
			cut--;
		snprintf(t->plain_example, sizeof t->plain_example, "%.*s%s",
			 (int)cut, line + i, cut < len - i ? "..." : "");
	}
}

static int
on_stdout_line(void *ud, char *line, size_t len)
{
	const char *payload;
	size_t plen;

	if (!report_strip_prefix(line, len, &payload, &plen)) {
		/* the trainer's own output: not ours to read */
		note_plain_report(ud, line, len);
		return 0;
	}
	return handle_line(ud, payload, plen);
}

/* ---- the backlog ------------------------------------------------------ */

static int
backlog_append(struct trial_backlog *b, const char *data, size_t n)
{
	if (b->off > 0) {   /* handled bytes make room first */
		memmove(b->buf, b->buf + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *nb;

		while (cap < b->len + n)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return -ENOMEM;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return 0;
}

/* The length of the first BATCH_LINES lines of the backlog, or all of it
 * when it holds fewer (a partial last line then goes to the linebuf,
 * which keeps the length cap). */
static size_t
backlog_batch(const struct trial_backlog *b)
{
	const char *p = b->buf + b->off, *end = b->buf + b->len;

	for (int i = 0; i < BATCH_LINES && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return b->len - b->off;
		p = nl + 1;
	}
	return (size_t)(p - (b->buf + b->off));
}

/* Handles one batch of the pipe's backlog; at EOF with nothing left, the
 * unterminated last line and the close. 1 while bytes remain, else 0. */
static void on_report_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);
static void on_out_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static int
drain_pipe(struct trial *t, uv_pipe_t *p, struct linebuf *lb, linebuf_cb cb)
{
	struct trial_backlog *b = backlog_of(t, p);
	size_t n;
	int rc;

	if (uv_is_closing((uv_handle_t *)p))
		return 0;
	n = backlog_batch(b);
	rc = n ? linebuf_feed(lb, b->buf + b->off, n, cb, t) : 0;
	b->off += n;
	if (rc == -E2BIG)
		protocol_error(t, "report line longer than 64 KiB");
	if (rc < 0) {
		close_pipe(t, p);
		return 0;
	}
	if (b->off < b->len)
		return 1;
	b->off = b->len = 0;
	if (b->eof) {
		linebuf_finish(lb, cb, t);
		close_pipe(t, p);
	} else if (b->paused) {
		b->paused = 0;
		uv_read_start((uv_stream_t *)p, alloc_cb, p == &t->report ?
			      on_report_read : on_out_read);
	}
	return 0;
}

static void
on_drain(uv_idle_t *h)
{
	struct trial *t = h->data;
	int more;

	more = drain_pipe(t, &t->report, &t->report_lb, on_report_line);
	more |= drain_pipe(t, &t->out, &t->out_lb, on_stdout_line);
	if (!more)
		uv_idle_stop(h);
}

/* A read of a report pipe only queues the bytes; on_drain handles them,
 * a batch per turn of the loop. */
static void
queue_read(struct trial *t, uv_pipe_t *p, ssize_t n, const uv_buf_t *buf)
{
	struct trial_backlog *b = backlog_of(t, p);

	if (n == 0)
		return;
	if (n < 0) {
		b->eof = 1;
		uv_read_stop((uv_stream_t *)p);
	} else if (backlog_append(b, buf->base, (size_t)n) < 0) {
		protocol_error(t, "out of memory for the report pipe");
		close_pipe(t, p);
		return;
	} else if (b->len - b->off >= BACKLOG_HIGH) {
		b->paused = 1;
		uv_read_stop((uv_stream_t *)p);
	}
	if (!uv_is_active((uv_handle_t *)&t->drain))
		uv_idle_start(&t->drain, on_drain);
}

static void
on_report_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	queue_read(st->data, &((struct trial *)st->data)->report, n, buf);
}

/* stdout may carry "SWEEP " report lines among anything else the trainer
 * prints; an overlong line that is not a report is skipped (out_lb is in
 * skip mode), not an error. */
static void
on_out_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	queue_read(st->data, &((struct trial *)st->data)->out, n, buf);
}

static void
on_err_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct trial *t = st->data;
	size_t len;
	const char *p;

	if (n < 0) {
		close_pipe(t, &t->err);
		return;
	}
	/* Keep only the last TRIAL_ERRTAIL bytes. */
	len = (size_t)n;
	p = buf->base;
	if (len >= TRIAL_ERRTAIL) {
		p += len - TRIAL_ERRTAIL;
		len = TRIAL_ERRTAIL;
	}
	if (t->errtail_len + len > TRIAL_ERRTAIL) {
		size_t drop = t->errtail_len + len - TRIAL_ERRTAIL;
		memmove(t->errtail, t->errtail + drop, t->errtail_len - drop);
		t->errtail_len -= drop;
	}
	memcpy(t->errtail + t->errtail_len, p, len);
	t->errtail_len += len;
}

static void
on_deadline(uv_timer_t *tm)
{
	struct trial *t = tm->data;
	const struct spec *sp = t->sweep->spec;
	char msg[128];

	snprintf(msg, sizeof msg, "timed out after %g s (limits.trial_timeout_s)",
		 sp->timeout_s);
	trial_stop(t, STOP_TIMEOUT, msg);
}

/* A trainer that is alive but silent for limits.stall_s is stopped. */
static void
on_stall_check(uv_timer_t *tm)
{
	struct trial *t = tm->data;
	const struct spec *sp = t->sweep->spec;
	uint64_t now = uv_now(t->sweep->srv->loop);
	char msg[128];

	if ((double)(now - t->last_report_ms) < sp->stall_s * 1000.0)
		return;
	snprintf(msg, sizeof msg, "no report line for %g s (limits.stall_s)",
		 sp->stall_s);
	uv_timer_stop(tm);
	trial_stop(t, STOP_STALL, msg);
}

/* ---- starting -------------------------------------------------------- */

/* NULL-terminated environment: the daemon's, then the spec's trainer.env,
 * then the SWEEP_* variables, each later one replacing an earlier name. */
struct envb {
	char **v;
	int n, cap;
};

static int
env_set(struct envb *e, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (int i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return 0;
		}
	}
	if (e->n + 2 > e->cap) {
		int cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, (size_t)cap * sizeof *v);
		if (!v) {
			free(kv);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
	return 0;
}

static void
env_free(struct envb *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* The trainer's SWEEP_PARAMS: the trial's params, and for the built-in
 * trainer the trainer options of the spec merged in (params win). */
static char *
params_for_child(const struct trial *t)
{
	const struct spec *sp = t->sweep->spec;
	cJSON *obj, *it;
	char *out;

	if (!sp->builtin)
		return strdup(t->params_json);
	obj = cJSON_Parse(t->params_json);
	if (!obj)
		return NULL;
	cJSON_ArrayForEach(it, sp->trainer) {
		if (strcmp(it->string, "builtin") == 0 ||
		    cJSON_HasObjectItem(obj, it->string))
			continue;
		cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, 1));
	}
	out = json_print(obj);
	cJSON_Delete(obj);
	return out;
}

static int
build_env(const struct trial *t, struct envb *e)
{
	const struct spec *sp = t->sweep->spec;
	char num[32], key[96], *params;
	const cJSON *it;
	int rc = 0;

	for (char **p = environ; *p && rc == 0; p++) {
		char *eq = strchr(*p, '=');
		char name[256];
		if (!eq || (size_t)(eq - *p) >= sizeof name)
			continue;
		memcpy(name, *p, (size_t)(eq - *p));
		name[eq - *p] = '\0';
		rc = env_set(e, name, eq + 1);
	}
	if (sp->env) {
		cJSON_ArrayForEach(it, sp->env) {
			if (rc == 0 && cJSON_IsString(it))
				rc = env_set(e, it->string, it->valuestring);
		}
	}
	params = params_for_child(t);
	if (!params)
		return -ENOMEM;
	if (rc == 0)
		rc = env_set(e, "SWEEP_PARAMS", params);
	free(params);
	snprintf(num, sizeof num, "%" PRId64, t->id);
	if (rc == 0)
		rc = env_set(e, "SWEEP_TRIAL_ID", num);
	snprintf(num, sizeof num, "%d", t->number);
	if (rc == 0)
		rc = env_set(e, "SWEEP_TRIAL_NUMBER", num);
	snprintf(num, sizeof num, "%" PRId64, t->sweep->id);
	if (rc == 0)
		rc = env_set(e, "SWEEP_SWEEP_ID", num);
	snprintf(num, sizeof num, "%" PRIu64, t->seed);
	if (rc == 0)
		rc = env_set(e, "SWEEP_SEED", num);
	snprintf(num, sizeof num, "%d", t->attempt);
	if (rc == 0)
		rc = env_set(e, "SWEEP_ATTEMPT", num);
	if (rc == 0)
		rc = env_set(e, "SWEEP_REPORT_FD", "3");
	reaper_trial_env(t->sweep->srv, t->id, key, sizeof key);
	if (rc == 0)
		rc = env_set(e, REAPER_ENV, key);
	return rc;
}

/* argv for `sweepd --exec-trial MEMORY_MB NICE CGROUP_PROCS -- COMMAND...`;
 * the two numbers are owned by the array, the rest borrowed. */
static int
wrap_limits(struct server *s, const struct spec *sp, char *cgprocs,
	    char **args, char ***out)
{
	int n = 0;
	char **w;

	while (args[n])
		n++;
	w = calloc((size_t)n + 7, sizeof *w);
	if (!w)
		return -ENOMEM;
	w[0] = s->self_exe;
	w[1] = "--exec-trial";
	if (asprintf(&w[2], "%ld", sp->memory_mb) < 0)
		w[2] = NULL;
	if (asprintf(&w[3], "%d", sp->nice) < 0)
		w[3] = NULL;
	if (!w[2] || !w[3]) {
		free(w[2]);
		free(w[3]);
		free(w);
		return -ENOMEM;
	}
	w[4] = cgprocs;
	w[5] = "--";
	for (int i = 0; i < n; i++)
		w[6 + i] = args[i];
	*out = w;
	return 0;
}

static void
reset_run_state(struct trial *t)
{
	curve_clear(t);
	cJSON_Delete(t->diagnosis);
	t->diagnosis = NULL;
	t->open_handles = t->pipes_open = 0;
	t->pid = 0;
	t->exited = 0;
	t->exit_status = 0;
	t->term_signal = 0;
	t->spawn_error = 0;
	t->wrapped = 0;
	t->errtail_len = 0;
	t->stop = STOP_NONE;
	t->stop_msg[0] = '\0';
	t->last_epoch = 0;
	t->best = NAN;
	t->best_epoch = 0;
	t->got_final = 0;
	t->plain_reports = 0;
	t->plain_example[0] = '\0';
	t->final_best_epoch = 0;
	t->test_loss = t->test_acc = NAN;
}

void
trial_reset(struct trial *t)
{
	reset_run_state(t);
}

static void
init_handles(struct trial *t, uv_loop_t *loop)
{
	uv_handle_t *hs[] = {
		(uv_handle_t *)&t->report, (uv_handle_t *)&t->out,
		(uv_handle_t *)&t->err, (uv_handle_t *)&t->deadline,
		(uv_handle_t *)&t->killer, (uv_handle_t *)&t->stall,
		(uv_handle_t *)&t->drain,
	};

	uv_pipe_init(loop, &t->report, 0);
	uv_pipe_init(loop, &t->out, 0);
	uv_pipe_init(loop, &t->err, 0);
	uv_timer_init(loop, &t->deadline);
	uv_timer_init(loop, &t->killer);
	uv_timer_init(loop, &t->stall);
	uv_idle_init(loop, &t->drain);
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		hs[i]->data = t;
	t->open_handles = (int)(sizeof hs / sizeof hs[0]);
	t->pipes_open = 3;
}

/* uv_spawn failed: the pipes were never connected, close everything and
 * let the close callbacks deliver the trial to the scheduler. */
static void
abort_start(struct trial *t, int rc, int spawned)
{
	t->spawn_error = rc;
	t->exited = 1;
	t->pipes_open = 0;
	close_handle((uv_handle_t *)&t->report);
	close_handle((uv_handle_t *)&t->out);
	close_handle((uv_handle_t *)&t->err);
	close_handle((uv_handle_t *)&t->deadline);
	close_handle((uv_handle_t *)&t->killer);
	close_handle((uv_handle_t *)&t->stall);
	close_handle((uv_handle_t *)&t->drain);
	/* libuv: the process handle must be closed even when spawn failed. */
	if (spawned)
		close_handle((uv_handle_t *)&t->proc);
}

/* Why uv_spawn failed. The child changes to the cwd before it execs, and
 * both report through the same errno: when the cwd is what is missing,
 * say so rather than blame the command. */
static void
spawn_message(const uv_process_options_t *opt, int rc, char *err, size_t errlen)
{
	struct stat st;
	int e = 0;

	if (!opt->cwd)
		e = 0;
	else if (stat(opt->cwd, &st) < 0)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else if (access(opt->cwd, X_OK) < 0)
		e = errno;
	if (e) {
		snprintf(err, errlen, "cannot start %s: trainer.cwd %s: %s",
			 opt->file, opt->cwd, strerror(e));
		return;
	}
	snprintf(err, errlen, "cannot start %s: %s", opt->file, uv_strerror(rc));
}

int
trial_start(struct trial *t, char *err, size_t errlen)
{
	struct server *s = t->sweep->srv;
	const struct spec *sp = t->sweep->spec;
	uv_process_options_t opt;
	uv_stdio_container_t io[4];
	struct envb env = { 0 };
	char *builtin_argv[2] = { s->worker_bin, NULL };
	char **wrapped = NULL;
	char cgprocs[4300];
	int rc;

	reset_run_state(t);
	t->attempt++;
	t->status = TRIAL_RUNNING;
	t->started_at = server_now();
	t->last_report_ms = uv_now(s->loop);
	init_handles(t, s->loop);
	linebuf_free(&t->report_lb);
	linebuf_free(&t->out_lb);
	if (linebuf_init(&t->report_lb, REPORT_MAX_LINE) < 0 ||
	    linebuf_init(&t->out_lb, REPORT_MAX_LINE) < 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		abort_start(t, rc, 0);
		return rc;
	}
	linebuf_skip_overlong(&t->out_lb);

	memset(&opt, 0, sizeof opt);
	memset(io, 0, sizeof io);
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&t->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&t->err;
	io[3].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[3].data.stream = (uv_stream_t *)&t->report;
	opt.stdio = io;
	opt.stdio_count = 4;
	opt.exit_cb = on_exit_cb;
	opt.flags = UV_PROCESS_DETACHED;
	opt.args = sp->builtin ? builtin_argv : sp->argv;
	trialcg_create(s, t->id, cgprocs, sizeof cgprocs);
	if (sp->memory_mb > 0 || sp->nice != 0 || cgprocs[0]) {
		/* libuv has no pre-exec hook: sweepd re-executes itself to set
		 * the limits and join the trial's cgroup, then execs the
		 * trainer (main.c, --exec-trial). */
		rc = wrap_limits(s, sp, cgprocs, opt.args, &wrapped);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			abort_start(t, rc, 0);
			return rc;
		}
		opt.args = wrapped;
		t->wrapped = 1;
	}
	opt.file = opt.args[0];
	opt.cwd = sp->cwd;
	t->proc.data = t;

	rc = build_env(t, &env);
	if (rc < 0) {
		snprintf(err, errlen, "cannot build the environment: %s",
			 strerror(-rc));
		abort_start(t, rc, 0);
		goto out;
	}
	opt.env = env.v;
	t->open_handles++;   /* the process handle, from uv_spawn on */
	rc = uv_spawn(s->loop, &t->proc, &opt);
	if (rc < 0) {
		spawn_message(&opt, rc, err, errlen);
		abort_start(t, rc, 1);
		goto out;
	}
	t->pid = t->proc.pid;
	uv_read_start((uv_stream_t *)&t->report, alloc_cb, on_report_read);
	uv_read_start((uv_stream_t *)&t->out, alloc_cb, on_out_read);
	uv_read_start((uv_stream_t *)&t->err, alloc_cb, on_err_read);
	if (sp->timeout_s > 0)
		uv_timer_start(&t->deadline, on_deadline,
			       (uint64_t)(sp->timeout_s * 1000.0), 0);
	if (sp->stall_s > 0) {
		uint64_t every = (uint64_t)(sp->stall_s * 250.0);
		uv_timer_start(&t->stall, on_stall_check, every ? every : 1,
			       every ? every : 1);
	}
out:
	if (wrapped) {
		free(wrapped[2]);
		free(wrapped[3]);
		free(wrapped);
	}
	env_free(&env);
	return rc;
}
