/*
 * daemon/wire/wire.h: the client protocol's objects, built in one place.
 *
 * Every reply object and watch event the daemon sends is built here, from
 * plain data: rows of the storage layer (daemon/store/db.h) or the small
 * structs below, never the scheduler's struct trial or struct sweep. The
 * members and their order are those of docs/DESIGN.md, "Client protocol";
 * a change to one is a change to both, in the same commit.
 *
 * Layer: below sched/ and serve/, above search/ and store/ (it includes
 * store/, search/ and common/ headers, never sched/ or serve/).
 *
 * Ownership: every cJSON returned (or stored in *out) is NEW and owned by
 * the caller (cJSON_Delete); NULL (or a negative errno) when building it
 * failed. Arguments are borrowed for the call.
 */
#ifndef SWEEPD_DAEMON_WIRE_H
#define SWEEPD_DAEMON_WIRE_H

#include <stdint.h>

#include <cJSON.h>

#include "common/report.h"
#include "daemon/store/db.h"

/* ---- errors ----------------------------------------------------------- */

/* The protocol's error code for a negative errno: storage trouble
 * (db_is_outage) is read_only, disk_full, locked or internal, never a state
 * error; -EALREADY is conflict, -EINVAL bad_request, and so on (DESIGN.md's
 * list). Static storage. */
const char *wire_error_code(int err);

/* {"id"?,"ok":false,"error":{"code","message"}}; id (a copy is taken) is
 * left out when NULL. */
cJSON *wire_error_reply(const cJSON *id, const char *code, const char *msg);

/* {"ok":true}, or while a hold lasts {"ok":false,"error","message","since",
 * count_name: count}: stats' "storage" (count_name "unstored") and "spawn"
 * ("held"). error NULL means no hold. */
cJSON *wire_hold(const char *error, const char *message, double since,
		 const char *count_name, double count);

/* ---- reads: the objects of trials, trial, best, sweeps, sweep ... ------ */
/* Each builds from the database's rows into *out (NULL on failure) and
 * returns 0 or the db_ call's negative errno (-ENOENT: no such row). */

/* Array of sweep summaries ordered by id:
 * {"id","name","status","created_at","ended_at","trials_total",
 *  "counts":{"queued","running","completed","failed","pruned","cancelled"},
 *  "objective":{"metric","mode"} (from the spec),
 *  "best":{"number","objective"} or null,
 *  "failures":[{"class","message","count"}], at most one here} */
int wire_sweeps_json(struct db *db, cJSON **out);
/* One summary as above plus "spec" (the parsed object) and "error", with up
 * to WIRE_FAILURES_DETAIL failure groups. -ENOENT for an unknown id. */
#define WIRE_FAILURES_DETAIL 10
int wire_sweep_json(struct db *db, int64_t id, cJSON **out);
/* [{"class","message","count"}], the largest group first, at most limit. */
int wire_failures_json(struct db *db, int64_t sweep_id, int limit,
		       cJSON **out);
/* Array ordered by number of trial objects:
 * {"id","number","status","attempt","params","seed","objective",
 *  "best_epoch","epochs","test_loss","test_acc","diagnosis",
 *  "note": null or a completed trial's remark on how it ended (stored as
 *  error class "note", storage.md),
 *  "error": null or {"class","message","exit_code","signal"},
 *  "started_at","ended_at"}. An unknown sweep gives an empty array. */
int wire_trials_json(struct db *db, int64_t sweep_id, cJSON **out);
/* One page of that array (db_trials_page) and in *total the number of
 * trials the sweep has. offset < 0 is -EINVAL. */
int wire_trials_page_json(struct db *db, int64_t sweep_id, int64_t offset,
			  int64_t limit, cJSON **out, int64_t *total);
/* One trial object plus "stderr_tail" and "curve": one object per epoch of
 * the trial's curve (db_curve: across attempts, the later one's row
 * winning), {"epoch":N, ...every stored metric}. -ENOENT. */
int wire_trial_json(struct db *db, int64_t sweep_id, int64_t number,
		    cJSON **out);
/* The best completed trial (db_best_get) as a trial object. -ENOENT. */
int wire_best_json(struct db *db, int64_t sweep_id, int mode_max,
		   cJSON **out);
/* Several objectives (k of them, 2..SPEC_MAX_OBJECTIVES): metrics[k] and
 * maximize[k] borrowed. */
struct wire_objectives {
	int k;
	const char *const *metrics;
	const int *maximize;
};
/* The Pareto front of the sweep's completed trials: an array, by number,
 * of the trial objects (as in wire_trials_json) of every non-dominated
 * completed trial, each with "values": [v1..vk], its value of each
 * objective at its best epoch of the first objective
 * (db_best_epoch_metrics). A trial lacking a finite value of an
 * objective there is left out. An empty array when none qualifies. */
int wire_front_json(struct db *db, int64_t sweep_id,
		    const struct wire_objectives *o, cJSON **out);
/* The same with the objectives read from a parsed spec object (borrowed;
 * "objectives":[{"metric","mode"}...]): *out NULL and 0 when it names
 * fewer than two (a single objective has no front). */
int wire_front_spec_json(struct db *db, int64_t sweep_id, const cJSON *spec,
			 cJSON **out);
/* That front as dst's "front" (nothing with one objective), with
 * with_objectives the spec's "objectives" too (what the values are, in
 * order); spec NULL: the sweep's stored spec. 0 or a negative errno. */
int wire_front_add(struct db *db, int64_t sweep_id, const cJSON *spec,
		   int with_objectives, cJSON *dst);
/* One page of the export's epoch rows, [{"number","attempt","epoch",
 * ...metrics}], after *after, at most limit (>= 1, else -EINVAL), fewer
 * when the page has taken budget_ns (0: no budget; checked every 64 rows).
 * *more is 1 when rows may follow (ask again after *next, the page's last
 * row), 0 when the page holds the last row. */
int wire_epochs_page_json(struct db *db, int64_t sweep_id,
			  const struct db_epoch_key *after, int64_t limit,
			  uint64_t budget_ns, cJSON **out,
			  struct db_epoch_key *next, int *more);
/* "next" of an epochs reply: {"number","attempt","epoch"}. */
cJSON *wire_epoch_key(const struct db_epoch_key *k);
/* {"good_fit": 3, "overfitting": 2, ...}: trials per diagnosis verdict. */
int wire_verdicts_json(struct db *db, int64_t sweep_id, cJSON **out);

/* ---- watch events ------------------------------------------------------ */

/* {"event":name,"sweep","status"} for sweep_paused and sweep_resumed;
 * sweep_ended adds "error" (null or why it failed or was cancelled), and
 * so does any event given an error. */
cJSON *wire_ev_sweep(const char *name, int64_t sweep, const char *status,
		     const char *error);
/* {"event":"trial_started","sweep","number","attempt","params","pending"};
 * params is the stored JSON text (null when it does not parse); pending:
 * a Slurm trial whose job waits in Slurm's queue. */
cJSON *wire_ev_trial_started(int64_t sweep, int number, int attempt,
			     const char *params_json, int pending);
/* {"event":"trial_running","sweep","number","attempt","queue_s"}: a
 * pending trial's job started after queue_s seconds in Slurm's queue. */
cJSON *wire_ev_trial_running(int64_t sweep, int number, int attempt,
			     double queue_s);
/* {"event":"epoch","sweep","number","epoch","metrics","objective",
 * "diagnosis"}: metrics (owned, taken even on failure) the report line's
 * as report_to_json made them, or NULL to make them here; diagnosis
 * (borrowed, copied) null when NULL. */
cJSON *wire_ev_epoch(int64_t sweep, int number, const struct report_line *r,
		     cJSON *metrics, double objective, const cJSON *diagnosis);

/* What a trial_ended event says. */
struct wire_trial_ended {
	int64_t sweep;
	int number;
	const char *status;          /* completed, failed, pruned, cancelled */
	double objective;            /* not finite: none */
	int best_epoch;              /* 0: none */
	int has_error;               /* failed or pruned: "error" is an object */
	const char *error_class;     /* NULL reads "exit" */
	const char *error_message;
	const cJSON *diagnosis;      /* borrowed; NULL: null */
};
/* {"event":"trial_ended","sweep","number","status","objective",
 * "best_epoch","error","diagnosis"}. */
cJSON *wire_ev_trial_ended(const struct wire_trial_ended *e);

#endif
