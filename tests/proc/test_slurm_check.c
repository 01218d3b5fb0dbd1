/*
 * tests/proc/test_slurm_check.c: a Slurm sweep's submit-time refusals,
 * each with a message naming what is wrong: Slurm's commands missing from
 * PATH (which ones), a SLURM_CONF that is not there, node-local paths (the
 * trial root, the trainer's cwd and program, through symbolic links), and
 * a Slurm time limit shorter than the trial timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/proc/slurm_check.h"
#include "tests/harness.h"

static char err[1024];
static char base[2048];     /* a directory of this test's, in the current one */
static char bin[PATH_MAX];      /* base/bin: srun, squeue, scancel */
/* a trial root that is fine: not there yet, below "/" */
static const char shared[] = "/nonexistent-sweepd-shared/trials";

static const char *const trainer[] = { "/usr/bin/python3", "train.py", NULL };

static void
touch(const char *dir, const char *name, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd >= 0)
		close(fd);
	chmod(p, mode);
}

/* A check that passes: every field filled in with something fine. */
static struct slurm_check
good(void)
{
	struct slurm_check c = {
		.path = bin, .slurm_conf = NULL, .trial_root = shared, .trial_root_given = 1,
		.local_ok = 0, .argv = trainer, .cwd = NULL, .timeout_s = 0, .opts = NULL,
	};
	return c;
}

static int
check(const struct slurm_check *c)
{
	err[0] = '\0';
	return slurm_check_submit(c, err, sizeof err);
}

static void
a_good_sweep_passes(void)
{
	struct slurm_check c = good();
	struct slurm_opts o = { .time_s = 3600 };

	c.opts = &o;
	c.timeout_s = 3600;
	c.cwd = "/srv/work";
	CHECK(check(&c) == 0);
	CHECK_STR(err, "");
}

static void
missing_commands_are_named(void)
{
	char dir[PATH_MAX], path[2 * PATH_MAX + 2];
	struct slurm_check c = good();

	snprintf(dir, sizeof dir, "%s/partial", base);
	mkdir(dir, 0755);
	touch(dir, "srun", 0755);
	touch(dir, "squeue", 0755);
	touch(dir, "scancel", 0644);          /* there but not executable */
	c.path = dir;
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "scancel not found in the daemon's PATH");
	CHECK_CONTAINS(err, dir);
	CHECK(strstr(err, "srun") == NULL && strstr(err, "squeue") == NULL);

	/* found in a later directory of PATH: fine */
	snprintf(path, sizeof path, "%s:%s", dir, bin);
	c.path = path;
	CHECK(check(&c) == 0);

	c.path = "/nonexistent-sweepd-dir";
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "srun, squeue, scancel not found in the daemon's PATH "
		       "(/nonexistent-sweepd-dir)");
	CHECK_CONTAINS(err, "slurm-client");

	c.path = NULL;
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "srun, squeue, scancel not found: the daemon has no PATH");
}

static void
an_empty_path_entry_is_the_current_directory(void)
{
	char cwd[PATH_MAX];
	struct slurm_check c = good();

	if (!getcwd(cwd, sizeof cwd) || chdir(bin) != 0) {
		SKIP("cannot enter the test's bin directory");
		return;
	}
	c.path = "/nonexistent-sweepd-dir:";
	CHECK(check(&c) == 0);
	CHECK(chdir(cwd) == 0);
	CHECK(check(&c) == -EINVAL);
}

static void
a_slurm_conf_that_is_not_there_is_refused(void)
{
	char conf[PATH_MAX];
	struct slurm_check c = good();

	c.slurm_conf = "/nonexistent/slurm.conf";
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "SLURM_CONF=/nonexistent/slurm.conf is not a readable file");
	CHECK_CONTAINS(err, "No such file or directory");
	CHECK_CONTAINS(err, "60 s");

	c.slurm_conf = base;                  /* a directory */
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "not a regular file");

	snprintf(conf, sizeof conf, "%s/slurm.conf", base);
	touch(base, "slurm.conf", 0644);
	c.slurm_conf = conf;
	CHECK(check(&c) == 0);
}

static void
node_local_directories_are_told_apart(void)
{
	CHECK_STR(slurm_node_local("/tmp"), "/tmp");
	CHECK_STR(slurm_node_local("/tmp/sweepd/trials"), "/tmp");
	CHECK_STR(slurm_node_local("/var/tmp/x"), "/var/tmp");
	CHECK_STR(slurm_node_local("/dev/shm/x"), "/dev/shm");
	CHECK_STR(slurm_node_local("/run/user/0/trials"), "/run");
	CHECK(slurm_node_local("/tmpfs/x") == NULL);
	CHECK(slurm_node_local("/home/u/tmp/x") == NULL);
	CHECK(slurm_node_local("/") == NULL);
	CHECK(slurm_node_local(shared) == NULL);
	/* a path that does not exist yet, below one that does */
	CHECK(slurm_node_local("/nonexistent-sweepd-dir/a/b") == NULL);
}

static void
a_symlink_into_tmp_is_followed(void)
{
	char link[PATH_MAX], below[PATH_MAX + 16];
	char tmpdir[] = "/tmp/sweepd-check-XXXXXX";

	if (slurm_node_local(base)) {
		SKIP("the test's directory is itself node-local: no place for a link into /tmp");
		return;
	}
	if (!mkdtemp(tmpdir)) {
		SKIP("cannot make a directory in /tmp");
		return;
	}
	snprintf(link, sizeof link, "%s/scratch", base);
	unlink(link);
	CHECK(symlink(tmpdir, link) == 0);
	CHECK_STR(slurm_node_local(link), "/tmp");
	/* the part below the link need not exist */
	snprintf(below, sizeof below, "%s/trials/7", link);
	CHECK_STR(slurm_node_local(below), "/tmp");
	unlink(link);
	rmdir(tmpdir);
}

static void
a_trial_root_under_tmp_is_refused_naming_trial_root(void)
{
	struct slurm_check c = good();

	c.trial_root = "/tmp/sweepd/trials";
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "the trial root (--trial-root) /tmp/sweepd/trials is under /tmp");
	CHECK_CONTAINS(err, "compute nodes do not see it");
	CHECK_CONTAINS(err, "--trial-root DIR on a file system the nodes share");

	c.trial_root_given = 0;
	c.trial_root = "/var/tmp/state/trials";
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "the trial root (STATE_DIR/trials, the default) "
		       "/var/tmp/state/trials is under /var/tmp");
	CHECK_CONTAINS(err, "--trial-root");

	/* told that the cluster is this machine */
	c.local_ok = 1;
	CHECK(check(&c) == 0);
}

static void
a_trainer_under_tmp_is_refused(void)
{
	static const char *const in_tmp[] = { "/tmp/train.sh", "--lr", NULL };
	static const char *const relative[] = { "python3", "/tmp/data.csv", NULL };
	struct slurm_check c = good();

	c.cwd = "/dev/shm/work";
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "trainer.cwd /dev/shm/work is under /dev/shm");

	c.cwd = NULL;
	c.argv = in_tmp;
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "the trainer /tmp/train.sh is under /tmp");

	/* found on the node's PATH; arguments are the trainer's business */
	c.argv = relative;
	CHECK(check(&c) == 0);

	c.argv = in_tmp;
	c.local_ok = 1;
	CHECK(check(&c) == 0);
}

static void
a_time_limit_shorter_than_the_trial_timeout_is_refused(void)
{
	struct slurm_check c = good();
	struct slurm_opts o = { .time_s = 600 };

	c.opts = &o;
	c.timeout_s = 1200.5;
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "launcher.slurm.time 00:10:00 is shorter than "
		       "limits.trial_timeout_s 1200.5");
	CHECK_CONTAINS(err, "at least 00:20:01");

	o.time_s = 1201;                       /* at least the timeout: fine */
	CHECK(check(&c) == 0);
	o.time_s = 0;                          /* no time limit */
	CHECK(check(&c) == 0);
	o.time_s = 600;
	c.timeout_s = 0;                       /* no trial timeout */
	CHECK(check(&c) == 0);
}

static void
the_commands_are_checked_first(void)
{
	struct slurm_check c = good();

	c.path = "/nonexistent-sweepd-dir";
	c.trial_root = "/tmp/x";
	c.slurm_conf = "/nonexistent/slurm.conf";
	CHECK(check(&c) == -EINVAL);
	CHECK_CONTAINS(err, "srun, squeue, scancel not found");
}

static int
setup(void)
{
	char cwd[1024];

	if (!getcwd(cwd, sizeof cwd))
		return -1;
	snprintf(base, sizeof base, "%s/slurm-check-XXXXXX", cwd);
	if (!mkdtemp(base))
		return -1;
	snprintf(bin, sizeof bin, "%s/bin", base);
	if (mkdir(bin, 0755) != 0)
		return -1;
	touch(bin, "srun", 0755);
	touch(bin, "squeue", 0755);
	touch(bin, "scancel", 0755);
	return 0;
}

int
main(void)
{
	char cmd[PATH_MAX + 16];
	int rc;

	if (setup() != 0) {
		printf("1..0 # SKIP cannot make the test's directory in the current one\n");
		return 0;
	}
	RUN(a_good_sweep_passes);
	RUN(missing_commands_are_named);
	RUN(an_empty_path_entry_is_the_current_directory);
	RUN(a_slurm_conf_that_is_not_there_is_refused);
	RUN(node_local_directories_are_told_apart);
	RUN(a_symlink_into_tmp_is_followed);
	RUN(a_trial_root_under_tmp_is_refused_naming_trial_root);
	RUN(a_trainer_under_tmp_is_refused);
	RUN(a_time_limit_shorter_than_the_trial_timeout_is_refused);
	RUN(the_commands_are_checked_first);
	rc = harness_done();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", base);
	return rc;
}
