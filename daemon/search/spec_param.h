/*
 * spec_param.h: the "space" section (private to the spec_* files).
 */
#ifndef SWEEPD_DAEMON_SPEC_PARAM_H
#define SWEEPD_DAEMON_SPEC_PARAM_H

#include "daemon/search/spec.h"

/* The distributions' names in specs, by enum spec_dist. */
extern const char *const spec_dist_names[];

/* Whether k draws integers (int, logint). */
int spec_dist_is_integer(enum spec_dist k);

/* Whether v (borrowed) is a value p can take; the message starts with
 * where. 0 or -EINVAL. */
int spec_check_value(const struct spec_param *p, const cJSON *v,
		     const char *where, char *err, size_t errlen);

/* Fills s->params from root's "space" ("when" is only copied: see
 * spec_parse_conditions). 0, -EINVAL or -ENOMEM; s->n_params counts the
 * params begun, so spec_free frees a half-built space. */
int spec_parse_space(struct spec *s, const cJSON *root, char *err,
		     size_t errlen);

#endif
