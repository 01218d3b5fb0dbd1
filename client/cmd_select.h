/*
 * cmd_select: which trials and sweeps sweepctl shows, and rows cut to the
 * terminal's width.
 */
#ifndef SWEEPD_CLIENT_CMD_SELECT_H
#define SWEEPD_CLIENT_CMD_SELECT_H

#include <stddef.h>
#include <stdio.h>

#include <cJSON.h>

/* `ls` shows active sweeps and those that ended in the last 7 days. */
#define SELECT_RECENT_SECONDS (7 * 24 * 3600.0)

struct select_opts {
	const char *sort;   /* NULL: trial-number order */
	int desc;
	const char *status; /* NULL: every status */
	int top;            /* -1: all */
};

/* Filters, sorts and cuts trials (an array, changed in place). -EINVAL
 * with a message for an unknown status or sort key. */
int select_trials(cJSON *trials, const struct select_opts *o, char *err,
		  size_t errlen);

/* Removes the sweeps that ended SELECT_RECENT_SECONDS or more before now;
 * *hidden counts them. */
int select_recent_sweeps(cJSON *sweeps, double now, int *hidden);

/* The terminal's width (or $COLUMNS when not a terminal); 0: no limit. */
int select_width(void);

/* Prints the lines of buf, each cut to width columns ending in "~" when
 * longer; width 0 prints them as they are. */
void select_print_fit(FILE *out, const char *buf, size_t len, int width);

#endif
