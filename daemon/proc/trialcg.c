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

/* A cgroup under the base, cg-NAME: busy with one trial's attempt,
 * kept empty for the next one, or retired (something was left in it and
 * it was killed, or it was changed: never used again, removed once it
 * has emptied). */
enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_RETIRED };

/* The files of a cgroup read at each end, held open from its mkdir (a
 * pread at 0 reads them afresh): cgroup.events, cgroup.stat,
 * cgroup.subtree_control, cgroup.max.descendants, cgroup.max.depth. */
enum { CGF_EVENTS, CGF_STAT, CGF_SUBTREE, CGF_MAX_DESC, CGF_MAX_DEPTH, CGF_N };

struct cgslot {
	unsigned name;          /* cg-NAME */
	enum slot_state state;
	int64_t trial_id;       /* SLOT_BUSY: whose it is */
	int attempt;
	int fd[CGF_N];          /* owned; -1 when not open */
};

/* One per scheduler (its cg), made by trialcg_init. Nothing is kept in
 * file-static state: two schedulers in one process (the unit tests make
 * several) each have their own base. */
struct trialcg {
	char *base;      /* owned: the base directory's path (for messages,
			  * the spawn's CLONE_INTO_CGROUP path, opendir) */
	int fd;          /* owned, O_PATH on base: every trial cgroup is made,
			  * killed and removed relative to it, not through
			  * its path */
	int dirty;       /* a cgroup was retired and is not yet removed:
			  * trialcg_tidy has something to do */
	struct cgslot *slot;   /* owned: every cgroup this daemon made and
				* has not removed */
	size_t nslot, cap;
	unsigned next;   /* the last NAME given */
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

/* 1 for a directory entry that is a cgroup below: not "." or "..". */
static int
is_child(const struct dirent *e)
{
	return e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 &&
	       strcmp(e->d_name, "..") != 0;
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
		if (is_child(e))
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

/* Kills and removes every cgroup under the base (a predecessor's, of
 * whatever name, or this daemon's own at its end): how many are left,
 * still emptying. */
static int
sweep_base(const struct trialcg *cg)
{
	DIR *d = opendir(cg->base);
	struct dirent *e;
	int left = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (is_child(e) && kill_and_remove(cg, e->d_name) < 0)
			left++;
	closedir(d);
	return left;
}

/* Waits up to about a second for every cgroup under the base to go. */
static void
sweep_all(const struct trialcg *cg)
{
	for (int round = 0; round < 20 && sweep_base(cg) > 0; round++)
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

static void
slot_name(const struct cgslot *sl, char *name, size_t len)
{
	snprintf(name, len, "cg-%u", sl->name);
}

static const char *const cg_files[CGF_N] = {
	"cgroup.events", "cgroup.stat", "cgroup.subtree_control",
	"cgroup.max.descendants", "cgroup.max.depth",
};

/* The value of the "KEY VALUE" line of KEY in text, or -1 without one. */
static long
key_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = text; l; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
			return strtol(l + klen + 1, NULL, 10);
	return -1;
}

/* The slot's file f read afresh into buf (NUL-terminated): its length,
 * or -1. */
static ssize_t
read_cg_file(const struct cgslot *sl, int f, char *buf, size_t len)
{
	ssize_t n = sl->fd[f] >= 0 ? pread(sl->fd[f], buf, len - 1, 0) : -1;

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* 1 when the ended attempt's cgroup is as it was made: nothing runs in it
 * or under it, it has no cgroups of its own, it is not frozen, it hands
 * no controllers down and its limits on cgroups below it are unset. Only
 * such a cgroup is used again. */
static int
as_made(const struct cgslot *sl)
{
	char buf[512];

	if (read_cg_file(sl, CGF_EVENTS, buf, sizeof buf) <= 0 ||
	    key_value(buf, "populated") != 0 || key_value(buf, "frozen") > 0)
		return 0;
	if (read_cg_file(sl, CGF_STAT, buf, sizeof buf) <= 0 ||
	    key_value(buf, "nr_descendants") != 0)
		return 0;
	if (read_cg_file(sl, CGF_SUBTREE, buf, sizeof buf) < 0 ||
	    (buf[0] != '\0' && strcmp(buf, "\n") != 0))
		return 0;
	for (int f = CGF_MAX_DESC; f <= CGF_MAX_DEPTH; f++)
		if (read_cg_file(sl, f, buf, sizeof buf) <= 0 ||
		    strcmp(buf, "max\n") != 0)
			return 0;
	return 1;
}

static void
close_files(struct cgslot *sl)
{
	for (int f = 0; f < CGF_N; f++) {
		if (sl->fd[f] >= 0)
			close(sl->fd[f]);
		sl->fd[f] = -1;
	}
}

/* Opens the files as_made reads, of the cgroup just made for sl: 0, or
 * -errno (none is left open then). */
static int
open_files(const struct trialcg *cg, struct cgslot *sl, const char *name)
{
	char path[96];

	for (int f = 0; f < CGF_N; f++) {
		snprintf(path, sizeof path, "%s/%s", name, cg_files[f]);
		sl->fd[f] = openat(cg->fd, path, O_RDONLY | O_CLOEXEC);
		if (sl->fd[f] < 0) {
			int rc = -errno;
			close_files(sl);
			return rc;
		}
	}
	return 0;
}

static struct cgslot *
busy_slot(struct trialcg *cg, int64_t trial_id, int attempt)
{
	for (size_t i = 0; i < cg->nslot; i++)
		if (cg->slot[i].state == SLOT_BUSY &&
		    cg->slot[i].trial_id == trial_id &&
		    cg->slot[i].attempt == attempt)
			return &cg->slot[i];
	return NULL;
}

static void
drop_slot(struct trialcg *cg, struct cgslot *sl)
{
	close_files(sl);
	*sl = cg->slot[--cg->nslot];
}

/* Kills what is in a retired slot's cgroup and removes it: 1 when it is
 * gone (the slot is dropped then), 0 while it is still emptying. */
static int
remove_slot(struct trialcg *cg, struct cgslot *sl)
{
	char name[32];

	slot_name(sl, name, sizeof name);
	if (kill_and_remove(cg, name) < 0)
		return 0;
	drop_slot(cg, sl);
	return 1;
}

/* A free slot, else a new one with a new cgroup (a name a predecessor
 * left, still emptying, is retired and skipped); NULL with -errno in *rc. */
static struct cgslot *
take_slot(struct trialcg *cg, int *rc)
{
	struct cgslot *sl;
	char name[32];

	for (size_t i = 0; i < cg->nslot; i++)
		if (cg->slot[i].state == SLOT_FREE)
			return &cg->slot[i];
	for (;;) {
		if (cg->nslot == cg->cap) {
			size_t cap = cg->cap ? 2 * cg->cap : 8;
			struct cgslot *v = realloc(cg->slot, cap * sizeof *v);
			if (!v) {
				*rc = -ENOMEM;
				return NULL;
			}
			cg->slot = v;
			cg->cap = cap;
		}
		sl = &cg->slot[cg->nslot];
		*sl = (struct cgslot){ .name = ++cg->next, .state = SLOT_RETIRED };
		for (int f = 0; f < CGF_N; f++)
			sl->fd[f] = -1;
		slot_name(sl, name, sizeof name);
		if (mkdirat(cg->fd, name, 0755) == 0) {
			cg->nslot++;
			if ((*rc = open_files(cg, sl, name)) < 0) {
				if (!remove_slot(cg, sl))
					cg->dirty = 1;
				return NULL;
			}
			sl->state = SLOT_FREE;
			return sl;
		}
		if (errno != EEXIST) {
			*rc = -errno;
			return NULL;
		}
		cg->nslot++;     /* a predecessor's: removed by the tidy */
		cg->dirty = 1;
	}
}

int
trialcg_create(struct trialcg *cg, int64_t trial_id, int attempt, char *path,
	       size_t len)
{
	struct cgslot *sl;
	char name[32];
	int rc = 0;

	path[0] = '\0';
	if (!cg)
		return -ENOENT;
	sl = take_slot(cg, &rc);
	if (!sl) {
		log_warn("cannot make a cgroup under %s: %s", cg->base,
			 strerror(-rc));
		return rc;
	}
	slot_name(sl, name, sizeof name);
	if (snprintf(path, len, "%s/%s", cg->base, name) >= (int)len) {
		path[0] = '\0';
		return -ENAMETOOLONG;
	}
	sl->state = SLOT_BUSY;
	sl->trial_id = trial_id;
	sl->attempt = attempt;
	return 0;
}

static void
end_slot(struct trialcg *cg, int64_t trial_id, int attempt, int keep)
{
	struct cgslot *sl = cg ? busy_slot(cg, trial_id, attempt) : NULL;
	size_t nfree = 0;

	if (!sl)
		return;
	for (size_t i = 0; i < cg->nslot; i++)
		nfree += cg->slot[i].state == SLOT_FREE;
	if (keep && nfree < TRIALCG_MAX_FREE && as_made(sl)) {
		sl->state = SLOT_FREE;   /* the next attempt's, with no mkdir */
		return;
	}
	sl->state = SLOT_RETIRED;
	close_files(sl);
	if (!remove_slot(cg, sl))
		cg->dirty = 1;   /* still emptying: trialcg_tidy removes it */
}

void
trialcg_end(struct trialcg *cg, int64_t trial_id, int attempt)
{
	end_slot(cg, trial_id, attempt, 1);
}

void
trialcg_end_killed(struct trialcg *cg, int64_t trial_id, int attempt)
{
	end_slot(cg, trial_id, attempt, 0);
}

void
trialcg_tidy(struct trialcg *cg)
{
	int left = 0;

	if (!cg || !cg->dirty)
		return;
	for (size_t i = cg->nslot; i-- > 0;)
		if (cg->slot[i].state == SLOT_RETIRED &&
		    !remove_slot(cg, &cg->slot[i]))
			left = 1;
	cg->dirty = left;
}

void
trialcg_close(struct trialcg *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->nslot; i++)
		close_files(&cg->slot[i]);
	sweep_all(cg);
	if (rmdir(cg->base) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", cg->base, strerror(errno));
	close(cg->fd);
	free(cg->slot);
	free(cg->base);
	free(cg);
}
