/*
 * test_slurm_run.c: the Slurm launcher row (daemon/proc/slurm_run.c) on a
 * real loop, without Slurm: "srun" is a /bin/sh script that writes what
 * srun and slurmstepd write on stderr (Slurm 22.05's lines), mixed with a
 * trainer's, and reports on stdout. PATH is emptied first, so that the
 * row's squeue and scancel are never found (and never touch a cluster):
 * what is checked is what srun's own lines tell.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/report.h"
#include "daemon/proc/child.h"
#include "daemon/proc/slurm_run.h"
#include "tests/harness.h"

#define WATCHDOG_MS 20000

extern char **environ;

struct rec {
	struct child c;
	struct slurm_run run;
	int n_report, n_started, n_ended, n_known;
	int running_at_first_report;
};

static uv_loop_t loop;
static int watchdog_fired;

static int
on_report(void *ud, char *line, size_t len)
{
	struct rec *r = ud;

	(void)line;
	(void)len;
	if (r->n_report++ == 0)
		r->running_at_first_report = r->run.running;
	return 0;
}

static void
on_started(void *ud)
{
	((struct rec *)ud)->n_started++;
}

static void
on_ended(void *ud, struct child *c)
{
	(void)c;
	((struct rec *)ud)->n_ended++;
}

static void
on_known(void *ud)
{
	((struct rec *)ud)->n_known++;
}

static const struct child_cbs cbs = {
	.report = on_report, .started = on_started, .ended = on_ended,
};

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

/* Runs script as srun would be run, until `ended`, then the loop dry. */
static void
run_srun(struct rec *r, const char *script)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct child_config cfg = {
		.loop = &loop, .launcher = &launcher_slurm, .launcher_arg = &r->run,
		.label = "trial 1/1", .argv = argv, .env = environ,
		.max_line = REPORT_MAX_LINE,
	};
	char err[256];
	uv_timer_t dog;

	snprintf(r->run.name, sizeof r->run.name, "sweepd-1-1-1");
	snprintf(r->run.comment, sizeof r->run.comment, "sweepd:1:2");
	r->run.job_known = on_known;
	r->run.ud = r;
	watchdog_fired = 0;
	uv_timer_init(&loop, &dog);
	dog.data = r;
	uv_timer_start(&dog, on_watchdog, WATCHDOG_MS, 0);
	CHECK(child_start(&r->c, &cfg, &cbs, r, err, sizeof err) == 0);
	while (r->n_ended < 1 && !watchdog_fired && uv_run(&loop, UV_RUN_ONCE))
		;
	CHECK_MSG(!watchdog_fired, "srun did not end in %d ms", WATCHDOG_MS);
	uv_close((uv_handle_t *)&dog, on_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(r->n_ended == 1);
}

static int
tail_has(const struct rec *r, const char *s)
{
	return memmem(r->c.errtail, r->c.errtail_len, s, strlen(s)) != NULL;
}

/* srun --verbose says when the job has its allocation: the start, and the
 * job's id; Slurm's lines stay out of the tail, the trainer's stay in. */
static void
test_allocation_starts_it_and_slurms_lines_stay_out(void)
{
	static struct rec r;

	memset(&r, 0, sizeof r);
	run_srun(&r, "echo 'srun: defined options' >&2; "
		 "echo 'srun: job 41 queued and waiting for resources' >&2; "
		 "echo 'srun: job 41 has been allocated resources' >&2; "
		 "echo \"srun: jobid 41: nodes(1):\\`n1', cpu counts: 1(x1)\" >&2; "
		 "echo 'SWEEP {\"epoch\":1,\"val_acc\":0.5}'; "
		 "echo 'Traceback (most recent call last):' >&2; "
		 "echo 'srun: error: n1: task 0: Exited with exit code 3' >&2; "
		 "printf 'ValueError: bad' >&2; exit 3");
	CHECK(r.run.job == 41);
	CHECK(r.n_known == 1);
	CHECK(r.run.running && r.n_started == 1);
	CHECK(r.running_at_first_report == 1);
	CHECK(r.n_report == 1);
	CHECK(r.c.exit_status == 3);
	CHECK(tail_has(&r, "Traceback (most recent call last):\n"));
	CHECK(tail_has(&r, "ValueError: bad"));   /* unterminated, kept */
	CHECK(!tail_has(&r, "srun:"));
	CHECK_STR(r.run.error, "");               /* a task's exit is not one */
	CHECK(!r.run.preempted && !r.run.stopping);
}

/* A refused request: srun's errors, joined, without their tag; never
 * started. */
static void
test_refused_request_is_slurms_error(void)
{
	static struct rec r;

	memset(&r, 0, sizeof r);
	run_srun(&r, "echo 'srun: error: invalid partition specified: nope' >&2; "
		 "echo 'srun: error: Unable to allocate resources: Invalid partition "
		 "name specified' >&2; exit 1");
	CHECK_STR(r.run.error, "invalid partition specified: nope; Unable to allocate "
		  "resources: Invalid partition name specified");
	CHECK(r.n_started == 0 && !r.run.running && r.run.job == 0);
	CHECK(r.c.errtail_len == 0);
}

/* A step cancelled that sweepd did not ask to stop: preempted, even when
 * the trainer then exits 0. */
static void
test_cancel_not_asked_for_is_a_preemption(void)
{
	static struct rec r;

	memset(&r, 0, sizeof r);
	run_srun(&r, "echo 'srun: jobid 9: nodes(1):n1' >&2; "
		 "echo 'slurmstepd-n1: error: *** STEP 9.0 ON n1 CANCELLED AT "
		 "2026-12-01T12:51:36 ***' >&2; exit 0");
	CHECK(r.run.preempted == 1);
	CHECK(r.run.job == 9);
	CHECK(r.c.errtail_len == 0);
}

/* The node failed under the job (srun's "Node failure on NODE", squeue
 * NODE_FAIL): an interruption to resume, as a preemption, not Slurm
 * refusing the job. */
static void
test_node_failure_is_an_interruption(void)
{
	static struct rec r;

	memset(&r, 0, sizeof r);
	run_srun(&r, "echo 'srun: jobid 12: nodes(1):n1' >&2; "
		 "echo 'srun: error: Node failure on n1' >&2; "
		 "echo 'srun: Job step aborted: Waiting up to 32 seconds for job "
		 "step to finish.' >&2; exit 1");
	CHECK(r.run.preempted == 1);
	CHECK_STR(r.run.error, "");
	CHECK(r.c.errtail_len == 0);
}

/* A line longer than the row's line buffer is the trainer's: kept whole. */
static void
test_overlong_stderr_line_is_the_trainers(void)
{
	static struct rec r;

	memset(&r, 0, sizeof r);
	run_srun(&r, "i=0; s=srun:; while [ $i -lt 300 ]; do s=\"${s}xxxxxxx\"; "
		 "i=$((i+1)); done; echo \"$s\" >&2; echo 'srun: error: late' >&2");
	CHECK(r.c.errtail_len == 5 + 2100 + 1);
	CHECK(tail_has(&r, "srun:xxxxxxx"));
	CHECK_STR(r.run.error, "late");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* squeue and scancel must not be found: no cluster is touched */
	setenv("PATH", "/nonexistent-sweepd-test", 1);
	uv_loop_init(&loop);
	RUN(test_allocation_starts_it_and_slurms_lines_stay_out);
	RUN(test_refused_request_is_slurms_error);
	RUN(test_cancel_not_asked_for_is_a_preemption);
	RUN(test_node_failure_is_an_interruption);
	RUN(test_overlong_stderr_line_is_the_trainers);
	CHECK(uv_loop_close(&loop) == 0);
	return harness_done();
}
