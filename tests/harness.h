/*
 * harness.h: a tiny TAP test harness shared by every C unit test.
 *
 * Each test is a void function; CHECK records a failure with file and line
 * and lets the test go on, so one run shows every broken expectation.
 * RUN prints "ok N - name" or "not ok N - name" (TAP 13, read by meson's
 * 'tap' protocol), SKIP marks the running test skipped with a reason.
 * harness_done() prints the plan and returns the exit status.
 */
#ifndef SWEEPD_TESTS_HARNESS_H
#define SWEEPD_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int harness_n;           /* tests run so far */
static int harness_failed;      /* tests that failed */
static int harness_cur_failed;  /* failures in the running test */
static const char *harness_skip; /* NULL or the running test's skip reason */

#define CHECK(cond) do { \
	if (!(cond)) { \
		harness_cur_failed++; \
		printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_MSG(cond, ...) do { \
	if (!(cond)) { \
		harness_cur_failed++; \
		printf("# %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

/* |a - b| <= tol, printed with both values when it fails. */
#define CHECK_NEAR(a, b, tol) do { \
	double ha_ = (double)(a), hb_ = (double)(b); \
	if (!(fabs(ha_ - hb_) <= (tol))) { \
		harness_cur_failed++; \
		printf("# %s:%d: CHECK_NEAR(%s, %s) failed: %.9g vs %.9g (tol %g)\n", \
		       __FILE__, __LINE__, #a, #b, ha_, hb_, (double)(tol)); \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *hsa_ = (a), *hsb_ = (b); \
	if (!hsa_ || !hsb_ || strcmp(hsa_, hsb_) != 0) { \
		harness_cur_failed++; \
		printf("# %s:%d: CHECK_STR(%s, %s) failed: \"%s\" vs \"%s\"\n", \
		       __FILE__, __LINE__, #a, #b, hsa_ ? hsa_ : "(null)", \
		       hsb_ ? hsb_ : "(null)"); \
	} \
} while (0)

/* True when needle occurs in hay; both may be NULL (then false). */
#define CHECK_CONTAINS(hay, needle) do { \
	const char *hh_ = (hay), *hn_ = (needle); \
	if (!hh_ || !hn_ || !strstr(hh_, hn_)) { \
		harness_cur_failed++; \
		printf("# %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
		       __LINE__, hh_ ? hh_ : "(null)", hn_ ? hn_ : "(null)"); \
	} \
} while (0)

/* Call from inside a test to mark it skipped; return right after. */
#define SKIP(reason) (harness_skip = (reason))

#define RUN(fn) do { \
	harness_cur_failed = 0; \
	harness_skip = NULL; \
	fn(); \
	harness_n++; \
	if (harness_skip) \
		printf("ok %d - %s # SKIP %s\n", harness_n, #fn, harness_skip); \
	else if (harness_cur_failed) { \
		harness_failed++; \
		printf("not ok %d - %s\n", harness_n, #fn); \
	} else \
		printf("ok %d - %s\n", harness_n, #fn); \
	fflush(stdout); \
} while (0)

static inline int
harness_done(void)
{
	printf("1..%d\n", harness_n);
	return harness_failed ? 1 : 0;
}

#endif
