/*
 * test_json.c: json_print reads back as the very same numbers (cJSON's own
 * printer rounds to 15 digits) and leaves the tree as it was;
 * json_check_text refuses invalid UTF-8 and "\u0000"; a number prints as
 * the printf-and-strtod rule it was first written with, byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "tests/harness.h"

/* json_print of the parsed text, compared with want; the tree must print
 * the same way twice and keep its numbers. */
static void
check_print(const char *text, const char *want)
{
	cJSON *j = cJSON_Parse(text), *back;
	char *a = j ? json_print(j) : NULL, *b = j ? json_print(j) : NULL;

	CHECK_STR(a, want);
	CHECK_STR(b, want);
	back = a ? cJSON_Parse(a) : NULL;
	CHECK_MSG(back && cJSON_Compare(j, back, 1), "%s reads back as another "
		  "value", a ? a : "(null)");
	cJSON_Delete(back);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(j);
}

static void
integers_keep_every_digit(void)
{
	check_print("8000000000000001", "8000000000000001");
	check_print("[4503599627370497,-4503599627370497]",
		    "[4503599627370497,-4503599627370497]");
	check_print("{\"seed\":9007199254740991}", "{\"seed\":9007199254740991}");
	check_print("{\"a\":{\"b\":[1,2,{\"c\":6674506674551529}]}}",
		    "{\"a\":{\"b\":[1,2,{\"c\":6674506674551529}]}}");
	check_print("[0,-1,2147483647,-2147483648,2147483648]",
		    "[0,-1,2147483647,-2147483648,2147483648]");
	/* %.15g is exact for these, but in exponent form */
	check_print("[3642210777844990,-1000000000000000,9007199254740990]",
		    "[3642210777844990,-1000000000000000,9007199254740990]");
	check_print("[1e20,9007199254740992]", "[1e+20,9007199254740992]");
}

static void
doubles_read_back_exactly(void)
{
	check_print("[0.1,0.5,1e-300,1e300,2.5]", "[0.1,0.5,1e-300,1e+300,2.5]");
	check_print("0.30000000000000004", "0.30000000000000004");
	check_print("[0.12345678901234568]", "[0.12345678901234568]");
	check_print("{\"x\":1.0000000000000002}", "{\"x\":1.0000000000000002}");
}

static void
tree_is_left_as_it_was(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *n = cJSON_AddNumberToObject(o, "n", 8000000000000001.0);
	char *s;

	cJSON_AddStringToObject(o, "s", "a\"b\n");
	s = json_print(o);
	CHECK_STR(s, "{\"n\":8000000000000001,\"s\":\"a\\\"b\\n\"}");
	CHECK(cJSON_IsNumber(n) && !cJSON_IsRaw(n));
	CHECK(n->valuestring == NULL);
	CHECK(n->valuedouble == 8000000000000001.0);
	cJSON_free(s);
	/* A bare number, and a member printed on its own (not its siblings). */
	s = json_print(n);
	CHECK_STR(s, "8000000000000001");
	cJSON_free(s);
	s = json_print(cJSON_GetObjectItem(o, "s"));
	CHECK_STR(s, "\"a\\\"b\\n\"");
	cJSON_free(s);
	cJSON_Delete(o);
}

static void
nonfinite_prints_null(void)
{
	cJSON *a = cJSON_CreateArray();
	char *s;

	cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(INFINITY));
	s = json_print(a);
	CHECK_STR(s, "[null,null]");
	cJSON_free(s);
	cJSON_Delete(a);
}

static int
checked(const char *text, size_t len, const char *want_in_msg)
{
	char err[128] = "";
	int rc = json_check_text(text, len, err, sizeof err);

	if (want_in_msg)
		CHECK_CONTAINS(err, want_in_msg);
	return rc;
}

static void
check_text_refuses_nul_escapes(void)
{
	const char ok1[] = "{\"a\":\"x\\\\u0000\"}";   /* an escaped backslash */
	const char ok2[] = "{\"a\":\"\\u0001\\u00e9\"}";
	const char bad1[] = "{\"a\":\"x\\u0000y\"}";
	const char bad2[] = "{\"a\\u0000b\":1}";
	const char bad3[] = "{\"a\":\"\\\\\\u0000\"}";  /* \\ then \u0000 */

	CHECK(checked(ok1, strlen(ok1), NULL) == 0);
	CHECK(checked(ok2, strlen(ok2), NULL) == 0);
	CHECK(checked(bad1, strlen(bad1), "\\u0000") == -EINVAL);
	CHECK(checked(bad2, strlen(bad2), "at byte 3") == -EINVAL);
	CHECK(checked(bad3, strlen(bad3), "\\u0000") == -EINVAL);
}

static void
check_text_refuses_invalid_utf8(void)
{
	static const char *const good[] = {
		"{\"n\":\"caf\xc3\xa9\"}", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
	};
	static const char *const badv[] = {
		"\xff", "\xc3", "\xc3(", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
		"\x80", "ok\xe2\x82",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK_MSG(checked(good[i], strlen(good[i]), NULL) == 0, "good %zu", i);
	for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++)
		CHECK_MSG(checked(badv[i], strlen(badv[i]), "UTF-8") == -EINVAL,
			  "bad %zu", i);
	CHECK(checked("ab\xff", 3, "at byte 2") == -EINVAL);
}

/* The rule json_print's numbers were first printed by, with printf and
 * strtod alone: the reference its faster paths must match byte for byte. */
static void
reference_text(double d, char *buf, size_t len)
{
	if (fabs(d) < JSON_EXACT_INT && d == floor(d)) {
		snprintf(buf, len, "%" PRId64, (int64_t)d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%1.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* 1 when json_print of d matches the reference; else 0, and the failure
 * is reported with the value. */
static int
same_as_reference(double d)
{
	char want[40];
	cJSON *n = cJSON_CreateNumber(d);
	char *got = n ? json_print(n) : NULL;
	int ok;

	if (!isfinite(d))
		snprintf(want, sizeof want, "null");
	else if (d == (double)n->valueint)
		snprintf(want, sizeof want, "%d", n->valueint);
	else
		reference_text(d, want, sizeof want);
	ok = got && strcmp(got, want) == 0;
	CHECK_MSG(ok, "%.17g printed as %s, the reference says %s", d,
		  got ? got : "(null)", want);
	cJSON_free(got);
	cJSON_Delete(n);
	return ok;
}

/* Every kind of double the trainers, the diagnosis and the params make:
 * short decimals as a trainer prints them (1 to 17 significant digits,
 * exponents -30 to 30), their neighbours, values next to powers of ten,
 * random bit patterns, integers near 2^53. SWEEPD_JSON_DIFF_N sets how
 * many of each (default 40,000: about a second). */
static void
numbers_print_as_the_reference(void)
{
	const char *env = getenv("SWEEPD_JSON_DIFF_N");
	long n = env ? atol(env) : 40000, bad = 0;
	char text[64];

	for (long i = 0; i < n && bad < 5; i++) {
		uint64_t r = rng_next();
		int digits = 1 + (int)(r % 17), e = (int)((r >> 8) % 61) - 30;
		uint64_t mant = rng_next() % 100000000000000000u;
		double d, p;

		/* a decimal of `digits` significant digits */
		snprintf(text, sizeof text, "%s%" PRIu64 "e%d",
			 (r >> 20) & 1 ? "-" : "",
			 mant % (uint64_t)pow(10, digits) + 1, e);
		d = strtod(text, NULL);
		bad += !same_as_reference(d);
		bad += !same_as_reference(nextafter(d, INFINITY));
		bad += !same_as_reference(nextafter(d, -INFINITY));
		/* random bits */
		memcpy(&d, &r, sizeof d);
		bad += !same_as_reference(d);
		/* next to a power of ten, and metrics-like values in (0, 1) */
		p = pow(10, (int)((r >> 32) % 41) - 20);
		bad += !same_as_reference(nextafter(p, 0));
		bad += !same_as_reference(nextafter(p, INFINITY));
		bad += !same_as_reference((double)(r >> 11) / 9007199254740992.0);
		bad += !same_as_reference((double)(r % 100000) / 100000.0);
		bad += !same_as_reference(JSON_EXACT_INT - (double)(r % 5000) - 0.5);
	}
	CHECK(bad == 0);
	/* the edges of the fixed notation %g keeps, and of the fast path */
	double edges[] = { 1e-4, 1e-5, 0.0001234, 0.00001234, 99999999999999.9,
			   999999999999999.9, 123456789012345.6, 0.99999999999999994,
			   9.9999999999999995, 0.1, -0.1, 0.5, 1.5, 2.675, 1e15 + 0.5,
			   5e-324, 2.2250738585072014e-308, 1.7976931348623157e308 };
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
		same_as_reference(edges[i]);
}

int
main(void)
{
	RUN(integers_keep_every_digit);
	RUN(doubles_read_back_exactly);
	RUN(numbers_print_as_the_reference);
	RUN(tree_is_left_as_it_was);
	RUN(nonfinite_prints_null);
	RUN(check_text_refuses_nul_escapes);
	RUN(check_text_refuses_invalid_utf8);
	return harness_done();
}
