/*
 * test_hist.c: the scheduler's history as the pruners read it
 * (daemon/sched/hist.c): hist_curve's view of a record, and
 * hist_promotion, whose answer must be prune_promote's over the whole
 * history (scan() below, the scan hist.c made before it kept an index)
 * after any change to a record (hist_at) or to the number of trials.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sched/hist.h"
#include "daemon/search/prune.h"
#include "daemon/search/rungs.h"
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

/* The reference: prune_promote over every record of 1..n_created, as
 * hist.c asked it before it kept an index (the number, 0 when none). */
static int
scan(const struct hist *hs, const struct spec *sp, int n_created, int *rung)
{
	int n = n_created < hs->cap ? n_created : hs->cap, pick;
	struct prune_curve *c = calloc((size_t)n + 1, sizeof *c);
	int *st = calloc((size_t)n * 2 + 1, sizeof *st);

	*rung = 0;
	if (!c || !st) {
		free(c);
		free(st);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const struct sweep_hist *h = &hs->v[i];

		hist_curve(h, &c[i]);
		st[i] = h->state == SAMPLER_PRUNED ? h->asha_rung : 0;
		st[n + i] = h->promoted_rung;
	}
	pick = prune_promote(sp, c, st, st + n, n, rung);
	free(c);
	free(st);
	return pick + 1;
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
promotion_is_the_scans_answer(void)
{
	struct spec s = asha_promote();
	struct hist hs = { 0 };
	int rung = -1;

	fill(&hs);
	CHECK(scan(&hs, &s, 6, &rung) == 1 && rung == 1);
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
	hist_free(&hs);
}

/* xorshift64*: the random histories below, the same on every machine. */
static uint64_t
next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

static int
pick(uint64_t *x, int n)
{
	return (int)(next(x) % (uint64_t)n);
}

/* Few distinct values, so ties are common; and what is not finite. */
static double
value(uint64_t *x)
{
	static const double v[] = { 0.1, 0.2, 0.3, 0.5, 0.5, 0.7, 0.9, -0.0,
				    0.0, NAN, INFINITY, -INFINITY };
	int i = pick(x, (int)(sizeof v / sizeof v[0]) + 1);

	return i < (int)(sizeof v / sizeof v[0]) ? v[i] : pick(x, 1000) / 1000.0;
}

/* A rung of s (min_epochs * eta^k), now and then an epoch that is not
 * one or 0. */
static int
rung_of(uint64_t *x, const struct spec *s)
{
	int r = s->prune_min_epochs, k = pick(x, 4);

	if (pick(x, 8) == 0)
		return pick(x, 12);
	while (k-- > 0)
		r *= s->prune_eta;
	return r;
}

/* One random change to the history of trials 1..*n, as the scheduler
 * makes them: epochs (a later attempt's replace the curve from there),
 * a lost batch, a new attempt, an end (stopped at a rung, completed,
 * failed), a promotion of hist_promotion's answer, another trial. */
static void
change(uint64_t *x, struct hist *hs, const struct spec *s, int *n)
{
	int k = 1 + pick(x, *n), op = pick(x, 16), rung;
	struct sweep_hist *h = hist_at(hs, k);
	int last = h ? hist_last_epoch(h) : 0;

	if (!h)
		return;
	if (op < 6)
		hist_push(hs, k, pick(x, 4) ? last + 1 : 1 + pick(x, last + 1),
			  value(x));
	else if (op == 6)
		hist_cut(hs, k, 1 + pick(x, last + 1), value(x));
	else if (op == 7)
		hist_set_params(hs, k, "{}");
	else if (op < 11) {
		h->state = SAMPLER_PRUNED;
		h->asha_rung = pick(x, 3) ? (last > 0 ? last : 1) : rung_of(x, s);
	} else if (op == 11)
		h->state = pick(x, 2) ? SAMPLER_COMPLETE : SAMPLER_FAILED;
	else if (op == 12)
		h->promoted_rung = pick(x, 2) ? 0 : rung_of(x, s);
	else if (op == 13 && (k = hist_promotion(hs, s, *n, &rung)) > 0) {
		h = hist_at(hs, k);
		h->promoted_rung = rung;
		h->asha_rung = 0;
		h->state = SAMPLER_RUNNING;
	} else if (*n < 100) {
		++*n;
		hist_set_params(hs, *n, "{}");
	}
}

/* Random histories (both modes, several eta and min_epochs, values with
 * ties, NaN and inf, lost batches, resumed attempts, trials beyond
 * n_created), asked after each change and sometimes for fewer trials,
 * the index sometimes dropped (as out of memory): hist_promotion's
 * answer is always the scan's. */
static void
promotion_is_the_scans_for_random_histories(void)
{
	int bad = 0, asked = 0, found = 0, high = 0;

	for (uint64_t seed = 1; seed <= 300 && bad < 5; seed++) {
		uint64_t x = seed * 0x9e3779b97f4a7c15ULL;
		struct spec s = asha_promote();
		struct hist hs = { 0 };
		int n = 1;

		s.mode_max = (int)(seed & 1);
		s.prune_eta = 2 + pick(&x, 3);
		s.prune_min_epochs = 1 + pick(&x, 2);
		hs.on = 1;
		hist_set_params(&hs, 1, "{}");
		for (int step = 0; step < 600 && bad < 5; step++) {
			int m = pick(&x, 6) ? n : 1 + pick(&x, n + 2);
			int r1 = -1, r2 = -1, a, b;

			change(&x, &hs, &s, &n);
			if (pick(&x, 50) == 0) {
				/* As when out of memory: made again from all. */
				rungs_free(hs.rungs);
				hs.rungs = NULL;
			}
			if (pick(&x, 3))
				continue;
			a = hist_promotion(&hs, &s, m, &r1);
			b = scan(&hs, &s, m, &r2);
			asked++;
			found += b > 0;
			high += r2 > s.prune_min_epochs;
			if (a != b || r1 != r2) {
				bad++;
				CHECK_MSG(0, "seed %llu step %d n_created %d: %d rung %d, "
					  "the scan's %d rung %d",
					  (unsigned long long)seed, step, m, a, r1, b, r2);
			}
		}
		hist_free(&hs);
	}
	/* The histories promote often enough to mean something. */
	CHECK_MSG(found > asked / 10 && high > asked / 100, "%d of %d answers "
		  "promote, %d above the first rung", found, asked, high);
}

int
main(void)
{
	RUN(curve_borrows_the_records_points);
	RUN(promotion_is_the_scans_answer);
	RUN(promotion_follows_a_changed_record);
	RUN(promotion_is_the_scans_for_random_histories);
	return harness_done();
}
