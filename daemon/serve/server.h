/*
 * server.h: the daemon's root state and its client connections.
 *
 * One struct server holds everything the loop needs: the database, the
 * listening socket, the connected clients, the active sweeps and the
 * counters that `stats` reports. Clients speak one JSON object per line
 * (docs/DESIGN.md, "Client protocol"); each connection has its own input
 * buffer and its own queue of pending writes, so a slow client never stalls
 * another one.
 */
#ifndef SWEEPD_SERVER_H
#define SWEEPD_SERVER_H

#include <stdint.h>
#include <cJSON.h>
#include <uv.h>

#include "daemon/serve/ops_best.h"

struct db;
struct sched;
struct sweep;
struct conn;
struct server;

#define SERVER_MAX_LINE   (1u << 20)   /* request line cap: 1 MiB */
/* Pending output is counted as the memory it holds: the text and the
 * write request around it. */
/* Pending output past which a connection's requests are no longer read
 * until the client has read enough of its replies (backpressure): a client
 * that sends requests and never reads stalls itself, holding about this
 * much plus one reply, whatever it sends. */
#define SERVER_OUT_HIGH   (1u << 20)
/* Descriptors kept out of the clients' reach, so that idle clients cannot
 * take those trials need: a base for the database, log, lock, listener and
 * the loop's own, plus per worker what a trial holds while it is spawned
 * (three pipes of two ends, and libuv's exec-error pipe). Clients are
 * capped at RLIMIT_NOFILE less this reserve, and at least SERVER_MIN_CLIENTS. */
#define SERVER_FD_BASE       32
#define SERVER_FD_PER_TRIAL  8
#define SERVER_MIN_CLIENTS   4
/* Pending output of all connections together past which no connection
 * with output pending has its requests read, and watchers with more than
 * SERVER_WATCH_FLOOR pending are disconnected at their next event. */
#define SERVER_OUT_TOTAL  (32u << 20)
#define SERVER_WATCH_FLOOR (64u << 10)
/* Pending output that ends a watcher, whatever the total: 100 watchers
 * that stopped reading hold at most about SERVER_OUT_TOTAL together. */
#define SERVER_WATCH_CAP  (1u << 20)

struct server_config {
	const char *state_dir;     /* absolute; created 0700 by main */
	int workers;               /* >= 1: concurrent trials, all sweeps */
};

/* What the server does with one request line of a connection: the
 * protocol's ops (ops.c), given by the daemon's root (daemon.c) so that the
 * connection layer never names the ops layer above it. */
typedef void (*server_dispatch_fn)(struct server *s, struct conn *c,
				   const char *line, size_t len);

struct server {
	uv_loop_t *loop;           /* borrowed */
	server_dispatch_fn dispatch;
	struct db *db;             /* borrowed: the daemon's (daemon.h) */
	struct sched *sched;       /* borrowed: the daemon's scheduler */
	char *sock_path;           /* owned */
	int workers;

	uv_pipe_t listener;
	int listening;
	uv_signal_t sig_term, sig_int, sig_hup;
	int signals_on;

	struct conn *conns;        /* doubly linked */
	int n_conns;
	int max_clients;           /* connections past this are refused (busy) */
	int busy_logged;           /* this run of refusals was logged */
	long nofile;               /* RLIMIT_NOFILE (soft) at start-up, -1: none */
	double started_at;         /* unix seconds */
	int shutting_down;
	int closed;                /* handles closed, loop may end */

	size_t out_cost;           /* pending output of all connections */
	size_t out_peak;           /* its high mark since the last malloc_trim */
	struct ops_best_cache best; /* `best` answers kept (ops_best.h) */
	char readbuf[65536];       /* shared read buffer: callbacks consume it at once */
};

/* Fills s, to serve STATE_DIR/sweepd.sock from db and sched (borrowed).
 * 0, or -ENOMEM with a message in err. */
int server_init(struct server *s, uv_loop_t *loop, struct db *db,
		struct sched *sched, const struct server_config *cfg,
		char *err, size_t errlen);
/* Binds STATE_DIR/sweepd.sock (mode 0600) and starts accepting; installs
 * the SIGTERM/SIGINT/SIGHUP handlers. 0 or negative errno + err. */
int server_listen(struct server *s, char *err, size_t errlen);
/* Starts a graceful shutdown: no new clients or trials, running trials are
 * stopped and requeued, then every handle is closed and uv_run returns. */
void server_shutdown(struct server *s);
/* Called by the scheduler when the last running trial has ended during a
 * shutdown. */
void server_maybe_finish(struct server *s);
/* Frees what server_init acquired. Call after uv_run returned. */
void server_free(struct server *s);

/* Queues obj as one line to c. obj stays owned by the caller. 0 or -errno
 * (the connection is then being closed). */
int server_send(struct conn *c, const cJSON *obj);
/* Asks the deferred work to stop (on the loop thread): it still answers
 * through server_deferred_reply, at once or once it is done. */
typedef void server_cancel_fn(void *ud);
/* The reply to c's request being handled comes later, from work off the
 * loop (ops_imp.c): until server_deferred_reply, c's further requests are
 * not read (replies keep the order of the requests), an end of c (EOF,
 * shutdown) waits for that reply, and c stays allocated even if it is
 * closed. cancel (NULL: none) is called with ud when nobody waits any
 * more for the reply (c closed) or the daemon shuts down; it may be
 * called more than once. One deferred reply per connection at a time. */
void server_defer(struct conn *c, server_cancel_fn *cancel, void *ud);
/* Sends obj (borrowed; NULL: nothing) as c's deferred reply, unless c was
 * closed or ended meanwhile, and lets c go on: freed if it was closed,
 * ended if that was asked, else reading requests again. Exactly once per
 * server_defer. */
void server_deferred_reply(struct conn *c, const cJSON *obj);
/* Sends event to every connection watching sweep_id. Watchers whose
 * pending output passed SERVER_WATCH_CAP, or SERVER_WATCH_FLOOR while all
 * connections' passed SERVER_OUT_TOTAL, are disconnected instead. */
void server_broadcast(struct server *s, int64_t sweep_id, const cJSON *event);
/* True when any connection watches sweep_id (so callers can skip building
 * events nobody reads). */
int server_has_watchers(struct server *s, int64_t sweep_id);
/* Marks c as watching sweep_id. */
void server_watch(struct conn *c, int64_t sweep_id);
/* For `stats`: connections whose requests are not read while their pending
 * output is over SERVER_OUT_HIGH, and the bytes of output pending over all
 * connections. */
void server_output_stats(const struct server *s, int *paused, size_t *queued);

/* Test seam (fuzzing, unit tests): serves fd, one end of a connected
 * socket pair, as a client connection, without the uid check. The server
 * owns fd from then on. 0 or a negative libuv error. */
int server_adopt(struct server *s, int fd);

/* Wall clock in unix seconds. */
double server_now(void);

#endif
