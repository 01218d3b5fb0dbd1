/*
 * bench/db/bench_db.c: storage latency and throughput (not a test).
 *
 *     bench_db [--sweeps 100] [--trials 100] [--epochs 10] [--calls 5000]
 *              [--inserts 5000] [--dir DIR]
 *
 * Fills a fresh database in DIR (default: a mkdtemp dir, removed after)
 * with sweeps x trials completed trials of `epochs` epoch rows each
 * (default 10,000 trials, 100,000 epochs), then times, over `calls` calls
 * on random sweeps, wire_best_json and wire_trials_json (median and p99), the
 * time db_open takes on the filled file (PRAGMA quick_check is linear in
 * its size), and the epoch insert rate when each row is its own commit
 * (db_trial_epoch outside db_begin, as the daemon writes) against rows
 * grouped 100 per commit.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/store/db.h"
#include "daemon/wire/wire.h"
#include "bench/benchclock.h"

struct opts {
	int sweeps, trials, epochs, calls, inserts;
	const char *dir;
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v and prints its median and p99 in microseconds. */
static void
report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	printf("%-34s median %8.1f us   p99 %8.1f us   (%d calls)\n", what,
	       v[n / 2] * 1e6, v[(int)((n - 1) * 0.99)] * 1e6, n);
}

static int
die_rc(const char *what, int rc)
{
	fprintf(stderr, "bench_db: %s: %s\n", what, strerror(-rc));
	return 1;
}

/* One sweep of o->trials completed trials with o->epochs epochs each,
 * written in one transaction per sweep (the fill is not what is timed). */
static int
fill_sweep(struct db *db, const struct opts *o, int s)
{
	char params[160], metrics[256];
	int64_t sid, tid;
	int rc;

	rc = db_begin(db);
	if (rc == 0)
		rc = db_sweep_create(db, "bench", "{\"objective\":{\"metric\":"
				     "\"val_acc\",\"mode\":\"max\"}}", o->trials,
				     1.7e9 + s, &sid);
	for (int t = 1; rc == 0 && t <= o->trials; t++) {
		double best = 0;
		int best_epoch = 0;
		snprintf(params, sizeof params, "{\"lr\":%.6g,\"batch_size\":%d,"
			 "\"activation\":\"relu\",\"optimizer\":\"adam\","
			 "\"dropout\":%.3f}", 1e-4 * (1 + t % 97), 32 << (t % 4),
			 (t % 50) / 100.0);
		rc = db_trial_create(db, sid, t, params, (uint64_t)t * 7919, &tid);
		if (rc == 0)
			rc = db_trial_start(db, tid, 1, 10000 + t, 123456, 1.7e9);
		for (int e = 1; rc == 0 && e <= o->epochs; e++) {
			double acc = 0.5 + 0.4 * (1 - exp(-e / 3.0)) +
				     0.01 * ((t * 31 + e * 17) % 10) / 10.0;
			snprintf(metrics, sizeof metrics, "{\"epoch\":%d,"
				 "\"train_loss\":%.6f,\"train_acc\":%.6f,"
				 "\"val_loss\":%.6f,\"val_acc\":%.6f,\"lr\":0.001,"
				 "\"seconds\":2.1,\"grad_norm\":[0.31,0.12,0.05]}",
				 e, 1.2 / e, acc + 0.02, 1.1 / e + 0.1, acc);
			rc = db_trial_epoch(db, tid, 1, e, acc, metrics);
			if (acc > best) {
				best = acc;
				best_epoch = e;
			}
		}
		if (rc == 0) {
			struct db_trial_end end = {
				.status = "completed", .objective = best,
				.best_epoch = best_epoch, .test_loss = 0.35,
				.test_acc = best - 0.01,
				.diagnosis_json = "{\"verdict\":\"good_fit\","
					"\"advice\":[\"keep\"]}",
				.exit_code = 0, .now = 1.7e9 + 60,
			};
			rc = db_trial_end(db, tid, &end);
		}
	}
	if (rc == 0)
		rc = db_commit(db);
	else
		db_rollback(db);
	return rc;
}

static int
time_reads(struct db *db, const struct opts *o)
{
	double *v = malloc((size_t)o->calls * sizeof *v);
	cJSON *j;
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (int i = 0; rc == 0 && i < o->calls; i++) {
		int64_t sid = 1 + rand() % o->sweeps;
		double t0 = bench_now_s();
		rc = wire_best_json(db, sid, 1, &j);
		v[i] = bench_now_s() - t0;
		cJSON_Delete(j);
	}
	if (rc == 0)
		report("wire_best_json", v, o->calls);
	for (int i = 0; rc == 0 && i < o->calls; i++) {
		int64_t sid = 1 + rand() % o->sweeps;
		double t0 = bench_now_s();
		rc = wire_trials_json(db, sid, &j);
		v[i] = bench_now_s() - t0;
		cJSON_Delete(j);
	}
	if (rc == 0) {
		char what[64];
		snprintf(what, sizeof what, "wire_trials_json (%d trials)", o->trials);
		report(what, v, o->calls);
	}
	free(v);
	return rc;
}

/* Epoch inserts on one fresh trial, `group` rows per commit. */
static int
time_inserts(struct db *db, const struct opts *o, int number, int group)
{
	int64_t tid;
	double t0, dt;
	int rc;

	rc = db_trial_create(db, 1, number, "{}", 1, &tid);
	if (rc == 0)
		rc = db_trial_start(db, tid, 1, 1, 1, 1.0);
	t0 = bench_now_s();
	for (int e = 1; rc == 0 && e <= o->inserts; e++) {
		if (group > 1 && e % group == 1)
			rc = db_begin(db);
		if (rc == 0)
			rc = db_trial_epoch(db, tid, 1, e, 0.5, "{\"epoch\":1,"
					    "\"train_loss\":0.5,\"val_acc\":0.5}");
		if (rc == 0 && group > 1 && (e % group == 0 || e == o->inserts))
			rc = db_commit(db);
	}
	dt = bench_now_s() - t0;
	if (rc == 0)
		printf("epoch insert, %3d row(s)/commit:   %9.0f rows/s  (%d rows "
		       "in %.2f s)\n", group, o->inserts / dt, o->inserts, dt);
	return rc;
}

static void
remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		int *dst = !strcmp(argv[i], "--sweeps") ? &o->sweeps :
			   !strcmp(argv[i], "--trials") ? &o->trials :
			   !strcmp(argv[i], "--epochs") ? &o->epochs :
			   !strcmp(argv[i], "--calls") ? &o->calls :
			   !strcmp(argv[i], "--inserts") ? &o->inserts : NULL;
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "--dir")) {
			o->dir = argv[++i];
			continue;
		}
		if (!dst || (*dst = atoi(argv[++i])) < 1)
			goto usage;
	}
	return 0;
usage:
	fprintf(stderr, "usage: bench_db [--sweeps N] [--trials N] [--epochs N] "
		"[--calls N] [--inserts N] [--dir DIR]\n");
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	struct opts o = { 100, 100, 10, 5000, 5000, NULL };
	char tmp[] = "/tmp/sweepd-benchdb-XXXXXX", path[4096], err[512];
	struct db *db = NULL;
	struct stat sb;
	double t0;
	int rc;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (!o.dir && !mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/bench.db", o.dir ? o.dir : tmp);
	unlink(path);
	rc = db_open(path, &db, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "bench_db: %s\n", err);
		return 1;
	}
	srand(42);
	t0 = bench_now_s();
	for (int s = 0; rc == 0 && s < o.sweeps; s++)
		rc = fill_sweep(db, &o, s);
	if (rc < 0)
		return die_rc("fill", rc);
	db_close(db);
	stat(path, &sb);
	printf("filled %d trials, %d epoch rows in %.1f s; file %.1f MiB\n",
	       o.sweeps * o.trials, o.sweeps * o.trials * o.epochs,
	       bench_now_s() - t0, sb.st_size / 1048576.0);

	t0 = bench_now_s();
	rc = db_open(path, &db, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "bench_db: %s\n", err);
		return 1;
	}
	printf("db_open on the filled file:        %.1f ms (quick_check "
	       "included)\n", (bench_now_s() - t0) * 1e3);
	rc = time_reads(db, &o);
	if (rc == 0)
		rc = time_inserts(db, &o, o.trials + 1, 1);
	if (rc == 0)
		rc = time_inserts(db, &o, o.trials + 2, 100);
	db_close(db);
	if (!o.dir)
		remove_dir(tmp);
	return rc < 0 ? die_rc("bench", rc) : 0;
}
