/*
 * spec_grid.h: grid search's submit-time check (private to the spec_*
 * files; the walk itself, spec_grid_size and spec_grid_digits, is in
 * spec.h).
 */
#ifndef SWEEPD_DAEMON_SPEC_GRID_H
#define SWEEPD_DAEMON_SPEC_GRID_H

#include "daemon/search/spec.h"

/* Every param enumerable and the conditions' parents few enough; trials
 * defaults to the grid size plus the enqueued sets (trials_given 0) and
 * may not exceed it. 0, -EINVAL or -ENOMEM. */
int spec_check_grid(struct spec *s, int trials_given, char *err,
		    size_t errlen);

#endif
