/*
 * spec_cond.h: the "when" conditions (private to the spec_* files; the
 * public side, spec_active and spec_check_params, is in spec.h).
 */
#ifndef SWEEPD_DAEMON_SPEC_COND_H
#define SWEEPD_DAEMON_SPEC_COND_H

#include "daemon/search/spec.h"

/* Resolves every param's "when" (parents by name, values checked against
 * the parent), refuses a cycle naming it, sets s->conditional and fills
 * s->order parents first. 0, -EINVAL or -ENOMEM. */
int spec_parse_conditions(struct spec *s, char *err, size_t errlen);

#endif
