/*
 * builtin.h: checks a sweep for the built-in trainer at submit time.
 *
 * sweep-worker validates its params from one table (worker/params.c); the
 * daemon links the same table so that a sweep whose space the trainer would
 * refuse is refused when it is submitted, not trial by trial overnight.
 */
#ifndef SWEEPD_BUILTIN_H
#define SWEEPD_BUILTIN_H

#include <stddef.h>

struct spec;

/* 0 when every constant, every choice value and both ends of every range
 * of sp's space, merged with its trainer options, pass sweep-worker's
 * table; -EINVAL with e.g. `space.lr: param 'lr': 5 is out of range
 * [1e-06, 1]` otherwise. A spec for an external trainer passes. */
int builtin_check_spec(const struct spec *sp, char *err, size_t errlen);

#endif
