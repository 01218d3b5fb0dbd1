/*
 * tests/db/dbtest.h: helpers the storage tests share: a private temp dir
 * per test, a raw sqlite3 connection for looking behind the API, and small
 * cJSON accessors that make an exact comparison one line.
 */
#ifndef SWEEPD_TESTS_DBTEST_H
#define SWEEPD_TESTS_DBTEST_H

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sqlite3.h>

#include "daemon/store/db.h"
#include "daemon/wire/wire.h"
#include "tests/harness.h"

struct tdir {
	char dir[64];
	char path[128];   /* dir/sweepd.db */
};

/* A fresh mkdtemp directory; path names the database inside it. */
static inline int
tdir_make(struct tdir *t)
{
	snprintf(t->dir, sizeof t->dir, "/tmp/sweepd-dbtest-XXXXXX");
	if (!mkdtemp(t->dir)) {
		printf("# mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(t->path, sizeof t->path, "%s/sweepd.db", t->dir);
	return 0;
}

/* Removes every file in the directory (the database, -wal, -shm) and it. */
static inline void
tdir_clean(struct tdir *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(t->dir);
}

/* Opens the test's database, reporting the message when it fails. */
static inline struct db *
topen(const struct tdir *t)
{
	struct db *db = NULL;
	char err[512];
	int rc = db_open(t->path, &db, err, sizeof err);

	if (rc < 0)
		printf("# db_open(%s): %d %s\n", t->path, rc, err);
	return db;
}

/* Runs SQL on a separate raw connection to path; 0 or the SQLite code. */
static inline int
raw_exec(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	char *msg = NULL;
	int rc = sqlite3_open(path, &h);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("# raw_exec: %s\n", msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	sqlite3_close(h);
	return rc;
}

/* The first column of the first row of sql on a raw connection, as an
 * integer; -1 when there is no row or the query fails. */
static inline long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open(path, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* Member access for exact comparisons; a missing member reads as NAN / NULL
 * so the CHECK that uses it fails visibly. */
static inline const cJSON *
jget(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static inline double
jnum(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline int
jnull(const cJSON *o, const char *key)
{
	return cJSON_IsNull(jget(o, key));
}

#endif
