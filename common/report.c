/*
 * report.c: parses trainer report lines (one JSON object per line).
 *
 * cJSON does the JSON; this file adds the two things cJSON cannot: the
 * bare NaN/Infinity words Python writes (rewritten into JSON in a scratch
 * copy first) and the protocol rules (epoch or final, metrics, grad_norm).
 * Every rejection names the key at fault and quotes the line, because the
 * message ends up in front of whoever wrote the trainer.
 */
#include "common/report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define QUOTE_MAX 200   /* bytes of the line quoted in an error message */

/* Writes `bad report line "<line>": <why>` into err and returns -EINVAL.
 * Control bytes in the quote become '?', so the message stays one line. */
static int
bad(char *err, size_t errlen, const char *line, size_t len,
    const char *fmt, ...)
{
	char quote[QUOTE_MAX + 4];
	char why[256];
	size_t q = len < QUOTE_MAX ? len : QUOTE_MAX;
	va_list ap;
	int ascii;

	if (!err || errlen == 0)
		return -EINVAL;
	/* The message is stored and sent as JSON: no invalid UTF-8 in it (a
	 * bad line, or a sequence cut by the truncation). */
	ascii = json_check_text(line, q, NULL, 0) < 0;
	for (size_t i = 0; i < q; i++) {
		unsigned char c = (unsigned char)line[i];
		quote[i] = (c < 0x20 || c == 0x7f || (ascii && c >= 0x80)) ?
			   '?' : (char)c;
	}
	if (q < len) {
		memcpy(quote + q, "...", 3);
		q += 3;
	}
	quote[q] = '\0';
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A key quoted in why may hold control bytes too (cJSON takes them
	 * raw inside strings). */
	for (char *w = why; *w; w++)
		if ((unsigned char)*w < 0x20 || *w == 0x7f)
			*w = '?';
	snprintf(err, errlen, "bad report line \"%s\": %s", quote, why);
	return -EINVAL;
}

/*
 * Copies line into out, turning the bare words NaN, Infinity and -Infinity
 * outside strings into null, 1e999 and -1e999 (strtod, and so cJSON, reads
 * 1e999 as +inf). Inside strings nothing changes: the in-string state
 * follows quotes and backslash escapes. out must hold len + len / 3 + 2
 * bytes: only NaN -> null grows (3 -> 4 bytes). Returns the bytes written,
 * NUL excluded; *changed tells whether anything was rewritten.
 */
static size_t
rewrite_nonfinite(const char *line, size_t len, char *out, int *changed)
{
	static const struct {
		const char *from, *to;
	} subst[] = {
		{ "NaN", "null" },
		{ "-Infinity", "-1e999" },
		{ "Infinity", "1e999" },
	};
	size_t i = 0, o = 0;
	int in_str = 0, esc = 0;

	*changed = 0;
	while (i < len) {
		char c = line[i];
		size_t k;

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			out[o++] = c;
			i++;
			continue;
		}
		if (c == '"')
			in_str = 1;
		for (k = 0; k < sizeof(subst) / sizeof(subst[0]); k++) {
			size_t fl = strlen(subst[k].from);

			if (len - i >= fl && memcmp(line + i, subst[k].from, fl) == 0)
				break;
		}
		if (k < sizeof(subst) / sizeof(subst[0])) {
			size_t tl = strlen(subst[k].to);

			memcpy(out + o, subst[k].to, tl);
			o += tl;
			i += strlen(subst[k].from);
			*changed = 1;
			continue;
		}
		out[o++] = c;
		i++;
	}
	out[o] = '\0';
	return o;
}

/* A JSON number that is a whole value in [lo, REPORT_MAX_EPOCH]. */
static int
json_int(const cJSON *v, int lo, int *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < lo || d > REPORT_MAX_EPOCH)
		return 0;
	*out = (int)d;
	return 1;
}

/* A metric or grad_norm value: a number (maybe +-inf) or null (NaN). */
static int
json_value(const cJSON *v, double *out)
{
	if (cJSON_IsNull(v)) {
		*out = NAN;
		return 1;
	}
	if (!cJSON_IsNumber(v))
		return 0;
	*out = v->valuedouble;
	return 1;
}

struct parse_ctx {
	const char *line;
	size_t len;
	char *err;
	size_t errlen;
};

#define BAD(ctx, ...) bad((ctx)->err, (ctx)->errlen, (ctx)->line, \
			  (ctx)->len, __VA_ARGS__)

static int
parse_grad(const struct parse_ctx *ctx, const cJSON *v, struct report_line *out)
{
	const cJSON *e;
	int n;

	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return BAD(ctx, "\"grad_norm\" must be an array of numbers");
	n = cJSON_GetArraySize(v);
	if (n > REPORT_MAX_GRAD)
		return BAD(ctx, "\"grad_norm\" has %d entries, at most %d allowed",
			   n, REPORT_MAX_GRAD);
	n = 0;
	cJSON_ArrayForEach(e, v) {
		if (!json_value(e, &out->grad_norm[n]))
			return BAD(ctx, "\"grad_norm\"[%d] is not a number", n);
		n++;
	}
	out->n_grad = n;
	return 0;
}

static int
add_metric(const struct parse_ctx *ctx, const cJSON *v, struct report_line *out)
{
	const char *name = v->string;
	size_t nl = strlen(name);
	struct report_metric *m;

	if (nl == 0)
		return BAD(ctx, "a metric has an empty name");
	if (nl >= REPORT_MAX_NAME)
		return BAD(ctx, "metric name \"%.40s...\" is longer than %d bytes",
			   name, REPORT_MAX_NAME - 1);
	for (int i = 0; i < out->n_metrics; i++)
		if (strcmp(out->metrics[i].name, name) == 0)
			return BAD(ctx, "metric \"%s\" appears twice", name);
	if (out->n_metrics == REPORT_MAX_METRICS)
		return BAD(ctx, "more than %d metrics", REPORT_MAX_METRICS);
	m = &out->metrics[out->n_metrics++];
	memcpy(m->name, name, nl + 1);
	json_value(v, &m->value);
	return 0;
}

/* Walks the object's keys once: special keys are checked and counted,
 * numbers become metrics, anything else is ignored. */
static int
parse_object(const struct parse_ctx *ctx, const cJSON *root,
	     struct report_line *out)
{
	const cJSON *v, *final = NULL, *epoch = NULL, *best = NULL, *grad = NULL;
	int is_final, rc;

	cJSON_ArrayForEach(v, root) {
		const char *k = v->string;
		const cJSON **slot = NULL;

		if (strcmp(k, "final") == 0)
			slot = &final;
		else if (strcmp(k, "epoch") == 0)
			slot = &epoch;
		else if (strcmp(k, "best_epoch") == 0)
			slot = &best;
		else if (strcmp(k, "grad_norm") == 0)
			slot = &grad;
		if (slot) {
			if (*slot)
				return BAD(ctx, "\"%s\" appears twice", k);
			*slot = v;
			continue;
		}
		if (cJSON_IsNumber(v) || cJSON_IsNull(v)) {
			rc = add_metric(ctx, v, out);
			if (rc < 0)
				return rc;
		}
	}

	if (final && !cJSON_IsBool(final))
		return BAD(ctx, "\"final\" must be true or false");
	is_final = final && cJSON_IsTrue(final);
	out->kind = is_final ? REPORT_FINAL : REPORT_EPOCH;
	if (epoch && !(is_final && cJSON_IsNull(epoch)) &&
	    !json_int(epoch, 1, &out->epoch))
		return BAD(ctx, "\"epoch\" must be an integer from 1 to "
			   REPORT_MAX_EPOCH_STR);
	if (!is_final && !epoch)
		return BAD(ctx, "missing \"epoch\" (an epoch line needs it; "
			   "a final line needs \"final\":true)");
	if (best && !cJSON_IsNull(best) && !json_int(best, 0, &out->best_epoch))
		return BAD(ctx, "\"best_epoch\" must be an integer from 0 to "
			   REPORT_MAX_EPOCH_STR);
	if (grad)
		return parse_grad(ctx, grad, out);
	return 0;
}

int
report_parse(const char *line, size_t len, struct report_line *out,
	     char *err, size_t errlen)
{
	struct parse_ctx ctx = { line, len, err, errlen };
	const char *end = NULL;
	char *scratch = NULL;
	cJSON *root = NULL;
	size_t slen;
	int changed, rc;
	char why[128];

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return BAD(&ctx, "empty line");
	if (len > REPORT_MAX_LINE)
		return BAD(&ctx, "line is %zu bytes, at most %d allowed", len,
			   REPORT_MAX_LINE);
	if (memchr(line, '\0', len))
		return BAD(&ctx, "contains a NUL byte");
	if (json_check_text(line, len, why, sizeof why) < 0)
		return BAD(&ctx, "%s", why);

	scratch = malloc(len + len / 3 + 2);
	if (!scratch)
		return -ENOMEM;
	slen = rewrite_nonfinite(line, len, scratch, &changed);
	root = cJSON_ParseWithOpts(scratch, &end, 1);
	if (!root) {
		/* Offsets in the scratch copy match the line only when nothing
		 * was rewritten. */
		if (!changed && end && end >= scratch && end <= scratch + slen)
			rc = BAD(&ctx, "not valid JSON (at byte %zu)",
				 (size_t)(end - scratch));
		else
			rc = BAD(&ctx, "not valid JSON");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = BAD(&ctx, "not a JSON object");
		goto out;
	}
	rc = parse_object(&ctx, root, out);

out:
	cJSON_Delete(root);
	free(scratch);
	return rc;
}

double
report_get(const struct report_line *r, const char *name)
{
	for (int i = 0; i < r->n_metrics; i++)
		if (strcmp(r->metrics[i].name, name) == 0)
			return r->metrics[i].value;
	return NAN;
}

int
report_has(const struct report_line *r, const char *name)
{
	for (int i = 0; i < r->n_metrics; i++)
		if (strcmp(r->metrics[i].name, name) == 0)
			return 1;
	return 0;
}

/* Adds a number, or null when it is not finite (JSON has no NaN/inf). */
static int
add_value(cJSON *obj, const char *name, double v)
{
	if (isfinite(v))
		return cJSON_AddNumberToObject(obj, name, v) ? 0 : -ENOMEM;
	return cJSON_AddNullToObject(obj, name) ? 0 : -ENOMEM;
}

static int
add_grad(cJSON *obj, const struct report_line *r)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "grad_norm");

	if (!arr)
		return -ENOMEM;
	for (int i = 0; i < r->n_grad; i++) {
		double g = r->grad_norm[i];
		cJSON *e = isfinite(g) ? cJSON_CreateNumber(g) : cJSON_CreateNull();

		if (!e)
			return -ENOMEM;
		cJSON_AddItemToArray(arr, e);
	}
	return 0;
}

cJSON *
report_to_json(const struct report_line *r)
{
	cJSON *o = cJSON_CreateObject();
	int rc = 0;

	if (!o)
		return NULL;
	if (r->kind == REPORT_FINAL) {
		if (!cJSON_AddTrueToObject(o, "final"))
			goto fail;
		if (r->best_epoch > 0)
			rc |= add_value(o, "best_epoch", r->best_epoch);
		if (r->epoch > 0)
			rc |= add_value(o, "epoch", r->epoch);
	} else {
		rc |= add_value(o, "epoch", r->epoch);
	}
	for (int i = 0; i < r->n_metrics; i++)
		rc |= add_value(o, r->metrics[i].name, r->metrics[i].value);
	if (r->n_grad > 0)
		rc |= add_grad(o, r);
	if (rc != 0)
		goto fail;
	return o;

fail:
	cJSON_Delete(o);
	return NULL;
}

int
report_strip_prefix(const char *line, size_t len, const char **payload,
		    size_t *plen)
{
	static const char prefix[] = REPORT_STDOUT_PREFIX;
	size_t pl = sizeof(prefix) - 1;

	if (len < pl || memcmp(line, prefix, pl) != 0)
		return 0;
	*payload = line + pl;
	*plen = len - pl;
	return 1;
}

int
report_string_value(const char *line, size_t len, const char *name,
		    char *buf, size_t buflen)
{
	cJSON *root = cJSON_ParseWithLength(line, len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	int is_str = cJSON_IsString(v);

	if (is_str && buflen > 0)
		snprintf(buf, buflen, "%s", v->valuestring);
	cJSON_Delete(root);
	return is_str;
}
