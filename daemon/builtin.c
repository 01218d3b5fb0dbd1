/*
 * builtin.c: submit-time validation of built-in trainer sweeps against
 * sweep-worker's param table.
 *
 * The trainer sees a trial's params merged with the spec's trainer
 * options. Checking every combination is exponential, but the table
 * checks each param on its own, so it is enough to check one base object
 * (every param at some valid value) and then vary one param at a time
 * through its choice values and the two ends of its range.
 */
#include "daemon/builtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "common/json.h"
#include "daemon/spec.h"
#include "worker/params.h"

/* Values of one space param worth checking: a new array (caller frees). */
static cJSON *
probe_values(const struct spec_param *p)
{
	cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return NULL;
	switch (p->kind) {
	case SPEC_CONST:
		cJSON_AddItemToArray(arr, cJSON_Duplicate(p->values, 1));
		break;
	case SPEC_CHOICE:
		cJSON_Delete(arr);
		return cJSON_Duplicate(p->values, 1);
	case SPEC_UNIFORM:
	case SPEC_LOGUNIFORM:
	case SPEC_INT:
	case SPEC_LOGINT:
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(p->low));
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(p->high));
		break;
	}
	return arr;
}

static int
check_object(const cJSON *obj, const char *where, char *err, size_t errlen)
{
	struct params prm;
	char msg[512];
	char *json = json_print(obj);
	int rc;

	if (!json) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = params_parse(&prm, json, msg, sizeof msg);
	cJSON_free(json);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", where, msg);
	return rc;
}

/* The objective must be a metric the trainer reports every epoch: a typo
 * ("val_accuracy") would otherwise train every trial to its end and fail
 * it for never reporting the objective. */
static int
check_metric(const struct spec *sp, char *err, size_t errlen)
{
	size_t used;

	for (int i = 0; params_epoch_metrics[i]; i++)
		if (strcmp(sp->metric, params_epoch_metrics[i]) == 0)
			return 0;
	used = (size_t)snprintf(err, errlen, "objective.metric: the built-in "
				"trainer reports no metric \"%s\" (it reports ",
				sp->metric);
	for (int i = 0; params_epoch_metrics[i] && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s",
					 i ? ", " : "", params_epoch_metrics[i]);
	if (used < errlen)
		snprintf(err + used, errlen - used, ")");
	return -EINVAL;
}

/* "unknown param 'x'" from the table becomes "trainer.x: unknown param;
 * valid names: ..." (or space.x when the space gives it), as the spec's
 * own field typos list theirs. */
static void
name_unknown(const struct spec *sp, char *err, size_t errlen)
{
	static const char tag[] = "unknown param '";
	const char *at = strstr(err, tag), *end, *where = "trainer";
	char name[128], list[1024] = "";
	char *table = NULL;
	cJSON *arr = NULL, *it;
	size_t used = 0;

	if (!at || !(end = strchr(at + strlen(tag), '\'')) ||
	    end - at - strlen(tag) >= sizeof name)
		return;
	snprintf(name, sizeof name, "%.*s", (int)(end - at - strlen(tag)),
		 at + strlen(tag));
	for (int i = 0; i < sp->n_params; i++)
		if (strcmp(sp->params[i].name, name) == 0)
			where = "space";
	table = params_table_json();
	arr = table ? cJSON_Parse(table) : NULL;
	cJSON_ArrayForEach(it, arr) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(n) && used < sizeof list)
			used += (size_t)snprintf(list + used, sizeof list - used,
						 "%s%s", used ? ", " : "",
						 n->valuestring);
	}
	snprintf(err, errlen, "%s.%s: unknown param; valid names: %s", where,
		 name, list);
	cJSON_Delete(arr);
	free(table);
}

/* Where a probe value of p came from: space.x, or space.x.choice[K]
 * (1-based) for the K-th value of a choice. */
static void
probe_where(const struct spec_param *p, int k, char *where, size_t len)
{
	if (p->kind == SPEC_CHOICE)
		snprintf(where, len, "space.%s.choice[%d]", p->name, k + 1);
	else
		snprintf(where, len, "space.%s", p->name);
}

int
builtin_check_spec(const struct spec *sp, char *err, size_t errlen)
{
	cJSON *base = NULL, *vals = NULL, *it;
	char where[256];
	int rc = 0;

	if (!sp->builtin)
		return 0;
	if ((rc = check_metric(sp, err, errlen)) < 0)
		return rc;
	base = cJSON_Duplicate(sp->trainer, 1);
	if (!base)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(base, "builtin");
	/* The base: every space param at its first probe value. */
	for (int i = 0; i < sp->n_params; i++) {
		const struct spec_param *p = &sp->params[i];
		cJSON_DeleteItemFromObjectCaseSensitive(base, p->name);
		vals = probe_values(p);
		if (!vals || cJSON_GetArraySize(vals) == 0) {
			rc = -ENOMEM;
			goto out;
		}
		cJSON_AddItemToObject(base, p->name,
				      cJSON_Duplicate(cJSON_GetArrayItem(vals, 0), 1));
		cJSON_Delete(vals);
		vals = NULL;
	}
	rc = check_object(base, "trainer", err, errlen);
	if (rc < 0 && strstr(err, "unknown param '")) {
		name_unknown(sp, err, errlen);
		goto out;
	}
	if (rc < 0) {
		/* Name the space param when the message names one. */
		for (int i = 0; i < sp->n_params; i++) {
			char quoted[300];
			snprintf(quoted, sizeof quoted, "'%s'", sp->params[i].name);
			if (strstr(err, quoted)) {
				char msg[512];
				snprintf(msg, sizeof msg, "%s", err + strlen("trainer: "));
				probe_where(&sp->params[i], 0, where, sizeof where);
				snprintf(err, errlen, "%s: %s", where, msg);
				break;
			}
		}
		goto out;
	}
	/* Then one param at a time through its values. */
	for (int i = 0; i < sp->n_params && rc == 0; i++) {
		const struct spec_param *p = &sp->params[i];
		cJSON *saved = cJSON_DetachItemFromObjectCaseSensitive(base, p->name);

		int k = 0;

		vals = probe_values(p);
		cJSON_ArrayForEach(it, vals) {
			probe_where(p, k++, where, sizeof where);
			cJSON_AddItemToObject(base, p->name, cJSON_Duplicate(it, 1));
			rc = check_object(base, where, err, errlen);
			cJSON_DeleteItemFromObjectCaseSensitive(base, p->name);
			if (rc < 0)
				break;
		}
		cJSON_AddItemToObject(base, p->name, saved);
		cJSON_Delete(vals);
		vals = NULL;
	}
out:
	cJSON_Delete(vals);
	cJSON_Delete(base);
	return rc;
}
