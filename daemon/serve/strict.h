/*
 * strict: what sweepd checks of its state directory before it opens
 * anything in it (the spirit of sshd's StrictModes).
 *
 * A daemon that runs as root on a directory another user owns would open a
 * database that user can swap, and then run the commands its sweeps name.
 * So the directory, and each of the files sweepd would open or remove in it,
 * must belong to the user who runs sweepd. The directory is held open and
 * flock()ed for the daemon's life: unlike a lock file, it cannot be removed
 * out from under a running daemon while it holds the database.
 */
#ifndef SWEEPD_STRICT_H
#define SWEEPD_STRICT_H

#include <stddef.h>

/* The files of the state dir that sweepd opens, creates or removes. */
extern const char *const strict_state_files[];

/* Opens dir (absolute and resolved: realpath) with O_DIRECTORY and
 * close-on-exec, and checks that it and every existing file of
 * strict_state_files in it are owned by the effective uid, also the file
 * log_path when it is a regular file (NULL: none); and that each directory
 * above it is root's or that uid's, and not writable by group or others
 * unless sticky.
 * Returns the directory's fd, or -EPERM (someone else owns one of them:
 * err names the path and its owner) or another -errno (err says which). */
int strict_open_dir(const char *dir, const char *log_path, char *err,
		    size_t errlen);

/* Takes the exclusive lock on the directory fd from strict_open_dir,
 * waiting up to wait_ms for a previous daemon's to go. Returns 0, -EBUSY
 * when another daemon holds it, or -errno. */
int strict_lock_dir(int dirfd, int wait_ms);

#endif
