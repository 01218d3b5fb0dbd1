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
#include "daemon/search/builtin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "common/json.h"
#include "daemon/search/spec.h"
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

/* Each objective must be a metric the trainer reports every epoch: a
 * typo ("val_accuracy") would otherwise train every trial to its end and
 * fail it for never reporting the objective. */
static int
reported(const char *metric)
{
	for (int i = 0; params_epoch_metrics[i]; i++)
		if (strcmp(metric, params_epoch_metrics[i]) == 0)
			return 1;
	return 0;
}

static int
check_metric(const struct spec *sp, char *err, size_t errlen)
{
	char where[32];
	size_t used;
	int k = 0;

	while (k < sp->n_objectives && reported(sp->objectives[k].metric))
		k++;
	if (k == sp->n_objectives)
		return 0;
	if (cJSON_HasObjectItem(sp->json, "objectives"))
		snprintf(where, sizeof where, "objectives[%d]", k);
	else
		snprintf(where, sizeof where, "objective");
	used = (size_t)snprintf(err, errlen, "%s.metric: the built-in trainer "
				"reports no metric \"%s\" (it reports ", where,
				sp->objectives[k].metric);
	for (int i = 0; params_epoch_metrics[i] && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s",
					 i ? ", " : "", params_epoch_metrics[i]);
	if (used < errlen)
		snprintf(err + used, errlen - used, ")");
	return -EINVAL;
}

/*
 * The values parent can have wherever a knob of the trainer is given:
 * for a space param with a "when" on parent, the listed values; for a
 * space parent otherwise, its probe values; a trainer option's value; or
 * the table default (NULL: the caller passes none and the worker's
 * default is not conditional). A new array, or NULL when out of memory.
 */
static cJSON *
parent_values(const struct spec *sp, const struct spec_param *p,
	      const char *parent)
{
	int q = spec_param_index(sp, parent);
	const cJSON *opt;

	for (int k = 0; p && k < p->n_when; k++)
		if (p->when[k].parent == q)
			return cJSON_Duplicate(p->when[k].values, 1);
	if (q >= 0)
		return probe_values(&sp->params[q]);
	opt = cJSON_GetObjectItemCaseSensitive(sp->trainer, parent);
	if (opt) {
		cJSON *arr = cJSON_CreateArray();
		if (arr && !cJSON_AddItemToArray(arr, cJSON_Duplicate(opt, 1))) {
			cJSON_Delete(arr);
			return NULL;
		}
		return arr;
	}
	return cJSON_CreateArray();   /* the default: the worker checks it */
}

/* "\"momentum\", \"nesterov\"" into buf. */
static void
list_ok(char *buf, size_t len, const char *const *ok)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; ok[k] && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s\"%s\"", k ? ", " : "",
				      ok[k]);
}

/* Refuses a conditional knob of the trainer (space param or trainer
 * option) that can be given while its parent has a value it ignores. */
static int
check_knob(const struct spec *sp, const char *name, const char *where,
	   char *err, size_t errlen)
{
	const char *parent;
	const char *const *ok;
	const struct spec_param *p;
	cJSON *vals, *v;
	char list[256];
	int i = spec_param_index(sp, name), rc = 0, good;

	if (!params_condition(name, &parent, &ok))
		return 0;
	p = i >= 0 ? &sp->params[i] : NULL;
	vals = parent_values(sp, p, parent);
	if (!vals)
		return -ENOMEM;
	cJSON_ArrayForEach(v, vals) {
		good = 0;
		for (int k = 0; ok[k] && cJSON_IsString(v); k++)
			good |= strcmp(ok[k], v->valuestring) == 0;
		if (good || !cJSON_IsString(v))
			continue;   /* a non-string the worker refuses itself */
		list_ok(list, sizeof list, ok);
		snprintf(err, errlen, "%s: applies only when %s is %s, but %s can be "
			 "\"%s\" here; %s {\"%s\": [%s]}", where, parent, list, parent,
			 v->valuestring, p ? "give it \"when\":" :
			 "move it into space with \"when\":", parent, list);
		rc = -EINVAL;
		break;
	}
	cJSON_Delete(vals);
	return rc;
}

static int
check_knobs(const struct spec *sp, char *err, size_t errlen)
{
	const cJSON *it;
	char where[300];
	int rc = 0;

	for (int i = 0; i < sp->n_params && rc == 0; i++) {
		snprintf(where, sizeof where, "space.%s", sp->params[i].name);
		rc = check_knob(sp, sp->params[i].name, where, err, errlen);
	}
	cJSON_ArrayForEach(it, sp->trainer) {
		if (rc < 0)
			break;
		snprintf(where, sizeof where, "trainer.%s", it->string);
		rc = check_knob(sp, it->string, where, err, errlen);
	}
	return rc;
}

/* The object the worker would see with p at value v: its direct parents
 * set to a value that makes it active, inactive params dropped. */
static int
probe_object(const struct spec *sp, const cJSON *base,
	     const struct spec_param *p, const cJSON *v, cJSON **out)
{
	cJSON *o = cJSON_Duplicate(base, 1);
	int rc = -ENOMEM;

	if (!o)
		return -ENOMEM;
	for (int k = 0; k < p->n_when; k++) {
		const char *pn = sp->params[p->when[k].parent].name;
		cJSON_DeleteItemFromObjectCaseSensitive(o, pn);
		if (!cJSON_AddItemToObject(o, pn, cJSON_Duplicate(
				cJSON_GetArrayItem(p->when[k].values, 0), 1)))
			goto fail;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, p->name);
	if (!cJSON_AddItemToObject(o, p->name, cJSON_Duplicate(v, 1)) ||
	    spec_drop_inactive(sp, o) < 0)
		goto fail;
	*out = o;
	return 0;
fail:
	cJSON_Delete(o);
	return rc;
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

/* The base of every probe: the trainer's options with every space param
 * at its first probe value. *out is owned by the caller. */
static int
probe_base(const struct spec *sp, cJSON **out)
{
	cJSON *base = cJSON_Duplicate(sp->trainer, 1), *vals;

	if (!base)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(base, "builtin");
	for (int i = 0; i < sp->n_params; i++) {
		const struct spec_param *p = &sp->params[i];
		cJSON_DeleteItemFromObjectCaseSensitive(base, p->name);
		vals = probe_values(p);
		if (!vals || cJSON_GetArraySize(vals) == 0) {
			cJSON_Delete(vals);
			cJSON_Delete(base);
			return -ENOMEM;
		}
		cJSON_AddItemToObject(base, p->name,
				      cJSON_Duplicate(cJSON_GetArrayItem(vals, 0), 1));
		cJSON_Delete(vals);
	}
	*out = base;
	return 0;
}

/* A message from the table about the base that quotes a space param's
 * name is put at that param (space.x), in place of "trainer: ". */
static void
name_base_param(const struct spec *sp, char *err, size_t errlen)
{
	char where[256];

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
}

/* One param at a time through its probe values, the others at base. */
static int
probe_each(const struct spec *sp, const cJSON *base, char *err,
	   size_t errlen)
{
	cJSON *vals, *it;
	char where[256];
	int rc = 0;

	for (int i = 0; i < sp->n_params && rc == 0; i++) {
		const struct spec_param *p = &sp->params[i];
		int k = 0;

		vals = probe_values(p);
		if (!vals)
			return -ENOMEM;
		cJSON_ArrayForEach(it, vals) {
			cJSON *probe;
			probe_where(p, k++, where, sizeof where);
			rc = probe_object(sp, base, p, it, &probe);
			if (rc == 0) {
				rc = check_object(probe, where, err, errlen);
				cJSON_Delete(probe);
			}
			if (rc < 0)
				break;
		}
		cJSON_Delete(vals);
	}
	return rc;
}

int
builtin_check_spec(const struct spec *sp, char *err, size_t errlen)
{
	cJSON *base = NULL;
	int rc;

	if (!sp->builtin)
		return 0;
	if ((rc = check_metric(sp, err, errlen)) < 0)
		return rc;
	if ((rc = probe_base(sp, &base)) < 0)
		return rc;
	rc = check_knobs(sp, err, errlen);
	if (rc < 0)
		goto out;
	rc = spec_drop_inactive(sp, base);
	if (rc == 0)
		rc = check_object(base, "trainer", err, errlen);
	if (rc < 0 && strstr(err, "unknown param '"))
		name_unknown(sp, err, errlen);
	else if (rc < 0)
		name_base_param(sp, err, errlen);
	else
		rc = probe_each(sp, base, err, errlen);
out:
	cJSON_Delete(base);
	return rc;
}
