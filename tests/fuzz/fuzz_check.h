/*
 * fuzz_check.h: the checks of the fuzz targets. A failed check prints
 * where and why, then abort()s, which libFuzzer and test_regress both
 * report as a crash with its input. Define FUZZ_TARGET ("fuzz_spec", ...)
 * before including it.
 */
#ifndef SWEEPD_TESTS_FUZZ_CHECK_H
#define SWEEPD_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { \
	fprintf(stderr, FUZZ_TARGET ": %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fprintf(stderr, "\n"); \
	abort(); \
} while (0)

#define REQUIRE(cond) do { if (!(cond)) FAIL("%s", #cond); } while (0)

/* Whether id is listed in $SWEEPD_FUZZ_IGNORE (comma separated). */
static inline int
fuzz_ignored(const char *id)
{
	const char *l = getenv("SWEEPD_FUZZ_IGNORE");
	size_t n = strlen(id);

	for (const char *p = l; p && (p = strstr(p, id)); p += n)
		if ((p == l || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

/* A check for a bug already reported: skipped when its id is listed in
 * $SWEEPD_FUZZ_IGNORE, so a long run can look past it. */
#define KNOWN(id, cond, ...) do { \
	if (!(cond) && !fuzz_ignored(id)) \
		FAIL("[" id "] " __VA_ARGS__); \
} while (0)

#endif
