/*
 * cmd_artifacts: sweepctl artifacts SWEEP N (the files of a trial's
 * directory) and clean SWEEP [--yes] (remove an ended sweep's trial
 * directories, after asking).
 */
#ifndef SWEEPD_CLIENT_CMD_ARTIFACTS_H
#define SWEEPD_CLIENT_CMD_ARTIFACTS_H

#include "client/ctl.h"

/* artifacts SWEEP N: name, size and modification time of each file. */
int ctl_cmd_artifacts(struct ctl *c, struct ctl_args *a);

/* clean SWEEP [--yes]: refused by the daemon while the sweep is active. */
int ctl_cmd_clean(struct ctl *c, struct ctl_args *a);

#endif
