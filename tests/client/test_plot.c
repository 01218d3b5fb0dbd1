/* test_plot.c: braille charts: the dot encoding, where points land, the
 * early-stopping marker, log scale, and the refusals. */
#include "client/plot.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>

static char *
render(const struct plot_opts *o, const struct plot_series *s, size_t ns, int *rc)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	*rc = plot_render(f, o, s, ns);
	fclose(f);
	return buf;
}

/* Line i (from 0) of text, copied into a static buffer. */
static const char *
line_of(const char *text, int i)
{
	static char buf[4096];
	const char *p = text, *e;

	while (i-- > 0 && p && (p = strchr(p, '\n')))
		p++;
	if (!p)
		return "";
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	snprintf(buf, sizeof buf, "%.*s", (int)(e - p), p);
	return buf;
}

static void
braille_encoding(void)
{
	char b[4];

	plot_braille(b, 0x00);
	CHECK_STR(b, "\xe2\xa0\x80");   /* U+2800, blank pattern */
	plot_braille(b, 0x01);
	CHECK_STR(b, "\xe2\xa0\x81");   /* dot 1 */
	plot_braille(b, 0xff);
	CHECK_STR(b, "\xe2\xa3\xbf");   /* U+28FF, all eight dots */
}

static void
points_land_in_the_corners(void)
{
	/* Two points on an 8x3 canvas: (0,0) bottom left, (1,1) top right,
	 * no line between them (two series of one point each). */
	double x0[] = { 0 }, y0[] = { 0 }, x1[] = { 1 }, y1[] = { 1 };
	struct plot_series s[] = {
		{ .label = "a", .x = x0, .y = y0, .n = 1 },
		{ .label = "b", .x = x1, .y = y1, .n = 1 },
	};
	struct plot_opts o = { .width = 8, .height = 3, .logy = 0, .vline = NAN };
	int rc;
	char *out = render(&o, s, 2, &rc);

	CHECK(rc == 0);
	/* top row: y label "1", then 7 blanks and the top-right dot (dot 4,
	 * U+2808) in the last cell */
	CHECK_STR(line_of(out, 0), "  1 \xe2\x94\xa4       \xe2\xa0\x88");
	/* the middle row is labelled with the value at its centre; labels
	 * are right-aligned to the widest */
	CHECK_STR(line_of(out, 1), "0.5 \xe2\x94\xa4        ");
	/* bottom row: dot 7 (U+2840) in the first cell */
	CHECK_STR(line_of(out, 2), "  0 \xe2\x94\xa4\xe2\xa1\x80       ");
	CHECK_STR(line_of(out, 4), "     0      1");
	CHECK_CONTAINS(line_of(out, 5), "\xe2\xa0\xa4\xe2\xa0\xa4 a   \xe2\xa0\xa4\xe2\xa0\xa4 b");
	free(out);
}

static void
a_line_fills_the_cells_between(void)
{
	double x[] = { 0, 1 }, y[] = { 0, 1 };
	struct plot_series s = { .label = "d", .x = x, .y = y, .n = 2 };
	struct plot_opts o = { .width = 8, .height = 4, .logy = 0, .vline = NAN };
	int rc, row;
	char *out = render(&o, &s, 1, &rc);

	CHECK(rc == 0);
	/* a diagonal through a 16 x 16 pixel grid touches every cell row */
	for (row = 0; row < 4; row++) {
		const char *l = line_of(out, row);
		CHECK_MSG(strstr(l, "\xe2\xa0") || strstr(l, "\xe2\xa1") ||
			  strstr(l, "\xe2\xa2") || strstr(l, "\xe2\xa3"),
			  "row %d has no braille: %s", row, l);
	}
	free(out);
}

static void
marks_and_the_stop_marker(void)
{
	double x[] = { 1, 2, 3, 4, 5 }, y[] = { 5, 4, 3, 4, 5 };
	struct plot_series s = { .label = "val_loss", .x = x, .y = y, .n = 5,
				 .mark = "o" };
	struct plot_opts o = { .width = 20, .height = 5, .logy = 0, .vline = 3,
			       .vline_label = "stop 3", .title = "loss" };
	int rc;
	char *out = render(&o, &s, 1, &rc);

	CHECK(rc == 0);
	CHECK_STR(line_of(out, 0), "loss");
	/* every point is marked: 5 'o' over the 5 chart rows */
	int marks = 0;
	for (int r = 1; r <= 5; r++)
		for (const char *p = line_of(out, r); (p = strchr(p, 'o')); p++)
			marks++;
	CHECK_MSG(marks == 5, "%d marks", marks);
	/* the lowest point (3, 3) is in the bottom row, at the marker */
	CHECK_CONTAINS(line_of(out, 5), "o");
	/* the x axis has a ┴ under the marker and the label under it */
	CHECK_CONTAINS(line_of(out, 6), "\xe2\x94\xb4");
	CHECK_CONTAINS(line_of(out, 7), "stop 3");
	CHECK_CONTAINS(out, "\xe2\x94\x8a");   /* ┊ in empty cells above */
	free(out);
}

static void
diverging_data_gets_a_log_axis(void)
{
	double x[] = { 1, 2, 3, 4 }, y[] = { 0.5, 3, 1e6, 1e20 };
	double ny[] = { 0.5, NAN, 0.4, INFINITY };
	struct plot_series s = { .label = "loss", .x = x, .y = y, .n = 4 };
	struct plot_opts o = { .width = 20, .height = 4, .logy = -1, .vline = NAN };
	int rc;
	char *out = render(&o, &s, 1, &rc);

	CHECK(rc == 0);
	CHECK_CONTAINS(out, "(log scale)");
	CHECK_CONTAINS(line_of(out, 0), "1e+20");
	free(out);
	/* non-finite values are skipped, the rest still drawn, linear */
	s.y = ny;
	out = render(&o, &s, 1, &rc);
	CHECK(rc == 0);
	CHECK(strstr(out, "log scale") == NULL);
	CHECK_CONTAINS(line_of(out, 0), "0.5");
	free(out);
}

static void
refusals(void)
{
	double x[] = { 1 }, y[] = { NAN };
	struct plot_series s = { .label = "x", .x = x, .y = y, .n = 1 };
	struct plot_opts o = { .width = 20, .height = 4, .logy = 0, .vline = NAN };
	int rc;
	char *out = render(&o, &s, 1, &rc);

	CHECK(rc == -ENODATA);
	CHECK_STR(out, "");
	free(out);
	o.width = 4;
	out = render(&o, &s, 1, &rc);
	CHECK(rc == -EINVAL);
	free(out);
}

static void
colour_only_when_asked(void)
{
	double x[] = { 1, 2 }, y[] = { 1, 2 };
	struct plot_series s = { .label = "x", .x = x, .y = y, .n = 2, .color = 31 };
	struct plot_opts o = { .width = 10, .height = 3, .logy = 0, .vline = NAN };
	int rc;
	char *out = render(&o, &s, 1, &rc);

	CHECK(rc == 0 && strchr(out, '\033') == NULL);
	free(out);
	o.color = 1;
	out = render(&o, &s, 1, &rc);
	CHECK_CONTAINS(out, "\033[31m");
	CHECK_CONTAINS(out, "\033[0m");
	free(out);
}

int
main(void)
{
	RUN(braille_encoding);
	RUN(points_land_in_the_corners);
	RUN(a_line_fills_the_cells_between);
	RUN(marks_and_the_stop_marker);
	RUN(diverging_data_gets_a_log_axis);
	RUN(refusals);
	RUN(colour_only_when_asked);
	return harness_done();
}
