/*
 * test_hist.c: the scheduler's history as the pruners read it
 * (daemon/sched/hist.c): hist_curve's view of a record, and
 * hist_promotion, hist_promotable's answer kept until a record may
 * change (hist_at) or the number of trials does.
 */
#include <math.h>
#include <string.h>

#include "daemon/sched/hist.h"
#include "daemon/search/prune.h"
#include "daemon/search/sampler.h"
#include "tests/harness.h"

/* ASHA with promotion, rung 1 (min_epochs 1, eta 3), val_acc max. */
static struct spec
asha_promote(void)
{
	struct spec s;

	memset(&s, 0, sizeof s);
	s.metric = (char *)"val_acc";
	s.mode_max = 1;
	s.pruner = SPEC_PRUNE_ASHA;
	s.prune_promote = 1;
	s.prune_min_epochs = 1;
	s.prune_eta = 3;
	return s;
}

/* Six trials at rung 1 with values 0.6 (trial 1, stopped there), 0.9
 * (went on, completed at epoch 2), 0.5, 0.4, 0.3, 0.2 (stopped): the top
 * floor(6 / 3) = 2 are 0.9 and 0.6, so trial 1 is promotable from rung 1
 * (as prune.h's promote_a_stopped_trial_now_in_the_top). */
static void
fill(struct hist *hs)
{
	const double v[] = { 0.6, 0.9, 0.5, 0.4, 0.3, 0.2 };

	hs->on = 1;
	for (int n = 1; n <= 6; n++) {
		struct sweep_hist *h;

		hist_set_params(hs, n, "{}");
		hist_push(hs, n, 1, v[n - 1]);
		h = hist_at(hs, n);
		h->state = n == 2 ? SAMPLER_COMPLETE : SAMPLER_PRUNED;
		h->asha_rung = n == 2 ? 0 : 1;
	}
	hist_push(hs, 2, 2, 0.91);
}

static void
curve_borrows_the_records_points(void)
{
	struct hist hs = { 0 };
	struct prune_curve c;

	fill(&hs);
	memset(&c, 0xff, sizeof c);
	hist_curve(hist_at(&hs, 2), &c);
	CHECK(c.v == hist_at(&hs, 2)->curve && c.epoch == hist_at(&hs, 2)->epochs);
	CHECK(c.n == 2 && c.v[1] == 0.91 && c.epoch[1] == 2);
	CHECK(c.done == 1 && c.budget == 0);
	hist_curve(hist_at(&hs, 1), &c);
	CHECK(c.n == 1 && c.done == 0 && c.budget == 0);
	hist_free(&hs);
}

static void
promotion_is_promotables_answer(void)
{
	struct spec s = asha_promote();
	struct hist hs = { 0 };
	int rung = -1;

	fill(&hs);
	CHECK(hist_promotable(&hs, &s, 6, &rung) == 1 && rung == 1);
	rung = -1;
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 1 && rung == 1);
	rung = -1;   /* asked again: the kept answer, the same */
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 1 && rung == 1);
	/* Only five trials so far: top 1 is trial 2, which went on. */
	CHECK(hist_promotion(&hs, &s, 5, &rung) == 0 && rung == 0);
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 1 && rung == 1);
	hist_free(&hs);
}

/* The kept answer is not the one of a history that has changed since. */
static void
promotion_follows_a_changed_record(void)
{
	struct spec s = asha_promote();
	struct hist hs = { 0 };
	int rung;

	fill(&hs);
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 1);
	hist_at(&hs, 1)->promoted_rung = 1;   /* promoted once from rung 1 */
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 0 && rung == 0);
	hist_at(&hs, 1)->promoted_rung = 0;
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 1 && rung == 1);
	/* Trial 3 reports 0.95 at rung 1 again (a later attempt's row):
	 * now the top two are 0.95 and 0.9, trial 3 stopped: promotable. */
	hist_push(&hs, 3, 1, 0.95);
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 3 && rung == 1);
	/* A new attempt of trial 3: running, its curve gone, five at the
	 * rung, and the top one (trial 2) went on. */
	hist_set_params(&hs, 3, "{}");
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 0 && rung == 0);
	hist_free(&hs);
	CHECK(hist_promotion(&hs, &s, 6, &rung) == 0);   /* no records */
}

int
main(void)
{
	RUN(curve_borrows_the_records_points);
	RUN(promotion_is_promotables_answer);
	RUN(promotion_follows_a_changed_record);
	return harness_done();
}
