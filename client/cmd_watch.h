/*
 * cmd_watch: `sweepctl watch` on a terminal: the live view of live.c,
 * drawn with ncurses and laid out again when the terminal is resized
 * (see cmd_watch.c).
 */
#ifndef SWEEPD_CLIENT_CMD_WATCH_H
#define SWEEPD_CLIENT_CMD_WATCH_H

#include <cJSON.h>

#include "client/ctl.h"

/*
 * Follows the sweep on c's connection, whose watch request has just been
 * answered with summary (the reply's "sweep", borrowed), redrawing the
 * view at most 10 times a second and once a second for the clock, until
 * sweep_ended; the last frame stays on screen. Returns the exit status:
 * 0 the sweep completed, 1 it failed or was cancelled, 3 the connection
 * dropped first; or CTL_WATCH_PLAIN, before anything was read or drawn,
 * when the terminal cannot be driven (terminfo does not know $TERM): the
 * caller prints the events as plain lines instead.
 */
#define CTL_WATCH_PLAIN (-1)

int ctl_watch_live(struct ctl *c, long long sweep, const cJSON *summary);

#endif
