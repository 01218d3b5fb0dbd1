/*
 * daemon/wire/wire_impl.h: the member helpers the files of daemon/wire/
 * share (nobody else includes this). Absent values are JSON null.
 */
#ifndef SWEEPD_DAEMON_WIRE_IMPL_H
#define SWEEPD_DAEMON_WIRE_IMPL_H

#include <math.h>

#include <cJSON.h>

/* A number, or null when it is NAN (a NULL column). */
static inline void
wire_add_num(cJSON *o, const char *key, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, v);
}

/* A string, or null when NULL. */
static inline void
wire_add_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

struct db_trial_rec;
/* The trial object of wire_trials_json for row r (wire_read.c); NULL when
 * out of memory. */
cJSON *wire_trial_object(const struct db_trial_rec *r);

#endif
