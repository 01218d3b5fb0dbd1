/*
 * importance.c: main-effect variance shares by the bias-corrected
 * correlation ratio (importance.h says what and why).
 */
#include "daemon/search/importance.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/vocab.h"

#define MAX_BINS 10
#define MIN_PER_BIN 5     /* numeric bins hold at least this many trials */

struct keyed {
	double key;
	int i;
};

static int
cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i - y->i;
}

/* Bin of each observation of a choice param: its value's index, or K for
 * a trial without it (inactive). Returns the number of bins, K + 1. */
static int
bin_choice(const struct spec_param *p, const struct importance_obs *obs,
	   int n, int *bin)
{
	for (int i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obs[i].params, p->name);
		const cJSON *c;
		int k = 0;

		bin[i] = p->n_values;
		cJSON_ArrayForEach(c, p->values) {
			if (v && cJSON_Compare(v, c, 1)) {
				bin[i] = k;
				break;
			}
			k++;
		}
	}
	return p->n_values + 1;
}

/* Numeric: equal-count bins of the sorted values (ties kept together),
 * bin 0 for trials without the param. Returns the number of bins. */
static int
bin_numeric(const struct spec_param *p, const struct importance_obs *obs,
	    int n, int *bin, struct keyed *kv)
{
	int m = 0, bins, b = 1, in_bin = 0;

	for (int i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obs[i].params, p->name);
		bin[i] = 0;
		if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
			kv[m++] = (struct keyed){ v->valuedouble, i };
	}
	if (m == 0)
		return 1;
	qsort(kv, (size_t)m, sizeof *kv, cmp_keyed);
	bins = m / MIN_PER_BIN;
	bins = bins < 1 ? 1 : bins > MAX_BINS ? MAX_BINS : bins;
	for (int j = 0; j < m; j++) {
		/* A new bin once this one is full, never between equal values. */
		if (in_bin >= (m + bins - 1) / bins && kv[j].key != kv[j - 1].key) {
			b++;
			in_bin = 0;
		}
		bin[kv[j].i] = b;
		in_bin++;
	}
	return b + 1;
}

/* Omega squared of y over bins[n] (n_bins bins, some maybe empty). */
static double
omega2(const struct importance_obs *obs, int n, const int *bin, int n_bins,
       double *sum, int *cnt)
{
	double mean = 0, ss_t = 0, ss_b = 0, ms_w;
	int k = 0;

	memset(sum, 0, (size_t)n_bins * sizeof *sum);
	memset(cnt, 0, (size_t)n_bins * sizeof *cnt);
	for (int i = 0; i < n; i++) {
		sum[bin[i]] += obs[i].y;
		cnt[bin[i]]++;
		mean += obs[i].y;
	}
	mean /= n;
	for (int i = 0; i < n; i++)
		ss_t += (obs[i].y - mean) * (obs[i].y - mean);
	for (int b = 0; b < n_bins; b++) {
		double d;
		if (!cnt[b])
			continue;
		k++;
		d = sum[b] / cnt[b] - mean;
		ss_b += cnt[b] * d * d;
	}
	if (k < 2 || !(ss_t > 0))
		return NAN;
	ms_w = n > k ? (ss_t - ss_b) / (n - k) : 0;
	return fmax(0, (ss_b - (k - 1) * ms_w) / (ss_t + ms_w));
}

int
importance_shares(const struct spec *s, const struct importance_obs *obs,
		  int n_obs, double *share)
{
	int n_bins_max = MAX_BINS + 1, rc = -ENOMEM;
	int *bin = NULL, *cnt = NULL;
	struct keyed *kv = NULL;
	double *sum = NULL;

	for (int i = 0; i < s->n_params; i++) {
		share[i] = NAN;
		if (s->params[i].kind == SPEC_CHOICE &&
		    s->params[i].n_values + 1 > n_bins_max)
			n_bins_max = s->params[i].n_values + 1;
	}
	if (n_obs < IMPORTANCE_MIN_TRIALS)
		return 0;
	bin = malloc((size_t)n_obs * sizeof *bin);
	kv = malloc((size_t)n_obs * sizeof *kv);
	sum = malloc((size_t)n_bins_max * sizeof *sum);
	cnt = malloc((size_t)n_bins_max * sizeof *cnt);
	if (!bin || !kv || !sum || !cnt)
		goto out;
	for (int i = 0; i < s->n_params; i++) {
		const struct spec_param *p = &s->params[i];
		int nb;

		if (p->kind == SPEC_CONST)
			continue;
		nb = p->kind == SPEC_CHOICE ? bin_choice(p, obs, n_obs, bin) :
		     bin_numeric(p, obs, n_obs, bin, kv);
		share[i] = omega2(obs, n_obs, bin, nb, sum, cnt);
	}
	rc = 0;
out:
	free(bin);
	free(kv);
	free(sum);
	free(cnt);
	return rc;
}

/* ---- the op's answer -------------------------------------------------- */

#define METHOD "main-effect variance shares: omega squared of the value " \
	       "over bins of each param (importance.h)"

struct ranked {
	int param;
	double share;
};

static int
cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int xn = isnan(x->share), yn = isnan(y->share);

	if (xn != yn)
		return xn - yn;          /* not estimable last */
	if (!xn && x->share != y->share)
		return x->share > y->share ? -1 : 1;
	return x->param - y->param;  /* spec order among equals */
}

/* [{"param", "share"}] of obs, largest first; NULL when out of memory. */
static cJSON *
ranked_json(const struct spec *s, const struct importance_obs *obs, int n)
{
	double *share = malloc((size_t)s->n_params * sizeof *share);
	struct ranked *r = malloc((size_t)s->n_params * sizeof *r);
	cJSON *arr = NULL;
	int m = 0;

	if (!share || !r || importance_shares(s, obs, n, share) < 0)
		goto out;
	for (int i = 0; i < s->n_params; i++)
		if (s->params[i].kind != SPEC_CONST)
			r[m++] = (struct ranked){ i, share[i] };
	qsort(r, (size_t)m, sizeof *r, cmp_ranked);
	arr = cJSON_CreateArray();
	for (int i = 0; arr && i < m; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "param", s->params[r[i].param].name) ||
		    !(isnan(r[i].share) ? cJSON_AddNullToObject(o, "share") :
		      cJSON_AddNumberToObject(o, "share",
					      round(r[i].share * 1e4) / 1e4))) {
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
out:
	free(share);
	free(r);
	return arr;
}

static const char *
verdict_of(const cJSON *t)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(t, "diagnosis"), "verdict");

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One entry of "verdicts" for verdict v over the diagnosed trials diag[n]
 * (verdicts[i]: diag[i]'s). */
static int
add_verdict(const struct spec *s, cJSON *arr, const char *v,
	    const cJSON *const *diag, const char *const *verdicts, int n_diag,
	    struct importance_obs *obs)
{
	cJSON *o, *params;
	int k = 0;

	for (int i = 0; i < n_diag; i++) {
		obs[i].params = cJSON_GetObjectItemCaseSensitive(diag[i], "params");
		obs[i].y = strcmp(verdicts[i], v) == 0;
		k += obs[i].y > 0;
	}
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o))
		goto fail;
	params = ranked_json(s, obs, n_diag);
	if (!cJSON_AddStringToObject(o, "verdict", v) ||
	    !cJSON_AddNumberToObject(o, "trials", k) ||
	    !cJSON_AddNumberToObject(o, "of", n_diag) || !params ||
	    !cJSON_AddItemToObject(o, "params", params)) {
		cJSON_Delete(params);
		return -ENOMEM;
	}
	return 0;
fail:
	cJSON_Delete(o);
	return -ENOMEM;
}

/* Verdicts given to some but not all of diag[n], each once, in order of
 * first appearance. Each trial's verdict is looked up once and each
 * distinct verdict counted once: O(n) per verdict, not O(n^2) (10,000
 * diagnosed trials took minutes). */
static int
add_verdicts(const struct spec *s, cJSON *out, const cJSON *const *diag,
	     int n, struct importance_obs *obs)
{
	cJSON *arr = cJSON_AddArrayToObject(out, "verdicts");
	const char **v = malloc(((size_t)n + 1) * sizeof *v);
	const char **seen = malloc(((size_t)n + 1) * sizeof *seen);
	int rc = 0, n_seen = 0;

	if (!arr || !v || !seen) {
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++)
		v[i] = verdict_of(diag[i]);
	for (int i = 0; i < n && rc == 0; i++) {
		int k = 0, dup = 0;
		for (int j = 0; j < n_seen && !dup; j++)
			dup = strcmp(seen[j], v[i]) == 0;
		if (dup)
			continue;
		seen[n_seen++] = v[i];
		for (int j = 0; j < n; j++)
			k += strcmp(v[j], v[i]) == 0;
		if (k < n)
			rc = add_verdict(s, arr, v[i], diag, v, n, obs);
	}
out:
	free(v);
	free(seen);
	return rc;
}

int
importance_json(const struct spec *s, const cJSON *trials, cJSON **out)
{
	int n = cJSON_GetArraySize(trials), n_done = 0, n_diag = 0, rc = -ENOMEM;
	struct importance_obs *obs = calloc((size_t)n + 1, sizeof *obs);
	const cJSON **diag = calloc((size_t)n + 1, sizeof *diag);
	const cJSON *t;
	cJSON *o = cJSON_CreateObject(), *arr;

	if (!obs || !diag || !o)
		goto fail;
	cJSON_ArrayForEach(t, trials) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(t, "status");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "objective");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "params");
		if (!cJSON_IsObject(p))
			continue;
		if (verdict_of(t))
			diag[n_diag++] = t;
		if (vocab_trial_parse(cJSON_GetStringValue(st)) == TRIAL_COMPLETED &&
		    cJSON_IsNumber(v) && isfinite(v->valuedouble))
			obs[n_done++] = (struct importance_obs){ p, v->valuedouble };
	}
	arr = ranked_json(s, obs, n_done);
	if (!cJSON_AddStringToObject(o, "method", METHOD) ||
	    !cJSON_AddNumberToObject(o, "trials", n_done) || !arr ||
	    !cJSON_AddItemToObject(o, "objective", arr)) {
		cJSON_Delete(arr);
		goto fail;
	}
	if (add_verdicts(s, o, diag, n_diag, obs) < 0)
		goto fail;
	*out = o;
	o = NULL;
	rc = 0;
fail:
	cJSON_Delete(o);
	free(obs);
	free(diag);
	return rc;
}
