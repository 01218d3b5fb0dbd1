/*
 * export.c: flat records, then CSV or JSON. The records are built as cJSON
 * objects first so both formats share one flattening step and the column
 * union is computed once.
 */
#include "client/export.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "common/json.h"

char *
export_number(char *buf, size_t len, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	/* Whole numbers (ids, epochs, unix times) in full: %g would write a
	 * time as 1.70000001e+09, exact but unreadable. */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.0f", v == 0 ? 0.0 : v);
		return buf;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

void
export_csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Copies src[key] into rec under name (a null when src lacks it).
 * Returns 0 or -ENOMEM. */
static int
copy(cJSON *rec, const char *name, const cJSON *src, const char *key)
{
	const cJSON *v = fmt_jget(src, key);
	cJSON *d = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();

	if (!d)
		return -ENOMEM;
	if (!cJSON_AddItemToObject(rec, name, d)) {
		cJSON_Delete(d);
		return -ENOMEM;
	}
	return 0;
}

/* One flat record for a trial. */
static cJSON *
trial_record(const cJSON *t)
{
	static const char *const direct[] = {
		"number", "status", "attempt", "objective", "best_epoch", "epochs",
		"test_loss", "test_acc",
	};
	const cJSON *d = fmt_jget(t, "diagnosis"), *e = fmt_jget(t, "error"), *p;
	cJSON *rec = cJSON_CreateObject();
	double t0 = fmt_jnum(t, "started_at", NAN), t1 = fmt_jnum(t, "ended_at", NAN);
	char name[512];
	int rc = 0;

	if (!rec)
		return NULL;
	for (size_t i = 0; i < sizeof direct / sizeof direct[0] && !rc; i++)
		rc = copy(rec, direct[i], t, direct[i]);
	if (!rc)
		rc = copy(rec, "verdict", d, "verdict");
	if (!rc)
		rc = copy(rec, "stop_epoch", d, "stop_epoch");
	if (!rc)
		rc = copy(rec, "error_class", e, "class");
	if (!rc)
		rc = copy(rec, "error_message", e, "message");
	if (!rc)
		rc = copy(rec, "seed", t, "seed");
	if (!rc)
		rc = copy(rec, "started_at", t, "started_at");
	if (!rc)
		rc = copy(rec, "ended_at", t, "ended_at");
	if (!rc && !(isfinite(t1 - t0) ? cJSON_AddNumberToObject(rec, "seconds", t1 - t0)
				       : cJSON_AddNullToObject(rec, "seconds")))
		rc = -ENOMEM;
	if (!rc)
		rc = copy(rec, "promotions", t, "promotions");
	p = fmt_jget(t, "params");
	if (cJSON_IsObject(p)) {
		const cJSON *v;
		cJSON_ArrayForEach(v, p) {
			if (rc)
				break;
			snprintf(name, sizeof name, "params.%s", v->string);
			rc = copy(rec, name, p, v->string);
		}
	}
	if (rc) {
		cJSON_Delete(rec);
		return NULL;
	}
	return rec;
}

/* Every key of every record, in first-seen order, as an array of strings. */
static cJSON *
columns(const cJSON *records)
{
	cJSON *cols = cJSON_CreateArray(), *seen = cJSON_CreateObject();
	const cJSON *r, *v;

	if (!cols || !seen)
		goto fail;
	cJSON_ArrayForEach(r, records) {
		cJSON_ArrayForEach(v, r) {
			/* seen is a set keyed by column name, so the union stays
			 * linear in the number of cells */
			if (cJSON_GetObjectItemCaseSensitive(seen, v->string))
				continue;
			if (!cJSON_AddTrueToObject(seen, v->string) ||
			    !cJSON_AddItemToArray(cols, cJSON_CreateString(v->string)))
				goto fail;
		}
	}
	cJSON_Delete(seen);
	return cols;
fail:
	cJSON_Delete(seen);
	cJSON_Delete(cols);
	return NULL;
}

/* One value as CSV text. Returns 0 or -ENOMEM. */
static int
csv_value(FILE *out, const cJSON *v)
{
	char num[40], *txt;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		fputs(export_number(num, sizeof num, v->valuedouble), out);
	} else if (cJSON_IsString(v)) {
		export_csv_field(out, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		fputs(cJSON_IsTrue(v) ? "true" : "false", out);
	} else {
		if (!(txt = json_print(v)))
			return -ENOMEM;
		export_csv_field(out, txt);
		free(txt);
	}
	return 0;
}

static int
write_csv(FILE *out, const cJSON *records, const cJSON *cols)
{
	const cJSON *r, *c;

	cJSON_ArrayForEach(c, cols) {
		if (c != cols->child)
			fputc(',', out);
		export_csv_field(out, c->valuestring);
	}
	fputc('\n', out);
	cJSON_ArrayForEach(r, records) {
		cJSON_ArrayForEach(c, cols) {
			if (c != cols->child)
				fputc(',', out);
			if (csv_value(out, cJSON_GetObjectItemCaseSensitive(r, c->valuestring)) < 0)
				return -ENOMEM;
		}
		fputc('\n', out);
	}
	return 0;
}

/* Every record with every column, in column order, one per line. */
static int
write_json(FILE *out, const cJSON *records, const cJSON *cols)
{
	const cJSON *r, *c;

	fputs("[", out);
	cJSON_ArrayForEach(r, records) {
		cJSON *full = cJSON_CreateObject();
		char *txt;
		int bad = !full;

		cJSON_ArrayForEach(c, cols) {
			if (bad)
				break;
			bad = copy(full, c->valuestring, r, c->valuestring) < 0;
		}
		txt = bad ? NULL : json_print(full);
		cJSON_Delete(full);
		if (!txt)
			return -ENOMEM;
		fprintf(out, "%s\n%s", r == records->child ? "" : ",", txt);
		free(txt);
	}
	fputs(records->child ? "\n]\n" : "]\n", out);
	return 0;
}

static int
write_records(FILE *out, const cJSON *records, enum export_format f)
{
	cJSON *cols = columns(records);
	int rc;

	if (!cols)
		return -ENOMEM;
	rc = f == EXPORT_CSV ? write_csv(out, records, cols)
			     : write_json(out, records, cols);
	cJSON_Delete(cols);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}

int
export_trials(FILE *out, const cJSON *trials, enum export_format f)
{
	cJSON *records = cJSON_CreateArray();
	const cJSON *t;
	int rc = -ENOMEM;

	if (!records)
		return -ENOMEM;
	cJSON_ArrayForEach(t, trials) {
		cJSON *rec = trial_record(t);
		if (!rec || !cJSON_AddItemToArray(records, rec)) {
			cJSON_Delete(rec);
			goto out;
		}
	}
	rc = write_records(out, records, f);
out:
	cJSON_Delete(records);
	return rc;
}

int
export_epochs(FILE *out, const cJSON *epochs, enum export_format f)
{
	cJSON *records = cJSON_CreateArray();
	const cJSON *e;
	int rc = -ENOMEM;

	if (!records)
		return -ENOMEM;
	/* Epoch rows are flat already; only non-objects are dropped. */
	cJSON_ArrayForEach(e, epochs) {
		cJSON *rec;
		if (!cJSON_IsObject(e))
			continue;
		if (!(rec = cJSON_Duplicate(e, 1)) || !cJSON_AddItemToArray(records, rec)) {
			cJSON_Delete(rec);
			goto out;
		}
	}
	rc = write_records(out, records, f);
out:
	cJSON_Delete(records);
	return rc;
}

int
export_take_epochs_page(cJSON *reply, cJSON *all, cJSON **after)
{
	cJSON *page = cJSON_GetObjectItemCaseSensitive(reply, "epochs"), *e;
	cJSON *next = cJSON_DetachItemFromObjectCaseSensitive(reply, "next");
	int rc = 0;

	*after = NULL;
	if (!cJSON_IsArray(page) || (next && !cJSON_IsNull(next) &&
				     !cJSON_IsObject(next))) {
		rc = -EPROTO;
		goto out;
	}
	while ((e = cJSON_DetachItemFromArray(page, 0)))
		cJSON_AddItemToArray(all, e);
	if (cJSON_IsObject(next)) {
		*after = next;
		next = NULL;
	}
out:
	cJSON_Delete(next);
	cJSON_Delete(reply);
	return rc;
}
