/*
 * hist_mo.h: several objectives in the history, for MOTPE.
 *
 * A trial's value of each objective is its value at its best epoch of the
 * first objective (docs/spec.md "objectives"): recorded as the epochs
 * arrive, loaded from the stored epoch rows at a restart, and handed to
 * sampler_suggest_mo parallel to hist_build_obs's observations. With one
 * objective nothing here is used and the search is exactly as before.
 */
#ifndef SWEEPD_SCHED_HIST_MO_H
#define SWEEPD_SCHED_HIST_MO_H

#include <stdint.h>

#include "common/report.h"
#include "daemon/sched/hist.h"
#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "daemon/store/db.h"

/* Trial number's values of the k objectives (v[k], borrowed). */
void hist_set_values(struct hist *hs, int number, const double *v, int k);

/* The same read from report line r (the trial's new best epoch of the
 * first objective): each objective's metric, NAN when absent. */
void hist_record_report(struct hist *hs, int number, const struct spec *sp,
			const struct report_line *r);

/* At a restart: the values of every completed trial, from its stored
 * best epoch row (db_best_epoch_metrics). 0 or the db's negative errno. */
int hist_load_values(struct hist *hs, struct db *db, int64_t sweep_id,
		     const struct spec *sp);

/* The objectives of a suggestion over hist_build_obs(hs, n_created). */
struct hist_objs {
	int maximize[SPEC_MAX_OBJECTIVES];
	double *values;                 /* owned [n_obs * k] */
	struct sampler_objectives o;    /* points into the above */
};

/*
 * Fills m for spec sp: with several objectives m->values holds the values
 * of the trials hist_build_obs(hs, n_created) returns, in its order, and
 * *objs is &m->o; with one *objs is NULL (sampler_suggest_mo then is
 * sampler_suggest). 0 or -ENOMEM (*objs NULL, nothing to free).
 */
int hist_objs_build(struct hist_objs *m, const struct hist *hs,
		    const struct spec *sp, int n_created,
		    const struct sampler_objectives **objs);
void hist_objs_free(struct hist_objs *m);

#endif
