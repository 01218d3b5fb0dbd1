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

/* One per scheduler (its cg), made by trialcg_init. Nothing is kept in
 * file-static state: two schedulers in one process (the unit tests make
 * several) each have their own base. */
struct trialcg {
	char *base;      /* owned: the base directory's path (for messages,
			  * the spawn's CLONE_INTO_CGROUP path, opendir) */
	int fd;          /* owned, O_PATH on base: every trial cgroup is made,
			  * killed and removed relative to it, not through
			  * its path */
	int dirty;       /* a trial cgroup was left to trialcg_tidy: one still
			  * emptying after its cgroup.kill, or one whose start
			  * failed. 0: nothing to look for */
};

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
write_file(const struct trialcg *cg, const char *path, const char *text)
{
	int fd = openat(cg->fd, path, O_WRONLY | O_CLOEXEC);
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

static int
rmdir_at(int dir, const char *name)
{
	return unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT ?
		0 : -errno;
}

/* Removes the cgroup name under dir and, when it has cgroups of its own
 * (a trainer may make them: systemd-run, a container tool), those first,
 * deepest first: 0, or -errno (-EBUSY while something is in one). The
 * common case, an empty cgroup, costs the one rmdir. */
static int
remove_tree(int dir, const char *name, int depth)
{
	struct dirent *e;
	DIR *d;
	int fd, rc = rmdir_at(dir, name);

	if (rc != -EBUSY || depth == 0)
		return rc;
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return rc;
	}
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0)
			remove_tree(dirfd(d), e->d_name, depth - 1);
	closedir(d);
	return rmdir_at(dir, name);
}

/* Removes name (a trial cgroup under the base) with any cgroups in it: 0,
 * or -errno (-EBUSY while something is in one). */
static int
remove_cg(const struct trialcg *cg, const char *name)
{
	return remove_tree(cg->fd, name, TRIALCG_MAX_DEPTH);
}

/* Kills what is in name (a trial cgroup under the base) and removes it;
 * -EBUSY while it is still emptying. An empty one is only removed: the
 * rmdir fails while anything is in it, and cgroup.kill is written then. */
static int
kill_and_remove(const struct trialcg *cg, const char *name)
{
	char path[300];

	if (remove_cg(cg, name) == 0)
		return 0;
	snprintf(path, sizeof path, "%s/cgroup.kill", name);
	write_file(cg, path, "1");
	return remove_cg(cg, name);
}

/* For each trial-ID under the base whose trainer is not running (all, or
 * running NULL: every one): kill and remove it. Returns how many are left,
 * those of running trials included (*spared of them). */
static int
sweep_base(const struct trialcg *cg, int all, trialcg_running_fn running,
	   void *ud, int *spared)
{
	DIR *d = opendir(cg->base);
	struct dirent *e;
	int left = 0;

	*spared = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		int64_t id;
		if (strncmp(e->d_name, "trial-", 6) != 0)
			continue;
		id = strtoll(e->d_name + 6, NULL, 10);
		if (!all && running && id > 0 && running(ud, id)) {
			(*spared)++;   /* its trainer still runs */
			continue;
		}
		if (kill_and_remove(cg, e->d_name) < 0)
			left++;
	}
	closedir(d);
	return left + *spared;
}

/* Waits up to about a second for every trial cgroup to go. */
static void
sweep_all(const struct trialcg *cg)
{
	int spared;

	for (int round = 0;
	     round < 20 && sweep_base(cg, 1, NULL, NULL, &spared) > 0; round++)
		usleep(50 * 1000);
}

/* A new trialcg on base (made, checked), or NULL with why (base is then
 * removed, when empty). */
static struct trialcg *
open_base(const char *base, char *why, size_t whylen)
{
	struct trialcg *cg = calloc(1, sizeof *cg);
	int e;

	if (!cg || !(cg->base = strdup(base))) {
		snprintf(why, whylen, "out of memory: per-trial cgroups off");
		goto fail;
	}
	cg->fd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		e = errno;
		snprintf(why, whylen, "cannot open %s (%s): per-trial cgroups "
			 "off", base, strerror(e));
		goto fail;
	}
	return cg;
fail:
	if (cg)
		free(cg->base);
	free(cg);
	rmdir(base);
	return NULL;
}

struct trialcg *
trialcg_init(const char *state_dir, int enable, char *why, size_t whylen)
{
	char mnt[CG_PATH], own[CG_PATH], base[2 * CG_PATH + 64], probe[sizeof base + 32];
	struct stat st;
	struct trialcg *cg;

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
	cg = open_base(base, why, whylen);
	if (cg)
		sweep_all(cg);   /* what a killed daemon left, nothing of ours yet */
	return cg;
}

const char *
trialcg_path(const struct trialcg *cg)
{
	return cg ? cg->base : NULL;
}

int
trialcg_at(const struct trialcg *cg, const char *path, const char **name)
{
	size_t n = cg ? strlen(cg->base) : 0;

	*name = path;
	if (!cg || strncmp(path, cg->base, n) != 0 || path[n] != '/' ||
	    !path[n + 1])
		return -1;
	*name = path + n + 1;
	return cg->fd;
}

int
trialcg_create(struct trialcg *cg, int64_t trial_id, int attempt, char *path,
	       size_t len)
{
	char name[64];
	int rc = 0;

	path[0] = '\0';
	if (!cg)
		return -ENOENT;
	snprintf(name, sizeof name, "trial-%" PRId64 "-%d", trial_id, attempt);
	if (snprintf(path, len, "%s/%s", cg->base, name) >= (int)len) {
		path[0] = '\0';
		return -ENAMETOOLONG;
	}
	/* One left by a killed daemon may have been killed: never reused. */
	if (mkdirat(cg->fd, name, 0755) < 0 && (errno != EEXIST ||
	    kill_and_remove(cg, name) < 0 || mkdirat(cg->fd, name, 0755) < 0))
		rc = -errno;
	if (rc < 0) {
		log_warn("cannot make %s: %s", path, strerror(-rc));
		path[0] = '\0';
	}
	return rc;
}

void
trialcg_end(struct trialcg *cg, int64_t trial_id, int attempt)
{
	char name[64];

	if (!cg)
		return;
	snprintf(name, sizeof name, "trial-%" PRId64 "-%d", trial_id, attempt);
	if (kill_and_remove(cg, name) < 0)
		cg->dirty = 1;   /* still emptying: trialcg_tidy removes it */
}

void
trialcg_tidy(struct trialcg *cg, trialcg_running_fn running, void *ud)
{
	int spared;

	/* Every trial cgroup is left to this only when it could not be
	 * removed at its end; a running trial's spared one may be such. */
	if (cg && cg->dirty)
		cg->dirty = sweep_base(cg, 0, running, ud, &spared) > 0;
}

void
trialcg_close(struct trialcg *cg)
{
	if (!cg)
		return;
	sweep_all(cg);
	if (rmdir(cg->base) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", cg->base, strerror(errno));
	close(cg->fd);
	free(cg->base);
	free(cg);
}
