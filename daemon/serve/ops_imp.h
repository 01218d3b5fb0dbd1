/*
 * ops_imp.h: the `importance` op, computed on libuv's thread pool.
 *
 * Over a 10,000-trial sweep the answer (reading every trial, then
 * importance_json) takes a pause the loop cannot afford: every client
 * would wait for it. The loop only queues the job; a pool thread opens its
 * own read-only connection to the database (db_open_reader), reads the
 * trials and then the sweep (so a sweep deleted meanwhile is not_found,
 * never a half answer), parses the stored spec and computes; the reply is
 * sent from the loop thread. The job borrows nothing the loop may change
 * or free: it owns its connection, its rows and its spec. The client's
 * connection is held meanwhile (server_defer): its further requests wait,
 * so its replies keep their order, while other connections are served.
 * A connection closed meanwhile cancels a job not yet started (uv_cancel)
 * and drops the reply; a shutdown cancels those not started (their reply
 * is `shutting_down`) and waits for those running (uv_run returns once
 * every job's after-work has run).
 */
#ifndef SWEEPD_DAEMON_OPS_IMP_H
#define SWEEPD_DAEMON_OPS_IMP_H

#include <stdint.h>

#include <cJSON.h>

struct server;
struct conn;

/*
 * Starts answering request id (borrowed; copied) of c for sweep_id: the
 * reply comes later through server_deferred_reply. 0 (the reply is
 * deferred) or a negative errno (nothing started; the caller replies the
 * error, msg[msglen] says what).
 */
int ops_imp_start(struct server *s, struct conn *c, const cJSON *id,
		  int64_t sweep_id, char *msg, size_t msglen);

#endif
