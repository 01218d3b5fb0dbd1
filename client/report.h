/*
 * report: one self-contained HTML page about a sweep (`sweepctl report`):
 * the summary and spec, the best trial with its diagnosis and advice, the
 * optimization history, every trial's learning curves as small multiples
 * coloured by verdict, the objective against each hyperparameter, and a
 * sortable table of the trials.
 *
 * Charts are inline SVG; the only script is a few lines that sort the
 * table. Nothing is fetched from the network: the file can be mailed or
 * opened offline.
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
 * NULL to leave the learning curves out. All borrowed. now stamps the
 * page. Returns 0, -ENOMEM, or -EIO when writing failed.
 */
int report_write(FILE *out, const cJSON *sweep, const cJSON *trials,
		 const cJSON *epochs, time_t now);

/* The colour (a CSS hex string) a verdict is drawn in; unknown verdicts
 * and NULL get grey. Static storage. */
const char *report_verdict_color(const char *verdict);

#endif
