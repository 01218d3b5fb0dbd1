/*
 * util.h: helpers shared by the tests of tests/spec/.
 *
 * Specs are written with single quotes for readability; J() turns them
 * into JSON. parse() returns the spec or NULL with the message in a
 * static buffer, so a test reads like the spec it checks.
 */
#ifndef SWEEPD_TESTS_SPEC_UTIL_H
#define SWEEPD_TESTS_SPEC_UTIL_H

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "daemon/search/spec.h"

static char util_err[1024];

/* A new cJSON from text with ' for " (caller deletes); NULL if invalid. */
static cJSON *
J(const char *text)
{
	char *s = strdup(text);
	cJSON *j;

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = cJSON_Parse(s);
	free(s);
	return j;
}

/* The spec of text, or NULL with util_err set. */
static struct spec *
parse(const char *text)
{
	cJSON *j = J(text);
	struct spec *s = NULL;

	util_err[0] = '\0';
	if (!j) {
		strcpy(util_err, "(test bug: invalid JSON)");
		return NULL;
	}
	if (spec_parse(j, &s, util_err, sizeof util_err) < 0)
		s = NULL;
	cJSON_Delete(j);
	return s;
}

/* A minimal valid spec around a space, search and extra top-level text. */
#define SPEC(space, search, extra) \
	"{'trainer': {'command': ['/bin/true']}," \
	" 'objective': {'metric': 'val_acc', 'mode': 'max'}," \
	" 'space': " space ", 'search': " search extra "}"

#endif
