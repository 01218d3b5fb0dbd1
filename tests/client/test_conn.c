/* test_conn.c: sweepctl's line reader over a socketpair: lines split
 * across reads, many lines in one read, a line larger than the initial
 * buffer, and the end of the connection. */
#include "client/conn.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A conn whose fd is one end of a socketpair; *peer gets the other. */
static void
pair(struct conn *c, int *peer)
{
	int sv[2];

	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	c->fd = sv[0];
	c->next_id = 1;
	*peer = sv[1];
}

static void
lines_in_one_read_and_split(void)
{
	struct conn c;
	int peer = -1;
	char *line;
	size_t len;

	pair(&c, &peer);
	CHECK(c.fd >= 0);
	CHECK(write(peer, "{\"a\":1}\n{\"b\"", 12) == 12);
	CHECK(conn_read_line(&c, &line, &len) == 0);
	CHECK_STR(line, "{\"a\":1}");
	CHECK(len == 7);
	CHECK(write(peer, ":2}\n\n", 5) == 5);
	CHECK(conn_read_line(&c, &line, &len) == 0);
	CHECK_STR(line, "{\"b\":2}");
	CHECK(conn_read_line(&c, &line, &len) == 0);
	CHECK(len == 0);
	/* A partial last line, then the peer goes away. */
	CHECK(write(peer, "{\"c\"", 4) == 4);
	close(peer);
	CHECK(conn_read_line(&c, &line, &len) == -EPIPE);
	conn_close(&c);
	conn_close(&c);   /* harmless twice */
}

static void
a_large_line_grows_the_buffer(void)
{
	size_t n = 3u << 20;   /* 3 MiB: many times the first buffer */
	char *big = malloc(n + 1), *line;
	struct conn c;
	int peer = -1;
	size_t len, off = 0;
	pid_t pid;

	pair(&c, &peer);
	memset(big, 'x', n);
	big[n] = '\n';
	/* A child writes while we read: the socket buffer is smaller than
	 * the line. */
	pid = fork();
	if (pid == 0) {
		close(c.fd);
		while (off < n + 1) {
			ssize_t w = write(peer, big + off, n + 1 - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(peer);
	CHECK(pid > 0);
	CHECK(conn_read_line(&c, &line, &len) == 0);
	CHECK(len == n);
	CHECK(line[0] == 'x' && line[n - 1] == 'x' && line[n] == '\0');
	CHECK(conn_read_line(&c, &line, &len) == -EPIPE);
	CHECK(waitpid(pid, NULL, 0) == pid);
	conn_close(&c);
	free(big);
}

static void
send_numbers_the_requests(void)
{
	struct conn c;
	int peer = -1;
	char buf[256];
	ssize_t n;
	cJSON *req = cJSON_CreateObject();

	pair(&c, &peer);
	cJSON_AddStringToObject(req, "op", "ping");
	CHECK(conn_send(&c, req) == 0);
	CHECK(conn_send(&c, req) == 0);
	n = read(peer, buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "{\"op\":\"ping\",\"id\":1}\n{\"op\":\"ping\",\"id\":2}\n");
	close(peer);
	CHECK(conn_send(&c, req) == -EPIPE);
	cJSON_Delete(req);
	conn_close(&c);
}

static void
open_reports_errors(void)
{
	struct conn c;
	char longp[200];

	CHECK(conn_open(&c, "/nonexistent-dir/sweepd.sock") == -ENOENT);
	CHECK(c.fd == -1);
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	CHECK(conn_open(&c, longp) == -ENAMETOOLONG);
	conn_close(&c);
}

int
main(void)
{
	RUN(lines_in_one_read_and_split);
	RUN(a_large_line_grows_the_buffer);
	RUN(send_numbers_the_requests);
	RUN(open_reports_errors);
	return harness_done();
}
