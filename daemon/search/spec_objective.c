/*
 * spec_objective.c: what the sweep optimizes: one "objective", or an
 * "objectives" list whose first entry plays that part.
 */
#include "daemon/search/spec_objective.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/spec_util.h"

static const char *const objective_keys[] = { "metric", "mode" };

/* One objective object (the section "objective" or an entry of
 * "objectives") at path into *o; o->metric is set (owned) last. */
static int
parse_one(const cJSON *obj, const char *path, struct spec_objective *o,
	  char *err, size_t errlen)
{
	const char *metric, *mode;
	int rc, acc, loss;

	rc = spec_check_keys(obj, path, objective_keys, 2, err, errlen);
	if (rc < 0)
		return rc;
	rc = spec_get_str(obj, "metric", path, &metric, err, errlen);
	if (rc < 0)
		return rc;
	if (!metric)
		return spec_fail(err, errlen, "%s.metric: required (a key of the "
				 "trainer's epoch lines, e.g. \"val_acc\")", path);
	if (strcmp(metric, "epoch") == 0)
		return spec_fail(err, errlen, "%s.metric: \"epoch\" is the epoch "
				 "number, not a metric", path);
	rc = spec_get_str(obj, "mode", path, &mode, err, errlen);
	if (rc < 0)
		return spec_fail(err, errlen, "%s.mode: must be \"max\" or \"min\"",
				 path);
	if (mode && strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0)
		return spec_fail(err, errlen, "%s.mode: must be \"max\" or "
				 "\"min\", not \"%s\"", path, mode);
	/* Guessing the direction is safe only for names that say it. */
	acc = strstr(metric, "acc") != NULL;
	loss = strstr(metric, "loss") != NULL;
	if (!mode && acc == loss)
		return spec_fail(err, errlen, "%s.mode: required for metric "
				 "\"%s\" (\"max\" or \"min\"); only a name with \"acc\" "
				 "or \"loss\" in it has a default", path, metric);
	o->mode_max = mode ? strcmp(mode, "max") == 0 : acc;
	o->metric = strdup(metric);
	return o->metric ? 0 : -ENOMEM;
}

/* The "objectives" list: entries checked in order, a metric given twice
 * refused at its second entry. */
static int
parse_list(struct spec *s, const cJSON *list, char *err, size_t errlen)
{
	const cJSON *it;
	char path[32];
	int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0, i = 0, rc, k;

	if (n < 1)
		return spec_fail(err, errlen, "objectives: must be a non-empty array "
				 "of objectives, e.g. [{\"metric\": \"val_acc\", "
				 "\"mode\": \"max\"}, {\"metric\": \"seconds\", "
				 "\"mode\": \"min\"}]");
	if (n > SPEC_MAX_OBJECTIVES)
		return spec_fail(err, errlen, "objectives: at most %d objectives, "
				 "not %d", SPEC_MAX_OBJECTIVES, n);
	cJSON_ArrayForEach(it, list) {
		snprintf(path, sizeof path, "objectives[%d]", i);
		if (!cJSON_IsObject(it))
			return spec_fail(err, errlen, "%s: must be an object "
					 "{\"metric\": ..., \"mode\": ...}", path);
		rc = parse_one(it, path, &s->objectives[i], err, errlen);
		if (rc < 0)
			return rc;
		s->n_objectives = ++i;
		k = spec_objective_index(s, s->objectives[i - 1].metric);
		if (k < i - 1)
			return spec_fail(err, errlen, "%s.metric: \"%s\" is already "
					 "objectives[%d]", path,
					 s->objectives[k].metric, k);
	}
	return 0;
}

int
spec_parse_objective(struct spec *s, const cJSON *root, char *err,
		     size_t errlen)
{
	const cJSON *obj, *list = cJSON_GetObjectItemCaseSensitive(root,
								  "objectives");
	int rc;

	rc = spec_get_section(root, "objective", &obj, err, errlen);
	if (rc < 0)
		return rc;
	if (obj && list)
		return spec_fail(err, errlen, "objectives: give \"objective\" or "
				 "\"objectives\", not both (the first of "
				 "\"objectives\" is the objective)");
	if (!obj && !list)
		return spec_fail(err, errlen, "objective: required, e.g. {\"metric\": "
				 "\"val_acc\", \"mode\": \"max\"} (or \"objectives\": "
				 "[...] for several)");
	if (list) {
		rc = parse_list(s, list, err, errlen);
	} else {
		rc = parse_one(obj, "objective", &s->objectives[0], err, errlen);
		if (rc == 0)
			s->n_objectives = 1;
	}
	if (rc < 0)
		return rc;
	s->metric = s->objectives[0].metric;
	s->mode_max = s->objectives[0].mode_max;
	return 0;
}

int
spec_normalize_objectives(const struct spec *s, cJSON *j)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "objectives"), *sec;

	if (!list) {
		sec = spec_put_section(j, "objective");
		return sec ? spec_put(sec, "mode", cJSON_CreateString(s->mode_max ?
							 "max" : "min")) : -ENOMEM;
	}
	for (int i = 0; i < s->n_objectives; i++)
		if (spec_put(cJSON_GetArrayItem(list, i), "mode",
			     cJSON_CreateString(s->objectives[i].mode_max ?
						"max" : "min")) < 0)
			return -ENOMEM;
	return 0;
}

void
spec_objective_list(const struct spec *s, char *buf, size_t len)
{
	size_t used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (int i = 0; i < s->n_objectives && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? ", " : "", s->objectives[i].metric);
}

int
spec_objective_index(const struct spec *s, const char *metric)
{
	for (int i = 0; i < s->n_objectives; i++)
		if (strcmp(s->objectives[i].metric, metric) == 0)
			return i;
	return -1;
}
