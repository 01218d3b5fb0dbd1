/*
 * cmd_manage: sweepctl commands that change what the daemon keeps.
 */
#ifndef SWEEPD_CLIENT_CMD_MANAGE_H
#define SWEEPD_CLIENT_CMD_MANAGE_H

#include "client/ctl.h"

/* rm SWEEP [--yes]: refused while the sweep runs; asks unless --yes. */
int ctl_cmd_rm(struct ctl *c, struct ctl_args *a);

/* extend SWEEP --trials N: an ended sweep runs N more trials. */
int ctl_cmd_extend(struct ctl *c, struct ctl_args *a);

/* rerun SWEEP N: trial N again, same params and seed, as a new trial. */
int ctl_cmd_rerun(struct ctl *c, struct ctl_args *a);

#endif
