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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A type bit cJSON does not use (it keeps 0xFF for the kind, 256 and 512
 * for flags): marks a number node json_print has turned raw. */
#define EXACT_MARK (1 << 12)

/* 10^k for k = 0..18: each exact as a double (up to 10^22 are). */
static const double pow10_exact[19] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
};

/* %.15g of d, without printf, when that text reads back as d and %g
 * writes it without an exponent (its decimal exponent X, after the
 * rounding to 15 digits, in -4..14): 1 with the text in buf (len >= 32);
 * -1 when %.15g's text of d is known not to read back as d; else 0
 * (nothing is known; the caller prints). d finite, not an integer.
 *
 * Why the digits are %.15g's: m, a 15-digit integer, and 10^k (k <= 18)
 * are exact doubles, so m / 10^k is the correctly rounded value of the
 * decimal m * 10^-k, as strtod would read it (Clinger's fast path). When
 * it equals d, that decimal lies in d's rounding interval, whose width
 * (an ulp, under 2.3e-16 of d) is less than the spacing of 15-digit
 * decimals there (at least 1e-15 of d): it is the only 15-digit decimal
 * in it, and so the nearest one to d, the one %.15g prints. How m was
 * found (a rounded product, a guessed exponent) cannot make a wrong text
 * pass.
 *
 * Why -1 is right: with m above 10^14 the exponent is d's own (the
 * product, within 1/16 of d * 10^k, was at least 10^14 + 1/2), so
 * %.15g's digits M are nearbyint(d * 10^k) computed exactly, and m the
 * same of the rounded product. They differ only when d * 10^k lies within
 * the product's rounding error (at most 1/16 here, the product being
 * under 2^50) of a half-integer; then M is at least 0.43 from d * 10^k,
 * so M / 10^k is at least 0.43e-15 of d away from d, more than half an
 * ulp (1.2e-16 of d at most): M does not read back either. Otherwise m
 * is M, and m / 10^k, which strtod would give, is not d. With m = 10^14
 * the exponent may be one too high (99999999999999.906 rounds to it at
 * k = 0 while %.15g prints 99999999999999.9): 0. */
static int
fast_text(double d, char *buf)
{
	double a = fabs(d), r;
	char digits[16];
	uint64_t m;
	int x = (int)floor(log10(a)), k, n = 0, last;

	for (int tries = 0; ; tries++) {
		if (x < -4 || x > 14 || tries == 2)
			return 0;
		k = 14 - x;
		r = nearbyint(a * pow10_exact[k]);
		if (r >= 1e15)
			x++;
		else if (r < 1e14)
			x--;
		else
			break;
	}
	m = (uint64_t)r;
	if ((double)m / pow10_exact[k] != a)
		return m > 100000000000000ULL ? -1 : 0;
	for (int i = 14; i >= 0; i--, m /= 10)
		digits[i] = (char)('0' + m % 10);
	/* %g drops the fraction's trailing zeros, and the point with them. */
	for (last = 14; last > x && last > 0 && digits[last] == '0'; last--)
		;
	if (d < 0)
		buf[n++] = '-';
	if (x < 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (int i = 0; i < -x - 1; i++)
			buf[n++] = '0';
		for (int i = 0; i <= last; i++)
			buf[n++] = digits[i];
	} else {
		for (int i = 0; i <= last; i++) {
			if (i == x + 1)
				buf[n++] = '.';
			buf[n++] = digits[i];
		}
	}
	buf[n] = '\0';
	return 1;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as d, into buf.
 * 0 when cJSON's own output is exact already: only for what it prints
 * through "%d". A number whose %.15g is exact gets its text here too
 * (cJSON would print the same): cJSON's printer checks each one with an
 * sprintf and an sscanf of its own, which made up half of json_print. */
static int
exact_text(const cJSON *n, char *buf, size_t len)
{
	double d = n->valuedouble;
	int fast = 0;

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
	/* Most reported figures (a trainer's %.10g) end here, without the
	 * printf and strtod below: they were most of json_print's cost. */
	if (len >= 32 && (fast = fast_text(d, buf)) > 0)
		return 1;
	for (int prec = fast < 0 ? 16 : 15; prec <= 17; prec++) {
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
