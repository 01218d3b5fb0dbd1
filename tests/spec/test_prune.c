/*
 * test_prune.c: the median, ASHA and early-stopping rules on hand-built
 * curves, with their boundaries: warmup, min_trials, exactly at a rung,
 * ties, NaN values, min vs max mode.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "daemon/search/prune.h"
#include "tests/harness.h"

/* A spec with only the fields the pruners read. */
static struct spec
mk(int mode_max)
{
	struct spec s;

	memset(&s, 0, sizeof s);
	s.metric = (char *)(mode_max ? "val_acc" : "val_loss");
	s.mode_max = mode_max;
	s.pruner = SPEC_PRUNE_MEDIAN;
	s.prune_min_epochs = 1;
	s.prune_eta = 3;
	s.prune_warmup = 0;
	s.prune_min_trials = 3;
	s.es_patience = 0;
	return s;
}

static struct prune_curve
C(const double *v, int n, int done)
{
	return (struct prune_curve){ .v = v, .n = n, .done = done };
}

/* ---- median ------------------------------------------------------------ */

/* Three completed trials; their best-so-far at epoch 2: 0.6, 0.7, 0.8. */
static const double o1[] = { 0.5, 0.6, 0.65, 0.7 };
static const double o2[] = { 0.7, 0.6, 0.75, 0.8 };
static const double o3[] = { 0.8, 0.8, 0.85, 0.9 };

static void
median_prunes_below_the_median(void)
{
	struct spec s = mk(1);
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 1) };
	const double bad[] = { 0.3, 0.65 }, good[] = { 0.3, 0.75 };
	struct prune_curve me = C(bad, 2, 0);
	char why[256] = "";

	/* Median of best-so-far at epoch 2 is 0.7 (o2's 0.7 at epoch 1). */
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 1);
	CHECK_CONTAINS(why, "epoch 2");
	CHECK_CONTAINS(why, "0.65");
	CHECK_CONTAINS(why, "median 0.7");
	me = C(good, 2, 0);
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
}

static void
median_equal_to_the_median_goes_on(void)
{
	struct spec s = mk(1);
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 1) };
	const double tie[] = { 0.7 };
	struct prune_curve me = C(tie, 1, 0);
	char why[256];

	/* At epoch 1 the others are 0.5, 0.7, 0.8: median 0.7, a tie. */
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
}

static void
median_even_count_averages_the_middle_two(void)
{
	struct spec s = mk(1);
	const double o4[] = { 0.9 };
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 1), C(o4, 1, 1) };
	/* epoch 1: 0.5, 0.7, 0.8, 0.9 -> median 0.75 */
	const double a[] = { 0.74 }, b[] = { 0.76 };
	struct prune_curve me = C(a, 1, 0);
	char why[256];

	CHECK(prune_median(&s, &me, others, 4, why, sizeof why) == 1);
	me = C(b, 1, 0);
	CHECK(prune_median(&s, &me, others, 4, why, sizeof why) == 0);
}

static void
median_respects_warmup(void)
{
	struct spec s = mk(1);
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 1) };
	const double bad[] = { 0.1, 0.1, 0.1 };
	struct prune_curve me = C(bad, 2, 0);
	char why[256];

	s.prune_warmup = 2;
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);   /* epoch 2 */
	me = C(bad, 3, 0);
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 1);   /* epoch 3 */
}

static void
median_needs_min_trials_completed_at_that_epoch(void)
{
	struct spec s = mk(1);
	const double bad[] = { 0.1, 0.1, 0.1, 0.1, 0.1 };
	struct prune_curve me = C(bad, 4, 0);
	/* o3 is still running: it does not count. */
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 0) };
	char why[256];

	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
	others[2].done = 1;
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 1);
	/* At epoch 5 none of them got that far. */
	me = C(bad, 5, 0);
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
	/* Nobody else at all. */
	me = C(bad, 1, 0);
	CHECK(prune_median(&s, &me, NULL, 0, why, sizeof why) == 0);
}

static void
median_in_min_mode(void)
{
	struct spec s = mk(0);
	const double l1[] = { 1.0, 0.8 }, l2[] = { 0.9, 0.6 }, l3[] = { 0.7, 0.5 };
	struct prune_curve others[] = { C(l1, 2, 1), C(l2, 2, 1), C(l3, 2, 1) };
	/* epoch 2 bests: 0.8, 0.6, 0.5 -> median 0.6 */
	const double worse[] = { 0.9, 0.65 }, better[] = { 0.9, 0.55 };
	struct prune_curve me = C(worse, 2, 0);
	char why[256];

	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 1);
	CHECK_CONTAINS(why, "val_loss");
	me = C(better, 2, 0);
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
}

static void
median_nan_values(void)
{
	struct spec s = mk(1);
	const double n1[] = { NAN, NAN }, mine_nan[] = { NAN, NAN };
	const double skip[] = { NAN, 0.9 };   /* a missed epoch 1, then 0.9 */
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 1), C(n1, 2, 1) };
	struct prune_curve me = C(mine_nan, 2, 0);
	char why[256];

	/* The all-NaN other is left out of the median (0.7 of the three). */
	CHECK(prune_median(&s, &me, others, 4, why, sizeof why) == 1);   /* no value */
	me = C(skip, 2, 0);
	CHECK(prune_median(&s, &me, others, 4, why, sizeof why) == 0);   /* 0.9 > 0.7 */
	/* With min_trials 4, the NaN trial does not make up the count. */
	s.prune_min_trials = 4;
	me = C(mine_nan, 2, 0);
	CHECK(prune_median(&s, &me, others, 4, why, sizeof why) == 0);
}

static void
median_never_prunes_a_finished_trial(void)
{
	struct spec s = mk(1);
	struct prune_curve others[] = { C(o1, 4, 1), C(o2, 4, 1), C(o3, 4, 1) };
	const double bad[] = { 0.1 };
	struct prune_curve me = C(bad, 1, 1);
	char why[256];

	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
}

/* ---- ASHA -------------------------------------------------------------- */

/* The ASHA rules below without min_trials (0: judge as soon as eta trials
 * reached the rung); asha_waits_for_min_trials_completed tests it. */
static void
asha(struct spec *s)
{
	s->pruner = SPEC_PRUNE_ASHA;
	s->prune_min_trials = 0;
}

static void
asha_decides_only_at_rungs(void)
{
	struct spec s = mk(1);
	/* Rungs at 2, 6, 18 with min_epochs 2, eta 3. */
	const double hi[] = { 0.9, 0.9, 0.9, 0.9, 0.9, 0.9 };
	const double mine[] = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 };
	struct prune_curve others[] = { C(hi, 6, 0), C(hi, 6, 0), C(hi, 6, 0) };
	struct prune_curve me;
	char why[256] = "";

	asha(&s);
	s.prune_min_epochs = 2;
	for (int e = 1; e <= 6; e++) {
		me = C(mine, e, 0);
		int stop = prune_asha(&s, &me, others, 3, why, sizeof why);
		CHECK_MSG(stop == (e == 2 || e == 6), "epoch %d: %d", e, stop);
		/* what the scheduler asks before it gathers the others */
		CHECK_MSG(prune_asha_judges(&s, &me) == (e == 2 || e == 6),
			  "judges at epoch %d", e);
	}
	CHECK_CONTAINS(why, "6-epoch rung");
	me = C(mine, 6, 1);   /* a finished trial is never judged */
	CHECK(!prune_asha_judges(&s, &me));
}

static void
asha_keeps_the_top_third(void)
{
	struct spec s = mk(1);
	const double a[] = { 0.9 }, b[] = { 0.8 }, c[] = { 0.7 }, d[] = { 0.6 }, e[] = { 0.5 };
	struct prune_curve others[] = { C(a, 1, 1), C(b, 1, 0), C(c, 1, 0), C(d, 1, 0), C(e, 1, 0) };
	const double best[] = { 0.95 }, second[] = { 0.85 }, third[] = { 0.75 };
	struct prune_curve me;
	char why[256];

	asha(&s);
	/* 6 at the rung: floor(6/3) = 2 go on; I must have < 2 ahead. */
	me = C(best, 1, 0);
	CHECK(prune_asha(&s, &me, others, 5, why, sizeof why) == 0);
	me = C(second, 1, 0);
	CHECK(prune_asha(&s, &me, others, 5, why, sizeof why) == 0);   /* 1 ahead */
	me = C(third, 1, 0);
	CHECK(prune_asha(&s, &me, others, 5, why, sizeof why) == 1);   /* 2 ahead */
	CHECK_CONTAINS(why, "2 of 6");
}

static void
asha_promotes_while_fewer_than_eta(void)
{
	struct spec s = mk(1);
	const double a[] = { 0.9 };
	const double worst[] = { 0.1 };
	struct prune_curve others[] = { C(a, 1, 0), C(a, 1, 0) };
	struct prune_curve me = C(worst, 1, 0);
	char why[256];

	asha(&s);
	CHECK(prune_asha(&s, &me, others, 1, why, sizeof why) == 0);   /* 2 < 3 */
	CHECK(prune_asha(&s, &me, others, 2, why, sizeof why) == 1);   /* 3: top 1 */
	CHECK(prune_asha(&s, &me, NULL, 0, why, sizeof why) == 0);
}

static void
asha_ties_go_my_way(void)
{
	struct spec s = mk(1);
	const double same[] = { 0.8 };
	struct prune_curve others[] = { C(same, 1, 0), C(same, 1, 0) };
	struct prune_curve me = C(same, 1, 0);
	char why[256];

	asha(&s);
	CHECK(prune_asha(&s, &me, others, 2, why, sizeof why) == 0);
}

static void
asha_uses_best_so_far_at_the_rung(void)
{
	struct spec s = mk(1);
	/* The others reached epoch 3 (rung at 3 with eta 3, min_epochs 1). */
	const double a[] = { 0.5, 0.6, 0.7, 0.99 }, b[] = { 0.4, 0.5, 0.6 };
	/* Mine peaked at epoch 1: best so far 0.8 beats both at the rung. */
	const double mine[] = { 0.8, 0.2, 0.3 };
	struct prune_curve others[] = { C(a, 4, 0), C(b, 3, 0) };
	struct prune_curve me = C(mine, 3, 0);
	char why[256];

	asha(&s);
	/* a's 0.99 at epoch 4 is past the rung and does not count. */
	CHECK(prune_asha(&s, &me, others, 2, why, sizeof why) == 0);
	/* Others that have not reached the rung are not compared. */
	const double shorter[] = { 0.99, 0.99 };
	struct prune_curve more[] = { C(a, 4, 0), C(b, 3, 0), C(shorter, 2, 0) };
	const double weak[] = { 0.1, 0.1, 0.1 };
	me = C(weak, 3, 0);
	CHECK(prune_asha(&s, &me, more, 3, why, sizeof why) == 1);   /* 3 at rung */
}

static void
asha_in_min_mode_and_with_nan(void)
{
	struct spec s = mk(0);
	const double l[] = { 0.3 }, nanv[] = { NAN }, good[] = { 0.2 }, bad[] = { 0.4 };
	struct prune_curve others[] = { C(l, 1, 0), C(nanv, 1, 0) };
	struct prune_curve me;
	char why[256];

	asha(&s);
	me = C(good, 1, 0);
	CHECK(prune_asha(&s, &me, others, 2, why, sizeof why) == 0);   /* lowest */
	me = C(bad, 1, 0);
	CHECK(prune_asha(&s, &me, others, 2, why, sizeof why) == 1);   /* 0.3 ahead */
	/* NaN ranks last: mine NaN has the finite one ahead. */
	me = C(nanv, 1, 0);
	CHECK(prune_asha(&s, &me, others, 2, why, sizeof why) == 1);
	/* ... and a NaN other is never ahead of me. */
	struct prune_curve nans[] = { C(nanv, 1, 0), C(nanv, 1, 0) };
	me = C(bad, 1, 0);
	CHECK(prune_asha(&s, &me, nans, 2, why, sizeof why) == 0);
}

/* pruner.min_trials: ASHA stops no trial at a rung until that many
 * others completed and reached it; running or pruned ones, and completed
 * ones with a shorter budget, do not count. */
static void
asha_waits_for_min_trials_completed(void)
{
	struct spec s = mk(1);
	const double hi[] = { 0.9, 0.9, 0.9 }, short_run[] = { 0.9 };
	const double worst[] = { 0.1, 0.1, 0.1 };
	struct prune_curve others[] = {
		C(hi, 3, 0), C(hi, 3, 0), C(short_run, 1, 1), C(hi, 3, 1), C(hi, 3, 1),
	};
	struct prune_curve me = C(worst, 3, 0);
	char why[256] = "";

	asha(&s);
	s.prune_min_trials = 2;
	/* At the 3-epoch rung: 3 there (me and two running): not yet. */
	CHECK(prune_asha(&s, &me, others, 3, why, sizeof why) == 0);
	/* One completed at the rung (the 1-epoch one does not count). */
	CHECK(prune_asha(&s, &me, others, 4, why, sizeof why) == 0);
	/* Two completed at the rung: judged, and last of five. */
	CHECK(prune_asha(&s, &me, others, 5, why, sizeof why) == 1);
	CHECK_CONTAINS(why, "4 of 5");
	/* At the 1-epoch rung the short one counts: two completed there. */
	me = C(worst, 1, 0);
	CHECK(prune_asha(&s, &me, &others[2], 2, why, sizeof why) == 1);
	s.prune_min_trials = 3;   /* one running, two completed */
	CHECK(prune_asha(&s, &me, &others[1], 3, why, sizeof why) == 0);
	s.prune_min_trials = 0;   /* off: judged with nothing completed */
	me = C(worst, 3, 0);
	CHECK(prune_asha(&s, &me, others, 3, why, sizeof why) == 1);
}

static void
asha_rungs_with_eta_two(void)
{
	struct spec s = mk(1);
	const double hi[8] = { 1, 1, 1, 1, 1, 1, 1, 1 }, lo[8] = { 0 };
	struct prune_curve others[] = { C(hi, 8, 0) };
	struct prune_curve me;
	char why[256];
	int stops = 0;

	asha(&s);
	s.prune_eta = 2;
	for (int e = 1; e <= 8; e++) {
		me = C(lo, e, 0);
		int stop = prune_asha(&s, &me, others, 1, why, sizeof why);
		stops |= stop << e;
	}
	/* Rungs 1, 2, 4, 8: a pair at each; the lower one stops. */
	CHECK(stops == ((1 << 1) | (1 << 2) | (1 << 4) | (1 << 8)));
}

/* ---- early stopping ---------------------------------------------------- */

static void
early_stop_after_patience_epochs(void)
{
	struct spec s = mk(0);
	const double v[] = { 1.0, 0.8, 0.7, 0.71, 0.72, 0.7, 0.69 };
	struct prune_curve me;
	char why[256] = "";

	s.es_patience = 3;
	me = C(v, 5, 0);   /* best 0.7 at epoch 3, two idle epochs */
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
	me = C(v, 6, 0);   /* 0.7 again is no improvement: three idle */
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 1);
	CHECK_CONTAINS(why, "best 0.7 at epoch 3");
	me = C(v, 7, 0);   /* 0.69 at epoch 7 is an improvement again */
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
}

static void
early_stop_min_delta(void)
{
	struct spec s = mk(1);
	const double v[] = { 0.80, 0.805, 0.809, 0.815 };
	struct prune_curve me = C(v, 4, 0);
	char why[256];

	s.es_patience = 3;
	s.es_min_delta = 0.01;
	/* Gains under 0.01 over the best do not count; 0.815 is one. */
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
	me = C(v, 3, 0);   /* best still 0.80 after two epochs */
	s.es_patience = 2;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 1);
	s.es_min_delta = 0;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
}

static void
early_stop_off_and_nan(void)
{
	struct spec s = mk(1);
	const double v[] = { 0.5, 0.4, 0.3, 0.2 }, nans[] = { NAN, NAN, NAN, NAN };
	const double late[] = { NAN, NAN, 0.5, 0.4 };
	struct prune_curve me = C(v, 4, 0);
	char why[256];

	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);   /* patience 0 */
	s.es_patience = 2;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 1);
	me = C(nans, 4, 0);
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
	/* Counting starts at the first finite value (epoch 3). */
	me = C(late, 4, 0);
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
	s.es_patience = 1;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 1);
	/* A NaN epoch after a best counts as an idle one. */
	const double hole[] = { 0.5, NAN, NAN };
	me = C(hole, 3, 0);
	s.es_patience = 2;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 1);
}

/* ---- the epoch budget ------------------------------------------------- */

/* A 3-epoch trial at the 3-epoch rung, or below the median at its last
 * epoch, has finished: it is not recorded as pruned. */
static void
pruners_never_stop_a_trial_at_its_budget(void)
{
	struct spec s = mk(1);
	const double a[] = { 0.9, 0.9, 0.9 }, b[] = { 0.8, 0.8, 0.8 };
	const double c[] = { 0.85, 0.85, 0.85 }, worst[] = { 0.1, 0.1, 0.1 };
	struct prune_curve others[] = { C(a, 3, 1), C(b, 3, 1), C(c, 3, 1) };
	struct prune_curve me = C(worst, 3, 0);
	char why[256];

	asha(&s);
	s.prune_eta = 3;
	CHECK(prune_asha(&s, &me, others, 3, why, sizeof why) == 1);   /* rung 3 */
	me.budget = 3;
	CHECK(prune_asha(&s, &me, others, 3, why, sizeof why) == 0);
	me.budget = 4;   /* one epoch to go: pruning still saves it */
	CHECK(prune_asha(&s, &me, others, 3, why, sizeof why) == 1);
	s.pruner = SPEC_PRUNE_MEDIAN;
	me.budget = 0;
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 1);
	me.budget = 3;
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
	me.budget = 2;   /* past its budget (a trainer that ran over) */
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
}

static void
budget_from_epochs_param_and_max_epochs(void)
{
	struct spec s = mk(1);
	cJSON *p = cJSON_Parse("{\"epochs\": 9, \"lr\": 0.1}");
	cJSON *bad = cJSON_Parse("{\"epochs\": 2.5}");
	cJSON *none = cJSON_Parse("{\"lr\": 0.1}");

	CHECK(p && bad && none);
	CHECK(prune_budget(&s, p) == 9);
	CHECK(prune_budget(&s, bad) == 0);    /* not an epoch count */
	CHECK(prune_budget(&s, none) == 0);   /* unknown: prune as before */
	s.prune_max_epochs = 6;
	CHECK(prune_budget(&s, p) == 6);      /* the smaller of the two */
	CHECK(prune_budget(&s, none) == 6);
	s.prune_max_epochs = 20;
	CHECK(prune_budget(&s, p) == 9);
	cJSON_Delete(p);
	cJSON_Delete(bad);
	cJSON_Delete(none);
}

/* ---- sparse epoch numbers --------------------------------------------- */

/* A trainer that reports its global step: the rules read epoch numbers,
 * not point indices. */
static void
sparse_curves_count_in_epoch_numbers(void)
{
	struct spec s = mk(1);
	const double a[] = { 0.5, 0.9 }, b[] = { 0.5, 0.8 }, c[] = { 0.5, 0.85 };
	const int ea[] = { 1, 900 }, eb[] = { 1, 1000 }, ec[] = { 1, 5000 };
	const double mine[] = { 0.6, 0.6 }, late[] = { 0.4, 0.1, 0.2 };
	const int em[] = { 1, 950 }, el[] = { 1, 9, 27 };
	struct prune_curve others[] = {
		{ .v = a, .epoch = ea, .n = 2, .done = 1 },
		{ .v = b, .epoch = eb, .n = 2, .done = 1 },
		{ .v = c, .epoch = ec, .n = 2, .done = 1 },
	};
	struct prune_curve me = { .v = mine, .epoch = em, .n = 2 };
	char why[256];

	/* At epoch 950 only b and c reached it; their best by 950 is 0.5. */
	s.prune_min_trials = 2;
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
	s.prune_min_trials = 3;   /* a stopped at 900: only two count */
	CHECK(prune_median(&s, &me, others, 3, why, sizeof why) == 0);
	/* Rung 27 (1, 3, 9, 27) is an epoch number, the third point here;
	 * the others best by 27 is their epoch-1 value, 0.5. */
	asha(&s);
	me = (struct prune_curve){ .v = late, .epoch = el, .n = 3 };
	CHECK(prune_asha(&s, &me, others, 3, why, sizeof why) == 1);
	me.n = 2;   /* at epoch 9, a rung, but fewer than eta others are there */
	CHECK(prune_asha(&s, &me, others, 0, why, sizeof why) == 0);
	/* Patience in epochs: best at epoch 1, last at epoch 27 is 26 idle. */
	me.n = 3;
	s.es_patience = 26;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 1);
	CHECK(strstr(why, "for 26 epochs") && strstr(why, "at epoch 1"));
	s.es_patience = 27;
	CHECK(prune_early_stop(&s, &me, why, sizeof why) == 0);
}

/* ---- ASHA's promotion (Li et al. 2020, Algorithm 2) --------------------- */

/* Trials at rung 1 (min_epochs 1, eta 3) with values 0.6 (trial 0, stopped
 * there), 0.9 (went on), 0.5, 0.4, 0.3, 0.2 (stopped). With all six there
 * the top floor(6 / 3) = 2 are 0.9 and 0.6: trial 0 is promoted. */
static void
promote_a_stopped_trial_now_in_the_top(void)
{
	struct spec s = mk(1);
	const double a[] = { 0.6 }, b[] = { 0.9, 0.91 }, c[] = { 0.5 },
		     d[] = { 0.4 }, e[] = { 0.3 }, f[] = { 0.2 };
	struct prune_curve cv[] = { C(a, 1, 0), C(b, 2, 0), C(c, 1, 0),
				    C(d, 1, 0), C(e, 1, 0), C(f, 1, 0) };
	int stopped[] = { 1, 0, 1, 1, 1, 1 }, promoted[6] = { 0 }, rung = -1;

	asha(&s);
	CHECK(prune_promote(&s, cv, stopped, promoted, 6, &rung) == 0);
	CHECK(rung == 1);
	/* Only five at the rung: top 1 is trial 1, which went on. */
	rung = -1;
	CHECK(prune_promote(&s, cv, stopped, promoted, 5, &rung) == -1);
	CHECK(rung == 0);
	/* Not twice from the same rung. */
	promoted[0] = 1;
	CHECK(prune_promote(&s, cv, stopped, promoted, 6, &rung) == -1);
	/* Not a trial ASHA did not stop (running, completed, failed). */
	promoted[0] = 0;
	stopped[0] = 0;
	CHECK(prune_promote(&s, cv, stopped, promoted, 6, &rung) == -1);
}

/* The highest rung first, and within a rung the best value first. */
static void
promote_highest_rung_then_best(void)
{
	struct spec s = mk(1);
	/* Rung 3: trials 0 (0.8, stopped) and 1..2 reached it; with 3 there
	 * the top 1 is trial 0 itself once trial 1 and 2 are worse. */
	const double t0[] = { 0.5, 0.6, 0.8 }, t1[] = { 0.7, 0.7, 0.7 },
		     t2[] = { 0.6, 0.6, 0.6 }, t3[] = { 0.95 }, t4[] = { 0.94 },
		     t5[] = { 0.1 }, t6[] = { 0.1 }, t7[] = { 0.1 },
		     t8[] = { 0.1 };
	struct prune_curve cv[] = { C(t0, 3, 0), C(t1, 3, 1), C(t2, 3, 1),
				    C(t3, 1, 0), C(t4, 1, 0), C(t5, 1, 0),
				    C(t6, 1, 0), C(t7, 1, 0), C(t8, 1, 0) };
	int stopped[] = { 3, 0, 0, 1, 1, 1, 1, 1, 1 }, promoted[9] = { 0 };
	int rung = 0;

	asha(&s);
	/* Rung 3 has trial 0 (top 1 of 3) and rung 1 has 3 and 4 (top 3 of
	 * 9: 0.95, 0.94, 0.7): rung 3 first. */
	CHECK(prune_promote(&s, cv, stopped, promoted, 9, &rung) == 0);
	CHECK(rung == 3);
	promoted[0] = 3;
	CHECK(prune_promote(&s, cv, stopped, promoted, 9, &rung) == 3);
	CHECK(rung == 1);
	promoted[3] = 1;
	CHECK(prune_promote(&s, cv, stopped, promoted, 9, &rung) == 4);
	promoted[4] = 1;
	CHECK(prune_promote(&s, cv, stopped, promoted, 9, &rung) == -1);
}

/* Ties at the cut go the stopped trial's way (as the stopping rule's), NaN
 * is never promoted, and min mode ranks low first. */
static void
promote_ties_nan_and_min_mode(void)
{
	struct spec s = mk(0);
	const double a[] = { 0.3 }, b[] = { 0.3 }, c[] = { 0.5 }, n[] = { NAN };
	struct prune_curve cv[] = { C(b, 1, 0), C(a, 1, 0), C(c, 1, 0),
				    C(n, 1, 0) };
	int stopped[] = { 0, 1, 1, 1 }, promoted[4] = { 0 }, rung = 0;

	asha(&s);
	/* 4 at rung 1: top 1; trial 1 ties trial 0 at 0.3 (lower is better). */
	CHECK(prune_promote(&s, cv, stopped, promoted, 4, &rung) == 1);
	promoted[1] = 1;
	CHECK(prune_promote(&s, cv, stopped, promoted, 4, &rung) == -1);
	/* With only NaN left stopped, nothing even as the top 1 of 1. */
	struct prune_curve only[] = { C(n, 1, 0) };
	int st1[] = { 1 }, pr1[] = { 0 };
	CHECK(prune_promote(&s, only, st1, pr1, 1, &rung) == -1);
}

/* Rungs are epoch numbers: a curve with sparse epochs reaches a rung when
 * its last epoch is at or past it; its value there is its best up to it. */
static void
promote_with_sparse_epochs(void)
{
	struct spec s = mk(1);
	const double a[] = { 0.2, 0.8 }, b[] = { 0.5, 0.6, 0.7 }, c[] = { 0.1 };
	const int ea[] = { 1, 3 }, eb[] = { 2, 4, 9 }, ec[] = { 3 };
	struct prune_curve cv[] = { { .v = a, .epoch = ea, .n = 2 },
				    { .v = b, .epoch = eb, .n = 3 },
				    { .v = c, .epoch = ec, .n = 1 } };
	int stopped[] = { 3, 0, 3 }, promoted[3] = { 0 }, rung = 0;

	asha(&s);
	/* At 3: a 0.8, b 0.5 (its best up to epoch 3), c 0.1: a is top 1. */
	CHECK(prune_promote(&s, cv, stopped, promoted, 3, &rung) == 0);
	CHECK(rung == 3);
}

int
main(void)
{
	RUN(median_prunes_below_the_median);
	RUN(median_equal_to_the_median_goes_on);
	RUN(median_even_count_averages_the_middle_two);
	RUN(median_respects_warmup);
	RUN(median_needs_min_trials_completed_at_that_epoch);
	RUN(median_in_min_mode);
	RUN(median_nan_values);
	RUN(median_never_prunes_a_finished_trial);
	RUN(asha_decides_only_at_rungs);
	RUN(asha_waits_for_min_trials_completed);
	RUN(asha_keeps_the_top_third);
	RUN(asha_promotes_while_fewer_than_eta);
	RUN(asha_ties_go_my_way);
	RUN(asha_uses_best_so_far_at_the_rung);
	RUN(asha_in_min_mode_and_with_nan);
	RUN(asha_rungs_with_eta_two);
	RUN(early_stop_after_patience_epochs);
	RUN(early_stop_min_delta);
	RUN(early_stop_off_and_nan);
	RUN(pruners_never_stop_a_trial_at_its_budget);
	RUN(budget_from_epochs_param_and_max_epochs);
	RUN(sparse_curves_count_in_epoch_numbers);
	RUN(promote_a_stopped_trial_now_in_the_top);
	RUN(promote_highest_rung_then_best);
	RUN(promote_ties_nan_and_min_mode);
	RUN(promote_with_sparse_epochs);
	return harness_done();
}
