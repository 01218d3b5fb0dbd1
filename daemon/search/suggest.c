/*
 * suggest.c: sampler_suggest() on libuv's thread pool.
 *
 * The pool thread only reads the spec and the observations and builds a
 * new params object (cJSON allocates with malloc, which is thread-safe);
 * everything else happens in after_work on the loop thread.
 */
#include "daemon/search/suggest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct suggest_job {
	uv_work_t req;
	const struct spec *sp;      /* borrowed */
	struct sampler_obs *obs;    /* owned array; params borrowed */
	int n_obs;
	double *values;             /* owned; NULL: one objective */
	int maximize[SPEC_MAX_OBJECTIVES];
	int number;
	int rc;
	cJSON *params;
	suggest_done_fn *done;
	void *ud;
	char err[512];
};

static void
work(uv_work_t *req)
{
	struct suggest_job *j = req->data;

	struct sampler_objectives o = { j->sp->n_objectives, j->maximize,
					j->values };

	j->rc = sampler_suggest_mo(j->sp, j->values ? &o : NULL, j->number,
				   NULL, j->obs, j->n_obs, &j->params, j->err,
				   sizeof j->err);
}

static void
after_work(uv_work_t *req, int status)
{
	struct suggest_job *j = req->data;

	if (status < 0 && j->rc == 0) {   /* cancelled: never ran */
		j->rc = status;
		snprintf(j->err, sizeof j->err, "suggestion cancelled");
	}
	j->done(j->ud, j->number, j->rc, j->rc == 0 ? j->params : NULL, j->err);
	if (j->rc < 0)
		cJSON_Delete(j->params);
	free(j->obs);
	free(j->values);
	free(j);
}

int
suggest_start(uv_loop_t *loop, const struct spec *sp, int number,
	      struct sampler_obs *obs, int n_obs, suggest_done_fn *done,
	      void *ud)
{
	return suggest_start_mo(loop, sp, number, obs, n_obs, NULL, done, ud);
}

int
suggest_start_mo(uv_loop_t *loop, const struct spec *sp, int number,
		 struct sampler_obs *obs, int n_obs, double *values,
		 suggest_done_fn *done, void *ud)
{
	struct suggest_job *j = calloc(1, sizeof *j);
	int rc;

	if (!j) {
		free(obs);
		free(values);
		return -ENOMEM;
	}
	j->req.data = j;
	j->sp = sp;
	j->obs = obs;
	j->n_obs = n_obs;
	j->values = values;
	for (int i = 0; i < sp->n_objectives && i < SPEC_MAX_OBJECTIVES; i++)
		j->maximize[i] = sp->objectives[i].mode_max;
	j->number = number;
	j->done = done;
	j->ud = ud;
	rc = uv_queue_work(loop, &j->req, work, after_work);
	if (rc < 0) {
		free(obs);
		free(values);
		free(j);
	}
	return rc;
}
