/*
 * strict.c: ownership checks and the lock of the state directory.
 */
#include "daemon/serve/strict.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const strict_state_files[] = {
	"sweepd.db", "sweepd.db-wal", "sweepd.db-shm", "sweepd.db-journal",
	"sweepd.sock", "sweepd.log", NULL,
};

static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "%s", pw ? pw->pw_name : "?");
	return buf;
}

/* -EPERM with the message when st (of path) belongs to another user. */
static int
check_owner(const struct stat *st, const char *path, char *err, size_t errlen)
{
	char theirs[64], ours[64];
	uid_t me = geteuid();

	if (st->st_uid == me)
		return 0;
	snprintf(err, errlen, "refusing %s: it is owned by %s (uid %u), not by "
		 "%s (uid %u) who runs this sweepd; another user could swap "
		 "what sweepd opens (chown it, or use another --state-dir)",
		 path, user_name(st->st_uid, theirs, sizeof theirs),
		 (unsigned)st->st_uid, user_name(me, ours, sizeof ours),
		 (unsigned)me);
	return -EPERM;
}

/* name in dirfd: absent is fine; the link itself and, when it is one,
 * what it points to must both be ours. */
static int
check_entry(int dirfd, const char *dir, const char *name, char *err,
	    size_t errlen)
{
	char path[4096];
	struct stat st;
	int rc;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = check_owner(&st, path, err, errlen);
	if (rc == 0 && S_ISLNK(st.st_mode) && fstatat(dirfd, name, &st, 0) == 0)
		rc = check_owner(&st, path, err, errlen);
	return rc;
}

/* Each directory above dir (an absolute, resolved path) must be root's or
 * ours, and not writable by group or others unless sticky: else whoever
 * may rename entries in it can swap the state dir after it was checked. */
static int
check_parents(const char *dir, char *err, size_t errlen)
{
	char path[4096], ours[64], theirs[64];
	struct stat st;
	char *slash;

	snprintf(path, sizeof path, "%s", dir);
	while ((slash = strrchr(path, '/'))) {
		slash[slash == path] = '\0';   /* "/a/b" -> "/a", "/a" -> "/" */
		if (stat(path, &st) < 0)
			return 0;   /* unreachable: the opens will say so */
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			snprintf(err, errlen, "refusing %s: its parent %s is owned "
				 "by %s (uid %u), who could swap it; neither root "
				 "nor %s (uid %u) who runs this sweepd", dir, path,
				 user_name(st.st_uid, theirs, sizeof theirs),
				 (unsigned)st.st_uid,
				 user_name(geteuid(), ours, sizeof ours),
				 (unsigned)geteuid());
			return -EPERM;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
			snprintf(err, errlen, "refusing %s: its parent %s is "
				 "writable by %s (mode %04o) and not sticky: another "
				 "user could swap it", dir, path,
				 st.st_mode & S_IWOTH ? "everyone" : "its group",
				 (unsigned)(st.st_mode & 07777));
			return -EPERM;
		}
		if (path[1] == '\0')
			break;
	}
	return 0;
}

static int
check_log(const char *log_path, char *err, size_t errlen)
{
	struct stat st;

	if (!log_path || stat(log_path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;   /* absent (created as ours), or a device, a pipe */
	return check_owner(&st, log_path, err, errlen);
}

int
strict_open_dir(const char *dir, const char *log_path, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat %s: %s", dir, strerror(-rc));
		goto fail;
	}
	rc = check_owner(&st, dir, err, errlen);
	if (rc == 0)
		rc = check_parents(dir, err, errlen);
	for (int i = 0; rc == 0 && strict_state_files[i]; i++)
		rc = check_entry(fd, dir, strict_state_files[i], err, errlen);
	if (rc == 0)
		rc = check_log(log_path, err, errlen);
	if (rc == 0)
		return fd;
fail:
	close(fd);
	return rc;
}

int
strict_lock_dir(int dirfd, int wait_ms)
{
	/* A daemon killed with SIGKILL can leave the lock held for a moment
	 * by a trainer it was forking (the descriptor closes at exec). */
	for (int waited = 0; flock(dirfd, LOCK_EX | LOCK_NB) < 0; waited += 100) {
		if (errno != EWOULDBLOCK)
			return -errno;
		if (waited >= wait_ms)
			return -EBUSY;
		usleep(100 * 1000);
	}
	return 0;
}
