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

#include "common/vocab.h"
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

/* Before the loop polls: the batch is committed, and the trials whose
 * ends it stored are counted (end.c), which may start others whose rows
 * join a new batch: committed too before the loop waits. */
static void
on_prepare(uv_prepare_t *h)
{
	struct sched *s = h->data;

	sched_batch_settle(s);
	while (s->ends_stored > 0) {
		s->count_ends(s);
		sched_batch_settle(s);
	}
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
	if (s->ends_stored > 0)
		s->count_ends(s);   /* shutting down: nothing starts */
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

	if (t->create_lost)
		snprintf(msg, sizeof msg, "cannot record the trial: %s",
			 strerror(-rc));
	else if (t->batch_start)
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

/* The trials whose rows were created in batch gen, lost: no row has
 * them, and the id each was given may go to the next row created. Each
 * is marked: its attempt (if it runs) is lost with the rest of the batch
 * (settle_trials), nothing more of it is written under that id, and the
 * retry creates its row again (end.c). A queued one waits for that. */
static void
lose_creates(struct sched *s, uint64_t gen)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next) {
		for (struct trial *t = sw->running; t; t = t->next)
			if (t->create_gen == gen)
				t->create_lost = 1;
		for (struct trial *t = sw->queue; t; t = t->next)
			if (t->create_gen == gen) {
				t->create_lost = 1;
				t->requeue_unstored = 1;
			}
	}
}

/* The ends in batch gen: stored (rc 0: counted before the loop polls,
 * end.c), or not (rc < 0: they wait for the outage's retry, as an end
 * written on its own that failed). */
static void
settle_ends(struct sched *s, uint64_t gen, int rc)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->unstored; t; t = t->next) {
			if (t->end_gen != gen)
				continue;
			t->end_gen = 0;
			if (rc < 0) {
				log_warn("sweep %" PRId64 " trial %d %s, not "
					 "stored yet (storage outage)", sw->id,
					 t->number, vocab_trial_name(t->status));
				continue;
			}
			t->end_stored = 1;
			s->ends_stored++;
		}
	if (s->ends_stored > 0 && s->batch_prep_on)
		uv_prepare_start(&s->batch_prep, on_prepare);
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
	uint64_t gen = s->batch_gen;
	int rc = fate(s);

	s->batch_gen = 0;
	if (rc < 0)
		sched_storage_failed(s, rc, "a loop turn's trials and epochs");
	if (gen) {
		if (rc < 0)
			lose_creates(s, gen);
		settle_trials(s, rc);
		settle_ends(s, gen, rc);
	}
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
	int rc = 0, lost;

	/* Without the prepare handle (closed) nothing would commit the batch
	 * before the loop waits: nothing is joined, and fn's level is the
	 * outermost. */
	if (s->batch_prep_on) {
		if (row == SCHED_BATCH_START)
			rc = join_start(s, t);
		else if (row == SCHED_BATCH_EPOCH)
			rc = join_epoch(s, t, epoch);
		else
			rc = open_batch(s, &lost);
	}
	if (rc < 0)
		return rc;
	rc = in_level(s->db, fn, ud);
	if (rc == 0 && row == SCHED_BATCH_END)
		t->end_gen = sched_batch_open(s);
	return rc;
}

uint64_t
sched_batch_open(const struct sched *s)
{
	return s->batch_gen && fate(s) == DB_BATCH_OPEN ? s->batch_gen : 0;
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
	int rc;

	if (fate(s) == DB_BATCH_OPEN) {
		if (db_batch_depth(s->db) > 1)
			return 0;   /* inside a write's level: not its to end */
		db_batch_end(s->db, 1);   /* its failure is the batch's fate */
	}
	rc = batch_done(s);
	/* The prepare handle runs while a batch is open or ends it stored
	 * wait to be counted, whoever settled it. */
	if (s->batch_prep_on && !s->batch_gen && s->ends_stored == 0)
		uv_prepare_stop(&s->batch_prep);
	return rc;
}
