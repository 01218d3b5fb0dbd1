/*
 * json.h: JSON text the daemon can trust, on the way in and out.
 *
 * Out: cJSON 1.7 prints a double with 15 significant digits whenever that
 * reads back "close enough" (a relative tolerance), so 8000000000000001
 * comes out as 8e+15 and 0.1 + 0.2 as 0.3. json_print prints every number
 * so that it reads back as the very same double: integers below 2^53 with
 * all their digits, other numbers with up to 17 significant digits (and
 * still the short form when that is exact).
 *
 * In: cJSON reads "\u0000" as the end of the string (the rest is silently
 * lost) and passes invalid UTF-8 through to every reply that echoes it.
 * json_check_text refuses both before a text is parsed.
 */
#ifndef SWEEPD_COMMON_JSON_H
#define SWEEPD_COMMON_JSON_H

#include <stddef.h>

#include <cJSON.h>

/* Integers of smaller magnitude are exact as doubles (and so as JSON
 * numbers read by cJSON): 2^53. */
#define JSON_EXACT_INT 9007199254740992.0

/*
 * cJSON_PrintUnformatted(v) with exact numbers. The result is owned by the
 * caller (cJSON_free); NULL when out of memory. Non-finite numbers print
 * as null, as cJSON prints them. v is not changed (the walk marks numbers
 * in place while printing and restores them before it returns), so it
 * must not be printed by another thread meanwhile.
 */
char *json_print(const cJSON *v);

/* The same, indented as cJSON_Print does it (for people to read). */
char *json_print_indented(const cJSON *v);

/*
 * 0 when the len bytes of text are valid UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF) and hold no "\u0000" escape; else
 * -EINVAL with a message into err naming the fault and its byte offset.
 */
int json_check_text(const char *text, size_t len, char *err, size_t errlen);

#endif
