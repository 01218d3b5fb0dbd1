/*
 * spec_search.h: the "objective" and "search" sections (private to the
 * spec_* files).
 */
#ifndef SWEEPD_DAEMON_SPEC_SEARCH_H
#define SWEEPD_DAEMON_SPEC_SEARCH_H

#include "daemon/search/spec.h"

/* s->metric and s->mode_max from root's "objective". */
int spec_parse_objective(struct spec *s, const cJSON *root, char *err,
			 size_t errlen);

/* The search fields of s from root's "search"; needs the space and the
 * enqueue list parsed (grid search counts both). */
int spec_parse_search(struct spec *s, const cJSON *root, char *err,
		      size_t errlen);

#endif
