/*
 * test_histmo.c: several objectives from the history to MOTPE
 * (daemon/sched/hist_mo.c, daemon/search/suggest.c): the values handed to
 * the sampler are those recorded, parallel to hist_build_obs's
 * observations (a number without params skipped); the suggestion the
 * scheduler makes from them is MOTPE's (sampler_suggest_mo over those
 * values), not the first objective's alone, on the loop thread and off
 * it; with one objective no values are built.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "daemon/sched/hist.h"
#include "daemon/sched/hist_mo.h"
#include "daemon/search/sampler.h"
#include "daemon/search/suggest.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

#define N 40

static const char *two_spec =
	"{'trainer': {'command': ['/bin/true']},"
	" 'objectives': [{'metric': 'val_acc', 'mode': 'max'},"
	"                {'metric': 'seconds', 'mode': 'min'}],"
	" 'space': {'x': {'uniform': [0, 1]}},"
	" 'search': {'algorithm': 'tpe', 'seed': 3, 'n_startup': 4, 'trials': 100}}";

/* N trials, number 5 left without params; val_acc rises with x, seconds
 * with x too: the objectives conflict, and the first alone says x = 1. */
static void
fill(struct hist *hs)
{
	hs->on = 1;
	for (int n = 1; n <= N; n++) {
		char text[64];
		double x = (n * 37 % N) / (double)N, v[2] = { x, x * x };

		if (n == 5) {
			(void)hist_at(hs, n);
			continue;
		}
		snprintf(text, sizeof text, "{\"x\": %.17g}", x);
		hist_set_params(hs, n, text);
		hist_at(hs, n)->state = SAMPLER_COMPLETE;
		hist_at(hs, n)->value = v[0];
		hist_set_values(hs, n, v, 2);
	}
}

static char *
text_of(cJSON *j)
{
	char *t = j ? cJSON_PrintUnformatted(j) : NULL;

	cJSON_Delete(j);
	return t;
}

struct ctx {
	int calls;
	char *params;
};

static void
done(void *ud, int number, int rc, cJSON *params, const char *err)
{
	struct ctx *c = ud;

	(void)number;
	c->calls++;
	if (rc < 0)
		printf("# %s\n", err);
	c->params = text_of(params);
}

static char *
off_loop(const struct spec *s, struct hist *hs)
{
	const struct sampler_objectives *objs;
	struct hist_objs mo = { 0 };
	struct ctx c = { 0 };
	int n_obs = 0;
	struct sampler_obs *obs = hist_build_obs(hs, N, &n_obs);
	uv_loop_t loop;

	if (hist_objs_build(&mo, hs, s, N, &objs) < 0)
		return NULL;
	uv_loop_init(&loop);
	CHECK(suggest_start_mo(&loop, s, N + 1, obs, n_obs, mo.values, done,
			       &c) == 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	CHECK(c.calls == 1);
	return c.params;
}

static void
history_to_motpe(void)
{
	struct spec *s = parse(two_spec);
	struct hist hs = { 0 };
	const struct sampler_objectives *objs = NULL;
	struct hist_objs mo = { 0 };
	struct sampler_obs *obs;
	double want[2 * N];
	cJSON *p = NULL;
	char err[256], *via_hist, *by_hand, *single, *pool;
	int n_obs = 0, k = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	fill(&hs);
	obs = hist_build_obs(&hs, N, &n_obs);
	CHECK(n_obs == N - 1);
	CHECK(hist_objs_build(&mo, &hs, s, N, &objs) == 0);
	CHECK(objs && objs->k == 2 && objs->maximize[0] == 1 &&
	      objs->maximize[1] == 0);
	for (int n = 1; n <= N; n++)
		if (n != 5) {
			want[k++] = (n * 37 % N) / (double)N;
			want[k] = want[k - 1] * want[k - 1];
			k++;
		}
	CHECK(objs && memcmp(objs->values, want, sizeof want - 2 *
			     sizeof *want) == 0);
	CHECK(sampler_suggest_mo(s, objs, N + 1, NULL, obs, n_obs, &p, err,
				 sizeof err) == 0);
	via_hist = text_of(p);
	{
		struct sampler_objectives o = { 2, (int[]){ 1, 0 }, want };
		CHECK(sampler_suggest_mo(s, &o, N + 1, NULL, obs, n_obs, &p,
					 err, sizeof err) == 0);
		by_hand = text_of(p);
	}
	CHECK(sampler_suggest(s, N + 1, NULL, obs, n_obs, &p, err,
			      sizeof err) == 0);
	single = text_of(p);
	pool = off_loop(s, &hs);
	CHECK_MSG(via_hist && by_hand && strcmp(via_hist, by_hand) == 0,
		  "%s vs %s", via_hist, by_hand);
	CHECK_MSG(via_hist && single && strcmp(via_hist, single) != 0,
		  "MOTPE suggested what TPE on the first objective does: %s",
		  single);
	CHECK_MSG(pool && via_hist && strcmp(pool, via_hist) == 0, "%s vs %s",
		  pool ? pool : "(null)", via_hist);
	hist_objs_free(&mo);
	free(obs);
	free(via_hist);
	free(by_hand);
	free(single);
	free(pool);
	hist_free(&hs);
	spec_free(s);
}

static void
one_objective_builds_nothing(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}",
				    "{'algorithm': 'tpe'}", ""));
	struct hist hs = { 0 };
	const struct sampler_objectives *objs = (void *)&hs;
	struct hist_objs mo = { 0 };

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	fill(&hs);
	CHECK(hist_objs_build(&mo, &hs, s, N, &objs) == 0);
	CHECK(objs == NULL && mo.values == NULL);
	CHECK(isnan(hist_at(&hs, 5)->values[0]));   /* never recorded */
	hist_objs_free(&mo);
	hist_free(&hs);
	spec_free(s);
}

int
main(void)
{
	RUN(history_to_motpe);
	RUN(one_objective_builds_nothing);
	return harness_done();
}
