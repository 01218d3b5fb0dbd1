/*
 * trialcg.c: per-trial cgroups (see trialcg.h).
 */
#include "daemon/proc/trialcg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"

#define CG_PATH 4096

/* The mount point of the cgroup v2 hierarchy, from /proc/self/mountinfo. */
static int
find_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc < 0 && fgets(line, sizeof line, f)) {
		char mnt[CG_PATH];
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE ... */
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (snprintf(out, len, "%s", mnt) < (int)len)
			rc = 0;
	}
	fclose(f);
	return rc;
}

/* The daemon's own cgroup v2 path ("0::/PATH" in /proc/self/cgroup). */
static int
own_cgroup(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[CG_PATH];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc < 0 && fgets(line, sizeof line, f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (snprintf(out, len, "%s", strcmp(line + 3, "/") == 0 ?
			     "" : line + 3) < (int)len)
			rc = 0;
	}
	fclose(f);
	return rc;
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text))
		rc = n < 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

/* Kills what is in dir (a trial cgroup under the base) and removes it;
 * -EBUSY while it is still emptying. */
static int
kill_and_remove(const char *base, const char *name)
{
	char path[CG_PATH + 300];

	snprintf(path, sizeof path, "%s/%s", base, name);
	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	snprintf(path, sizeof path, "%s/%s/cgroup.kill", base, name);
	write_file(path, "1");
	snprintf(path, sizeof path, "%s/%s", base, name);
	return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}

/* For each trial-ID under base whose trainer is not running (all, or
 * running NULL: every one): kill and remove it. Returns how many are left. */
static int
sweep_base(const char *base, int all, trialcg_running_fn running, void *ud)
{
	DIR *d = opendir(base);
	struct dirent *e;
	int left = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		int64_t id;
		if (strncmp(e->d_name, "trial-", 6) != 0)
			continue;
		id = strtoll(e->d_name + 6, NULL, 10);
		if (!all && running && id > 0 && running(ud, id))
			continue;   /* its trainer still runs */
		if (kill_and_remove(base, e->d_name) < 0)
			left++;
	}
	closedir(d);
	return left;
}

/* Waits up to about a second for every trial cgroup to go. */
static void
sweep_all(const char *base)
{
	for (int round = 0; round < 20 && sweep_base(base, 1, NULL, NULL) > 0;
	     round++)
		usleep(50 * 1000);
}

char *
trialcg_init(const char *state_dir, int enable, char *why, size_t whylen)
{
	char mnt[CG_PATH], own[CG_PATH], base[2 * CG_PATH + 64], probe[sizeof base + 32];
	struct stat st;
	char *out;

	why[0] = '\0';
	if (!enable) {
		snprintf(why, whylen, "per-trial cgroups off (--no-cgroups)");
		return NULL;
	}
	if (find_mount(mnt, sizeof mnt) < 0 || own_cgroup(own, sizeof own) < 0) {
		snprintf(why, whylen, "no cgroup v2 hierarchy: per-trial cgroups off");
		return NULL;
	}
	if (stat(state_dir, &st) < 0)
		return NULL;
	snprintf(base, sizeof base, "%s%s/sweepd-%ju-%ju", mnt, own,
		 (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	if (mkdir(base, 0755) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot make %s (%s): per-trial cgroups off",
			 base, strerror(errno));
		return NULL;
	}
	snprintf(probe, sizeof probe, "%s/cgroup.kill", base);
	if (access(probe, W_OK) < 0) {
		snprintf(why, whylen, "%s has no writable cgroup.kill (Linux "
			 "5.14): per-trial cgroups off", base);
		rmdir(base);
		return NULL;
	}
	out = strdup(base);
	if (out)
		sweep_all(out);   /* what a killed daemon left, nothing of ours yet */
	return out;
}

int
trialcg_create(const char *base, int64_t trial_id, int attempt, char *path,
	       size_t len)
{
	char name[64];
	int rc = 0;

	path[0] = '\0';
	if (!base)
		return -ENOENT;
	snprintf(name, sizeof name, "trial-%" PRId64 "-%d", trial_id, attempt);
	if (snprintf(path, len, "%s/%s", base, name) >= (int)len) {
		path[0] = '\0';
		return -ENAMETOOLONG;
	}
	/* One left by a killed daemon may have been killed: never reused. */
	if (mkdir(path, 0755) < 0 && (errno != EEXIST ||
	    kill_and_remove(base, name) < 0 || mkdir(path, 0755) < 0))
		rc = -errno;
	if (rc < 0) {
		log_warn("cannot make %s: %s", path, strerror(-rc));
		path[0] = '\0';
	}
	return rc;
}

void
trialcg_kill(const char *base, int64_t trial_id, int attempt)
{
	char path[CG_PATH + 80];

	if (!base)
		return;
	snprintf(path, sizeof path, "%s/trial-%" PRId64 "-%d/cgroup.kill", base,
		 trial_id, attempt);
	write_file(path, "1");
}

void
trialcg_tidy(const char *base, trialcg_running_fn running, void *ud)
{
	if (base)
		sweep_base(base, 0, running, ud);
}

void
trialcg_close(char *base)
{
	if (!base)
		return;
	sweep_all(base);
	if (rmdir(base) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", base, strerror(errno));
	free(base);
}
