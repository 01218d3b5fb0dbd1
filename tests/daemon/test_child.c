/*
 * test_child.c: the child module (daemon/proc/child.c) on a real loop,
 * against small trainers written here as /bin/sh scripts, without root.
 *
 * Each test runs its child until `ended` came (or a watchdog of
 * WATCHDOG_MS gave up, which fails the test), then runs the loop dry, so
 * that a second `ended`, or a handle left open, shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "common/report.h"
#include "daemon/proc/child.h"
#include "daemon/proc/trialcg.h"
#include "tests/harness.h"

#define WATCHDOG_MS 20000

extern char **environ;

struct rec {
	struct child c;
	int n_report, n_output, n_refused, n_exited, n_ended, n_started;
	int n_limit[2];
	int exited_before_end;     /* `exited` came before `ended` */
	int pipes_at_end;          /* pipes still open at `ended` */
	char refused[128];
	char first[128], last[128]; /* report lines */
	char nth[4][128];          /* the first four report lines */
	/* flood */
	long next;                 /* the number the next line must be */
	int out_of_order;
	int turn_lines, max_turn_lines;
	int ticks, ticks_at_first, ticks_at_last;
	size_t max_cap;
	int stop_on;               /* child_stop at the first report line */
	int restart;               /* starts again from `ended` (argv2) */
	char *const *argv2;
	int flood;
};

static uv_loop_t loop;

static int
on_report(void *ud, char *line, size_t len)
{
	struct rec *r = ud;

	if (r->n_report == 0) {
		snprintf(r->first, sizeof r->first, "%.*s", (int)len, line);
		r->ticks_at_first = r->ticks;
	}
	if (r->n_report < 4)
		snprintf(r->nth[r->n_report], sizeof r->nth[0], "%.*s",
			 (int)len, line);
	r->n_report++;
	snprintf(r->last, sizeof r->last, "%.*s", (int)len, line);
	r->ticks_at_last = r->ticks;
	if (r->flood) {
		if (strtol(line, NULL, 10) != r->next)
			r->out_of_order++;
		r->next++;
		r->turn_lines++;
		if (r->turn_lines > r->max_turn_lines)
			r->max_turn_lines = r->turn_lines;
		if (r->c.report.bl.cap > r->max_cap)
			r->max_cap = r->c.report.bl.cap;
	}
	if (r->stop_on && r->n_report == 1)
		child_stop(&r->c);
	return 0;
}

static void
on_output(void *ud, char *line, size_t len)
{
	(void)line;
	(void)len;
	((struct rec *)ud)->n_output++;
}

static void
on_refused(void *ud, const char *msg)
{
	struct rec *r = ud;

	r->n_refused++;
	snprintf(r->refused, sizeof r->refused, "%s", msg);
}

static void
on_limit(void *ud, enum child_limit which)
{
	struct rec *r = ud;

	r->n_limit[which]++;
	child_stop(&r->c);
}

static void
on_started(void *ud)
{
	((struct rec *)ud)->n_started++;
}

static void
on_exited(void *ud)
{
	((struct rec *)ud)->n_exited++;
}

static const struct child_cbs cbs;

static void
on_ended(void *ud, struct child *c)
{
	struct rec *r = ud;

	r->n_ended++;
	r->exited_before_end = r->n_exited > 0 || c->spawn_error;
	r->pipes_at_end = c->pipes_open;
	if (r->restart) {
		struct child_config cfg = {
			.loop = &loop, .argv = r->argv2, .env = environ,
			.max_line = REPORT_MAX_LINE,
		};
		char err[256];

		r->restart = 0;
		CHECK(child_start(c, &cfg, &cbs, r, err, sizeof err) == 0);
	}
}

static const struct child_cbs cbs = {
	.report = on_report, .output = on_output, .refused = on_refused,
	.limit = on_limit, .started = on_started, .exited = on_exited,
	.ended = on_ended,
};

/* A uv_check runs once per turn of the loop: it ends a turn's count. */
static void
on_check(uv_check_t *h)
{
	((struct rec *)h->data)->turn_lines = 0;
}

static void
on_tick(uv_timer_t *tm)
{
	((struct rec *)tm->data)->ticks++;
}

static int watchdog_fired;

static void
on_watchdog(uv_timer_t *tm)
{
	struct rec *r = tm->data;

	watchdog_fired = 1;
	if (r->c.pid > 0)
		kill(-r->c.pid, SIGKILL);
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

/* Runs until `ended` (as many times as `want`), then the loop dry (with
 * keep_on, the caller's handles, closed first). */
static void
run_keep(struct rec *r, int want, uv_handle_t **keep_on, int n_keep)
{
	uv_timer_t dog;

	watchdog_fired = 0;
	uv_timer_init(&loop, &dog);
	dog.data = r;
	uv_timer_start(&dog, on_watchdog, WATCHDOG_MS, 0);
	while (r->n_ended < want && !watchdog_fired &&
	       uv_run(&loop, UV_RUN_ONCE))
		;
	CHECK_MSG(!watchdog_fired, "the child did not end in %d ms",
		  WATCHDOG_MS);
	uv_close((uv_handle_t *)&dog, on_closed);
	if (watchdog_fired)
		return;   /* failed: what is left may never close */
	for (int i = 0; i < n_keep; i++)
		uv_close(keep_on[i], on_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
}

static void
run(struct rec *r, int want)
{
	run_keep(r, want, NULL, 0);
}

static int
start_sh(struct rec *r, const char *script, struct child_config *cfg)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	char err[256] = "";
	int rc;

	cfg->loop = &loop;
	cfg->argv = argv;
	cfg->env = environ;
	cfg->max_line = REPORT_MAX_LINE;
	cfg->label = "test";
	rc = child_start(&r->c, cfg, &cbs, r, err, sizeof err);
	CHECK_MSG(rc == 0, "child_start: %d %s", rc, err);
	return rc;
}

/* ---- the tests ------------------------------------------------------- */

/* 200,000 lines on fd 3 as fast as sh can: all arrive, in order, at most
 * CHILD_BATCH_LINES per turn; a timer fires while they come; the backlog
 * stays under the high mark plus one read. */
static void
test_flood_in_order(void)
{
	static struct rec r;
	struct child_config cfg = { 0 };
	uv_check_t chk;
	uv_timer_t tick;
	uv_handle_t *mine[] = { (uv_handle_t *)&chk, (uv_handle_t *)&tick };

	memset(&r, 0, sizeof r);
	r.flood = 1;
	r.next = 1;
	uv_check_init(&loop, &chk);
	chk.data = &r;
	uv_check_start(&chk, on_check);
	uv_timer_init(&loop, &tick);
	tick.data = &r;
	uv_timer_start(&tick, on_tick, 1, 1);
	if (start_sh(&r, "seq 1 200000 >&3", &cfg) == 0)
		run_keep(&r, 1, mine, 2);
	else
		run_keep(&r, 0, mine, 2);
	CHECK_MSG(r.n_report == 200000, "%d lines", r.n_report);
	CHECK(r.out_of_order == 0);
	CHECK_STR(r.last, "200000");
	CHECK_MSG(r.max_turn_lines <= CHILD_BATCH_LINES, "%d lines in a turn",
		  r.max_turn_lines);
	CHECK_MSG(r.ticks_at_last > r.ticks_at_first,
		  "the timer never fired while lines came");
	CHECK_MSG(r.max_cap <= 2 * CHILD_BACKLOG_HIGH, "backlog of %zu bytes",
		  r.max_cap);
	CHECK(r.n_started == 1);
	CHECK(r.n_ended == 1);
	CHECK(r.c.exit_status == 0 && r.c.term_signal == 0);
}

/* A trainer that ignores SIGTERM: child_stop sends it (the trap says so
 * on fd 3), then SIGKILL after the grace; one end, the signal in it. */
static void
test_ignores_term(void)
{
	static struct rec r;
	struct child_config cfg = { .kill_grace_ms = 3000 };

	memset(&r, 0, sizeof r);
	r.stop_on = 1;
	if (start_sh(&r, "trap 'echo term >&3' TERM; echo ready >&3; "
		     "while :; do sleep 0.05; done", &cfg) == 0)
		run(&r, 1);
	CHECK_STR(r.first, "ready");
	CHECK_STR(r.last, "term");
	CHECK(r.n_ended == 1);
	CHECK(r.n_exited == 1);
	CHECK_MSG(r.c.term_signal == SIGKILL, "signal %d", r.c.term_signal);
}

/* A grandchild that leaves the group (setsid) and holds every pipe: the
 * drain timer closes them after the trainer exited; one end, with the
 * trainer's own exit status. */
static void
test_escaped_grandchild(void)
{
	static struct rec r;
	struct child_config cfg = { .drain_ms = 200 };
	char script[512], pidfile[] = "/tmp/test_child_XXXXXX";
	int fd = mkstemp(pidfile);
	FILE *f;
	int pid = 0;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	snprintf(script, sizeof script, "setsid -f sh -c 'echo $$ > %s; "
		 "exec sleep 600'; while [ ! -s %s ]; do sleep 0.01; done; "
		 "echo hi >&3; exit 3", pidfile, pidfile);
	memset(&r, 0, sizeof r);
	if (start_sh(&r, script, &cfg) == 0)
		run(&r, 1);
	f = fopen(pidfile, "r");
	if (f && fscanf(f, "%d", &pid) == 1 && pid > 0) {
		CHECK_MSG(kill(pid, 0) == 0, "the grandchild did not escape");
		kill(pid, SIGKILL);
	}
	if (f)
		fclose(f);
	unlink(pidfile);
	CHECK(pid > 0);
	CHECK(r.n_ended == 1);
	CHECK(r.exited_before_end);
	CHECK(r.pipes_at_end == 0);
	CHECK_STR(r.first, "hi");
	CHECK_MSG(r.c.exit_status == 3, "exit %d", (int)r.c.exit_status);
}

/* A line over REPORT_MAX_LINE on fd 3 is refused and closes fd 3 (nothing
 * after it is read); on stdout the trainer's own overlong line is skipped
 * and the next line counts. */
static void
test_overlong_line(void)
{
	static struct rec r;
	struct child_config cfg = { 0 };

	memset(&r, 0, sizeof r);
	if (start_sh(&r, "head -c 70000 /dev/zero | tr '\\0' b;"
		     " echo; echo 'SWEEP out'; echo first >&3; "
		     "head -c 70000 /dev/zero | tr '\\0' a >&3; echo >&3; "
		     "echo after >&3", &cfg) == 0)
		run(&r, 1);
	CHECK(r.n_refused == 1);
	CHECK_STR(r.refused, "report line longer than 64 KiB");
	CHECK(strcmp(r.first, "out") == 0 || strcmp(r.first, "first") == 0);
	CHECK(strcmp(r.last, "out") == 0 || strcmp(r.last, "first") == 0);
	CHECK(strcmp(r.last, "after") != 0);
	CHECK_MSG(r.n_report == 2, "%d report lines", r.n_report);
	CHECK(r.n_ended == 1);
}

/* A report line over REPORT_MAX_LINE on stdout ("SWEEP " and 70,000
 * bytes) is refused as on fd 3, not skipped as the trainer's own output:
 * under srun stdout is the only report channel, and a skipped epoch was
 * lost without a word (test_slurm_hostile found it). Cut anywhere: the
 * prefix split across two writes too. */
static void
test_overlong_report_line_on_stdout(void)
{
	static struct rec r;
	struct child_config cfg = { 0 };

	memset(&r, 0, sizeof r);
	if (start_sh(&r, "echo 'SWEEP one'; printf 'SWE'; sleep 0.2; printf 'EP ';"
		     " head -c 70000 /dev/zero | tr '\\0' b; echo;"
		     " echo 'SWEEP two'", &cfg) == 0)
		run(&r, 1);
	CHECK(r.n_refused == 1);
	CHECK_STR(r.refused, "report line longer than 64 KiB");
	CHECK_MSG(r.n_report == 1, "%d report lines", r.n_report);
	CHECK_STR(r.first, "one");
	CHECK(r.n_ended == 1);
}

/* Exit status and the last CHILD_ERRTAIL bytes of stderr; stdout lines
 * with the prefix are reports (prefix removed), the others output. */
static void
test_status_and_tail(void)
{
	static struct rec r;
	struct child_config cfg = { 0 };
	const char *end;

	memset(&r, 0, sizeof r);
	if (start_sh(&r, "i=0; while [ $i -lt 1000 ]; do echo \"err line $i\" >&2;"
		     " i=$((i+1)); done; echo last >&2; echo plain; "
		     "echo 'SWEEP {\"epoch\":1}'; exit 7", &cfg) == 0)
		run(&r, 1);
	CHECK(r.n_ended == 1);
	CHECK_MSG(r.c.exit_status == 7, "exit %d", (int)r.c.exit_status);
	CHECK(r.c.term_signal == 0 && r.c.spawn_error == 0);
	CHECK_MSG(r.c.errtail_len == CHILD_ERRTAIL, "%zu bytes",
		  r.c.errtail_len);
	end = r.c.errtail + r.c.errtail_len;
	CHECK(r.c.errtail_len >= 18 &&
	      memcmp(end - 18, "err line 999\nlast\n", 18) == 0);
	CHECK(r.n_output == 1);
	CHECK(r.n_report == 1);
	CHECK_STR(r.first, "{\"epoch\":1}");
}

/* uv_spawn fails: child_start says so, `ended` comes later from the loop
 * with the error, and the child can be started again from `ended`. */
static void
test_spawn_error_then_reuse(void)
{
	static struct rec r;
	char *argv[] = { "/nonexistent/trainer", NULL };
	char *again[] = { "/bin/sh", "-c", "echo again >&3", NULL };
	struct child_config cfg = {
		.loop = &loop, .argv = argv, .env = environ,
		.max_line = REPORT_MAX_LINE,
	};
	char err[256] = "";
	int rc;

	memset(&r, 0, sizeof r);
	r.restart = 1;
	r.argv2 = again;
	rc = child_start(&r.c, &cfg, &cbs, &r, err, sizeof err);
	CHECK_MSG(rc == UV_ENOENT, "rc %d", rc);
	CHECK_CONTAINS(err, "cannot start /nonexistent/trainer");
	CHECK(r.n_ended == 0);
	run(&r, 2);
	CHECK(r.n_ended == 2);
	CHECK_STR(r.first, "again");
	CHECK(r.c.spawn_error == 0 && r.c.exit_status == 0);
}

/* limits: a silent trainer is told stalled; a busy one timed out. */
static void
test_limits(void)
{
	static struct rec r;
	struct child_config cfg = { .stall_s = 0.2 };

	memset(&r, 0, sizeof r);
	if (start_sh(&r, "exec sleep 600", &cfg) == 0)
		run(&r, 1);
	CHECK(r.n_limit[CHILD_STALL] == 1 && r.n_limit[CHILD_TIMEOUT] == 0);
	CHECK(r.c.term_signal == SIGTERM);
	memset(&r, 0, sizeof r);
	cfg = (struct child_config){ .timeout_s = 0.2 };
	if (start_sh(&r, "while :; do echo x >&3; sleep 0.01; done", &cfg) == 0)
		run(&r, 1);
	CHECK(r.n_limit[CHILD_TIMEOUT] == 1);
	CHECK(r.n_ended == 1);
}

/* A launcher row without fd 3 (as srun): reports come only from stdout. */
static int
stdout_only_start(struct child *c, const struct child_config *cfg, char *err,
		  size_t errlen)
{
	int rc = child_spawn(c, cfg, cfg->argv, err, errlen);

	if (rc == 0)
		child_running(c);
	return rc;
}

static void
noop_reaped(struct child *c)
{
	(void)c;
}

static const struct launcher stdout_only = {
	.name = "stdout-only", .report_fd = 0, .start = stdout_only_start,
	.signal = child_signal_group, .reaped = noop_reaped,
};

static void
test_second_row_without_fd3(void)
{
	static struct rec r;
	struct child_config cfg = { .launcher = &stdout_only };

	memset(&r, 0, sizeof r);
	if (start_sh(&r, "echo 'SWEEP one'; echo x >&3 || echo 'SWEEP nofd3'",
		     &cfg) == 0)
		run(&r, 1);
	CHECK_STR(r.first, "one");
	CHECK_STR(r.last, "nofd3");
	CHECK(r.n_report == 2);
	CHECK(r.n_ended == 1);
}

/* The trainer starts with nothing of the daemon's but what it is given:
 * no descriptor past fd 3, even one the daemon left inheritable (here fd
 * 9, opened without O_CLOEXEC); no blocked signal (the test blocks
 * SIGUSR2 around the start) and no ignored one (SIGPIPE is ignored here,
 * as in the daemon). uv_spawn passes fd 9 on. */
static void
test_clean_slate(void)
{
	static struct rec r;
	struct child_config cfg = { 0 };
	sigset_t usr2, old;
	int fd = open("/dev/null", O_RDONLY);

	CHECK(fd >= 0 && dup2(fd, 9) == 9);
	if (fd != 9)
		close(fd);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &old);
	memset(&r, 0, sizeof r);
	fd = start_sh(&r, "if [ -e /proc/$$/fd/9 ]; then echo fd9 >&3; "
		      "else echo nofd9 >&3; fi; [ -e /proc/$$/fd/4 ] && "
		      "echo fd4 >&3; exec grep -E '^Sig(Blk|Ign)' /proc/self/status >&3",
		      &cfg);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd == 0)
		run(&r, 1);
	close(9);
	CHECK_STR(r.first, "nofd9");
	CHECK_MSG(r.n_report == 3, "%d report lines (fd 4 open?)", r.n_report);
	CHECK_STR(r.nth[1], "SigBlk:\t0000000000000000");
	CHECK_STR(r.nth[2], "SigIgn:\t0000000000000000");
	CHECK(r.c.exit_status == 0);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A command without '/' is looked up as execvp does, in the PATH of the
 * trainer's environment (not the daemon's): past a directory where the
 * name is not executable (EACCES) to the next; a file without a #! line
 * runs under /bin/sh. Where it is found nowhere but unexecutable, the
 * start fails with EACCES and says so. */
static void
test_path_of_env(void)
{
	static struct rec r;
	char dir[] = "/tmp/test_child_path_XXXXXX", a[64], b[64], p1[160],
	     p2[160], path[160];
	char *argv[] = { "sweepd_test_cmd", "arg1", NULL };
	char *env[] = { path, NULL };
	struct child_config cfg = {
		.loop = &loop, .argv = argv, .env = env,
		.max_line = REPORT_MAX_LINE,
	};
	char err[256] = "";
	int rc;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	CHECK(mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0);
	snprintf(p1, sizeof p1, "%s/sweepd_test_cmd", a);
	snprintf(p2, sizeof p2, "%s/sweepd_test_cmd", b);
	write_file(p1, "echo wrong >&3\n", 0600);
	write_file(p2, "echo \"found $1\" >&3\n", 0700);
	snprintf(path, sizeof path, "PATH=/nonexistent:%s:%s", a, b);
	memset(&r, 0, sizeof r);
	rc = child_start(&r.c, &cfg, &cbs, &r, err, sizeof err);
	CHECK_MSG(rc == 0, "child_start: %d %s", rc, err);
	run(&r, 1);
	CHECK_STR(r.first, "found arg1");
	CHECK(r.c.exit_status == 0);
	snprintf(path, sizeof path, "PATH=%s", a);
	child_free(&r.c);
	memset(&r, 0, sizeof r);
	rc = child_start(&r.c, &cfg, &cbs, &r, err, sizeof err);
	CHECK_MSG(rc == UV_EACCES, "rc %d", rc);
	CHECK_STR(err, "cannot start sweepd_test_cmd: permission denied");
	run(&r, 1);
	CHECK(r.c.spawn_error == UV_EACCES);
	unlink(p1);
	unlink(p2);
	rmdir(a);
	rmdir(b);
	rmdir(dir);
}

/* Runs argv (no fd 3) under cfg; the start's rc, its message in err. */
static int
start_argv(struct rec *r, char **argv, struct child_config *cfg, char *err,
	   size_t errlen)
{
	cfg->loop = &loop;
	cfg->argv = argv;
	cfg->env = environ;
	cfg->max_line = REPORT_MAX_LINE;
	cfg->label = "test";
	child_free(&r->c);
	memset(r, 0, sizeof *r);
	err[0] = '\0';
	return child_start(&r->c, cfg, &cbs, r, err, errlen);
}

/* The "0::" line of /proc/self/cgroup, without the newline. */
static void
own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[4096];

	buf[0] = '\0';
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line);
		}
	if (f)
		fclose(f);
}

/* 1 when line, a "0::PATH" line of /proc/self/cgroup, names the cgroup
 * whose directory is cg (they end in the same last part). */
static int
names_cgroup(const char *line, const char *cg)
{
	const char *last = strrchr(cg, '/');
	size_t n = strlen(line), m = last ? strlen(last) : 0;

	return m > 0 && n > m && strcmp(line + n - m, last) == 0;
}

#define SHOW_SETUP "ulimit -v >&3; cut -d' ' -f19 /proc/self/stat >&3; " \
	"grep '^0::' /proc/self/cgroup >&3"

/* RLIMIT_AS, nice and the cgroup are set in the child before it execs:
 * the trainer sees them (each line is what it reads for itself). */
static void
test_limits_set_in_child(void)
{
	static struct rec r;
	char dir[] = "/tmp/test_child_cg_XXXXXX", why[256], cg[4400], want[64];
	struct trialcg *tcg;
	int nice_now = getpriority(PRIO_PROCESS, 0);
	struct child_config cfg = { .memory_mb = 512, .nice = nice_now + 3 };

	CHECK(mkdtemp(dir) != NULL);
	tcg = trialcg_init(dir, 1, why, sizeof why);
	if (tcg && trialcg_create(tcg, 7, 2, cg, sizeof cg) == 0)
		cfg.cgroup = cg;
	if (start_sh(&r, SHOW_SETUP, &cfg) == 0)
		run(&r, 1);
	CHECK_STR(r.nth[0], "524288");
	snprintf(want, sizeof want, "%d", nice_now + 3);
	CHECK_STR(r.nth[1], want);
	if (cfg.cgroup) {
		CHECK(r.c.in_cgroup == 1);
		CHECK_MSG(names_cgroup(r.nth[2], cg), "cgroup line %s, not in %s",
			  r.nth[2], cg);
	}
	CHECK(r.c.exit_status == 0);
	child_free(&r.c);
	trialcg_close(tcg);
	rmdir(dir);
	if (!cfg.cgroup) {
		static char reason[320];
		snprintf(reason, sizeof reason, "no writable cgroup v2 here "
			 "(%s): the cgroup not checked", why);
		SKIP(reason);
	}
}

/* The start time the spawn gives (from the clock, read around the clone)
 * is the one /proc/PID/stat has, whenever it gives one: a restarted
 * daemon tells its old trainer from a later process with the same pid by
 * it (recover.c). The child prints its own for comparison. */
static void
test_start_time_is_the_kernels(void)
{
	static struct rec r;
	int known = 0;

	for (int i = 0; i < 40; i++) {
		struct child_config cfg = { 0 };

		memset(&r, 0, sizeof r);
		if (start_sh(&r, "cut -d' ' -f22 /proc/$$/stat >&3", &cfg) < 0)
			break;
		run(&r, 1);
		CHECK(r.c.exit_status == 0 && r.first[0]);
		if (r.c.proc_start > 0) {
			known++;
			CHECK_MSG(r.c.proc_start == strtoll(r.first, NULL, 10),
				  "spawn said %lld, /proc/PID/stat %s",
				  (long long)r.c.proc_start, r.first);
		}
		child_free(&r.c);
	}
	/* a clone straddles a tick (10 ms) only now and then */
	CHECK_MSG(known > 0, "no spawn of 40 knew its start time");
}

/* The trial's cgroup given as its name below the base's fd (cgroup_at,
 * as trial.c passes it): the trainer starts in it. */
static void
test_cgroup_by_name_below_the_base(void)
{
	static struct rec r;
	char dir[] = "/tmp/test_child_cgat_XXXXXX", why[256], cg[4400];
	struct trialcg *tcg;
	struct child_config cfg = { 0 };

	CHECK(mkdtemp(dir) != NULL);
	tcg = trialcg_init(dir, 1, why, sizeof why);
	if (!tcg || trialcg_create(tcg, 8, 1, cg, sizeof cg) < 0) {
		static char reason[320];
		trialcg_close(tcg);
		rmdir(dir);
		snprintf(reason, sizeof reason, "no writable cgroup v2 here "
			 "(%s)", why);
		SKIP(reason);
		return;
	}
	cfg.cgroup_at = trialcg_at(tcg, cg, &cfg.cgroup);
	CHECK(cfg.cgroup_at >= 0 && strcmp(cfg.cgroup, strrchr(cg, '/') + 1) == 0);
	if (start_sh(&r, "grep '^0::' /proc/self/cgroup >&3", &cfg) == 0)
		run(&r, 1);
	CHECK(r.c.in_cgroup == 1 && r.c.exit_status == 0);
	CHECK_MSG(names_cgroup(r.first, cg), "cgroup line %s, not in %s",
		  r.first, cg);
	child_free(&r.c);
	trialcg_end(tcg, 8, 1);
	trialcg_close(tcg);
	rmdir(dir);
}

/* A cgroup that cannot be joined (not a cgroup; gone): the trainer runs
 * all the same, in the daemon's own cgroup. */
static void
test_cgroup_not_joined_still_runs(void)
{
	static struct rec r;
	char dir[] = "/tmp/test_child_nocg_XXXXXX", gone[64], mine[4096];
	struct child_config cfg = { 0 };
	const char *cgs[2];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(gone, sizeof gone, "%s/gone", dir);
	cgs[0] = dir;
	cgs[1] = gone;
	own_cgroup(mine, sizeof mine);
	for (int i = 0; i < 2; i++) {
		child_free(&r.c);
		memset(&r, 0, sizeof r);
		cfg = (struct child_config){ .cgroup = cgs[i] };
		if (start_sh(&r, "grep '^0::' /proc/self/cgroup >&3", &cfg) == 0)
			run(&r, 1);
		CHECK_STR(r.first, mine);
		CHECK(r.c.in_cgroup == 0 && r.c.exit_status == 0);
	}
	child_free(&r.c);
	rmdir(dir);
}

/* Drops the capabilities that would let root raise a hard limit or lower
 * its niceness, so that the child's setrlimit and setpriority can fail. */
static int
drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		d[i].effective &= ~(i == 0 ? (1u << CAP_SYS_RESOURCE) |
				    (1u << CAP_SYS_NICE) : 0u);
		d[i].permitted &= d[i].effective | ~(i == 0 ?
			(1u << CAP_SYS_RESOURCE) | (1u << CAP_SYS_NICE) : 0u);
	}
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* A limit the child cannot set fails the start with the step named; the
 * child is reaped and `ended` comes with the error. */
static void
test_limit_not_set_fails(void)
{
	static struct rec r;
	char *argv[] = { "/bin/true", NULL };
	struct rlimit rl = { (rlim_t)1 << 49, (rlim_t)1 << 49 };
	struct child_config cfg = { .memory_mb = 1L << 30 };
	char err[256];
	int rc;

	/* 512 TiB: above any address space, so nothing here notices it */
	CHECK(drop_caps() == 0);
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
	rc = start_argv(&r, argv, &cfg, err, sizeof err);
	CHECK_MSG(rc == UV_EPERM, "rc %d", rc);
	CHECK_STR(err, "cannot set limits.memory_mb=1073741824: "
		  "Operation not permitted");
	run(&r, 1);
	CHECK(r.n_ended == 1 && r.c.spawn_error == UV_EPERM);
	cfg = (struct child_config){ .nice = getpriority(PRIO_PROCESS, 0) - 1 };
	rc = start_argv(&r, argv, &cfg, err, sizeof err);
	CHECK_MSG(rc == UV_EACCES, "rc %d", rc);
	CHECK_CONTAINS(err, "cannot set limits.nice=");
	CHECK_CONTAINS(err, ": Permission denied");
	run(&r, 1);
	CHECK(r.n_ended == 1 && r.c.spawn_error == UV_EACCES);
	child_free(&r.c);
}

/* Files that cannot be exec'ed, each named with execvp's reason: a
 * missing one, one without the x bit, a missing cwd; a file without a #!
 * line runs under /bin/sh with its arguments. */
static void
test_exec_failures_named(void)
{
	static struct rec r;
	char dir[] = "/tmp/test_child_exec_XXXXXX", f[96], want[256];
	char *argv[] = { f, "arg1", NULL };
	struct child_config cfg = { 0 };
	char err[256];
	int rc;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(f, sizeof f, "%s/missing", dir);
	rc = start_argv(&r, argv, &cfg, err, sizeof err);
	snprintf(want, sizeof want, "cannot start %s: no such file or "
		 "directory", f);
	CHECK(rc == UV_ENOENT);
	CHECK_STR(err, want);
	run(&r, 1);
	snprintf(f, sizeof f, "%s/noexec", dir);
	write_file(f, "#!/bin/sh\necho ran >&3\n", 0600);
	rc = start_argv(&r, argv, &cfg, err, sizeof err);
	snprintf(want, sizeof want, "cannot start %s: permission denied", f);
	CHECK(rc == UV_EACCES);
	CHECK_STR(err, want);
	run(&r, 1);
	cfg.cwd = "/nonexistent/cwd";
	chmod(f, 0700);
	rc = start_argv(&r, argv, &cfg, err, sizeof err);
	snprintf(want, sizeof want, "cannot start %s: trainer.cwd "
		 "/nonexistent/cwd: No such file or directory", f);
	CHECK(rc == UV_ENOENT);
	CHECK_STR(err, want);
	run(&r, 1);
	cfg.cwd = NULL;
	snprintf(f, sizeof f, "%s/nohashbang", dir);
	write_file(f, "echo \"sh $0 $1\" >&3\n", 0700);
	rc = start_argv(&r, argv, &cfg, err, sizeof err);
	CHECK_MSG(rc == 0, "%d %s", rc, err);
	if (rc == 0)
		run(&r, 1);
	snprintf(want, sizeof want, "sh %s arg1", f);
	CHECK_STR(r.first, want);
	unlink(f);
	child_free(&r.c);
	snprintf(f, sizeof f, "%s/noexec", dir);
	unlink(f);
	rmdir(dir);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	RUN(test_flood_in_order);
	RUN(test_ignores_term);
	RUN(test_escaped_grandchild);
	RUN(test_overlong_line);
	RUN(test_overlong_report_line_on_stdout);
	RUN(test_status_and_tail);
	RUN(test_spawn_error_then_reuse);
	RUN(test_limits);
	RUN(test_second_row_without_fd3);
	RUN(test_clean_slate);
	RUN(test_path_of_env);
	RUN(test_limits_set_in_child);
	RUN(test_start_time_is_the_kernels);
	RUN(test_cgroup_by_name_below_the_base);
	RUN(test_cgroup_not_joined_still_runs);
	RUN(test_exec_failures_named);
	RUN(test_limit_not_set_fails);   /* last: it drops capabilities */
	uv_loop_close(&loop);
	return harness_done();
}
