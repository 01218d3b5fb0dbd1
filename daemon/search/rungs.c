/*
 * rungs.c: the per-rung index behind ASHA's promotion (rungs.h).
 *
 * Sorted arrays, not trees: a trial enters a rung once per attempt that
 * reaches it, so the arrays change about once per trial and rung, and a
 * binary search plus a memmove of at most a few hundred kB at 20,000
 * trials costs less than the scan it replaces did per answer.
 */
#include "daemon/search/rungs.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One trial at one rung, finite value v. */
struct entry {
	double v;
	int number;
};

/* Entries in rank order: the better value first (the sweep's mode), equal
 * values by the lower number; at most one entry per trial. */
struct rank {
	struct entry *e;       /* owned [cap] */
	int n, cap;
};

/* What a slot holds of one trial, so that it can take it out again. */
struct held {
	double v;              /* best so far at the rung when read */
	unsigned char reach;   /* counted in n_reach */
	unsigned char val;     /* in vals (v finite) */
	unsigned char cand;    /* in cands (v finite) */
};

/* One rung some trial was stopped at (slots are never dropped: there are
 * as many as rungs, a few). */
struct slot {
	int rung;              /* epochs */
	int n_reach;           /* trials of 1..n whose last epoch >= rung */
	struct rank vals;      /* their finite best-so-far values at rung */
	struct rank cands;     /* promotable from rung: stopped == rung >
				* promoted, finite value */
	struct held *held;     /* owned [cap], index number - 1 */
};

struct rungs {
	struct slot *slot;     /* owned [n_slot], ascending rung */
	int n_slot;
	int n;                 /* trials 1..n are in the slots */
	int cap;               /* length of held, dirty and todo */
	unsigned char *dirty;  /* owned [cap]: number - 1 is in todo */
	int *todo;             /* owned [cap]: touched numbers, n_todo */
	int n_todo;
};

/* a ranks before b: better value, then lower number. */
static int
before(int mode_max, const struct entry *a, const struct entry *b)
{
	if (a->v != b->v)
		return mode_max ? a->v > b->v : a->v < b->v;
	return a->number < b->number;
}

/* The first position of k whose entry does not rank before key. */
static int
lower_bound(const struct rank *k, int mode_max, const struct entry *key)
{
	int lo = 0, hi = k->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (before(mode_max, &k->e[mid], key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
rank_add(struct rank *k, int mode_max, double v, int number)
{
	struct entry key = { v, number };
	int at;

	if (k->n == k->cap) {
		int cap = k->cap ? k->cap * 2 : 16;
		struct entry *e = realloc(k->e, (size_t)cap * sizeof *e);

		if (!e)
			return -ENOMEM;
		k->e = e;
		k->cap = cap;
	}
	at = lower_bound(k, mode_max, &key);
	memmove(&k->e[at + 1], &k->e[at], (size_t)(k->n - at) * sizeof *k->e);
	k->e[at] = key;
	k->n++;
	return 0;
}

/* Takes out the entry (v, number), which is there. */
static void
rank_del(struct rank *k, int mode_max, double v, int number)
{
	struct entry key = { v, number };
	int at = lower_bound(k, mode_max, &key);

	if (at == k->n || k->e[at].number != number)
		return;   /* not there: nothing to take out */
	memmove(&k->e[at], &k->e[at + 1], (size_t)(k->n - at - 1) * sizeof *k->e);
	k->n--;
}

/* The number of entries strictly better than v: the entry (v, -1) would
 * rank after all of them and before every entry equal to v. */
static int
rank_ahead(const struct rank *k, int mode_max, double v)
{
	struct entry key = { v, -1 };   /* numbers are >= 1 */

	return lower_bound(k, mode_max, &key);
}

/* Takes trial number out of s. */
static void
take_out(struct slot *s, int mode_max, int number)
{
	struct held *h = &s->held[number - 1];

	if (h->reach)
		s->n_reach--;
	if (h->val)
		rank_del(&s->vals, mode_max, h->v, number);
	if (h->cand)
		rank_del(&s->cands, mode_max, h->v, number);
	memset(h, 0, sizeof *h);
}

/* What s would hold of t. */
static struct held
read_held(const struct slot *s, const struct spec *sp,
	  const struct rungs_trial *t)
{
	struct held h = { 0 };

	h.v = prune_best_until(sp, &t->c, s->rung);
	h.reach = prune_last_epoch(&t->c) >= s->rung;
	h.val = h.reach && isfinite(h.v);
	h.cand = t->stopped == s->rung && t->promoted < s->rung && isfinite(h.v);
	return h;
}

/* a and b put a trial in the same places of a slot. */
static int
same_held(const struct held *a, const struct held *b)
{
	return a->reach == b->reach && a->val == b->val && a->cand == b->cand &&
	       (!(a->val || a->cand) || a->v == b->v);
}

/* Puts trial number, h (read_held), in s; -ENOMEM. */
static int
put_in(struct slot *s, int mode_max, int number, const struct held *h)
{
	if (h->val && rank_add(&s->vals, mode_max, h->v, number) < 0)
		return -ENOMEM;
	if (h->cand && rank_add(&s->cands, mode_max, h->v, number) < 0) {
		if (h->val)
			rank_del(&s->vals, mode_max, h->v, number);
		return -ENOMEM;
	}
	s->n_reach += h->reach;
	s->held[number - 1] = *h;
	return 0;
}

/* Reads trial number again into every slot (out of them when > n). Most
 * reads are of a running trial's new epoch, which leaves its places at
 * the rungs it passed as they were: those are not moved. */
static int
reread(struct rungs *r, const struct spec *sp, int n, int number,
       rungs_get_fn get, void *arg)
{
	struct rungs_trial t;

	memset(&t, 0, sizeof t);
	if (number <= n)
		get(arg, number, &t);
	for (int i = 0; i < r->n_slot; i++) {
		struct slot *s = &r->slot[i];
		struct held h = { 0 };

		if (number <= n)
			h = read_held(s, sp, &t);
		if (same_held(&h, &s->held[number - 1]))
			continue;
		take_out(s, sp->mode_max, number);
		if (put_in(s, sp->mode_max, number, &h) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* p (of old elements of size) grown to cap, the new ones zeroed; NULL
 * on ENOMEM, p unchanged. */
static void *
grow(void *p, size_t size, int cap, int old)
{
	char *q = realloc(p, (size_t)cap * size);

	if (q)
		memset(q + (size_t)old * size, 0, (size_t)(cap - old) * size);
	return q;
}

/* Room for trials 1..n in every per-trial array. */
static int
reserve(struct rungs *r, int n)
{
	int cap = r->cap ? r->cap : 64;
	void *p;

	if (n <= r->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	if (!(p = grow(r->dirty, sizeof *r->dirty, cap, r->cap)))
		return -ENOMEM;
	r->dirty = p;
	if (!(p = grow(r->todo, sizeof *r->todo, cap, r->cap)))
		return -ENOMEM;
	r->todo = p;
	for (int i = 0; i < r->n_slot; i++) {
		struct slot *s = &r->slot[i];

		if (!(p = grow(s->held, sizeof *s->held, cap, r->cap)))
			return -ENOMEM;
		s->held = p;
	}
	r->cap = cap;
	return 0;
}

/* A slot for rung (none yet), in rung order, empty; -ENOMEM. */
static int
add_slot(struct rungs *r, int rung)
{
	struct slot *v = realloc(r->slot, (size_t)(r->n_slot + 1) * sizeof *v);
	struct held *held;
	int at = 0;

	if (!v)
		return -ENOMEM;
	r->slot = v;
	held = calloc((size_t)r->cap, sizeof *held);
	if (!held)
		return -ENOMEM;
	while (at < r->n_slot && v[at].rung < rung)
		at++;
	memmove(&v[at + 1], &v[at], (size_t)(r->n_slot - at) * sizeof *v);
	memset(&v[at], 0, sizeof v[at]);
	v[at].rung = rung;
	v[at].held = held;
	r->n_slot++;
	return 0;
}

static int
has_slot(const struct rungs *r, int rung)
{
	for (int i = 0; i < r->n_slot; i++)
		if (r->slot[i].rung == rung)
			return 1;
	return 0;
}

/* A slot for the rung trial number is promotable from, if it has none:
 * 1 when one was added (every trial must then be read into it). */
static int
need_slot(struct rungs *r, int n, int number, rungs_get_fn get, void *arg)
{
	struct rungs_trial t;

	if (number > n)
		return 0;
	memset(&t, 0, sizeof t);
	get(arg, number, &t);
	if (t.stopped <= 0 || t.stopped <= t.promoted || has_slot(r, t.stopped))
		return 0;
	return add_slot(r, t.stopped) < 0 ? -ENOMEM : 1;
}

/* Slots for the rungs that the trials to read again (the touched ones,
 * those between the old and the new n) are promotable from; 1 in *all
 * when a slot was added, which every trial must be read into; -ENOMEM. */
static int
new_slots(struct rungs *r, int n, rungs_get_fn get, void *arg, int *all)
{
	int lo = r->n < n ? r->n : n, hi = r->n < n ? n : r->n, rc;

	*all = 0;
	for (int i = 0; i < r->n_todo; i++) {
		if ((rc = need_slot(r, n, r->todo[i], get, arg)) < 0)
			return rc;
		*all |= rc;
	}
	for (int number = lo + 1; number <= hi; number++) {
		if ((rc = need_slot(r, n, number, get, arg)) < 0)
			return rc;
		*all |= rc;
	}
	return 0;
}

/* Brings the slots up to date with trials 1..n. */
static int
refresh(struct rungs *r, const struct spec *sp, int n, rungs_get_fn get,
	void *arg)
{
	int lo = r->n < n ? r->n : n, hi = r->n < n ? n : r->n, all, rc;

	if ((rc = reserve(r, n)) < 0 || (rc = new_slots(r, n, get, arg, &all)) < 0)
		return rc;
	if (all)
		lo = 0;
	for (int i = 0; i < r->n_todo && !all; i++)
		if ((rc = reread(r, sp, n, r->todo[i], get, arg)) < 0)
			return rc;
	for (int number = lo + 1; number <= hi; number++)
		if ((rc = reread(r, sp, n, number, get, arg)) < 0)
			return rc;
	for (int i = 0; i < r->n_todo; i++)
		r->dirty[r->todo[i] - 1] = 0;
	r->n_todo = 0;
	r->n = n;
	return 0;
}

struct rungs *
rungs_new(void)
{
	return calloc(1, sizeof(struct rungs));
}

void
rungs_free(struct rungs *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n_slot; i++) {
		free(r->slot[i].vals.e);
		free(r->slot[i].cands.e);
		free(r->slot[i].held);
	}
	free(r->slot);
	free(r->dirty);
	free(r->todo);
	free(r);
}

/* A trial above r->n is read when n grows past it; todo has room for
 * every number up to r->n <= cap, so this never allocates. */
void
rungs_touch(struct rungs *r, int number)
{
	if (!r || number < 1 || number > r->n || r->dirty[number - 1])
		return;
	r->dirty[number - 1] = 1;
	r->todo[r->n_todo++] = number;
}

int
rungs_promotable(struct rungs *r, const struct spec *sp, int n,
		 rungs_get_fn get, void *arg, int *rung)
{
	int rc;

	*rung = 0;
	if (n < 0)
		n = 0;
	if ((rc = refresh(r, sp, n, get, arg)) < 0)
		return rc;
	/* The highest rung first; there, the best promotable trial, if
	 * fewer than max(1, n_reach / eta) are strictly better than it. A
	 * worse one would have at least as many ahead of it. */
	for (int i = r->n_slot - 1; i >= 0; i--) {
		const struct slot *s = &r->slot[i];
		const struct entry *best = s->cands.n > 0 ? &s->cands.e[0] : NULL;
		int keep = s->n_reach / sp->prune_eta;

		if (!best)
			continue;
		if (keep < 1)
			keep = 1;
		if (rank_ahead(&s->vals, sp->mode_max, best->v) < keep) {
			*rung = s->rung;
			return best->number;
		}
	}
	return 0;
}
