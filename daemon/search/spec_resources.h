/*
 * spec_resources.h: the "resources" section, what one trial needs of the
 * daemon (private to the spec_* files).
 */
#ifndef SWEEPD_DAEMON_SPEC_RESOURCES_H
#define SWEEPD_DAEMON_SPEC_RESOURCES_H

#include "daemon/search/spec.h"

/* s->cpus and s->gpus from root's "resources" (defaults 1 and 0). Needs
 * the trainer parsed: a manual trainer takes none. 0, -EINVAL with err. */
int spec_parse_resources(struct spec *s, const cJSON *root, char *err,
			 size_t errlen);
/* Writes both, defaults included, into the normalized spec j. 0 or
 * -ENOMEM. */
int spec_normalize_resources(const struct spec *s, cJSON *j);

#endif
