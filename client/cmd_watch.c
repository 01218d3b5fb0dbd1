/*
 * cmd_watch.c: `sweepctl watch` when stdout is a terminal. The state and
 * its text are live.c's; this file reads the events, fetches what the
 * event stream cannot tell (verdict counts so far, the params and curve of
 * a trial that started before the watch) on a second connection, and
 * draws the frame with ncurses, which knows the terminal from terminfo and
 * sends only what changed.
 *
 * Signals go through a self-pipe polled with the socket: SIGWINCH makes
 * the next frame be laid out for the new size and repainted from scratch
 * (ncurses' own handler is replaced, so nothing runs in the handler but a
 * write); SIGINT, SIGTERM and SIGHUP end the view, give the terminal back
 * and then kill the process with the same signal. When the sweep ends the
 * screen is restored and the last frame printed as plain lines, so it
 * stays on the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "client/cmd_watch.h"
#include "client/fmt.h"
#include "client/live.h"

#define REDRAW_MIN_MS 100    /* at most ~10 frames a second */
#define CLOCK_MS 1000        /* redraw this often without events (elapsed) */

struct view {
	struct ctl *c;
	struct live l;
	struct conn aux;        /* second connection for fetches; fd -1 */
	int aux_failed;         /* do not try again */
	SCREEN *scr;            /* NULL once the terminal is given back */
	double last_draw;       /* monotonic s */
	int dirty;              /* state changed since the last frame */
};

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_stop;   /* the terminating signal, or 0 */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Unix time with a fraction: elapsed is shown to a tenth of a second. */
static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;
	ssize_t n;

	if (sig != SIGWINCH)
		sig_stop = sig;
	n = write(sig_pipe[1], &b, 1);   /* full pipe: a wake-up is pending */
	(void)n;
	errno = saved;
}

static int
catch_signals(void)
{
	static const int sigs[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	return 0;
}

static void
drain_signals(void)
{
	char b[64];

	while (read(sig_pipe[0], b, sizeof b) > 0)
		;
}

static void
term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* The frame for cols x rows as text (the caller frees it), or NULL. */
static char *
frame_text(const struct view *v, int cols, int rows)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	live_render(m, &v->l, wall(), cols, rows);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* One frame on the curses screen: erased and written whole; ncurses sends
 * the difference. full: repaint everything (after a resize). */
static void
draw(struct view *v, int full)
{
	char *buf, *p, *nl;
	int row = 0;

	if (!v->scr)
		return;
	if (full) {
		int cols, rows;

		term_size(&cols, &rows);
		resizeterm(rows, cols);
		clearok(curscr, TRUE);
	}
	if (!(buf = frame_text(v, COLS, LINES)))
		return;
	erase();
	for (p = buf; (nl = strchr(p, '\n')) && row < LINES; p = nl + 1, row++)
		mvaddnstr(row, 0, p, (int)(nl - p));
	move(LINES - 1, 0);
	refresh();
	free(buf);
	v->last_draw = mono();
	v->dirty = 0;
}

/* Gives the terminal back; with final, prints the last frame as plain
 * lines for the width, so that it stays on screen. */
static void
leave(struct view *v, int final)
{
	char *buf;
	int cols, rows;

	if (!v->scr)
		return;
	endwin();
	delscreen(v->scr);
	v->scr = NULL;
	if (final) {
		term_size(&cols, &rows);
		if ((buf = frame_text(v, cols, rows))) {
			fputs(buf, stdout);
			free(buf);
		}
	}
	fflush(stdout);
}

/* ncurses on stdout; the view reads no keys. Box drawing and sparklines
 * are UTF-8: when the locale's charset is not, the C.UTF-8 one is used.
 * Returns 0, or -1 when the terminal is unknown to terminfo. */
static int
enter(struct view *v)
{
	setlocale(LC_CTYPE, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	fflush(stdout);
	if (!(v->scr = newterm(NULL, stdout, stdin)))
		return -1;
	nonl();
	curs_set(0);
	return 0;
}

/* One request on the second connection; the reply member key detached
 * into *out. Failures are quiet: the view just goes without. */
static int
aux_fetch(struct view *v, cJSON *req, const char *key, cJSON **out)
{
	cJSON *reply = NULL;
	char *line;
	size_t len;
	int rc = -1;

	*out = NULL;
	if (!req)
		return -1;
	if (v->aux.fd < 0 && !v->aux_failed &&
	    conn_open(&v->aux, v->c->sock) < 0)
		v->aux_failed = 1;
	if (v->aux_failed || conn_send(&v->aux, req) < 0 ||
	    conn_read_line(&v->aux, &line, &len) < 0)
		goto out;
	reply = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsTrue(fmt_jget(reply, "ok")))
		goto out;
	*out = cJSON_DetachItemFromObjectCaseSensitive(reply, key);
	rc = *out ? 0 : -1;
out:
	if (rc < 0 && v->aux.fd < 0)
		v->aux_failed = 1;
	cJSON_Delete(reply);
	cJSON_Delete(req);
	return rc;
}

/* The verdict counts so far, over ended trials as `status` counts them:
 * the watch reply's summary has none. */
static void
fetch_verdicts(struct view *v)
{
	cJSON *trials = NULL;

	if (aux_fetch(v, ctl_request("trials", v->l.sweep, 0), "trials",
		      &trials) == 0)
		live_seed_verdicts(&v->l, trials);
	cJSON_Delete(trials);
}

/* Trials first seen in an epoch event: their params and curve so far. */
static void
fetch_unknown(struct view *v)
{
	for (size_t i = 0; i < v->l.n_run; i++) {
		struct live_trial *t = &v->l.run[i];
		cJSON *trial = NULL;

		if (!t->need_fetch)
			continue;
		t->need_fetch = 0;
		if (aux_fetch(v, ctl_request("trial", v->l.sweep, t->number),
			      "trial", &trial) == 0)
			live_seed_trial(&v->l, trial);
		cJSON_Delete(trial);
		v->dirty = 1;
	}
}

/* A whole line already in the connection's buffer (poll would not see
 * it). */
static int
buffered_line(const struct conn *c)
{
	return c->buf && c->end > c->start &&
	       memchr(c->buf + c->start, '\n', c->end - c->start) != NULL;
}

/* Waits for an event line, a signal or the next frame's time. Returns 1
 * when a line can be read, 0 otherwise (a frame was drawn if due). */
static int
wait_input(struct view *v, struct conn *cn)
{
	double since = (mono() - v->last_draw) * 1000;
	int wait = v->dirty ? REDRAW_MIN_MS - (int)since : CLOCK_MS - (int)since;
	struct pollfd p[2] = {
		{ .fd = cn->fd, .events = POLLIN },
		{ .fd = sig_pipe[0], .events = POLLIN },
	};
	int n;

	if (buffered_line(cn))
		return 1;
	n = wait > 0 ? poll(p, 2, wait) : 0;
	if (n > 0 && p[1].revents) {
		drain_signals();
		if (!sig_stop)
			draw(v, 1);   /* SIGWINCH: the new size, from scratch */
		return 0;
	}
	if (n > 0 && p[0].revents)
		return 1;
	if (n == 0)
		draw(v, 0);
	return 0;
}

static int
loop(struct view *v)
{
	struct conn *cn = &v->c->conn;
	char *line;
	size_t len;
	int rc;

	for (;;) {
		cJSON *ev;
		int end;

		if (sig_stop)
			return CTL_EXIT_FAIL;
		if (!wait_input(v, cn))
			continue;
		rc = conn_read_line(cn, &line, &len);
		if (rc < 0) {
			leave(v, 1);
			if (rc == -EPIPE || rc == -ECONNRESET) {
				ctl_err("connection to sweepd closed before sweep %lld "
					"ended", v->l.sweep);
				return CTL_EXIT_CONN;
			}
			ctl_err("reading from sweepd: %s", strerror(-rc));
			return CTL_EXIT_FAIL;
		}
		ev = cJSON_ParseWithLength(line, len);
		end = strcmp(fmt_jstr(ev, "event", ""), "sweep_ended") == 0;
		rc = live_update(&v->l, ev);
		cJSON_Delete(ev);
		if (rc < 0)
			return ctl_oom();
		v->dirty = 1;
		if (end)   /* the final state stays on screen */
			return ctl_exit_for_sweep(v->l.status,
						  v->l.counts[LIVE_COMPLETED]);
		fetch_unknown(v);
		if ((mono() - v->last_draw) * 1000 >= REDRAW_MIN_MS)
			draw(v, 0);
	}
}

int
ctl_watch_live(struct ctl *c, long long sweep, const cJSON *summary)
{
	struct view v = { .c = c, .aux = { .fd = -1 } };
	int rc;

	if (catch_signals() < 0 || enter(&v) < 0)
		return CTL_WATCH_PLAIN;
	live_init(&v.l, sweep, summary);
	fetch_verdicts(&v);   /* an ended sweep's frame shows them too */
	draw(&v, 0);
	rc = loop(&v);
	leave(&v, 1);
	conn_close(&v.aux);
	live_free(&v.l);
	if (sig_stop) {
		signal(sig_stop, SIG_DFL);
		raise(sig_stop);
	}
	return rc;
}
