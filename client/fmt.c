/*
 * fmt.c: numbers, times, params and aligned tables for sweepctl's human
 * output. See fmt.h for the contract of each function.
 */
#include "client/fmt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

/* ---- JSON getters ------------------------------------------------------ */

const cJSON *
fmt_jget(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

double
fmt_jnum(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = fmt_jget(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *
fmt_jstr(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = fmt_jget(obj, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* ---- numbers, durations, times ---------------------------------------- */

char *
fmt_double(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "nan");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "inf" : "-inf");
	/* %.4g would print a batch size of 12345 as 1.234e+04; past 1e10
	 * whole numbers are magnitudes (a diverged loss), not counts. */
	else if (v == floor(v) && fabs(v) < 1e10)
		snprintf(buf, len, "%.0f", v == 0 ? 0.0 : v);
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

char *
fmt_jnumber(char *buf, size_t len, const cJSON *v, const char *missing)
{
	if (cJSON_IsNumber(v))
		return fmt_double(buf, len, v->valuedouble);
	snprintf(buf, len, "%s", missing);
	return buf;
}

char *
fmt_duration(char *buf, size_t len, double s)
{
	long long n;

	if (!isfinite(s) || s < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (s < 0.01) {
		snprintf(buf, len, "%.1fms", s * 1000);
		return buf;
	}
	if (s < 1) {
		snprintf(buf, len, "%.0fms", s * 1000);
		return buf;
	}
	if (s < 10) {
		snprintf(buf, len, "%.2gs", s);
		return buf;
	}
	if (s < 60) {
		snprintf(buf, len, "%.1fs", s);
		return buf;
	}
	n = (long long)s;
	if (n < 3600)
		snprintf(buf, len, "%lldm%02llds", n / 60, n % 60);
	else if (n < 86400)
		snprintf(buf, len, "%lldh%02lldm", n / 3600, n % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", n / 86400, n % 86400 / 3600);
	return buf;
}

char *
fmt_when(char *buf, size_t len, double t, time_t now)
{
	struct tm a, b;
	time_t tt;

	if (!isfinite(t) || t <= 0 || t > 1e12) {
		snprintf(buf, len, "-");
		return buf;
	}
	tt = (time_t)t;
	localtime_r(&tt, &a);
	localtime_r(&now, &b);
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		strftime(buf, len, "%H:%M:%S", &a);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M", &a);
	return buf;
}

char *
fmt_kib(char *buf, size_t len, double kib)
{
	if (!isfinite(kib) || kib < 0)
		snprintf(buf, len, "-");
	else if (kib < 1024)
		snprintf(buf, len, "%.0f KiB", kib);
	else if (kib < 1024.0 * 1024)
		snprintf(buf, len, "%.1f MiB", kib / 1024);
	else
		snprintf(buf, len, "%.2f GiB", kib / (1024.0 * 1024));
	return buf;
}

/* ---- text ------------------------------------------------------------- */

size_t
fmt_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
fmt_puts_clean(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		fputc(c < 0x20 || c == 0x7f ? ' ' : c, out);
	}
}

void
fmt_pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

/* ---- hyperparameters -------------------------------------------------- */

/* Cuts s in place to maxw display columns, the last one being "…". s must
 * have room for 2 more bytes than it holds ("…" is 3 bytes, it replaces
 * at least one). */
static void
shorten(char *s, size_t maxw)
{
	size_t cols = 0;
	char *p;

	if (maxw < 2 || fmt_width(s) <= maxw)
		return;
	for (p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && cols++ == maxw - 1)
			break;
	}
	memcpy(p, "\xe2\x80\xa6", 4);
}

char *
fmt_value(const cJSON *v, size_t maxw)
{
	char num[FMT_NUM_MAX], *txt = NULL, *out;
	const char *src;

	if (cJSON_IsNumber(v))
		src = fmt_double(num, sizeof num, v->valuedouble);
	else if (cJSON_IsString(v))
		src = v->valuestring;
	else if (cJSON_IsTrue(v))
		src = "true";
	else if (cJSON_IsFalse(v))
		src = "false";
	else if (!v || cJSON_IsNull(v))
		src = "null";
	else if (!(src = txt = json_print(v)))
		return NULL;
	out = malloc(strlen(src) + 3);
	if (out) {
		strcpy(out, src);
		shorten(out, maxw);
	}
	free(txt);
	return out;
}

char *
fmt_params(const cJSON *params, size_t maxw, const cJSON *skip)
{
	const cJSON *p;
	char *buf = NULL, *val;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int first = 1, bad = 0;

	if (!f)
		return NULL;
	if (!cJSON_IsObject(params))
		params = NULL;   /* iterate nothing: elements would lack names */
	cJSON_ArrayForEach(p, params) {
		if (fmt_jget(skip, p->string))
			continue;
		if (!(val = fmt_value(p, maxw))) {
			bad = 1;
			break;
		}
		fprintf(f, "%s%s=%s", first ? "" : " ", p->string, val);
		first = 0;
		free(val);
	}
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

cJSON *
fmt_common_params(const cJSON *trials)
{
	cJSON *common = cJSON_CreateObject();
	const cJSON *first, *p, *t;

	if (!common || cJSON_GetArraySize(trials) < 2)
		return common;
	first = fmt_jget(cJSON_GetArrayItem(trials, 0), "params");
	if (!cJSON_IsObject(first))
		return common;
	cJSON_ArrayForEach(p, first) {
		int same = 1;

		cJSON_ArrayForEach(t, trials) {
			const cJSON *o = fmt_jget(fmt_jget(t, "params"), p->string);
			if (!o || !cJSON_Compare(o, p, 1)) {
				same = 0;
				break;
			}
		}
		if (same && !cJSON_AddItemToObject(common, p->string,
						   cJSON_Duplicate(p, 1))) {
			cJSON_Delete(common);
			return NULL;
		}
	}
	return common;
}

double
fmt_share_sum(const cJSON *shares)
{
	const cJSON *it;
	double sum = 0;

	cJSON_ArrayForEach(it, shares) {
		const cJSON *sh = fmt_jget(it, "share");
		if (cJSON_IsNumber(sh))
			sum += sh->valuedouble;
	}
	return sum;
}

/* ---- tables ----------------------------------------------------------- */

struct fmt_table {
	size_t ncols;
	size_t nrows;       /* rows added, the header not counted */
	size_t cap;         /* rows allocated */
	int has_header;     /* row 0 of cells is filled */
	char **cells;       /* (1 + nrows, ncols), row 0 the header; owned */
	unsigned char *right; /* (ncols) 1: right-aligned */
};

static char *
clean_dup(const char *s)
{
	char *d = strdup(s ? s : "-");

	for (char *p = d; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return d;
}

struct fmt_table *
fmt_table_new(size_t ncols, const char *const *headers)
{
	struct fmt_table *t;

	if (ncols == 0 || !(t = calloc(1, sizeof *t)))
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, 1);
	if (!t->right || fmt_table_add(t, headers) < 0) {
		fmt_table_free(t);
		return NULL;
	}
	return t;
}

void
fmt_table_right(struct fmt_table *t, size_t col)
{
	if (col < t->ncols)
		t->right[col] = 1;
}

int
fmt_table_add(struct fmt_table *t, const char *const *cells)
{
	/* cells holds the header plus nrows rows once the header is in;
	 * the first call (from fmt_table_new) adds the header. */
	size_t have = t->has_header ? t->nrows + 1 : 0;
	char **row;

	if (have == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	row = t->cells + have * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!(row[i] = clean_dup(cells[i]))) {
			while (i--)
				free(row[i]);
			return -ENOMEM;
		}
	}
	if (t->has_header)
		t->nrows++;
	t->has_header = 1;
	return 0;
}

size_t
fmt_table_rows(const struct fmt_table *t)
{
	return t->nrows;
}

void
fmt_table_print(const struct fmt_table *t, FILE *out)
{
	size_t *w = calloc(t->ncols, sizeof *w);

	if (!w)
		return;
	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t cw = fmt_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t gap = w[c] - fmt_width(s);
			int last = c + 1 == t->ncols;

			if (c)
				fputs("  ", out);
			if (t->right[c])
				fmt_pad(out, gap);
			fputs(s, out);
			if (!t->right[c] && !last)
				fmt_pad(out, gap);
		}
		fputc('\n', out);
	}
	free(w);
}

void
fmt_table_free(struct fmt_table *t)
{
	if (!t)
		return;
	if (t->has_header)
		for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
			free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(t);
}
