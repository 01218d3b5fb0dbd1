/*
 * fuzz_report.c: libFuzzer target for the trainer report-line parser
 * (common/report.c) and the line splitter in front of it (common/linebuf.c).
 *
 * Per input:
 *  - report_parse on the whole input: it either succeeds with a line that
 *    keeps every documented bound, or fails with a non-empty message that
 *    starts "bad report line";
 *  - when it succeeds, report_to_json and report_parse again must give
 *    the same kind, epoch, best_epoch (final lines), metrics and grad_norm
 *    (a non-finite value comes back as NaN: JSON has no infinities);
 *  - the input split at a point chosen by its first byte is fed to a
 *    linebuf with a small cap (also chosen by that byte), and every line it
 *    hands out must be within the cap, NUL-terminated, free of '\n', and
 *    together with the refusals account for the bytes fed.
 * Built twice: with -fsanitize=fuzzer by run.sh, and with the normal
 * compiler into test_regress, which replays the corpus and regress dirs.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/linebuf.h"
#include "common/report.h"

#define FUZZ_TARGET "fuzz_report"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Equal as report values: both NaN, or equal to within cJSON's printing.
 * Non-finite values print as null, which reads back as NaN. cJSON prints
 * 15 significant digits whenever they read back within DBL_EPSILON
 * (relative) of the value, so the last bit or two may change. */
static int
same_value(double a, double b)
{
	if (!isfinite(a))
		return isnan(b);
	return a == b || fabs(a - b) <= 2 * DBL_EPSILON * fmax(fabs(a), fabs(b));
}

static void
check_bounds(const struct report_line *r)
{
	REQUIRE(r->kind == REPORT_EPOCH || r->kind == REPORT_FINAL);
	if (r->kind == REPORT_EPOCH)
		REQUIRE(r->epoch >= 1);
	else
		REQUIRE(r->epoch >= 0);
	REQUIRE(r->best_epoch >= 0);
	REQUIRE(r->n_metrics >= 0 && r->n_metrics <= REPORT_MAX_METRICS);
	REQUIRE(r->n_grad >= 0 && r->n_grad <= REPORT_MAX_GRAD);
	for (int i = 0; i < r->n_metrics; i++) {
		size_t nl = strnlen(r->metrics[i].name, REPORT_MAX_NAME);

		REQUIRE(nl > 0 && nl < REPORT_MAX_NAME);
		REQUIRE(report_has(r, r->metrics[i].name));
		for (int j = 0; j < i; j++)
			REQUIRE(strcmp(r->metrics[i].name, r->metrics[j].name) != 0);
	}
}

static void
check_round_trip(const struct report_line *a)
{
	static struct report_line b;
	char err[512];
	cJSON *j = report_to_json(a);
	char *text;
	int rc;

	REQUIRE(j);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	REQUIRE(text);
	rc = report_parse(text, strlen(text), &b, err, sizeof err);
	if (rc != 0)
		FAIL("report_to_json gave a line report_parse refuses: %s", err);
	free(text);
	REQUIRE(b.kind == a->kind);
	REQUIRE(b.epoch == a->epoch);
	if (a->kind == REPORT_FINAL)
		REQUIRE(b.best_epoch == a->best_epoch);
	REQUIRE(b.n_metrics == a->n_metrics);
	for (int i = 0; i < a->n_metrics; i++) {
		REQUIRE(strcmp(a->metrics[i].name, b.metrics[i].name) == 0);
		if (!same_value(a->metrics[i].value, b.metrics[i].value))
			FAIL("metric %s: %.17g came back as %.17g",
			     a->metrics[i].name, a->metrics[i].value,
			     b.metrics[i].value);
	}
	REQUIRE(b.n_grad == a->n_grad);
	for (int i = 0; i < a->n_grad; i++)
		REQUIRE(same_value(a->grad_norm[i], b.grad_norm[i]));
}

struct split_ctx {
	size_t max;
	size_t delivered;      /* line bytes delivered */
	size_t lines;
};

static int
on_line(void *ud, char *line, size_t len)
{
	struct split_ctx *c = ud;
	static struct report_line r;
	char err[256];

	REQUIRE(len <= c->max);
	REQUIRE(line[len] == '\0');
	REQUIRE(!memchr(line, '\n', len));
	c->delivered += len;
	c->lines++;
	/* What the daemon does with each line: strip the stdout prefix,
	 * parse. Only the memory safety of this is checked here. */
	{
		const char *p = line;
		size_t pl = len;

		report_strip_prefix(line, len, &p, &pl);
		REQUIRE(p >= line && p + pl == line + len);
		if (report_parse(p, pl, &r, err, sizeof err) != 0)
			REQUIRE(err[0] != '\0');
	}
	return 0;
}

/* Splits data at a point and feeds both parts to a small linebuf. */
static void
check_linebuf(const uint8_t *data, size_t size)
{
	struct split_ctx c = { 0 };
	struct linebuf lb;
	size_t cut, fed = 0, dropped_lines = 0;
	int rc;

	if (size < 1)
		return;
	c.max = 1 + (data[0] & 0x3f);          /* cap 1..64 bytes */
	data++;
	size--;
	cut = size ? (size_t)(data[0 % size]) % (size + 1) : 0;
	REQUIRE(linebuf_init(&lb, c.max) == 0);
	for (int part = 0; part < 2; part++) {
		const uint8_t *p = part == 0 ? data : data + cut;
		size_t n = part == 0 ? cut : size - cut;

		rc = linebuf_feed(&lb, (const char *)p, n, on_line, &c);
		REQUIRE(rc == 0 || rc == -E2BIG);
		REQUIRE(lb.len <= lb.max + 1);
		REQUIRE(lb.cap <= lb.max + 2);
		if (rc == -E2BIG) {
			REQUIRE(lb.len == 0);
			dropped_lines++;
		}
		fed += n;
	}
	rc = linebuf_finish(&lb, on_line, &c);
	REQUIRE(rc == 0);
	REQUIRE(lb.len == 0);
	/* Without a refusal every byte but the newlines (and one '\r' per
	 * line) came out as line bytes. */
	if (dropped_lines == 0) {
		size_t nl = 0;

		for (size_t i = 0; i < size; i++)
			nl += data[i] == '\n';
		REQUIRE(c.delivered <= fed - nl);
		REQUIRE(c.delivered + nl + c.lines >= fed);
	}
	linebuf_free(&lb);
	linebuf_free(&lb);   /* harmless twice */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct report_line r;
	char err[512];
	int rc;

	err[0] = '\0';
	rc = report_parse((const char *)data, size, &r, err, sizeof err);
	if (rc == 0) {
		check_bounds(&r);
		check_round_trip(&r);
	} else {
		REQUIRE(rc == -EINVAL || rc == -ENOMEM);
		if (rc == -EINVAL) {
			REQUIRE(strncmp(err, "bad report line \"", 17) == 0);
			REQUIRE(strlen(err) < sizeof err);
			/* Messages end up in logs and in replies. */
			KNOWN("report-err-newline", !strpbrk(err, "\n\r"),
			      "message is not one line: %s", err);
		}
	}
	/* A NULL or short err buffer must be fine too. */
	rc = report_parse((const char *)data, size, &r, NULL, 0);
	REQUIRE(rc <= 0);
	rc = report_parse((const char *)data, size, &r, err, 8);
	REQUIRE(rc <= 0);
	REQUIRE(strlen(err) < 8);

	check_linebuf(data, size);
	return 0;
}
