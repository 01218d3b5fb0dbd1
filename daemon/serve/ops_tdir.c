/*
 * ops_tdir.c: trial directories in the protocol (ops_tdir.h).
 */
#include "daemon/serve/ops_tdir.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/log.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trialdir.h"
#include "daemon/serve/server.h"
#include "daemon/store/db.h"

void
ops_tdir_add(cJSON *trial, int64_t sweep)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(trial, "number");
	char dir[PATH_MAX];

	if (!trial || cJSON_GetObjectItemCaseSensitive(trial, "trial_dir"))
		return;
	if (cJSON_IsNumber(n) &&
	    trialdir_path(sweep, n->valueint, dir, sizeof dir) == 0)
		cJSON_AddStringToObject(trial, "trial_dir", dir);
	else
		cJSON_AddNullToObject(trial, "trial_dir");
}

static int
found_trial(void *ud, const struct db_trial_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

static int
found_sweep(void *ud, const struct db_sweep_rec *r)
{
	(void)ud;
	(void)r;
	return 0;
}

int
ops_tdir_artifacts(struct server *s, int64_t sweep, int64_t number,
		   cJSON *reply, char *msg, size_t msglen)
{
	cJSON *t, *files = NULL;
	int rc = db_trial_get(s->db, sweep, number, found_trial, NULL);

	if (rc == -ENOENT) {
		snprintf(msg, msglen, "sweep %" PRId64 " has no trial %" PRId64,
			 sweep, number);
		return rc;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "storage error: %s", db_last_error(s->db));
		return rc;
	}
	rc = trialdir_list(sweep, (int)number, &files, msg, msglen);
	if (rc < 0)
		return rc;
	t = cJSON_CreateObject();
	cJSON_AddNumberToObject(t, "number", (double)number);
	ops_tdir_add(t, sweep);
	cJSON_AddItemToObject(reply, "trial_dir",
			      cJSON_DetachItemFromObject(t, "trial_dir"));
	cJSON_Delete(t);
	cJSON_AddItemToObject(reply, "files", files);
	return 0;
}

int
ops_tdir_clean(struct server *s, int64_t sweep, cJSON *reply, char *msg,
	       size_t msglen)
{
	int64_t files, bytes;
	int known, rc;

	if (sched_find(s->sched, sweep)) {
		snprintf(msg, msglen, "sweep %" PRId64 " is still active: its "
			 "trials may be writing there; cancel it first", sweep);
		return -EALREADY;
	}
	rc = db_sweep_get(s->db, sweep, found_sweep, NULL);
	if (rc < 0 && rc != -ENOENT) {
		snprintf(msg, msglen, "storage error: %s", db_last_error(s->db));
		return rc;
	}
	known = rc == 0;
	rc = trialdir_clean(sweep, &files, &bytes, msg, msglen);
	if (rc < 0)
		return rc;
	if (!known && files == 0) {
		snprintf(msg, msglen, "no sweep %" PRId64, sweep);
		return -ENOENT;
	}
	log_info("sweep %" PRId64 ": trial directories removed (%" PRId64
		 " files, %" PRId64 " bytes)", sweep, files, bytes);
	cJSON_AddNumberToObject(reply, "removed_files", (double)files);
	cJSON_AddNumberToObject(reply, "removed_bytes", (double)bytes);
	return 0;
}
