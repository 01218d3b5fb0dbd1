/*
 * dash: the pages of the live dashboard (`sweepctl serve`): a list of the
 * daemon's sweeps and, for the one chosen, the report's sections
 * (report.c), refreshed in place by a short poll of /body.
 *
 * The page is as self-contained as the report (inline style and script,
 * no network but its own /body); the token the server was started with
 * is carried in every URL the page asks for. Nothing here does I/O but
 * writing to out.
 */
#ifndef SWEEPD_CLIENT_DASH_H
#define SWEEPD_CLIENT_DASH_H

#include <stdio.h>

#include <cJSON.h>

#define DASH_POLL_MS 2000     /* how often the page asks for /body */

/* What one page shows. Every member is borrowed; any may be NULL. */
struct dash_view {
	const char *token;      /* [0-9a-f]+ */
	long long sweep;        /* the sweep shown, 0: none */
	const cJSON *sweeps;    /* the `sweeps` reply's "sweeps" */
	const cJSON *sw;        /* the `sweep` reply's "sweep" */
	const cJSON *trials;    /* the `trials` reply's "trials" */
	const cJSON *epochs;    /* the `epochs` reply's "epochs" */
	const char *error;      /* why the daemon could not be asked, or NULL */
	const cJSON *importance;   /* the `importance` reply's "importance", or
				    * a string: why the daemon gave none */
};

/* The sweep to show when the URL names none: the newest one (the highest
 * id) in sweeps; 0 when there is none. */
long long dash_default_sweep(const cJSON *sweeps);

/* The contents of the page's live part: the sweep list (links carry the
 * token), then the error or the chosen sweep's sections. 0 or -ENOMEM. */
int dash_write_body(FILE *out, const struct dash_view *v);

/* The whole page: head, style, the body above, and the script that
 * polls /body?token=...&sweep=N every DASH_POLL_MS (or 5 times as long as
 * the last poll took, when that is more; not while the tab is hidden) and
 * replaces the live part when it changed (keeping the trial table's sort
 * order). 0,
 * -ENOMEM, or -EIO when writing failed. */
int dash_write_page(FILE *out, const struct dash_view *v);

#endif
