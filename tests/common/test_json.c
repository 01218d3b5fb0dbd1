/*
 * test_json.c: json_print reads back as the very same numbers (cJSON's own
 * printer rounds to 15 digits) and leaves the tree as it was;
 * json_check_text refuses invalid UTF-8 and "\u0000".
 */
#include <errno.h>
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

int
main(void)
{
	RUN(integers_keep_every_digit);
	RUN(doubles_read_back_exactly);
	RUN(tree_is_left_as_it_was);
	RUN(nonfinite_prints_null);
	RUN(check_text_refuses_nul_escapes);
	RUN(check_text_refuses_invalid_utf8);
	return harness_done();
}
