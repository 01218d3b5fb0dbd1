/*
 * statedir: where sweepd keeps its state, and where sweepctl finds it.
 *
 * Both sides must agree on the default without talking to each other, so
 * the lookup lives here, in one place: $SWEEP_STATE_DIR, else
 * $XDG_STATE_HOME/sweepd, else $HOME/.local/state/sweepd. Nothing is
 * created or checked on disk; the daemon makes the directory, the client
 * only connects.
 */
#ifndef SWEEPD_COMMON_STATEDIR_H
#define SWEEPD_COMMON_STATEDIR_H

#include <stddef.h>

/* The socket path must fit struct sockaddr_un.sun_path (108 bytes on
 * Linux, including the terminating NUL). */
#define STATEDIR_SUN_PATH_MAX 108

/*
 * Write the default state directory into buf (len bytes, NUL-terminated).
 * Empty environment variables count as unset. A relative $XDG_STATE_HOME is
 * ignored, as the XDG spec says.
 * Returns 0; -ENAMETOOLONG when the path does not fit in len; -ENOENT when
 * none of the three variables gives a path; -EINVAL when buf is NULL or
 * len is 0. On error buf holds an empty string (if len > 0).
 */
int statedir_default(char *buf, size_t len);

/*
 * Write dir + "/sweepd.sock" into buf (len bytes, NUL-terminated).
 * A trailing '/' on dir is not doubled.
 * Returns 0; -ENAMETOOLONG when the result does not fit in len or is
 * longer than sun_path can hold (STATEDIR_SUN_PATH_MAX - 1 characters);
 * -EINVAL when dir is NULL or empty, or buf is NULL.
 */
int statedir_socket_path(const char *dir, char *buf, size_t len);

#endif
