/*
 * vocab: the names sweepd stores, sends and sweepctl reads: trial states,
 * sweep states and error classes (docs/DESIGN.md, "Storage"). One enum
 * each, with its wire names and a parse function, so that the daemon, the
 * database and the client spell them one way.
 */
#ifndef SWEEPD_COMMON_VOCAB_H
#define SWEEPD_COMMON_VOCAB_H

/* A trial's status: queued -> [pending ->] running -> completed | failed |
 * pruned | cancelled. pending: a Slurm trial whose job waits in Slurm's
 * queue (docs/slurm.md); stored as running with trials.pending set. */
enum trial_status {
	TRIAL_QUEUED,
	TRIAL_PENDING,
	TRIAL_RUNNING,
	TRIAL_COMPLETED,
	TRIAL_FAILED,
	TRIAL_PRUNED,
	TRIAL_CANCELLED,
};
#define TRIAL_N_STATUS (TRIAL_CANCELLED + 1)

/* A sweep's status: running <-> paused -> completed | failed | cancelled. */
enum sweep_status {
	SWEEP_RUNNING,
	SWEEP_PAUSED,
	SWEEP_COMPLETED,
	SWEEP_FAILED,
	SWEEP_CANCELLED,
};
#define SWEEP_N_STATUS (SWEEP_CANCELLED + 1)

/* Why a trial ended as it did: a trial's error.class, a failure group's
 * class. The first CLASS_N_RETRY are the ones limits.retry_on names, in
 * the order of its bits (1u << class). */
enum error_class {
	CLASS_NONE = -1,    /* no error (the wire's null) */
	CLASS_SIGNAL,
	CLASS_TIMEOUT,
	CLASS_STALL,
	CLASS_OOM,
	CLASS_EXIT,
	CLASS_PROTOCOL,
	CLASS_STORAGE,
	CLASS_INTERRUPTED,
	CLASS_CANCELLED,
	CLASS_PRUNED,
	CLASS_DIVERGED,
	CLASS_NOTE,
	CLASS_LAUNCHER,     /* Slurm refused or lost the job (docs/slurm.md) */
};
#define CLASS_N (CLASS_LAUNCHER + 1)
#define CLASS_N_RETRY (CLASS_EXIT + 1)

/* The wire name; NULL for a value out of range (and for CLASS_NONE). The
 * string is static. */
const char *vocab_trial_name(enum trial_status st);
const char *vocab_sweep_name(enum sweep_status st);
const char *vocab_class_name(enum error_class cls);

/* The value a name (borrowed, may be NULL) stands for, or -EINVAL when it
 * is NULL or no name of that vocabulary (names are case-sensitive). */
int vocab_trial_parse(const char *name);
int vocab_sweep_parse(const char *name);
int vocab_class_parse(const char *name);

/* 1 for completed, failed, pruned and cancelled, else 0. st is an enum
 * trial_status or what vocab_trial_parse returned (-EINVAL: 0). */
int vocab_trial_ended(int st);
/* 1 for running and paused (a sweep that has not ended), else 0. st is an
 * enum sweep_status or what vocab_sweep_parse returned (-EINVAL: 0). */
int vocab_sweep_active(int st);

#endif
