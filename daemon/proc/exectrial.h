/*
 * exectrial.h: the exec wrapper, `sweepd-exec --exec-trial MEMORY_MB NICE
 * CGROUP_PROCS -- COMMAND...` (or `sweepd --exec-trial ...`, the same code).
 *
 * posix_spawn has no step for a trial's limits: the spawned process runs
 * this first, which applies RLIMIT_AS and nice, joins the trial's cgroup
 * (CGROUP_PROCS "" for none) and execs the trainer. Failing, it writes one
 * line "sweepd: ..." to stderr and exits 126 (a limit) or 127 (no exec),
 * which child_wrapper_error reads. sweepd-exec is this alone, linked
 * against libc only, so that the extra exec of every limited trial costs
 * what a small program's start costs (sweepd's own start links SQLite,
 * libuv and cJSON: about twice a trivial trainer's CPU). Pure: no loop.
 */
#ifndef SWEEPD_PROC_EXECTRIAL_H
#define SWEEPD_PROC_EXECTRIAL_H

#define EXECTRIAL_PROGRAM "sweepd-exec"

/* argv[1] is "--exec-trial"; returns only on failure (126 or 127). */
int exectrial_main(int argc, char **argv);

#endif
