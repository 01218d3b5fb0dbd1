/*
 * outcome.c: the end-of-trial rules, on plain data (outcome.h).
 */
#include "daemon/sched/outcome.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/vocab.h"
#include "daemon/search/spec.h"

/* The limits.retry_on bit of a failure class; 0 for classes never retried
 * (protocol errors repeat, cancellations are wanted). */
static unsigned
class_bit(const char *cls)
{
	int c = vocab_class_parse(cls);

	return c >= 0 && c < CLASS_N_RETRY ? 1u << c : 0;
}

/* Under limits.memory_mb an allocation fails instead of the OOM killer
 * striking; the trainer's last words say so. */
static int
stderr_says_oom(const struct outcome_in *t)
{
	static const char *const words[] = {
		"MemoryError", "out of memory", "Cannot allocate memory",
		"std::bad_alloc",
	};
	/* The tail as a C string: up to its first NUL byte, if any. */
	size_t len = strnlen(t->errtail, t->errtail_len);

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (memmem(t->errtail, len, words[i], strlen(words[i])))
			return 1;
	return 0;
}

/* The last non-empty line of the trainer's stderr, at most len - 1 bytes,
 * control characters and broken UTF-8 made '?': what a traceback ends with
 * ("ModuleNotFoundError: No module named 'numpy'"). "" when it wrote none. */
static void
last_words(const struct outcome_in *t, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)t->errtail;
	size_t end = t->errtail_len, start, n = 0;

	while (end > 0 && (p[end - 1] == '\n' || p[end - 1] == '\r' ||
			   p[end - 1] == ' ' || p[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && p[start - 1] != '\n')
		start--;
	while (start < end && (p[start] == ' ' || p[start] == '\t'))
		start++;
	for (size_t i = start; i < end && n + 4 < len; ) {
		int k = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 :
			(p[i] & 0xf0) == 0xe0 ? 3 : (p[i] & 0xf8) == 0xf0 ? 4 : 0;
		int ok = k > 0 && i + (size_t)k <= end;
		for (int j = 1; ok && j < k; j++)
			ok = (p[i + (size_t)j] & 0xc0) == 0x80;
		if (!ok || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			buf[n++] = '?';
			i++;
			continue;
		}
		memcpy(buf + n, p + i, (size_t)k);
		n += (size_t)k;
		i += (size_t)k;
	}
	buf[n] = '\0';
}

/* Exit 0 without a single report line: said how to report, and what the
 * trainer did instead when it printed report lines without the prefix. */
static void
no_report(const struct outcome_in *t, struct outcome *o)
{
	o->status = TRIAL_FAILED;
	if (t->plain_reports > 0) {
		o->cls = vocab_class_name(CLASS_PROTOCOL);
		snprintf(o->msg, sizeof o->msg, "printed %d report line%s on "
			 "stdout without the \"SWEEP \" prefix (the first: %s) "
			 "and none where sweepd reads them: write report lines to "
			 "fd 3 ($SWEEP_REPORT_FD), or print them on stdout as "
			 "\"SWEEP {...}\"", t->plain_reports,
			 t->plain_reports == 1 ? "" : "s", t->plain_example);
		return;
	}
	o->cls = vocab_class_name(CLASS_EXIT);
	snprintf(o->msg, sizeof o->msg, "exited with status 0 without reporting "
		 "any epoch: write one JSON line per epoch to fd 3 "
		 "($SWEEP_REPORT_FD), or on stdout prefixed \"SWEEP \", and "
		 "{\"final\": true} last");
}

/* Exit 0 without a final line before the trial's epoch budget (its
 * "epochs" param, or pruner.max_epochs): it stopped early, not done.
 * 1 and o filled in, or 0 when the budget is unknown or reached. */
static int
stopped_short(const struct outcome_in *t, struct outcome *o)
{
	int budget = t->budget;

	if (budget <= 0 || t->last_epoch >= budget)
		return 0;
	o->status = TRIAL_FAILED;
	o->cls = vocab_class_name(CLASS_EXIT);
	snprintf(o->msg, sizeof o->msg, "exited with status 0 after epoch %d "
		 "of %d without a \"final\" report line: a trainer that ends "
		 "normally writes {\"final\": true} last; one that gives up "
		 "should exit non-zero", t->last_epoch, budget);
	return 1;
}

static void
classify_natural(const struct outcome_in *t, struct outcome *o)
{
	if (t->spawn_error) {
		o->status = TRIAL_FAILED;
		o->cls = vocab_class_name(CLASS_EXIT);
		snprintf(o->msg, sizeof o->msg, "%s", t->stop_msg[0] ?
			 t->stop_msg : t->spawn_strerror);
	} else if (t->term_signal) {
		o->status = TRIAL_FAILED;
		o->cls = vocab_class_name(
			t->term_signal == SIGKILL && t->memory_mb > 0 ?
			CLASS_OOM : CLASS_SIGNAL);
		snprintf(o->msg, sizeof o->msg, "killed by signal %d (%s)",
			 t->term_signal, strsignal(t->term_signal));
	} else if (t->exit_status != 0) {
		char words[300];
		last_words(t, words, sizeof words);
		o->status = TRIAL_FAILED;
		o->cls = vocab_class_name(
			t->memory_mb > 0 && stderr_says_oom(t) ?
			CLASS_OOM : CLASS_EXIT);
		snprintf(o->msg, sizeof o->msg, "exited with status %d%s%s",
			 (int)t->exit_status, words[0] ? ": " : "", words);
	} else if (t->n_curve == 0 && (!t->got_final || t->plain_reports > 0)) {
		no_report(t, o);
	} else if (!t->got_final && stopped_short(t, o)) {
		;   /* o says which epoch it stopped at */
	} else if (!isfinite(t->best) && t->n_curve == 0) {
		o->status = TRIAL_FAILED;
		o->cls = vocab_class_name(CLASS_EXIT);
		snprintf(o->msg, sizeof o->msg, "never reported the objective "
			 "metric \"%s\"", t->metric);
	} else if (!isfinite(t->best)) {
		/* Reported epochs, but the metric was never a finite number:
		 * either absent or NaN all along (a diverged run). */
		o->status = TRIAL_FAILED;
		o->cls = vocab_class_name(CLASS_EXIT);
		snprintf(o->msg, sizeof o->msg, t->objective_seen ?
			 "the objective metric \"%s\" was never finite" :
			 "never reported the objective metric \"%s\"", t->metric);
	} else {
		o->status = TRIAL_COMPLETED;
		if (!t->got_final) {
			/* Every epoch but no final line: what Optuna and Ray
			 * Tune users write. Completed, and said so. */
			o->cls = vocab_class_name(CLASS_NOTE);
			snprintf(o->msg, sizeof o->msg, "no \"final\" report "
				 "line: completed on exit status 0 after epoch %d, "
				 "so test metrics are unknown; write {\"final\": "
				 "true, ...} last to report them", t->last_epoch);
		}
	}
}

/* What each way of being stopped by the daemon ends as. */
static const struct {
	enum trial_status status;
	enum error_class cls;
} stop_outcomes[] = {
	[STOP_PRUNED]    = { TRIAL_PRUNED,    CLASS_PRUNED },
	[STOP_DIVERGED]  = { TRIAL_PRUNED,    CLASS_DIVERGED },
	[STOP_EARLY]     = { TRIAL_COMPLETED, CLASS_NONE },
	[STOP_CANCELLED] = { TRIAL_CANCELLED, CLASS_CANCELLED },
	[STOP_TIMEOUT]   = { TRIAL_FAILED,    CLASS_TIMEOUT },
	[STOP_STALL]     = { TRIAL_FAILED,    CLASS_STALL },
	[STOP_PROTOCOL]  = { TRIAL_FAILED,    CLASS_PROTOCOL },
	[STOP_STORAGE]   = { TRIAL_FAILED,    CLASS_STORAGE },
	[STOP_SHUTDOWN]  = { TRIAL_QUEUED,    CLASS_INTERRUPTED },
	[STOP_OUTAGE]    = { TRIAL_QUEUED,    CLASS_STORAGE },
	[STOP_TOLD_FAILED] = { TRIAL_FAILED,  CLASS_EXIT },
	[STOP_TOLD_PRUNED] = { TRIAL_PRUNED,  CLASS_PRUNED },
	[STOP_PREEMPTED] = { TRIAL_QUEUED,    CLASS_INTERRUPTED },
	[STOP_LAUNCHER]  = { TRIAL_FAILED,    CLASS_LAUNCHER },
};

void
outcome_classify(const struct outcome_in *t, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	if (t->stop == STOP_NONE) {
		classify_natural(t, o);
		return;
	}
	o->status = stop_outcomes[t->stop].status;
	o->cls = vocab_class_name(stop_outcomes[t->stop].cls);
	o->requeue = t->stop == STOP_SHUTDOWN || t->stop == STOP_OUTAGE ||
		     t->stop == STOP_PREEMPTED;
	/* Early stopping completes a trial only if it has a best epoch. */
	if (t->stop == STOP_EARLY && !isfinite(t->best)) {
		o->status = TRIAL_FAILED;
		o->cls = vocab_class_name(CLASS_EXIT);
	}
	snprintf(o->msg, sizeof o->msg, "%s", t->stop_msg);
}


int
outcome_retry_allowed(const struct outcome_in *t, const struct outcome *o)
{
	if (o->status != TRIAL_FAILED || t->sweep_ending)
		return 0;
	if (!(t->retry_on & class_bit(o->cls)))
		return 0;
	return t->attempt <= t->retries;
}
