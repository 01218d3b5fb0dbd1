/*
 * spec_trainer.h: the "trainer" section (private to the spec_* files).
 */
#ifndef SWEEPD_DAEMON_SPEC_TRAINER_H
#define SWEEPD_DAEMON_SPEC_TRAINER_H

#include "daemon/search/spec.h"

/* Fills the trainer fields of s from root's "trainer"; needs the space
 * parsed (a built-in option may not also be a param). 0, -EINVAL or
 * -ENOMEM. */
int spec_parse_trainer(struct spec *s, const cJSON *root, char *err,
		       size_t errlen);

/* Refuses a spec whose longest SWEEP_PARAMS, command and env would not fit
 * what execve takes. 0, -EINVAL or -ENOMEM. */
int spec_check_exec_size(const struct spec *s, char *err, size_t errlen);

#endif
