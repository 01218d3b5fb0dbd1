/*
 * daemon/wire/wire.c: the protocol's error codes, error replies, hold
 * objects and watch events (contract in wire.h; the protocol in
 * docs/DESIGN.md, "Client protocol"). The objects read from the database
 * are built in wire_read.c.
 */
#include "daemon/wire/wire.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/vocab.h"

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
wire_error_code(int err)
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

cJSON *
wire_error_reply(const cJSON *id, const char *code, const char *msg)
{
	cJSON *r = cJSON_CreateObject(), *e;

	if (!r)
		return NULL;
	if (id)
		cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
	cJSON_AddFalseToObject(r, "ok");
	e = cJSON_AddObjectToObject(r, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	return r;
}

cJSON *
wire_hold(const char *error, const char *message, double since,
	  const char *count_name, double count)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "ok", !error);
	if (!error)
		return o;
	cJSON_AddStringToObject(o, "error", error);
	cJSON_AddStringToObject(o, "message", message);
	cJSON_AddNumberToObject(o, "since", since);
	cJSON_AddNumberToObject(o, count_name, count);
	return o;
}

/* ---- watch events ------------------------------------------------------ */

cJSON *
wire_ev_sweep(const char *name, int64_t sweep, const char *status,
	      const char *error)
{
	cJSON *ev = cJSON_CreateObject();

	if (!ev)
		return NULL;
	cJSON_AddStringToObject(ev, "event", name);
	cJSON_AddNumberToObject(ev, "sweep", (double)sweep);
	cJSON_AddStringToObject(ev, "status", status);
	if (error)
		cJSON_AddStringToObject(ev, "error", error);
	else if (strcmp(name, "sweep_ended") == 0)
		cJSON_AddNullToObject(ev, "error");
	return ev;
}

/* A trial's event: {"event": name, "sweep": sweep, "number": number};
 * owned by the caller, NULL without memory. */
static cJSON *
ev_trial(const char *name, int64_t sweep, int number)
{
	cJSON *ev = cJSON_CreateObject();

	if (!ev)
		return NULL;
	cJSON_AddStringToObject(ev, "event", name);
	cJSON_AddNumberToObject(ev, "sweep", (double)sweep);
	cJSON_AddNumberToObject(ev, "number", number);
	return ev;
}

cJSON *
wire_ev_trial_started(int64_t sweep, int number, int attempt,
		      const char *params_json, int pending)
{
	cJSON *ev = ev_trial("trial_started", sweep, number), *params;

	if (!ev)
		return NULL;
	cJSON_AddNumberToObject(ev, "attempt", attempt);
	params = params_json ? cJSON_Parse(params_json) : NULL;
	cJSON_AddItemToObject(ev, "params", params ? params : cJSON_CreateNull());
	cJSON_AddBoolToObject(ev, "pending", pending);
	return ev;
}

cJSON *
wire_ev_trial_running(int64_t sweep, int number, int attempt, double queue_s)
{
	cJSON *ev = ev_trial("trial_running", sweep, number);

	if (!ev)
		return NULL;
	cJSON_AddNumberToObject(ev, "attempt", attempt);
	cJSON_AddNumberToObject(ev, "queue_s", queue_s);
	return ev;
}

/* A copy of diagnosis, or null. */
static cJSON *
diagnosis_or_null(const cJSON *diagnosis)
{
	return diagnosis ? cJSON_Duplicate(diagnosis, 1) : cJSON_CreateNull();
}

cJSON *
wire_ev_epoch(int64_t sweep, int number, const struct report_line *r,
	      cJSON *metrics, double objective, const cJSON *diagnosis)
{
	cJSON *ev = ev_trial("epoch", sweep, number);

	if (!ev) {
		cJSON_Delete(metrics);
		return NULL;
	}
	cJSON_AddNumberToObject(ev, "epoch", r->epoch);
	cJSON_AddItemToObject(ev, "metrics", metrics ? metrics : report_to_json(r));
	cJSON_AddNumberToObject(ev, "objective", objective);
	cJSON_AddItemToObject(ev, "diagnosis", diagnosis_or_null(diagnosis));
	return ev;
}

cJSON *
wire_ev_trial_ended(const struct wire_trial_ended *e)
{
	cJSON *ev = ev_trial("trial_ended", e->sweep, e->number), *err;

	if (!ev)
		return NULL;
	cJSON_AddStringToObject(ev, "status", e->status);
	if (isfinite(e->objective))
		cJSON_AddNumberToObject(ev, "objective", e->objective);
	else
		cJSON_AddNullToObject(ev, "objective");
	if (e->best_epoch)
		cJSON_AddNumberToObject(ev, "best_epoch", e->best_epoch);
	else
		cJSON_AddNullToObject(ev, "best_epoch");
	if (e->has_error) {
		err = cJSON_AddObjectToObject(ev, "error");
		cJSON_AddStringToObject(err, "class",
					e->error_class ? e->error_class :
					vocab_class_name(CLASS_EXIT));
		cJSON_AddStringToObject(err, "message", e->error_message);
	} else {
		cJSON_AddNullToObject(ev, "error");
	}
	cJSON_AddItemToObject(ev, "diagnosis", diagnosis_or_null(e->diagnosis));
	return ev;
}
