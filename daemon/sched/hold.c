/*
 * hold.c: the storage-outage hold and retry, and the spawn hold (hold.h).
 */
#include "daemon/sched/hold.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/sched/end.h"
#include "daemon/sched/scheduler.h"
#include "daemon/sched/trial.h"
#include "daemon/serve/server.h"
#include "daemon/store/db.h"

/* The daemon's own want of descriptors or processes, not the trial's. */
int
hold_spawn_transient(int rc)
{
	return rc == UV_EMFILE || rc == UV_ENFILE || rc == UV_EAGAIN;
}

static void
on_spawn_retry(uv_timer_t *tm)
{
	sched_kick(tm->data);
}

/* Starts are held: the retry of a failed spawn has not come yet. */
int
hold_spawn_waiting(const struct server *s)
{
	return s->spawn_timer_on &&
	       uv_is_active((const uv_handle_t *)&s->spawn_timer);
}

/* Holds every start for SCHED_SPAWN_RETRY_MS; logs the first failure of
 * a run of them only. */
void
hold_spawn(struct server *s, int rc, const char *msg)
{
	if (!s->spawn_rc) {
		s->spawn_since = server_now();
		snprintf(s->spawn_msg, sizeof s->spawn_msg, "%s", msg);
		log_error("cannot start trials: %s; the trial is put back in "
			  "its queue, not failed, and starts are retried every "
			  "%d ms", msg, SCHED_SPAWN_RETRY_MS);
	}
	s->spawn_rc = rc;
	s->spawn_held++;
	if (s->spawn_timer_on)
		uv_timer_start(&s->spawn_timer, on_spawn_retry,
			       SCHED_SPAWN_RETRY_MS, 0);
}

/* Without anything to redo, a write of what is stored already tells
 * whether writes go through again (a sweep's own status). */
static int
probe_write(struct server *s)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		if (!sw->ending)
			return db_sweep_set_status(s->db, sw->id,
						   sched_status_name(sw->status),
						   NULL, server_now());
	return 0;
}

static void
on_storage_retry(uv_timer_t *tm)
{
	struct server *s = tm->data;
	struct sweep *sw, *next;
	int rc = 0;

	for (sw = s->sweeps; sw && rc == 0; sw = sw->next)
		rc = end_flush_sweep(sw);
	if (rc == 0)
		rc = probe_write(s);
	if (rc < 0)
		return;   /* still out; db.c logged the failure */
	log_info("storage: writes go through again after %.0f s; resuming",
		 server_now() - s->storage_since);
	s->storage_rc = 0;
	s->storage_msg[0] = '\0';
	uv_timer_stop(tm);
	for (sw = s->sweeps; sw; sw = next) {
		next = sw->next;
		sweep_check_done(sw);
	}
	sched_kick(s);
	server_maybe_finish(s);
}

int
sched_storage_failed(struct server *s, int rc, const char *what)
{
	if (!db_is_outage(rc))
		return 0;
	if (s->storage_rc)
		return 1;
	s->storage_rc = rc;
	s->storage_since = server_now();
	snprintf(s->storage_msg, sizeof s->storage_msg, "cannot store %s: %s",
		 what, db_last_error(s->db));
	log_error("storage: %s; no trial starts until writes go through "
		  "again (retried every %d s)", s->storage_msg,
		  SCHED_STORAGE_RETRY_MS / 1000);
	if (s->storage_timer_on)
		uv_timer_start(&s->storage_timer, on_storage_retry,
			       SCHED_STORAGE_RETRY_MS, SCHED_STORAGE_RETRY_MS);
	return 1;
}

int
sched_unstored(const struct server *s)
{
	int n = 0;

	for (const struct sweep *sw = s->sweeps; sw; sw = sw->next) {
		for (const struct trial *t = sw->unstored; t; t = t->next)
			n++;
		for (const struct trial *t = sw->queue; t; t = t->next)
			n += t->requeue_unstored;
	}
	return n;
}
