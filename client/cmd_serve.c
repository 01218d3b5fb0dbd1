/*
 * cmd_serve.c: `sweepctl serve`. libmicrohttpd listens on 127.0.0.1 (never
 * another address) and answers from its one internal thread, so requests
 * are handled one at a time and share sweepctl's connection to sweepd
 * (opened again when the daemon dropped it). Every request must carry
 * ?token= with the random token of the printed URL, or gets 403: another
 * user on the machine can reach the port but cannot guess the token.
 *
 * Routes: / the page, /body its live part (what the page polls). Each is
 * rendered afresh from the daemon's `sweeps`, `sweep`, `trials`, `epochs`
 * and `importance` replies; when the daemon cannot be asked, the page says
 * so and goes on polling (an importance it refuses, the section says why).
 *
 * The main thread blocks SIGINT and SIGTERM before the server thread
 * starts (it inherits the mask) and waits for them with sigwait.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <microhttpd.h>

#include "client/cmd_serve.h"
#include "client/dash.h"
#include "client/export.h"
#include "client/fmt.h"

#define TOKEN_BYTES 16

/* The page is self-contained: it may load nothing but its own /body. */
#define CSP "default-src 'none'; style-src 'unsafe-inline'; " \
	    "script-src 'unsafe-inline'; connect-src 'self'; img-src data:"

struct serve {
	struct ctl *c;                    /* its conn: the server thread's */
	char token[2 * TOKEN_BYTES + 1];
	char err[512];                    /* why sweepd could not be asked */
};

static int
make_token(char *out)
{
	unsigned char b[TOKEN_BYTES];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		got += n > 0 ? (size_t)n : 0;
	}
	for (size_t i = 0; i < sizeof b; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	return 0;
}

/* In time independent of where t differs. */
static int
token_ok(const struct serve *sv, const char *t)
{
	size_t n = strlen(sv->token);
	unsigned char d = 0;

	if (!t || strlen(t) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(t[i] ^ sv->token[i]);
	return d == 0;
}

/* Sends req and reads the reply line, on a new connection once when the
 * kept one was lost. Returns 0 or a negative errno. */
static int
roundtrip(struct serve *sv, cJSON *req, char **line, size_t *len)
{
	struct conn *cn = &sv->c->conn;
	int rc = -ENOTCONN;

	for (int tries = 0; tries < 2; tries++) {
		if (cn->fd < 0 && (rc = conn_open(cn, sv->c->sock)) < 0)
			return rc;
		if ((rc = conn_send(cn, req)) == 0 &&
		    (rc = conn_read_line(cn, line, len)) == 0)
			return 0;
		conn_close(cn);
	}
	return rc;
}

/* Sends req (the caller's); the ok reply in *reply (the caller's). On
 * failure sv->err says why. Returns 0 or -1. */
static int
ask_req(struct serve *sv, cJSON *req, cJSON **reply)
{
	const cJSON *err;
	char *line;
	size_t len;
	int rc;

	*reply = NULL;
	rc = roundtrip(sv, req, &line, &len);
	if (rc < 0) {
		snprintf(sv->err, sizeof sv->err, "cannot ask sweepd at %s: %s "
			 "(is it running?)", sv->c->sock, strerror(-rc));
		return -1;
	}
	*reply = cJSON_ParseWithLength(line, len);
	if (cJSON_IsTrue(fmt_jget(*reply, "ok")))
		return 0;
	err = fmt_jget(*reply, "error");
	snprintf(sv->err, sizeof sv->err, "sweepd: %s (%s)",
		 fmt_jstr(err, "message", "request failed"),
		 fmt_jstr(err, "code", "error"));
	cJSON_Delete(*reply);
	*reply = NULL;
	return -1;
}

/* The reply member key of op, detached into *out; on failure sv->err
 * says why. Returns 0 or -1. */
static int
ask(struct serve *sv, const char *op, long long sweep, const char *key,
    cJSON **out)
{
	cJSON *req = ctl_request(op, sweep, 0), *reply = NULL;

	*out = NULL;
	if (!req) {
		snprintf(sv->err, sizeof sv->err, "out of memory");
		return -1;
	}
	if (ask_req(sv, req, &reply) == 0 &&
	    !(*out = cJSON_DetachItemFromObjectCaseSensitive(reply, key)))
		snprintf(sv->err, sizeof sv->err, "the %s reply from sweepd has no "
			 "\"%s\"", op, key);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	return *out ? 0 : -1;
}

/* Every epoch row of the sweep, page after page (docs/DESIGN.md). */
static int
ask_epochs(struct serve *sv, long long sweep, cJSON **out)
{
	cJSON *all = cJSON_CreateArray(), *after = NULL, *req, *reply;
	int rc = 0;

	do {
		if (!all || !(req = ctl_request("epochs", sweep, 0))) {
			snprintf(sv->err, sizeof sv->err, "out of memory");
			cJSON_Delete(after);
			rc = -1;
			break;
		}
		if (after)
			cJSON_AddItemToObject(req, "after", after);
		rc = ask_req(sv, req, &reply);
		cJSON_Delete(req);
		if (rc == 0 && export_take_epochs_page(reply, all, &after) < 0) {
			snprintf(sv->err, sizeof sv->err, "the epochs reply from "
				 "sweepd has no \"epochs\" page");
			rc = -1;
		}
	} while (rc == 0 && after);
	if (rc < 0) {
		cJSON_Delete(all);
		all = NULL;
	}
	*out = all;
	return rc;
}

/* The `importance` op's object, or a string saying why there is none:
 * the page goes on without it, so sv->err stays as it was. NULL: out of
 * memory. */
static cJSON *
ask_importance(struct serve *sv, long long sweep)
{
	char keep[sizeof sv->err];
	cJSON *imp;

	memcpy(keep, sv->err, sizeof keep);
	if (ask(sv, "importance", sweep, "importance", &imp) < 0)
		imp = cJSON_CreateString(sv->err);
	memcpy(sv->err, keep, sizeof keep);
	return imp;
}

/* The page (page 1) or its live part for sweep (0: the newest), as a
 * malloc'd buffer of *len bytes; NULL when out of memory. */
static char *
render(struct serve *sv, long long sweep, int page, size_t *len)
{
	cJSON *sweeps = NULL, *sw = NULL, *trials = NULL, *epochs = NULL;
	cJSON *imp = NULL;
	struct dash_view v = { .token = sv->token };
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);
	int rc;

	if (!m)
		return NULL;
	sv->err[0] = '\0';
	if (ask(sv, "sweeps", 0, "sweeps", &sweeps) == 0) {
		v.sweep = sweep > 0 ? sweep : dash_default_sweep(sweeps);
		if (v.sweep > 0 && ask(sv, "sweep", v.sweep, "sweep", &sw) == 0 &&
		    ask(sv, "trials", v.sweep, "trials", &trials) == 0 &&
		    ask_epochs(sv, v.sweep, &epochs) == 0)
			imp = ask_importance(sv, v.sweep);
	}
	v.sweeps = sweeps;
	v.sw = sw;
	v.trials = trials;
	v.epochs = epochs;
	v.importance = imp;
	v.error = sv->err[0] ? sv->err : NULL;
	rc = page ? dash_write_page(m, &v) : dash_write_body(m, &v);
	if (fclose(m) != 0 || rc < 0) {
		free(buf);
		buf = NULL;
	}
	cJSON_Delete(sweeps);
	cJSON_Delete(sw);
	cJSON_Delete(trials);
	cJSON_Delete(epochs);
	cJSON_Delete(imp);
	return buf;
}

/* Queues buf (malloc'd, len bytes; the response frees it). */
static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, const char *type,
	char *buf, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!buf)
		return MHD_NO;
	if (!(r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE))) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	/* the token is in the URL: no Referer to carry it elsewhere */
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *s = strdup(msg);

	return respond(conn, status, "text/plain; charset=utf-8", s, s ? strlen(s) : 0);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload,
	   size_t *upload_size, void **req_cls)
{
	struct serve *sv = cls;
	const char *sw;
	long long sweep = 0;
	char *end, *buf;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	if (!token_ok(sv, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						      "token")))
		return text(conn, MHD_HTTP_FORBIDDEN, "403 forbidden: this URL needs "
			    "the token that `sweepctl serve` printed\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	sw = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "sweep");
	if (sw) {
		errno = 0;
		sweep = strtoll(sw, &end, 10);
		if (!*sw || *end || errno || sweep < 1)
			return text(conn, MHD_HTTP_BAD_REQUEST, "sweep must be a "
				    "positive integer\n");
	}
	if (strcmp(url, "/") != 0 && strcmp(url, "/body") != 0)
		return text(conn, MHD_HTTP_NOT_FOUND, "not found: the dashboard is "
			    "at / (and its live part at /body)\n");
	buf = render(sv, sweep, strcmp(url, "/") == 0, &len);
	return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8", buf, len);
}

/* --port: 0 (any free port, the default) to 65535. */
static int
parse_port(const char *s, unsigned *port)
{
	char *end;
	long v;

	*port = 0;
	if (!s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 65535) {
		ctl_err("--port must be an integer from 0 to 65535, got \"%s\"", s);
		return CTL_EXIT_USAGE;
	}
	*port = (unsigned)v;
	return 0;
}

static struct MHD_Daemon *
listen_local(struct serve *sv, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port,
				NULL, NULL, on_request, sv,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				MHD_OPTION_CONNECTION_LIMIT, 64u,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				MHD_OPTION_END);
}

int
ctl_cmd_serve(struct ctl *c, struct ctl_args *a)
{
	struct serve sv = { .c = c };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	cJSON *req, *reply = NULL;
	sigset_t set;
	unsigned port;
	char *line;
	size_t len;
	int rc, sig;

	if ((rc = parse_port(a->port, &port)) != 0)
		return rc;
	/* sweepd must answer first: this also finds its socket */
	if (!(req = ctl_request("ping", 0, 0)))
		return ctl_oom();
	rc = ctl_call(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	cJSON_Delete(reply);
	if (rc != 0)
		return rc;
	if ((rc = make_token(sv.token)) < 0) {
		ctl_err("no random token: %s", strerror(-rc));
		return CTL_EXIT_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	if (!(d = listen_local(&sv, port))) {
		ctl_err("cannot listen on 127.0.0.1:%u: %s", port,
			errno ? strerror(errno) : "libmicrohttpd refused");
		return CTL_EXIT_FAIL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("http://127.0.0.1:%u/?token=%s\n", info ? info->port : port, sv.token);
	fflush(stdout);
	fprintf(stderr, "sweepctl: serving the dashboard of sweepd at %s on "
		"127.0.0.1 only; Ctrl-C stops\n", c->sock);
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(d);
	return 0;
}
