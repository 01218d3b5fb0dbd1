/*
 * spawn.c: posix_spawn with pipes, a session and a clean slate (see
 * spawn.h).
 */
#include "daemon/proc/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PATH "/bin:/usr/bin"   /* execvp's, when env has no PATH */

/* The attributes and file actions of one spawn. */
struct spawn_plan {
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	char *const *env;             /* borrowed */
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
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	fds[0] = p[0];
	fds[1] = p[1];
	return 0;
}

/* A session of its own, no blocked signal, every signal at its default. */
static int
plan_attr(posix_spawnattr_t *a)
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	/* Not sigfillset: it leaves out glibc's own two signals (32, 33),
	 * which posix_spawn would then leave ignored past the exec (after a
	 * fork, as uv_spawn did, they are at their default). */
	memset(&all, 0xff, sizeof all);
	rc = posix_spawnattr_setflags(a, POSIX_SPAWN_SETSID |
				      POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(a, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(a, &all);
	return rc;
}

/* fd 0 on /dev/null, r->fds as 1, 2, ..., the cwd, nothing else open. */
static int
plan_files(posix_spawn_file_actions_t *fa, const struct spawn_req *r)
{
	int rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
						  O_RDONLY, 0);

	for (int i = 0; rc == 0 && i < r->nfds; i++)
		rc = posix_spawn_file_actions_adddup2(fa, r->fds[i], i + 1);
	if (rc == 0 && r->cwd)
		rc = posix_spawn_file_actions_addchdir_np(fa, r->cwd);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, r->nfds + 1);
	return rc;
}

/* execvp's fallback for a file the kernel cannot execute (no #! line):
 * /bin/sh FILE ARGS... */
static int
spawn_script(struct spawn_plan *pl, const char *file, char *const *argv,
	     int *pid)
{
	size_t n = 0;
	char **sh;
	int rc;

	while (argv[n])
		n++;
	sh = calloc(n + 2, sizeof *sh);
	if (!sh)
		return ENOMEM;
	sh[0] = "/bin/sh";
	sh[1] = (char *)file;
	for (size_t i = 1; i < n; i++)
		sh[i + 1] = argv[i];
	rc = posix_spawn(pid, "/bin/sh", &pl->fa, &pl->attr, sh, pl->env);
	free(sh);
	return rc;
}

/* One candidate path; a positive errno on failure, as posix_spawn. */
static int
spawn_file(struct spawn_plan *pl, const char *file, char *const *argv,
	   int *pid)
{
	int rc = posix_spawn(pid, file, &pl->fa, &pl->attr, argv, pl->env);

	if (rc == ENOEXEC)
		rc = spawn_script(pl, file, argv, pid);
	return rc;
}

static const char *
env_path(char *const *env)
{
	for (; env && *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return DEFAULT_PATH;
}

/* execvp's search of a name without '/': each PATH entry in turn (an
 * empty one is the cwd); past a missing file, and past EACCES (given at
 * the end if nothing ran), to the next. A missing absolute candidate is
 * skipped without a spawn; a relative one is left to the child, which
 * resolves it after its chdir. */
static int
spawn_search(struct spawn_plan *pl, const char *name, char *const *argv,
	     int *pid)
{
	const char *p = env_path(pl->env), *end;
	size_t nl = strlen(name);
	char cand[PATH_MAX];
	int rc = ENOENT, eacces = 0;

	for (;; p = end + 1) {
		size_t dl;

		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		if (dl + 1 + nl < sizeof cand) {
			memcpy(cand, p, dl);
			cand[dl] = '/';
			memcpy(cand + dl + (dl > 0), name, nl + 1);
			if (cand[0] == '/' && access(cand, F_OK) < 0 &&
			    (errno == ENOENT || errno == ENOTDIR))
				rc = ENOENT;
			else
				rc = spawn_file(pl, cand, argv, pid);
			if (rc == 0)
				return 0;
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

int
spawn_run(const struct spawn_req *r, int *pid)
{
	struct spawn_plan pl = { .env = r->env };
	const char *name = r->argv[0];
	int rc;

	if (r->nfds < 0 || r->nfds > SPAWN_MAX_FDS)
		return -EINVAL;
	for (int i = 0; i < r->nfds; i++)
		if (r->fds[i] <= r->nfds)
			return -EINVAL;   /* a dup2 would overwrite it */
	if (!name || !name[0])
		return -ENOENT;
	rc = posix_spawnattr_init(&pl.attr);
	if (rc)
		return -rc;
	rc = posix_spawn_file_actions_init(&pl.fa);
	if (rc) {
		posix_spawnattr_destroy(&pl.attr);
		return -rc;
	}
	rc = plan_attr(&pl.attr);
	if (rc == 0)
		rc = plan_files(&pl.fa, r);
	if (rc == 0)
		rc = strchr(name, '/') ? spawn_file(&pl, name, r->argv, pid) :
			spawn_search(&pl, name, r->argv, pid);
	posix_spawn_file_actions_destroy(&pl.fa);
	posix_spawnattr_destroy(&pl.attr);
	return -rc;
}
