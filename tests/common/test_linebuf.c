/*
 * test_linebuf.c: the line splitter used on report pipes and client
 * sockets: splitting across and within feeds, CRLF, the hard cap and
 * callback errors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/linebuf.h"
#include "tests/harness.h"

#define MAX_LINES 64

/* Records every line delivered. */
struct rec {
	int n;
	char *lines[MAX_LINES];
	size_t lens[MAX_LINES];
	int fail_at;   /* return -42 on this line number (1-based); 0 = never */
	int nul_ok;    /* every line had a NUL at line[len] */
};

static int
rec_cb(void *ud, char *line, size_t len)
{
	struct rec *r = ud;

	if (line[len] != '\0')
		r->nul_ok = 0;
	if (r->n < MAX_LINES) {
		r->lines[r->n] = strndup(line, len);
		r->lens[r->n] = len;
	}
	r->n++;
	if (r->fail_at && r->n == r->fail_at)
		return -42;
	return 0;
}

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->nul_ok = 1;
}

static void
rec_free(struct rec *r)
{
	for (int i = 0; i < r->n && i < MAX_LINES; i++)
		free(r->lines[i]);
}

static void
init_rejects_zero_max(void)
{
	struct linebuf lb;

	CHECK(linebuf_init(&lb, 0) == -EINVAL);
	CHECK(linebuf_init(&lb, (size_t)-1) == -EINVAL);
	CHECK(linebuf_init(&lb, 10) == 0);
	linebuf_free(&lb);
}

static void
free_is_harmless_twice_and_on_zeroed(void)
{
	struct linebuf lb;
	struct rec r;

	memset(&lb, 0, sizeof(lb));
	linebuf_free(&lb);
	linebuf_free(NULL);
	rec_init(&r);
	CHECK(linebuf_init(&lb, 100) == 0);
	CHECK(linebuf_feed(&lb, "abc", 3, rec_cb, &r) == 0);
	linebuf_free(&lb);
	CHECK(lb.buf == NULL && lb.len == 0);
	linebuf_free(&lb);
	CHECK(r.n == 0);
	rec_free(&r);
}

static void
splits_byte_by_byte(void)
{
	const char *in = "hello\nworld\n{\"a\":1}\n";
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 64) == 0);
	for (size_t i = 0; i < strlen(in); i++)
		CHECK(linebuf_feed(&lb, in + i, 1, rec_cb, &r) == 0);
	CHECK(r.n == 3);
	if (r.n == 3) {
		CHECK_STR(r.lines[0], "hello");
		CHECK_STR(r.lines[1], "world");
		CHECK_STR(r.lines[2], "{\"a\":1}");
	}
	CHECK(r.nul_ok);
	linebuf_free(&lb);
	rec_free(&r);
}

static void
many_lines_in_one_feed(void)
{
	const char *in = "a\nbb\nccc\ndddd\npartial";
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 64) == 0);
	CHECK(linebuf_feed(&lb, in, strlen(in), rec_cb, &r) == 0);
	CHECK(r.n == 4);
	if (r.n == 4) {
		CHECK_STR(r.lines[0], "a");
		CHECK_STR(r.lines[3], "dddd");
	}
	/* the partial line completes with the next feed */
	CHECK(linebuf_feed(&lb, "_end\nx", 6, rec_cb, &r) == 0);
	CHECK(r.n == 5);
	if (r.n == 5)
		CHECK_STR(r.lines[4], "partial_end");
	CHECK(lb.len == 1);
	linebuf_free(&lb);
	rec_free(&r);
}

static void
empty_lines_are_delivered(void)
{
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 8) == 0);
	CHECK(linebuf_feed(&lb, "\n\r\n\nz\n", 6, rec_cb, &r) == 0);
	CHECK(r.n == 4);
	if (r.n == 4) {
		CHECK(r.lens[0] == 0 && r.lens[1] == 0 && r.lens[2] == 0);
		CHECK_STR(r.lines[3], "z");
	}
	CHECK(r.nul_ok);
	linebuf_free(&lb);
	rec_free(&r);
}

static void
crlf_is_stripped_even_when_split(void)
{
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 64) == 0);
	CHECK(linebuf_feed(&lb, "one\r\ntwo\r", 9, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "\nthree\rx\n", 9, rec_cb, &r) == 0);
	CHECK(r.n == 3);
	if (r.n == 3) {
		CHECK_STR(r.lines[0], "one");
		CHECK_STR(r.lines[1], "two");
		/* only a trailing '\r' goes */
		CHECK_STR(r.lines[2], "three\rx");
	}
	linebuf_free(&lb);
	rec_free(&r);
}

static int
upcase_cb(void *ud, char *line, size_t len)
{
	char *out = ud;

	for (size_t i = 0; i < len; i++)
		line[i] = (char)(line[i] - 'a' + 'A');
	strcat(out, line);
	strcat(out, "|");
	return 0;
}

static void
callback_modifies_in_place(void)
{
	struct linebuf lb;
	char out[64] = "";

	CHECK(linebuf_init(&lb, 16) == 0);
	CHECK(linebuf_feed(&lb, "abc\nde", 6, upcase_cb, out) == 0);
	CHECK(linebuf_feed(&lb, "f\n", 2, upcase_cb, out) == 0);
	CHECK_STR(out, "ABC|DEF|");
	linebuf_free(&lb);
}

static void
exactly_max_is_accepted(void)
{
	char line[17];
	struct linebuf lb;
	struct rec r;

	memset(line, 'x', 16);
	line[16] = '\n';
	rec_init(&r);
	CHECK(linebuf_init(&lb, 16) == 0);
	CHECK(linebuf_feed(&lb, line, 17, rec_cb, &r) == 0);
	CHECK(r.n == 1 && r.lens[0] == 16);
	/* max bytes plus CRLF is still a max-length line */
	CHECK(linebuf_feed(&lb, line, 16, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "\r", 1, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "\n", 1, rec_cb, &r) == 0);
	CHECK(r.n == 2 && r.lens[1] == 16);
	CHECK(lb.cap <= 16 + 2);
	linebuf_free(&lb);
	rec_free(&r);
}

static void
max_plus_one_is_refused(void)
{
	char line[18];
	struct linebuf lb;
	struct rec r;

	memset(line, 'x', 17);
	line[17] = '\n';
	rec_init(&r);
	CHECK(linebuf_init(&lb, 16) == 0);
	CHECK(linebuf_feed(&lb, line, 18, rec_cb, &r) == -E2BIG);
	CHECK(r.n == 0);
	/* refused before its newline arrives */
	CHECK(linebuf_feed(&lb, line, 17, rec_cb, &r) == -E2BIG);
	CHECK(r.n == 0);
	/* 16 bytes + '\r' is pending-legal, but a 17th byte after it is not */
	CHECK(linebuf_feed(&lb, line, 16, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "\r", 1, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "y", 1, rec_cb, &r) == -E2BIG);
	CHECK(r.n == 0);
	linebuf_free(&lb);
	rec_free(&r);
}

/* A 2 MiB line against a 1 MiB cap, fed in 64 KiB reads as a socket would:
 * refused once the pending part passes 1 MiB, never buffered whole. */
static void
huge_line_refused_before_buffered(void)
{
	const size_t max = 1 << 20, total = 2u << 20, chunk = 65536;
	char *data = malloc(chunk);
	struct linebuf lb;
	struct rec r;
	size_t fed = 0;
	int rc = 0;

	if (!data) {
		SKIP("no memory for the test chunk");
		return;
	}
	memset(data, 'q', chunk);
	rec_init(&r);
	CHECK(linebuf_init(&lb, max) == 0);
	while (fed < total && rc == 0) {
		rc = linebuf_feed(&lb, data, chunk, rec_cb, &r);
		fed += chunk;
	}
	CHECK(rc == -E2BIG);
	CHECK_MSG(fed <= max + chunk, "fed %zu bytes before refusal", fed);
	CHECK(lb.cap <= max + 2);
	CHECK(lb.len == 0);
	CHECK(r.n == 0);
	linebuf_free(&lb);
	rec_free(&r);
	free(data);
}

static void
callback_error_stops_feed(void)
{
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	r.fail_at = 2;
	CHECK(linebuf_init(&lb, 64) == 0);
	CHECK(linebuf_feed(&lb, "a\nb\nc\nd\n", 8, rec_cb, &r) == -42);
	CHECK(r.n == 2);
	linebuf_free(&lb);
	rec_free(&r);
}

static void
finish_delivers_unterminated_tail(void)
{
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 64) == 0);
	CHECK(linebuf_feed(&lb, "x\ntail\r", 7, rec_cb, &r) == 0);
	CHECK(r.n == 1);
	CHECK(linebuf_finish(&lb, rec_cb, &r) == 0);
	CHECK(r.n == 2);
	if (r.n == 2)
		CHECK_STR(r.lines[1], "tail");
	/* nothing left: a second finish delivers nothing */
	CHECK(linebuf_finish(&lb, rec_cb, &r) == 0);
	CHECK(r.n == 2);
	/* finish passes the callback's error on */
	r.fail_at = 3;
	CHECK(linebuf_feed(&lb, "last", 4, rec_cb, &r) == 0);
	CHECK(linebuf_finish(&lb, rec_cb, &r) == -42);
	CHECK(r.n == 3);
	linebuf_free(&lb);
	rec_free(&r);
}

static void
finish_on_empty_does_nothing(void)
{
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 64) == 0);
	CHECK(linebuf_finish(&lb, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "a\n", 2, rec_cb, &r) == 0);
	CHECK(linebuf_finish(&lb, rec_cb, &r) == 0);
	CHECK(r.n == 1);
	linebuf_free(&lb);
	rec_free(&r);
}

/* Lines of many lengths, fed in odd-sized chunks, come out intact. */
static void
random_chunking_preserves_lines(void)
{
	char in[4096];
	size_t n = 0;
	int lines = 0;
	struct linebuf lb;
	struct rec r;
	unsigned seed = 12345;

	for (int i = 0; i < 40; i++) {
		int len = (i * 37) % 90;
		for (int j = 0; j < len; j++)
			in[n++] = (char)('a' + (i + j) % 26);
		in[n++] = '\n';
		lines++;
	}
	rec_init(&r);
	CHECK(linebuf_init(&lb, 100) == 0);
	for (size_t pos = 0; pos < n;) {
		size_t step;

		seed = seed * 1103515245u + 12345u;
		step = 1 + (seed >> 16) % 23;
		if (step > n - pos)
			step = n - pos;
		CHECK(linebuf_feed(&lb, in + pos, step, rec_cb, &r) == 0);
		pos += step;
	}
	CHECK(r.n == lines);
	for (int i = 0; i < r.n && i < MAX_LINES; i++) {
		size_t want = (size_t)((i * 37) % 90);

		CHECK(r.lens[i] == want);
		if (want > 0)
			CHECK(r.lines[i][0] == (char)('a' + i % 26));
	}
	linebuf_free(&lb);
	rec_free(&r);
}

/* In skip mode an overlong line is dropped through its newline, wherever
 * the chunks cut it, and the lines after it are delivered. */
static void
skip_mode_drops_only_the_overlong_line(void)
{
	char buf[64];
	struct linebuf lb;
	struct rec r;

	rec_init(&r);
	CHECK(linebuf_init(&lb, 8) == 0);
	linebuf_skip_overlong(&lb);
	/* one chunk: a line, an overlong one, two more */
	CHECK(linebuf_feed(&lb, "ab\n0123456789xyz\ncd\nef\n",
			   strlen("ab\n0123456789xyz\ncd\nef\n"), rec_cb, &r) == 0);
	/* across chunks: the cap is passed in the first, the newline comes in
	 * the third, a line follows it in the same chunk */
	memset(buf, 'z', sizeof buf);
	CHECK(linebuf_feed(&lb, buf, 12, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, buf, 30, rec_cb, &r) == 0);
	CHECK(linebuf_feed(&lb, "zz\ngh\r\nij", strlen("zz\ngh\r\nij"), rec_cb,
			   &r) == 0);
	CHECK(linebuf_finish(&lb, rec_cb, &r) == 0);
	CHECK_MSG(r.n == 5, "%d lines", r.n);
	if (r.n == 5) {
		CHECK(strcmp(r.lines[0], "ab") == 0 && strcmp(r.lines[1], "cd") == 0);
		CHECK(strcmp(r.lines[2], "ef") == 0 && strcmp(r.lines[3], "gh") == 0);
		CHECK(strcmp(r.lines[4], "ij") == 0);
	}
	CHECK(lb.skipped == 2);
	/* an overlong tail at EOF is not delivered */
	CHECK(linebuf_feed(&lb, buf, 20, rec_cb, &r) == 0);
	CHECK(linebuf_finish(&lb, rec_cb, &r) == 0);
	CHECK(r.n == 5 && lb.skipped == 3);
	/* and the next line after EOF-reset is whole */
	CHECK(linebuf_feed(&lb, "kl\n", 3, rec_cb, &r) == 0);
	CHECK(r.n == 6 && strcmp(r.lines[5], "kl") == 0);
	linebuf_free(&lb);
	rec_free(&r);
}

int
main(void)
{
	RUN(init_rejects_zero_max);
	RUN(free_is_harmless_twice_and_on_zeroed);
	RUN(splits_byte_by_byte);
	RUN(many_lines_in_one_feed);
	RUN(empty_lines_are_delivered);
	RUN(crlf_is_stripped_even_when_split);
	RUN(callback_modifies_in_place);
	RUN(exactly_max_is_accepted);
	RUN(max_plus_one_is_refused);
	RUN(skip_mode_drops_only_the_overlong_line);
	RUN(huge_line_refused_before_buffered);
	RUN(callback_error_stops_feed);
	RUN(finish_delivers_unterminated_tail);
	RUN(finish_on_empty_does_nothing);
	RUN(random_chunking_preserves_lines);
	return harness_done();
}
