/*
 * bench_cgroup.c: what a trial's cgroup costs its spawn. Not a test.
 *
 *   ./build/bench/daemon/bench_cgroup [--runs 2000] [--command /bin/true]
 *
 * Runs the command --runs times, one at a time (clone3 with CLONE_VFORK,
 * exec, waitpid), four ways, and prints the wall time per run, what the
 * clone3 call took, and what was done before it (the mkdir, or
 * trialcg_create) and after the reap (the rmdir, or trialcg_end):
 *  - none:  no cgroup (the daemon's own);
 *  - new:   a new cgroup per run, made before it and removed after it (as
 *           sweepd did until 2026-12-02);
 *  - kept:  one cgroup for every run;
 *  - trialcg: daemon/proc/trialcg.c's trialcg_create and trialcg_end around
 *           each run, as the daemon does now (it keeps the cgroup).
 * The cgroups are made under a trialcg base of a temporary state dir (so
 * where sweepd gets no per-trial cgroups, this says so and stops).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/proc/trialcg.h"
#include "bench/benchclock.h"

enum mode { M_NONE, M_NEW, M_KEPT, M_TRIALCG, M_N };

static const char *const mode_name[M_N] = { "none", "new", "kept", "trialcg" };

struct cost {
	double wall, clone, mkdir, rmdir;   /* seconds, summed over runs */
};

/* clone3 (vfork-style) into the cgroup open at cgfd (-1: none), exec cmd,
 * reap it: 0, or -1. The clone's own time is added to *clone_s. */
static int
run_once(const char *cmd, int cgfd, double *clone_s)
{
	struct clone_args ca;
	double t0 = bench_now_s();
	long pid;
	int st;

	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VFORK | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0);
	ca.exit_signal = SIGCHLD;
	ca.cgroup = cgfd >= 0 ? (unsigned long long)cgfd : 0;
	pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0) {
		execl(cmd, cmd, (char *)NULL);
		_exit(127);
	}
	*clone_s += bench_now_s() - t0;
	if (pid < 0)
		return -1;
	if (waitpid((pid_t)pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

/* One run of mode m; base is the trialcg's directory. 0, or -1. */
static int
one(enum mode m, struct trialcg *cg, const char *base, int i,
    const char *cmd, struct cost *c)
{
	char path[4400];
	double t;
	int fd = -1, rc;

	switch (m) {
	case M_NONE:
		return run_once(cmd, -1, &c->clone);
	case M_NEW:
		snprintf(path, sizeof path, "%s/bench-%d", base, i);
		t = bench_now_s();
		if (mkdir(path, 0755) < 0)
			return -1;
		c->mkdir += bench_now_s() - t;
		break;
	case M_KEPT:
		snprintf(path, sizeof path, "%s/bench-kept", base);
		if (i == 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		break;
	case M_TRIALCG:
		t = bench_now_s();
		if (trialcg_create(cg, i + 1, 1, path, sizeof path) < 0)
			return -1;
		c->mkdir += bench_now_s() - t;
		break;
	default:
		return -1;
	}
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rc = fd >= 0 ? run_once(cmd, fd, &c->clone) : -1;
	if (fd >= 0)
		close(fd);
	t = bench_now_s();
	if (m == M_NEW && rmdir(path) < 0)
		rc = -1;
	if (m == M_TRIALCG)
		trialcg_end(cg, i + 1, 1);
	c->rmdir += bench_now_s() - t;
	return rc;
}

int
main(int argc, char **argv)
{
	char state[] = "/tmp/bench_cgroup_XXXXXX", why[256];
	const char *cmd = "/bin/true";
	struct trialcg *cg = NULL;
	int runs = 2000, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--command") == 0 && i + 1 < argc)
			cmd = argv[++i];
		else {
			fprintf(stderr, "usage: bench_cgroup [--runs N] "
				"[--command PATH]\n");
			return 2;
		}
	}
	if (runs < 1 || !mkdtemp(state))
		return 2;
	cg = trialcg_init(state, 1, why, sizeof why);
	if (!cg) {
		printf("no per-trial cgroups here: %s\n", why[0] ? why : "-");
		rc = 0;
		goto out;
	}
	printf("%d runs of %s each, one at a time, under %s:\n", runs, cmd,
	       trialcg_path(cg));
	for (enum mode m = 0; m < M_N; m++) {
		struct cost c = { 0 };
		double t0 = bench_now_s();

		for (int i = 0; i < runs; i++)
			if (one(m, cg, trialcg_path(cg), i, cmd, &c) < 0) {
				fprintf(stderr, "bench_cgroup: %s: run %d failed: "
					"%s\n", mode_name[m], i, strerror(errno));
				goto out;
			}
		c.wall = bench_now_s() - t0;
		printf("  %-8s %8.1f us per run  clone3 %7.1f us  before %6.1f us"
		       "  after %6.1f us\n", mode_name[m], 1e6 * c.wall / runs,
		       1e6 * c.clone / runs, 1e6 * c.mkdir / runs,
		       1e6 * c.rmdir / runs);
	}
	rc = 0;
out:
	trialcg_close(cg);
	rmdir(state);
	return rc;
}
