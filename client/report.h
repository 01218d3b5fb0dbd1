/*
 * report: one self-contained HTML page about a sweep (`sweepctl report`):
 * the summary and spec, the best trial with its diagnosis and advice, the
 * failures grouped by kind, the optimization history, every trial's
 * objective by epoch overlaid (the best ones highlighted), the learning
 * curves as small multiples on shared axes coloured by verdict, what
 * mattered (each param's share of the objective's variance and of each
 * verdict's, as bars), the objective against each hyperparameter,
 * parallel coordinates of the params coloured by objective, and a
 * sortable table of the trials.
 *
 * Charts are inline SVG; the only script sorts the table. Nothing is
 * fetched from the network: the file can be mailed or opened offline.
 * `sweepctl serve` puts the same sections in its live dashboard.
 */
#ifndef SWEEPD_CLIENT_REPORT_H
#define SWEEPD_CLIENT_REPORT_H

#include <stdio.h>
#include <time.h>

#include <cJSON.h>

/*
 * Writes the page to out. sweep is the `sweep` reply's "sweep" object
 * (summary, spec, verdicts, best_trial, advice); trials the `trials`
 * array; epochs the `epochs` array ({"number","attempt","epoch",...}), or
 * NULL to leave the learning curves out; imp the `importance` reply's
 * "importance" object, or a string saying why the daemon gave none (its
 * error), or NULL. All borrowed. now stamps the page. Returns 0,
 * -ENOMEM, or -EIO when writing failed.
 */
int report_write(FILE *out, const cJSON *sweep, const cJSON *trials,
		 const cJSON *epochs, const cJSON *imp, time_t now);

/* The page's sections alone (summary, best trial, failures, history,
 * every objective curve overlaid, learning curves, what mattered,
 * objective against each param, parallel coordinates, trials, spec), for
 * a page of the caller's (the live dashboard). Same arguments and
 * returns as report_write but never -EIO: the caller checks out. */
int report_write_body(FILE *out, const cJSON *sweep, const cJSON *trials,
		      const cJSON *epochs, const cJSON *imp);

/* The page's style sheet (CSS text) and its script (JavaScript text,
 * defining sweepdSortable(root), which makes the trial table under root
 * sortable and re-applies the last order). Static storage. */
const char *report_css(void);
const char *report_script(void);

/* s as HTML text (& < > " ' escaped); NULL writes nothing. */
void report_esc(FILE *out, const char *s);

/* The colour (a CSS hex string) a verdict is drawn in; unknown verdicts
 * and NULL get grey. Static storage. */
const char *report_verdict_color(const char *verdict);

#endif
