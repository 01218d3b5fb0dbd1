/*
 * spec_limits.h: the "early_stopping", "pruner" and "limits" sections
 * (private to the spec_* files). Each returns 0, -EINVAL or -ENOMEM.
 */
#ifndef SWEEPD_DAEMON_SPEC_LIMITS_H
#define SWEEPD_DAEMON_SPEC_LIMITS_H

#include "daemon/search/spec.h"

int spec_parse_early_stopping(struct spec *s, const cJSON *root, char *err,
			      size_t errlen);
int spec_parse_pruner(struct spec *s, const cJSON *root, char *err,
		      size_t errlen);
/* Needs the trainer parsed (a manual one takes other limits). */
int spec_parse_limits(struct spec *s, const cJSON *root, char *err,
		      size_t errlen);

#endif
