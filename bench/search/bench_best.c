/*
 * bench_best.c: `best` latency seen by a client that is not Python (issue
 * 19, "No stalls"). Not a test.
 *
 *   bench_best SOCKET SWEEP_ID [--clients 20] [--seconds 20] [--reconnect]
 *
 * One thread keeps --clients connections to sweepd, each sending
 * {"op":"best","sweep":SWEEP_ID} and, once its reply line is in, the
 * next one, for --seconds. Latency is taken with clock_gettime from the
 * request's write to the reply's last byte (with --reconnect, as sweepctl
 * does, every request on a new connection, from before connect). Prints
 * one line: requests, median, p99 and max in ms, and errors (replies that
 * are not {"ok":true,...} or connections lost). Being one thread in C
 * waiting in poll, its own share of the figures is microseconds, unlike
 * bench_stall.py's 20 Python threads under one GIL.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchclock.h"

#define MAX_CLIENTS 256

struct client {
	int fd;
	double t0;
	char buf[1 << 16];
	size_t n;
};

struct run {
	const char *sock;
	char req[128];
	size_t req_len;
	int reconnect;
	double *lat;
	size_t n_lat, cap_lat;
	long errors;
};

static int
connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Sends the next request on c (connecting first if it has no socket). */
static int
client_send(struct run *r, struct client *c)
{
	size_t off = 0;

	c->t0 = bench_now_s();
	c->n = 0;
	if (c->fd < 0 && (c->fd = connect_to(r->sock)) < 0)
		return c->fd;
	while (off < r->req_len) {
		ssize_t w = write(c->fd, r->req + off, r->req_len - off);

		if (w < 0 && errno != EINTR)
			return -errno;
		if (w > 0)
			off += (size_t)w;
	}
	return 0;
}

static int
record(struct run *r, double v)
{
	if (r->n_lat == r->cap_lat) {
		size_t cap = r->cap_lat ? 2 * r->cap_lat : 1 << 16;
		double *p = realloc(r->lat, cap * sizeof *p);

		if (!p)
			return -ENOMEM;
		r->lat = p;
		r->cap_lat = cap;
	}
	r->lat[r->n_lat++] = v;
	return 0;
}

/* Reads what c has; 1 when its reply line is complete (recorded), 0 for
 * more to come, -errno. */
static int
client_read(struct run *r, struct client *c)
{
	ssize_t n = read(c->fd, c->buf + c->n, sizeof c->buf - 1 - c->n);

	if (n <= 0)
		return n == 0 ? -EPIPE : (errno == EINTR ? 0 : -errno);
	c->n += (size_t)n;
	if (!memchr(c->buf, '\n', c->n)) {
		if (c->n == sizeof c->buf - 1)   /* longer than ours: skip it */
			c->n = 0;
		return 0;
	}
	if (record(r, bench_now_s() - c->t0) < 0)
		return -ENOMEM;
	c->buf[c->n] = '\0';
	if (!strstr(c->buf, "\"ok\":true"))
		r->errors++;
	if (r->reconnect) {
		close(c->fd);
		c->fd = -1;
	}
	return 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(struct run *r, int clients, double seconds)
{
	double *v = r->lat;
	size_t n = r->n_lat;

	qsort(v, n, sizeof *v, cmp_double);
	printf("c client: %zu requests from %d connections in %.0f s%s: median "
	       "%.2f ms, p99 %.2f ms, max %.2f ms; errors %ld\n", n, clients,
	       seconds, r->reconnect ? " (a new connection each)" : "",
	       n ? 1e3 * v[n / 2] : 0.0,
	       n ? 1e3 * v[(size_t)(0.99 * (double)n) < n ?
			    (size_t)(0.99 * (double)n) : n - 1] : 0.0,
	       n ? 1e3 * v[n - 1] : 0.0, r->errors);
}

/* One poll round over every client: replies read, next requests sent. */
static int
round_once(struct run *r, struct client *cl, struct pollfd *pf, int n,
	   int sending)
{
	int rc;

	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
	if (poll(pf, (nfds_t)n, 100) < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (pf[i].fd < 0 || !pf[i].revents)
			continue;
		rc = client_read(r, &cl[i]);
		if (rc < 0) {
			r->errors++;
			close(cl[i].fd);
			cl[i].fd = -1;
			rc = 1;
		}
		if (rc == 1 && sending && client_send(r, &cl[i]) < 0)
			return -EIO;
		if (rc == 1 && !sending && cl[i].fd >= 0) {
			close(cl[i].fd);
			cl[i].fd = -2;   /* done: poll skips it */
		}
	}
	return 0;
}

static int
run_clients(struct run *r, int n, double seconds)
{
	static struct client cl[MAX_CLIENTS];
	struct pollfd pf[MAX_CLIENTS];
	double end = bench_now_s() + seconds, drain = end + 30;
	int rc = 0, open;

	for (int i = 0; i < n && rc == 0; i++) {
		cl[i].fd = -1;
		rc = client_send(r, &cl[i]);
	}
	while (rc == 0 && bench_now_s() < drain) {
		rc = round_once(r, cl, pf, n, bench_now_s() < end);
		open = 0;
		for (int i = 0; i < n; i++)
			open += cl[i].fd >= 0;
		if (bench_now_s() >= end && !open)
			break;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct run r = { 0 };
	int clients = 20, rc;
	double seconds = 20;
	long long sweep;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SOCKET SWEEP_ID [--clients N] "
			"[--seconds S] [--reconnect]\n", argv[0]);
		return 2;
	}
	r.sock = argv[1];
	sweep = atoll(argv[2]);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			clients = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--reconnect") == 0)
			r.reconnect = 1;
		else {
			fprintf(stderr, "%s: unknown argument %s\n", argv[0],
				argv[i]);
			return 2;
		}
	}
	if (clients < 1 || clients > MAX_CLIENTS || sweep < 1 || seconds <= 0) {
		fprintf(stderr, "%s: clients 1..%d, a sweep id >= 1, seconds > 0\n",
			argv[0], MAX_CLIENTS);
		return 2;
	}
	r.req_len = (size_t)snprintf(r.req, sizeof r.req,
				     "{\"op\":\"best\",\"sweep\":%lld}\n", sweep);
	rc = run_clients(&r, clients, seconds);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-rc));
	report(&r, clients, seconds);
	free(r.lat);
	return rc < 0;
}
