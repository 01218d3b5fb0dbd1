/*
 * cmd_output: the handlers of `sweepctl curve`, `export` and `report`
 * (see cmd_output.c), called from main.c's command table. Each returns the
 * process exit status (CTL_EXIT_*), after printing any error.
 */
#ifndef SWEEPD_CLIENT_CMD_OUTPUT_H
#define SWEEPD_CLIENT_CMD_OUTPUT_H

#include "client/ctl.h"

/* curve SWEEP N [--width W] [--height H]: the loss chart and the
 * objective's chart of one trial, early-stopping epoch marked. */
int ctl_cmd_curve(struct ctl *c, struct ctl_args *a);
/* export SWEEP [--format csv|json] [--epochs] [-o FILE] */
int ctl_cmd_export(struct ctl *c, struct ctl_args *a);
/* report SWEEP [-o FILE]: default file sweep-N-report.html; "-" is stdout. */
int ctl_cmd_report(struct ctl *c, struct ctl_args *a);

#endif
