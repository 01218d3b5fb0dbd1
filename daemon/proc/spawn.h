/*
 * spawn.h: a process started with posix_spawn, at a cost that does not
 * grow with the daemon.
 *
 * glibc's posix_spawn is clone(CLONE_VM|CLONE_VFORK): the child shares
 * the daemon's memory until it execs, so nothing is copied and no page
 * table is duplicated, however large the daemon grows (uv_spawn in libuv
 * 1.44 forks). The child gets a session of its own (POSIX_SPAWN_SETSID:
 * its pid is its process group), fd 0 on /dev/null, the given descriptors
 * as fd 1, 2, ... and nothing else open (closefrom, even for descriptors
 * left without O_CLOEXEC), an empty signal mask and every signal at its
 * default (the daemon ignores SIGPIPE; libuv blocks signals in places),
 * the environment given, and the cwd given. The command is looked up as
 * execvp does, in the PATH of the environment given (as uv_spawn did),
 * and a file without a #! line runs under /bin/sh.
 *
 * Pure: no loop, no logging. The owner watches the exit (child.c: a
 * pidfd on the loop).
 */
#ifndef SWEEPD_PROC_SPAWN_H
#define SWEEPD_PROC_SPAWN_H

#define SPAWN_MAX_FDS 3   /* fd 1, 2, 3 */

/* What to start; everything is borrowed for the call only. */
struct spawn_req {
	char *const *argv;  /* NULL-terminated; argv[0] the file */
	char *const *env;   /* NULL-terminated, complete */
	const char *cwd;    /* NULL: the caller's */
	const int *fds;     /* [nfds]: the child's fd 1, 2, ...; each above nfds */
	int nfds;           /* 0 to SPAWN_MAX_FDS */
};

/* A pipe for a child's output: fds[0], the read end, non-blocking;
 * fds[1], the write end, at fd 4 or above (so that no dup2 of a spawn
 * overwrites another); both O_CLOEXEC. 0 or -errno (nothing left open). */
int spawn_pipe(int fds[2]);
/* Starts r->argv. 0 with *pid set, or -errno: the errno of the step that
 * failed (ENOENT, EACCES, ENOEXEC, a chdir's, EMFILE, EAGAIN...), which
 * is the one execvp would give for the command. */
int spawn_run(const struct spawn_req *r, int *pid);

#endif
