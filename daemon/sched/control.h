/*
 * control.h: what clients change: a sweep submitted, cancelled, paused,
 * resumed, given trials (enqueue), extended or a trial rerun.
 */
#ifndef SWEEPD_SCHED_CONTROL_H
#define SWEEPD_SCHED_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

struct sched;
struct sweep;

/* Validates spec_json, stores a new sweep and starts scheduling it.
 * -EINVAL with the field at fault in err; other negative errno for storage. */
int sched_submit(struct sched *s, const cJSON *spec_json, int64_t *id_out,
		 char *err, size_t errlen);
/* extend: an ended sweep gets n more trials (search.trials += n) and runs
 * again with its trials and search history as they were. -EALREADY for an
 * active sweep, -EINVAL past the spec's limits, with a message. */
int sched_extend(struct sched *s, int64_t id, int n, char *err, size_t errlen);
/* rerun: an ended sweep gets one more trial, *new_number, with trial
 * number's params and seed. -ENOENT for no such trial, -EALREADY for an
 * active sweep. */
int sched_rerun(struct sched *s, int64_t id, int number, int *new_number,
		char *err, size_t errlen);
/* Cancel, pause, resume an active sweep. 0, -EALREADY (already in that
 * state) or a storage error; err says why. */
int sched_cancel(struct sweep *sw, char *err, size_t errlen);
int sched_pause(struct sweep *sw, char *err, size_t errlen);
int sched_resume(struct sweep *sw, char *err, size_t errlen);
/* Adds trials with these (partial) params to the front of the queue;
 * unspecified params are sampled. *n_out trials were created. */
int sched_enqueue(struct sweep *sw, const cJSON *params, int *n_out,
		  char *err, size_t errlen);

#endif
