/*
 * pareto.c: dominance, non-dominated sorting, hypervolume (exact: a sweep
 * in 2-D, slicing objectives above), contributions, greedy subset
 * selection. Written from the definitions and the papers named in
 * pareto.h; the MOTPE conventions (reference point, greedy selection)
 * follow the behaviour of Optuna 3.1, no code of theirs.
 */
#include "daemon/search/pareto.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REF_EPS 1e-12   /* Optuna's EPS for a reference coordinate of 0 */

static int
is_max(const int *maximize, int j)
{
	return maximize && maximize[j];
}

/* -1: a is better on this objective, 0: equal, 1: worse (NaN worst). */
static int
cmp_obj(double a, double b, int max)
{
	int na = isnan(a), nb = isnan(b);

	if (na || nb)
		return na - nb;
	if (a == b)
		return 0;
	return (max ? a > b : a < b) ? -1 : 1;
}

int
pareto_dominates(const double *a, const double *b, int k,
		 const int *maximize)
{
	int better = 0;

	for (int j = 0; j < k; j++) {
		int c = cmp_obj(a[j], b[j], is_max(maximize, j));
		if (c > 0)
			return 0;
		better |= c < 0;
	}
	return better;
}

/* ---- non-dominated sorting ------------------------------------------- */

/* A row to sort; the comparison's context travels with each element so
 * that qsort needs no global (this may run on several threads). */
struct row {
	const double *v;      /* borrowed: k values */
	const int *maximize;  /* borrowed */
	int k;
	int idx;
};

/* Lexicographic, best first, then by index: a point's dominators all
 * come before it. */
static int
cmp_row(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	for (int j = 0; j < a->k; j++) {
		int c = cmp_obj(a->v[j], b->v[j], is_max(a->maximize, j));
		if (c)
			return c;
	}
	return a->idx - b->idx;
}

/*
 * One front out of left[n_left] (sorted rows): a row joins it when no
 * member dominates it (a dominator of a row comes before it, and is in
 * the front or dominated by a member). The others move down in left;
 * front[] is scratch. Returns the rows left.
 */
static int
peel_front(struct row *left, int n_left, struct row *front, int r, int *rank)
{
	int nf = 0, kept = 0;

	for (int i = 0; i < n_left; i++) {
		int dom = 0;
		for (int f = 0; f < nf && !dom; f++)
			dom = pareto_dominates(front[f].v, left[i].v, left[i].k,
					       left[i].maximize);
		if (dom) {
			left[kept++] = left[i];
		} else {
			front[nf++] = left[i];
			rank[left[i].idx] = r;
		}
	}
	return kept;
}

/* Whether the last point `tail` of a 2-D front (its lowest second value,
 * the front sorted as left[]) dominates p, so that the whole front does:
 * any member dominating p implies the tail does. */
static int
tail_dominates(const struct row *tail, const struct row *p)
{
	int cy = cmp_obj(tail->v[1], p->v[1], is_max(tail->maximize, 1));

	return cy < 0 || (cy == 0 &&
			  cmp_obj(tail->v[0], p->v[0], is_max(tail->maximize, 0)) < 0);
}

/*
 * Two objectives in O(n log n): in sorted order each point joins the
 * first front whose tail does not dominate it (a front dominates a point
 * only if the one before it does, so that is a binary search); tails[] is
 * scratch. Returns the number of fronts.
 */
static int
ranks_2d(const struct row *left, int n, struct row *tails, int *rank)
{
	int fronts = 0;

	for (int i = 0; i < n; i++) {
		int lo = 0, hi = fronts;
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2;
			if (tail_dominates(&tails[mid], &left[i]))
				lo = mid + 1;
			else
				hi = mid;
		}
		tails[lo] = left[i];
		rank[left[i].idx] = lo;
		fronts += lo == fronts;
	}
	return fronts;
}

/* Keeps the first fronts that bring the ranked points to `enough`. */
static int
cut_ranks(int *rank, int n, int fronts, int enough)
{
	int *size = calloc((size_t)fronts + 1, sizeof *size), keep = 0;

	if (!size)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		size[rank[i]]++;
	for (int sum = 0; keep < fronts && sum < enough; keep++)
		sum += size[keep];
	for (int i = 0; i < n; i++)
		if (rank[i] >= keep)
			rank[i] = -1;
	free(size);
	return keep;
}

int
pareto_ranks(const double *v, int n, int k, const int *maximize,
	     int *rank, int enough)
{
	struct row *left, *front;
	int n_left = n, fronts = 0;

	if (k < 1 || n < 0)
		return -EINVAL;
	if (n == 0)
		return 0;
	left = malloc(2 * (size_t)n * sizeof *left);
	if (!left)
		return -ENOMEM;
	front = left + n;
	for (int i = 0; i < n; i++) {
		left[i] = (struct row){ v + (size_t)i * k, maximize, k, i };
		rank[i] = -1;
	}
	qsort(left, (size_t)n, sizeof *left, cmp_row);
	if (k == 2) {
		fronts = ranks_2d(left, n, front, rank);
		if (enough > 0)
			fronts = cut_ranks(rank, n, fronts, enough);
		n_left = 0;
	}
	while (n_left > 0) {
		n_left = peel_front(left, n_left, front, fronts, rank);
		fronts++;
		if (enough > 0 && n - n_left >= enough)
			break;
	}
	free(left);
	return fronts;
}

int
pareto_front(const double *v, int n, int k, const int *maximize, int *idx)
{
	int *rank, rc, m = 0;

	if (k < 1 || n < 0)
		return -EINVAL;
	rank = malloc(((size_t)n + 1) * sizeof *rank);
	if (!rank)
		return -ENOMEM;
	rc = pareto_ranks(v, n, k, maximize, rank, 1);
	for (int i = 0; rc >= 0 && i < n; i++)
		if (rank[i] == 0)
			idx[m++] = i;
	free(rank);
	return rc < 0 ? rc : m;
}

/* ---- hypervolume ------------------------------------------------------- */

/* In "lower is better" space, points strictly inside the reference box
 * only: p[n * k], ref[k]. */

struct pt2 {
	double x, y;
};

static int
cmp_pt2(const void *pa, const void *pb)
{
	const struct pt2 *a = pa, *b = pb;

	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	return (a->y > b->y) - (a->y < b->y);
}

static int
hv_2d(const double *p, int n, const double *ref, double *out)
{
	struct pt2 *s = malloc((size_t)n * sizeof *s);
	double area = 0, ymin = ref[1];

	if (!s)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		s[i] = (struct pt2){ p[2 * i], p[2 * i + 1] };
	qsort(s, (size_t)n, sizeof *s, cmp_pt2);
	/* Between consecutive x, the height is the lowest y so far. */
	for (int i = 0; i < n; i++) {
		double next = i + 1 < n ? s[i + 1].x : ref[0];
		ymin = fmin(ymin, s[i].y);
		area += (next - s[i].x) * (ref[1] - ymin);
	}
	free(s);
	*out = area;
	return 0;
}

/* Whether a is no worse than b everywhere (dominates or equals). */
static int
weakly_dominates(const double *a, const double *b, int k)
{
	for (int j = 0; j < k; j++)
		if (a[j] > b[j])
			return 0;
	return 1;
}

/* Adds q (k values) to the mutually non-dominated set s[*m], unless a
 * member covers it; drops the members it covers. */
static void
add_nondominated(double *s, int *m, const double *q, int k)
{
	int kept = 0;

	for (int i = 0; i < *m; i++)
		if (weakly_dominates(s + (size_t)i * k, q, k))
			return;
	for (int i = 0; i < *m; i++)
		if (!weakly_dominates(q, s + (size_t)i * k, k))
			memmove(s + (size_t)kept++ * k, s + (size_t)i * k,
				(size_t)k * sizeof *s);
	memcpy(s + (size_t)kept * k, q, (size_t)k * sizeof *s);
	*m = kept + 1;
}

struct zkey {
	double z;
	int idx;
};

static int
cmp_zkey(const void *pa, const void *pb)
{
	const struct zkey *a = pa, *b = pb;

	if (a->z != b->z)
		return a->z < b->z ? -1 : 1;
	return a->idx - b->idx;
}

static int hv_rec(const double *p, int n, int k, const double *ref,
		  double *out);

/* Slicing the last objective: each slab between consecutive values of it
 * is the (k-1)-D hypervolume of the points below times its height. */
static int
hv_slices(const double *p, int n, int k, const double *ref, double *out)
{
	struct zkey *z = malloc((size_t)n * sizeof *z);
	double *slice = malloc((size_t)n * (k - 1) * sizeof *slice);
	double vol = 0, area;
	int m = 0, rc = -ENOMEM;

	if (!z || !slice)
		goto out;
	for (int i = 0; i < n; i++)
		z[i] = (struct zkey){ p[(size_t)i * k + k - 1], i };
	qsort(z, (size_t)n, sizeof *z, cmp_zkey);
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		double top = i + 1 < n ? z[i + 1].z : ref[k - 1];
		add_nondominated(slice, &m, p + (size_t)z[i].idx * k, k - 1);
		if (top <= z[i].z)
			continue;
		rc = hv_rec(slice, m, k - 1, ref, &area);
		vol += area * (top - z[i].z);
	}
	*out = vol;
out:
	free(z);
	free(slice);
	return rc;
}

static int
hv_rec(const double *p, int n, int k, const double *ref, double *out)
{
	double lo;

	if (n == 0) {
		*out = 0;
		return 0;
	}
	if (k == 1) {
		lo = p[0];
		for (int i = 1; i < n; i++)
			lo = fmin(lo, p[i]);
		*out = ref[0] - lo;
		return 0;
	}
	if (k == 2)
		return hv_2d(p, n, ref, out);
	return hv_slices(p, n, k, ref, out);
}

/*
 * The points of v strictly inside ref, turned to lower-is-better, into
 * *inside (owned, n_in rows) with their indices in keep (owned), and ref
 * into lref[k]. Returns n_in or -errno.
 */
static int
to_loss(const double *v, int n, int k, const int *maximize,
	const double *ref, double *lref, double **inside, int **keep)
{
	double *p;
	int *idx, m = 0;

	if (k < 1 || n < 0)
		return -EINVAL;
	for (int j = 0; j < k; j++) {
		if (isnan(ref[j]))
			return -EINVAL;
		lref[j] = is_max(maximize, j) ? -ref[j] : ref[j];
	}
	p = malloc(((size_t)n * k + 1) * sizeof *p);
	idx = malloc(((size_t)n + 1) * sizeof *idx);
	if (!p || !idx) {
		free(p);
		free(idx);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		int in = 1;
		for (int j = 0; j < k && in; j++) {
			double x = v[(size_t)i * k + j];
			x = is_max(maximize, j) ? -x : x;
			p[(size_t)m * k + j] = x;
			in = x < lref[j];   /* false for NaN */
		}
		if (in)
			idx[m++] = i;
	}
	*inside = p;
	*keep = idx;
	return m;
}

int
pareto_hypervolume(const double *v, int n, int k, const int *maximize,
		   const double *ref, double *out)
{
	double *lref = malloc(((size_t)k + 1) * sizeof *lref), *p = NULL;
	int *keep = NULL, m;

	if (!lref)
		return k < 1 ? -EINVAL : -ENOMEM;
	m = to_loss(v, n, k, maximize, ref, lref, &p, &keep);
	if (m >= 0)
		m = hv_rec(p, m, k, lref, out);
	free(lref);
	free(p);
	free(keep);
	return m < 0 ? m : 0;
}

/* The hypervolume of p[m] without row `skip`, into *out. */
static int
hv_without(const double *p, int m, int k, const double *lref, int skip,
	   double *buf, double *out)
{
	int r = 0;

	for (int i = 0; i < m; i++)
		if (i != skip)
			memcpy(buf + (size_t)r++ * k, p + (size_t)i * k,
			       (size_t)k * sizeof *buf);
	return hv_rec(buf, r, k, lref, out);
}

/* Whether another row of p[m] covers row i (so i adds nothing). */
static int
covered(const double *p, int m, int k, int i)
{
	for (int j = 0; j < m; j++)
		if (j != i && weakly_dominates(p + (size_t)j * k,
					       p + (size_t)i * k, k))
			return 1;
	return 0;
}

int
pareto_contributions(const double *v, int n, int k, const int *maximize,
		     const double *ref, double *contrib)
{
	double *lref = malloc(((size_t)k + 1) * sizeof *lref);
	double *p = NULL, *buf = NULL, whole = 0, part;
	int *keep = NULL, m, rc;

	if (!lref)
		return k < 1 ? -EINVAL : -ENOMEM;
	rc = m = to_loss(v, n, k, maximize, ref, lref, &p, &keep);
	if (rc < 0)
		goto out;
	for (int i = 0; i < n; i++)
		contrib[i] = 0;
	buf = malloc(((size_t)m * k + 1) * sizeof *buf);
	rc = buf ? hv_rec(p, m, k, lref, &whole) : -ENOMEM;
	for (int i = 0; i < m && rc == 0; i++) {
		if (covered(p, m, k, i))
			continue;
		rc = hv_without(p, m, k, lref, i, buf, &part);
		contrib[keep[i]] = fmax(whole - part, 0);
	}
out:
	free(lref);
	free(p);
	free(buf);
	free(keep);
	return rc < 0 ? rc : 0;
}

/* ---- subset selection and the reference point ----------------------- */

/* The point (of p's rows, -1 when outside) adding most to sel[s]. */
static int
best_gain(const double *p, const int *row, int n, int k, const double *lref,
	  const char *taken, double *sel, int s, int *pick)
{
	double base, hv, best = -1;
	int rc = hv_rec(sel, s, k, lref, &base);

	for (int i = 0; i < n && rc == 0; i++) {
		double gain = 0;
		if (taken[i])
			continue;
		if (row[i] >= 0) {
			memcpy(sel + (size_t)s * k, p + (size_t)row[i] * k,
			       (size_t)k * sizeof *sel);
			rc = hv_rec(sel, s + 1, k, lref, &hv);
			gain = hv - base;
		}
		if (gain > best) {
			best = gain;
			*pick = i;
		}
	}
	return rc;
}

int
pareto_select(const double *v, int n, int k, const int *maximize,
	      const double *ref, int m, int *chosen)
{
	double *lref = malloc(((size_t)k + 1) * sizeof *lref);
	double *p = NULL, *sel = NULL;
	int *keep = NULL, *row = NULL, in, rc;
	char *taken = NULL;

	if (!lref)
		return k < 1 ? -EINVAL : -ENOMEM;
	rc = in = to_loss(v, n, k, maximize, ref, lref, &p, &keep);
	if (rc >= 0 && (m < 0 || m > n))
		rc = -EINVAL;
	if (rc < 0)
		goto out;
	row = malloc(((size_t)n + 1) * sizeof *row);
	taken = calloc((size_t)n + 1, 1);
	sel = malloc(((size_t)m * k + 1) * sizeof *sel);
	rc = row && taken && sel ? 0 : -ENOMEM;
	for (int i = 0; rc == 0 && i < n; i++)
		row[i] = -1;
	for (int r = 0; rc == 0 && r < in; r++)
		row[keep[r]] = r;
	for (int s = 0; rc == 0 && s < m; s++) {
		int pick = -1;
		rc = best_gain(p, row, n, k, lref, taken, sel, s, &pick);
		if (rc < 0)
			break;
		taken[pick] = 1;
		chosen[s] = pick;
		/* An outside point adds nothing: it is not measured. */
		if (row[pick] >= 0)
			memcpy(sel + (size_t)s * k, p + (size_t)row[pick] * k,
			       (size_t)k * sizeof *sel);
		else
			for (int j = 0; j < k; j++)
				sel[(size_t)s * k + j] = lref[j];
	}
out:
	free(lref);
	free(p);
	free(keep);
	free(row);
	free(taken);
	free(sel);
	return rc < 0 ? rc : 0;
}

int
pareto_reference(const double *v, int n, int k, const int *maximize,
		 double *ref)
{
	int used = 0;

	if (k < 1 || n < 0)
		return -EINVAL;
	for (int j = 0; j < k; j++)
		ref[j] = -INFINITY;   /* the worst loss so far */
	for (int i = 0; i < n; i++) {
		const double *x = v + (size_t)i * k;
		int finite = 1;
		for (int j = 0; j < k; j++)
			finite &= isfinite(x[j]);
		if (!finite)
			continue;
		for (int j = 0; j < k; j++)
			ref[j] = fmax(ref[j], is_max(maximize, j) ? -x[j] : x[j]);
		used++;
	}
	for (int j = 0; j < k; j++) {
		double w = used ? ref[j] : 0, r = fmax(1.1 * w, 0.9 * w);
		r = r == 0 ? REF_EPS : r;
		ref[j] = is_max(maximize, j) ? -r : r;
		if (!used)
			ref[j] = 0;
	}
	return used ? 0 : -EINVAL;
}
