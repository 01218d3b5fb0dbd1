/*
 * init.h: the scheduler's life: set up (its timers, the subreaper, the
 * cgroup base), closed at the end of a shutdown, freed after the loop.
 */
#ifndef SWEEPD_SCHED_INIT_H
#define SWEEPD_SCHED_INIT_H

#include <stddef.h>
#include <uv.h>

#include "daemon/sched/state.h"

/* Fills s: its retry timers on loop, the subreaper and the cgroup base
 * (what could not be had is logged: trials run without), db borrowed, ev
 * copied. No sweep is loaded yet (recover.h). 0 or -ENOMEM with err. */
int sched_init(struct sched *s, uv_loop_t *loop, struct db *db,
	       const struct sched_config *cfg, const struct sched_events *ev,
	       char *err, size_t errlen);
/* Closes s's handles and removes its cgroups (the loop may then end);
 * idempotent. */
void sched_close(struct sched *s);
/* Frees what sched_init acquired and every active sweep. After the loop
 * ended, or when it never ran. */
void sched_free(struct sched *s);

#endif
