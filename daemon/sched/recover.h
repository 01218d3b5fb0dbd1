/*
 * recover.h: start-up: the active sweeps loaded from the database, what a
 * previous daemon left running killed, its trials requeued or failed.
 */
#ifndef SWEEPD_SCHED_RECOVER_H
#define SWEEPD_SCHED_RECOVER_H

#include <stddef.h>

struct db_sweep_row;
struct db_trial_row;
struct sched;

/* A trial interrupted by daemon restarts more often than retries + this is
 * failed: it may be what takes the daemon down. */
#define RESTART_ALLOWANCE 3

/* Loads the active sweeps from the database at start-up: kills orphaned
 * trainers of a previous daemon, requeues the trials that were running
 * (attempt + 1) or fails them past their retries. 0 or -errno + err. */
int sched_load(struct sched *s, char *err, size_t errlen);

/* One stored sweep loaded into memory as at a start (in the server's
 * list, not kicked). */
int recover_load_sweep(struct sched *s, const struct db_sweep_row *r,
		       char *err, size_t errlen);

/* Stored trial rows, copied (db_load_trials' callback). */
struct recover_rows {
	struct db_trial_row *v;
	char **strs;               /* owned copies of params_json and status */
	int n, cap;
};
int recover_collect_trial(void *ud, const struct db_trial_row *r);
void recover_rows_free(struct recover_rows *rows);

#endif
