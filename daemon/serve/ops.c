/*
 * ops.c: one handler per client op, dispatched from a table.
 *
 * Handlers share one signature and do only their op: the dispatcher has
 * already resolved "sweep" when the op's flags ask for it. Reads come from
 * the database (so they see exactly what is stored); changes go through the
 * scheduler, which commits before the handler replies.
 */
#include "daemon/serve/ops.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/vocab.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"
#include "daemon/log.h"
#include "daemon/sched/manual.h"
#include "daemon/sched/control.h"
#include "daemon/sched/end.h"
#include "daemon/sched/state.h"
#include "daemon/sched/sweep.h"
#include "daemon/serve/request.h"
#include "daemon/serve/server.h"
#include "daemon/serve/stats.h"
#include "daemon/serve/ops_best.h"
#include "daemon/serve/ops_imp.h"
#include "daemon/serve/ops_tdir.h"
#include "daemon/search/spec.h"
#include "daemon/sched/trial.h"

#define SWEEPD_VERSION "0.1.0"

enum {
	OP_SWEEP    = 1 << 0,   /* needs "sweep": a positive integer id */
	OP_MUTATES  = 1 << 1,   /* refused while shutting down */
	OP_ACTIVE   = 1 << 2,   /* the sweep must be active (running/paused) */
	/* What follows a successful reply: */
	OP_THEN_ENDED    = 1 << 3,   /* "sweep_ended" if the sweep is not
				      * active (a watch of an ended sweep) */
	OP_THEN_SHUTDOWN = 1 << 4,   /* the daemon shuts down */
};

struct op_ctx {
	struct server *srv;
	struct conn *conn;
	const cJSON *req;
	int64_t sweep_id;          /* OP_SWEEP */
	struct sweep *sweep;       /* OP_ACTIVE: the active sweep */
	cJSON *reply;              /* owned by the dispatcher */
	char msg[1024];            /* error message when a handler fails */
};

/* A handler returns 0 (ctx->reply is sent), a negative errno (an error
 * reply with ctx->msg), or OP_REPLY_DEFERRED: it replies later itself
 * (server_defer). */
typedef int (*op_fn)(struct op_ctx *ctx);
#define OP_REPLY_DEFERRED 1

struct op_def {
	const char *name;
	op_fn fn;
	unsigned flags;
};

/* ---- helpers ---------------------------------------------------------- */

const char *
ops_error_code(int err)
{
	return wire_error_code(err);
}

void
ops_reply_error(struct conn *c, const cJSON *id, const char *code,
		const char *msg)
{
	cJSON *r = wire_error_reply(id, code, msg);

	if (!r)
		return;
	server_send(c, r);
	cJSON_Delete(r);
}

/* Objective mode of any sweep, active or ended. */
static int
sweep_mode_max(struct op_ctx *ctx, int *mode_max)
{
	struct sweep *sw = sched_find(ctx->srv->sched, ctx->sweep_id);
	cJSON *sum = NULL;
	const cJSON *mode;
	int rc;

	if (sw) {
		*mode_max = sw->spec->mode_max;
		return 0;
	}
	rc = wire_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
	if (rc < 0)
		goto out;
	mode = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(sum, "objective"), "mode");
	*mode_max = !(cJSON_IsString(mode) && strcmp(mode->valuestring, "min") == 0);
out:
	cJSON_Delete(sum);
	return rc;
}

/* A failed read's message for the client; storage trouble is logged too
 * (daemon/store/ never prints). */
static int
not_found(struct op_ctx *ctx, int rc)
{
	if (db_is_outage(rc))
		log_error("storage: %s: %s", db_last_error_func(ctx->srv->db),
			  db_last_error(ctx->srv->db));
	if (rc == -ENOENT)
		snprintf(ctx->msg, sizeof ctx->msg, "no sweep %lld",
			 (long long)ctx->sweep_id);
	else if (!ctx->msg[0])
		snprintf(ctx->msg, sizeof ctx->msg, "storage error: %s",
			 strerror(-rc));
	return rc;
}

/* ---- ops -------------------------------------------------------------- */

static int
op_ping(struct op_ctx *ctx)
{
	cJSON_AddStringToObject(ctx->reply, "version", SWEEPD_VERSION);
	cJSON_AddNumberToObject(ctx->reply, "pid", getpid());
	return 0;
}

static int
op_submit(struct op_ctx *ctx)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(ctx->req, "spec");
	int64_t id;
	int rc;

	if (!cJSON_IsObject(spec)) {
		snprintf(ctx->msg, sizeof ctx->msg,
			 "\"spec\" must be a JSON object (the sweep spec)");
		return -EINVAL;
	}
	rc = sched_submit(ctx->srv->sched, spec, &id, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	cJSON_AddNumberToObject(ctx->reply, "sweep_id", (double)id);
	return 0;
}

static int
op_sweeps(struct op_ctx *ctx)
{
	cJSON *arr;
	int rc = wire_sweeps_json(ctx->srv->db, &arr);

	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddItemToObject(ctx->reply, "sweeps", arr);
	return 0;
}

static int
op_sweep(struct op_ctx *ctx)
{
	cJSON *sum = NULL, *verdicts = NULL, *best = NULL;
	const cJSON *advice;
	int mode_max = 1, rc;

	rc = wire_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
	if (rc < 0)
		return not_found(ctx, rc);
	rc = wire_verdicts_json(ctx->srv->db, ctx->sweep_id, &verdicts);
	if (rc < 0)
		goto out;
	cJSON_AddItemToObject(sum, "verdicts", verdicts);
	rc = sweep_mode_max(ctx, &mode_max);
	if (rc < 0)
		goto out;
	rc = wire_best_json(ctx->srv->db, ctx->sweep_id, mode_max, &best);
	if (rc == -ENOENT) {
		cJSON_AddNullToObject(sum, "best_trial");
		cJSON_AddArrayToObject(sum, "advice");
		rc = 0;
	} else if (rc == 0) {
		advice = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(best, "diagnosis"), "advice");
		cJSON_AddItemToObject(sum, "advice", advice ?
			cJSON_Duplicate(advice, 1) : cJSON_CreateArray());
		cJSON_AddItemToObject(sum, "best_trial", best);
		best = NULL;
	} else {
		goto out;
	}
	rc = wire_front_add(ctx->srv->db, ctx->sweep_id,
			    cJSON_GetObjectItemCaseSensitive(sum, "spec"), 0, sum);
	if (rc < 0)
		goto out;
	cJSON_AddItemToObject(ctx->reply, "sweep", sum);
	sum = NULL;
	/* An outage holds every sweep still: say so where people look. */
	if (ctx->srv->sched->storage_rc)
		cJSON_AddItemToObject(ctx->reply, "storage",
				      stats_storage_json(ctx->srv->sched));
out:
	cJSON_Delete(sum);
	cJSON_Delete(best);
	return rc < 0 ? not_found(ctx, rc) : 0;
}

static int
check_sweep_exists(struct op_ctx *ctx)
{
	cJSON *sum = NULL;
	int rc;

	if (sched_find(ctx->srv->sched, ctx->sweep_id))
		return 0;
	rc = wire_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
	cJSON_Delete(sum);
	return rc;
}

/* All the trials, or a page of them: "limit" and "offset" (optional,
 * non-negative) cut the list in number order; "total" counts them all. */
static int
op_trials(struct op_ctx *ctx)
{
	cJSON *arr;
	int64_t limit, offset, total;
	int rc;

	rc = req_count(ctx->req, "limit", -1, &limit, ctx->msg, sizeof ctx->msg);
	if (rc == 0)
		rc = req_count(ctx->req, "offset", 0, &offset, ctx->msg,
			       sizeof ctx->msg);
	if (rc < 0)
		return rc;
	rc = check_sweep_exists(ctx);
	if (rc == 0)
		rc = wire_trials_page_json(ctx->srv->db, ctx->sweep_id, offset,
					 limit, &arr, &total);
	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddNumberToObject(ctx->reply, "total", (double)total);
	cJSON_AddItemToObject(ctx->reply, "trials", arr);
	return 0;
}

/* A page of the epochs table holds at most EPOCHS_PAGE_MAX rows and takes
 * at most about EPOCHS_PAGE_NS of the loop: a million rows are exported in
 * pages, each request short, the daemon's memory one page's worth. */
#define EPOCHS_PAGE_MAX 10000
#define EPOCHS_PAGE_NS  (20u * 1000000u)

/* One page of the sweep's epoch rows after "after", at most "limit"
 * (1..EPOCHS_PAGE_MAX, default the most); "next" is the cursor for the
 * page after it, null after the last row. */
static int
op_epochs(struct op_ctx *ctx)
{
	struct db_epoch_key after, next;
	cJSON *arr, *n;
	int64_t limit;
	int more, rc;

	rc = req_count(ctx->req, "limit", EPOCHS_PAGE_MAX, &limit, ctx->msg,
		       sizeof ctx->msg);
	if (rc == 0 && (limit < 1 || limit > EPOCHS_PAGE_MAX)) {
		snprintf(ctx->msg, sizeof ctx->msg, "\"limit\" must be an "
			 "integer from 1 to %d", EPOCHS_PAGE_MAX);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = req_epoch_key(ctx->req, &after, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	rc = check_sweep_exists(ctx);
	if (rc == 0)
		rc = wire_epochs_page_json(ctx->srv->db, ctx->sweep_id, &after,
					 limit, EPOCHS_PAGE_NS, &arr, &next,
					 &more);
	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddItemToObject(ctx->reply, "epochs", arr);
	n = more ? wire_epoch_key(&next) : cJSON_CreateNull();
	if (!cJSON_AddItemToObject(ctx->reply, "next", n))
		cJSON_Delete(n);
	return 0;
}

static int
op_trial(struct op_ctx *ctx)
{
	cJSON *t;
	int64_t number;
	int rc;

	rc = req_pos_int(ctx->req, "number", &number, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	rc = check_sweep_exists(ctx);
	if (rc < 0)
		return not_found(ctx, rc);
	rc = wire_trial_json(ctx->srv->db, ctx->sweep_id, number, &t);
	if (rc == -ENOENT) {
		snprintf(ctx->msg, sizeof ctx->msg, "sweep %lld has no trial %lld",
			 (long long)ctx->sweep_id, (long long)number);
		return rc;
	}
	if (rc < 0)
		return not_found(ctx, rc);
	ops_tdir_add(t, ctx->sweep_id);
	cJSON_AddItemToObject(ctx->reply, "trial", t);
	return 0;
}

/* artifacts: {"sweep":N,"number":n}, the files of the trial's directory. */
static int
op_artifacts(struct op_ctx *ctx)
{
	int64_t number;
	int rc = req_pos_int(ctx->req, "number", &number, ctx->msg,
			     sizeof ctx->msg);

	if (rc == 0)
		rc = check_sweep_exists(ctx);
	if (rc == -ENOENT && !ctx->msg[0])
		return not_found(ctx, rc);
	if (rc < 0)
		return rc;
	return ops_tdir_artifacts(ctx->srv, ctx->sweep_id, number, ctx->reply,
				  ctx->msg, sizeof ctx->msg);
}

/* clean: an ended sweep's trial directories, removed on request only. */
static int
op_clean(struct op_ctx *ctx)
{
	return ops_tdir_clean(ctx->srv, ctx->sweep_id, ctx->reply, ctx->msg,
			      sizeof ctx->msg);
}

/* best's message when no trial completed: "yet" only of an active sweep;
 * an ended one says how it ended and what became of its trials. */
static int
no_best(struct op_ctx *ctx)
{
	cJSON *sum = NULL;
	const cJSON *n;
	const char *st;

	/* the stored status: a cancelled sweep may still be stopping trials */
	if (wire_sweep_json(ctx->srv->db, ctx->sweep_id, &sum) < 0 ||
	    !(st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sum,
							"status"))) ||
	    vocab_sweep_active(vocab_sweep_parse(st))) {
		cJSON_Delete(sum);
		snprintf(ctx->msg, sizeof ctx->msg,
			 "sweep %lld has no completed trial yet",
			 (long long)ctx->sweep_id);
		return -ENOENT;
	}
	n = cJSON_GetObjectItemCaseSensitive(sum, "counts");
	snprintf(ctx->msg, sizeof ctx->msg, "sweep %lld ended (%s) with no "
		 "completed trial: %d failed, %d pruned, %d cancelled",
		 (long long)ctx->sweep_id, st,
		 cJSON_GetObjectItemCaseSensitive(n, "failed") ?
		 cJSON_GetObjectItemCaseSensitive(n, "failed")->valueint : 0,
		 cJSON_GetObjectItemCaseSensitive(n, "pruned") ?
		 cJSON_GetObjectItemCaseSensitive(n, "pruned")->valueint : 0,
		 cJSON_GetObjectItemCaseSensitive(n, "cancelled") ?
		 cJSON_GetObjectItemCaseSensitive(n, "cancelled")->valueint : 0);
	cJSON_Delete(sum);
	return -ENOENT;
}

/* A fresh `best` answer's members into answer: the trial, and with several
 * objectives (or an ended sweep's spec saying so) the Pareto front. */
static int
best_answer(struct op_ctx *ctx, const struct sweep *sw, cJSON *answer)
{
	cJSON *t;
	int mode_max = 1, rc;

	rc = sweep_mode_max(ctx, &mode_max);
	if (rc < 0)
		return not_found(ctx, rc);
	rc = wire_best_json(ctx->srv->db, ctx->sweep_id, mode_max, &t);
	if (rc == -ENOENT)
		return no_best(ctx);
	if (rc < 0)
		return not_found(ctx, rc);
	ops_tdir_add(t, ctx->sweep_id);
	cJSON_AddItemToObject(answer, "trial", t);
	if (!sw || sw->spec->n_objectives > 1)   /* and the Pareto front */
		rc = wire_front_add(ctx->srv->db, ctx->sweep_id, NULL, 1,
				    answer);
	return rc < 0 ? not_found(ctx, rc) : 0;
}

/* The answer kept since the database last changed (ops_best.h), else a
 * fresh one, kept for the next request. */
static int
op_best(struct op_ctx *ctx)
{
	struct sweep *sw = sched_find(ctx->srv->sched, ctx->sweep_id);
	struct ops_best_key key = {
		.gen = db_change_gen(ctx->srv->db), .active = sw != NULL,
		.n_objectives = sw ? sw->spec->n_objectives : 0,
	};
	cJSON *answer = NULL, *m;
	int rc = ops_best_add(&ctx->srv->best, ctx->sweep_id, &key,
			      ctx->reply);

	if (rc == 0 && !(answer = cJSON_CreateObject()))
		rc = -ENOMEM;
	if (rc == 0)
		rc = best_answer(ctx, sw, answer);
	if (rc == 0 && db_change_gen(ctx->srv->db) == key.gen) {
		ops_best_keep(&ctx->srv->best, ctx->sweep_id, &key, answer);
		/* printed once: the kept text, not the tree again */
		if (ops_best_add(&ctx->srv->best, ctx->sweep_id, &key,
				 ctx->reply) == 1)
			rc = 1;
	}
	while (rc == 0 && (m = answer->child))
		cJSON_AddItemToObject(ctx->reply, m->string,
				      cJSON_DetachItemViaPointer(answer, m));
	cJSON_Delete(answer);
	if (rc == -ENOMEM && !ctx->msg[0])
		snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
	return rc < 0 ? rc : 0;
}

/* Which params mattered, for the objective and for each verdict
 * (importance.h), over every trial of the sweep: on the thread pool, the
 * reply sent when it is done (ops_imp.h). */
static int
op_importance(struct op_ctx *ctx)
{
	int rc = ops_imp_start(ctx->srv, ctx->conn,
			       cJSON_GetObjectItemCaseSensitive(ctx->req, "id"),
			       ctx->sweep_id, ctx->msg, sizeof ctx->msg);

	return rc < 0 ? rc : OP_REPLY_DEFERRED;
}

/* Replies with the sweep's summary after a change of state. */
static int
reply_summary(struct op_ctx *ctx)
{
	cJSON *sum;
	int rc = wire_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);

	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddItemToObject(ctx->reply, "sweep", sum);
	return 0;
}

static int
op_cancel(struct op_ctx *ctx)
{
	int rc = sched_cancel(ctx->sweep, ctx->msg, sizeof ctx->msg);

	return rc < 0 ? rc : reply_summary(ctx);
}

static int
op_pause(struct op_ctx *ctx)
{
	int rc = sched_pause(ctx->sweep, ctx->msg, sizeof ctx->msg);

	return rc < 0 ? rc : reply_summary(ctx);
}

static int
op_resume(struct op_ctx *ctx)
{
	int rc = sched_resume(ctx->sweep, ctx->msg, sizeof ctx->msg);

	return rc < 0 ? rc : reply_summary(ctx);
}

static int
op_enqueue(struct op_ctx *ctx)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(ctx->req, "params");
	int n = 0, rc;

	if (!cJSON_IsObject(p) && !cJSON_IsArray(p)) {
		snprintf(ctx->msg, sizeof ctx->msg,
			 "\"params\" must be an object or an array of objects");
		return -EINVAL;
	}
	rc = sched_enqueue(ctx->sweep, p, &n, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	cJSON_AddNumberToObject(ctx->reply, "enqueued", n);
	return 0;
}

/* Ask and tell (manual.c): "number" names the trial, "attempt" (optional)
 * the run of it the client was handed. */
static int
op_ask(struct op_ctx *ctx)
{
	return manual_ask(ctx->sweep, ctx->reply, ctx->msg, sizeof ctx->msg);
}

static int
manual_op(struct op_ctx *ctx, int tell)
{
	int64_t number, attempt;
	int rc;

	rc = req_pos_int(ctx->req, "number", &number, ctx->msg, sizeof ctx->msg);
	if (rc == 0)
		rc = req_count(ctx->req, "attempt", 0, &attempt, ctx->msg,
			       sizeof ctx->msg);
	if (rc < 0)
		return rc;
	return (tell ? manual_tell : manual_report)(ctx->sweep, number, attempt,
			ctx->req, ctx->reply, ctx->msg, sizeof ctx->msg);
}

static int
op_report(struct op_ctx *ctx)
{
	return manual_op(ctx, 0);
}

static int
op_tell(struct op_ctx *ctx)
{
	return manual_op(ctx, 1);
}

/* The reply goes first, then the events: the dispatcher sends the reply
 * when the handler returns, so an ended sweep's sweep_ended is queued by
 * the dispatcher through ctx->srv once the reply is out (see ops_dispatch). */
/* rm: an ended sweep only (the dispatcher's OP_SWEEP check found the id;
 * sched_find is the active ones). The trials' directories stay: `clean`
 * (ops_tdir.c) removes them. */
static int
op_delete(struct op_ctx *ctx)
{
	int rc = check_sweep_exists(ctx);

	if (rc < 0)
		return not_found(ctx, rc);
	if (sched_find(ctx->srv->sched, ctx->sweep_id)) {
		snprintf(ctx->msg, sizeof ctx->msg, "sweep %lld is still active: "
			 "cancel it first", (long long)ctx->sweep_id);
		return -EALREADY;
	}
	rc = db_sweep_delete(ctx->srv->db, ctx->sweep_id);
	if (rc < 0)
		return not_found(ctx, rc);
	log_info("sweep %lld deleted", (long long)ctx->sweep_id);
	cJSON_AddNumberToObject(ctx->reply, "deleted", (double)ctx->sweep_id);
	return 0;
}

/* extend: {"sweep":N,"trials":K}, K more trials for an ended sweep. */
static int
op_extend(struct op_ctx *ctx)
{
	int64_t n;
	int rc = req_pos_int(ctx->req, "trials", &n, ctx->msg, sizeof ctx->msg);

	if (rc < 0)
		return rc;
	if ((rc = check_sweep_exists(ctx)) < 0)
		return not_found(ctx, rc);
	if (n > SPEC_MAX_TRIALS) {
		snprintf(ctx->msg, sizeof ctx->msg, "\"trials\" must be at most %d",
			 SPEC_MAX_TRIALS);
		return -EINVAL;
	}
	rc = sched_extend(ctx->srv->sched, ctx->sweep_id, (int)n, ctx->msg,
			  sizeof ctx->msg);
	return rc < 0 ? rc : reply_summary(ctx);
}

/* rerun: {"sweep":N,"number":K}, trial K again (same params and seed) as
 * a new trial of the ended sweep. */
static int
op_rerun(struct op_ctx *ctx)
{
	int64_t k;
	int n = 0, rc = req_pos_int(ctx->req, "number", &k, ctx->msg,
				    sizeof ctx->msg);

	if (rc < 0)
		return rc;
	if ((rc = check_sweep_exists(ctx)) < 0)
		return not_found(ctx, rc);
	rc = sched_rerun(ctx->srv->sched, ctx->sweep_id, k > INT_MAX ? INT_MAX : (int)k,
			 &n, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	cJSON_AddNumberToObject(ctx->reply, "number", n);
	cJSON_AddNumberToObject(ctx->reply, "rerun_of", (double)k);
	return 0;
}

static int
op_watch(struct op_ctx *ctx)
{
	int rc = reply_summary(ctx);

	if (rc < 0)
		return rc;
	if (sched_find(ctx->srv->sched, ctx->sweep_id))
		server_watch(ctx->conn, ctx->sweep_id);
	return 0;
}

static int
op_shutdown(struct op_ctx *ctx)
{
	(void)ctx;
	return 0;   /* the dispatcher starts the shutdown after replying */
}

static int
op_stats(struct op_ctx *ctx)
{
	return stats_fill(ctx->srv, ctx->reply);
}

static const struct op_def op_table[] = {
	{ "ping",     op_ping,     0 },
	{ "submit",   op_submit,   OP_MUTATES },
	{ "sweeps",   op_sweeps,   0 },
	{ "sweep",    op_sweep,    OP_SWEEP },
	{ "trials",   op_trials,   OP_SWEEP },
	{ "trial",    op_trial,    OP_SWEEP },
	{ "epochs",   op_epochs,   OP_SWEEP },
	{ "best",     op_best,     OP_SWEEP },
	{ "artifacts", op_artifacts, OP_SWEEP },
	{ "clean",    op_clean,    OP_SWEEP | OP_MUTATES },
	{ "importance", op_importance, OP_SWEEP },
	{ "cancel",   op_cancel,   OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "pause",    op_pause,    OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "resume",   op_resume,   OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "enqueue",  op_enqueue,  OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "watch",    op_watch,    OP_SWEEP | OP_THEN_ENDED },
	{ "ask",      op_ask,      OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "report",   op_report,   OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "tell",     op_tell,     OP_SWEEP | OP_MUTATES | OP_ACTIVE },
	{ "delete",   op_delete,   OP_SWEEP | OP_MUTATES },
	{ "extend",   op_extend,   OP_SWEEP | OP_MUTATES },
	{ "rerun",    op_rerun,    OP_SWEEP | OP_MUTATES },
	{ "stats",    op_stats,    0 },
	{ "shutdown", op_shutdown, OP_THEN_SHUTDOWN },
};

static const struct op_def *
op_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
		if (strcmp(op_table[i].name, name) == 0)
			return &op_table[i];
	return NULL;
}

/* Shared checks, in the order a client would fix them. */
static int
prepare(struct op_ctx *ctx, const struct op_def *op)
{
	int rc;

	if ((op->flags & OP_MUTATES) && ctx->srv->shutting_down) {
		snprintf(ctx->msg, sizeof ctx->msg, "sweepd is shutting down");
		return -ESHUTDOWN;
	}
	if (!(op->flags & OP_SWEEP))
		return 0;
	rc = req_pos_int(ctx->req, "sweep", &ctx->sweep_id, ctx->msg,
			 sizeof ctx->msg);
	if (rc < 0 || !(op->flags & OP_ACTIVE))
		return rc;
	ctx->sweep = sched_find(ctx->srv->sched, ctx->sweep_id);
	if (ctx->sweep)
		return 0;
	rc = check_sweep_exists(ctx);
	if (rc < 0)
		return not_found(ctx, rc);
	snprintf(ctx->msg, sizeof ctx->msg, "sweep %lld has already ended",
		 (long long)ctx->sweep_id);
	return -EALREADY;
}

static void
send_sweep_ended(struct op_ctx *ctx)
{
	const cJSON *sum = cJSON_GetObjectItemCaseSensitive(ctx->reply, "sweep");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(sum, "status");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(sum, "error");
	cJSON *ev = wire_ev_sweep("sweep_ended", ctx->sweep_id,
				  cJSON_IsString(st) ? st->valuestring : "unknown",
				  cJSON_IsString(error) ? error->valuestring : NULL);

	server_send(ctx->conn, ev);
	cJSON_Delete(ev);
}

void
ops_dispatch(struct server *s, struct conn *c, const char *line, size_t len)
{
	struct op_ctx ctx = { .srv = s, .conn = c };
	const struct op_def *op = NULL;
	cJSON *req = req_parse(line, len, ctx.msg, sizeof ctx.msg);
	const cJSON *id = NULL, *name;
	int rc;

	if (!req) {
		ops_reply_error(c, NULL, "bad_request", ctx.msg);
		goto out;
	}
	id = cJSON_GetObjectItemCaseSensitive(req, "id");
	name = cJSON_GetObjectItemCaseSensitive(req, "op");
	if (!cJSON_IsString(name)) {
		ops_reply_error(c, id, "bad_request",
				"missing field \"op\" (a string)");
		goto out;
	}
	op = op_lookup(name->valuestring);
	if (!op) {
		char msg[256];
		snprintf(msg, sizeof msg, "unknown op \"%.100s\"", name->valuestring);
		ops_reply_error(c, id, "unknown_op", msg);
		goto out;
	}
	ctx.req = req;
	ctx.reply = cJSON_CreateObject();
	if (id)
		cJSON_AddItemToObject(ctx.reply, "id", cJSON_Duplicate(id, 1));
	cJSON_AddTrueToObject(ctx.reply, "ok");
	rc = prepare(&ctx, op);
	if (rc == 0)
		rc = op->fn(&ctx);
	if (rc < 0) {
		if (!ctx.msg[0])
			snprintf(ctx.msg, sizeof ctx.msg, "%s", strerror(-rc));
		ops_reply_error(c, id, ops_error_code(rc), ctx.msg);
		goto out;
	}
	if (rc == OP_REPLY_DEFERRED)
		goto out;
	server_send(c, ctx.reply);
	if ((op->flags & OP_THEN_ENDED) && !sched_find(s->sched, ctx.sweep_id))
		send_sweep_ended(&ctx);
	if (op->flags & OP_THEN_SHUTDOWN) {
		log_info("shutdown requested by a client");
		server_shutdown(s);
	}
out:
	cJSON_Delete(ctx.reply);
	cJSON_Delete(req);
}
