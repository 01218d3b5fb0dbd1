/*
 * slurm.h: the pure half of the Slurm launcher (docs/slurm.md): a spec's
 * "launcher": {"slurm": {...}} options, the srun command line of one
 * trial, and squeue's answer about a trial's job. No loop, no scheduler:
 * cJSON and libc only. Running srun, squeue and scancel is the launcher's.
 */
#ifndef SWEEPD_PROC_SLURM_H
#define SWEEPD_PROC_SLURM_H

#include <stddef.h>

#include <cJSON.h>

/* launcher.slurm of a spec; every string owned, NULL when not given. */
struct slurm_opts {
	char *partition, *account, *qos;
	long time_s;         /* "time" in seconds; 0 when not given */
	char **extra;        /* (n_extra) owned strings, each one long option */
	size_t n_extra;
};

/* Parses the value of "launcher.slurm" (NULL: all defaults) into *o
 * (which the caller frees with slurm_opts_free, also after a failure).
 * Keys: partition, account, qos (non-empty strings without white space or
 * control characters), time ("HH:MM:SS", minutes and seconds below 60,
 * more than zero), extra (an array of strings, each one long option,
 * "--name" or "--name=value"; short options, bare words and the options
 * sweepd sets itself are refused, see slurm.c). Returns 0, -EINVAL with a
 * message naming the path in err (path is e.g. "launcher.slurm"), or
 * -ENOMEM. */
int
slurm_opts_parse(struct slurm_opts *o, const cJSON *v, const char *path, char *err,
		 size_t errlen);

void
slurm_opts_free(struct slurm_opts *o);

/* One attempt of one trial, as srun is to run it. */
struct slurm_trial {
	long long sweep_id, trial_id;
	int attempt;                 /* 1.. */
	int cpus;                    /* >= 1: --cpus-per-task */
	int gpus;                    /* >= 0: --gres=gpu:N when > 0 */
	long long mem_mb;            /* > 0: --mem=NM; 0: Slurm's default */
	const char *const *argv;     /* the trainer's argv, NULL-terminated; borrowed */
	const char *comment;         /* NULL or --comment (no bar, no white space):
				      * whose job it is, checked in squeue's answer */
};

/* The job's name, "sweepd-<sweep>-<trial>-<attempt>", into buf. Returns
 * its length or -ENOSPC. */
int
slurm_job_name(char *buf, size_t len, const struct slurm_trial *t);

/* The srun argv (NULL-terminated; owned by the caller, freed with
 * slurm_argv_free) for t under o:
 *   srun EXTRA... --job-name=NAME [--comment=C] [--partition= --account= --qos= --time=]
 *        --ntasks=1 --cpus-per-task=N [--gres=gpu:N] [--mem=NM]
 *        --export=ALL --input=none --unbuffered --kill-on-bad-exit=1 --verbose
 *        -- /usr/bin/env -u SWEEP_REPORT_FD -- ARGV...
 * The extras come first so that sweepd's own options win. env -u: fd 3
 * does not cross srun, so the trainer must not be told to use it (it then
 * reports on stdout with the "SWEEP " prefix); --export cannot remove a
 * variable. Returns 0, -EINVAL (a field of t out of range, no argv), or
 * -ENOMEM. */
int
slurm_srun_argv(const struct slurm_opts *o, const struct slurm_trial *t, char ***argv);

/* squeue's argv (owned, slurm_argv_free) listing the jobs named names[n]
 * (n >= 1) in every state Slurm still remembers, one line each in the
 * format slurm_squeue_find reads. Returns 0, -EINVAL (n == 0) or -ENOMEM. */
int
slurm_squeue_argv(const char *const *names, size_t n, char ***argv);

void
slurm_argv_free(char **argv);

enum slurm_job_class {
	SLURM_JOB_PENDING,   /* waiting in the queue (PENDING, REQUEUED, ...) */
	SLURM_JOB_RUNNING,   /* has its allocation (RUNNING, COMPLETING, ...) */
	SLURM_JOB_ENDED,     /* COMPLETED, CANCELLED, FAILED, PREEMPTED, ... */
	SLURM_JOB_OTHER,     /* a state this module does not know */
};

struct slurm_job {
	unsigned long long id;
	char state[32];              /* squeue's %T, e.g. "RUNNING" */
	enum slurm_job_class cls;
	int matches;                 /* lines with the name (the newest is kept) */
};

/* Finds the job named name whose comment is comment (NULL: any) in out,
 * the stdout of slurm_squeue_argv's command: the line with the highest job
 * id when several have both. Returns 0, -ENOENT when no line has it, or
 * -EBADMSG when a line is not "ID|STATE|COMMENT|NAME" or the job's id is
 * not a job id (err quotes the line). */
int
slurm_squeue_find(const char *out, const char *name, const char *comment,
		  struct slurm_job *job, char *err, size_t errlen);

/* The class of a state as squeue's %T writes it. */
enum slurm_job_class
slurm_state_class(const char *state);

/* A line of srun's stderr: the trainer's own, or one of Slurm's (srun's
 * "srun: ..." and slurmstepd's "slurmstepd[-NODE]: ..."), which are kept
 * out of the trial's stderr tail and tell what Slurm did. */
enum slurm_line {
	SLURM_LINE_TRAINER,    /* not Slurm's: the trainer wrote it */
	SLURM_LINE_QUEUED,     /* srun: job N queued and waiting for resources */
	SLURM_LINE_ALLOCATED,  /* srun: job N has been allocated resources, or
			        * (--verbose) srun: jobid N: nodes(...)... */
	SLURM_LINE_TASK,       /* srun: error: NODE: task 0: Exited with exit code 3 */
	SLURM_LINE_CANCELLED,  /* slurmstepd: error: *** STEP N.0 ON NODE CANCELLED AT ... */
	SLURM_LINE_ERROR,      /* any other "srun: error: ..." (a refused request) */
	SLURM_LINE_OTHER,      /* any other line of srun or slurmstepd */
};

/* Classifies line (len bytes, no newline). *job gets the job id a QUEUED,
 * ALLOCATED or CANCELLED line names (0 otherwise). */
enum slurm_line
slurm_stderr_line(const char *line, size_t len, unsigned long long *job);

#endif
