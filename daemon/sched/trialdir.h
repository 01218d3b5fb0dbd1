/*
 * trialdir.h: a directory per trial (SWEEP_TRIAL_DIR, docs/DESIGN.md).
 *
 * ROOT/<sweep>/<number>, ROOT being STATE_DIR/trials or `sweepd
 * --trial-root DIR`. Made 0700 before the trial's first attempt starts, the
 * same for every attempt, kept after the trial ends; only `clean` (an
 * ended sweep's, on request) removes them. The root is checked like the
 * state dir (strict.h): ours, not writable by group or others, nor any
 * directory above it writable by another user (main.c runs strict.h's
 * checks on it too).
 */
#ifndef SWEEPD_TRIALDIR_H
#define SWEEPD_TRIALDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cJSON.h>

/* A sweep's directory, held open while the sweep is active (one per
 * struct sweep): trialdir_make makes its trial directories in it. Zeroed:
 * none held yet; trialdir_release closes it. */
/* At most this many sweeps keep theirs while they have nothing running
 * (end.c): each is a descriptor of SERVER_FD_BASE's, not the clients'. */
#define TRIALDIR_HELD_MAX 8
struct trialdir_held {
	int on;              /* fd is open */
	int fd;              /* O_PATH, owned while on */
	dev_t dev;           /* what the sweep's name in the root led to */
	ino_t ino;           /* when fd was opened */
};

/* Sets the root once at start-up: root (NULL: STATE_DIR/trials) is created
 * 0700 when missing and checked. 0, or -errno with err naming the path. */
int trialdir_init(const char *root, const char *state_dir, char *err,
		  size_t errlen);
/* The root (absolute, resolved), NULL before trialdir_init. */
const char *trialdir_root(void);
/* Forgets the root (frees it). */
void trialdir_free(void);

/* The trial's directory path in buf. -ENAMETOOLONG, -ENOENT (no root). */
int trialdir_path(int64_t sweep, int number, char *buf, size_t len);

/* Makes (or finds) the trial's directory, its path in buf. 0, or -errno
 * with err saying which path and why (a symlink, another owner's, or a
 * file in its place are refused). fresh: the trial's first attempt, whose
 * directory must be new: one found with anything in it is renamed to
 * NUMBER.stale-K (kept; logged) and a new one made. h is the sweep's
 * (borrowed): its directory is opened into it when h holds none, or none
 * that its name in the root still leads to, and stays open for the
 * sweep's next trials. */
int trialdir_make(struct trialdir_held *h, int64_t sweep, int number,
		  int fresh, char *buf, size_t len, char *err, size_t errlen);
/* Closes what h holds (the sweep is freed). Zeroed or released h: no-op. */
void trialdir_release(struct trialdir_held *h);

/* The files below the trial's directory, a NEW array owned by the caller
 * ([{"name": relative path, "size", "mtime"}], sorted by name; symlinks are
 * listed, not followed). A missing directory gives an empty array. */
int trialdir_list(int64_t sweep, int number, cJSON **out, char *err,
		  size_t errlen);

/* Removes ROOT/<sweep> and all below it: *files and *bytes say how much
 * (0 when there was nothing). -errno with err on failure. For an ended
 * sweep only (ops_tdir.c refuses an active one): its held directory was
 * released with it. */
int trialdir_clean(int64_t sweep, int64_t *files, int64_t *bytes,
		   char *err, size_t errlen);

#endif
