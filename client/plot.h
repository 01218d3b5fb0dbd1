/*
 * plot: line charts in the terminal, drawn with Unicode braille (each
 * character cell is a 2 x 4 grid of dots), for `sweepctl curve`.
 *
 * Series are told apart by an optional marker glyph at each data point
 * and, when asked for, by ANSI colour; a vertical marker (the early-stopping
 * epoch) can be drawn across the chart with a label under the x axis.
 */
#ifndef SWEEPD_CLIENT_PLOT_H
#define SWEEPD_CLIENT_PLOT_H

#include <stddef.h>
#include <stdio.h>

struct plot_series {
	const char *label;     /* legend text; borrowed */
	const double *x;       /* (n) */
	const double *y;       /* (n); a non-finite y is skipped and breaks the line */
	size_t n;
	const char *mark;      /* NULL: a line only; else a one-column UTF-8
				* glyph drawn at each point over the line */
	int color;             /* ANSI foreground code (31..37, 90..97), 0: none */
};

struct plot_opts {
	int width, height;     /* plot area in character cells, at least 8 x 3 */
	int color;             /* emit ANSI colour escapes */
	int logy;              /* 1 log y axis, 0 linear, -1 auto: log when every
				* value is positive and they span over 3 decades */
	double vline;          /* x of a vertical marker; NAN for none */
	const char *vline_label;   /* under the x axis at the marker; may be NULL */
	const char *title;     /* a line above the chart; may be NULL */
};

/*
 * Draws the series into out: the title, one line per cell row with y
 * labels (max, middle, min) on the left, the x axis with its min and max
 * (and the marker label), then a legend. Returns 0; -EINVAL when the size
 * is too small or ns is 0; -ENODATA when no series has a finite point (the
 * caller says "no data"; nothing is written); -ENOMEM.
 */
int plot_render(FILE *out, const struct plot_opts *o,
		const struct plot_series *s, size_t ns);

/* The braille character (3 bytes of UTF-8 and a NUL) for a dot mask:
 * bit 0..7 = dots 1..8 of the Unicode braille pattern. Writes buf[4]. */
void plot_braille(char buf[4], unsigned bits);

#endif
