/*
 * json.c: exact number printing and input text checks (see json.h).
 *
 * json_print turns each number that cJSON would print inexactly into a
 * cJSON_Raw node holding its exact text, lets cJSON print the tree, and
 * turns the nodes back: cJSON's own printer does every string escape, and
 * no second copy of the tree is made (a reply may hold 10 MB of trials).
 */
#include "common/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A type bit cJSON does not use (it keeps 0xFF for the kind, 256 and 512
 * for flags): marks a number node json_print has turned raw. */
#define EXACT_MARK (1 << 12)

/* The shortest of %.15g, %.16g, %.17g that reads back as d, into buf.
 * 0 when cJSON's own output is exact already: only for what it prints
 * through "%d". A number whose %.15g is exact gets its text here too
 * (cJSON would print the same): cJSON's printer checks each one with an
 * sprintf and an sscanf of its own, which made up half of json_print. */
static int
exact_text(const cJSON *n, char *buf, size_t len)
{
	double d = n->valuedouble;

	/* cJSON prints these exactly: null, or the int through "%d". */
	if (!isfinite(d) || d == (double)n->valueint)
		return 0;
	/* An integer a double holds exactly: its digits, never an exponent
	 * (3642210777844990 would come out as 3.64221077784499e+15, exact
	 * but read as a float by most clients). */
	if (fabs(d) < JSON_EXACT_INT && d == floor(d)) {
		snprintf(buf, len, "%" PRId64, (int64_t)d);
		return 1;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%1.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return 1;
	}
	return 1;   /* %.17g always reads back exactly */
}

/* Marks the numbers of v that need it; -ENOMEM if a text cannot be kept
 * (the marks made so far are undone by unmark all the same). */
static int
mark(cJSON *v)
{
	char buf[32];

	for (; v; v = v->next) {
		if ((v->type & 0xFF) == cJSON_Number && exact_text(v, buf, sizeof buf)) {
			size_t n = strlen(buf) + 1;
			char *s = cJSON_malloc(n);
			if (!s)
				return -ENOMEM;
			memcpy(s, buf, n);
			v->valuestring = s;
			v->type = (v->type & ~0xFF) | cJSON_Raw | EXACT_MARK;
		}
		if (v->child && mark(v->child) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void
unmark(cJSON *v)
{
	for (; v; v = v->next) {
		if (v->type & EXACT_MARK) {
			cJSON_free(v->valuestring);
			v->valuestring = NULL;
			v->type = (v->type & ~0xFF & ~EXACT_MARK) | cJSON_Number;
		}
		if (v->child)
			unmark(v->child);
	}
}

static char *
print(const cJSON *v, int indented)
{
	cJSON *w = (cJSON *)v;   /* restored before returning */
	char *out = NULL;

	if (!v)
		return NULL;
	/* The root alone: its siblings (v->next) are not part of v. */
	if ((w->type & 0xFF) == cJSON_Number) {
		char buf[32];
		if (!exact_text(w, buf, sizeof buf))
			return indented ? cJSON_Print(w) : cJSON_PrintUnformatted(w);
		out = cJSON_malloc(strlen(buf) + 1);
		return out ? strcpy(out, buf) : NULL;
	}
	if (!w->child || mark(w->child) == 0)
		out = indented ? cJSON_Print(w) : cJSON_PrintUnformatted(w);
	if (w->child)
		unmark(w->child);
	return out;
}

char *
json_print(const cJSON *v)
{
	return print(v, 0);
}

char *
json_print_indented(const cJSON *v)
{
	return print(v, 1);
}

/* ---- input checks ----------------------------------------------------- */

static int
bad(char *err, size_t errlen, const char *what, size_t at)
{
	if (errlen)
		snprintf(err, errlen, "%s (at byte %zu)", what, at);
	return -EINVAL;
}

/* Length of the UTF-8 sequence at s (n bytes left), 0 if it is invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;   /* a continuation byte, C0/C1 (overlong) or F5.. */
	if (c == 0xE0)
		lo = 0xA0;          /* overlong */
	else if (c == 0xED)
		hi = 0x9F;          /* surrogates */
	else if (c == 0xF0)
		lo = 0x90;          /* overlong */
	else if (c == 0xF4)
		hi = 0x8F;          /* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

int
json_check_text(const char *text, size_t len, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		if (s[i] == '\\') {
			/* An escape pair; a backslash is only valid in a string,
			 * and pairs never overlap, so "\\u0000" is text. */
			if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
				return bad(err, errlen, "a string holds \\u0000 "
					   "(NUL), which sweepd cannot keep", i);
			i += i + 1 < len ? 2 : 1;
			continue;
		}
		n = utf8_len(s + i, len - i);
		if (n == 0)
			return bad(err, errlen, "not valid UTF-8", i);
		i += n;
	}
	return 0;
}
