/*
 * spawn.h: a process started vfork-style, at a cost that does not grow
 * with the daemon, with the trial's limits and cgroup set before it execs.
 *
 * The child is a clone(CLONE_VM|CLONE_VFORK) on a stack of its own: it
 * shares the daemon's memory until it execs, so nothing is copied and no
 * page table is duplicated, however large the daemon grows (uv_spawn in
 * libuv 1.44 forks), and the daemon waits only until the exec. Before the
 * exec the child resets every signal (1 to 64, glibc's own 32 and 33
 * included) to its default and unblocks them all (the daemon ignores
 * SIGPIPE; libuv blocks signals in places), starts a session of its own
 * (its pid is its process group), sets RLIMIT_AS and nice when asked,
 * puts fd 0 on /dev/null and the given descriptors as fd 1, 2, ..., closes
 * every other descriptor (even one left without O_CLOEXEC), changes to
 * the cwd given, and execs the command with the environment given. It
 * starts in the cgroup given (clone3's CLONE_INTO_CGROUP; where there is
 * no clone3, by writing to its cgroup.procs), and where it cannot join
 * it, it runs all the same outside it. The command is looked up as execvp
 * does, in the PATH of the environment given (as uv_spawn did), and a file
 * without a #! line runs under /bin/sh.
 *
 * The child runs only async-signal-safe code on memory the parent
 * prepared; a step that fails is written to that memory (the step and its
 * errno) before the child exits, and the parent, which resumes only once
 * the child has exec'ed or exited, reaps it and reports the step.
 *
 * Pure: no loop, no logging. The owner watches the exit (child.c: a
 * pidfd on the loop).
 */
#ifndef SWEEPD_PROC_SPAWN_H
#define SWEEPD_PROC_SPAWN_H

#include <stdint.h>

#define SPAWN_MAX_FDS 3   /* fd 1, 2, 3 */

/* Which step of the child failed. */
enum spawn_step {
	SPAWN_STEP_NONE,
	SPAWN_STEP_SETUP,    /* signals, session, /dev/null, the dup2s */
	SPAWN_STEP_MEMORY,   /* RLIMIT_AS (memory_mb) */
	SPAWN_STEP_NICE,     /* setpriority (nice) */
	SPAWN_STEP_CWD,      /* chdir */
	SPAWN_STEP_EXEC,     /* execve (and its PATH search) */
};

/* What to start; everything is borrowed for the call only. */
struct spawn_req {
	char *const *argv;  /* NULL-terminated; argv[0] the file */
	char *const *env;   /* NULL-terminated, complete */
	const char *cwd;    /* NULL: the caller's */
	const int *fds;     /* [nfds]: the child's fd 1, 2, ...; each above nfds */
	int nfds;           /* 0 to SPAWN_MAX_FDS */
	long memory_mb;     /* > 0: RLIMIT_AS of that many MiB */
	int nice;           /* != 0: that niceness */
	const char *cgroup; /* NULL or "": none; else a cgroup v2 directory */
	int cgroup_at;      /* > 0: a directory fd cgroup is relative to
			     * (one path step, not a walk from /); else the
			     * cwd */
};

/* What spawn_run found. */
struct spawn_result {
	int pid;               /* > 0 once started */
	int pidfd;             /* owned by the caller: the child's pidfd, or -1 */
	enum spawn_step step;  /* the step that failed (NONE: none) */
	int in_cgroup;         /* 1: it started in r->cgroup */
	int64_t start_ticks;   /* its /proc/PID/stat starttime, when the clock
				* told it (ident_boot_ticks the same before and
				* after the clone); else 0: read /proc */
};

/* A pipe for a child's output: fds[0], the read end, for uv_pipe_open
 * (which makes it non-blocking: not done here as well); fds[1], the write
 * end, blocking (the child's), at fd 4 or above (so that no dup2 of a spawn
 * overwrites another); both O_CLOEXEC. 0 or -errno (nothing left open). */
int spawn_pipe(int fds[2]);
/* Starts r->argv. 0 with res->pid set, or -errno with res->step: the
 * errno of the step that failed (ENOENT, EACCES, ENOEXEC, a chdir's, a
 * setrlimit's, EMFILE, EAGAIN...), for the exec the one execvp would give
 * for the command. */
int spawn_run(const struct spawn_req *r, struct spawn_result *res);

#endif
