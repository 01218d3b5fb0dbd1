/*
 * hold.c: the storage-outage hold and the spawn hold (hold.h). What the
 * retries do is the scheduler's: end.c redoes the writes, scheduler.c
 * kicks (their callbacks are in struct sched, set by init.c).
 */
#include "daemon/sched/hold.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"

/* The daemon's own want of descriptors or processes, not the trial's. */
int
hold_spawn_transient(int rc)
{
	/* ENOSPC, EROFS: the trial's directory cannot be made (resume.h),
	 * a storage outage of the trial root's: held as the database's are */
	return rc == UV_EMFILE || rc == UV_ENFILE || rc == UV_EAGAIN ||
	       rc == UV_ENOSPC || rc == UV_EROFS;
}

/* Starts are held: the retry of a failed spawn has not come yet. */
int
hold_spawn_waiting(const struct sched *s)
{
	return s->spawn_timer_on &&
	       uv_is_active((const uv_handle_t *)&s->spawn_timer);
}

/* Holds every start for SCHED_SPAWN_RETRY_MS; logs the first failure of
 * a run of them only. */
void
hold_spawn(struct sched *s, int rc, const char *msg)
{
	if (!s->spawn_rc) {
		s->spawn_since = sched_now();
		snprintf(s->spawn_msg, sizeof s->spawn_msg, "%s", msg);
		log_error("cannot start trials: %s; the trial is put back in "
			  "its queue, not failed, and starts are retried every "
			  "%d ms", msg, SCHED_SPAWN_RETRY_MS);
	}
	s->spawn_rc = rc;
	s->spawn_held++;
	if (s->spawn_timer_on)
		uv_timer_start(&s->spawn_timer, s->spawn_retry,
			       SCHED_SPAWN_RETRY_MS, 0);
}

int
sched_storage_failed(struct sched *s, int rc, const char *what)
{
	if (!db_is_outage(rc))
		return 0;
	if (s->storage_rc)
		return 1;
	s->storage_rc = rc;
	s->storage_since = sched_now();
	snprintf(s->storage_msg, sizeof s->storage_msg, "cannot store %s: %s",
		 what, db_last_error(s->db));
	log_error("storage: %s; no trial starts until writes go through "
		  "again (retried every %d s)", s->storage_msg,
		  SCHED_STORAGE_RETRY_MS / 1000);
	if (s->storage_timer_on)
		uv_timer_start(&s->storage_timer, s->storage_retry,
			       SCHED_STORAGE_RETRY_MS, SCHED_STORAGE_RETRY_MS);
	return 1;
}
