/*
 * bench/db/bench_trial.c: the storage writes of one trial, as the daemon
 * makes them (not a test).
 *
 *     bench_trial [--trials 4000] [--epochs 5] [--dir DIR]
 *
 * Each trial of one sweep, in turn: db_trial_create (its own commit),
 * db_trial_start (its own commit), then per epoch a batch of one level
 * holding db_trial_epoch_obj and db_trial_set_diagnosis_obj (one commit,
 * as daemon/sched/progress.c does), and db_trial_end with a diagnosis
 * that has a verdict (its own commit). Prints the process CPU time per
 * call kind and per trial, and the bytes written to the database and its
 * WAL per trial (from /proc/self/io, so page writes and WAL frames both
 * count). The database is in DIR (default: a mkdtemp dir under TMPDIR or
 * /tmp, removed after).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "daemon/store/db.h"

enum { K_CREATE, K_START, K_EPOCH, K_END, K_N };
static const char *const kind_name[K_N] = {
	"create", "start", "epoch (+diagnosis)", "end",
};

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* write_bytes of /proc/self/io (what reached the page cache), or -1. */
static long long
written(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long long v = -1;

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "wchar: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static void
die(const char *what, int rc, struct db *db)
{
	fprintf(stderr, "bench_trial: %s: %s (%s)\n", what, strerror(-rc),
		db ? db_last_error(db) : "");
	exit(1);
}

/* One epoch as progress.c stores it: a batch, the row, the diagnosis. */
static int
one_epoch(struct db *db, int64_t id, int ep, cJSON *m, cJSON *d)
{
	char *mj = cJSON_PrintUnformatted(m), *dj = cJSON_PrintUnformatted(d);
	int rc = db_batch_begin(db);

	if (rc == 0)
		rc = db_trial_epoch_obj(db, id, 1, ep, ep / 10.0, m, mj, -1);
	if (rc == 0)
		rc = db_trial_set_diagnosis_obj(db, id, d, dj);
	if (db_batch_depth(db) > 0) {
		int e = db_batch_end(db, rc == 0);
		rc = rc ? rc : e;
	}
	free(mj);
	free(dj);
	return rc;
}

static void
one_trial(struct db *db, int64_t sid, int n, int epochs, double *t)
{
	struct db_trial_end e = { .status = "completed", .objective = 0.5,
		.best_epoch = 1, .test_loss = NAN, .test_acc = NAN,
		.diagnosis_json = "{\"verdict\":\"improving\",\"epochs\":5}",
		.now = n };
	cJSON *m = cJSON_Parse("{\"val_acc\":0.5,\"train_loss\":0.25,"
			       "\"val_loss\":0.3,\"train_acc\":0.6}");
	cJSON *d = cJSON_Parse("{\"verdict\":\"improving\"}");
	char params[64];
	int64_t id = 0;
	double c;
	int rc;

	snprintf(params, sizeof params, "{\"lr\":%d}", n);
	c = cpu_s();
	if ((rc = db_trial_create(db, sid, n, params, (uint64_t)n, &id)) < 0)
		die("db_trial_create", rc, db);
	t[K_CREATE] += cpu_s() - c;
	c = cpu_s();
	if ((rc = db_trial_start(db, id, 1, 4242, 77, n)) < 0)
		die("db_trial_start", rc, db);
	t[K_START] += cpu_s() - c;
	for (int ep = 1; ep <= epochs; ep++) {
		c = cpu_s();
		if ((rc = one_epoch(db, id, ep, m, d)) < 0)
			die("epoch", rc, db);
		t[K_EPOCH] += cpu_s() - c;
	}
	c = cpu_s();
	if ((rc = db_trial_end(db, id, &e)) < 0)
		die("db_trial_end", rc, db);
	t[K_END] += cpu_s() - c;
	cJSON_Delete(m);
	cJSON_Delete(d);
}

int
main(int argc, char **argv)
{
	int trials = 4000, epochs = 5;
	const char *dir = NULL;
	char tmpl[256], path[300];
	double t[K_N] = { 0 }, all = 0;
	struct db *db = NULL;
	char err[512];
	int64_t sid;
	long long w0;
	int rc;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--trials") == 0)
			trials = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (!dir) {
		snprintf(tmpl, sizeof tmpl, "%s/bench-trial-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!(dir = mkdtemp(tmpl)))
			die("mkdtemp", -errno, NULL);
	}
	snprintf(path, sizeof path, "%s/sweepd.db", dir);
	if ((rc = db_open(path, &db, err, sizeof err)) < 0) {
		fprintf(stderr, "bench_trial: %s\n", err);
		return 1;
	}
	if ((rc = db_sweep_create(db, "bench", "{}", trials, 1.0, &sid)) < 0)
		die("db_sweep_create", rc, db);
	w0 = written();
	for (int n = 1; n <= trials; n++)
		one_trial(db, sid, n, epochs, t);
	printf("schema %d, %d trials of %d epochs, %s\n", db_schema_version(db),
	       trials, epochs, path);
	for (int k = 0; k < K_N; k++) {
		printf("%-20s %7.1f us per trial\n", kind_name[k], t[k] / trials * 1e6);
		all += t[k];
	}
	printf("%-20s %7.1f us per trial\n", "all", all / trials * 1e6);
	printf("written              %7.1f kB per trial (database + WAL)\n",
	       (written() - w0) / 1024.0 / trials);
	db_close(db);
	if (dir == tmpl) {
		char p[320];
		const char *sfx[] = { "", "-wal", "-shm" };
		for (int i = 0; i < 3; i++) {
			snprintf(p, sizeof p, "%s%s", path, sfx[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return 0;
}
