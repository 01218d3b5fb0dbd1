/*
 * hold.h: starting trials is held during a storage outage, and for a
 * moment after a spawn failed for want of descriptors or processes.
 */
#ifndef SWEEPD_SCHED_HOLD_H
#define SWEEPD_SCHED_HOLD_H

struct sched;

/* Storage outages. A write that fails with -ENOSPC, -EROFS, -EIO or -EBUSY
 * is not the trial's or the client's fault: the daemon stops starting
 * trials, requeues the ones whose writes fail, keeps the ends it could not
 * store in memory, and redoes those writes every SCHED_STORAGE_RETRY_MS;
 * when they all succeed it resumes. Reads are served throughout. */
#define SCHED_STORAGE_RETRY_MS 3000
/* A trial that could not be spawned for want of descriptors or processes
 * (EMFILE, ENFILE, EAGAIN) is put back in its queue as it was, not failed
 * and not counted; starting trials is held this long, then tried again. */
#define SCHED_SPAWN_RETRY_MS 1000
/* 1 when rc is such a failure (the outage starts, or goes on; what, the
 * write that failed, is logged), 0 for any other rc. */
int sched_storage_failed(struct sched *s, int rc, const char *what);

/* The daemon's own want of descriptors or processes, not the trial's. */
int hold_spawn_transient(int rc);
/* Starts are held: the retry of a failed spawn has not come yet. */
int hold_spawn_waiting(const struct sched *s);
/* Holds every start for SCHED_SPAWN_RETRY_MS; logs the first failure of
 * a run of them only. */
void hold_spawn(struct sched *s, int rc, const char *msg);

#endif
