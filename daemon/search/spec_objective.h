/*
 * spec_objective.h: the "objective" and "objectives" sections (private to
 * the spec_* files).
 */
#ifndef SWEEPD_DAEMON_SPEC_OBJECTIVE_H
#define SWEEPD_DAEMON_SPEC_OBJECTIVE_H

#include "daemon/search/spec.h"

/*
 * s->objectives from root's "objective" (one) or "objectives" (a list of
 * 1..SPEC_MAX_OBJECTIVES with distinct metrics; never both), and
 * s->metric / s->mode_max from the first. 0, -EINVAL or -ENOMEM;
 * s->n_objectives counts the entries begun, so spec_free frees them.
 */
int spec_parse_objective(struct spec *s, const cJSON *root, char *err,
			 size_t errlen);

/* Writes every objective's mode into the normalized spec j (borrowed),
 * in whichever form the spec used. 0 or -ENOMEM. */
int spec_normalize_objectives(const struct spec *s, cJSON *j);

/* The objectives' metrics, ", "-separated, into buf (for messages). */
void spec_objective_list(const struct spec *s, char *buf, size_t len);

/* Index of the objective whose metric is metric, or -1. */
int spec_objective_index(const struct spec *s, const char *metric);

#endif
