/*
 * test_suggest.c: a TPE suggestion computed on the thread pool
 * (daemon/search/suggest.c) gives the params the loop thread would have, calls
 * its callback once, on the loop, after the loop has served other
 * callbacks (it does not run inside suggest_start), and frees what it took.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "daemon/search/sampler.h"
#include "daemon/search/suggest.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

#define N_OBS 2000

struct ctx {
	int calls;
	int idle_runs;        /* loop iterations seen before the callback */
	int idle_at_done;
	int rc;
	char *params;
	uv_idle_t idle;
};

static void
on_idle(uv_idle_t *h)
{
	((struct ctx *)h->data)->idle_runs++;
}

static void
done(void *ud, int number, int rc, cJSON *params, const char *err)
{
	struct ctx *c = ud;

	(void)number;
	c->calls++;
	c->rc = rc;
	c->idle_at_done = c->idle_runs;
	if (rc < 0)
		printf("# %s\n", err);
	c->params = params ? cJSON_PrintUnformatted(params) : NULL;
	cJSON_Delete(params);
	uv_idle_stop(&c->idle);
}

static void
matches_the_loop_and_lets_it_run(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}, 'k': {'choice': [1, 2, 3]},"
				    " 'lr': {'loguniform': [0.001, 1]}}",
				    "{'algorithm': 'tpe', 'seed': 4, 'trials': 100000}", ""));
	struct sampler_obs *obs = calloc(N_OBS, sizeof *obs);
	cJSON *params[N_OBS], *sync = NULL;
	struct ctx c = { 0 };
	struct sampler_rng r;
	char err[256], *sync_text = NULL;
	uv_loop_t loop;

	CHECK_MSG(s, "%s", util_err);
	if (!s || !obs)
		return;
	sampler_rng_init(&r, 1, 2);
	for (int i = 0; i < N_OBS; i++) {
		char text[128];
		double x = sampler_rng_uniform(&r);
		snprintf(text, sizeof text, "{'x': %.17g, 'k': %d, 'lr': %.17g}", x, 1 + i % 3,
			 0.001 + x / 2);
		params[i] = J(text);
		obs[i] = (struct sampler_obs){ params[i], SAMPLER_COMPLETE, 1 - (x - 0.3) * (x - 0.3),
					       5 };
	}
	CHECK(sampler_suggest(s, N_OBS + 1, NULL, obs, N_OBS, &sync, err, sizeof err) == 0);
	sync_text = cJSON_PrintUnformatted(sync);
	uv_loop_init(&loop);
	uv_idle_init(&loop, &c.idle);
	c.idle.data = &c;
	uv_idle_start(&c.idle, on_idle);
	CHECK(suggest_start(&loop, s, N_OBS + 1, obs, N_OBS, done, &c) == 0);
	CHECK(c.calls == 0);   /* not inside suggest_start */
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(c.calls == 1);
	CHECK(c.rc == 0);
	CHECK(c.idle_at_done > 0);
	CHECK_MSG(c.params && sync_text && strcmp(c.params, sync_text) == 0, "%s vs %s",
		  c.params ? c.params : "(null)", sync_text ? sync_text : "(null)");
	uv_close((uv_handle_t *)&c.idle, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(uv_loop_close(&loop) == 0);
	for (int i = 0; i < N_OBS; i++)
		cJSON_Delete(params[i]);
	free(c.params);
	cJSON_free(sync_text);
	cJSON_Delete(sync);
	spec_free(s);
}

/* A failure reaches the callback with the sampler's message. */
static void
reports_a_bad_number(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}", "{'algorithm': 'tpe'}", ""));
	struct ctx c = { 0 };
	uv_loop_t loop;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	uv_loop_init(&loop);
	uv_idle_init(&loop, &c.idle);
	c.idle.data = &c;
	uv_idle_start(&c.idle, on_idle);
	CHECK(suggest_start(&loop, s, 0, NULL, 0, done, &c) == 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(c.calls == 1 && c.rc == -EINVAL && !c.params);
	uv_close((uv_handle_t *)&c.idle, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	spec_free(s);
}

int
main(void)
{
	RUN(matches_the_loop_and_lets_it_run);
	RUN(reports_a_bad_number);
	return harness_done();
}
