/*
 * slurm_left.c: the jobs a previous sweepd left (slurm_run.h's
 * slurm_cancel_leftovers). Start-up only, before the loop runs: squeue and
 * scancel are run and waited for, each within the bound.
 */
#include "daemon/proc/slurm_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/proc/slurm.h"

extern char **environ;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv, its stdout into *out (owned, NUL-terminated; NULL to drop
 * it), until deadline (monotonic ms). The exit status, or a negative
 * errno: -ENOENT not found, -ETIMEDOUT (it is then killed). */
static int
run_sync(char *const *argv, char **out, long long deadline)
{
	posix_spawn_file_actions_t fa;
	int fds[2], status = 0, rc;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return -rc;
	}
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (cap - len < 4097) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 16384);
			if (!nb) {
				kill(pid, SIGKILL);
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fds[0], buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0)
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (buf)
		buf[len] = '\0';
	if (out && rc >= 0)
		*out = buf;
	else
		free(buf);
	return rc;
}

/* The ids of the jobs of names[n] (with comment) that squeue shows not
 * ended, into ids (n of room). How many, or a negative errno with err. */
static int
alive_jobs(const char *const *names, size_t n, const char *comment,
	   unsigned long long *ids, long long deadline, char *err, size_t errlen)
{
	char **argv = NULL, *out = NULL, msg[256];
	int rc = slurm_squeue_argv(names, n, &argv), k = 0;

	if (rc == 0)
		rc = run_sync(argv, &out, deadline);
	slurm_argv_free(argv);
	if (rc != 0) {
		snprintf(err, errlen, "squeue: %s", rc > 0 ? "failed" : strerror(-rc));
		free(out);
		return rc > 0 ? -EIO : rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct slurm_job j;
		int f = slurm_squeue_find(out, names[i], comment, &j, msg, sizeof msg);
		if (f == -EBADMSG) {
			snprintf(err, errlen, "%s", msg);
			free(out);
			return f;
		}
		if (f == 0 && j.cls != SLURM_JOB_ENDED)
			ids[k++] = j.id;
	}
	free(out);
	return k;
}

static int
scancel_all(const unsigned long long *ids, int n, long long deadline)
{
	char **argv = calloc((size_t)n + 2, sizeof *argv);
	int rc = -ENOMEM;

	if (!argv)
		return rc;
	argv[0] = "scancel";
	for (int i = 0; i < n; i++)
		if (asprintf(&argv[i + 1], "%llu", ids[i]) < 0)
			goto out;
	rc = run_sync(argv, NULL, deadline);
out:
	for (int i = 0; i < n; i++)
		free(argv[i + 1]);
	free(argv);
	return rc;
}

int
slurm_cancel_leftovers(const char *const *names, size_t n, const char *comment,
		       int timeout_ms, char *err, size_t errlen)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned long long *ids;
	int rc, first;

	if (n == 0)
		return 0;
	ids = calloc(n, sizeof *ids);
	if (!ids)
		return -ENOMEM;
	rc = first = alive_jobs(names, n, comment, ids, deadline, err, errlen);
	if (rc > 0) {
		rc = scancel_all(ids, rc, deadline);
		if (rc < 0)
			snprintf(err, errlen, "scancel: %s", strerror(-rc));
	}
	/* Until squeue shows none of them alive, or the bound. */
	while (rc >= 0 && first > 0) {
		struct timespec ts = { 0, 200 * 1000000 };
		rc = alive_jobs(names, n, comment, ids, deadline, err, errlen);
		if (rc == 0)
			break;
		if (rc > 0 && now_ms() >= deadline) {
			snprintf(err, errlen, "%d job%s still there after %d ms", rc,
				 rc == 1 ? "" : "s", timeout_ms);
			rc = -ETIMEDOUT;
			break;
		}
		nanosleep(&ts, NULL);
	}
	free(ids);
	return rc < 0 ? rc : first;
}
