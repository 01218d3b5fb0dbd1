/*
 * plot.c: braille line charts. The canvas is width x height cells, each a
 * 2 x 4 dot grid, so the pixel grid is (2 width) x (4 height); lines
 * between consecutive points are rasterised with Bresenham's algorithm.
 * A cell shows its marker glyph if a series put one there, else its dots.
 */
#include "client/plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"

/* Dot bit for pixel (dx, dy) inside a cell: Unicode numbers the dots
 * 1-2-3-7 down the left column and 4-5-6-8 down the right one. */
static const unsigned char dot_bit[2][4] = {
	{ 0x01, 0x02, 0x04, 0x40 },
	{ 0x08, 0x10, 0x20, 0x80 },
};

#define VLINE_OWNER (-2)   /* cell owned by the vertical marker */

struct canvas {
	int w, h;                  /* cells */
	unsigned char *dots;       /* (h, w) braille masks */
	signed char *owner;        /* (h, w) series index, -1 none, VLINE_OWNER */
	const char **glyph;        /* (h, w) NULL or a borrowed glyph */
	double xlo, xhi, ylo, yhi; /* data range mapped onto the pixels */
	int logy;
};

void
plot_braille(char buf[4], unsigned bits)
{
	unsigned cp = 0x2800 + (bits & 0xff);

	buf[0] = (char)(0xe0 | (cp >> 12));
	buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[2] = (char)(0x80 | (cp & 0x3f));
	buf[3] = '\0';
}

static double
ty(const struct canvas *c, double y)
{
	return c->logy ? log10(y) : y;
}

static int
usable(const struct canvas *c, double x, double y)
{
	return isfinite(x) && isfinite(y) && (!c->logy || y > 0);
}

/* Pixel column and row of a data point; row 0 is the top. */
static void
to_pixel(const struct canvas *c, double x, double y, int *px, int *py)
{
	int pw = 2 * c->w, ph = 4 * c->h;
	double fx = (x - c->xlo) / (c->xhi - c->xlo);
	double fy = (ty(c, y) - ty(c, c->ylo)) / (ty(c, c->yhi) - ty(c, c->ylo));

	*px = (int)lround(fx * (pw - 1));
	*py = (ph - 1) - (int)lround(fy * (ph - 1));
	if (*px < 0) *px = 0;
	if (*px >= pw) *px = pw - 1;
	if (*py < 0) *py = 0;
	if (*py >= ph) *py = ph - 1;
}

static void
set_dot(struct canvas *c, int px, int py, int series)
{
	int i = (py / 4) * c->w + px / 2;

	c->dots[i] |= dot_bit[px % 2][py % 4];
	c->owner[i] = (signed char)series;
}

/* Bresenham from (x0, y0) to (x1, y1), every pixel on the way. */
static void
line(struct canvas *c, int x0, int y0, int x1, int y1, int series)
{
	int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
	int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
	int err = dx + dy;

	for (;;) {
		set_dot(c, x0, y0, series);
		if (x0 == x1 && y0 == y1)
			break;
		int e2 = 2 * err;
		if (e2 >= dy) {
			err += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			err += dx;
			y0 += sy;
		}
	}
}

/* Data ranges over every usable point (and the marker's x). Returns the
 * number of usable points. */
static size_t
ranges(struct canvas *c, const struct plot_opts *o,
       const struct plot_series *s, size_t ns)
{
	size_t n = 0;

	c->xlo = c->ylo = INFINITY;
	c->xhi = c->yhi = -INFINITY;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			double x = s[k].x[i], y = s[k].y[i];
			if (!usable(c, x, y))
				continue;
			n++;
			c->xlo = fmin(c->xlo, x);
			c->xhi = fmax(c->xhi, x);
			c->ylo = fmin(c->ylo, y);
			c->yhi = fmax(c->yhi, y);
		}
	if (!n)
		return 0;
	if (isfinite(o->vline)) {
		c->xlo = fmin(c->xlo, o->vline);
		c->xhi = fmax(c->xhi, o->vline);
	}
	if (c->xhi == c->xlo) {
		c->xlo -= 0.5;
		c->xhi += 0.5;
	}
	if (c->yhi == c->ylo) {
		double d = c->logy ? c->ylo * 0.5 : (c->ylo != 0 ? fabs(c->ylo) * 0.1 : 1);
		c->ylo -= d;
		c->yhi += c->logy ? c->yhi : d;
	}
	return n;
}

/* Log scale when asked, or (auto) for positive data spanning > 3 decades,
 * which is what a diverging loss looks like: on a linear axis every other
 * epoch would be squashed into the bottom row. */
static int
want_log(const struct plot_opts *o, const struct plot_series *s, size_t ns)
{
	double lo = INFINITY, hi = -INFINITY;

	if (o->logy >= 0)
		return o->logy;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			double y = s[k].y[i];
			if (!isfinite(y) || !isfinite(s[k].x[i]))
				continue;
			if (y <= 0)
				return 0;
			lo = fmin(lo, y);
			hi = fmax(hi, y);
		}
	return isfinite(lo) && hi / lo > 1e3;
}

static void
draw(struct canvas *c, const struct plot_opts *o, const struct plot_series *s,
     size_t ns)
{
	for (size_t k = 0; k < ns; k++) {
		int have = 0, px0 = 0, py0 = 0, px, py;

		for (size_t i = 0; i < s[k].n; i++) {
			if (!usable(c, s[k].x[i], s[k].y[i])) {
				have = 0;
				continue;
			}
			to_pixel(c, s[k].x[i], s[k].y[i], &px, &py);
			if (have)
				line(c, px0, py0, px, py, (int)k);
			else
				set_dot(c, px, py, (int)k);
			px0 = px;
			py0 = py;
			have = 1;
		}
	}
	/* Markers after every line, so no line dots hide them. */
	for (size_t k = 0; k < ns; k++) {
		if (!s[k].mark)
			continue;
		for (size_t i = 0; i < s[k].n; i++) {
			int px, py, cell;
			if (!usable(c, s[k].x[i], s[k].y[i]))
				continue;
			to_pixel(c, s[k].x[i], s[k].y[i], &px, &py);
			cell = (py / 4) * c->w + px / 2;
			c->glyph[cell] = s[k].mark;
			c->owner[cell] = (signed char)k;
		}
	}
	if (isfinite(o->vline)) {
		int px, py;
		to_pixel(c, o->vline, c->ylo, &px, &py);
		for (int r = 0; r < c->h; r++) {
			int cell = r * c->w + px / 2;
			if (!c->dots[cell] && !c->glyph[cell]) {
				c->glyph[cell] = "\xe2\x94\x8a";   /* ┊ */
				c->owner[cell] = VLINE_OWNER;
			}
		}
	}
}

/* The y value at the middle of cell row r. */
static double
row_value(const struct canvas *c, int r)
{
	double f = 1.0 - (r * 4 + 1.5) / (4.0 * c->h - 1);
	double lo = ty(c, c->ylo), hi = ty(c, c->yhi), v = lo + f * (hi - lo);

	return c->logy ? pow(10, v) : v;
}

static void
color_on(FILE *out, const struct plot_opts *o, int code)
{
	if (o->color && code)
		fprintf(out, "\033[%dm", code);
}

static void
color_off(FILE *out, const struct plot_opts *o, int code)
{
	if (o->color && code)
		fputs("\033[0m", out);
}

static void
print_rows(FILE *out, const struct canvas *c, const struct plot_opts *o,
	   const struct plot_series *s, int lw)
{
	char lab[3][FMT_NUM_MAX], br[4];
	int mid = c->h / 2;

	fmt_double(lab[0], sizeof lab[0], c->yhi);
	fmt_double(lab[1], sizeof lab[1], row_value(c, mid));
	fmt_double(lab[2], sizeof lab[2], c->ylo);
	for (int r = 0; r < c->h; r++) {
		const char *l = r == 0 ? lab[0] : r == c->h - 1 ? lab[2] :
				r == mid ? lab[1] : NULL;
		fprintf(out, "%*s %s", lw, l ? l : "",
			l ? "\xe2\x94\xa4" : "\xe2\x94\x82");   /* ┤ or │ */
		for (int x = 0; x < c->w; x++) {
			int i = r * c->w + x, who = c->owner[i];
			int code = who >= 0 ? s[who].color : who == VLINE_OWNER ? 90 : 0;

			color_on(out, o, code);
			if (c->glyph[i]) {
				fputs(c->glyph[i], out);
			} else if (c->dots[i]) {
				plot_braille(br, c->dots[i]);
				fputs(br, out);
			} else {
				fputc(' ', out);
			}
			color_off(out, o, code);
		}
		fputc('\n', out);
	}
}

/* Copies label into line (ASCII, width cols) at col, if it fits in the
 * free space; returns 1 when placed. */
static int
place(char *line, int width, int col, const char *label)
{
	int n = (int)strlen(label);

	if (col < 0)
		col = 0;
	if (col + n > width)
		col = width - n;
	if (col < 0)
		return 0;
	for (int i = col > 0 ? col - 1 : 0; i < col + n + 1 && i < width; i++)
		if (line[i] != ' ')
			return 0;
	memcpy(line + col, label, (size_t)n);
	return 1;
}

static void
print_x_axis(FILE *out, const struct canvas *c, const struct plot_opts *o,
	     int lw)
{
	char a[FMT_NUM_MAX], b[FMT_NUM_MAX], *line;
	int vcol = -1, px, py;

	if (isfinite(o->vline)) {
		to_pixel(c, o->vline, c->ylo, &px, &py);
		vcol = px / 2;
	}
	fprintf(out, "%*s \xe2\x94\x94", lw, "");   /* └ */
	for (int x = 0; x < c->w; x++)
		fputs(x == vcol ? "\xe2\x94\xb4" : "\xe2\x94\x80", out);   /* ┴ ─ */
	fputc('\n', out);
	if (!(line = malloc((size_t)c->w + 1)))
		return;
	memset(line, ' ', (size_t)c->w);
	line[c->w] = '\0';
	/* The marker label first: it says more than the range ends. */
	if (vcol >= 0 && o->vline_label)
		place(line, c->w, vcol - (int)strlen(o->vline_label) / 2, o->vline_label);
	place(line, c->w, 0, fmt_double(a, sizeof a, c->xlo));
	place(line, c->w, c->w - (int)strlen(fmt_double(b, sizeof b, c->xhi)), b);
	for (size_t n = strlen(line); n > 0 && line[n - 1] == ' '; n--)
		line[n - 1] = '\0';
	fprintf(out, "%*s  %s\n", lw, "", line);
	free(line);
}

static void
print_legend(FILE *out, const struct canvas *c, const struct plot_opts *o,
	     const struct plot_series *s, size_t ns, int lw)
{
	fprintf(out, "%*s  ", lw, "");
	for (size_t k = 0; k < ns; k++) {
		if (k)
			fputs("   ", out);
		color_on(out, o, s[k].color);
		fputs(s[k].mark ? s[k].mark : "\xe2\xa0\xa4\xe2\xa0\xa4", out);   /* ⠤⠤ */
		color_off(out, o, s[k].color);
		fputc(' ', out);
		fmt_puts_clean(out, s[k].label ? s[k].label : "");
	}
	if (c->logy)
		fputs("   (log scale)", out);
	fputc('\n', out);
}

int
plot_render(FILE *out, const struct plot_opts *o, const struct plot_series *s,
	    size_t ns)
{
	struct canvas c = { .w = o->width, .h = o->height };
	char a[FMT_NUM_MAX], b[FMT_NUM_MAX], m[FMT_NUM_MAX];
	int lw, rc = 0;
	size_t cells;

	if (o->width < 8 || o->height < 3 || o->width > 1000 || o->height > 500 || !ns)
		return -EINVAL;
	c.logy = want_log(o, s, ns);
	if (!ranges(&c, o, s, ns))
		return -ENODATA;
	cells = (size_t)c.w * (size_t)c.h;
	c.dots = calloc(cells, 1);
	c.owner = malloc(cells);
	c.glyph = calloc(cells, sizeof *c.glyph);
	if (!c.dots || !c.owner || !c.glyph) {
		rc = -ENOMEM;
		goto out;
	}
	memset(c.owner, -1, cells);
	draw(&c, o, s, ns);
	/* The y label column is as wide as the widest of its three labels. */
	fmt_double(a, sizeof a, c.yhi);
	fmt_double(b, sizeof b, c.ylo);
	fmt_double(m, sizeof m, row_value(&c, c.h / 2));
	lw = (int)strlen(a);
	if ((int)strlen(b) > lw) lw = (int)strlen(b);
	if ((int)strlen(m) > lw) lw = (int)strlen(m);
	if (o->title) {
		fmt_puts_clean(out, o->title);
		fputc('\n', out);
	}
	print_rows(out, &c, o, s, lw);
	print_x_axis(out, &c, o, lw);
	print_legend(out, &c, o, s, ns, lw);
out:
	free(c.dots);
	free(c.owner);
	free(c.glyph);
	return rc;
}
