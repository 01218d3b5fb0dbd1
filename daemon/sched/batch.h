/*
 * batch.h: group commit of the epochs the daemon reads in one turn of its
 * loop (docs/storage.md, "Group commit"). A trial's epoch line joins the
 * open batch (daemon/store/db.h, db_batch_begin); the batch is committed
 * before the loop next waits in epoll (a uv_prepare handle), before a
 * watcher is told of an epoch, and before any other write (the store
 * commits it first). When the commit fails, every trial with an epoch in
 * it loses the epochs from its first one in the batch (its curve is cut
 * there) and is stopped for the outage, as a failed epoch write stops it.
 */
#ifndef SWEEPD_SCHED_BATCH_H
#define SWEEPD_SCHED_BATCH_H

struct sched;
struct trial;

/* Sets up and closes the prepare handle (sched_init, sched_close). */
void sched_batch_init(struct sched *s);
void sched_batch_close(struct sched *s);

/* Opens the batch when none is open and counts epoch (of t) in it; the
 * caller then stores the epoch in an inner level (db_batch_begin/end).
 * After sched_batch_close nothing is opened: the caller's level is then
 * the outermost one and commits when it ends. 0, or the negative errno
 * of the BEGIN. */
int sched_batch_join(struct sched *s, struct trial *t, int epoch);

/* Commits the open batch; 0 when there is none. On failure (or when it was
 * lost since: a failed commit by another write, a storage failure inside
 * it) the trials of the batch are stopped (above) and the failure
 * returned: nothing of the batch may be told then. */
int sched_batch_settle(struct sched *s);

#endif
