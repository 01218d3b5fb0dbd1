/*
 * stats.c: the `stats` reply (docs/DESIGN.md, "Client protocol"): the
 * daemon's own figures, its clients, its capacity and its holds.
 */
#include "daemon/serve/stats.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "daemon/proc/trialcg.h"
#include "daemon/sched/end.h"
#include "daemon/sched/res.h"
#include "daemon/sched/state.h"
#include "daemon/sched/trial.h"
#include "daemon/serve/server.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

/* {"ok":true} or, during a storage outage, {"ok":false,"error":"disk_full",
 * "message","since","unstored"}: what stats and sweep say about storage. */
cJSON *
stats_storage_json(const struct sched *s)
{
	return wire_hold(s->storage_rc ? wire_error_code(s->storage_rc) : NULL,
			 s->storage_msg, s->storage_since, "unstored",
			 s->storage_rc ? sched_unstored(s) : 0);
}

/* {"ok":true} or, while trial starts are held for want of descriptors or
 * processes, {"ok":false,"error":"EMFILE","message","since","held"}. */
static cJSON *
spawn_json(const struct sched *s)
{
	return wire_hold(s->spawn_rc ? uv_err_name(s->spawn_rc) : NULL,
			 s->spawn_msg, s->spawn_since, "held",
			 (double)s->spawn_held);
}

static long
self_rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int
self_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own fd */
}

int
stats_fill(struct server *s, cJSON *reply)
{
	const struct sched *k = s->sched;
	int queued = 0, active = 0, paused;
	size_t out;

	for (struct sweep *sw = k->sweeps; sw; sw = sw->next) {
		active++;
		for (struct trial *t = sw->queue; t; t = t->next)
			queued++;
	}
	cJSON_AddNumberToObject(reply, "uptime_s", server_now() - s->started_at);
	cJSON_AddNumberToObject(reply, "rss_kb", (double)self_rss_kb());
	cJSON_AddNumberToObject(reply, "open_fds", self_open_fds());
	cJSON_AddNumberToObject(reply, "running", k->n_running);
	cJSON_AddNumberToObject(reply, "queued", queued);
	cJSON_AddNumberToObject(reply, "trials_run", (double)k->trials_run);
	cJSON_AddNumberToObject(reply, "commits", (double)db_commits(k->db));
	cJSON_AddNumberToObject(reply, "sweeps_active", active);
	cJSON_AddNumberToObject(reply, "clients", s->n_conns);
	cJSON_AddNumberToObject(reply, "max_clients", s->max_clients);
	cJSON_AddNumberToObject(reply, "nofile", (double)s->nofile);
	server_output_stats(s, &paused, &out);
	cJSON_AddNumberToObject(reply, "paused_clients", paused);
	cJSON_AddNumberToObject(reply, "queued_output_bytes", (double)out);
	cJSON_AddNumberToObject(reply, "workers", s->workers);
	if (res_stats(&k->res, reply) < 0)
		return -ENOMEM;
	cJSON_AddItemToObject(reply, "storage", stats_storage_json(k));
	cJSON_AddItemToObject(reply, "spawn", spawn_json(k));
	if (k->cg)
		cJSON_AddStringToObject(reply, "trial_cgroups",
					trialcg_path(k->cg));
	else
		cJSON_AddNullToObject(reply, "trial_cgroups");
	return 0;
}

