/*
 * spec_parse.c: the sweep spec validator, spec_parse(): the sections in
 * order (each in its own file, each taking its path for its messages and
 * filling the struct being built), then "name", "enqueue", "diagnosis" and
 * the normalized JSON. The first fault ends the parse: one precise message
 * is worth more to a user editing a file than a list in which later
 * entries are consequences of the first.
 */
#include "daemon/search/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/spec_cond.h"
#include "daemon/search/spec_limits.h"
#include "daemon/search/spec_objective.h"
#include "daemon/search/spec_param.h"
#include "daemon/search/spec_resources.h"
#include "daemon/search/spec_search.h"
#include "daemon/search/spec_trainer.h"
#include "daemon/search/spec_util.h"

static int
parse_name(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const char *name;
	int rc = spec_get_str(root, "name", "", &name, err, errlen);

	if (rc < 0)
		return rc;
	if (!name)
		name = "sweep";
	if (strlen(name) > SPEC_MAX_NAME)
		return spec_fail(err, errlen, "name: longer than %d bytes", SPEC_MAX_NAME);
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return spec_fail(err, errlen, "name: control characters are "
					 "not allowed");
	s->name = strdup(name);
	return s->name ? 0 : -ENOMEM;
}

static int
parse_enqueue(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *eq = cJSON_GetObjectItemCaseSensitive(root, "enqueue");
	const cJSON *it;
	char where[64];
	int i = 0, rc;

	if (!eq)
		return 0;
	if (!cJSON_IsArray(eq))
		return spec_fail(err, errlen, "enqueue: must be an array of param "
				 "objects");
	cJSON_ArrayForEach(it, eq) {
		snprintf(where, sizeof where, "enqueue[%d]", ++i);   /* 1-based */
		if (!cJSON_IsObject(it))
			return spec_fail(err, errlen, "%s: must be an object of params",
					 where);
		rc = spec_check_params(s, it, where, err, errlen);
		if (rc < 0)
			return rc;
	}
	s->enqueue = cJSON_Duplicate(eq, 1);
	s->n_enqueue = i;
	return s->enqueue ? 0 : -ENOMEM;
}

/* After search: the enqueued sets are trials too. */
static int
check_enqueue_room(const struct spec *s, char *err, size_t errlen)
{
	int n = spec_n_enqueued(s);

	if (n > s->trials)
		return spec_fail(err, errlen, "enqueue: %d param sets but search.trials "
				 "is %d", n, s->trials);
	return 0;
}

static int
parse_diagnosis(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *d;
	int rc = spec_get_section(root, "diagnosis", &d, err, errlen);

	if (rc < 0 || !d)
		return rc;
	s->diagnosis = cJSON_Duplicate(d, 1);
	return s->diagnosis ? 0 : -ENOMEM;
}

static const char *const search_names[] = {
	[SPEC_GRID] = "grid", [SPEC_RANDOM] = "random", [SPEC_TPE] = "tpe",
};

/* s->json: the input with every default that matters to a reader (and to
 * the search) written out, so a stored spec means the same thing even if
 * a default changes in a later version. */
static int
normalize(struct spec *s, const cJSON *root)
{
	cJSON *j = cJSON_Duplicate(root, 1), *sec;
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	if (spec_put(j, "name", cJSON_CreateString(s->name)) < 0)
		goto fail;
	if (spec_normalize_objectives(s, j) < 0)
		goto fail;
	sec = spec_put_section(j, "search");
	if (!sec ||
	    spec_put(sec, "algorithm", cJSON_CreateString(search_names[s->algorithm])) < 0 ||
	    spec_put(sec, "trials", cJSON_CreateNumber(s->trials)) < 0 ||
	    spec_put(sec, "parallel", cJSON_CreateNumber(s->parallel)) < 0)
		goto fail;
	if (s->algorithm == SPEC_TPE &&
	    (spec_put(sec, "n_startup", cJSON_CreateNumber(s->tpe_n_startup)) < 0 ||
	     spec_put(sec, "gamma", s->tpe_gamma > 0 ? cJSON_CreateNumber(s->tpe_gamma) :
				   cJSON_CreateString("auto")) < 0 ||
	     spec_put(sec, "n_candidates", cJSON_CreateNumber(s->tpe_n_candidates)) < 0 ||
	     spec_put(sec, "multivariate", cJSON_CreateBool(s->tpe_multivariate)) < 0))
		goto fail;
	if (s->manual && (!(sec = spec_put_section(j, "limits")) ||
	    spec_put(sec, "heartbeat_s", cJSON_CreateNumber(s->heartbeat_s)) < 0))
		goto fail;
	sec = cJSON_GetObjectItemCaseSensitive(j, "pruner");
	if (s->pruner == SPEC_PRUNE_ASHA &&
	    (spec_put(sec, "min_epochs", cJSON_CreateNumber(s->prune_min_epochs)) < 0 ||
	     spec_put(sec, "eta", cJSON_CreateNumber(s->prune_eta)) < 0 ||
	     spec_put(sec, "promote", cJSON_CreateBool(s->prune_promote)) < 0))
		goto fail;
	if (s->pruner == SPEC_PRUNE_MEDIAN &&
	    spec_put(sec, "warmup_epochs", cJSON_CreateNumber(s->prune_warmup)) < 0)
		goto fail;
	if (s->pruner != SPEC_PRUNE_NONE &&
	    spec_put(sec, "min_trials", cJSON_CreateNumber(s->prune_min_trials)) < 0)
		goto fail;
	if (spec_normalize_resources(s, j) < 0)
		goto fail;
	s->json = j;
	return 0;
fail:
	cJSON_Delete(j);
	return rc;
}

/* "launcher": "local" or {"slurm": {...}}. The Slurm options themselves
 * are read by daemon/proc/slurm.c (slurm_opts_parse) when the sweep is
 * submitted or loaded: this layer only keeps them. */
static int
parse_launcher(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "launcher");
	const cJSON *sl;

	if (!l)
		return 0;
	if (cJSON_IsString(l) && strcmp(l->valuestring, "local") == 0) {
		s->launcher = SPEC_LAUNCHER_LOCAL;
		return 0;
	}
	sl = cJSON_GetObjectItemCaseSensitive(l, "slurm");
	if (!cJSON_IsObject(l) || cJSON_GetArraySize(l) != 1 ||
	    !(cJSON_IsObject(sl) || cJSON_IsNull(sl)))
		return spec_fail(err, errlen, "launcher: must be \"local\" or "
				 "{\"slurm\": {...}} (docs/slurm.md)");
	if (s->manual)
		return spec_fail(err, errlen, "launcher: a manual trainer runs no "
				 "process, so it has no launcher");
	s->launcher = SPEC_LAUNCHER_SLURM;
	s->slurm = cJSON_IsObject(sl) ? cJSON_Duplicate(sl, 1) : NULL;
	return !cJSON_IsObject(sl) || s->slurm ? 0 : -ENOMEM;
}

static const char *const top_keys[] = {
	"name", "trainer", "objective", "objectives", "space", "search",
	"early_stopping", "pruner", "limits", "diagnosis", "enqueue",
	"resources", "launcher",
};

int
spec_keep_stored_defaults(cJSON *json)
{
	cJSON *pr = cJSON_GetObjectItemCaseSensitive(json, "pruner");
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(pr, "algorithm");

	if (!cJSON_IsObject(pr) || !cJSON_IsString(alg) ||
	    strcmp(alg->valuestring, "asha") != 0 ||
	    cJSON_HasObjectItem(pr, "min_trials"))
		return 0;
	return cJSON_AddNumberToObject(pr, "min_trials", 0) ? 0 : -ENOMEM;
}

int
spec_parse(const cJSON *json, struct spec **out, char *err, size_t errlen)
{
	struct spec *s;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (!cJSON_IsObject(json))
		return spec_fail(err, errlen, "spec: must be a JSON object");
	rc = spec_check_keys(json, "", top_keys, sizeof top_keys / sizeof top_keys[0],
			     err, errlen);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	/* Space first: the trainer and enqueue checks look params up. */
	if ((rc = parse_name(s, json, err, errlen)) < 0 ||
	    (rc = spec_parse_space(s, json, err, errlen)) < 0 ||
	    (rc = spec_parse_conditions(s, err, errlen)) < 0 ||
	    (rc = spec_parse_trainer(s, json, err, errlen)) < 0 ||
	    (rc = spec_check_exec_size(s, err, errlen)) < 0 ||
	    (rc = spec_parse_objective(s, json, err, errlen)) < 0 ||
	    (rc = parse_enqueue(s, json, err, errlen)) < 0 ||
	    (rc = spec_parse_search(s, json, err, errlen)) < 0 ||
	    (rc = check_enqueue_room(s, err, errlen)) < 0 ||
	    (rc = spec_parse_early_stopping(s, json, err, errlen)) < 0 ||
	    (rc = spec_parse_pruner(s, json, err, errlen)) < 0 ||
	    (rc = spec_parse_limits(s, json, err, errlen)) < 0 ||
	    (rc = spec_parse_resources(s, json, err, errlen)) < 0 ||
	    (rc = parse_diagnosis(s, json, err, errlen)) < 0 ||
	    (rc = parse_launcher(s, json, err, errlen)) < 0 ||
	    (rc = normalize(s, json)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory while reading the spec");
	spec_free(s);
	return rc;
}
