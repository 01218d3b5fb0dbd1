/*
 * outcome.h: how a trial ended, from plain facts.
 *
 * Pure: no loop, no database. The end of a trial (end.c) fills a struct
 * outcome_in from the trial, its process and its sweep's spec; this module
 * classifies it (completed, failed with a class, pruned, cancelled, or back
 * to the queue) and decides whether a failure is retried.
 */
#ifndef SWEEPD_SCHED_OUTCOME_H
#define SWEEPD_SCHED_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "common/vocab.h"

/* Why the daemon stopped a trial itself (STOP_NONE: it ended on its own). */
enum trial_stop {
	STOP_NONE,
	STOP_PRUNED,     /* a pruner (median, asha) said so */
	STOP_DIVERGED,   /* the diagnosis saw NaN/inf or an exploding loss */
	STOP_EARLY,      /* early stopping: completed at its best epoch */
	STOP_CANCELLED,  /* the sweep was cancelled or failed */
	STOP_TIMEOUT,    /* limits.trial_timeout_s */
	STOP_STALL,      /* limits.stall_s without a report line */
	STOP_PROTOCOL,   /* a bad report line */
	STOP_STORAGE,    /* the database refused a write */
	STOP_OUTAGE,     /* a storage outage (disk full, read-only): requeue */
	STOP_SHUTDOWN,   /* the daemon is shutting down: requeue */
	STOP_TOLD_FAILED, /* manual: the client told "failed" */
	STOP_TOLD_PRUNED, /* manual: the client told "pruned" */
	STOP_PREEMPTED,  /* Slurm cancelled or preempted its job: requeue */
	STOP_LAUNCHER,   /* Slurm refused or lost its job (its message) */
};

#define OUTCOME_MSG 768

/* What is known of an ended trial. Strings are borrowed. */
struct outcome_in {
	enum trial_stop stop;
	const char *stop_msg;      /* "" or the daemon's reason for stop */
	/* How the process ended. */
	int spawn_error;           /* negative libuv error of the spawn, or 0 */
	const char *spawn_strerror; /* its text, when spawn_error */
	int term_signal;           /* 0 or the signal that killed it */
	int64_t exit_status;
	const char *errtail;       /* the stderr tail, not NUL-terminated */
	size_t errtail_len;
	/* What it reported. */
	int n_curve;               /* epoch lines of this attempt */
	int last_epoch;
	int got_final;
	int plain_reports;         /* report lines on stdout without "SWEEP " */
	const char *plain_example; /* the first of them */
	double best;               /* best objective, NAN if none */
	int objective_seen;        /* some epoch's objective was not NaN */
	/* The spec's limits. */
	const char *metric;        /* the objective metric's name */
	int budget;                /* epoch budget of the trial, <= 0 unknown */
	long memory_mb;            /* limits.memory_mb, 0 if none */
	unsigned retry_on;         /* SPEC_RETRY_* bits */
	int retries;               /* limits.retries */
	int attempt;               /* runs started so far, this one included */
	int sweep_ending;          /* the sweep is being cancelled or failed */
};

struct outcome {
	enum trial_status status;
	const char *cls;          /* NULL or the failure class (static) */
	char msg[OUTCOME_MSG];    /* a completed trial's note, else the failure */
	int requeue;              /* back to the queue instead of an end state */
};

/* Classifies an ended trial into *o (requeue set for a shutdown or an
 * outage, not for a retry). */
void outcome_classify(const struct outcome_in *in, struct outcome *o);
/* 1 when the failure o is retried: its class is in limits.retry_on and
 * retries are left. */
int outcome_retry_allowed(const struct outcome_in *in, const struct outcome *o);

#endif
