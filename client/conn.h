/*
 * conn: sweepctl's side of the client protocol: one blocking Unix stream
 * socket, requests written as one JSON line each, replies and watch events
 * read back line by line.
 *
 * Replies can be large (the trials of a big sweep run to tens of MB), so
 * the read buffer grows as needed, up to CONN_LINE_MAX per line.
 */
#ifndef SWEEPD_CLIENT_CONN_H
#define SWEEPD_CLIENT_CONN_H

#include <stddef.h>

#include <cJSON.h>

#define CONN_LINE_MAX ((size_t)512 << 20)   /* bytes, one reply line */

struct conn {
	int fd;          /* -1 when closed */
	int next_id;     /* id of the next request */
	char *buf;       /* owned; bytes read but not yet handed out */
	size_t start;    /* first byte not yet handed out */
	size_t end;      /* one past the last byte read */
	size_t scanned;  /* bytes from start known to hold no '\n' */
	size_t cap;      /* allocated size of buf */
};

/* Connects to the socket at path. Returns 0, or a negative errno
 * (-ENAMETOOLONG when path does not fit sun_path, -ENOENT, -ECONNREFUSED,
 * -EACCES ...). On error c->fd is -1 and nothing needs freeing. */
int conn_open(struct conn *c, const char *path);

/* Adds "id" (the next request id) to req and writes it as one line.
 * req stays the caller's. Returns 0 or a negative errno (-EPIPE when the
 * daemon closed the connection). */
int conn_send(struct conn *c, cJSON *req);

/*
 * Reads the next line (without its '\n', NUL-terminated). *line is
 * borrowed from c until the next conn_ call; *len is its length.
 * Returns 0; -EPIPE when the daemon closed the connection before a whole
 * line came (a partial last line is dropped); -E2BIG when a line exceeds
 * CONN_LINE_MAX; -ENOMEM; or a read errno.
 */
int conn_read_line(struct conn *c, char **line, size_t *len);

/* Closes the socket and frees the buffer; harmless twice and on a conn
 * that failed to open. */
void conn_close(struct conn *c);

#endif
