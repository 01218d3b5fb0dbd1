/*
 * resume.c: an attempt after an interruption (resume.h).
 */
#include "daemon/sched/resume.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/report.h"
#include "daemon/log.h"
#include "daemon/sched/curve.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"
#include "daemon/sched/trialdir.h"
#include "daemon/search/spec.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"

static int
seed_row(void *ud, int epoch, const char *metrics_json)
{
	struct trial *t = ud;
	struct report_line r;

	if (!metrics_json ||
	    report_parse(metrics_json, strlen(metrics_json), &r, NULL, 0) < 0 ||
	    r.kind != REPORT_EPOCH || r.epoch != epoch)
		return -EINVAL;
	return curve_append(t, &r,
			    report_get(&r, t->sweep->spec->metric));
}

/* The stored curve of the attempts before this one, into t. */
static void
seed_curve(struct trial *t)
{
	struct sweep *sw = t->sweep;
	int rc = db_curve(sw->sched->db, t->id, t->attempt - 1, seed_row, t);

	if (rc < 0) {
		log_warn("sweep %" PRId64 " trial %d: cannot read the stored "
			 "curve (%s): attempt %d starts over", sw->id, t->number,
			 strerror(-rc), t->attempt);
		curve_cut(t, 0);   /* forgets it all */
		return;
	}
	curve_take_best(t);
	t->resume_epoch = t->n_curve > 0 ? t->curve[t->n_curve - 1].epoch : 0;
	if (t->resume_epoch > 0)
		log_info("sweep %" PRId64 " trial %d attempt %d: may resume after "
			 "epoch %d", sw->id, t->number, t->attempt,
			 t->resume_epoch);
}

int
resume_begin(struct trial *t, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int rc;

	t->resume_epoch = 0;
	if (!trialdir_root())
		return 0;   /* none configured (a unit test's scheduler) */
	rc = trialdir_make(&t->sweep->tdir, t->sweep->id, t->number,
			   t->attempt == 1, dir, sizeof dir, err, errlen);
	if (rc < 0)
		return rc;
	if (t->attempt > 1)
		seed_curve(t);
	return 0;
}
