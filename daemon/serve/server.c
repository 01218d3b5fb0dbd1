/*
 * server.c: the listening socket, client connections and shutdown.
 *
 * Each connection is a small state machine with its own line buffer for
 * input, capped at 1 MiB, and libuv's write queue for output:
 *
 *   OPEN     requests are read and answered;
 *   ENDING   no more requests: what is queued is being written, then the
 *            write side is shut down (uv_shutdown) and the handle closed;
 *   CLOSING  uv_close called: anything still queued is cancelled.
 *
 * A request is handled to completion inside the read callback (ops.c);
 * replies and watch events are queued with uv_write. While more than
 * SERVER_OUT_HIGH of a connection's output is unsent, its requests are no
 * longer read (uv_read_stop, and the rest of the chunk at hand is held):
 * a client that sends requests without reading the replies stalls only
 * itself, at about one reply's worth of memory; reading resumes once it
 * has read enough. A watcher whose queue passes SERVER_WATCH_CAP is
 * dropped. The output of all connections together is bounded too
 * (SERVER_OUT_TOTAL, see server.h), and once most of a large backlog is
 * gone the heap is trimmed so that the memory goes back to the system. A client that half-closes (EOF) after its requests gets every
 * reply before the daemon closes (ENDING).
 */
#include "daemon/serve/server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/linebuf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/wire/wire.h"
#include "daemon/sched/batch.h"
#include "daemon/sched/init.h"
#include "daemon/sched/scheduler.h"

enum conn_state { CONN_OPEN, CONN_ENDING, CONN_CLOSING };

struct conn {
	uv_pipe_t pipe;
	struct server *srv;           /* borrowed */
	struct conn *next, *prev;     /* server's list */
	enum conn_state state;
	struct linebuf in;            /* request lines, SERVER_MAX_LINE cap */
	int64_t watch_sweep;          /* 0: not watching */
	int paused;                   /* not reading: output over SERVER_OUT_HIGH */
	char *held;                   /* NULL or owned: bytes read but not yet fed
	                               * to `in` when it paused; <= readbuf */
	size_t held_len;              /* bytes in held */
	size_t out_cost;              /* memory held by its pending writes */
	/* A reply computed off the loop (server_defer): while it is due, c's
	 * requests are not read, and c is not freed even once closed. */
	int deferred;
	int end_due;                  /* conn_end asked while deferred */
	int closed;                   /* handle closed while deferred */
	server_cancel_fn *cancel;     /* NULL, or asks the deferred work to stop */
	void *cancel_ud;              /* borrowed */
};

struct write_req {
	uv_write_t req;
	size_t cost;                  /* counted in out_cost until written */
	char *owned;                  /* NULL, or the line handed over by
	                               * send_text (cJSON_free) */
	char data[];                  /* else a copy of the line */
};

double
server_now(void)
{
	return sched_now();
}

/* ---- connections ------------------------------------------------------ */

static void
conn_free(struct conn *c)
{
	linebuf_free(&c->in);
	free(c->held);
	free(c);
}

static void
on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (c->deferred) {
		c->closed = 1;   /* server_deferred_reply frees it */
		return;
	}
	conn_free(c);
}

static void
conn_close(struct conn *c)
{
	struct server *s = c->srv;

	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
	if (c->deferred && c->cancel)
		c->cancel(c->cancel_ud);   /* nobody left to answer */
}

/* Whether c has more output pending than it may have while its requests
 * are read. */
static int
conn_over(const struct conn *c)
{
	return c->out_cost > SERVER_OUT_HIGH ||
	       (c->srv->out_cost > SERVER_OUT_TOTAL && c->out_cost > 0);
}

/* Whether c's requests wait: too much output, or a deferred reply due
 * (replies go out in the order of the requests). */
static int
conn_blocked(const struct conn *c)
{
	return conn_over(c) || c->deferred;
}

/* Counts a write's memory in or out. Once the pending output of all
 * connections falls to a quarter of a high mark of some MiB (watchers
 * dropped, a big reply written), malloc_trim hands the freed memory back:
 * glibc would keep it in the heap otherwise. */
static void
out_account(struct conn *c, size_t cost, int add)
{
	struct server *s = c->srv;

	if (add) {
		c->out_cost += cost;
		s->out_cost += cost;
		if (s->out_cost > s->out_peak)
			s->out_peak = s->out_cost;
		return;
	}
	c->out_cost -= cost;
	s->out_cost -= cost;
	if (s->out_peak >= (4u << 20) && s->out_cost < s->out_peak / 4) {
		malloc_trim(0);
		s->out_peak = s->out_cost;
	}
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = req->handle->data;

	(void)status;
	free(req);
	conn_close(c);
}

/* Stops reading and closes c once what is queued for it has been written:
 * uv_close alone would cancel the pending writes, the error reply with
 * them. Nothing more is queued meanwhile (send_text refuses: a write after
 * uv_shutdown would fail and close c at once). */
static void
conn_end(struct conn *c)
{
	uv_shutdown_t *req;

	if (c->state != CONN_OPEN)
		return;
	if (c->deferred) {
		/* The deferred reply is still to be written: ended after it. */
		c->end_due = 1;
		uv_read_stop((uv_stream_t *)&c->pipe);
		return;
	}
	c->state = CONN_ENDING;
	uv_read_stop((uv_stream_t *)&c->pipe);
	req = malloc(sizeof *req);
	if (!req || uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) < 0) {
		free(req);
		conn_close(c);
	}
}

static void conn_resume(struct conn *c);

static void
on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = req->handle->data;
	size_t cost = w->cost;

	cJSON_free(w->owned);
	free(w);
	out_account(c, cost, 0);
	/* A client that went away mid-reply costs only its own connection. */
	if (status < 0 && status != UV_ECANCELED)
		conn_close(c);
	else if (c->paused && c->state == CONN_OPEN && !conn_blocked(c) &&
		 !c->end_due)
		conn_resume(c);
}

/*
 * Queues text (len bytes, without its '\n') and a newline to c. With own
 * set, text is handed over (cJSON_free'd once written, or at once if it
 * cannot be queued) rather than copied: a reply of 13 MB (the trials of a
 * 10,000-trial sweep) is then held once, not twice, until written.
 */
static int
send_text(struct conn *c, char *text, size_t len, int own)
{
	static char newline[] = "\n";
	struct write_req *w = NULL;
	uv_buf_t bufs[2];
	int rc = -EPIPE;

	if (c->state != CONN_OPEN)
		goto drop;
	/* Nothing is told before the rows it describes are committed: an
	 * open batch of epochs (sched/batch.h) is committed first, and when
	 * that fails the client is cut off rather than told. */
	if (sched_batch_settle(c->srv->sched) < 0) {
		conn_close(c);
		goto drop;
	}
	w = malloc(sizeof *w + (own ? 0 : len));
	if (!w) {
		conn_close(c);
		rc = -ENOMEM;
		goto drop;
	}
	w->owned = own ? text : NULL;
	if (!own)
		text = memcpy(w->data, text, len);
	bufs[0] = uv_buf_init(text, (unsigned)len);
	bufs[1] = uv_buf_init(newline, 1);
	w->cost = sizeof *w + len + 1;
	out_account(c, w->cost, 1);
	rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, bufs, 2, on_write);
	if (rc == 0)
		return 0;
	out_account(c, w->cost, 0);
	free(w);
	conn_close(c);
drop:
	if (own)
		cJSON_free(text);
	return rc;
}

int
server_send(struct conn *c, const cJSON *obj)
{
	char *text = json_print(obj);

	if (!text) {
		conn_close(c);
		return -ENOMEM;
	}
	return send_text(c, text, strlen(text), 1);
}

void
server_defer(struct conn *c, server_cancel_fn *cancel, void *ud)
{
	c->deferred = 1;
	c->cancel = cancel;
	c->cancel_ud = ud;
}

/* After the deferred reply: c is freed if it was closed meanwhile, ended
 * if that was asked meanwhile, else it reads its requests again. */
static void
conn_undefer(struct conn *c)
{
	c->deferred = 0;
	c->cancel = NULL;
	c->cancel_ud = NULL;
	if (c->closed) {
		conn_free(c);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	if (c->end_due) {
		c->end_due = 0;
		conn_end(c);
		return;
	}
	if (c->paused && !conn_over(c))
		conn_resume(c);
}

void
server_deferred_reply(struct conn *c, const cJSON *obj)
{
	if (obj && c->state == CONN_OPEN)
		server_send(c, obj);
	conn_undefer(c);
}

void
server_output_stats(const struct server *s, int *paused, size_t *queued)
{
	*paused = 0;
	*queued = 0;
	for (const struct conn *c = s->conns; c; c = c->next) {
		*paused += c->paused && conn_over(c);
		*queued += uv_stream_get_write_queue_size(
			(const uv_stream_t *)&c->pipe);
	}
}

int
server_has_watchers(struct server *s, int64_t sweep_id)
{
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->watch_sweep == sweep_id)
			return 1;
	return 0;
}

void
server_watch(struct conn *c, int64_t sweep_id)
{
	c->watch_sweep = sweep_id;
}

void
server_broadcast(struct server *s, int64_t sweep_id, const cJSON *event)
{
	struct conn *c, *next;
	char *text = NULL;
	size_t len = 0;

	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->watch_sweep != sweep_id)
			continue;
		if (c->out_cost > SERVER_WATCH_CAP ||
		    (s->out_cost > SERVER_OUT_TOTAL &&
		     c->out_cost > SERVER_WATCH_FLOOR)) {
			log_warn("watcher of sweep %" PRId64 " is not reading: "
				 "disconnected", sweep_id);
			conn_close(c);
			continue;
		}
		if (!text) {
			text = json_print(event);
			if (!text)
				return;
			len = strlen(text);
		}
		send_text(c, text, len, 0);
	}
	cJSON_free(text);
}

static void
reply_too_large(struct conn *c)
{
	cJSON *r = wire_error_reply(NULL, "too_large",
				    "request line longer than 1 MiB");

	if (r)
		server_send(c, r);
	cJSON_Delete(r);
}

static int
on_request_line(void *ud, char *line, size_t len)
{
	struct conn *c = ud;

	if (len == 0)
		return 0;
	c->srv->dispatch(c->srv, c, line, len);
	return c->state == CONN_OPEN ? 0 : -EPIPE;
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)suggested;
	buf->base = c->srv->readbuf;
	buf->len = sizeof c->srv->readbuf;
}

/* The client half-closed (EOF): no more requests will come, but the
 * replies to those it sent may still be queued. A last line without its
 * '\n' is a request too, as in most line protocols (linebuf_feed has held
 * it to the 1 MiB cap already). End once the replies are out (a watcher
 * too: its events stop there). */
static void
conn_eof(struct conn *c)
{
	linebuf_finish(&c->in, on_request_line, c);
	conn_end(c);
}

/* Stops reading from c and keeps the n bytes of data not fed yet (data
 * may point into c->held: the caller frees the old buffer). */
static void
conn_pause(struct conn *c, const char *data, size_t n)
{
	char *keep = NULL;

	if (n > 0) {
		keep = malloc(n);
		if (!keep) {
			conn_close(c);
			return;
		}
		memcpy(keep, data, n);
	}
	c->held = keep;
	c->held_len = n;
	if (!c->paused) {
		c->paused = 1;
		uv_read_stop((uv_stream_t *)&c->pipe);
	}
}

/*
 * Feeds n bytes read from c to its line splitter, which dispatches every
 * complete request. One line at a time: once c's pending output passes
 * SERVER_OUT_HIGH, the rest is held and reading stops, so a chunk full of
 * requests cannot queue a reply for each of them.
 */
static void
conn_feed(struct conn *c, const char *data, size_t n)
{
	while (n > 0 && c->state == CONN_OPEN && !conn_blocked(c)) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;
		int rc = linebuf_feed(&c->in, data, take, on_request_line, c);

		if (rc == -E2BIG) {
			reply_too_large(c);
			conn_end(c);
			return;
		}
		if (rc < 0) {
			/* -ENOMEM; or -EPIPE: the request ended c (shutdown)
			 * or closed it already. */
			if (c->state == CONN_OPEN)
				conn_close(c);
			return;
		}
		data += take;
		n -= take;
	}
	if (c->state == CONN_OPEN && !c->end_due && (n > 0 || conn_blocked(c)))
		conn_pause(c, data, n);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

/* c's pending output went down to SERVER_OUT_HIGH: feeds what was held,
 * then reads again unless that paused it anew. */
static void
conn_resume(struct conn *c)
{
	char *held = c->held;
	size_t len = c->held_len;

	c->held = NULL;
	c->held_len = 0;
	c->paused = 0;
	conn_feed(c, held, len);
	free(held);
	if (c->state == CONN_OPEN && !c->paused &&
	    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read) < 0)
		conn_close(c);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = st->data;

	if (n == 0)
		return;
	if (n == UV_EOF) {
		conn_eof(c);
		return;
	}
	if (n < 0) {
		conn_close(c);
		return;
	}
	conn_feed(c, buf->base, (size_t)n);
}

/* Refuses peers of another uid: the socket is the daemon's whole access
 * control, the 0600 mode being the first line of it. */
static int
peer_allowed(uv_pipe_t *p)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	return cred.uid == geteuid();
}

/* One client too many: it is told why (a best-effort write, the socket
 * buffer of a new connection has room), then closed. Logged once per
 * run of refusals. */
static void
refuse_busy(struct conn *c)
{
	struct server *s = c->srv;
	char line[384];
	uv_buf_t b;
	int n;

	n = snprintf(line, sizeof line, "{\"id\":null,\"ok\":false,\"error\":"
		     "{\"code\":\"busy\",\"message\":\"too many clients: "
		     "max_clients is %d (RLIMIT_NOFILE %ld less the descriptors "
		     "kept for trials)\"}}\n", s->max_clients, s->nofile);
	b = uv_buf_init(line, (unsigned)n);
	uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
	if (!s->busy_logged)
		log_warn("refusing clients past max_clients %d (RLIMIT_NOFILE %ld)",
			 s->max_clients, s->nofile);
	s->busy_logged = 1;
	conn_close(c);
}

static void
on_connection(uv_stream_t *listener, int status)
{
	struct server *s = listener->data;
	struct conn *c;

	if (status < 0) {
		log_warn("accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->srv = s;
	uv_pipe_init(s->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (linebuf_init(&c->in, SERVER_MAX_LINE) < 0 ||
	    uv_accept(listener, (uv_stream_t *)&c->pipe) < 0) {
		c->state = CONN_CLOSING;
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	if (!peer_allowed(&c->pipe)) {
		log_warn("refused a client of another user");
		conn_close(c);
		return;
	}
	if (s->n_conns > s->max_clients) {
		refuse_busy(c);
		return;
	}
	s->busy_logged = 0;   /* the next refusal starts a new run */
	uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read);
}

int
server_adopt(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof *c);
	int rc;

	if (!c)
		return UV_ENOMEM;
	c->srv = s;
	uv_pipe_init(s->loop, &c->pipe, 0);
	c->pipe.data = c;
	rc = linebuf_init(&c->in, SERVER_MAX_LINE);
	if (rc == 0)
		rc = uv_pipe_open(&c->pipe, fd);
	if (rc < 0) {
		c->state = CONN_CLOSING;
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return rc;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	return uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read);
}

/* ---- signals and shutdown -------------------------------------------- */

static void
on_signal(uv_signal_t *h, int signum)
{
	struct server *s = h->data;

	if (signum == SIGHUP) {
		int rc = log_reopen();
		if (rc < 0)
			log_error("cannot reopen the log: %s", strerror(-rc));
		else
			log_info("log reopened");
		return;
	}
	log_info("%s: shutting down", strsignal(signum));
	server_shutdown(s);
}

static void
on_closed_noop(uv_handle_t *h)
{
	(void)h;
}

void
server_maybe_finish(struct server *s)
{
	if (!s->shutting_down || s->closed || s->sched->n_running > 0)
		return;
	s->closed = 1;
	/* conn_end, not conn_close: the reply to `shutdown` is still queued. */
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		conn_end(c);
	}
	if (s->signals_on) {
		uv_close((uv_handle_t *)&s->sig_term, on_closed_noop);
		uv_close((uv_handle_t *)&s->sig_int, on_closed_noop);
		uv_close((uv_handle_t *)&s->sig_hup, on_closed_noop);
		s->signals_on = 0;
	}
	sched_close(s->sched);
	log_info("all trials stopped; closing");
}

void
server_shutdown(struct server *s)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->deferred && c->cancel)
			c->cancel(c->cancel_ud);
	if (s->listening) {
		uv_close((uv_handle_t *)&s->listener, on_closed_noop);
		s->listening = 0;
		unlink(s->sock_path);
	}
	sched_stop_all(s->sched);
	server_maybe_finish(s);
}

/* ---- set-up ---------------------------------------------------------- */

/* Clients get what RLIMIT_NOFILE leaves once the trials' reserve is set
 * aside (server.h, SERVER_FD_BASE). */
static void
set_max_clients(struct server *s)
{
	struct rlimit rl;
	long reserve = SERVER_FD_BASE + (long)SERVER_FD_PER_TRIAL * s->workers;
	long cap;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (rlim_t)INT_MAX) {
		s->nofile = -1;
		s->max_clients = INT_MAX;
		return;
	}
	s->nofile = (long)rl.rlim_cur;
	cap = s->nofile - reserve;
	if (cap < SERVER_MIN_CLIENTS) {
		log_warn("RLIMIT_NOFILE %ld leaves too few descriptors for %d "
			 "workers (%ld kept for trials): %d clients allowed; "
			 "raise it (ulimit -n)", s->nofile, s->workers, reserve,
			 SERVER_MIN_CLIENTS);
		cap = SERVER_MIN_CLIENTS;
	}
	s->max_clients = (int)cap;
}

int
server_init(struct server *s, uv_loop_t *loop, struct db *db,
	    struct sched *sched, const struct server_config *cfg, char *err,
	    size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->db = db;
	s->sched = sched;
	s->workers = cfg->workers;
	set_max_clients(s);
	s->started_at = server_now();
	if (asprintf(&s->sock_path, "%s/sweepd.sock", cfg->state_dir) < 0) {
		s->sock_path = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int
server_listen(struct server *s, char *err, size_t errlen)
{
	mode_t old;
	int rc;

	uv_pipe_init(s->loop, &s->listener, 0);
	s->listener.data = s;
	unlink(s->sock_path);   /* stale: main holds the state-dir lock */
	old = umask(0177);      /* the socket is born 0600 */
	rc = uv_pipe_bind(&s->listener, s->sock_path);
	umask(old);
	if (rc == 0)
		/* SOMAXCONN (4096; the kernel caps it at net.core.somaxconn):
		 * with 128, a burst of 200 clients connecting at once had some
		 * refused with EAGAIN before the loop could accept them
		 * (bench/daemon/bench_load.py). */
		rc = uv_listen((uv_stream_t *)&s->listener, SOMAXCONN,
			       on_connection);
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", s->sock_path,
			 uv_strerror(rc));
		uv_close((uv_handle_t *)&s->listener, NULL);
		return rc;
	}
	chmod(s->sock_path, 0600);
	s->listening = 1;

	uv_signal_init(s->loop, &s->sig_term);
	uv_signal_init(s->loop, &s->sig_int);
	uv_signal_init(s->loop, &s->sig_hup);
	s->sig_term.data = s->sig_int.data = s->sig_hup.data = s;
	uv_signal_start(&s->sig_term, on_signal, SIGTERM);
	uv_signal_start(&s->sig_int, on_signal, SIGINT);
	uv_signal_start(&s->sig_hup, on_signal, SIGHUP);
	s->signals_on = 1;
	return 0;
}

void
server_free(struct server *s)
{
	free(s->sock_path);
	s->sock_path = NULL;
	ops_best_clear(&s->best);
}
