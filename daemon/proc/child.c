/*
 * child.c: a trainer process on the loop (see child.h).
 *
 * The child is started by spawn.c (a vfork-style clone, at a cost that
 * does not grow with the daemon, which sets its limits and cgroup before
 * it execs) in its own session, so its pid
 * is also its process group; a pidfd polled on the loop says when it
 * exited, and waitid on that pidfd reaps it. It ends when it was reaped and its
 * pipes closed, whichever came last (as tmux's job.c does): once it has
 * exited, the launcher kills what it left in its group, and a drain timer
 * closes the pipes anyway if something outside the group still holds them.
 * Every handle is then closed, and the last close callback delivers the
 * end: libuv lets a handle's memory go, or be initialized again, only from
 * its close callback on.
 *
 * Report pipes (fd 3, stdout) are read into a backlog that on_drain, an
 * idle handle, hands to the line splitter CHILD_BATCH_LINES lines per pipe
 * per turn of the loop; past CHILD_BACKLOG_HIGH the pipe is not read until
 * the backlog is handled, so a trainer that floods it blocks in write.
 */
#include "daemon/proc/child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/report.h"
#include "daemon/log.h"
#include "daemon/proc/spawn.h"

/* Shared by every child's reads: each callback consumes it at once. */
static char readbuf[65536];

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

/* ---- ending ---------------------------------------------------------- */

static void
handle_closed(struct child *c)
{
	if (--c->open_handles > 0)
		return;
	if (c->launcher->release)
		c->launcher->release(c);
	c->priv = NULL;
	/* Last: the owner may free c or start it again. */
	c->cb->ended(c->ud, c);
}

static void
on_handle_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void
on_pipe_closed(uv_handle_t *h)
{
	handle_closed(((struct child_pipe *)h->data)->c);
}

/* libuv leaves a polled fd to its owner: it goes once the poll is closed. */
static void
on_exitw_closed(uv_handle_t *h)
{
	struct child *c = h->data;

	close(c->pidfd);
	c->pidfd = -1;
	handle_closed(c);
}

static void
close_handle(uv_handle_t *h)
{
	struct child *c = h->data;

	if (uv_is_closing(h))
		return;
	uv_close(h, h == (uv_handle_t *)&c->exitw ? on_exitw_closed :
		 on_handle_closed);
}

/* Once the child is reaped and the pipes are shut, only the timers remain. */
static void
maybe_done(struct child *c)
{
	if (!c->exited || c->pipes_open > 0)
		return;
	close_handle((uv_handle_t *)&c->deadline);
	close_handle((uv_handle_t *)&c->killer);
	close_handle((uv_handle_t *)&c->stall);
	close_handle((uv_handle_t *)&c->drain);
}

/* Whatever is still unread in a closed pipe's backlog is dropped with it. */
static void
close_pipe(struct child_pipe *p)
{
	struct child *c = p->c;

	if (!p->open)
		return;
	p->open = 0;
	free(p->bl.buf);
	memset(&p->bl, 0, sizeof p->bl);
	uv_read_stop((uv_stream_t *)&p->h);
	c->pipes_open--;
	uv_close((uv_handle_t *)&p->h, on_pipe_closed);
	maybe_done(c);
}

static void
close_pipes(struct child *c)
{
	close_pipe(&c->report);
	close_pipe(&c->out);
	close_pipe(&c->err);
}

void
child_signal_group(struct child *c, int sig)
{
	if (c->pid <= 0)
		return;
	/* The group first (grandchildren), then the leader in case it left. */
	if (kill(-c->pid, sig) < 0 && errno != ESRCH)
		log_warn("kill(-%d, %d): %s", c->pid, sig, strerror(errno));
	kill(c->pid, sig);
}

static void
on_killer(uv_timer_t *tm)
{
	struct child *c = tm->data;

	if (!c->exited) {
		log_warn("%s (pid %d) ignored SIGTERM: SIGKILL", c->label,
			 c->pid);
		c->launcher->signal(c, SIGKILL);
		return;
	}
	/* Exited, but something outside its group still holds a pipe. */
	close_pipes(c);
}

void
child_stop(struct child *c)
{
	if (c->exited || c->pid <= 0)
		return;
	c->launcher->signal(c, SIGTERM);
	if (!uv_is_active((uv_handle_t *)&c->killer))
		uv_timer_start(&c->killer, on_killer, c->kill_grace_ms, 0);
}

static void
child_exited(struct child *c, int64_t exit_status, int term_signal)
{
	c->exited = 1;
	c->exit_status = exit_status;
	c->term_signal = term_signal;
	c->launcher->reaped(c);
	if (c->cb->exited)
		c->cb->exited(c->ud);
	uv_timer_stop(&c->deadline);
	uv_timer_stop(&c->killer);
	uv_timer_stop(&c->stall);
	close_handle((uv_handle_t *)&c->exitw);
	if (c->pipes_open > 0)
		uv_timer_start(&c->killer, on_killer, c->drain_ms, 0);
	maybe_done(c);
}

/* The pidfd is readable: the process exited; reap it (only this pid: the
 * daemon's other children are libuv's or the reaper's). */
static void
on_exit_ready(uv_poll_t *h, int status, int events)
{
	struct child *c = h->data;
	siginfo_t si;

	(void)status;
	(void)events;
	memset(&si, 0, sizeof si);
	if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		/* ECHILD: reaped by someone else; its status is lost */
		log_warn("%s (pid %d): waitid: %s", c->label, c->pid,
			 strerror(errno));
		si.si_code = CLD_EXITED;
		si.si_status = 127;
	} else if (si.si_pid == 0) {
		return;   /* not yet */
	}
	uv_poll_stop(h);
	if (si.si_code == CLD_EXITED)
		child_exited(c, si.si_status, 0);
	else
		child_exited(c, 0, si.si_status);
}

/* ---- reading --------------------------------------------------------- */

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	buf->base = readbuf;
	buf->len = sizeof readbuf;
}

static int
on_report_line(void *ud, char *line, size_t len)
{
	struct child *c = ud;

	return c->cb->report(c->ud, line, len);
}

/* stdout may carry "SWEEP " report lines among anything else the trainer
 * prints; an overlong line that is not a report is skipped (out's linebuf
 * is in skip mode), not an error; an overlong report line is refused as on
 * fd 3 (linebuf_keep_prefix). */
static int
on_stdout_line(void *ud, char *line, size_t len)
{
	struct child *c = ud;
	const char *payload;
	size_t plen;

	if (!report_strip_prefix(line, len, &payload, &plen)) {
		if (c->cb->output)
			c->cb->output(c->ud, line, len);
		return 0;
	}
	/* payload points into line, which is ours to modify */
	return c->cb->report(c->ud, (char *)payload, plen);
}

static void
refuse(struct child *c, const char *msg)
{
	if (c->cb->refused)
		c->cb->refused(c->ud, msg);
}

static int
backlog_append(struct child_backlog *b, const char *data, size_t n)
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

/* The length of the first CHILD_BATCH_LINES lines of the backlog, or all
 * of it when it holds fewer (a partial last line then goes to the linebuf,
 * which keeps the length cap). */
static size_t
backlog_batch(const struct child_backlog *b)
{
	const char *p = b->buf + b->off, *end = b->buf + b->len;

	for (int i = 0; i < CHILD_BATCH_LINES && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return b->len - b->off;
		p = nl + 1;
	}
	return (size_t)(p - (b->buf + b->off));
}

/* Handles one batch of the pipe's backlog; at EOF with nothing left, the
 * unterminated last line and the close. 1 while bytes remain, else 0. */
static int
drain_pipe(struct child_pipe *p)
{
	struct child *c = p->c;
	struct child_backlog *b = &p->bl;
	linebuf_cb cb = p->kind == CHILD_PIPE_OUT ? on_stdout_line :
		on_report_line;
	char msg[64];
	size_t n;
	int rc;

	if (!p->open)
		return 0;
	n = backlog_batch(b);
	rc = n ? linebuf_feed(&p->lb, b->buf + b->off, n, cb, c) : 0;
	b->off += n;
	if (rc == -E2BIG) {
		snprintf(msg, sizeof msg, "report line longer than %zu KiB",
			 p->lb.max / 1024);
		refuse(c, msg);
	}
	if (rc < 0) {
		close_pipe(p);
		return 0;
	}
	if (b->off < b->len)
		return 1;
	b->off = b->len = 0;
	if (b->eof) {
		linebuf_finish(&p->lb, cb, c);
		close_pipe(p);
	} else if (b->paused) {
		b->paused = 0;
		uv_read_start((uv_stream_t *)&p->h, alloc_cb, on_read);
	}
	return 0;
}

static void
on_drain(uv_idle_t *h)
{
	struct child *c = h->data;
	int more;

	more = drain_pipe(&c->report);
	more |= drain_pipe(&c->out);
	if (!more)
		uv_idle_stop(h);
}

/* A read of a report pipe only queues the bytes; on_drain handles them,
 * a batch per turn of the loop. */
static void
queue_read(struct child_pipe *p, ssize_t n, const uv_buf_t *buf)
{
	struct child_backlog *b = &p->bl;

	if (n == 0)
		return;
	if (n < 0) {
		b->eof = 1;
		uv_read_stop((uv_stream_t *)&p->h);
	} else if (backlog_append(b, buf->base, (size_t)n) < 0) {
		refuse(p->c, "out of memory for the report pipe");
		close_pipe(p);
		return;
	} else if (b->len - b->off >= CHILD_BACKLOG_HIGH) {
		b->paused = 1;
		uv_read_stop((uv_stream_t *)&p->h);
	}
	if (!uv_is_active((uv_handle_t *)&p->c->drain))
		uv_idle_start(&p->c->drain, on_drain);
}

/* Keeps only the last CHILD_ERRTAIL bytes of stderr. */
static void
keep_tail(struct child *c, const char *p, size_t len)
{
	if (len >= CHILD_ERRTAIL) {
		p += len - CHILD_ERRTAIL;
		len = CHILD_ERRTAIL;
	}
	if (c->errtail_len + len > CHILD_ERRTAIL) {
		size_t drop = c->errtail_len + len - CHILD_ERRTAIL;
		memmove(c->errtail, c->errtail + drop, c->errtail_len - drop);
		c->errtail_len -= drop;
	}
	memcpy(c->errtail + c->errtail_len, p, len);
	c->errtail_len += len;
}

void
child_keep_tail(struct child *c, const char *p, size_t n)
{
	keep_tail(c, p, n);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct child_pipe *p = st->data;

	if (p->kind != CHILD_PIPE_ERR) {
		queue_read(p, n, buf);
	} else if (n < 0) {
		if (p->c->launcher->err_data)
			p->c->launcher->err_data(p->c, NULL, 0);
		close_pipe(p);
	} else if (p->c->launcher->err_data) {
		p->c->launcher->err_data(p->c, buf->base, (size_t)n);
	} else {
		keep_tail(p->c, buf->base, (size_t)n);
	}
}

/* ---- the clocks ------------------------------------------------------ */

static void
on_deadline(uv_timer_t *tm)
{
	struct child *c = tm->data;

	if (c->cb->limit)
		c->cb->limit(c->ud, CHILD_TIMEOUT);
}

/* Alive but silent for stall_s: told once. */
static void
on_stall_check(uv_timer_t *tm)
{
	struct child *c = tm->data;
	uint64_t now = uv_now(c->loop);

	if ((double)(now - c->alive_ms) < c->stall_s * 1000.0)
		return;
	uv_timer_stop(tm);
	if (c->cb->limit)
		c->cb->limit(c->ud, CHILD_STALL);
}

void
child_alive(struct child *c)
{
	c->alive_ms = uv_now(c->loop);
}

void
child_running(struct child *c)
{
	c->alive_ms = uv_now(c->loop);
	/* A row may learn of the start only after the reap (srun's line
	 * read after its exit): the clocks then have nothing to time. */
	if (c->timeout_s > 0 && !c->exited)
		uv_timer_start(&c->deadline, on_deadline,
			       (uint64_t)(c->timeout_s * 1000.0), 0);
	if (c->stall_s > 0 && !c->exited) {
		uint64_t every = (uint64_t)(c->stall_s * 250.0);
		uv_timer_start(&c->stall, on_stall_check, every ? every : 1,
			       every ? every : 1);
	}
	if (c->cb->started)
		c->cb->started(c->ud);
}

/* ---- starting -------------------------------------------------------- */

void
child_reset(struct child *c)
{
	c->pid = 0;
	c->exited = 0;
	c->exit_status = 0;
	c->term_signal = 0;
	c->spawn_error = 0;
	c->in_cgroup = 0;
	c->proc_start = 0;
	c->errtail_len = 0;
}

void
child_free(struct child *c)
{
	linebuf_free(&c->report.lb);
	linebuf_free(&c->out.lb);
	free(c->report.bl.buf);
	free(c->out.bl.buf);
	memset(&c->report.bl, 0, sizeof c->report.bl);
	memset(&c->out.bl, 0, sizeof c->out.bl);
}

static void
init_pipe(struct child *c, struct child_pipe *p, enum child_pipe_kind kind)
{
	uv_pipe_init(c->loop, &p->h, 0);
	p->h.data = p;
	p->c = c;
	p->kind = kind;
	p->open = 1;
	c->open_handles++;
	c->pipes_open++;
}

static void
init_handles(struct child *c)
{
	uv_handle_t *hs[] = {
		(uv_handle_t *)&c->deadline, (uv_handle_t *)&c->killer,
		(uv_handle_t *)&c->stall, (uv_handle_t *)&c->drain,
	};

	c->open_handles = c->pipes_open = 0;
	if (c->launcher->report_fd)
		init_pipe(c, &c->report, CHILD_PIPE_REPORT);
	init_pipe(c, &c->out, CHILD_PIPE_OUT);
	init_pipe(c, &c->err, CHILD_PIPE_ERR);
	uv_timer_init(c->loop, &c->deadline);
	uv_timer_init(c->loop, &c->killer);
	uv_timer_init(c->loop, &c->stall);
	uv_idle_init(c->loop, &c->drain);
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		hs[i]->data = c;
	c->open_handles += (int)(sizeof hs / sizeof hs[0]);
}

static void
setup(struct child *c, const struct child_config *cfg,
      const struct child_cbs *cb, void *ud)
{
	child_reset(c);
	c->launcher = cfg->launcher ? cfg->launcher : &launcher_local;
	c->cb = cb;
	c->ud = ud;
	c->loop = cfg->loop;
	snprintf(c->label, sizeof c->label, "%s", cfg->label ? cfg->label :
		 "child");
	c->timeout_s = cfg->timeout_s;
	c->stall_s = cfg->stall_s;
	c->kill_grace_ms = cfg->kill_grace_ms ? cfg->kill_grace_ms :
		CHILD_KILL_GRACE_MS;
	c->drain_ms = cfg->drain_ms ? cfg->drain_ms : CHILD_DRAIN_MS;
	c->exitw_used = 0;
	c->pidfd = -1;
	c->priv = cfg->launcher_arg;
	c->report.open = c->out.open = c->err.open = 0;
	init_handles(c);
}

/* The start failed: the pipes were never connected; close everything and
 * let the close callbacks deliver the end. */
static void
abort_start(struct child *c, int rc)
{
	struct child_pipe *ps[] = { &c->report, &c->out, &c->err };

	c->spawn_error = rc;
	c->exited = 1;
	c->pipes_open = 0;
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
		if (!ps[i]->open)
			continue;
		ps[i]->open = 0;
		uv_close((uv_handle_t *)&ps[i]->h, on_pipe_closed);
	}
	close_handle((uv_handle_t *)&c->deadline);
	close_handle((uv_handle_t *)&c->killer);
	close_handle((uv_handle_t *)&c->stall);
	close_handle((uv_handle_t *)&c->drain);
	if (c->exitw_used)
		close_handle((uv_handle_t *)&c->exitw);
}

void
child_fail(struct child *c, const struct child_config *cfg,
	   const struct child_cbs *cb, void *ud, int rc)
{
	setup(c, cfg, cb, ud);
	abort_start(c, rc);
}

int
child_start(struct child *c, const struct child_config *cfg,
	    const struct child_cbs *cb, void *ud, char *err, size_t errlen)
{
	int rc;

	setup(c, cfg, cb, ud);
	child_free(c);
	if (linebuf_init(&c->report.lb, cfg->max_line) < 0 ||
	    linebuf_init(&c->out.lb, cfg->max_line) < 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		abort_start(c, rc);
		return rc;
	}
	linebuf_skip_overlong(&c->out.lb);
	linebuf_keep_prefix(&c->out.lb, REPORT_STDOUT_PREFIX);
	rc = c->launcher->start(c, cfg, err, errlen);
	if (rc < 0)
		abort_start(c, rc);
	return rc;
}

/* Why the spawn failed, from the step of the child that failed. */
static void
spawn_message(const struct child_config *cfg, const char *file,
	      const struct spawn_result *res, int rc, char *err, size_t errlen)
{
	switch (res->step) {
	case SPAWN_STEP_MEMORY:
		snprintf(err, errlen, "cannot set limits.memory_mb=%ld: %s",
			 cfg->memory_mb, strerror(-rc));
		break;
	case SPAWN_STEP_NICE:
		snprintf(err, errlen, "cannot set limits.nice=%d: %s", cfg->nice,
			 strerror(-rc));
		break;
	case SPAWN_STEP_CWD:
		snprintf(err, errlen, "cannot start %s: trainer.cwd %s: %s",
			 file, cfg->cwd, strerror(-rc));
		break;
	default:
		snprintf(err, errlen, "cannot start %s: %s", file,
			 uv_strerror(rc));
	}
}

/* A process that cannot be watched is not left running: killed and
 * reaped at once (it was just spawned; SIGKILL cannot be held off). */
static void
reap_now(int pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The exit, watched on the loop: a pidfd (Linux 5.3) polled for reading,
 * the one the clone gave (fd, owned), else one opened now. Nothing else
 * reaps this pid, so it cannot be gone before pidfd_open. */
static int
watch_exit(struct child *c, int pid, int fd)
{
	int rc;

	if (fd < 0)
		fd = pidfd_open(pid, 0);

	if (fd < 0) {
		rc = -errno;
		reap_now(pid);
		return rc;
	}
	rc = uv_poll_init(c->loop, &c->exitw, fd);
	if (rc < 0) {
		close(fd);
		reap_now(pid);
		return rc;
	}
	c->exitw.data = c;
	c->pidfd = fd;
	c->exitw_used = 1;
	c->open_handles++;
	rc = uv_poll_start(&c->exitw, UV_READABLE, on_exit_ready);
	if (rc < 0) {
		close_handle((uv_handle_t *)&c->exitw);
		reap_now(pid);
	}
	return rc;
}

/* A pipe per open child_pipe; its read end goes to the handle (which
 * closes it), its write end, for the child, to wr[i]. */
static int
open_pipes(struct child_pipe *const *ps, int n, int *wr)
{
	int fds[2], rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		rc = spawn_pipe(fds);
		if (rc < 0)
			break;
		rc = uv_pipe_open(&ps[i]->h, fds[0]);
		if (rc < 0)
			close(fds[0]);
		wr[i] = fds[1];
	}
	return rc;
}

int
child_spawn(struct child *c, const struct child_config *cfg,
	    char *const *argv, char *err, size_t errlen)
{
	struct child_pipe *ps[] = { &c->out, &c->err, &c->report };
	int wr[SPAWN_MAX_FDS] = { -1, -1, -1 };
	int n = c->report.open ? 3 : 2, rc;
	struct spawn_req req = {
		.argv = argv, .env = cfg->env, .cwd = cfg->cwd,
		.fds = wr, .nfds = n, .memory_mb = cfg->memory_mb,
		.nice = cfg->nice, .cgroup = cfg->cgroup,
		.cgroup_at = cfg->cgroup_at,
	};
	struct spawn_result res = { .pidfd = -1 };

	rc = open_pipes(ps, n, wr);
	if (rc == 0)
		rc = spawn_run(&req, &res);
	for (int i = 0; i < n; i++)
		if (wr[i] >= 0)
			close(wr[i]);
	if (rc == 0)
		rc = watch_exit(c, res.pid, res.pidfd);
	if (rc < 0) {
		spawn_message(cfg, argv[0], &res, rc, err, errlen);
		return rc;
	}
	c->pid = res.pid;
	c->in_cgroup = res.in_cgroup;
	c->proc_start = res.start_ticks;
	for (int i = 0; i < 3; i++)
		if (ps[i]->open)
			uv_read_start((uv_stream_t *)&ps[i]->h, alloc_cb, on_read);
	return 0;
}
