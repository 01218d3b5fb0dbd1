/*
 * test_pareto.c: several objectives: dominance, ranks, the front,
 * hypervolume (2, 3 and 4 objectives), contributions, greedy subset
 * selection and Optuna's reference point; hand-computed sets (ties,
 * duplicates, NaN, min and max directions), then random sets with fixed
 * seeds against brute-force definitions written independently here.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/pareto.h"
#include "tests/harness.h"

/*
 * The set used by hand: min/min, ref (6, 6).
 *   A(1,5) B(2,3) C(4,1) D(3,4) E(5,5) F(2,3)=B G(4,4)
 * Front 0: A B C F; front 1: D (only B, F dominate it); front 2: G
 * (dominated by D); front 3: E (dominated by G).
 * Hypervolume of A, B, C: x 1..2 height 1, 2..4 height 3, 4..6 height 5:
 * 1 + 6 + 10 = 17; D, E, F, G add nothing.
 */
static const double SET[] = { 1, 5, 2, 3, 4, 1, 3, 4, 5, 5, 2, 3, 4, 4 };
#define N_SET 7

static void
dominance_both_directions_and_nan(void)
{
	const int max2[] = { 0, 1 }, maxall[] = { 1, 1 };
	double a[] = { 1, 2 }, b[] = { 2, 2 }, c[] = { 1, 3 };
	double nan1[] = { 1, NAN }, fin1[] = { 1, 5 }, nn[] = { NAN, NAN };
	double inf1[] = { 1, INFINITY }, minf1[] = { 1, -INFINITY };

	CHECK(pareto_dominates(a, b, 2, NULL));
	CHECK(!pareto_dominates(b, a, 2, NULL));
	CHECK(!pareto_dominates(a, a, 2, NULL));        /* equal: neither */
	CHECK(!pareto_dominates(c, b, 2, NULL));        /* a trade-off */
	CHECK(!pareto_dominates(b, c, 2, NULL));
	CHECK(pareto_dominates(c, b, 2, max2));         /* 3 > 2 is better */
	CHECK(pareto_dominates(c, a, 2, max2));
	CHECK(pareto_dominates(b, a, 2, maxall));
	/* NaN is the worst value, in either direction, below infinities. */
	CHECK(pareto_dominates(fin1, nan1, 2, NULL));
	CHECK(pareto_dominates(fin1, nan1, 2, maxall));
	CHECK(pareto_dominates(inf1, nan1, 2, NULL));
	CHECK(pareto_dominates(minf1, nan1, 2, maxall));
	CHECK(!pareto_dominates(nan1, fin1, 2, NULL));
	CHECK(!pareto_dominates(nn, nn, 2, NULL));
	CHECK(pareto_dominates(nan1, nn, 2, NULL));
}

static void
ranks_of_the_hand_set(void)
{
	const int want[N_SET] = { 0, 0, 0, 1, 3, 0, 2 };
	int rank[N_SET], rc;

	rc = pareto_ranks(SET, N_SET, 2, NULL, rank, 0);
	CHECK(rc == 4);
	for (int i = 0; i < N_SET; i++)
		CHECK_MSG(rank[i] == want[i], "point %d: rank %d", i, rank[i]);
	/* enough 4: the first front already has 4 points. */
	rc = pareto_ranks(SET, N_SET, 2, NULL, rank, 4);
	CHECK(rc == 1);
	CHECK(rank[0] == 0 && rank[3] == -1 && rank[4] == -1 && rank[6] == -1);
	/* enough 5: front 1 completes it; E and G are not reached. */
	rc = pareto_ranks(SET, N_SET, 2, NULL, rank, 5);
	CHECK(rc == 2);
	CHECK(rank[3] == 1 && rank[4] == -1 && rank[6] == -1 && rank[5] == 0);
	CHECK(pareto_ranks(SET, N_SET, 0, NULL, rank, 0) == -EINVAL);
	CHECK(pareto_ranks(SET, 0, 2, NULL, rank, 0) == 0);
}

static void
front_keeps_duplicates_and_follows_directions(void)
{
	const int max2[] = { 0, 1 };
	int idx[N_SET], n;

	n = pareto_front(SET, N_SET, 2, NULL, idx);
	CHECK(n == 4);
	CHECK(n == 4 && idx[0] == 0 && idx[1] == 1 && idx[2] == 2 && idx[3] == 5);
	/* Maximizing y: E(5,5) and A(1,5) tie on y, A has the lower x. */
	n = pareto_front(SET, N_SET, 2, max2, idx);
	CHECK_MSG(n == 1 && idx[0] == 0, "n %d", n);
}

static void
hypervolume_2d_by_hand(void)
{
	const double ref[] = { 6, 6 };
	const int maxall[] = { 1, 1 }, max2[] = { 0, 1 };
	double neg[2 * N_SET], mixed[2 * N_SET], nref[] = { -6, -6 };
	double mref[] = { 6, -6 }, hv = -1;
	double extra[] = { 1, 5, 2, 3, 4, 1, 7, 0, 0, 6, NAN, 0, 0.5, NAN };

	CHECK(pareto_hypervolume(SET, N_SET, 2, NULL, ref, &hv) == 0);
	CHECK_NEAR(hv, 17, 1e-12);
	for (int i = 0; i < 2 * N_SET; i++) {
		neg[i] = -SET[i];
		mixed[i] = i % 2 ? -SET[i] : SET[i];
	}
	CHECK(pareto_hypervolume(neg, N_SET, 2, maxall, nref, &hv) == 0);
	CHECK_NEAR(hv, 17, 1e-12);
	CHECK(pareto_hypervolume(mixed, N_SET, 2, max2, mref, &hv) == 0);
	CHECK_NEAR(hv, 17, 1e-12);
	/* Beyond the reference point, on its boundary or NaN: nothing. */
	CHECK(pareto_hypervolume(extra, 7, 2, NULL, ref, &hv) == 0);
	CHECK_NEAR(hv, 17, 1e-12);
	CHECK(pareto_hypervolume(extra + 6, 4, 2, NULL, ref, &hv) == 0);
	CHECK(hv == 0);
	CHECK(pareto_hypervolume(SET, 0, 2, NULL, ref, &hv) == 0 && hv == 0);
	nref[0] = NAN;
	CHECK(pareto_hypervolume(SET, N_SET, 2, NULL, nref, &hv) == -EINVAL);
}

static void
hypervolume_3d_4d_by_hand(void)
{
	const double one[] = { 1, 1, 1 }, r1[] = { 2, 3, 4 };
	const double two[] = { 0, 0, 1, 1, 1, 0 }, r2[] = { 2, 2, 2 };
	const double three[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
	const double four[] = { 0, 0, 0, 1, 1, 1, 1, 0 };
	const double r4[] = { 2, 2, 2, 2 };
	/* The same three corners with a dominated point and a duplicate. */
	const double more[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0 };
	double hv = -1;

	CHECK(pareto_hypervolume(one, 1, 3, NULL, r1, &hv) == 0);
	CHECK_NEAR(hv, 6, 1e-12);
	/* 2*2*1 + 1*1*2 - their overlap (1,1,1)..(2,2,2) = 5 */
	CHECK(pareto_hypervolume(two, 2, 3, NULL, r2, &hv) == 0);
	CHECK_NEAR(hv, 5, 1e-12);
	/* 3 boxes of 4, 3 pairwise overlaps of 2, one triple of 1: 7 */
	CHECK(pareto_hypervolume(three, 3, 3, NULL, r2, &hv) == 0);
	CHECK_NEAR(hv, 7, 1e-12);
	CHECK(pareto_hypervolume(more, 5, 3, NULL, r2, &hv) == 0);
	CHECK_NEAR(hv, 7, 1e-12);
	/* 8 + 2 - 1 */
	CHECK(pareto_hypervolume(four, 2, 4, NULL, r4, &hv) == 0);
	CHECK_NEAR(hv, 9, 1e-12);
}

static void
contributions_by_hand(void)
{
	const double ref[] = { 6, 6 };
	const double want[N_SET] = { 1, 0, 4, 0, 0, 0, 0 };   /* B = F: 0 */
	double c[N_SET];

	/* A, B, C alone: A's exclusive box x 1..2 y 5..6 = 1, B's x 2..4
	 * y 3..5 = 4, C's x 4..6 y 1..3 = 4. */
	CHECK(pareto_contributions(SET, 3, 2, NULL, ref, c) == 0);
	CHECK_NEAR(c[0], 1, 1e-12);
	CHECK_NEAR(c[1], 4, 1e-12);
	CHECK_NEAR(c[2], 4, 1e-12);
	CHECK(pareto_contributions(SET, N_SET, 2, NULL, ref, c) == 0);
	for (int i = 0; i < N_SET; i++)
		CHECK_NEAR(c[i], want[i], 1e-12);
}

static void
select_greedy_by_hand(void)
{
	const double ref[] = { 6, 6 }, tie[] = { 1, 2, 2, 1 }, r3[] = { 3, 3 };
	int ch[3] = { -1, -1, -1 };

	/* Boxes alone: A 5, B 12, C 10: B; then C adds 4, A 1. */
	CHECK(pareto_select(SET, 3, 2, NULL, ref, 2, ch) == 0);
	CHECK(ch[0] == 1 && ch[1] == 2);
	CHECK(pareto_select(SET, 3, 2, NULL, ref, 3, ch) == 0);
	CHECK(ch[2] == 0);
	CHECK(pareto_select(tie, 2, 2, NULL, r3, 1, ch) == 0);
	CHECK(ch[0] == 0);   /* equal gains: the lower index */
	CHECK(pareto_select(tie, 2, 2, NULL, r3, 3, ch) == -EINVAL);
}

static void
reference_point_is_optunas(void)
{
	const double v[] = { 1, 5, 2, 3, 4, 1 };
	const double w[] = { -2, 0, -3, 0, NAN, 7 };
	const double m[] = { 1, 5, 2, 3 };
	const int maxall[] = { 1, 1 };
	double ref[2];

	CHECK(pareto_reference(v, 3, 2, NULL, ref) == 0);
	CHECK_NEAR(ref[0], 4.4, 1e-12);
	CHECK_NEAR(ref[1], 5.5, 1e-12);
	/* Worst -2: 0.9 * -2 = -1.8 is the worse; worst 0: 1e-12; the NaN
	 * point is skipped. */
	CHECK(pareto_reference(w, 3, 2, NULL, ref) == 0);
	CHECK_NEAR(ref[0], -1.8, 1e-12);
	CHECK(ref[1] == 1e-12);
	/* Maximized: the worst is the lowest, pushed further down. */
	CHECK(pareto_reference(m, 2, 2, maxall, ref) == 0);
	CHECK_NEAR(ref[0], 0.9, 1e-12);
	CHECK_NEAR(ref[1], 2.7, 1e-12);
	CHECK(pareto_reference(w + 4, 1, 2, NULL, ref) == -EINVAL);
}

/* ---- brute force, from the definitions --------------------------------- */

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* To "lower is better": NaN is worse than everything (+inf, and another
 * NaN is equal to it). */
static double
loss(double v, int max)
{
	if (isnan(v))
		return INFINITY;
	return max ? -v : v;
}

static int
brute_dom(const double *a, const double *b, int k, const int *mx)
{
	int better = 0;

	for (int j = 0; j < k; j++) {
		double x = loss(a[j], mx[j]), y = loss(b[j], mx[j]);
		int nx = isnan(a[j]), ny = isnan(b[j]);
		/* NaN below +inf: compare (is NaN, loss) lexicographically. */
		if (nx > ny || (nx == ny && x > y))
			return 0;
		if (nx < ny || (nx == ny && x < y))
			better = 1;
	}
	return better;
}

/* Peels fronts by the definition: O(n^3). */
static void
brute_ranks(const double *v, int n, int k, const int *mx, int *rank)
{
	for (int i = 0; i < n; i++)
		rank[i] = -1;
	for (int r = 0, left = n; left > 0; r++) {
		int now[64] = { 0 };
		for (int i = 0; i < n; i++) {
			int dom = 0;
			if (rank[i] >= 0)
				continue;
			for (int j = 0; j < n && !dom; j++)
				dom = rank[j] < 0 && brute_dom(v + j * k, v + i * k, k, mx);
			now[i] = !dom;
		}
		for (int i = 0; i < n; i++)
			if (now[i]) {
				rank[i] = r;
				left--;
			}
	}
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The hypervolume by cells: the grid of every point's coordinates and the
 * reference point's, each cell counted when a point dominates its lower
 * corner. O(n^k n). */
static double
brute_hv(const double *v, int n, int k, const int *mx, const double *ref)
{
	double axis[4][16], total = 0;
	int len[4], cell[4] = { 0 };

	for (int j = 0; j < k; j++) {
		double r = loss(ref[j], mx[j]);
		len[j] = 0;
		for (int i = 0; i < n; i++) {
			double x = loss(v[i * k + j], mx[j]);
			if (x < r)
				axis[j][len[j]++] = x;
		}
		axis[j][len[j]++] = r;
		qsort(axis[j], (size_t)len[j], sizeof(double), cmp_d);
		if (len[j] < 2)
			return 0;
	}
	for (;;) {
		double vol = 1;
		int in = 0;
		for (int j = 0; j < k; j++)
			vol *= axis[j][cell[j] + 1] - axis[j][cell[j]];
		for (int i = 0; i < n && !in; i++) {
			in = 1;
			for (int j = 0; j < k && in; j++) {
				double x = loss(v[i * k + j], mx[j]);
				in = x <= axis[j][cell[j]] && x < loss(ref[j], mx[j]);
			}
		}
		total += in ? vol : 0;
		int j = 0;
		while (j < k && ++cell[j] >= len[j] - 1)
			cell[j++] = 0;
		if (j == k)
			break;
	}
	return total;
}

/* A random set: small integers (ties and duplicates) or reals, some NaN. */
static void
random_set(uint64_t *s, double *v, int n, int k, int *mx, double *ref)
{
	int ints = rnd(s) % 2;

	for (int j = 0; j < k; j++) {
		mx[j] = rnd(s) % 2;
		ref[j] = mx[j] ? -0.5 : 5.5;   /* most points inside */
	}
	for (int i = 0; i < n * k; i++) {
		double u = (double)(rnd(s) >> 11) / 9007199254740992.0;
		double x = ints ? floor(u * 6) : u * 6 - 0.3;
		if (rnd(s) % 40 == 0)
			x = NAN;
		v[i] = mx[i % k] ? 5 - x : x;
	}
}

static void
random_sets_match_brute_force(void)
{
	uint64_t seed = 20261201;
	int bad_rank = 0, bad_hv = 0, bad_contrib = 0, bad_front = 0, sets = 0;

	for (int t = 0; t < 400; t++) {
		int k = 2 + t % 3, n = 1 + (int)(rnd(&seed) % (k == 4 ? 9 : 14));
		double v[16 * 4], ref[4], hv, c[16], sub[16 * 4];
		int mx[4], rank[16], want[16], idx[16], nf, nw = 0;

		random_set(&seed, v, n, k, mx, ref);
		brute_ranks(v, n, k, mx, want);
		if (pareto_ranks(v, n, k, mx, rank, 0) < 0)
			bad_rank++;
		for (int i = 0; i < n; i++)
			bad_rank += rank[i] != want[i];
		nf = pareto_front(v, n, k, mx, idx);
		for (int i = 0; i < n; i++)
			if (want[i] == 0 && (nw >= nf || idx[nw++] != i))
				bad_front++;
		bad_front += nw != nf;
		if (pareto_hypervolume(v, n, k, mx, ref, &hv) < 0 ||
		    fabs(hv - brute_hv(v, n, k, mx, ref)) > 1e-9)
			bad_hv++;
		if (pareto_contributions(v, n, k, mx, ref, c) < 0)
			bad_contrib++;
		for (int i = 0; i < n; i++) {
			double whole = brute_hv(v, n, k, mx, ref), without;
			memcpy(sub, v, (size_t)i * k * sizeof *v);
			memcpy(sub + i * k, v + (i + 1) * k,
			       (size_t)(n - i - 1) * k * sizeof *v);
			without = brute_hv(sub, n - 1, k, mx, ref);
			bad_contrib += fabs(c[i] - (whole - without)) > 1e-9;
		}
		sets++;
	}
	CHECK(sets == 400);
	CHECK_MSG(bad_rank == 0, "%d wrong ranks", bad_rank);
	CHECK_MSG(bad_front == 0, "%d wrong front members", bad_front);
	CHECK_MSG(bad_hv == 0, "%d wrong hypervolumes", bad_hv);
	CHECK_MSG(bad_contrib == 0, "%d wrong contributions", bad_contrib);
}

/* Early stop gives the full ranks as far as it goes, -1 beyond. */
static void
random_sets_enough_is_a_prefix(void)
{
	uint64_t seed = 77;
	int bad = 0;

	for (int t = 0; t < 200; t++) {
		int k = 2 + t % 3, n = 1 + (int)(rnd(&seed) % 14);
		int enough = 1 + (int)(rnd(&seed) % (unsigned)n), got = 0;
		double v[16 * 4], ref[4];
		int mx[4], full[16], part[16], fronts, last = -1;

		random_set(&seed, v, n, k, mx, ref);
		pareto_ranks(v, n, k, mx, full, 0);
		fronts = pareto_ranks(v, n, k, mx, part, enough);
		for (int i = 0; i < n; i++) {
			if (part[i] >= 0) {
				bad += part[i] != full[i];
				got++;
				last = part[i] > last ? part[i] : last;
			} else
				bad += full[i] < fronts;
		}
		bad += got < enough || last != fronts - 1;
	}
	CHECK_MSG(bad == 0, "%d mismatches", bad);
}

/* Greedy selection against a greedy loop over the brute hypervolume. */
static void
random_sets_select_matches_greedy(void)
{
	uint64_t seed = 4242;
	int bad = 0;

	for (int t = 0; t < 150; t++) {
		int k = 2 + t % 3, n = 1 + (int)(rnd(&seed) % (k == 4 ? 8 : 12));
		int m = 1 + (int)(rnd(&seed) % (unsigned)n), got[16], taken[16] = { 0 };
		double v[16 * 4], ref[4], sel[16 * 4];

		random_set(&seed, v, n, k, (int[4]){ 0 }, ref);
		for (int j = 0; j < k; j++)
			ref[j] = 5.5;
		for (int i = 0; i < n * k; i++)
			if (isnan(v[i]))
				v[i] = 5;   /* ties on gain 0 would test nothing new */
		if (pareto_select(v, n, k, (int[4]){ 0 }, ref, m, got) < 0) {
			bad++;
			continue;
		}
		for (int s = 0; s < m; s++) {
			double base = brute_hv(sel, s, k, (int[4]){ 0 }, ref), best = -1;
			int pick = -1;
			for (int i = 0; i < n; i++) {
				double g;
				if (taken[i])
					continue;
				memcpy(sel + s * k, v + i * k, (size_t)k * sizeof *v);
				g = brute_hv(sel, s + 1, k, (int[4]){ 0 }, ref) - base;
				if (g > best + 1e-9) {
					best = g;
					pick = i;
				}
			}
			/* Equal gains within rounding: either is right. */
			if (pick != got[s]) {
				memcpy(sel + s * k, v + got[s] * k, (size_t)k * sizeof *v);
				bad += fabs(brute_hv(sel, s + 1, k, (int[4]){ 0 }, ref) -
					    base - best) > 1e-9;
				pick = got[s];
			}
			taken[pick] = 1;
			memcpy(sel + s * k, v + pick * k, (size_t)k * sizeof *v);
		}
	}
	CHECK_MSG(bad == 0, "%d wrong picks", bad);
}

int
main(void)
{
	RUN(dominance_both_directions_and_nan);
	RUN(ranks_of_the_hand_set);
	RUN(front_keeps_duplicates_and_follows_directions);
	RUN(hypervolume_2d_by_hand);
	RUN(hypervolume_3d_4d_by_hand);
	RUN(contributions_by_hand);
	RUN(select_greedy_by_hand);
	RUN(reference_point_is_optunas);
	RUN(random_sets_match_brute_force);
	RUN(random_sets_enough_is_a_prefix);
	RUN(random_sets_select_matches_greedy);
	return harness_done();
}
