/*
 * stats.h: the `stats` reply, and the storage hold as `sweep` shows it too.
 */
#ifndef SWEEPD_SERVE_STATS_H
#define SWEEPD_SERVE_STATS_H

#include <cJSON.h>

struct sched;
struct server;

/* Adds the stats members to reply (borrowed). 0 or -ENOMEM. */
int stats_fill(struct server *s, cJSON *reply);

/* {"ok":true} or, during a storage outage, the hold (wire_hold): a new
 * object owned by the caller. */
cJSON *stats_storage_json(const struct sched *s);

#endif
