/*
 * test_trialcg.c: the per-trial cgroups (daemon/proc/trialcg.c) on this
 * machine's cgroup v2, without root; skipped where no writable one with
 * cgroup.kill can be had.
 *
 * A trial's end keeps its cgroup for the next attempt when its trainer
 * left it as it was made, and kills what is left in it otherwise, the
 * removal then left to trialcg_tidy; a cgroup something was left in, or
 * that was changed, is never given out again. Each trialcg has its own
 * base: two side by side (two schedulers in one process) never make or
 * remove each other's cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/proc/trialcg.h"
#include "tests/harness.h"

#define WAIT_ROUNDS 500   /* of 10 ms: what the kernel may take */

static char state[] = "/tmp/test_trialcg_XXXXXX";
static struct trialcg *cg0;    /* owned: trialcg_init's, or NULL */
static char why[256];

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Writes text to the file at path: 0, or -1. */
static int
write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

/* A process in the cgroup at cg, paused: its pid, or -1. It joins before
 * this returns (it says so on a pipe). */
static int
start_in(const char *cg)
{
	char procs[4500], c;
	int p[2], pid;

	snprintf(procs, sizeof procs, "%s/cgroup.procs", cg);
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(1);
		close(fd);
		if (write(p[1], "j", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		if (pid > 0)
			kill(pid, SIGKILL);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* pid's wait status once it exited within the rounds; else it is killed
 * here and -1 is returned. */
static int
exited_within(int pid)
{
	int st;

	for (int i = 0; i < WAIT_ROUNDS; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* trialcg_at: the base's fd and the name below it, for a spawn's one-step
 * open; a path elsewhere (or no trialcg) is given back whole, with -1. */
static void
test_at_names_the_cgroup_below_the_base(void)
{
	char cg[4400], other[64] = "/elsewhere/cg-1";
	const char *name = NULL;
	struct stat a, b;
	int fd;

	CHECK(trialcg_at(NULL, other, &name) == -1 && name == other);
	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_at(cg0, other, &name) == -1 && name == other);
	CHECK(trialcg_create(cg0, 16, 2, cg, sizeof cg) == 0);
	fd = trialcg_at(cg0, cg, &name);
	CHECK(fd >= 0);
	CHECK_MSG(strncmp(name, "cg-", 3) == 0 && !strchr(name, '/'),
		  "name %s", name);
	CHECK(fstatat(fd, name, &a, 0) == 0 && stat(cg, &b) == 0);
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	trialcg_end(cg0, 16, 2);
}

/* Nothing was left in it: the end keeps the cgroup, and the next attempt
 * is given that same one (no mkdir, no rmdir); a process joins it. Two
 * busy at once have two. */
static void
test_end_keeps_an_empty_cgroup_for_the_next(void)
{
	char cg[4400], again[4400], other[4400];
	struct stat a, b;
	int pid, st;

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_create(cg0, 11, 1, cg, sizeof cg) == 0);
	CHECK(stat(cg, &a) == 0);
	pid = start_in(cg);
	CHECK(pid > 0);
	if (pid > 0) {   /* its trainer exits, and is reaped, before the end */
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	trialcg_end(cg0, 11, 1);
	CHECK_MSG(exists(cg), "%s removed though nothing was left in it", cg);
	CHECK(trialcg_create(cg0, 12, 1, again, sizeof again) == 0);
	CHECK_STR(again, cg);
	CHECK(stat(again, &b) == 0 && a.st_ino == b.st_ino);
	CHECK(trialcg_create(cg0, 13, 1, other, sizeof other) == 0);
	CHECK(strcmp(other, again) != 0);
	pid = start_in(again);
	CHECK_MSG(pid > 0, "cannot join %s again", again);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	trialcg_end(cg0, 12, 1);
	trialcg_end(cg0, 13, 1);
	trialcg_end(cg0, 13, 1);   /* twice: no-op */
	CHECK(exists(cg) && exists(other));
}

/* Something left in it: killed at the end (SIGKILL, by cgroup.kill), the
 * cgroup removed by the next tidy once it has emptied, and never given to
 * a later attempt (Linux kills at birth what is cloned into a cgroup once
 * killed). */
static void
test_end_kills_what_is_left_and_tidy_removes_it(void)
{
	char cg[4400], next[4400];
	int pid, st;

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_create(cg0, 12, 2, cg, sizeof cg) == 0);
	pid = start_in(cg);
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	trialcg_end(cg0, 12, 2);
	CHECK(trialcg_create(cg0, 12, 3, next, sizeof next) == 0);
	CHECK_MSG(strcmp(next, cg) != 0, "%s, killed, given out again", cg);
	st = exited_within(pid);
	CHECK_MSG(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the process left in %s was not killed (status %d)", cg, st);
	for (int i = 0; i < WAIT_ROUNDS && exists(cg); i++) {
		trialcg_tidy(cg0);
		usleep(10 * 1000);
	}
	CHECK_MSG(!exists(cg), "%s not removed by trialcg_tidy", cg);
	pid = start_in(next);   /* the new one works */
	CHECK(pid > 0);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	trialcg_end(cg0, 12, 3);
}

/* A trainer that died of SIGKILL may have been killed through its own
 * cgroup.kill, which leaves no mark in the cgroup's files: its cgroup is
 * removed, not kept, empty as it is. */
static void
test_end_killed_never_keeps(void)
{
	char cg[4400], next[4400];

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_create(cg0, 19, 1, cg, sizeof cg) == 0);
	trialcg_end_killed(cg0, 19, 1);
	CHECK_MSG(!exists(cg), "%s kept after a SIGKILL", cg);
	CHECK(trialcg_create(cg0, 19, 2, next, sizeof next) == 0);
	CHECK(strcmp(next, cg) != 0);
	trialcg_end(cg0, 19, 2);
}

/* A busy cgroup is never touched by the tidy, even with something left
 * to remove beside it. */
static void
test_tidy_spares_a_busy_cgroup(void)
{
	char cg[4400], left[4400];
	int pid, gone = -1, st;

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_create(cg0, 13, 2, cg, sizeof cg) == 0);
	CHECK(trialcg_create(cg0, 14, 1, left, sizeof left) == 0);
	pid = start_in(cg);
	gone = start_in(left);
	CHECK(pid > 0 && gone > 0);
	trialcg_end(cg0, 14, 1);   /* 13 still runs */
	st = gone > 0 ? exited_within(gone) : -1;
	CHECK(st != -1 && WIFSIGNALED(st));
	for (int i = 0; i < WAIT_ROUNDS && exists(left); i++) {
		trialcg_tidy(cg0);
		usleep(10 * 1000);
	}
	CHECK(!exists(left));
	CHECK(exists(cg));
	if (pid > 0) {
		CHECK(waitpid(pid, &st, WNOHANG) == 0);   /* still alive */
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	trialcg_end(cg0, 13, 2);
}

/* A cgroup of the trainer's own inside its trial's (a container tool's,
 * empty by now), or a limit the trainer set on the cgroups below its own:
 * the trial's is not used again, and goes (with its tree). */
static void
test_end_removes_a_changed_cgroup(void)
{
	char cg[4400], sub[4500], next[4400];

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_create(cg0, 17, 1, cg, sizeof cg) == 0);
	snprintf(sub, sizeof sub, "%s/nest", cg);
	CHECK(mkdir(sub, 0755) == 0);
	trialcg_end(cg0, 17, 1);
	CHECK_MSG(!exists(cg), "%s, with a cgroup of its own, kept", cg);
	CHECK(trialcg_create(cg0, 18, 1, next, sizeof next) == 0);
	CHECK(strcmp(next, cg) != 0);
	/* a limit on the cgroups below it, set by its trainer */
	snprintf(sub, sizeof sub, "%s/cgroup.max.depth", next);
	CHECK(write_text(sub, "0") == 0);
	trialcg_end(cg0, 18, 1);
	CHECK_MSG(!exists(next), "%s, with cgroup.max.depth 0, kept", next);
}

/* One the end cannot remove (here: it holds a cgroup of its own, which
 * the test takes away only afterwards) is removed by a later tidy. */
static void
test_tidy_removes_what_the_end_could_not(void)
{
	char cg[4400], sub[4400 + 3 * (TRIALCG_MAX_DEPTH + 1)];
	size_t n;

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(trialcg_create(cg0, 15, 1, cg, sizeof cg) == 0);
	/* Cgroups of the trainer's own, one level deeper than the end
	 * removes: the deepest stays, and so does every one above it. */
	n = (size_t)snprintf(sub, sizeof sub, "%s", cg);
	for (int i = 0; i <= TRIALCG_MAX_DEPTH; i++) {
		n += (size_t)snprintf(sub + n, sizeof sub - n, "/%c", 'a' + i);
		CHECK(mkdir(sub, 0755) == 0);
	}
	trialcg_end(cg0, 15, 1);
	CHECK(exists(cg));   /* EBUSY: a child cgroup is left */
	CHECK(rmdir(sub) == 0);
	trialcg_tidy(cg0);
	CHECK_MSG(!exists(cg), "%s not removed by trialcg_tidy", cg);
}

/* Two at once, on two state dirs: each makes its trials' cgroups under
 * its own base, where the path it gives leads, and a third one's close
 * leaves them working; a close removes the cgroups it kept. (One base fd
 * shared by all made the first one's cgroup under the second's base.) */
static void
test_two_side_by_side_keep_their_own_base(void)
{
	char other[] = "/tmp/test_trialcg_XXXXXX";
	char third[] = "/tmp/test_trialcg_XXXXXX", a[4400], b[4400];
	char b2[4400], why2[256];
	struct trialcg *cg1, *cg2;

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(mkdtemp(other) != NULL && mkdtemp(third) != NULL);
	cg1 = trialcg_init(other, 1, why2, sizeof why2);
	CHECK_MSG(cg1 != NULL, "a second trialcg: %s", why2);
	if (!cg1)
		goto out;
	CHECK(strcmp(trialcg_path(cg0), trialcg_path(cg1)) != 0);
	CHECK(trialcg_create(cg0, 21, 1, a, sizeof a) == 0);
	CHECK(trialcg_create(cg1, 21, 1, b, sizeof b) == 0);
	CHECK_MSG(exists(a) && exists(b), "%s: %d, %s: %d", a, exists(a), b,
		  exists(b));
	CHECK(strncmp(a, trialcg_path(cg0), strlen(trialcg_path(cg0))) == 0);
	CHECK(strncmp(b, trialcg_path(cg1), strlen(trialcg_path(cg1))) == 0);
	trialcg_end(cg0, 21, 1);
	/* a third made and closed meanwhile: cg1 still works */
	cg2 = trialcg_init(third, 1, why2, sizeof why2);
	trialcg_close(cg2);
	CHECK_MSG(exists(a) && exists(b), "%s: %d, %s: %d", a, exists(a), b,
		  exists(b));
	trialcg_end(cg1, 21, 1);
	CHECK(trialcg_create(cg1, 22, 1, b2, sizeof b2) == 0);
	CHECK_STR(b2, b);
	trialcg_end(cg1, 22, 1);
	trialcg_close(cg1);
	CHECK_MSG(!exists(b), "%s left by trialcg_close", b);
	CHECK_MSG(exists(a), "%s went with the other's close", a);
out:
	rmdir(other);
	rmdir(third);
}

/* A predecessor killed with SIGKILL left cgroups, one with a process in
 * it: the next trialcg on the state dir kills and removes them all,
 * whatever their names, before it gives out any. */
static void
test_init_clears_what_a_predecessor_left(void)
{
	char dir[] = "/tmp/test_trialcg_XXXXXX", base[4400], cg[4500];
	char old[4500], fresh[4400], why2[256];
	struct trialcg *a;
	int pid = -1, st;

	if (!cg0) {
		SKIP(why);
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	a = trialcg_init(dir, 1, why2, sizeof why2);   /* where its base is */
	CHECK(a != NULL);
	if (!a)
		goto out;
	snprintf(base, sizeof base, "%s", trialcg_path(a));
	trialcg_close(a);
	snprintf(cg, sizeof cg, "%s/cg-1", base);
	snprintf(old, sizeof old, "%s/trial-9-1", base);   /* an older name */
	CHECK(mkdir(base, 0755) == 0 && mkdir(cg, 0755) == 0 &&
	      mkdir(old, 0755) == 0);
	pid = start_in(cg);
	CHECK(pid > 0);
	a = trialcg_init(dir, 1, why2, sizeof why2);
	CHECK(a != NULL);
	st = pid > 0 ? exited_within(pid) : -1;
	CHECK_MSG(st != -1 && WIFSIGNALED(st), "left in %s, not killed", cg);
	CHECK(!exists(old));
	CHECK(a && trialcg_create(a, 1, 1, fresh, sizeof fresh) == 0);
	CHECK_MSG(!exists(cg) || strcmp(fresh, cg) == 0, "%s left", cg);
	trialcg_close(a);
	CHECK(!exists(base));
out:
	rmdir(dir);
}

int
main(void)
{
	if (!mkdtemp(state))
		return 1;
	cg0 = trialcg_init(state, 1, why, sizeof why);
	if (!cg0 && !why[0])
		snprintf(why, sizeof why, "no per-trial cgroups here");
	RUN(test_at_names_the_cgroup_below_the_base);
	RUN(test_end_keeps_an_empty_cgroup_for_the_next);
	RUN(test_end_kills_what_is_left_and_tidy_removes_it);
	RUN(test_end_killed_never_keeps);
	RUN(test_tidy_spares_a_busy_cgroup);
	RUN(test_end_removes_a_changed_cgroup);
	RUN(test_tidy_removes_what_the_end_could_not);
	RUN(test_two_side_by_side_keep_their_own_base);
	RUN(test_init_clears_what_a_predecessor_left);
	trialcg_close(cg0);
	rmdir(state);
	return harness_done();
}
