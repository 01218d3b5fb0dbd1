/*
 * batch.c: group commit of the epochs of one turn of the loop (batch.h).
 */
#include "daemon/sched/batch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/sched/curve.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/state.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"
#include "daemon/store/db.h"

static void
on_prepare(uv_prepare_t *h)
{
	sched_batch_settle(h->data);
}

void
sched_batch_init(struct sched *s)
{
	uv_prepare_init(s->loop, &s->batch_prep);
	s->batch_prep.data = s;
	s->batch_prep_on = 1;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
sched_batch_close(struct sched *s)
{
	sched_batch_settle(s);
	if (!s->batch_prep_on)
		return;
	uv_close((uv_handle_t *)&s->batch_prep, on_closed);
	s->batch_prep_on = 0;
}

int
sched_batch_join(struct sched *s, struct trial *t, int epoch)
{
	int rc = 0;

	/* Without the prepare handle (closed) nothing would commit the batch
	 * before the loop waits: the caller's level is then the outermost
	 * and commits when it ends. */
	if (!s->batch_prep_on)
		return 0;
	if (db_batch_depth(s->db) == 0) {
		rc = db_batch_begin(s->db);
		if (rc < 0)
			return rc;
		uv_prepare_start(&s->batch_prep, on_prepare);
	}
	if (t->batched++ == 0)
		t->batch_epoch = epoch;
	return rc;
}

/* The batch's epochs of t are not stored: its curve loses them, and an
 * outcome drawn from them (pruned, diverged, stopped early) with them; it
 * is requeued as any trial an outage interrupts. */
static void
lose(struct trial *t, int rc)
{
	char msg[256];
	enum trial_stop was = t->stop;

	snprintf(msg, sizeof msg, "cannot store epoch %d: %s", t->batch_epoch,
		 strerror(-rc));
	log_error("sweep %" PRId64 " trial %d: %s", t->sweep->id, t->number, msg);
	curve_cut(t, t->batch_epoch);
	if (was == STOP_PRUNED || was == STOP_DIVERGED || was == STOP_EARLY)
		t->stop = STOP_NONE;
	trial_stop(t, STOP_OUTAGE, msg);
}

/* Clears every running trial's share of the batch; lost (< 0): loses it. */
static void
settle_trials(struct sched *s, int lost)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->running; t; t = t->next) {
			if (t->batched && lost < 0)
				lose(t, lost);
			t->batched = 0;
			t->batch_epoch = 0;
		}
}

int
sched_batch_settle(struct sched *s)
{
	int rc = 0, lost;

	if (s->batch_prep_on)
		uv_prepare_stop(&s->batch_prep);
	if (db_batch_depth(s->db) > 0)
		rc = db_batch_end(s->db, 1);
	lost = db_batch_lost(s->db);
	if (rc == 0)
		rc = lost;
	if (rc < 0)
		sched_storage_failed(s, rc, "epochs");
	settle_trials(s, rc);
	return rc;
}
