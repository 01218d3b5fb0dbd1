/*
 * batch.h: group commit of the epochs the daemon reads in one turn of its
 * loop, and of the starts of the trials it spawns in it (docs/storage.md,
 * "Group commit"). A trial's epoch line, or its start row, joins the open
 * batch (daemon/store/db.h, db_batch_begin); the batch is committed before
 * the loop next waits in epoll (a uv_prepare handle), before a trial's end
 * is decided, before anything is sent to a client (the server settles it),
 * and before any other write (the store commits it first). The events of
 * its rows wait for that commit (sched_batch_tell). When the commit fails,
 * every trial with rows in it loses them (its curve is cut at its first
 * epoch in it) and is stopped for the outage and requeued, as a failed
 * epoch write stops it; the events of the batch are dropped.
 *
 * A trial's end and the row of the next trial it makes room for join it
 * too (a trial that ends, the next created and started: one commit):
 * see sched_batch_open.
 */
#ifndef SWEEPD_SCHED_BATCH_H
#define SWEEPD_SCHED_BATCH_H

#include <stdint.h>

#include <cJSON.h>

struct db;
struct sched;
struct trial;

/* Sets up and closes the prepare handle (sched_init, sched_close). */
void sched_batch_init(struct sched *s);
void sched_batch_close(struct sched *s);

/* What a write of a trial's stores: one of its epochs (and the live
 * diagnosis that goes with it), its start row, its row (created: no
 * trial is passed), or its end. */
enum sched_batch_row {
	SCHED_BATCH_EPOCH, SCHED_BATCH_START, SCHED_BATCH_CREATE,
	SCHED_BATCH_END
};

/* A write that joins the batch (db_trial_epoch*, db_trial_set_diagnosis*,
 * db_trial_start_batched): 0, or a negative errno. */
typedef int sched_batch_fn(struct db *db, void *ud);

/* t's row (an epoch: its number; otherwise epoch unused) joins the batch,
 * opened when none is open, and fn(db, ud) writes it in an inner level of
 * its own: kept when fn returns 0, rolled back otherwise, unless a
 * storage failure lost the whole batch (then nothing is left to end).
 * After sched_batch_close nothing is joined: fn's level is then the
 * outermost one and commits when it ends.
 * 0, or a negative errno: of the BEGIN, of fn, or of the level's end; for
 * an epoch also of a batch the store had ended meanwhile that lost rows
 * of t (t is stopped; fn is not run). When a start's batch is lost later,
 * t is stopped and requeued (above). */
int sched_batch_write(struct sched *s, struct trial *t, enum sched_batch_row row,
		      int epoch, sched_batch_fn *fn, void *ud);

/* The generation (db_batch_gen) of the batch batch.c holds open, 0 when
 * none is. A trial created in it records it (trial.h, create_gen): when
 * that batch is lost, so is the trial's row (its attempt is stopped, no
 * more of it is written under the id it had, and the outage's retry
 * creates the row again, end.c). An end that joins it (SCHED_BATCH_END)
 * sets the trial's end_gen: once it is committed the trial's end is
 * counted before the loop polls (end_count_stored); when it is lost the
 * end waits for the retry, as an end whose own write failed. */
uint64_t sched_batch_open(const struct sched *s);

/* ev (owned; NULL: nothing) to the watchers of sweep_id once the open
 * batch is committed, after the events told before it; at once when no
 * batch is open. Dropped when the batch is lost: a watcher hears only of
 * stored rows. */
void sched_batch_tell(struct sched *s, int64_t sweep_id, cJSON *ev);

/* Commits the open batch (0 when there is none) and sends its events. On
 * failure (or when it was lost since: a failed commit by another write, a
 * storage failure inside it) the trials of the batch are stopped (above),
 * its events dropped, and the failure returned: nothing of the batch may
 * be told then. */
int sched_batch_settle(struct sched *s);

#endif
