/*
 * report_impl.h: what the files of the HTML report share. report.c
 * writes the page and its text sections and calls the others in order;
 * report_axes.c has the scales and axes every chart uses; each other
 * report_*.c file is one or two sections of the page. The report's files
 * are one program: the short names (struct scale) are theirs.
 */
#ifndef SWEEPD_CLIENT_REPORT_IMPL_H
#define SWEEPD_CLIENT_REPORT_IMPL_H

#include <stddef.h>
#include <stdio.h>

#include <cJSON.h>

/* ---- text (report.c) --------------------------------------------------- */

/* A number as the report prints them. */
void report_num(FILE *out, double v);
/* s as an SVG <text>'s content, escaped: cut to max bytes (not inside a
 * UTF-8 sequence) with an ellipsis and the whole text as its tooltip
 * when longer, so labels do not run into each other. */
void report_cut(FILE *out, const char *s, size_t max);
/* A JSON value as text (escaped); "-" for null or missing. 0 or -ENOMEM. */
int report_value(FILE *out, const cJSON *v);
/* Trial t's verdict (borrowed from t), or NULL. */
const char *report_trial_verdict(const cJSON *t);
/* A verdict as a coloured badge ("none" for NULL). */
void report_badge(FILE *out, const char *verdict);
/* A badge for each verdict some trial has, in the colour table's order. */
void report_verdict_legend(FILE *out, const cJSON *trials);
/* A local date and time, "2026-12-01 09:14:53"; "-" when unknown. */
char *report_stamp(char *buf, size_t len, double t);

/* ---- scales and axes (report_axes.c) ----------------------------------- */

/* A chart axis: data range [lo, hi] drawn from pixel p0 to p1. */
struct scale {
	double lo, hi;     /* data range */
	int log;           /* log10 axis (lo > 0) */
	double p0, p1;     /* pixel positions of lo and hi */
};

/* The pixel of v on s. */
double report_sc(const struct scale *s, double v);
/* Fits s to [lo, hi] (widening an empty range, a little air around). */
void report_scale_fit(struct scale *s, double lo, double hi, int log,
		      double p0, double p1);
/* Up to max tick values inside s, about want of them: 1-2-5 steps, or
 * decades on a log axis. Returns how many. */
int report_ticks(const struct scale *s, double *t, int max, int want);
/* Frame, grid, ticks (about want) and labels of the plot area of x and
 * y; xticks 0 leaves the x labels to the caller (categories). */
void report_axes_n(FILE *out, const struct scale *x, const struct scale *y,
		   const char *xlabel, const char *ylabel, int xticks, int want);
/* report_axes_n with x ticks, about 5 a side. */
void report_axes(FILE *out, const struct scale *x,
		 const struct scale *y, const char *xlabel,
		 const char *ylabel);
/* Extremes of the trials' numeric objectives and the highest trial
 * number (at least 1); returns how many objectives there are. */
int report_objective_range(const cJSON *trials, double *lo, double *hi,
			   double *nmax);
/* One trial's point (x, y) of value v: a filled circle in its verdict's
 * colour, hollow when pruned, with a tooltip. */
void report_dot(FILE *out, double x, double y, const cJSON *t, double v);

/* ---- params (report_params.c) ------------------------------------------ */

/* The params worth a chart or an axis: every param the spec searches
 * over; without a spec, every param that varies; in the order the trials
 * first have them. Fills names (borrowed from trials), at most max;
 * returns how many, or -ENOMEM. */
int report_searched_params(const cJSON *sw, const cJSON *trials,
			   const char **names, int max);
/* Categories of param: the spec's choice list (dist) if any, then the
 * other values in first-seen order. A new array of strings, or NULL. */
cJSON *report_categories(const cJSON *trials, const char *param,
			 const cJSON *dist);
/* The index of v's text in cats, -1 when absent or out of memory. */
int report_category_index(const cJSON *cats, const cJSON *v);

/* ---- the sections, in page order --------------------------------------- */

/* report_table.c: the failures grouped by class and message. 0 or
 * -ENOMEM. */
int report_failures(FILE *out, const cJSON *sw, const cJSON *trials);

/* report_curves.c: the optimization history. */
void report_history(FILE *out, const cJSON *sw, const cJSON *trials);

/*
 * report_front.c. Several objectives: the section "Pareto front", a
 * scatter of every completed trial's values of the first two objectives
 * (each at its best epoch of the first, read from the epoch rows; NULL
 * epochs: the front alone), the front's members (sw's "front") drawn in
 * colour and joined in the order of the first objective. Nothing for a
 * sweep without a front. 0 or -ENOMEM.
 */
int report_front(FILE *out, const cJSON *sw, const cJSON *trials,
		 const cJSON *epochs);

/* report_front.c: trial t's row of epochs at its best epoch (borrowed),
 * or NULL: of the latest attempt up to its own that reported that epoch. */
const cJSON *report_best_row(const cJSON *epochs, const cJSON *t);

/* report_curves.c: the epoch rows grouped by trial, for the two sections
 * below. *cv is NULL without epochs (the sections say the table was not
 * sent). 0 or -ENOMEM. */
struct report_curves;
int report_curves_build(const cJSON *sw, const cJSON *trials,
			const cJSON *epochs, struct report_curves **cv);
void report_curves_free(struct report_curves *cv);
/* Every trial's objective by epoch, the best highlighted. */
void report_overlay(FILE *out, const cJSON *sw, const cJSON *trials,
		    const struct report_curves *cv);
/* The learning curves as small multiples on shared axes. */
void report_learning_curves(FILE *out, const cJSON *sw, const cJSON *trials,
			    const struct report_curves *cv);

/* report_importance.c: "What mattered", from imp: the `importance`
 * reply's object, or a string saying why the daemon gave none, or NULL.
 * 0 or -ENOMEM. */
int report_importance(FILE *out, const cJSON *sw, const cJSON *trials,
		      const cJSON *imp);

/* report_params.c: the objective against each searched param. 0 or
 * -ENOMEM. */
int report_params(FILE *out, const cJSON *sw, const cJSON *trials);

/* report_parallel.c: parallel coordinates (the objectives after the first
 * read from epochs, which may be NULL). 0 or -ENOMEM. */
int report_parcoords(FILE *out, const cJSON *sw, const cJSON *trials,
		     const cJSON *epochs);

/* report_table.c: the sortable trial table. 0 or -ENOMEM. */
int report_trial_table(FILE *out, const cJSON *trials);

#endif
