/*
 * spawn.c: a vfork-style clone with pipes, a session, limits, a cgroup
 * and a clean slate (see spawn.h).
 *
 * Everything the child needs is prepared here, in the parent, before the
 * clone (struct spawn_ctx, its argv for /bin/sh); the child only makes
 * system calls on it and writes its step and errno back into it. The
 * child runs on a stack of its own (malloc'ed), so that it cannot
 * overwrite the parent's frames while the parent is suspended.
 */
#include "daemon/proc/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/proc/ident.h"

#define DEFAULT_PATH "/bin:/usr/bin"   /* execvp's, when env has no PATH */
#define SPAWN_STACK  (64 * 1024)       /* the child's: a PATH_MAX or two */
#define KSIG_MAX     64                /* the kernel's signals, 1 to 64 */
#define KSIGSET_SIZE 8                 /* its sigset_t, in bytes */

/* The child runs without ASan's stack poisoning: on a heap block, and it
 * never returns to unpoison it. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_address)
#define CHILD_CODE __attribute__((no_sanitize_address, noinline))
#endif
#endif
#ifndef CHILD_CODE
#define CHILD_CODE __attribute__((noinline))
#endif

/* Shared with the child (CLONE_VM): read by it, and step/err written by
 * it when it fails; the parent reads them back once it resumes. */
struct spawn_ctx {
	const struct spawn_req *r;   /* borrowed */
	const char *path;            /* borrowed: the PATH to search */
	char **sh;                   /* owned: /bin/sh FILE ARGS..., [1] set by the child */
	int procs_fd;                /* -1, or cgroup.procs to write "0" to */
	volatile int step;           /* enum spawn_step */
	volatile int err;            /* its errno */
};

int
spawn_pipe(int fds[2])
{
	int p[2], hi;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (p[1] < SPAWN_MAX_FDS + 1) {
		hi = fcntl(p[1], F_DUPFD_CLOEXEC, SPAWN_MAX_FDS + 1);
		if (hi < 0) {
			int e = errno;
			close(p[0]);
			close(p[1]);
			return -e;
		}
		close(p[1]);
		p[1] = hi;
	}
	fds[0] = p[0];
	fds[1] = p[1];
	return 0;
}

/* ---- the child: async-signal-safe only -------------------------------- */

static CHILD_CODE _Noreturn void
child_fail(struct spawn_ctx *x, enum spawn_step step, int err)
{
	x->step = (int)step;
	x->err = err ? err : EINVAL;
	_exit(127);
}

/* Every signal at its default, then none blocked (the parent blocked all
 * of them around the clone, so no daemon handler runs in here). Raw
 * system calls: glibc refuses its own 32 and 33. */
static CHILD_CODE void
child_signals(void)
{
	unsigned long act[4] = { 0 };   /* SIG_DFL, no flags, empty mask */
	unsigned char none[KSIGSET_SIZE] = { 0 };

	for (int sig = 1; sig <= KSIG_MAX; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, act, NULL, KSIGSET_SIZE);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, none, NULL, KSIGSET_SIZE);
}

/* fd 0 on /dev/null, r->fds as 1, 2, ..., nothing else open. */
static CHILD_CODE int
child_files(const struct spawn_req *r)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0)
		return -errno;
	if (fd != 0 && (dup2(fd, 0) < 0 || close(fd) < 0))
		return -errno;
	for (int i = 0; i < r->nfds; i++)
		if (dup2(r->fds[i], i + 1) < 0)
			return -errno;
	if (syscall(SYS_close_range, (unsigned)r->nfds + 1, ~0U, 0) < 0) {
		struct rlimit rl;
		rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
			rl.rlim_cur < 65536 ? rl.rlim_cur : 65536;
		for (int f = r->nfds + 1; f < (int)n; f++)
			close(f);
	}
	return 0;
}

/* execve, and execvp's fallback for a file the kernel cannot execute (no
 * #! line): /bin/sh FILE ARGS... Returns the errno. */
static CHILD_CODE int
child_exec_file(struct spawn_ctx *x, const char *file)
{
	execve(file, x->r->argv, x->r->env);
	if (errno != ENOEXEC)
		return errno;
	x->sh[1] = (char *)file;
	execve("/bin/sh", x->sh, x->r->env);
	return errno;
}

/* execvp's search of a name without '/': each PATH entry in turn (an
 * empty one is the cwd); past a missing file, and past EACCES (given at
 * the end if nothing ran), to the next. */
static CHILD_CODE int
child_search(struct spawn_ctx *x, const char *name)
{
	const char *p = x->path, *end;
	size_t nl = strlen(name);
	char cand[PATH_MAX];
	int rc = ENOENT, eacces = 0;

	for (;; p = end + 1) {
		size_t dl;

		for (end = p; *end && *end != ':'; end++)
			;
		dl = (size_t)(end - p);
		if (dl + 1 + nl < sizeof cand) {
			memcpy(cand, p, dl);
			cand[dl] = '/';
			memcpy(cand + dl + (dl > 0), name, nl + 1);
			rc = child_exec_file(x, cand);
			if (rc == EACCES)
				eacces = 1;
			else if (rc != ENOENT && rc != ENOTDIR && rc != ESTALE &&
				 rc != ENODEV && rc != ETIMEDOUT)
				return rc;
		}
		if (*end == '\0')
			break;
	}
	return eacces ? EACCES : rc;
}

static CHILD_CODE int
child_main(void *arg)
{
	struct spawn_ctx *x = arg;
	const struct spawn_req *r = x->r;
	const char *name = r->argv[0];
	int rc;

	child_signals();
	if (setsid() < 0)
		child_fail(x, SPAWN_STEP_SETUP, errno);
	if (x->procs_fd >= 0)   /* not fatal: the trial runs outside it */
		rc = (int)write(x->procs_fd, "0", 1);
	if (r->memory_mb > 0) {
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = (rlim_t)r->memory_mb * 1024 * 1024;
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			child_fail(x, SPAWN_STEP_MEMORY, errno);
	}
	if (r->nice != 0 && setpriority(PRIO_PROCESS, 0, r->nice) < 0)
		child_fail(x, SPAWN_STEP_NICE, errno);
	rc = child_files(r);
	if (rc < 0)
		child_fail(x, SPAWN_STEP_SETUP, -rc);
	if (r->cwd && chdir(r->cwd) < 0)
		child_fail(x, SPAWN_STEP_CWD, errno);
	rc = strchr(name, '/') ? child_exec_file(x, name) : child_search(x, name);
	child_fail(x, SPAWN_STEP_EXEC, rc);
}

/* ---- the clone --------------------------------------------------------- */

#if defined(__x86_64__)
/* clone3 with a stack of its own: the child calls fn(arg), which never
 * returns. glibc 2.36 has no clone3 wrapper, and a C caller of the bare
 * system call cannot survive its child's first return on the new stack. */
static long
clone3_call(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	register long rax __asm__("rax") = SYS_clone3;
	register void *r12 __asm__("r12") = (void *)fn;
	register void *r13 __asm__("r13") = arg;

	__asm__ volatile(
		"syscall\n\t"
		"testq %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"xorl %%ebp, %%ebp\n\t"
		"movq %%r13, %%rdi\n\t"
		"callq *%%r12\n\t"
		"movl %%eax, %%edi\n\t"
		"movl $60, %%eax\n\t"      /* SYS_exit */
		"syscall\n\t"
		"ud2\n"
		"1:\n\t"
		: "+r"(rax)
		: "D"(ca), "S"(sizeof *ca), "r"(r12), "r"(r13)
		: "rcx", "r11", "memory", "cc");
	return rax;
}
#endif

/* -errno, or the pid; *pidfd set (or -1). cgfd < 0: no cgroup. */
static int
clone_child(struct spawn_ctx *x, char *stack, int cgfd, int *pidfd)
{
	int pid;

	*pidfd = -1;
#if defined(__x86_64__)
	struct clone_args ca = {
		.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD |
			 (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
		.stack = (uint64_t)(uintptr_t)stack,
		.stack_size = SPAWN_STACK,
		.cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
	};
	long rc = clone3_call(&ca, child_main, x);

	if (rc != -ENOSYS && rc != -E2BIG)
		return (int)rc;
#endif
	(void)cgfd;
	pid = clone(child_main, stack + SPAWN_STACK,
		    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, x, pidfd);
	return pid < 0 ? -errno : pid;
}

/* ---- the parent -------------------------------------------------------- */

static const char *
env_path(char *const *env)
{
	for (; env && *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return DEFAULT_PATH;
}

/* /bin/sh FILE ARGS... with FILE left for the child; owned, or NULL. */
static char **
sh_argv(char *const *argv)
{
	size_t n = 0;
	char **sh;

	while (argv[n])
		n++;
	sh = calloc(n + 2, sizeof *sh);
	if (!sh)
		return NULL;
	sh[0] = "/bin/sh";
	for (size_t i = 1; i < n; i++)
		sh[i + 1] = argv[i];
	return sh;
}

/* Clones with every signal blocked; the cgroup first, and without it
 * where it cannot be joined. -errno or the pid. */
static int
clone_blocked(struct spawn_ctx *x, char *stack, int cgfd,
	      struct spawn_result *res, int *pidfd)
{
	unsigned char all[KSIGSET_SIZE], old[KSIGSET_SIZE];
	int64_t before, after;
	int pid;

	memset(all, 0xff, sizeof all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, all, old, KSIGSET_SIZE);
	before = ident_boot_ticks();
	pid = clone_child(x, stack, cgfd, pidfd);
	res->in_cgroup = cgfd >= 0 && pid > 0;
	if (cgfd >= 0 && pid < 0 && pid != -EAGAIN && pid != -ENOMEM) {
		before = ident_boot_ticks();
		pid = clone_child(x, stack, -1, pidfd);
	}
	after = ident_boot_ticks();
	/* the kernel stamped the child between the two: one tick, that one
	 * (a read of /proc/PID/stat costs the daemon more than the rest of
	 * a trial's start row) */
	res->start_ticks = pid > 0 && before > 0 && before == after ? before : 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, KSIGSET_SIZE);
	return pid;
}

/* Opens r->cgroup (its directory: *cgfd, for clone3), and where clone3
 * may be missing its cgroup.procs (x->procs_fd). Failing, nothing. */
static void
open_cgroup(const struct spawn_req *r, struct spawn_ctx *x, int *cgfd)
{
	*cgfd = -1;
	x->procs_fd = -1;
	if (!r->cgroup || !r->cgroup[0])
		return;
	/* O_PATH is enough for clone3 (the kernel takes it with fdget_raw),
	 * and for the openat below. */
	*cgfd = openat(r->cgroup_at > 0 ? r->cgroup_at : AT_FDCWD, r->cgroup,
		       O_PATH | O_DIRECTORY | O_CLOEXEC);
#if !defined(__x86_64__)
	if (*cgfd >= 0)
		x->procs_fd = openat(*cgfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
#endif
}

static int
check_req(const struct spawn_req *r)
{
	if (r->nfds < 0 || r->nfds > SPAWN_MAX_FDS)
		return -EINVAL;
	for (int i = 0; i < r->nfds; i++)
		if (r->fds[i] <= r->nfds)
			return -EINVAL;   /* a dup2 would overwrite it */
	if (!r->argv[0] || !r->argv[0][0])
		return -ENOENT;
	return 0;
}

int
spawn_run(const struct spawn_req *r, struct spawn_result *res)
{
	struct spawn_ctx x = { .r = r, .path = env_path(r->env) };
	char *stack = NULL;
	int cgfd = -1, pidfd = -1, pid, rc;

	memset(res, 0, sizeof *res);
	res->pidfd = -1;
	x.procs_fd = -1;
	rc = check_req(r);
	if (rc < 0)
		return rc;
	x.sh = sh_argv(r->argv);
	stack = malloc(SPAWN_STACK);
	if (!x.sh || !stack) {
		rc = -ENOMEM;
		goto out;
	}
	open_cgroup(r, &x, &cgfd);
	pid = clone_blocked(&x, stack, cgfd, res, &pidfd);
	if (pid < 0) {
		rc = pid;
		res->step = SPAWN_STEP_SETUP;
	} else if (x.step != SPAWN_STEP_NONE) {
		rc = -x.err;   /* it exited: reap it */
		res->step = (enum spawn_step)x.step;
		res->in_cgroup = 0;
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		res->pid = pid;
		res->pidfd = pidfd;
		pidfd = -1;
	}
	if (pidfd >= 0)
		close(pidfd);
	if (cgfd >= 0)
		close(cgfd);
	if (x.procs_fd >= 0)
		close(x.procs_fd);
out:
	free(stack);
	free(x.sh);
	return rc;
}
