/*
 * cmd_serve: `sweepctl serve [--port N]`, the live dashboard (dash.c's
 * pages) over HTTP with libmicrohttpd, on 127.0.0.1 only, behind a random
 * token (see cmd_serve.c).
 */
#ifndef SWEEPD_CLIENT_CMD_SERVE_H
#define SWEEPD_CLIENT_CMD_SERVE_H

#include "client/ctl.h"

/* Serves until SIGINT or SIGTERM. Prints the URL (with the token) on
 * stdout. Returns the exit status: 0 after a signal, 1 when the port
 * cannot be had, 2 for a bad --port, 3 when sweepd does not answer. */
int ctl_cmd_serve(struct ctl *c, struct ctl_args *a);

#endif
