/*
 * ops_imp.c: the `importance` op on libuv's thread pool (ops_imp.h).
 *
 * The pool thread touches only the job: its own database connection, the
 * rows it reads, the spec it parses and the answer it builds (cJSON and
 * SQLite allocate with malloc, which is thread-safe; cJSON_Parse also
 * writes cJSON's global error position, which sweepd never reads).
 * Logging, the reply and every free of the job happen on the loop thread,
 * in after_work.
 */
#include "daemon/serve/ops_imp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "daemon/log.h"
#include "daemon/search/importance.h"
#include "daemon/search/spec.h"
#include "daemon/serve/server.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

struct imp_job {
	uv_work_t req;
	struct conn *conn;         /* borrowed, held by server_defer */
	struct db *db;             /* borrowed: the loop's, for its path */
	cJSON *id;                 /* owned: the request's id, or NULL */
	int64_t sweep_id;
	int rc;                    /* the work's: 0 or a negative errno */
	int outage;                /* rc is a storage failure (logged) */
	cJSON *imp;                /* owned: the answer when rc is 0 */
	char msg[1024];            /* why, when rc < 0 */
};

/* The sweep's spec, parsed from what is stored. */
static int
read_spec(struct imp_job *j, struct db *r, struct spec **sp)
{
	cJSON *sum = NULL;
	int rc = wire_sweep_json(r, j->sweep_id, &sum);

	if (rc == 0)
		rc = spec_parse(cJSON_GetObjectItemCaseSensitive(sum, "spec"), sp,
				j->msg, sizeof j->msg);
	cJSON_Delete(sum);
	return rc;
}

/* On a pool thread: reads the trials, then the sweep (a sweep deleted
 * between the two is not found), and computes. */
static void
work(uv_work_t *req)
{
	struct imp_job *j = req->data;
	struct spec *sp = NULL;
	cJSON *trials = NULL;
	struct db *r = NULL;
	int rc;

	rc = db_open_reader(j->db, &r, j->msg, sizeof j->msg);
	if (rc == 0)
		rc = wire_trials_json(r, j->sweep_id, &trials);
	if (rc == 0)
		rc = read_spec(j, r, &sp);
	if (rc == 0)
		rc = importance_json(sp, trials, &j->imp);
	if (rc < 0 && r && !j->msg[0] && rc != -ENOENT) {
		j->outage = db_is_outage(rc);
		snprintf(j->msg, sizeof j->msg, "storage error: %s: %s",
			 db_last_error_func(r), db_last_error(r));
	}
	j->rc = rc;
	spec_free(sp);
	cJSON_Delete(trials);
	db_close(r);
}

static cJSON *
reply_of(struct imp_job *j, int status)
{
	cJSON *r;

	if (status == UV_ECANCELED) {
		j->rc = -ESHUTDOWN;
		snprintf(j->msg, sizeof j->msg, "sweepd is shutting down");
	}
	if (j->rc == -ENOENT)
		snprintf(j->msg, sizeof j->msg, "no sweep %lld",
			 (long long)j->sweep_id);
	if (j->rc < 0) {
		if (!j->msg[0])
			snprintf(j->msg, sizeof j->msg, "%s", strerror(-j->rc));
		return wire_error_reply(j->id, wire_error_code(j->rc), j->msg);
	}
	r = cJSON_CreateObject();
	if (!r)
		return NULL;
	if (j->id)
		cJSON_AddItemToObject(r, "id", cJSON_Duplicate(j->id, 1));
	cJSON_AddTrueToObject(r, "ok");
	cJSON_AddItemToObject(r, "importance", j->imp);
	j->imp = NULL;
	return r;
}

/* On the loop: the reply (dropped by the server if the client went). */
static void
after_work(uv_work_t *req, int status)
{
	struct imp_job *j = req->data;
	cJSON *reply;

	if (j->outage)
		log_error("importance of sweep %lld: %s", (long long)j->sweep_id,
			  j->msg);
	reply = reply_of(j, status);
	server_deferred_reply(j->conn, reply);
	cJSON_Delete(reply);
	cJSON_Delete(j->imp);
	cJSON_Delete(j->id);
	free(j);
}

/* The connection went or the daemon stops: a job not started yet is
 * cancelled (after_work then runs with UV_ECANCELED); one running is
 * waited for (uv_cancel fails, harmlessly). */
static void
cancel(void *ud)
{
	struct imp_job *j = ud;

	uv_cancel((uv_req_t *)&j->req);
}

int
ops_imp_start(struct server *s, struct conn *c, const cJSON *id,
	      int64_t sweep_id, char *msg, size_t msglen)
{
	struct imp_job *j = calloc(1, sizeof *j);
	int rc = -ENOMEM;

	if (!j || (id && !(j->id = cJSON_Duplicate(id, 1)))) {
		snprintf(msg, msglen, "out of memory");
		goto fail;
	}
	j->req.data = j;
	j->conn = c;
	j->db = s->db;
	j->sweep_id = sweep_id;
	rc = uv_queue_work(s->loop, &j->req, work, after_work);
	if (rc < 0) {
		snprintf(msg, msglen, "cannot start the computation: %s",
			 uv_strerror(rc));
		goto fail;
	}
	server_defer(c, cancel, j);
	return 0;
fail:
	if (j)
		cJSON_Delete(j->id);
	free(j);
	return rc;
}
