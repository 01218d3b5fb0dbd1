/*
 * slurm_run.c: the Slurm launcher row (slurm_run.h, docs/slurm.md).
 *
 * Three kinds of helper process run on the loop, each in memory of its
 * own that its last close callback frees, so that none depends on the
 * trial it served: the poller's squeue (one at a time, for every watched
 * job), and scancels.
 */
#include "daemon/proc/slurm_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/proc/slurm.h"

/* ---- helper processes ------------------------------------------------ */

/* A command whose stdout is read whole (squeue), or ignored (scancel). */
struct helper {
	uv_process_t proc;
	uv_pipe_t out;
	int capture;                  /* out is used */
	int closes;                   /* handles still to close */
	int exited, eof;
	int64_t status;
	char *buf;                    /* owned: stdout so far, NUL-terminated */
	size_t len, cap;
	void (*done)(struct helper *h);   /* once exited and read */
	unsigned long long job;       /* scancel: its job */
	int then_whole_job;           /* scancel: on failure, `scancel JOB` */
	struct helper *next;          /* live helpers (slurm_run_helper) */
};

static struct helper *helpers;   /* spawned, not yet exited */

int
slurm_run_helper(int pid)
{
	for (struct helper *h = helpers; h; h = h->next)
		if (h->proc.pid == pid)
			return 1;
	return 0;
}

static void
helper_unlist(struct helper *h)
{
	for (struct helper **p = &helpers; *p; p = &(*p)->next) {
		if (*p == h) {
			*p = h->next;
			return;
		}
	}
}

static void
helper_closed(uv_handle_t *hd)
{
	struct helper *h = hd->data;

	if (--h->closes > 0)
		return;
	free(h->buf);
	free(h);
}

static void
helper_maybe_done(struct helper *h)
{
	if (!h->exited || (h->capture && !h->eof))
		return;
	if (h->done)
		h->done(h);
	uv_close((uv_handle_t *)&h->proc, helper_closed);
	if (h->capture)
		uv_close((uv_handle_t *)&h->out, helper_closed);
}

static void
helper_exit(uv_process_t *p, int64_t status, int sig)
{
	struct helper *h = p->data;

	h->exited = 1;
	h->status = sig ? 128 + sig : status;
	helper_unlist(h);
	helper_maybe_done(h);
}

static void
helper_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
	struct helper *h = hd->data;

	(void)suggested;
	if (h->cap - h->len < 4096 + 1) {
		size_t cap = h->cap ? h->cap * 2 : 16384;
		char *nb = realloc(h->buf, cap);
		if (!nb) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		h->buf = nb;
		h->cap = cap;
	}
	buf->base = h->buf + h->len;
	buf->len = h->cap - h->len - 1;
}

static void
helper_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct helper *h = st->data;

	(void)buf;
	if (n > 0) {
		h->len += (size_t)n;
		h->buf[h->len] = '\0';
		return;
	}
	if (n == 0)
		return;
	uv_read_stop(st);
	h->eof = 1;
	helper_maybe_done(h);
}

/* Runs argv (PATH searched, the daemon's environment) with stdin and
 * stderr on /dev/null; stdout read into h->buf when capture. 0 or a
 * negative libuv error (h is then freed). */
static int
helper_run(uv_loop_t *loop, char *const *argv, int capture,
	   void (*done)(struct helper *h), struct helper **out)
{
	struct helper *h = calloc(1, sizeof *h);
	uv_process_options_t opt;
	uv_stdio_container_t io[3];
	int rc;

	if (!h)
		return UV_ENOMEM;
	memset(&opt, 0, sizeof opt);
	memset(io, 0, sizeof io);
	h->capture = capture;
	h->done = done;
	h->proc.data = h;
	h->out.data = h;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_IGNORE;
	io[2].flags = UV_IGNORE;
	if (capture) {
		uv_pipe_init(loop, &h->out, 0);
		io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		io[1].data.stream = (uv_stream_t *)&h->out;
	}
	opt.file = argv[0];
	opt.args = (char **)argv;
	opt.stdio = io;
	opt.stdio_count = 3;
	opt.exit_cb = helper_exit;
	rc = uv_spawn(loop, &h->proc, &opt);
	h->closes = 1 + capture;
	if (rc < 0) {
		uv_close((uv_handle_t *)&h->proc, helper_closed);
		if (capture)
			uv_close((uv_handle_t *)&h->out, helper_closed);
		return rc;
	}
	if (capture)
		uv_read_start((uv_stream_t *)&h->out, helper_alloc, helper_read);
	h->next = helpers;
	helpers = h;
	if (out)
		*out = h;
	return 0;
}

/* ---- scancel --------------------------------------------------------- */

static void scancel(uv_loop_t *loop, unsigned long long job, int sig);

static void
scancel_done(struct helper *h)
{
	if (h->status != 0 && h->then_whole_job)
		scancel(h->proc.loop, h->job, 0);
}

/* sig 0: the whole job (`scancel JOB`); else the signal to its step 0,
 * and for SIGKILL the whole job after all when that fails (no step yet). */
static void
scancel(uv_loop_t *loop, unsigned long long job, int sig)
{
	char target[32], how[32];
	char *argv[4] = { "scancel", NULL, NULL, NULL };
	struct helper *h = NULL;
	int rc;

	if (sig) {
		snprintf(how, sizeof how, "--signal=%s", sig == SIGKILL ? "KILL" : "TERM");
		snprintf(target, sizeof target, "%llu.0", job);
		argv[1] = how;
		argv[2] = target;
	} else {
		snprintf(target, sizeof target, "%llu", job);
		argv[1] = target;
	}
	rc = helper_run(loop, argv, 0, scancel_done, &h);
	if (rc < 0) {
		log_warn("cannot run scancel for job %llu: %s", job, uv_strerror(rc));
		return;
	}
	h->job = job;
	h->then_whole_job = sig == SIGKILL;
}

/* ---- the poller ------------------------------------------------------ */

static struct {
	uv_loop_t *loop;              /* borrowed: the first run's */
	struct slurm_run *runs;       /* watched: spawned, not yet reaped */
	uv_timer_t *timer;            /* NULL or owned, while runs exist */
	int busy;                     /* a squeue runs */
	int failing;                  /* squeue failed last time (logged) */
} poller;

static void poll_tick(uv_timer_t *tm);

static void
timer_freed(uv_handle_t *h)
{
	free(h);
}

/* The timer runs while a job is watched, and goes with the last. */
static void
poller_update(void)
{
	if (poller.runs && !poller.timer) {
		poller.timer = malloc(sizeof *poller.timer);
		if (!poller.timer)
			return;   /* srun's own lines still tell the start */
		uv_timer_init(poller.loop, poller.timer);
		uv_timer_start(poller.timer, poll_tick, SLURM_FIRST_MS, SLURM_POLL_MS);
	} else if (!poller.runs && poller.timer) {
		uv_close((uv_handle_t *)poller.timer, timer_freed);
		poller.timer = NULL;
	}
}

static void
watch(struct slurm_run *r)
{
	if (r->watched)
		return;
	r->watched = 1;
	r->next = poller.runs;
	poller.runs = r;
	poller_update();
}

static void
unwatch(struct slurm_run *r)
{
	if (!r->watched)
		return;
	for (struct slurm_run **p = &poller.runs; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	r->watched = 0;
	r->next = NULL;
	poller_update();
}

/* The job id is known: signals asked for meanwhile go now. */
static void deliver(struct slurm_run *r, int sig);

static void
job_named(struct slurm_run *r, unsigned long long id)
{
	if (r->job || !id)
		return;
	r->job = id;
	if (r->job_known)
		r->job_known(r->ud);
	if (r->held_sig) {
		int sig = r->held_sig;
		r->held_sig = 0;
		deliver(r, sig);
	}
}

static void
job_started(struct slurm_run *r)
{
	if (r->running)
		return;
	r->running = 1;
	r->start_ms = uv_now(r->c->loop);
	child_running(r->c);
}

static void
poll_one(struct slurm_run *r, const char *out)
{
	struct slurm_job j;
	char err[256];
	int rc = slurm_squeue_find(out, r->name, r->comment, &j, err, sizeof err);

	if (rc == -EBADMSG && !poller.failing)
		log_warn("%s", err);
	if (rc < 0)
		return;   /* not submitted yet, or gone from squeue */
	job_named(r, j.id);
	if (j.cls == SLURM_JOB_RUNNING)
		job_started(r);
	if (j.cls == SLURM_JOB_ENDED)
		r->seen_ended = 1;
	if ((strcmp(j.state, "PREEMPTED") == 0 ||
	     strcmp(j.state, "NODE_FAIL") == 0) && !r->stopping)
		r->preempted = 1;
}

static void
poll_done(struct helper *h)
{
	struct slurm_run *r, *next;

	poller.busy = 0;
	if (h->status != 0) {
		if (!poller.failing)
			log_warn("squeue failed (exit status %lld); trying again",
				 (long long)h->status);
		poller.failing = 1;
		return;
	}
	if (poller.failing)
		log_info("squeue answers again");
	poller.failing = 0;
	/* job_named and job_started call back into the owner, which may stop
	 * the trial (not unwatch it: that waits for the reap). */
	for (r = poller.runs; r; r = next) {
		next = r->next;
		poll_one(r, h->buf ? h->buf : "");
	}
}

static void
poll_tick(uv_timer_t *tm)
{
	const char **names;
	char **argv = NULL;
	size_t n = 0;
	int rc;

	(void)tm;
	if (poller.busy || !poller.runs)
		return;
	for (struct slurm_run *r = poller.runs; r; r = r->next)
		n++;
	names = calloc(n, sizeof *names);
	if (!names)
		return;
	n = 0;
	for (struct slurm_run *r = poller.runs; r; r = r->next)
		names[n++] = r->name;
	rc = slurm_squeue_argv(names, n, &argv);
	free(names);
	if (rc < 0)
		return;
	rc = helper_run(poller.loop, argv, 1, poll_done, NULL);
	slurm_argv_free(argv);
	if (rc < 0) {
		if (!poller.failing)
			log_warn("cannot run squeue: %s", uv_strerror(rc));
		poller.failing = 1;
		return;
	}
	poller.busy = 1;
}

/* ---- srun's stderr --------------------------------------------------- */

/* "srun: error: X" lines, joined "X; Y" (as much as fits). */
static void
error_line(struct slurm_run *r, const char *line, size_t len)
{
	static const char tag[] = "srun: error: ";
	size_t have = strlen(r->error);

	if (len >= sizeof tag - 1 && memcmp(line, tag, sizeof tag - 1) == 0) {
		line += sizeof tag - 1;
		len -= sizeof tag - 1;
	}
	snprintf(r->error + have, sizeof r->error - have, "%s%.*s", have ? "; " : "",
		 (int)len, line);
}

/* "srun: error: Node failure on NODE": the node died under the job. */
static int
node_failure(const char *line, size_t len)
{
	static const char tag[] = "srun: error: Node failure on ";

	return len > sizeof tag - 1 && memcmp(line, tag, sizeof tag - 1) == 0;
}

static void
slurm_line(struct slurm_run *r, const char *line, size_t len)
{
	unsigned long long id = 0;

	switch (slurm_stderr_line(line, len, &id)) {
	case SLURM_LINE_TRAINER:
		child_keep_tail(r->c, line, len);
		child_keep_tail(r->c, "\n", 1);
		return;
	case SLURM_LINE_QUEUED:
		job_named(r, id);
		return;
	case SLURM_LINE_ALLOCATED:
		job_named(r, id);
		job_started(r);
		return;
	case SLURM_LINE_CANCELLED:
		job_named(r, id);
		if (!r->stopping)
			r->preempted = 1;
		return;
	case SLURM_LINE_ERROR:
		if (node_failure(line, len)) {
			/* an interruption to resume, as a preemption */
			if (!r->stopping)
				r->preempted = 1;
			return;
		}
		error_line(r, line, len);
		return;
	case SLURM_LINE_TASK:
	case SLURM_LINE_OTHER:
		return;   /* srun's account of the task, its chatter */
	}
}

/* Stderr in lines; a line past the buffer is the trainer's (Slurm's are
 * short) and goes to the tail as it comes. */
static void
slurm_err_data(struct child *c, const char *p, size_t n)
{
	struct slurm_run *r = c->priv;
	const char *end = p + n;

	if (!p) {   /* the end: an unterminated last line */
		if (r->line_len && !r->line_pass)
			slurm_line(r, r->line, r->line_len);
		r->line_len = 0;
		return;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = (size_t)((nl ? nl : end) - p);

		if (r->line_pass) {
			child_keep_tail(c, p, k + (nl != NULL));
		} else if (r->line_len + k >= sizeof r->line) {
			child_keep_tail(c, r->line, r->line_len);
			child_keep_tail(c, p, k + (nl != NULL));
			r->line_len = 0;
			r->line_pass = 1;
		} else {
			memcpy(r->line + r->line_len, p, k);
			r->line_len += k;
			if (nl)
				slurm_line(r, r->line, r->line_len);
		}
		if (nl) {
			r->line_len = 0;
			r->line_pass = 0;
		}
		p += k + (nl != NULL);
	}
}

/* ---- the row --------------------------------------------------------- */

static void
deliver(struct slurm_run *r, int sig)
{
	if (!r->job) {
		/* Not named yet: held until it is. A SIGKILL with the job
		 * still unnamed goes to srun itself, alone (never its
		 * group): srun then gives up its request or cancels its job. */
		if (sig == SIGKILL && r->c->pid > 0 && !r->c->exited)
			kill(r->c->pid, SIGTERM);
		r->held_sig = sig;
		return;
	}
	scancel(r->c->loop, r->job, r->running ? sig : 0);
}

static int
slurm_start(struct child *c, const struct child_config *cfg, char *err,
	    size_t errlen)
{
	struct slurm_run *r = c->priv;
	int rc;

	if (!r || !r->name[0]) {
		snprintf(err, errlen, "a Slurm trial without its job's name");
		return -EINVAL;
	}
	r->c = c;
	r->job = 0;
	r->running = r->stopping = r->preempted = r->held_sig = 0;
	r->seen_ended = 0;
	r->error[0] = '\0';
	r->line_len = 0;
	r->line_pass = 0;
	r->submit_ms = r->start_ms = uv_now(cfg->loop);
	rc = child_spawn(c, cfg, cfg->argv, err, errlen);
	if (rc < 0)
		return rc;
	if (!poller.loop)
		poller.loop = cfg->loop;
	watch(r);
	return 0;
}

static void
slurm_signal(struct child *c, int sig)
{
	struct slurm_run *r = c->priv;

	r->stopping = 1;
	deliver(r, sig);
}

/* srun is gone: a job squeue did not see end is cancelled (srun killed by
 * hand, or lost its controller). */
static void
slurm_reaped(struct child *c)
{
	struct slurm_run *r = c->priv;

	unwatch(r);
	if (r->job && !r->seen_ended)
		scancel(c->loop, r->job, 0);
}

static void
slurm_release(struct child *c)
{
	struct slurm_run *r = c->priv;

	if (r)
		unwatch(r);
}

const struct launcher launcher_slurm = {
	.name = "slurm",
	.report_fd = 0,
	.start = slurm_start,
	.signal = slurm_signal,
	.reaped = slurm_reaped,
	.release = slurm_release,
	.err_data = slurm_err_data,
};
