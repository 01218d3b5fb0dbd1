/*
 * fuzz_spec.c: libFuzzer target for the sweep-spec validator
 * (daemon/search/spec.c) and the samplers behind it (daemon/search/sampler.c, tpe.c).
 *
 * The input is JSON text (what a client puts under "spec"). Per input:
 *  - spec_parse either fails with -EINVAL and a non-empty message, or
 *    succeeds;
 *  - on success, s->json holds no non-finite number (cJSON reads 1e999
 *    as inf, and prints inf as null), and s->json printed (as the daemon
 *    stores it) and parsed again gives the same normalized JSON;
 *  - sampler_suggest for trials 1..3 (those up to search.trials; an enqueued params set as `fixed`
 *    where the spec has one, the earlier trials as observations with a
 *    value made from the input, so TPE with a small n_startup learns from
 *    them) gives an object with every space param, each value inside its
 *    distribution, and passing spec_check_params;
 *  - the grid helpers agree with each other.
 * Never starts anything: the spec is only parsed and sampled.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"

#define FUZZ_TARGET "fuzz_spec"
#include "tests/fuzz/fuzz_check.h"

/* Whether any number in v is +-inf or NaN; path (len bytes) gets where,
 * as a list of keys and indexes. */
static int
has_nonfinite(const cJSON *v, char *path, size_t len)
{
	const cJSON *c;
	size_t used = strlen(path);
	int i = 0;

	if (cJSON_IsNumber(v))
		return !isfinite(v->valuedouble);
	cJSON_ArrayForEach(c, v) {
		if (c->string)
			snprintf(path + used, len - used, ".%.40s", c->string);
		else
			snprintf(path + used, len - used, "[%d]", i);
		i++;
		if (has_nonfinite(c, path, len))
			return 1;
		path[used] = '\0';
	}
	return 0;
}

#define N_TRIALS 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether v holds an object with a key twice: cJSON_Compare finds such
 * an object unequal to itself. */
static int
has_dup_key(const cJSON *v)
{
	const cJSON *c, *d;

	cJSON_ArrayForEach(c, v) {
		if (cJSON_IsObject(v))
			for (d = c->next; d; d = d->next)
				if (strcmp(c->string, d->string) == 0)
					return 1;
		if (has_dup_key(c))
			return 1;
	}
	return 0;
}

/* v is a value p can take, checked here independently of spec.c. */
static void
check_in_dist(const struct spec_param *p, const cJSON *v)
{
	const cJSON *c;
	double x;

	if (!v)
		FAIL("param %s missing from the suggestion", p->name);
	switch (p->kind) {
	case SPEC_CONST:
		if (cJSON_Compare(v, p->values, 1))
			return;
		KNOWN("spec-dup-key", !has_dup_key(v), "param %s: a constant "
		      "with a duplicate key is not equal to itself", p->name);
		if (has_dup_key(v))
			return;
		FAIL("param %s: suggested value is not the constant", p->name);
	case SPEC_CHOICE:
		cJSON_ArrayForEach(c, p->values)
			if (cJSON_Compare(v, c, 1))
				return;
		KNOWN("spec-dup-key", !has_dup_key(v), "param %s: a choice "
		      "with a duplicate key is not equal to itself", p->name);
		if (has_dup_key(v))
			return;
		FAIL("param %s: suggested value is not a choice", p->name);
	case SPEC_UNIFORM:
	case SPEC_LOGUNIFORM:
	case SPEC_INT:
	case SPEC_LOGINT:
		break;
	}
	if (!cJSON_IsNumber(v))
		FAIL("param %s: suggested a non-number", p->name);
	x = v->valuedouble;
	if (!isfinite(x) || x < p->low || x > p->high)
		FAIL("param %s: %.17g outside [%.17g, %.17g] (kind %d)", p->name,
		     x, p->low, p->high, (int)p->kind);
	if ((p->kind == SPEC_INT || p->kind == SPEC_LOGINT) && x != floor(x))
		FAIL("param %s: %.17g is not an integer", p->name, x);
}

static void
check_grid(const struct spec *s)
{
	long size = spec_grid_size(s);

	REQUIRE(size >= -1 && size <= SPEC_MAX_TRIALS + 1L);
	for (int i = 0; i < s->n_params; i++) {
		const struct spec_param *p = &s->params[i];
		long n = spec_param_grid_len(p);
		cJSON *v;

		if (n < 0) {
			REQUIRE(size == -1);
			continue;
		}
		REQUIRE(n >= 1);
		REQUIRE(!spec_param_grid_value(p, n));
		REQUIRE(!spec_param_grid_value(p, -1));
		/* first and last points */
		for (long k = 0; k < 2; k++) {
			v = spec_param_grid_value(p, k ? n - 1 : 0);
			REQUIRE(v);
			check_in_dist(p, v);
			cJSON_Delete(v);
		}
	}
	if (s->algorithm == SPEC_GRID)
		REQUIRE(size >= 1 && s->trials <= size + spec_n_enqueued(s));
}

static void
check_sampling(const struct spec *s, const uint8_t *data, size_t size)
{
	struct sampler_obs obs[N_TRIALS];
	cJSON *got[N_TRIALS] = { 0 };
	char err[1024];
	int n_enq = spec_n_enqueued(s);

	for (int k = 0; k < N_TRIALS && k < s->trials; k++) {
		int number = k + 1;
		const cJSON *fixed = number <= n_enq ?
			cJSON_GetArrayItem(s->enqueue, k) : NULL;
		cJSON *params = NULL, *it;
		int rc, n = 0;

		err[0] = '\0';
		rc = sampler_suggest(s, number, fixed, obs, k, &params, err,
				     sizeof err);
		/* Every trial number the sweep will use must be suggested:
		 * the daemon creates them (enqueued ones at submit time). */
		if (rc < 0 && s->algorithm == SPEC_GRID && number <= n_enq &&
		    number > spec_grid_size(s) && fuzz_ignored("grid-enqueue"))
			break;
		if (rc < 0)
			FAIL("trial %d of %d: sampler_suggest: %d: %s", number,
			     s->trials, rc, err);
		REQUIRE(params);
		if (getenv("SWEEPD_FUZZ_LOG")) {
			char *t = cJSON_PrintUnformatted(params);
			fprintf(stderr, "trial %d: %s\n", number, t ? t : "?");
			cJSON_free(t);
		}
		REQUIRE(cJSON_IsObject(params));
		cJSON_ArrayForEach(it, params)
			n++;
		REQUIRE(n == s->n_params);
		for (int i = 0; i < s->n_params; i++)
			check_in_dist(&s->params[i],
				      cJSON_GetObjectItemCaseSensitive(
					      params, s->params[i].name));
		if (spec_check_params(s, params, "suggested", err, sizeof err)) {
			KNOWN("spec-dup-key", !has_dup_key(params), "trial %d: "
			      "suggestion refused: %s", number, err);
			if (!has_dup_key(params))
				FAIL("trial %d: suggestion refused: %s", number,
				     err);
		}
		if (fixed && !has_dup_key(fixed))
			cJSON_ArrayForEach(it, fixed)
				REQUIRE(cJSON_Compare(it,
					cJSON_GetObjectItemCaseSensitive(
						params, it->string), 1));
		got[k] = params;
		obs[k].params = params;
		obs[k].state = (k == 1) ? SAMPLER_PRUNED : SAMPLER_COMPLETE;
		obs[k].value = size ? (double)data[(size_t)k * 7 % size] / 7.0 : 0;
		obs[k].epochs = 1 + k;
	}
	for (int k = 0; k < N_TRIALS; k++)
		cJSON_Delete(got[k]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *json = cJSON_ParseWithLength((const char *)data, size);
	struct spec *s = NULL, *s2 = NULL;
	cJSON *stored;
	char err[1024], path[512], *a, *b;
	int rc;

	if (!json)
		return 0;
	memset(err, 0x55, sizeof err);
	rc = spec_parse(json, &s, err, sizeof err);
	if (getenv("SWEEPD_FUZZ_LOG"))
		fprintf(stderr, "spec_parse: %d %s\n", rc, rc < 0 ? err : "");
	if (rc < 0) {
		REQUIRE(rc == -EINVAL || rc == -ENOMEM);
		REQUIRE(!s);
		REQUIRE(memchr(err, '\0', sizeof err));
		if (!err[0])
			FAIL("spec_parse failed (%d) with an empty message", rc);
		/* A tiny buffer is truncated, not overrun. */
		rc = spec_parse(json, &s, err, 4);
		REQUIRE(rc < 0 && strlen(err) < 4);
		cJSON_Delete(json);
		return 0;
	}
	REQUIRE(s);
	REQUIRE(s->n_params >= 1 && s->params);
	REQUIRE(s->trials >= 1 && s->trials <= SPEC_MAX_TRIALS);
	REQUIRE(s->parallel >= 1 && s->parallel <= SPEC_MAX_PARALLEL);
	REQUIRE(s->metric && s->json);
	REQUIRE(s->builtin || (s->argv && s->argc >= 1 && !s->argv[s->argc]));
	for (int i = 0; i < s->n_params; i++) {
		REQUIRE(s->params[i].name && s->params[i].name[0]);
		REQUIRE(spec_param_index(s, s->params[i].name) == i);
	}

	/* A number cJSON read as +-inf (1e999) prints as null: the spec
	 * the daemon stores would not be the spec it checked. */
	path[0] = '\0';
	if (has_nonfinite(s->json, path, sizeof path)) {
		KNOWN("spec-nonfinite", 0, "spec accepted with a non-finite "
		      "number at %s, stored as null", path);
		goto out;
	}

	/* The normalized spec, stored as text (as sched_submit does) and
	 * read back (as a restarted daemon does), parses to the same
	 * normalized spec. */
	a = cJSON_PrintUnformatted(s->json);
	REQUIRE(a);
	stored = cJSON_Parse(a);
	REQUIRE(stored);
	rc = spec_parse(stored, &s2, err, sizeof err);
	if (rc < 0)
		FAIL("stored spec refused: %s\n%s", err, a);
	b = cJSON_PrintUnformatted(s2->json);
	REQUIRE(b);
	if (strcmp(a, b) != 0)
		FAIL("normalizing twice differs:\n%s\n%s", a, b);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(stored);
	spec_free(s2);

	check_grid(s);
	check_sampling(s, data, size);
	/* With a seed set (as the daemon does for a seedless spec). */
	if (!s->has_seed) {
		spec_set_seed(s, size * 2654435761u);
		REQUIRE(s->has_seed);
		check_sampling(s, data, size);
	}
out:
	spec_free(s);
	cJSON_Delete(json);
	return 0;
}
