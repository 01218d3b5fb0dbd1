/*
 * batch.c: group commit of the epochs and starts of one turn of the loop
 * (batch.h).
 */
#include "daemon/sched/batch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "daemon/log.h"
#include "daemon/sched/curve.h"
#include "daemon/sched/hist.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/state.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"
#include "daemon/store/db.h"

/* An event of rows of the open batch, sent once they are committed. */
struct batch_ev {
	struct batch_ev *next;
	int64_t sweep_id;
	cJSON *ev;                  /* owned */
};

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
	s->told = NULL;
	s->told_tail = &s->told;
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

/* The queued events, in order: sent (send) or dropped. The list is taken
 * first, so that a send that settles again (the server's) finds it empty. */
static void
flush_told(struct sched *s, int send)
{
	struct batch_ev *e = s->told, *next;

	s->told = NULL;
	s->told_tail = &s->told;
	for (; e; e = next) {
		next = e->next;
		if (send)
			sched_broadcast(s, e->sweep_id, e->ev);
		cJSON_Delete(e->ev);
		free(e);
	}
}

/* The batch's rows of t are not stored: its curve loses the epochs, and an
 * outcome drawn from them (pruned, diverged, stopped early) with them; a
 * trial whose start was lost runs unrecorded. It is requeued as any trial
 * an outage interrupts. */
static void
lose(struct trial *t, int rc)
{
	char msg[256];
	enum trial_stop was = t->stop;

	if (t->batch_start)
		snprintf(msg, sizeof msg, "cannot record the trial's start: %s",
			 strerror(-rc));
	else
		snprintf(msg, sizeof msg, "cannot store epoch %d: %s",
			 t->batch_epoch, strerror(-rc));
	log_error("sweep %" PRId64 " trial %d: %s", t->sweep->id, t->number, msg);
	if (t->batched) {
		curve_cut(t, t->batch_epoch);
		hist_cut(&t->sweep->hist, t->number, t->batch_epoch, t->best);
	}
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
			if ((t->batched || t->batch_start) && lost < 0)
				lose(t, lost);
			t->batched = 0;
			t->batch_epoch = 0;
			t->batch_start = 0;
		}
}

/* How the batch batch.c opened stands, as the store says (db_batch_fate):
 * DB_BATCH_OPEN, 0 (committed, or none opened), or the error that lost
 * it. */
static int
fate(const struct sched *s)
{
	return db_batch_fate(s->db, s->batch_gen);
}

/* The batch batch.c opened has ended (its fate: 0 committed, or the error
 * that lost it), whoever ended it: its trials and its events settle. */
static int
batch_done(struct sched *s)
{
	int rc = fate(s), had = s->batch_gen != 0;

	s->batch_gen = 0;
	if (rc < 0)
		sched_storage_failed(s, rc, "a loop turn's epochs and starts");
	if (had)
		settle_trials(s, rc);
	flush_told(s, rc == 0);
	return rc;
}

/* Opens the batch unless ours is open; ours that the store committed (or
 * lost) meanwhile is settled first, and *lost says how (0, or the error
 * that lost it). A batch someone else left open is joined. 0, or the
 * failure of the BEGIN. */
static int
open_batch(struct sched *s, int *lost)
{
	int rc;

	*lost = 0;
	if (fate(s) == DB_BATCH_OPEN)
		return 0;
	if (s->batch_gen)
		*lost = batch_done(s);
	if (db_batch_depth(s->db) == 0) {
		rc = db_batch_begin(s->db);
		if (rc < 0)
			return rc;
	}
	s->batch_gen = db_batch_gen(s->db);
	uv_prepare_start(&s->batch_prep, on_prepare);
	return 0;
}

/* t's epoch joins the batch: 0, the BEGIN's failure, or the error of a
 * batch the store ended meanwhile that lost rows of t (t is stopped). */
static int
join_epoch(struct sched *s, struct trial *t, int epoch)
{
	int rc, lost;

	rc = open_batch(s, &lost);
	if (rc < 0)
		return rc;
	if (lost < 0 && t->stop != STOP_NONE)
		return lost;   /* t had rows in the batch that was lost */
	if (t->batched++ == 0)
		t->batch_epoch = epoch;
	return 0;
}

/* t's start row joins the batch: 0, or the BEGIN's failure. */
static int
join_start(struct sched *s, struct trial *t)
{
	int lost, rc = open_batch(s, &lost);

	if (rc == 0)
		t->batch_start = 1;
	return rc;
}

/* fn in a level of its own, above the levels open: kept when fn returns
 * 0, rolled back otherwise, unless a storage failure lost the whole batch
 * (the depth fell to 0: nothing is left to end). With no level open it is
 * the outermost: it commits when it ends. */
static int
in_level(struct db *db, sched_batch_fn *fn, void *ud)
{
	int base = db_batch_depth(db), rc = db_batch_begin(db), end = 0;

	if (rc < 0)
		return rc;
	rc = fn(db, ud);
	if (db_batch_depth(db) > base)
		end = db_batch_end(db, rc == 0);
	return rc < 0 ? rc : end;
}

int
sched_batch_write(struct sched *s, struct trial *t, enum sched_batch_row row,
		  int epoch, sched_batch_fn *fn, void *ud)
{
	int rc = 0;

	/* Without the prepare handle (closed) nothing would commit the batch
	 * before the loop waits: nothing is joined, and fn's level is the
	 * outermost. */
	if (s->batch_prep_on)
		rc = row == SCHED_BATCH_START ? join_start(s, t)
					      : join_epoch(s, t, epoch);
	if (rc < 0)
		return rc;
	return in_level(s->db, fn, ud);
}

void
sched_batch_tell(struct sched *s, int64_t sweep_id, cJSON *ev)
{
	struct batch_ev *e;

	if (!ev)
		return;
	if (!s->batch_gen) {   /* no batch of ours to wait for */
		flush_told(s, 1);
		sched_broadcast(s, sweep_id, ev);
		cJSON_Delete(ev);
		return;
	}
	e = malloc(sizeof *e);
	if (!e) {   /* not told rather than told too early */
		cJSON_Delete(ev);
		return;
	}
	e->next = NULL;
	e->sweep_id = sweep_id;
	e->ev = ev;
	*s->told_tail = e;
	s->told_tail = &e->next;
}

int
sched_batch_settle(struct sched *s)
{
	if (s->batch_prep_on)
		uv_prepare_stop(&s->batch_prep);
	if (fate(s) == DB_BATCH_OPEN) {
		if (db_batch_depth(s->db) > 1)
			return 0;   /* inside a write's level: not its to end */
		db_batch_end(s->db, 1);   /* its failure is the batch's fate */
	}
	return batch_done(s);
}
