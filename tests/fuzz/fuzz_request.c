/*
 * fuzz_request.c: libFuzzer target for the daemon's client-request
 * handling: the connection's line splitter (daemon/serve/server.c), the op
 * dispatcher and every op (daemon/serve/ops.c), the scheduler's submit, cancel,
 * pause, resume and enqueue (daemon/sched/control.c) and the database behind them.
 *
 * One real struct daemon (server and scheduler), on its own libuv loop and a state dir under
 * $SWEEPD_FUZZ_DIR (default /dev/shm), with workers = 0 and "/bin/false"
 * as the worker: the scheduler never has a free slot, so no fuzzed submit
 * ever starts a process. Per input:
 *  - a socketpair; server_adopt serves one end as a client connection;
 *  - the input is written to the other end, then shutdown(SHUT_WR), while
 *    the loop runs with UV_RUN_NOWAIT and the replies are read, until the
 *    server closes its end (it must, after EOF, once every reply is
 *    written; a bound catches a hang); no reply is cut short;
 *  - every reply line is a JSON object with a boolean "ok" (and an
 *    "error" with a known "code" and a non-empty "message" when ok is
 *    false), or an event ({"event":...}); there is exactly one reply per
 *    non-empty request line unless the input shut the server down;
 *  - the connection is gone afterwards (n_conns back to 0).
 * When the input stored a sweep or shut the server down, the server is
 * torn down (uv_loop_close must succeed: no handle left behind) and
 * started again on a fresh state dir, so each input starts from an empty
 * database and a crash reproduces from its input alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>
#include <uv.h>

#include "daemon/store/db.h"
#include "daemon/wire/wire.h"
#include "daemon/log.h"
#include "daemon/daemon.h"
#include "daemon/serve/server.h"

#define FUZZ_TARGET "fuzz_request"
#include "tests/fuzz/fuzz_check.h"

#define MAX_ITERS   200000          /* loop turns before calling it a hang */
#define MAX_REPLY   (64u << 20)     /* reply bytes before calling it a flood */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct daemon d;
static int up;                       /* d and loop initialized */
static char state_dir[PATH_MAX];

static const char *const codes[] = {
	"bad_request", "not_found", "conflict", "unknown_op", "too_large",
	"read_only", "disk_full", "locked", "shutting_down", "out_of_memory", "internal",
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void
server_up(void)
{
	const char *root = getenv("SWEEPD_FUZZ_DIR");
	struct daemon_config cfg;
	char err[512];
	int rc;

	snprintf(state_dir, sizeof state_dir, "%s/sweepd-fuzz-XXXXXX",
		 root && *root ? root : "/dev/shm");
	if (!mkdtemp(state_dir))
		FAIL("mkdtemp %s: %s", state_dir, strerror(errno));
	REQUIRE(uv_loop_init(&loop) == 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = state_dir;
	cfg.worker_bin = "/bin/false";
	cfg.workers = 0;        /* no slot: a fuzzed submit never runs anything */
	rc = daemon_init(&d, &loop, &cfg, err, sizeof err);
	if (rc < 0)
		FAIL("daemon_init: %s", err);
	up = 1;
}

static void
server_down(void)
{
	int rc;

	if (!up)
		return;
	server_shutdown(&d.srv);
	for (int i = 0; i < MAX_ITERS && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	REQUIRE(d.sched.n_running == 0);
	daemon_free(&d);
	uv_run(&loop, UV_RUN_NOWAIT);
	rc = uv_loop_close(&loop);
	if (rc != 0)
		FAIL("uv_loop_close: %s (a handle was left open)", uv_strerror(rc));
	nftw(state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	up = 0;
}

static void
at_exit(void)
{
	server_down();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	/* The daemon logs every submit; SWEEPD_FUZZ_LOG=1 keeps that and
	 * prints the replies too. */
	if (!getenv("SWEEPD_FUZZ_LOG"))
		log_open("/dev/null");
	server_up();
	atexit(at_exit);
	return 0;
}

/* Request lines the server answers: non-empty once one trailing '\r' is
 * stripped, the last one too when it has no '\n' (at EOF the server takes
 * it as a request). */
static int
count_requests(const uint8_t *data, size_t size)
{
	size_t start = 0;
	int n = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && data[i - 1] == '\r')
			len--;
		n += len > 0;
		start = i + 1;
	}
	return n;
}

static int
known_code(const char *c)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(codes[i], c) == 0)
			return 1;
	return 0;
}

/* Checks one reply line; returns 1 for a reply, 0 for an event. */
static int
check_reply(const char *line, size_t len)
{
	cJSON *r = cJSON_ParseWithLength(line, len);
	const cJSON *ok, *e, *code, *msg;
	int is_reply = 1;

	if (!r || !cJSON_IsObject(r))
		FAIL("reply is not a JSON object: %.*s", (int)(len > 300 ? 300 : len),
		     line);
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "event"))) {
		REQUIRE(!cJSON_HasObjectItem(r, "ok"));
		is_reply = 0;
		goto out;
	}
	ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
	if (!cJSON_IsBool(ok))
		FAIL("reply without a boolean \"ok\": %.*s",
		     (int)(len > 300 ? 300 : len), line);
	if (cJSON_IsFalse(ok)) {
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		REQUIRE(cJSON_IsObject(e));
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		REQUIRE(cJSON_IsString(code) && cJSON_IsString(msg));
		if (!known_code(code->valuestring))
			FAIL("unknown error code \"%s\"", code->valuestring);
		REQUIRE(msg->valuestring[0] != '\0');
		/* "internal" means a daemon fault, never bad input. */
		if (strcmp(code->valuestring, "internal") == 0)
			FAIL("internal error for a client request: %s",
			     msg->valuestring);
	} else {
		REQUIRE(!cJSON_HasObjectItem(r, "error"));
	}
out:
	cJSON_Delete(r);
	return is_reply;
}

/* Whether the database holds a sweep (then the next input needs a fresh
 * one). */
static int
db_dirty(void)
{
	cJSON *arr = NULL;
	int n;

	if (wire_sweeps_json(d.db, &arr) < 0)
		return 1;
	n = cJSON_GetArraySize(arr);
	cJSON_Delete(arr);
	return n > 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply = NULL;
	size_t rlen = 0, rcap = 0, off = 0, start;
	int sv[2], wr_done = 0, eof = 0, replies = 0, rc, iters;

	if (!up)
		server_up();
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	REQUIRE(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	rc = server_adopt(&d.srv, sv[0]);
	if (rc < 0)
		FAIL("server_adopt: %s", uv_strerror(rc));

	for (iters = 0; iters < MAX_ITERS && !eof; iters++) {
		if (!wr_done) {
			ssize_t n = size > off ? send(sv[1], data + off, size - off,
						     MSG_NOSIGNAL) : 0;
			if (n > 0)
				off += (size_t)n;
			if (off == size || (n < 0 && errno != EAGAIN &&
					    errno != EINTR)) {
				/* All sent, or the server hung up early. */
				shutdown(sv[1], SHUT_WR);
				wr_done = 1;
			}
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		for (;;) {
			ssize_t n;

			if (rcap - rlen < 65536) {
				rcap = rcap ? rcap * 2 : 131072;
				if (rcap > MAX_REPLY)
					FAIL("more than %u reply bytes", MAX_REPLY);
				reply = realloc(reply, rcap);
				REQUIRE(reply);
			}
			n = recv(sv[1], reply + rlen, rcap - rlen, 0);
			if (n > 0) {
				rlen += (size_t)n;
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
			break;
		}
	}
	if (!eof)
		FAIL("the server did not close the connection after EOF "
		     "(%d loop turns)", iters);
	close(sv[1]);
	/* Let the close callbacks run. */
	for (int i = 0; i < 16; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	REQUIRE(d.srv.n_conns == 0);

	/* After EOF the server writes every reply before it closes: none is
	 * cut short. */
	if (rlen > 0 && reply[rlen - 1] != '\n')
		FAIL("a reply was cut: %zu reply bytes, the last not a "
		     "newline", rlen);
	start = 0;
	for (size_t i = 0; i < rlen; i++) {
		if (reply[i] != '\n')
			continue;
		if (getenv("SWEEPD_FUZZ_LOG"))
			fprintf(stderr, "reply: %.*s\n", (int)(i - start),
				reply + start);
		replies += check_reply(reply + start, i - start);
		start = i + 1;
	}
	free(reply);
	if (!d.srv.shutting_down) {
		int want = count_requests(data, size);

		if (off == size && replies != want)
			FAIL("%d replies to %d requests", replies, want);
	}

	if (d.srv.shutting_down || db_dirty())
		server_down();
	return 0;
}
