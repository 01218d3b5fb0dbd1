/*
 * fmt: small text-formatting pieces sweepctl's output is built from:
 * compact numbers, human durations and times, hyperparameters as k=v, and
 * aligned tables whose column widths come from the data.
 *
 * Everything here is pure (no I/O but the FILE * it is handed), so the
 * tests can compare exact strings. Times are formatted in local time; the
 * tests set TZ.
 */
#ifndef SWEEPD_CLIENT_FMT_H
#define SWEEPD_CLIENT_FMT_H

#include <stdio.h>
#include <time.h>

#include <cJSON.h>

/* Buffer size that fits any single formatted number, time or duration. */
#define FMT_NUM_MAX 48

/* ---- JSON getters (the daemon's replies, read defensively) ---------- */

/* obj[key] as a number, or dflt when obj is not an object, the key is
 * absent, or the value is not a number (null included). */
double fmt_jnum(const cJSON *obj, const char *key, double dflt);
/* obj[key] as a string (borrowed from obj), or dflt. */
const char *fmt_jstr(const cJSON *obj, const char *key, const char *dflt);
/* obj[key] or NULL; no type check. Borrowed. */
const cJSON *fmt_jget(const cJSON *obj, const char *key);

/* ---- numbers, durations, times ---------------------------------------- */

/* v compactly into buf (len >= FMT_NUM_MAX): whole numbers below 1e10 in
 * full, everything else %.4g; NaN as "nan", infinities as "inf" and
 * "-inf". Returns buf. */
char *fmt_double(char *buf, size_t len, double v);
/* A JSON value as a number: a number through fmt_double, anything else
 * (null, absent, a string) as missing. Returns buf. */
char *fmt_jnumber(char *buf, size_t len, const cJSON *v, const char *missing);
/* A length of time: "5.1ms", "420ms", "2.5s", "12.3s", "3m04s", "2h05m", "3d04h"; "-" for
 * a negative or non-finite value. Returns buf. */
char *fmt_duration(char *buf, size_t len, double seconds);
/* A unix time: "HH:MM:SS" when it falls on the same local day as now,
 * else "YYYY-MM-DD HH:MM"; "-" when t <= 0 or not finite. Returns buf. */
char *fmt_when(char *buf, size_t len, double t, time_t now);
/* Bytes as "512 KiB", "12.3 MiB", "1.20 GiB". Returns buf. */
char *fmt_kib(char *buf, size_t len, double kib);

/* ---- hyperparameters -------------------------------------------------- */

/*
 * One parameter value as text: numbers as fmt_double, strings bare,
 * true/false/null, arrays and objects as compact JSON; then, when the text
 * is longer than maxw display columns (maxw > 1), cut to maxw columns with
 * a trailing "…". Returns a malloc'ed string the caller frees, NULL on
 * ENOMEM.
 */
char *fmt_value(const cJSON *v, size_t maxw);
/*
 * The params object as "k=v k=v ..." in the object's key order, each value
 * through fmt_value(v, maxw). Keys present in skip (an object; may be NULL)
 * are left out. Returns a malloc'ed string ("" for no params), NULL on
 * ENOMEM.
 */
char *fmt_params(const cJSON *params, size_t maxw, const cJSON *skip);
/*
 * The params whose value is the same (cJSON_Compare) in every element of
 * trials (an array of trial objects with "params"), as a new object the
 * caller frees with cJSON_Delete. Only computed when there are at least
 * two trials; otherwise an empty object. NULL on ENOMEM.
 */
cJSON *fmt_common_params(const cJSON *trials);

/* The sum of the numeric "share"s of an importance list (the `importance`
 * op's [{"param", "share"}], nulls skipped). Each share is the param's
 * main effect estimated on its own, so params that were sampled together
 * (TPE concentrates them) each carry the effect they share, and the sum
 * goes over 1: FMT_SHARES_OVERLAP says when the views must say so. */
double fmt_share_sum(const cJSON *shares);
#define FMT_SHARES_OVERLAP(sum) ((sum) > 1.001)

/* ---- text ------------------------------------------------------------- */

/* Display columns of a UTF-8 string: its code points (no wide glyphs in
 * what sweepctl prints). */
size_t fmt_width(const char *s);
/* Writes s with control characters (< 0x20, 0x7f) replaced by spaces, so
 * a name or message from the daemon cannot move the cursor or inject
 * terminal escapes. */
void fmt_puts_clean(FILE *out, const char *s);
/* Writes n spaces. */
void fmt_pad(FILE *out, size_t n);

/* ---- tables ----------------------------------------------------------- */

struct fmt_table;  /* opaque: headers, rows of owned cell strings */

/* A table with ncols columns and these headers (copied). NULL on ENOMEM
 * or ncols == 0. Free with fmt_table_free. */
struct fmt_table *fmt_table_new(size_t ncols, const char *const *headers);
/* Right-align column col (numbers). Out-of-range col is ignored. */
void fmt_table_right(struct fmt_table *t, size_t col);
/* Appends a row of ncols cells (copied, control characters replaced by
 * spaces; NULL cells print as "-"). Returns 0 or -ENOMEM. */
int fmt_table_add(struct fmt_table *t, const char *const *cells);
/* Rows added so far. */
size_t fmt_table_rows(const struct fmt_table *t);
/* Writes the header and the rows, columns two spaces apart, each as wide
 * as its widest cell; the last column is not padded (no trailing blanks). */
void fmt_table_print(const struct fmt_table *t, FILE *out);
/* Frees t and its cells; NULL is fine. */
void fmt_table_free(struct fmt_table *t);

#endif
