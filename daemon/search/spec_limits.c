/*
 * spec_limits.c: the "early_stopping", "pruner" and "limits" sections.
 */
#include "daemon/search/spec_limits.h"

#include <math.h>
#include <string.h>

#include "common/vocab.h"
#include "daemon/search/spec_objective.h"
#include "daemon/search/spec_util.h"

#define MAX_SECONDS       1e9

/* limits.retry_on's bits are the error classes' (1u << class). */
_Static_assert(SPEC_RETRY_SIGNAL == 1u << CLASS_SIGNAL &&
	       SPEC_RETRY_TIMEOUT == 1u << CLASS_TIMEOUT &&
	       SPEC_RETRY_STALL == 1u << CLASS_STALL &&
	       SPEC_RETRY_OOM == 1u << CLASS_OOM &&
	       SPEC_RETRY_EXIT == 1u << CLASS_EXIT &&
	       SPEC_RETRY_ALL == (1u << CLASS_N_RETRY) - 1,
	       "enum spec_retry follows common/vocab.h's error classes");
static const char *const es_keys[] = { "patience", "min_delta" };

int
spec_parse_early_stopping(struct spec *s, const cJSON *root, char *err,
			  size_t errlen)
{
	const cJSON *es;
	long patience;
	int rc;

	rc = spec_get_section(root, "early_stopping", &es, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = spec_check_keys(es, "early_stopping", es_keys, 2, err, errlen)) < 0 ||
	    (rc = spec_get_int(es, "patience", "early_stopping", 0, 1000000, 0,
			       &patience, err, errlen)) < 0 ||
	    (rc = spec_get_num(es, "min_delta", "early_stopping", 0, HUGE_VAL, 0,
			       &s->es_min_delta, err, errlen)) < 0)
		return rc;
	s->es_patience = (int)patience;
	return 0;
}

static const char *const pruner_keys[] = {
	"algorithm", "min_epochs", "eta", "warmup_epochs", "min_trials",
	"max_epochs", "metric", "promote",
};

/* Which options each pruner takes: a key for another one is refused, so
 * "eta" on a median pruner does not pass for a setting that works. */
static int
pruner_option_ok(enum spec_pruner p, const char *key)
{
	if (strcmp(key, "algorithm") == 0)
		return 1;
	if (strcmp(key, "max_epochs") == 0 || strcmp(key, "metric") == 0 ||
	    strcmp(key, "min_trials") == 0)
		return p != SPEC_PRUNE_NONE;
	if (p == SPEC_PRUNE_ASHA)
		return strcmp(key, "min_epochs") == 0 || strcmp(key, "eta") == 0 ||
		       strcmp(key, "promote") == 0;
	if (p == SPEC_PRUNE_MEDIAN)
		return strcmp(key, "warmup_epochs") == 0;
	return 0;
}

/*
 * pruner.metric: the objective the pruner ranks trials by. Required with
 * several objectives, so that which one it is is said, not assumed. The
 * pruners rank by the first objective (metric/mode_max): naming another
 * is refused until they can rank by it.
 */
static int
parse_prune_metric(struct spec *s, const cJSON *pr, char *err, size_t errlen)
{
	char list[SPEC_MAX_OBJECTIVES * (SPEC_MAX_NAME + 2)];
	const char *m;
	int rc = spec_get_str(pr, "metric", "pruner", &m, err, errlen);

	s->prune_objective = 0;
	if (rc < 0)
		return rc;
	spec_objective_list(s, list, sizeof list);
	if (!m && s->pruner != SPEC_PRUNE_NONE && s->n_objectives > 1)
		return spec_fail(err, errlen, "pruner.metric: required with several "
				 "objectives: the one the pruner ranks trials by "
				 "(%s)", list);
	if (!m)
		return 0;
	rc = spec_objective_index(s, m);
	if (rc < 0)
		return spec_fail(err, errlen, "pruner.metric: \"%s\" is not an "
				 "objective (%s)", m, list);
	if (rc > 0)
		return spec_fail(err, errlen, "pruner.metric: pruning on \"%s\", "
				 "not the first objective (%s), is not supported "
				 "yet", m, s->metric);
	s->prune_objective = rc;
	return 0;
}

/* pruner.promote (asha): a stopped trial is started again, which a manual
 * trainer's client cannot be made to do. */
static int
parse_promote(struct spec *s, const cJSON *pr, char *err, size_t errlen)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(pr, "promote");

	s->prune_promote = 0;
	if (!p)
		return 0;
	if (!cJSON_IsBool(p))
		return spec_fail(err, errlen, "pruner.promote: must be true or "
				 "false");
	if (cJSON_IsTrue(p) && s->manual)
		return spec_fail(err, errlen, "pruner.promote: a manual trainer's "
				 "trials cannot be started again; use false");
	s->prune_promote = cJSON_IsTrue(p);
	return 0;
}

int
spec_parse_pruner(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	static const char *const names[] = {
		[SPEC_PRUNE_NONE] = "none", [SPEC_PRUNE_MEDIAN] = "median",
		[SPEC_PRUNE_ASHA] = "asha",
	};
	const cJSON *pr, *it;
	const char *alg;
	long min_epochs, eta, warmup, min_trials, max_epochs;
	int rc, found = 0, asha;

	s->pruner = SPEC_PRUNE_NONE;
	rc = spec_get_section(root, "pruner", &pr, err, errlen);
	if (rc < 0)
		return rc;
	rc = spec_check_keys(pr, "pruner", pruner_keys,
			     sizeof pruner_keys / sizeof pruner_keys[0], err, errlen);
	if (rc < 0)
		return rc;
	rc = spec_get_str(pr, "algorithm", "pruner", &alg, err, errlen);
	if (pr && (rc < 0 || !alg))
		return spec_fail(err, errlen, "pruner.algorithm: required: \"median\", "
				 "\"asha\" or \"none\"");
	for (int i = 0; alg && i < 3; i++)
		if (strcmp(alg, names[i]) == 0) {
			s->pruner = (enum spec_pruner)i;
			found = 1;
		}
	if (alg && !found)
		return spec_fail(err, errlen, "pruner.algorithm: must be \"median\", "
				 "\"asha\" or \"none\", not \"%s\"", alg);
	asha = s->pruner == SPEC_PRUNE_ASHA;
	cJSON_ArrayForEach(it, pr)
		if (!pruner_option_ok(s->pruner, it->string))
			return spec_fail(err, errlen, "pruner.%s: not an option of the "
					 "\"%s\" pruner", it->string, alg);
	if ((rc = spec_get_int(pr, "min_epochs", "pruner", 1, 1000000, 1,
			       &min_epochs, err, errlen)) < 0 ||
	    (rc = spec_get_int(pr, "eta", "pruner", 2, 1000, 3, &eta, err,
			       errlen)) < 0 ||
	    (rc = spec_get_int(pr, "warmup_epochs", "pruner", 0, 1000000, 0, &warmup,
			       err, errlen)) < 0 ||
	    (rc = spec_get_int(pr, "min_trials", "pruner", asha ? 0 : 1, 1000000,
			       asha ? SPEC_ASHA_MIN_TRIALS : 5, &min_trials, err,
			       errlen)) < 0 ||
	    (rc = spec_get_int(pr, "max_epochs", "pruner", 1, 1000000, 0,
			       &max_epochs, err, errlen)) < 0)
		return rc;
	s->prune_max_epochs = (int)max_epochs;
	s->prune_min_epochs = (int)min_epochs;
	s->prune_eta = (int)eta;
	s->prune_warmup = (int)warmup;
	s->prune_min_trials = (int)min_trials;
	rc = parse_promote(s, pr, err, errlen);
	return rc < 0 ? rc : parse_prune_metric(s, pr, err, errlen);
}

static const char *const limits_keys[] = {
	"trial_timeout_s", "retries", "max_failures", "stall_s", "memory_mb",
	"nice", "retry_on", "heartbeat_s",
};

/* A manual trainer runs no process: the process limits cannot apply, and
 * heartbeat_s applies to nothing else. */
static int
check_manual_limits(const struct spec *s, const cJSON *lim, char *err,
		    size_t errlen)
{
	static const char *const process_only[] = { "stall_s", "memory_mb", "nice" };

	if (!s->manual) {
		if (cJSON_HasObjectItem(lim, "heartbeat_s"))
			return spec_fail(err, errlen, "limits.heartbeat_s: only for a "
					 "manual trainer ({\"manual\": {}}); a process "
					 "trainer has limits.stall_s");
		return 0;
	}
	for (size_t i = 0; i < sizeof process_only / sizeof process_only[0]; i++)
		if (cJSON_HasObjectItem(lim, process_only[i]))
			return spec_fail(err, errlen, "limits.%s: a manual trainer runs "
					 "no process%s", process_only[i],
					 i == 0 ? "; use limits.heartbeat_s" : "");
	return 0;
}

static int
parse_retry_on(struct spec *s, const cJSON *lim, char *err, size_t errlen)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(lim, "retry_on");
	const cJSON *it;
	int i = 0;

	s->retry_on = SPEC_RETRY_ALL;
	if (!ro)
		return 0;
	if (!cJSON_IsArray(ro))
		return spec_fail(err, errlen, "limits.retry_on: must be an array of "
				 "failure classes (signal, timeout, stall, oom, exit)");
	s->retry_on = 0;
	cJSON_ArrayForEach(it, ro) {
		int cls = vocab_class_parse(cJSON_GetStringValue(it));
		unsigned bit = cls >= 0 && cls < CLASS_N_RETRY ? 1u << cls : 0;

		if (!bit)
			return spec_fail(err, errlen, "limits.retry_on[%d]: must be one "
					 "of \"signal\", \"timeout\", \"stall\", \"oom\", "
					 "\"exit\"", i);
		s->retry_on |= bit;
		i++;
	}
	return 0;
}

int
spec_parse_limits(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *lim;
	long retries, max_failures, memory_mb, nice_v;
	int rc;

	rc = spec_get_section(root, "limits", &lim, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = spec_check_keys(lim, "limits", limits_keys,
				  sizeof limits_keys / sizeof limits_keys[0], err,
				  errlen)) < 0 ||
	    (rc = spec_get_num(lim, "trial_timeout_s", "limits", 0, MAX_SECONDS, 0,
			       &s->timeout_s, err, errlen)) < 0 ||
	    (rc = spec_get_num(lim, "stall_s", "limits", 0, MAX_SECONDS, 0,
			       &s->stall_s, err, errlen)) < 0 ||
	    (rc = spec_get_num(lim, "heartbeat_s", "limits", 0, MAX_SECONDS,
			       SPEC_HEARTBEAT_S, &s->heartbeat_s, err, errlen)) < 0 ||
	    (rc = check_manual_limits(s, lim, err, errlen)) < 0 ||
	    (rc = spec_get_int(lim, "retries", "limits", 0, 100, 0, &retries, err,
			       errlen)) < 0 ||
	    (rc = spec_get_int(lim, "max_failures", "limits", 0, SPEC_MAX_TRIALS, 0,
			       &max_failures, err, errlen)) < 0 ||
	    (rc = spec_get_int(lim, "memory_mb", "limits", 0, 1L << 30, 0, &memory_mb,
			       err, errlen)) < 0 ||
	    (rc = spec_get_int(lim, "nice", "limits", 0, 19, 0, &nice_v, err,
			       errlen)) < 0)
		return rc;
	s->retries = (int)retries;
	s->max_failures = (int)max_failures;
	s->has_max_failures = cJSON_GetObjectItemCaseSensitive(lim,
							      "max_failures") != NULL;
	s->memory_mb = memory_mb;
	s->nice = (int)nice_v;
	return parse_retry_on(s, lim, err, errlen);
}
