/*
 * bench_spawn.c: what a trial's spawn costs as the daemon grows. Not a test.
 *
 *   ./build/bench/daemon/bench_spawn [--runs 1000] [--heap 0,200,1000]
 *       [--command /bin/true]
 *
 * For each heap size (MB allocated and touched, so that it is resident),
 * runs the command --runs times, one at a time, on a libuv loop, two ways:
 *  - uv_spawn (libuv 1.44 forks), detached, with three pipes, as sweepd
 *    spawned trials before issue 17;
 *  - child_start (daemon/proc/child.c: posix_spawn, a pidfd), as sweepd
 *    spawns them now;
 * and prints the wall time and this process's CPU time per run, from the
 * spawn to the reap and the pipes' close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "common/report.h"
#include "daemon/proc/child.h"
#include "bench/benchclock.h"

extern char **environ;

static uv_loop_t loop;
static int ended;

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long
rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024;
}

/* ---- uv_spawn, as child.c did ---------------------------------------- */

struct uvrun {
	uv_process_t proc;
	uv_pipe_t pipes[3];
	int open;
};

static void
on_uv_closed(uv_handle_t *h)
{
	struct uvrun *r = h->data;

	if (--r->open == 0)
		ended = 1;
}

static void
uv_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	static char b[4096];

	(void)h;
	(void)n;
	buf->base = b;
	buf->len = sizeof b;
}

static void
uv_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		uv_close((uv_handle_t *)st, on_uv_closed);
}

static void
uv_on_exit(uv_process_t *p, int64_t status, int sig)
{
	(void)status;
	(void)sig;
	uv_close((uv_handle_t *)p, on_uv_closed);
}

static int
run_uv_spawn(char **argv)
{
	static struct uvrun r;
	uv_process_options_t opt;
	uv_stdio_container_t io[4];
	int rc;

	memset(&r, 0, sizeof r);
	memset(&opt, 0, sizeof opt);
	io[0].flags = UV_IGNORE;
	for (int i = 0; i < 3; i++) {
		uv_pipe_init(&loop, &r.pipes[i], 0);
		r.pipes[i].data = &r;
		io[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		io[i + 1].data.stream = (uv_stream_t *)&r.pipes[i];
	}
	opt.stdio = io;
	opt.stdio_count = 4;
	opt.exit_cb = uv_on_exit;
	opt.flags = UV_PROCESS_DETACHED;
	opt.file = argv[0];
	opt.args = argv;
	opt.env = environ;
	r.proc.data = &r;
	r.open = 4;
	ended = 0;
	rc = uv_spawn(&loop, &r.proc, &opt);
	if (rc < 0) {
		fprintf(stderr, "uv_spawn: %s\n", uv_strerror(rc));
		exit(1);
	}
	for (int i = 0; i < 3; i++)
		uv_read_start((uv_stream_t *)&r.pipes[i], uv_alloc, uv_on_read);
	while (!ended)
		uv_run(&loop, UV_RUN_ONCE);
	return 0;
}

/* ---- child_start ------------------------------------------------------ */

static int
on_report(void *ud, char *line, size_t len)
{
	(void)ud;
	(void)line;
	(void)len;
	return 0;
}

static void
on_ended(void *ud, struct child *c)
{
	(void)ud;
	if (c->spawn_error || c->exit_status) {
		fprintf(stderr, "child: error %d, exit %d\n", c->spawn_error,
			(int)c->exit_status);
		exit(1);
	}
	ended = 1;
}

static const struct child_cbs cbs = { .report = on_report, .ended = on_ended };

static int
run_child(char **argv)
{
	static struct child c;
	struct child_config cfg = {
		.loop = &loop, .argv = argv, .env = environ,
		.max_line = REPORT_MAX_LINE, .label = "bench",
	};
	char err[256];

	ended = 0;
	if (child_start(&c, &cfg, &cbs, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "child_start: %s\n", err);
		exit(1);
	}
	while (!ended)
		uv_run(&loop, UV_RUN_ONCE);
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static void
measure(const char *name, int (*fn)(char **), char **argv, int runs)
{
	double t0 = bench_now_s(), c0 = cpu_s(), dt, dc;

	for (int i = 0; i < runs; i++)
		fn(argv);
	dt = bench_now_s() - t0;
	dc = cpu_s() - c0;
	printf("  %-34s %6.3f ms per run (wall), %6.3f ms CPU of this process\n",
	       name, 1e3 * dt / runs, 1e3 * dc / runs);
}

int
main(int argc, char **argv)
{
	int runs = 1000;
	const char *heaps = "0,200,1000";
	char *cmd[] = { "/bin/true", NULL };
	char *list, *tok, *save = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--heap") == 0)
			heaps = argv[i + 1];
		else if (strcmp(argv[i], "--command") == 0)
			cmd[0] = argv[i + 1];
	}
	if (runs < 1) {
		fprintf(stderr, "usage: bench_spawn [--runs N] [--heap MB,MB...] "
			"[--command FILE]\n");
		return 2;
	}
	uv_loop_init(&loop);
	list = strdup(heaps);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t mb = (size_t)atol(tok);
		char *heap = mb ? malloc(mb << 20) : NULL;

		if (heap)
			memset(heap, 1, mb << 20);   /* resident */
		printf("heap %zu MB (RSS %ld MB), %d runs of %s:\n", mb, rss_mb(),
		       runs, cmd[0]);
		measure("uv_spawn (fork)", run_uv_spawn, cmd, runs);
		measure("child_start (posix_spawn, pidfd)", run_child, cmd, runs);
		fflush(stdout);
		free(heap);
	}
	free(list);
	uv_loop_close(&loop);
	return 0;
}
