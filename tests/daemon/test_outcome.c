/*
 * test_outcome.c: the end-of-trial rules (daemon/sched/outcome.c) as a
 * table: what is known of an ended trial -> its status, failure class,
 * whether it is requeued, whether a failure is retried.
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "daemon/sched/outcome.h"
#include "daemon/search/spec.h"
#include "tests/harness.h"

/* A trainer that reported epochs 1..5 of 5, a final line, a finite best. */
static struct outcome_in
good(void)
{
	struct outcome_in in;

	memset(&in, 0, sizeof in);
	in.stop_msg = "";
	in.spawn_strerror = "";
	in.errtail = "";
	in.plain_example = "";
	in.n_curve = 5;
	in.last_epoch = 5;
	in.got_final = 1;
	in.best = 0.9;
	in.objective_seen = 1;
	in.metric = "val_acc";
	in.budget = 5;
	in.retry_on = SPEC_RETRY_SIGNAL | SPEC_RETRY_TIMEOUT | SPEC_RETRY_STALL |
		      SPEC_RETRY_OOM | SPEC_RETRY_EXIT;
	in.retries = 1;
	in.attempt = 1;
	return in;
}

struct row {
	const char *name;
	void (*set)(struct outcome_in *in);
	enum trial_status status;
	const char *cls;           /* NULL: none */
	int requeue;
	int retry;
	const char *msg_has;       /* NULL: not checked */
};

static void set_none(struct outcome_in *in) { (void)in; }
static void set_signal(struct outcome_in *in) { in->term_signal = SIGSEGV; }
static void set_kill_mem(struct outcome_in *in)
{ in->term_signal = SIGKILL; in->memory_mb = 64; }
static void set_kill(struct outcome_in *in) { in->term_signal = SIGKILL; }
static void set_exit3(struct outcome_in *in)
{
	in->exit_status = 3;
	in->errtail = "Traceback (most recent call last):\n"
		      "ModuleNotFoundError: No module named 'numpy'\n";
	in->errtail_len = strlen(in->errtail);
}
static void set_exit_oom(struct outcome_in *in)
{
	set_exit3(in);
	in->errtail = "MemoryError\n";
	in->errtail_len = strlen(in->errtail);
	in->memory_mb = 64;
}
static void set_spawn(struct outcome_in *in)
{ in->spawn_error = -2; in->spawn_strerror = "no such file or directory"; }
static void set_spawn_limit(struct outcome_in *in)
{
	in->spawn_error = -1;
	in->spawn_strerror = "operation not permitted";
	in->stop_msg = "cannot set limits.memory_mb=64: Operation not permitted";
	in->memory_mb = 64;
}
static void set_no_report(struct outcome_in *in)
{ in->n_curve = 0; in->got_final = 0; in->best = NAN; in->last_epoch = 0; }
static void set_plain(struct outcome_in *in)
{ set_no_report(in); in->plain_reports = 2; in->plain_example = "{\"epoch\":1}"; }
static void set_short(struct outcome_in *in)
{ in->got_final = 0; in->last_epoch = 3; in->n_curve = 3; }
static void set_no_final(struct outcome_in *in) { in->got_final = 0; }
static void set_never_finite(struct outcome_in *in) { in->best = NAN; }
static void set_no_metric(struct outcome_in *in)
{ in->best = NAN; in->objective_seen = 0; }
static void set_pruned(struct outcome_in *in)
{ in->stop = STOP_PRUNED; in->stop_msg = "below the median"; }
static void set_diverged(struct outcome_in *in) { in->stop = STOP_DIVERGED; }
static void set_early(struct outcome_in *in) { in->stop = STOP_EARLY; }
static void set_early_nan(struct outcome_in *in)
{ in->stop = STOP_EARLY; in->best = NAN; }
static void set_cancel(struct outcome_in *in) { in->stop = STOP_CANCELLED; }
static void set_timeout(struct outcome_in *in) { in->stop = STOP_TIMEOUT; }
static void set_timeout_last(struct outcome_in *in)
{ in->stop = STOP_TIMEOUT; in->attempt = 2; }
static void set_timeout_off(struct outcome_in *in)
{ in->stop = STOP_TIMEOUT; in->retry_on = SPEC_RETRY_SIGNAL; }
static void set_timeout_ending(struct outcome_in *in)
{ in->stop = STOP_TIMEOUT; in->sweep_ending = 1; }
static void set_stall(struct outcome_in *in) { in->stop = STOP_STALL; }
static void set_protocol(struct outcome_in *in) { in->stop = STOP_PROTOCOL; }
static void set_storage(struct outcome_in *in) { in->stop = STOP_STORAGE; }
static void set_shutdown(struct outcome_in *in) { in->stop = STOP_SHUTDOWN; }
static void set_outage(struct outcome_in *in) { in->stop = STOP_OUTAGE; }
static void set_told_failed(struct outcome_in *in) { in->stop = STOP_TOLD_FAILED; }
static void set_told_pruned(struct outcome_in *in) { in->stop = STOP_TOLD_PRUNED; }
/* Slurm preempted it: the trainer exited 0 with its final line, all the
 * same an interruption (docs/slurm.md). */
static void set_preempted(struct outcome_in *in)
{ in->stop = STOP_PREEMPTED; in->stop_msg = "Slurm cancelled or preempted job 7"; }
static void set_launcher(struct outcome_in *in)
{
	in->stop = STOP_LAUNCHER;
	in->exit_status = 1;
	in->n_curve = 0;
	in->stop_msg = "Slurm refused the job: invalid partition specified: nope";
}

static const struct row rows[] = {
	{ "completed", set_none, TRIAL_COMPLETED, NULL, 0, 0, NULL },
	{ "signal", set_signal, TRIAL_FAILED, "signal", 0, 1, "signal 11" },
	{ "SIGKILL under memory_mb", set_kill_mem, TRIAL_FAILED, "oom", 0, 1, NULL },
	{ "SIGKILL", set_kill, TRIAL_FAILED, "signal", 0, 1, NULL },
	{ "exit 3", set_exit3, TRIAL_FAILED, "exit", 0, 1,
	  "exited with status 3: ModuleNotFoundError: No module named 'numpy'" },
	{ "MemoryError under memory_mb", set_exit_oom, TRIAL_FAILED, "oom", 0, 1,
	  NULL },
	{ "spawn failed", set_spawn, TRIAL_FAILED, "exit", 0, 1,
	  "no such file or directory" },
	{ "a limit not set in the child", set_spawn_limit, TRIAL_FAILED, "exit",
	  0, 1, "cannot set limits.memory_mb=64: Operation not permitted" },
	{ "exit 0, no report", set_no_report, TRIAL_FAILED, "exit", 0, 1,
	  "without reporting any epoch" },
	{ "reports without prefix", set_plain, TRIAL_FAILED, "protocol", 0, 0,
	  "printed 2 report lines" },
	{ "stopped short", set_short, TRIAL_FAILED, "exit", 0, 1,
	  "after epoch 3 of 5" },
	{ "no final line", set_no_final, TRIAL_COMPLETED, "note", 0, 0,
	  "no \"final\" report line" },
	{ "never finite", set_never_finite, TRIAL_FAILED, "exit", 0, 1,
	  "was never finite" },
	{ "metric absent", set_no_metric, TRIAL_FAILED, "exit", 0, 1,
	  "never reported the objective metric \"val_acc\"" },
	{ "pruned", set_pruned, TRIAL_PRUNED, "pruned", 0, 0, "below the median" },
	{ "diverged", set_diverged, TRIAL_PRUNED, "diverged", 0, 0, NULL },
	{ "early stop", set_early, TRIAL_COMPLETED, NULL, 0, 0, NULL },
	{ "early stop without best", set_early_nan, TRIAL_FAILED, "exit", 0, 1,
	  NULL },
	{ "cancelled", set_cancel, TRIAL_CANCELLED, "cancelled", 0, 0, NULL },
	{ "timeout", set_timeout, TRIAL_FAILED, "timeout", 0, 1, NULL },
	{ "timeout, retries used", set_timeout_last, TRIAL_FAILED, "timeout", 0,
	  0, NULL },
	{ "timeout not in retry_on", set_timeout_off, TRIAL_FAILED, "timeout", 0,
	  0, NULL },
	{ "timeout, sweep ending", set_timeout_ending, TRIAL_FAILED, "timeout",
	  0, 0, NULL },
	{ "stall", set_stall, TRIAL_FAILED, "stall", 0, 1, NULL },
	{ "protocol", set_protocol, TRIAL_FAILED, "protocol", 0, 0, NULL },
	{ "storage", set_storage, TRIAL_FAILED, "storage", 0, 0, NULL },
	{ "shutdown", set_shutdown, TRIAL_QUEUED, "interrupted", 1, 0, NULL },
	{ "outage", set_outage, TRIAL_QUEUED, "storage", 1, 0, NULL },
	{ "told failed", set_told_failed, TRIAL_FAILED, "exit", 0, 1, NULL },
	{ "told pruned", set_told_pruned, TRIAL_PRUNED, "pruned", 0, 0, NULL },
	{ "preempted", set_preempted, TRIAL_QUEUED, "interrupted", 1, 0, "job 7" },
	{ "Slurm refused", set_launcher, TRIAL_FAILED, "launcher", 0, 0,
	  "invalid partition" },
};

static void
test_outcome_table(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct outcome_in in = good();
		struct outcome o;

		r->set(&in);
		outcome_classify(&in, &o);
		CHECK_MSG(o.status == r->status, "%s: status %d, want %d",
			  r->name, o.status, r->status);
		CHECK_MSG((!o.cls && !r->cls) ||
			  (o.cls && r->cls && strcmp(o.cls, r->cls) == 0),
			  "%s: class %s, want %s", r->name,
			  o.cls ? o.cls : "(none)", r->cls ? r->cls : "(none)");
		CHECK_MSG(o.requeue == r->requeue, "%s: requeue %d", r->name,
			  o.requeue);
		CHECK_MSG(outcome_retry_allowed(&in, &o) == r->retry,
			  "%s: retry %d, want %d", r->name,
			  outcome_retry_allowed(&in, &o), r->retry);
		if (r->msg_has)
			CHECK_MSG(strstr(o.msg, r->msg_has) != NULL,
				  "%s: message \"%s\" lacks \"%s\"", r->name,
				  o.msg, r->msg_has);
	}
}

/* The stderr tail is read as a C string, as it always was: words after a
 * NUL byte do not count; its last line is cleaned of control bytes. */
static void
test_stderr_tail(void)
{
	static const char tail[] = "x\0MemoryError\n";
	struct outcome_in in = good();
	struct outcome o;

	set_exit3(&in);
	in.memory_mb = 64;
	in.errtail = tail;
	in.errtail_len = sizeof tail - 1;
	outcome_classify(&in, &o);
	CHECK_STR(o.cls, "exit");
	in = good();
	set_exit3(&in);
	in.errtail = "boom\tbad\x01 byte\n\n";
	in.errtail_len = strlen(in.errtail);
	outcome_classify(&in, &o);
	CHECK_STR(o.msg, "exited with status 3: boom?bad? byte");
}

int
main(void)
{
	RUN(test_outcome_table);
	RUN(test_stderr_tail);
	return harness_done();
}
