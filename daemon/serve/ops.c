/*
 * ops.c: one handler per client op, dispatched from a table.
 *
 * Handlers share one signature and do only their op: the dispatcher has
 * already resolved "sweep" when the op's flags ask for it. Reads come from
 * the database (so they see exactly what is stored); changes go through the
 * scheduler, which commits before the handler replies.
 */
#include "daemon/serve/ops.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "daemon/store/db.h"
#include "daemon/search/importance.h"
#include "daemon/log.h"
#include "daemon/sched/manual.h"
#include "daemon/sched/control.h"
#include "daemon/sched/end.h"
#include "daemon/sched/state.h"
#include "daemon/sched/sweep.h"
#include "daemon/serve/server.h"
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

typedef int (*op_fn)(struct op_ctx *ctx);

struct op_def {
	const char *name;
	op_fn fn;
	unsigned flags;
};

/* ---- helpers ---------------------------------------------------------- */

/* Storage trouble (db_is_outage) has a code of its own, never a state
 * error's: the client did nothing wrong and can retry once it is over. */
static const char *
storage_code(int err)
{
	switch (err) {
	case -EROFS:     return "read_only";
	case -ENOSPC:    return "disk_full";
	case -EBUSY:     return "locked";
	default:         return "internal";
	}
}

const char *
ops_error_code(int err)
{
	if (db_is_outage(err))
		return storage_code(err);
	switch (err) {
	case -EINVAL:    return "bad_request";
	case -ENOENT:    return "not_found";
	case -EALREADY:  return "conflict";
	case -ENOSYS:    return "unknown_op";
	case -E2BIG:     return "too_large";
	case -ESHUTDOWN: return "shutting_down";
	case -ENOMEM:    return "out_of_memory";
	default:         return "internal";
	}
}

void
ops_reply_error(struct conn *c, const cJSON *id, const char *code,
		const char *msg)
{
	cJSON *r = cJSON_CreateObject(), *e;

	if (!r)
		return;
	if (id)
		cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
	cJSON_AddFalseToObject(r, "ok");
	e = cJSON_AddObjectToObject(r, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	server_send(c, r);
	cJSON_Delete(r);
}

/* An integer member of at least min (0 or 1) and below 2^53, exactly
 * representable: 0, -ENOENT when absent, or -EINVAL naming it. */
static int
get_int(const cJSON *req, const char *name, int64_t min, int64_t *out,
	char *msg, size_t msglen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);

	if (!v)
		return -ENOENT;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min) ||
	    v->valuedouble >= JSON_EXACT_INT ||
	    v->valuedouble != floor(v->valuedouble)) {
		snprintf(msg, msglen, "\"%s\" must be a %s integer below "
			 "2^53", name, min > 0 ? "positive" : "non-negative");
		return -EINVAL;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* A positive integer member, or -EINVAL naming it. */
static int
get_pos_int(const cJSON *req, const char *name, int64_t *out, char *msg,
	    size_t msglen)
{
	int rc = get_int(req, name, 1, out, msg, msglen);

	if (rc == -ENOENT) {
		snprintf(msg, msglen, "missing field \"%s\"", name);
		rc = -EINVAL;
	}
	return rc;
}

/* An optional non-negative integer member: dflt when absent, else the
 * value, or -EINVAL naming it. */
static int
get_count(const cJSON *req, const char *name, int64_t dflt, int64_t *out,
	  char *msg, size_t msglen)
{
	int rc = get_int(req, name, 0, out, msg, msglen);

	if (rc == -ENOENT) {
		*out = dflt;
		rc = 0;
	}
	return rc;
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
	rc = db_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
	if (rc < 0)
		goto out;
	mode = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(sum, "objective"), "mode");
	*mode_max = !(cJSON_IsString(mode) && strcmp(mode->valuestring, "min") == 0);
out:
	cJSON_Delete(sum);
	return rc;
}

static int
not_found(struct op_ctx *ctx, int rc)
{
	if (rc == -ENOENT)
		snprintf(ctx->msg, sizeof ctx->msg, "no sweep %lld",
			 (long long)ctx->sweep_id);
	else if (!ctx->msg[0])
		snprintf(ctx->msg, sizeof ctx->msg, "storage error: %s",
			 strerror(-rc));
	return rc;
}

/* {"ok":true} or, during a storage outage, {"ok":false,"error":"disk_full",
 * "message","since","unstored"}: what stats and sweep say about storage. */
static cJSON *
storage_json(const struct sched *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "ok", !s->storage_rc);
	if (!s->storage_rc)
		return o;
	cJSON_AddStringToObject(o, "error", ops_error_code(s->storage_rc));
	cJSON_AddStringToObject(o, "message", s->storage_msg);
	cJSON_AddNumberToObject(o, "since", s->storage_since);
	cJSON_AddNumberToObject(o, "unstored", sched_unstored(s));
	return o;
}

/* {"ok":true} or, while trial starts are held for want of descriptors or
 * processes, {"ok":false,"error":"EMFILE","message","since","held"}. */
static cJSON *
spawn_json(const struct sched *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "ok", !s->spawn_rc);
	if (!s->spawn_rc)
		return o;
	cJSON_AddStringToObject(o, "error", uv_err_name(s->spawn_rc));
	cJSON_AddStringToObject(o, "message", s->spawn_msg);
	cJSON_AddNumberToObject(o, "since", s->spawn_since);
	cJSON_AddNumberToObject(o, "held", (double)s->spawn_held);
	return o;
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
	int rc = db_sweeps_json(ctx->srv->db, &arr);

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

	rc = db_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
	if (rc < 0)
		return not_found(ctx, rc);
	rc = db_verdicts_json(ctx->srv->db, ctx->sweep_id, &verdicts);
	if (rc < 0)
		goto out;
	cJSON_AddItemToObject(sum, "verdicts", verdicts);
	rc = sweep_mode_max(ctx, &mode_max);
	if (rc < 0)
		goto out;
	rc = db_best_json(ctx->srv->db, ctx->sweep_id, mode_max, &best);
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
	cJSON_AddItemToObject(ctx->reply, "sweep", sum);
	sum = NULL;
	/* An outage holds every sweep still: say so where people look. */
	if (ctx->srv->sched->storage_rc)
		cJSON_AddItemToObject(ctx->reply, "storage",
				      storage_json(ctx->srv->sched));
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
	rc = db_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
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

	rc = get_count(ctx->req, "limit", -1, &limit, ctx->msg, sizeof ctx->msg);
	if (rc == 0)
		rc = get_count(ctx->req, "offset", 0, &offset, ctx->msg,
			       sizeof ctx->msg);
	if (rc < 0)
		return rc;
	rc = check_sweep_exists(ctx);
	if (rc == 0)
		rc = db_trials_page_json(ctx->srv->db, ctx->sweep_id, offset,
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

/* "after": absent ({0, 0, 0}: from the first row), or a reply's "next". */
static int
get_epoch_key(const cJSON *req, struct db_epoch_key *k, char *msg,
	      size_t msglen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(req, "after");
	int64_t v[3];
	static const char *const names[] = { "number", "attempt", "epoch" };

	memset(k, 0, sizeof *k);
	if (!a)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (!cJSON_IsObject(a) ||
		    get_int(a, names[i], 0, &v[i], msg, msglen) < 0) {
			snprintf(msg, msglen, "\"after\" must be the \"next\" of "
				 "an epochs reply: {\"number\",\"attempt\","
				 "\"epoch\"}, non-negative integers");
			return -EINVAL;
		}
	}
	k->number = v[0];
	k->attempt = v[1];
	k->epoch = v[2];
	return 0;
}

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

	rc = get_count(ctx->req, "limit", EPOCHS_PAGE_MAX, &limit, ctx->msg,
		       sizeof ctx->msg);
	if (rc == 0 && (limit < 1 || limit > EPOCHS_PAGE_MAX)) {
		snprintf(ctx->msg, sizeof ctx->msg, "\"limit\" must be an "
			 "integer from 1 to %d", EPOCHS_PAGE_MAX);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = get_epoch_key(ctx->req, &after, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	rc = check_sweep_exists(ctx);
	if (rc == 0)
		rc = db_epochs_page_json(ctx->srv->db, ctx->sweep_id, &after,
					 limit, EPOCHS_PAGE_NS, &arr, &next,
					 &more);
	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddItemToObject(ctx->reply, "epochs", arr);
	if (!more) {
		cJSON_AddNullToObject(ctx->reply, "next");
		return 0;
	}
	n = cJSON_AddObjectToObject(ctx->reply, "next");
	cJSON_AddNumberToObject(n, "number", (double)next.number);
	cJSON_AddNumberToObject(n, "attempt", (double)next.attempt);
	cJSON_AddNumberToObject(n, "epoch", (double)next.epoch);
	return 0;
}

static int
op_trial(struct op_ctx *ctx)
{
	cJSON *t;
	int64_t number;
	int rc;

	rc = get_pos_int(ctx->req, "number", &number, ctx->msg, sizeof ctx->msg);
	if (rc < 0)
		return rc;
	rc = check_sweep_exists(ctx);
	if (rc < 0)
		return not_found(ctx, rc);
	rc = db_trial_json(ctx->srv->db, ctx->sweep_id, number, &t);
	if (rc == -ENOENT) {
		snprintf(ctx->msg, sizeof ctx->msg, "sweep %lld has no trial %lld",
			 (long long)ctx->sweep_id, (long long)number);
		return rc;
	}
	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddItemToObject(ctx->reply, "trial", t);
	return 0;
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
	if (db_sweep_json(ctx->srv->db, ctx->sweep_id, &sum) < 0 ||
	    !(st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sum,
							"status"))) ||
	    strcmp(st, "running") == 0 || strcmp(st, "paused") == 0) {
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

static int
op_best(struct op_ctx *ctx)
{
	cJSON *t;
	int mode_max = 1, rc;

	rc = sweep_mode_max(ctx, &mode_max);
	if (rc < 0)
		return not_found(ctx, rc);
	rc = db_best_json(ctx->srv->db, ctx->sweep_id, mode_max, &t);
	if (rc == -ENOENT)
		return no_best(ctx);
	if (rc < 0)
		return not_found(ctx, rc);
	cJSON_AddItemToObject(ctx->reply, "trial", t);
	return 0;
}

/* Which params mattered, for the objective and for each verdict
 * (importance.h), over every trial of the sweep. */
static int
op_importance(struct op_ctx *ctx)
{
	struct sweep *sw = sched_find(ctx->srv->sched, ctx->sweep_id);
	struct spec *parsed = NULL;
	cJSON *sum = NULL, *trials = NULL, *imp = NULL;
	int rc;

	rc = db_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);
	if (rc == 0 && !sw)
		rc = spec_parse(cJSON_GetObjectItemCaseSensitive(sum, "spec"), &parsed,
				ctx->msg, sizeof ctx->msg);
	if (rc == 0)
		rc = db_trials_json(ctx->srv->db, ctx->sweep_id, &trials);
	if (rc == 0)
		rc = importance_json(sw ? sw->spec : parsed, trials, &imp);
	if (rc == 0)
		cJSON_AddItemToObject(ctx->reply, "importance", imp);
	spec_free(parsed);
	cJSON_Delete(sum);
	cJSON_Delete(trials);
	return rc < 0 ? not_found(ctx, rc) : 0;
}

/* Replies with the sweep's summary after a change of state. */
static int
reply_summary(struct op_ctx *ctx)
{
	cJSON *sum;
	int rc = db_sweep_json(ctx->srv->db, ctx->sweep_id, &sum);

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

	rc = get_pos_int(ctx->req, "number", &number, ctx->msg, sizeof ctx->msg);
	if (rc == 0)
		rc = get_count(ctx->req, "attempt", 0, &attempt, ctx->msg,
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
 * sched_find is the active ones). No per-trial files exist yet, so the
 * rows are all there is. */
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
	int rc = get_pos_int(ctx->req, "trials", &n, ctx->msg, sizeof ctx->msg);

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
	int n = 0, rc = get_pos_int(ctx->req, "number", &k, ctx->msg,
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

static long
self_rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int
self_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own fd */
}

static int
op_stats(struct op_ctx *ctx)
{
	struct server *s = ctx->srv;
	const struct sched *k = s->sched;
	int queued = 0, active = 0, paused;
	size_t out;

	for (struct sweep *sw = k->sweeps; sw; sw = sw->next) {
		active++;
		for (struct trial *t = sw->queue; t; t = t->next)
			queued++;
	}
	cJSON_AddNumberToObject(ctx->reply, "uptime_s", server_now() - s->started_at);
	cJSON_AddNumberToObject(ctx->reply, "rss_kb", (double)self_rss_kb());
	cJSON_AddNumberToObject(ctx->reply, "open_fds", self_open_fds());
	cJSON_AddNumberToObject(ctx->reply, "running", k->n_running);
	cJSON_AddNumberToObject(ctx->reply, "queued", queued);
	cJSON_AddNumberToObject(ctx->reply, "trials_run", (double)k->trials_run);
	cJSON_AddNumberToObject(ctx->reply, "sweeps_active", active);
	cJSON_AddNumberToObject(ctx->reply, "clients", s->n_conns);
	cJSON_AddNumberToObject(ctx->reply, "max_clients", s->max_clients);
	cJSON_AddNumberToObject(ctx->reply, "nofile", (double)s->nofile);
	server_output_stats(s, &paused, &out);
	cJSON_AddNumberToObject(ctx->reply, "paused_clients", paused);
	cJSON_AddNumberToObject(ctx->reply, "queued_output_bytes", (double)out);
	cJSON_AddNumberToObject(ctx->reply, "workers", s->workers);
	cJSON_AddItemToObject(ctx->reply, "storage", storage_json(k));
	cJSON_AddItemToObject(ctx->reply, "spawn", spawn_json(k));
	if (k->cg_base)
		cJSON_AddStringToObject(ctx->reply, "trial_cgroups", k->cg_base);
	else
		cJSON_AddNullToObject(ctx->reply, "trial_cgroups");
	return 0;
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
	rc = get_pos_int(ctx->req, "sweep", &ctx->sweep_id, ctx->msg,
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
	cJSON *ev = cJSON_CreateObject();

	cJSON_AddStringToObject(ev, "event", "sweep_ended");
	cJSON_AddNumberToObject(ev, "sweep", (double)ctx->sweep_id);
	cJSON_AddStringToObject(ev, "status",
				cJSON_IsString(st) ? st->valuestring : "unknown");
	if (cJSON_IsString(error))
		cJSON_AddStringToObject(ev, "error", error->valuestring);
	else
		cJSON_AddNullToObject(ev, "error");
	server_send(ctx->conn, ev);
	cJSON_Delete(ev);
}

/*
 * The request on a line: one JSON object and nothing after it but white
 * space, in valid UTF-8 without "\u0000" (cJSON would cut the string
 * there), whose "id", when a number, is an integer a double holds exactly
 * (the reply echoes it). NULL with a message otherwise.
 */
static cJSON *
parse_request(const char *line, size_t len, char *msg, size_t msglen)
{
	const char *end = NULL;
	const cJSON *id;
	cJSON *req;
	char why[128];

	if (json_check_text(line, len, why, sizeof why) < 0) {
		snprintf(msg, msglen, "request refused: %s", why);
		return NULL;
	}
	req = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!req || !cJSON_IsObject(req)) {
		snprintf(msg, msglen, "request is not a JSON object");
		goto fail;
	}
	while (end < line + len && (*end == ' ' || *end == '\t' ||
				    *end == '\r' || *end == '\n'))
		end++;
	if (end < line + len) {
		snprintf(msg, msglen, "data after the request object (at byte "
			 "%zu): one JSON object per line", (size_t)(end - line));
		goto fail;
	}
	id = cJSON_GetObjectItemCaseSensitive(req, "id");
	if (cJSON_IsNumber(id) && !(fabs(id->valuedouble) < JSON_EXACT_INT &&
				    id->valuedouble == floor(id->valuedouble))) {
		snprintf(msg, msglen, "\"id\" must be a string or an integer "
			 "below 2^53 in magnitude (the reply could not echo it "
			 "exactly)");
		goto fail;
	}
	return req;
fail:
	cJSON_Delete(req);
	return NULL;
}

void
ops_dispatch(struct server *s, struct conn *c, const char *line, size_t len)
{
	struct op_ctx ctx = { .srv = s, .conn = c };
	const struct op_def *op = NULL;
	cJSON *req = parse_request(line, len, ctx.msg, sizeof ctx.msg);
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
