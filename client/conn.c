/*
 * conn.c: a blocking Unix-socket connection to sweepd with a growing line
 * buffer. No libuv: sweepctl does one thing at a time and waits for it.
 */
#include "client/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/json.h"

int
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->next_id = 1;
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	c->fd = fd;
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		/* MSG_NOSIGNAL: a daemon that went away is an error to report,
		 * not a SIGPIPE that kills sweepctl silently. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
conn_send(struct conn *c, cJSON *req)
{
	char *txt;
	int rc;

	if (c->fd < 0)
		return -EBADF;
	cJSON_DeleteItemFromObjectCaseSensitive(req, "id");
	if (!cJSON_AddNumberToObject(req, "id", c->next_id++))
		return -ENOMEM;
	if (!(txt = json_print(req)))
		return -ENOMEM;
	rc = write_all(c->fd, txt, strlen(txt));
	if (rc == 0)
		rc = write_all(c->fd, "\n", 1);
	free(txt);
	return rc;
}

/* Makes room for at least one more read: first by dropping the bytes
 * already handed out, then by doubling. */
static int
make_room(struct conn *c)
{
	size_t cap;
	char *b;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->cap - c->end >= 4096 && c->cap > 0)
		return 0;
	if (c->end >= CONN_LINE_MAX)
		return -E2BIG;
	cap = c->cap ? c->cap * 2 : 65536;
	if (cap > CONN_LINE_MAX + 1)
		cap = CONN_LINE_MAX + 1;
	if (!(b = realloc(c->buf, cap)))
		return -ENOMEM;
	c->buf = b;
	c->cap = cap;
	return 0;
}

int
conn_read_line(struct conn *c, char **line, size_t *len)
{
	for (;;) {
		char *nl = c->buf ? memchr(c->buf + c->start + c->scanned, '\n',
					   c->end - c->start - c->scanned) : NULL;
		ssize_t n;
		int rc;

		if (nl) {
			*nl = '\0';
			*line = c->buf + c->start;
			*len = (size_t)(nl - *line);
			c->start += *len + 1;
			c->scanned = 0;
			return 0;
		}
		c->scanned = c->end - c->start;
		if (c->scanned > CONN_LINE_MAX)
			return -E2BIG;
		if ((rc = make_room(c)) < 0)
			return rc;
		/* Keep one byte spare so the terminating NUL always fits. */
		n = read(c->fd, c->buf + c->end, c->cap - c->end - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		if (n == 0)
			return -EPIPE;
		c->end += (size_t)n;
	}
}

void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->start = c->end = c->scanned = c->cap = 0;
}
