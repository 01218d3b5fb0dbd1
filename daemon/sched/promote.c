/*
 * promote.c: ASHA's promotion of a stopped trial (promote.h).
 */
#include "daemon/sched/promote.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/json.h"
#include "daemon/log.h"
#include "daemon/sched/hist.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"
#include "daemon/search/sampler.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"

/* The queued trial of record h (number), promoted from rung; NULL on
 * ENOMEM. */
static struct trial *
promoted_trial(struct sweep *sw, struct sweep_hist *h, int number, int rung)
{
	char *params = json_print(h->params);   /* owned */
	struct trial *t = params ? trial_new(sw, h->id, number, h->attempt,
					     h->seed, params) : NULL;

	cJSON_free(params);
	if (!t)
		return NULL;
	t->promoted_rung = rung;
	t->promotions = h->promotions;
	return t;
}

int
promote_next(struct sweep *sw)
{
	struct sched *s = sw->sched;
	struct sweep_hist *h;
	struct trial *t;
	int rung, number = hist_promotion(&sw->hist, sw->spec, sw->n_created,
					  &rung), rc;

	if (number < 1 || !(h = hist_at(&sw->hist, number)))
		return 0;
	rc = db_trial_promote(s->db, h->id, rung);
	if (rc < 0) {
		log_error("sweep %" PRId64 " trial %d: cannot promote it: %s",
			  sw->id, number, strerror(-rc));
		sched_storage_failed(s, rc, "a promoted trial");
		/* Not again from this rung in this run: no loop on a bad row. */
		h->promoted_rung = rung;
		return rc;
	}
	h->promoted_rung = rung;
	h->promotions++;
	h->asha_rung = 0;
	h->state = SAMPLER_RUNNING;
	sw->n_ended--;
	t = promoted_trial(sw, h, number, rung);
	if (!t) {
		log_error("sweep %" PRId64 " trial %d: out of memory: promoted "
			  "(stored queued), runs after a restart", sw->id, number);
		return -ENOMEM;
	}
	log_info("sweep %" PRId64 " trial %d: promoted from the %d-epoch rung "
		 "(now in its top 1/%d); attempt %d resumes it", sw->id, number,
		 rung, sw->spec->prune_eta, t->attempt + 1);
	sweep_queue_push_front(sw, t);
	return 1;
}
