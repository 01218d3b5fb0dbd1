/*
 * spec_resources.c: the "resources" section: {"cpus": N, "gpus": N}, what
 * one trial of the sweep holds while it runs (the scheduler,
 * daemon/sched/res.h, starts it only when they are free). Whether the
 * daemon has that much is checked at submit, not here: the spec alone
 * does not know the daemon.
 */
#include "daemon/search/spec_resources.h"

#include <errno.h>

#include "daemon/search/spec_util.h"

static const char *const resources_keys[] = { "cpus", "gpus" };

int
spec_parse_resources(struct spec *s, const cJSON *root, char *err,
		     size_t errlen)
{
	const cJSON *res;
	long cpus, gpus;
	int rc;

	s->cpus = 1;
	s->gpus = 0;
	rc = spec_get_section(root, "resources", &res, err, errlen);
	if (rc < 0 || !res)
		return rc;
	if (s->manual)
		return spec_fail(err, errlen, "resources: not for a manual trainer "
				 "(its trials run in the client's process, which "
				 "sweepd does not schedule)");
	rc = spec_check_keys(res, "resources", resources_keys,
			     sizeof resources_keys / sizeof resources_keys[0],
			     err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = spec_get_int(res, "cpus", "resources", 1, SPEC_MAX_CPUS, 1,
			       &cpus, err, errlen)) < 0 ||
	    (rc = spec_get_int(res, "gpus", "resources", 0, SPEC_MAX_GPUS, 0,
			       &gpus, err, errlen)) < 0)
		return rc;
	s->cpus = (int)cpus;
	s->gpus = (int)gpus;
	return 0;
}

int
spec_normalize_resources(const struct spec *s, cJSON *j)
{
	cJSON *sec;

	if (s->manual)
		return 0;
	sec = spec_put_section(j, "resources");
	if (!sec || spec_put(sec, "cpus", cJSON_CreateNumber(s->cpus)) < 0 ||
	    spec_put(sec, "gpus", cJSON_CreateNumber(s->gpus)) < 0)
		return -ENOMEM;
	return 0;
}
