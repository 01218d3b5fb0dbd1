/*
 * res.c: the daemon's CPUs and GPUs and what trials hold (res.h).
 */
#include "daemon/sched/res.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/search/spec.h"

void
res_init(struct sched_res *r, int cpus, const int *ids, int n_gpus)
{
	memset(r, 0, sizeof *r);
	r->cpus = cpus > 0 ? cpus : 1;
	r->n_gpus = n_gpus < 0 ? 0 : n_gpus > RES_MAX_GPUS ? RES_MAX_GPUS : n_gpus;
	for (int i = 0; i < r->n_gpus; i++)
		r->gpu_id[i] = ids[i];
}

static int
gpus_free(const struct sched_res *r)
{
	int n = 0;

	for (int i = 0; i < r->n_gpus; i++)
		n += r->gpu_owner[i] == 0;
	return n;
}

int
res_fits(const struct sched_res *r, const struct spec *sp)
{
	return r->cpus - r->cpus_used >= sp->cpus && gpus_free(r) >= sp->gpus;
}

/* The device ids of r, comma-separated, into buf. */
static void
all_ids(const struct sched_res *r, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < r->n_gpus && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%d",
					 i ? "," : "", r->gpu_id[i]);
}

int
res_check_spec(const struct sched_res *r, const struct spec *sp, char *err,
	       size_t errlen)
{
	char ids[RES_MAX_GPUS * 12];

	if (sp->cpus > r->cpus) {
		snprintf(err, errlen, "resources.cpus: %d asked for, but sweepd has "
			 "%d CPUs (sweepd --cpus)", sp->cpus, r->cpus);
		return -EINVAL;
	}
	if (sp->gpus > r->n_gpus && r->n_gpus == 0) {
		snprintf(err, errlen, "resources.gpus: %d asked for, but sweepd has "
			 "no GPUs (start it with --gpus LIST or --gpus auto)",
			 sp->gpus);
		return -EINVAL;
	}
	if (sp->gpus > r->n_gpus) {
		all_ids(r, ids, sizeof ids);
		snprintf(err, errlen, "resources.gpus: %d asked for, but sweepd has "
			 "%d GPU%s (%s)", sp->gpus, r->n_gpus,
			 r->n_gpus == 1 ? "" : "s", ids);
		return -EINVAL;
	}
	return 0;
}

void
res_take(struct sched_res *r, struct res_hold *h, int64_t owner,
	 const struct spec *sp)
{
	memset(h, 0, sizeof *h);
	h->held = 1;
	h->cpus = sp->cpus;
	r->cpus_used += sp->cpus;
	for (int i = 0; i < r->n_gpus && h->n_gpus < sp->gpus; i++) {
		if (r->gpu_owner[i] != 0)
			continue;
		r->gpu_owner[i] = owner;
		h->gpu[h->n_gpus++] = i;
	}
}

void
res_give(struct sched_res *r, struct res_hold *h)
{
	if (!h->held)
		return;
	r->cpus_used -= h->cpus;
	for (int i = 0; i < h->n_gpus; i++)
		r->gpu_owner[h->gpu[i]] = 0;
	memset(h, 0, sizeof *h);
}

void
res_gpu_list(const struct sched_res *r, const struct res_hold *h, char *buf,
	     size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < h->n_gpus && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%d",
					 i ? "," : "", r->gpu_id[h->gpu[i]]);
}

int
res_env(const struct sched_res *r, const struct res_hold *h,
	const cJSON *spec_env,
	int (*set)(void *ud, const char *name, const char *value), void *ud)
{
	static const char *const threads[] = {
		"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
	};
	char n[16], gpus[RES_MAX_GPUS * 12];
	int rc;

	snprintf(n, sizeof n, "%d", h->cpus > 0 ? h->cpus : 1);
	rc = set(ud, "SWEEP_CPUS", n);
	for (size_t i = 0; i < sizeof threads / sizeof threads[0] && rc == 0; i++)
		if (!cJSON_GetObjectItemCaseSensitive(spec_env, threads[i]))
			rc = set(ud, threads[i], n);
	res_gpu_list(r, h, gpus, sizeof gpus);
	if (rc == 0)
		rc = set(ud, "SWEEP_GPUS", gpus);
	if (rc == 0 && r->n_gpus > 0)
		rc = set(ud, "CUDA_VISIBLE_DEVICES", gpus);
	return rc;
}

int
res_stats(const struct sched_res *r, cJSON *obj)
{
	cJSON *c = cJSON_AddObjectToObject(obj, "cpus");
	cJSON *g = cJSON_AddObjectToObject(obj, "gpus");
	cJSON *used = g ? cJSON_AddArrayToObject(g, "used") : NULL;
	cJSON *fr = g ? cJSON_AddArrayToObject(g, "free") : NULL;

	if (!c || !used || !fr ||
	    !cJSON_AddNumberToObject(c, "total", r->cpus) ||
	    !cJSON_AddNumberToObject(c, "used", r->cpus_used) ||
	    !cJSON_AddNumberToObject(c, "free", r->cpus - r->cpus_used) ||
	    !cJSON_AddNumberToObject(g, "total", r->n_gpus))
		return -ENOMEM;
	for (int i = 0; i < r->n_gpus; i++) {
		cJSON *n = cJSON_CreateNumber(r->gpu_id[i]);
		if (!n || !cJSON_AddItemToArray(r->gpu_owner[i] ? used : fr, n)) {
			cJSON_Delete(n);
			return -ENOMEM;
		}
	}
	return 0;
}
