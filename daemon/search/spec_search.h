/*
 * spec_search.h: the "search" section (private to the spec_* files).
 */
#ifndef SWEEPD_DAEMON_SPEC_SEARCH_H
#define SWEEPD_DAEMON_SPEC_SEARCH_H

#include "daemon/search/spec.h"

/* The search fields of s from root's "search"; needs the space and the
 * enqueue list parsed (grid search counts both). */
int spec_parse_search(struct spec *s, const cJSON *root, char *err,
		      size_t errlen);

#endif
