/*
 * ops_tdir.h: the protocol's side of the trials' directories (trialdir.h):
 * the "trial_dir" of a trial object, the artifacts and clean ops.
 */
#ifndef SWEEPD_OPS_TDIR_H
#define SWEEPD_OPS_TDIR_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

struct server;

/* Adds "trial_dir" to trial (borrowed; a trial object with "number") of
 * sweep: the path, or null when there is none to name. */
void ops_tdir_add(cJSON *trial, int64_t sweep);

/* {"trial_dir","files":[{"name","size","mtime"}]} of trial number of
 * sweep into reply (borrowed). 0, -ENOENT (no such trial: msg says so) or
 * -errno with msg. */
int ops_tdir_artifacts(struct server *s, int64_t sweep, int64_t number,
		       cJSON *reply, char *msg, size_t msglen);

/* Removes the directories of sweep, which must not be active (-EALREADY)
 * and must exist or have left directories (-ENOENT); reply gets
 * {"removed_files","removed_bytes"}. */
int ops_tdir_clean(struct server *s, int64_t sweep, cJSON *reply, char *msg,
		   size_t msglen);

#endif
