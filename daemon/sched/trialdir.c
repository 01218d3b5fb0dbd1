/*
 * trialdir.c: a directory per trial (trialdir.h).
 */
#include "daemon/sched/trialdir.h"

#include "daemon/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#define TRIALDIR_MAX_DEPTH 16      /* below the trial's directory */
#define TRIALDIR_MAX_FILES 10000   /* listed by artifacts */
#define TRIALDIR_MAX_STALE 1000    /* NUMBER.stale-K names tried */

static char *root_dir;   /* owned: absolute, resolved */
static int root_fd = -1; /* on root_dir (O_PATH): sweep dirs made in it */

/* A mkdir of path failed with errno e: -e, err saying so. */
static int
mkdir_failed(const char *path, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot create the trial directory %s: %s",
		 path, strerror(e));
	return -e;
}

static int
make_one(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return mkdir_failed(path, errno, err, errlen);
}

/* The uid that runs this sweepd (it never changes): looked up once. */
static uid_t
own_uid(void)
{
	static uid_t uid;
	static int known;

	if (!known) {
		uid = geteuid();
		known = 1;
	}
	return uid;
}

/* st (of path, not followed) must be a directory of ours, not writable by
 * others. */
static int
check_st(const char *path, const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "refusing %s: it is %s, not a directory",
			 path, S_ISLNK(st->st_mode) ? "a symbolic link" : "a file");
		return -ENOTDIR;
	}
	if (st->st_uid != own_uid()) {
		snprintf(err, errlen, "refusing %s: it is owned by uid %u, not "
			 "by uid %u who runs this sweepd", path,
			 (unsigned)st->st_uid, (unsigned)own_uid());
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "refusing %s: it is writable by %s (mode "
			 "%04o): another user could swap what trials write there",
			 path, st->st_mode & S_IWOTH ? "everyone" : "its group",
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* name in dfd (path, for messages) must be a directory of ours (not a
 * link), not writable by others; *st what was found. missing_ok: -ENOENT,
 * without a message, when there is nothing there. */
static int
check_dir_at(int dfd, const char *name, const char *path, int missing_ok,
	     struct stat *st, char *err, size_t errlen)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (missing_ok && errno == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return -errno;
	}
	return check_st(path, st, err, errlen);
}

static int
check_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	return check_dir_at(AT_FDCWD, path, path, 0, &st, err, errlen);
}

/* mkdir -p, 0700 for what it creates. */
static int
make_parents(const char *path, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	int rc;

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = make_one(buf, err, errlen);
		if (rc < 0)
			return rc;
		*p = '/';
	}
	return make_one(buf, err, errlen);
}

int
trialdir_init(const char *root, const char *state_dir, char *err,
	      size_t errlen)
{
	char want[PATH_MAX], real[PATH_MAX];
	int rc;

	if (root && root[0] == '\0') {
		snprintf(err, errlen, "--trial-root is empty");
		return -EINVAL;
	}
	if (snprintf(want, sizeof want, "%s%s", root ? root : state_dir,
		     root ? "" : "/trials") >= (int)sizeof want) {
		snprintf(err, errlen, "the trial root is too long");
		return -ENAMETOOLONG;
	}
	rc = make_parents(want, err, errlen);
	if (rc < 0)
		return rc;
	if (!realpath(want, real)) {
		rc = -errno;
		snprintf(err, errlen, "cannot resolve the trial root %s: %s",
			 want, strerror(-rc));
		return rc;
	}
	rc = check_dir(real, err, errlen);
	if (rc < 0)
		return rc;
	trialdir_free();
	root_fd = open(real, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the trial root %s: %s", real,
			 strerror(-rc));
		return rc;
	}
	root_dir = strdup(real);
	return root_dir ? 0 : -ENOMEM;
}

const char *
trialdir_root(void)
{
	return root_dir;
}

void
trialdir_release(struct trialdir_held *h)
{
	if (h->on)
		close(h->fd);
	h->on = 0;
	h->fd = -1;
}

void
trialdir_free(void)
{
	if (root_fd >= 0)
		close(root_fd);
	root_fd = -1;
	free(root_dir);
	root_dir = NULL;
}

static int
sweep_path(int64_t sweep, char *buf, size_t len)
{
	if (!root_dir)
		return -ENOENT;
	if (snprintf(buf, len, "%s/%" PRId64, root_dir, sweep) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int
trialdir_path(int64_t sweep, int number, char *buf, size_t len)
{
	if (!root_dir)
		return -ENOENT;
	if (snprintf(buf, len, "%s/%" PRId64 "/%d", root_dir, sweep, number) >=
	    (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* The sweep's directory, held open (h->fd) once its name in the root
 * (sdir) is checked: a directory of ours, not a link. Each call looks at
 * that name again, and the held one serves only while the name still
 * leads to it (the same device and inode); else the name is opened (made
 * first when missing). 0, or -errno with err. */
static int
hold_sweep(struct trialdir_held *h, const char *sdir, char *err,
	   size_t errlen)
{
	const char *name = strrchr(sdir, '/') + 1;
	struct stat st, fst;
	int fd, rc = check_dir_at(root_fd, name, sdir, 1, &st, err, errlen);

	if (rc == -ENOENT) {
		if (mkdirat(root_fd, name, 0700) < 0 && errno != EEXIST)
			return mkdir_failed(sdir, errno, err, errlen);
		rc = check_dir_at(root_fd, name, sdir, 0, &st, err, errlen);
	}
	if (rc < 0)
		return rc;
	if (h->on && h->dev == st.st_dev && h->ino == st.st_ino)
		return 0;
	trialdir_release(h);
	fd = openat(root_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &fst) < 0 ||
	    fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		rc = fd < 0 ? -errno : -EAGAIN;   /* swapped meanwhile */
		snprintf(err, errlen, "cannot open %s: %s", sdir, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	h->fd = fd;
	h->on = 1;
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	return 0;
}

/* 1 when directory name in dfd holds anything, 0 when it is empty, or
 * -errno. */
static int
has_entries(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	struct dirent *e;
	DIR *d;
	int found = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return found;
}

/* Renames name in dfd to the first NAME.stale-K not taken: K, or -errno.
 * Where the file system has no RENAME_NOREPLACE, a plain rename, which can
 * replace nothing but an empty directory (rename(2)): nothing is lost. */
static int
rename_stale(int dfd, const char *name)
{
	char to[32];

	for (int k = 1; k <= TRIALDIR_MAX_STALE; k++) {
		snprintf(to, sizeof to, "%s.stale-%d", name, k);
		if (renameat2(dfd, name, dfd, to, RENAME_NOREPLACE) == 0 ||
		    (errno == EINVAL && renameat(dfd, name, dfd, to) == 0))
			return k;
		if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR)
			return -errno;
	}
	return -EEXIST;
}

/* A first attempt's directory name (path) was already there: if it holds
 * anything, that is not this trial's (a trial whose row was lost with a
 * killed daemon left it, and its number is given again, maybe to other
 * params; or someone put it there): it is moved aside, kept, and a new one
 * made, so that no trainer resumes from what another wrote. */
static int
set_aside(int dfd, const char *name, const char *path, char *err,
	  size_t errlen)
{
	int rc = has_entries(dfd, name), k = 0;

	if (rc == 0)
		return 0;   /* empty: used as it is */
	if (rc > 0)
		rc = k = rename_stale(dfd, name);
	if (rc > 0)
		rc = mkdirat(dfd, name, 0700) < 0 ? -errno : 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s holds files at the trial's first "
			 "attempt and cannot be moved aside: %s", path,
			 strerror(-rc));
		return rc;
	}
	log_warn("%s held files at the trial's first attempt (not this "
		 "trial's): moved aside to %s.stale-%d, a new one made", path,
		 path, k);
	return 0;
}

/* The trial's directory NUMBER in the held sweep directory h: made, or
 * found and checked (and at a first attempt, fresh, made new when it held
 * anything). 0, -ENOENT when the held one was removed, or -errno with
 * err. */
static int
make_trial(const struct trialdir_held *h, int number, int fresh,
	   const char *path, char *err, size_t errlen)
{
	char name[16];
	struct stat st;
	int rc;

	snprintf(name, sizeof name, "%d", number);
	if (mkdirat(h->fd, name, 0700) == 0)
		return 0;   /* new, ours, 0700: nothing to look at */
	if (errno == ENOENT)
		return -ENOENT;
	if (errno != EEXIST)
		return mkdir_failed(path, errno, err, errlen);
	rc = check_dir_at(h->fd, name, path, 0, &st, err, errlen);
	if (rc == 0 && fresh)
		rc = set_aside(h->fd, name, path, err, errlen);
	return rc;
}

int
trialdir_make(struct trialdir_held *h, int64_t sweep, int number, int fresh,
	      char *buf, size_t len, char *err, size_t errlen)
{
	char sdir[PATH_MAX];
	int rc = sweep_path(sweep, sdir, sizeof sdir);

	if (rc == 0)
		rc = trialdir_path(sweep, number, buf, len);
	if (rc < 0) {
		snprintf(err, errlen, "no trial directory: %s", strerror(-rc));
		return rc;
	}
	/* The sweep's directory is there for every trial but its first, and
	 * held open in h (the sweep's own, so that sweeps starting trials
	 * in turn do not take it from each other): a look at its name (never
	 * followed if it became a link: the trainer is given the path
	 * through it), then the trial's mkdir in the held directory. Removed
	 * meanwhile (by hand, with its inode given to a new one): looked for
	 * once more. */
	for (int round = 0; round < 2; round++) {
		rc = hold_sweep(h, sdir, err, errlen);
		if (rc == 0)
			rc = make_trial(h, number, fresh, buf, err, errlen);
		if (rc != -ENOENT)
			break;
		trialdir_release(h);
	}
	if (rc == -ENOENT)
		mkdir_failed(buf, ENOENT, err, errlen);
	return rc;
}

/* ---- walking a directory ---------------------------------------------- */

struct walk {
	cJSON *list;          /* borrowed: where files go, or NULL (clean) */
	int64_t files, bytes;
	char err[512];
};

static int walk_dir(int dfd, const char *rel, int depth, struct walk *w);

static int
walk_entry(int dfd, const char *rel, const char *name, int depth,
	   struct walk *w)
{
	char path[PATH_MAX];
	struct stat st;
	int sub, rc;

	snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (depth >= TRIALDIR_MAX_DEPTH)
			return -ELOOP;
		sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		if (sub < 0)
			return -errno;
		rc = walk_dir(sub, path, depth + 1, w);
		close(sub);
		if (rc == 0 && !w->list && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
			rc = -errno;
		return rc;
	}
	w->files++;
	w->bytes += st.st_size;
	if (!w->list)
		return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
	if (cJSON_GetArraySize(w->list) >= TRIALDIR_MAX_FILES)
		return 0;
	cJSON *f = cJSON_CreateObject();
	if (!f || !cJSON_AddItemToArray(w->list, f)) {
		cJSON_Delete(f);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(f, "name", path);
	cJSON_AddNumberToObject(f, "size", (double)st.st_size);
	cJSON_AddNumberToObject(f, "mtime", (double)st.st_mtim.tv_sec +
				st.st_mtim.tv_nsec / 1e9);
	return 0;
}

/* Takes dfd's entries one by one; dfd stays the caller's. */
static int
walk_dir(int dfd, const char *rel, int depth, struct walk *w)
{
	int fd = dup(dfd), rc = 0;
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = walk_entry(dfd, rel, de->d_name, depth, w);
	}
	closedir(d);
	return rc;
}

static int
by_name(const void *a, const void *b)
{
	const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;

	return strcmp(cJSON_GetObjectItemCaseSensitive(x, "name")->valuestring,
		      cJSON_GetObjectItemCaseSensitive(y, "name")->valuestring);
}

/* A NEW array of the items of arr sorted by name; arr is emptied. */
static cJSON *
sorted(cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	cJSON **v = calloc((size_t)n + 1, sizeof *v), *out = cJSON_CreateArray();

	if (!v || !out) {
		free(v);
		cJSON_Delete(out);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(arr, 0);
	qsort(v, (size_t)n, sizeof *v, by_name);
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(out, v[i]);
	free(v);
	return out;
}

static int
open_dir(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

int
trialdir_list(int64_t sweep, int number, cJSON **out, char *err,
	      size_t errlen)
{
	struct walk w = { .list = cJSON_CreateArray() };
	char path[PATH_MAX];
	int fd = -1, rc = trialdir_path(sweep, number, path, sizeof path);

	*out = NULL;
	if (!w.list)
		return -ENOMEM;
	if (rc == 0)
		rc = open_dir(path, &fd);
	if (rc == -ENOENT) {
		*out = w.list;
		return 0;
	}
	if (rc == 0)
		rc = walk_dir(fd, "", 0, &w);
	if (fd >= 0)
		close(fd);
	if (rc == 0 && !(*out = sorted(w.list)))
		rc = -ENOMEM;
	if (rc < 0)
		snprintf(err, errlen, "cannot list %s: %s", path, strerror(-rc));
	cJSON_Delete(w.list);
	return rc;
}

int
trialdir_clean(int64_t sweep, int64_t *files, int64_t *bytes, char *err,
	       size_t errlen)
{
	struct walk w = { .list = NULL };
	char path[PATH_MAX];
	int fd = -1, rc = sweep_path(sweep, path, sizeof path);

	*files = *bytes = 0;
	if (rc == 0)
		rc = open_dir(path, &fd);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = walk_dir(fd, "", 0, &w);
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rmdir(path) < 0)
		rc = -errno;
	*files = w.files;
	*bytes = w.bytes;
	if (rc < 0)
		snprintf(err, errlen, "cannot remove %s: %s", path, strerror(-rc));
	return rc;
}
