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
 */
#ifndef SWEEPD_SCHED_BATCH_H
#define SWEEPD_SCHED_BATCH_H

#include <stdint.h>

#include <cJSON.h>

struct sched;
struct trial;

/* Sets up and closes the prepare handle (sched_init, sched_close). */
void sched_batch_init(struct sched *s);
void sched_batch_close(struct sched *s);

/* Opens the batch when none is open and counts epoch (of t) in it; the
 * caller then stores the epoch in an inner level (db_batch_begin/end).
 * After sched_batch_close nothing is opened: the caller's level is then
 * the outermost one and commits when it ends. 0, or a negative errno: of
 * the BEGIN, or of a batch the store had ended meanwhile that lost rows of
 * t (t is stopped then). */
int sched_batch_join(struct sched *s, struct trial *t, int epoch);

/* The same for t's start row (the caller writes it with
 * db_trial_start_batched): when the batch is lost, t is stopped and
 * requeued. 0, or the BEGIN's negative errno. After sched_batch_close:
 * 0, nothing opened. */
int sched_batch_join_start(struct sched *s, struct trial *t);

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
