/*
 * spec_util.h: the spec parser's small helpers (private to the spec_*
 * files). Each read helper takes the path of the object it reads from for
 * its messages ("" at the top level) and returns 0 or -EINVAL with the
 * message in err (NUL-terminated, truncated to errlen).
 */
#ifndef SWEEPD_DAEMON_SPEC_UTIL_H
#define SWEEPD_DAEMON_SPEC_UTIL_H

#include <stddef.h>

#include <cJSON.h>

#define SPEC_MAX_NAME     200     /* bytes of a param or sweep name */
#define SPEC_PATH_LEN     256     /* a field's path in messages */
#define SPEC_WHERE_LEN    (SPEC_PATH_LEN + 32)

/* Formats the message into err; returns -EINVAL. */
int __attribute__((format(printf, 3, 4)))
spec_fail(char *err, size_t errlen, const char *fmt, ...);

/* "a.b" from a path and a key; path "" gives just the key. */
void spec_join(char *buf, size_t len, const char *path, const char *key);

/* A short rendering of v (borrowed) for messages, truncated with "...". */
void spec_show(char *buf, size_t len, const cJSON *v);

/* Whether key is one of list[n]. */
int spec_in_list(const char *key, const char *const *list, size_t n);

/* Refuses a key of obj given twice. */
int spec_check_dups(const cJSON *obj, const char *path, char *err,
		    size_t errlen);

/* Refuses duplicates and keys of obj not in allowed[n], listing the valid
 * ones. obj NULL passes. */
int spec_check_keys(const cJSON *obj, const char *path,
		    const char *const *allowed, size_t n, char *err,
		    size_t errlen);

/* Integer obj[key] in [min, max] into *out; def when absent. */
int spec_get_int(const cJSON *obj, const char *key, const char *path,
		 long min, long max, long def, long *out, char *err,
		 size_t errlen);

/* Number obj[key] in [min, max] into *out; def when absent. */
int spec_get_num(const cJSON *obj, const char *key, const char *path,
		 double min, double max, double def, double *out, char *err,
		 size_t errlen);

/* Non-empty string obj[key] into *out (borrowed), NULL when absent. */
int spec_get_str(const cJSON *obj, const char *key, const char *path,
		 const char **out, char *err, size_t errlen);

/* The object obj[key] into *out (borrowed), NULL when absent. */
int spec_get_section(const cJSON *obj, const char *key, const cJSON **out,
		     char *err, size_t errlen);

/* Replaces or adds obj[key] = item (owned: handed over, deleted on
 * failure). 0 or -ENOMEM (also when item is NULL). */
int spec_put(cJSON *obj, const char *key, cJSON *item);

/* obj[key] as an object (borrowed), created when absent; NULL when out
 * of memory. */
cJSON *spec_put_section(cJSON *obj, const char *key);

/* Whether v holds a non-finite number anywhere inside it. */
int spec_has_nonfinite(const cJSON *v);

/* Whether an object inside v repeats a key. */
int spec_has_dup_key(const cJSON *v);

#endif
