/*
 * exectrial.c: the exec wrapper (see exectrial.h).
 */
#include "daemon/proc/exectrial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Moves this process into the cgroup whose cgroup.procs is procs. */
static void
join_cgroup(const char *procs)
{
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = write(fd, "0", 1);
	(void)n;   /* not fatal: see the caller */
	close(fd);
}

/* sweepd --exec-trial MEMORY_MB NICE CGROUP_PROCS -- COMMAND...: the
 * trial's own process applies its limits, joins its cgroup (CGROUP_PROCS
 * "" for none) and becomes the trainer. Failing here ends the trial with
 * the message on its stderr. */
int
exectrial_main(int argc, char **argv)
{
	long mb;
	int nice_v;

	if (argc < 7 || strcmp(argv[5], "--") != 0) {
		fprintf(stderr, "sweepd: --exec-trial is for sweepd itself\n");
		return 126;
	}
	mb = strtol(argv[2], NULL, 10);
	nice_v = (int)strtol(argv[3], NULL, 10);
	if (mb > 0) {
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = (rlim_t)mb * 1024 * 1024;
		if (setrlimit(RLIMIT_AS, &rl) < 0) {
			fprintf(stderr, "sweepd: cannot set limits.memory_mb=%ld: %s\n",
				mb, strerror(errno));
			return 126;
		}
	}
	if (nice_v != 0 && setpriority(PRIO_PROCESS, 0, nice_v) < 0) {
		fprintf(stderr, "sweepd: cannot set limits.nice=%d: %s\n", nice_v,
			strerror(errno));
		return 126;
	}
	/* Without the cgroup the trial still runs; the daemon's subreaper
	 * then catches what escapes the process group (reaper.c). */
	if (argv[4][0])
		join_cgroup(argv[4]);
	execvp(argv[6], argv + 6);
	fprintf(stderr, "sweepd: cannot start %s: %s\n", argv[6], strerror(errno));
	return 127;
}
