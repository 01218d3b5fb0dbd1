/*
 * cmd_watch.c: `sweepctl watch` when stdout is a terminal. The state and
 * its text are live.c's; this file reads the events, fetches what the
 * event stream cannot tell (verdict counts so far, the params and curve of
 * a trial that started before the watch) on a second connection, and
 * redraws the frame in place: cursor up over the last frame, each line
 * rewritten and cleared to its end, the rest of the screen cleared.
 *
 * No ncurses: the few escapes used (CUU, EL, ED, cursor hide/show) are
 * the ones every terminal emulator knows.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "client/cmd_watch.h"
#include "client/fmt.h"
#include "client/live.h"

#define REDRAW_MIN_MS 100    /* at most ~10 frames a second */
#define CLOCK_MS 1000        /* redraw this often without events (elapsed) */

#define SHOW_CURSOR "\033[?25h"
#define HIDE_CURSOR "\033[?25l"

struct view {
	struct ctl *c;
	struct live l;
	struct conn aux;        /* second connection for fetches; fd -1 */
	int aux_failed;         /* do not try again */
	int drawn;              /* lines of the frame on screen */
	double last_draw;       /* monotonic s */
	int dirty;              /* state changed since the last frame */
};

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
	/* give the terminal its cursor back, then die of the signal */
	static const char s[] = SHOW_CURSOR "\n";
	ssize_t n = write(STDOUT_FILENO, s, sizeof s - 1);

	(void)n;
	raise(sig);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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

static void
draw(struct view *v)
{
	char *buf = NULL, *p, *nl;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int cols, rows;

	if (!m)
		return;
	term_size(&cols, &rows);
	/* one column short of the edge: a full line would leave the cursor
	 * in the pending-wrap state and the next \n would skip a row on some
	 * terminals; one row short so the frame never scrolls itself away */
	live_render(m, &v->l, wall(), cols - 1, rows - 1);
	if (fclose(m) != 0) {
		free(buf);
		return;
	}
	if (v->drawn > 0)
		printf("\r\033[%dA", v->drawn);
	v->drawn = 0;
	for (p = buf; (nl = strchr(p, '\n')); p = nl + 1) {
		fwrite(p, 1, (size_t)(nl - p), stdout);
		fputs("\033[K\n", stdout);
		v->drawn++;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
	free(buf);
	v->last_draw = mono();
	v->dirty = 0;
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

static int
loop(struct view *v)
{
	struct conn *cn = &v->c->conn;
	char *line;
	size_t len;
	int rc;

	for (;;) {
		cJSON *ev;
		const char *name;

		if (!buffered_line(cn)) {
			double since = (mono() - v->last_draw) * 1000;
			int wait = v->dirty ? REDRAW_MIN_MS - (int)since
					    : CLOCK_MS - (int)since;
			struct pollfd p = { .fd = cn->fd, .events = POLLIN };

			if (wait <= 0 || poll(&p, 1, wait) == 0) {
				draw(v);
				continue;
			}
		}
		rc = conn_read_line(cn, &line, &len);
		if (rc < 0) {
			draw(v);
			fputs(SHOW_CURSOR, stdout);
			if (rc == -EPIPE || rc == -ECONNRESET) {
				ctl_err("connection to sweepd closed before sweep %lld "
					"ended", v->l.sweep);
				return CTL_EXIT_CONN;
			}
			ctl_err("reading from sweepd: %s", strerror(-rc));
			return CTL_EXIT_FAIL;
		}
		ev = cJSON_ParseWithLength(line, len);
		name = fmt_jstr(ev, "event", "");
		if (live_update(&v->l, ev) < 0) {
			cJSON_Delete(ev);
			return ctl_oom();
		}
		v->dirty = 1;
		if (strcmp(name, "sweep_ended") == 0) {
			cJSON_Delete(ev);
			draw(v);   /* the final state stays on screen */
			return strcmp(v->l.status, "completed") == 0 ? 0 : CTL_EXIT_FAIL;
		}
		cJSON_Delete(ev);
		fetch_unknown(v);
		if ((mono() - v->last_draw) * 1000 >= REDRAW_MIN_MS)
			draw(v);
	}
}

int
ctl_watch_live(struct ctl *c, long long sweep, const cJSON *summary)
{
	struct view v = { .c = c, .aux = { .fd = -1 } };
	int rc;

	live_init(&v.l, sweep, summary);
	catch_signals();
	fputs(HIDE_CURSOR, stdout);
	if (!v.l.ended)
		fetch_verdicts(&v);
	draw(&v);
	rc = loop(&v);
	fputs(SHOW_CURSOR, stdout);
	fflush(stdout);
	conn_close(&v.aux);
	live_free(&v.l);
	return rc;
}
