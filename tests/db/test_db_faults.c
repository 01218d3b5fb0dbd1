/*
 * tests/db/test_db_faults.c: opening, migrations and storage faults.
 * Fresh, old, newer, garbage and corrupted files; a failing migration; a
 * read-only database; a full one (the max_page_count seam); a writer
 * killed with SIGKILL between commits.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "schema/migrations.h"
#include "tests/db/dbtest.h"

#define SPEC "{\"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"}}"

/* A fresh database with sweep 1's trial 1 running (attempt 1), in t; its
 * id in *id. NULL when it cannot be made. */
static struct db *
open_running_trial(struct tdir *t, int64_t *id)
{
	struct db *db;
	int64_t sid = 0;

	if (tdir_make(t) < 0 || !(db = topen(t)))
		return NULL;
	CHECK(db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, id) == 0);
	CHECK(db_trial_start(db, *id, 1, 1, 1, 1.0) == 0);
	return db;
}

static void
migrations_table_is_contiguous(void)
{
	char prefix[16];

	CHECK(schema_migrations_n >= 1);
	CHECK(db_schema_latest() == schema_migrations_n);
	for (int i = 0; i < schema_migrations_n; i++) {
		CHECK(schema_migrations[i].version == i + 1);
		snprintf(prefix, sizeof prefix, "%04d_", i + 1);
		CHECK(strncmp(schema_migrations[i].name, prefix, 5) == 0);
		CHECK(strlen(schema_migrations[i].sql) > 0);
	}
}

static void
fresh_database_is_migrated_to_latest(void)
{
	struct tdir t;
	struct db *db;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_schema_version(db) == schema_migrations_n);
	CHECK(raw_int(t.path, "PRAGMA user_version") == schema_migrations_n);
	/* WAL is a property of the file, so a raw connection sees it too. */
	CHECK(raw_int(t.path, "SELECT journal_mode = 'wal' FROM "
		      "pragma_journal_mode") == 1);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE name IN "
		      "('sweeps', 'trials', 'epochs', 'trials_best', "
		      "'trials_number')") == 5);
	/* 0004's three counters, its sweep insert, 0006's deleted ids,
	 * 0008's three verdict counts */
	CHECK(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE "
		      "type = 'trigger'") == 8);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE "
		      "name IN ('deleted_sweeps', 'sweeps_delete_record')") == 2);
	/* Counting a trial touches the narrow sweep_counts row only: a
	 * trigger that updated `sweeps` would rewrite the spec each time
	 * (quadratic submits of large enqueues). */
	CHECK(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE "
		      "type = 'trigger' AND sql LIKE '%UPDATE sweeps %'") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM pragma_table_info('sweeps') "
		      "WHERE name LIKE 'n\\_%' ESCAPE '\\'") == 0);
	db_close(db);
	tdir_clean(&t);
}

static void
reopen_is_idempotent(void)
{
	struct tdir t;
	struct db *db;
	int64_t sid, id;
	long long objects;
	char wal[160];

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	db_close(db);
	/* the close checkpointed the WAL into the file and removed it */
	snprintf(wal, sizeof wal, "%s-wal", t.path);
	CHECK(access(wal, F_OK) != 0);
	objects = raw_int(t.path, "SELECT count(*) FROM sqlite_master");
	for (int i = 0; i < 3; i++) {
		CHECK((db = topen(&t)) != NULL);
		if (!db)
			break;
		CHECK(db_schema_version(db) == schema_migrations_n);
		db_close(db);
	}
	CHECK(raw_int(t.path, "SELECT count(*) FROM sqlite_master") == objects);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 1);
	CHECK(raw_int(t.path, "SELECT n_queued FROM sweep_counts") == 1);
	CHECK(raw_int(t.path, "PRAGMA user_version") == schema_migrations_n);
	tdir_clean(&t);
}

/* A database made by the first migration only, as an old sweepd left it. */
static int
make_v1(const char *path)
{
	int rc = raw_exec(path, schema_migrations[0].sql);

	if (rc == 0)
		rc = raw_exec(path,
			"INSERT INTO sweeps (id, name, spec_json, trials_total, "
			"created_at) VALUES (1, 'old', '{}', 3, 1.0);"
			"INSERT INTO trials (sweep_id, number, params_json, seed, "
			"status, objective) VALUES (1, 1, '{}', 1, 'completed', 0.5),"
			"(1, 2, '{}', 2, 'completed', 0.7), (1, 3, '{}', 3, 'queued', "
			"NULL);"
			"PRAGMA user_version = 1;");
	return rc;
}

static void
old_database_is_migrated_and_backfilled(void)
{
	struct tdir t;
	struct db *db;
	cJSON *s = NULL;
	int64_t id;

	if (schema_migrations_n < 2) {
		SKIP("only one migration");
		return;
	}
	if (tdir_make(&t) < 0 || make_v1(t.path) != 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_schema_version(db) == schema_migrations_n);
	CHECK(wire_sweep_json(db, 1, &s) == 0);
	CHECK(jnum(jget(s, "counts"), "completed") == 2);
	CHECK(jnum(jget(s, "counts"), "queued") == 1);
	CHECK(jnum(jget(s, "best"), "number") == 2);
	cJSON_Delete(s);
	/* and the triggers keep counting from there */
	CHECK(db_trial_create(db, 1, 4, "{}", 4, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	CHECK(wire_sweep_json(db, 1, &s) == 0);
	CHECK(jnum(jget(s, "counts"), "queued") == 1);
	CHECK(jnum(jget(s, "counts"), "running") == 1);
	cJSON_Delete(s);
	db_close(db);
	tdir_clean(&t);
}

static void
failed_migration_rolls_back_and_names_itself(void)
{
	struct tdir t;
	struct db *db = NULL;
	char err[512], want[64];
	int rc;

	if (schema_migrations_n < 2) {
		SKIP("only one migration");
		return;
	}
	/* A v1 file someone hand-edited: migration 2's first ALTER clashes,
	 * after it would have made other changes had it not been atomic. */
	if (tdir_make(&t) < 0 || make_v1(t.path) != 0 ||
	    raw_exec(t.path, "ALTER TABLE sweeps ADD COLUMN n_cancelled INT") != 0) {
		CHECK(0);
		return;
	}
	rc = db_open(t.path, &db, err, sizeof err);
	CHECK(rc < 0);
	CHECK(db == NULL);
	snprintf(want, sizeof want, "migration %s failed", schema_migrations[1].name);
	CHECK_CONTAINS(err, want);
	CHECK_CONTAINS(err, t.path);
	CHECK_CONTAINS(err, "duplicate column");
	CHECK(raw_int(t.path, "PRAGMA user_version") == 1);
	/* nothing of migration 2 stayed: its first column is not there */
	CHECK(raw_int(t.path, "SELECT count(*) FROM pragma_table_info('sweeps') "
		      "WHERE name = 'n_queued'") == 0);
	db_close(db);
	tdir_clean(&t);
}

static void
newer_schema_is_refused(void)
{
	struct tdir t;
	struct db *db = (struct db *)1;
	char err[512], want[160], sql[96];

	snprintf(sql, sizeof sql, "CREATE TABLE x (a); PRAGMA user_version = %d",
		 schema_migrations_n + 1);
	if (tdir_make(&t) < 0 || raw_exec(t.path, sql) != 0) {
		CHECK(0);
		return;
	}
	CHECK(db_open(t.path, &db, err, sizeof err) == -EPROTO);
	CHECK(db == NULL);
	snprintf(want, sizeof want, "database schema version %d is newer than "
		 "this sweepd supports (%d); upgrade sweepd",
		 schema_migrations_n + 1, schema_migrations_n);
	CHECK_CONTAINS(err, want);
	CHECK_CONTAINS(err, t.path);
	/* and the file was not touched */
	CHECK(raw_int(t.path, "PRAGMA user_version") == schema_migrations_n + 1);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sqlite_master WHERE "
		      "name = 'sweeps'") == 0);
	tdir_clean(&t);
}

static int
write_file(const char *path, const void *buf, size_t len, off_t at)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	int ok = fd >= 0 && pwrite(fd, buf, len, at) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static void
garbage_file_is_refused_naming_it(void)
{
	struct tdir t;
	struct db *db = (struct db *)1;
	char junk[4096], err[512];
	int rc;

	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)('a' + i % 26);
	if (tdir_make(&t) < 0 || write_file(t.path, junk, sizeof junk, 0) < 0) {
		CHECK(0);
		return;
	}
	rc = db_open(t.path, &db, err, sizeof err);
	CHECK(rc == -EIO);
	CHECK(db == NULL);
	CHECK_CONTAINS(err, t.path);
	CHECK_CONTAINS(err, "not an SQLite database");
	printf("# %s\n", err);
	tdir_clean(&t);
}

static void
corrupted_database_is_refused(void)
{
	struct tdir t;
	struct db *db;
	char junk[1024], err[512], m[256];
	int64_t sid, id;
	int rc;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	CHECK(db_begin(db) == 0);
	for (int e = 1; e <= 400; e++) {
		snprintf(m, sizeof m, "{\"val_acc\":%d,\"pad\":\"%0150d\"}", e, e);
		CHECK(db_trial_epoch(db, id, 1, e, e, m) == 0);
	}
	CHECK(db_commit(db) == 0);
	db_close(db);   /* checkpoints: the rows are in the main file now */
	/* Scribble over a b-tree page in the middle of the file. */
	memset(junk, 0x5a, sizeof junk);
	CHECK(write_file(t.path, junk, sizeof junk, 8 * 4096) == 0);
	db = (struct db *)1;
	rc = db_open(t.path, &db, err, sizeof err);
	CHECK(rc == -EIO);
	CHECK(db == NULL);
	CHECK_CONTAINS(err, t.path);
	CHECK_CONTAINS(err, "corrupt");
	printf("# %s\n", err);
	tdir_clean(&t);
}

static void
missing_directory_is_enoent(void)
{
	struct db *db = (struct db *)1;
	char err[512];
	const char *p = "/nonexistent-sweepd-dir/sub/sweepd.db";

	CHECK(db_open(p, &db, err, sizeof err) == -ENOENT);
	CHECK(db == NULL);
	CHECK_CONTAINS(err, p);
	CHECK(db_open(NULL, &db, err, sizeof err) == -EINVAL);
	CHECK(db_open("", &db, err, sizeof err) == -EINVAL);
}

static void
read_only_database_reads_and_refuses_writes(void)
{
	struct tdir t;
	struct db *db;
	cJSON *j = NULL;
	char err[512];
	int64_t sid, id;
	struct db_trial_end e = {
		.status = "completed", .objective = 0.5, .best_epoch = 1,
		.test_loss = NAN, .test_acc = NAN, .exit_code = 0, .now = 2.0,
	};

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	db_close(db);
	db = NULL;
	CHECK(db_open_flags(t.path, SQLITE_OPEN_READONLY, &db, err,
			    sizeof err) == 0);
	if (!db) {
		printf("# %s\n", err);
		tdir_clean(&t);
		return;
	}
	CHECK(wire_sweep_json(db, sid, &j) == 0);
	CHECK(jnum(jget(j, "counts"), "running") == 1);
	cJSON_Delete(j);
	CHECK(db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) == -EROFS);
	CHECK_CONTAINS(db_last_error(db), "read-only");
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{}") == -EROFS);
	CHECK_CONTAINS(db_last_error(db), "read-only");
	CHECK(db_trial_end(db, id, &e) == -EROFS);
	CHECK(db_sweep_set_status(db, sid, "paused", NULL, 1.0) == -EROFS);
	/* A group on a read-only file fails at its first write. */
	CHECK(db_begin(db) == 0);
	CHECK(db_trial_set_diagnosis(db, id, "{}") == -EROFS);
	CHECK(db_rollback(db) == 0);
	CHECK(db_rollback(db) == 0);
	/* reads still work after the failures: no statement left busy */
	CHECK(wire_trials_json(db, 1, &j) == 0);
	CHECK(cJSON_GetArraySize(j) == 1);
	cJSON_Delete(j);
	db_close(db);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 1);
	tdir_clean(&t);
}

static void
read_only_file_is_refused_at_open(void)
{
	struct tdir t;
	struct db *db;
	char err[512];
	int rc;

	if (geteuid() == 0) {
		SKIP("root writes read-only files; see "
		     "read_only_database_reads_and_refuses_writes");
		return;
	}
	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	db_close(db);
	CHECK(chmod(t.path, 0444) == 0);
	CHECK(chmod(t.dir, 0555) == 0);
	rc = db_open(t.path, &db, err, sizeof err);
	CHECK(rc == -EROFS);
	CHECK_CONTAINS(err, t.path);
	CHECK_CONTAINS(err, "read-only");
	chmod(t.dir, 0700);
	chmod(t.path, 0600);
	tdir_clean(&t);
}

static void
full_database_is_enospc(void)
{
	struct tdir t;
	struct db *db;
	char m[2048], pad[1800];
	int64_t id;
	int stored = 0, rc = 0;

	if (!(db = open_running_trial(&t, &id))) {
		CHECK(0);
		return;
	}
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	/* Room for a few more pages only: the disk is "full" soon. */
	CHECK(db_set_max_pages(db, raw_int(t.path, "PRAGMA page_count") + 4) == 0);
	for (int e = 1; e <= 200; e++) {
		snprintf(m, sizeof m, "{\"val_acc\":%d,\"pad\":\"%s\"}", e, pad);
		rc = db_trial_epoch(db, id, 1, e, e, m);
		if (rc < 0)
			break;
		stored++;
	}
	CHECK(rc == -ENOSPC);
	CHECK_CONTAINS(db_last_error(db), "full");
	CHECK(stored > 0);
	/* What was acknowledged is stored, the failed epoch is not, and the
	 * trial's count agrees with its rows. */
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == stored);
	CHECK(raw_int(t.path, "SELECT epochs FROM trials") == stored);
	/* The connection is usable: a group that hits the wall leaves
	 * nothing, then smaller writes still go through. */
	CHECK(db_begin(db) == 0);
	rc = 0;
	for (int e = 1000; rc == 0 && e < 1200; e++) {
		snprintf(m, sizeof m, "{\"pad\":\"%s\"}", pad);
		rc = db_trial_epoch(db, id, 1, e, e, m);
	}
	CHECK(rc == -ENOSPC);
	CHECK(db_rollback(db) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == stored);
	CHECK(db_trial_set_diagnosis(db, id, "{\"verdict\":\"x\"}") == 0);
	db_close(db);
	tdir_clean(&t);
}

/* The child: writes epochs one commit each and acknowledges each on the
 * pipe after the call returned, like the daemon acknowledging a client. */
static void
writer_child(const char *path, int ack_fd)
{
	struct db *db = NULL;
	char err[512];
	int64_t sid, id;

	if (db_open(path, &db, err, sizeof err) < 0 ||
	    db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) < 0 ||
	    db_trial_create(db, sid, 1, "{}", 1, &id) < 0 ||
	    db_trial_start(db, id, 1, getpid(), 1, 1.0) < 0)
		_exit(2);
	for (int e = 1; ; e++) {
		if (db_trial_epoch(db, id, 1, e, e / 1e6, "{\"val_acc\":0.5}") < 0)
			_exit(3);
		if (write(ack_fd, "x", 1) != 1)
			_exit(4);
	}
}

static void
killed_writer_loses_no_acknowledged_epoch(void)
{
	struct tdir t;
	struct db *db;
	int fds[2], acked = 0, status = 0;
	char c;
	pid_t pid;

	if (tdir_make(&t) < 0 || pipe(fds) < 0) {
		CHECK(0);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		writer_child(t.path, fds[1]);
	}
	close(fds[1]);
	while (acked < 50 && read(fds[0], &c, 1) == 1)
		acked++;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	CHECK(acked == 50);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The WAL is left behind, not checkpointed: recovery reads it. */
	db = topen(&t);
	CHECK(db != NULL);
	long long rows = raw_int(t.path, "SELECT count(*) FROM epochs");
	CHECK(rows >= acked);
	CHECK(raw_int(t.path, "SELECT epochs FROM trials") == rows);
	CHECK(raw_int(t.path, "SELECT max(epoch) FROM epochs") == rows);
	CHECK(raw_int(t.path, "SELECT n_running FROM sweep_counts") == 1);
	db_close(db);
	tdir_clean(&t);
}

/* A batch (group commit): the epochs that join it are committed together
 * when it ends, not before; an inner level rolled back drops its own
 * rows only; any other write commits the batch first, so that its own
 * change is stored when it returns. */
static void
batch_commits_at_its_end_or_before_another_write(void)
{
	struct tdir t;
	struct db *db;
	int64_t id;
	struct db_trial_end e = { .status = "completed", .objective = NAN,
		.test_loss = NAN, .test_acc = NAN, .exit_code = 0, .now = 3.0 };

	if (!(db = open_running_trial(&t, &id))) {
		CHECK(0);
		return;
	}
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_batch_depth(db) == 1);
	CHECK(db_begin(db) == 0);      /* db_begin commits the empty batch */
	CHECK(db_batch_depth(db) == 0);
	CHECK(db_batch_begin(db) == -EINVAL);   /* not inside a group */
	CHECK(db_commit(db) == 0);
	CHECK(db_batch_begin(db) == 0);
	for (int ep = 1; ep <= 3; ep++) {
		CHECK(db_batch_begin(db) == 0);
		CHECK(db_trial_epoch(db, id, 1, ep, ep, "{}") == 0);
		CHECK(db_batch_end(db, 1) == 0);
	}
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_trial_epoch(db, id, 1, 4, 4, "{}") == 0);
	CHECK(db_batch_end(db, 0) == 0);          /* epoch 4 undone */
	CHECK(db_batch_depth(db) == 1);
	/* Another connection sees nothing of an open batch. */
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 0);
	CHECK(db_batch_end(db, 1) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 3);
	CHECK(raw_int(t.path, "SELECT epochs FROM trials") == 3);
	/* A write that does not join commits the batch before its own. */
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_trial_epoch(db, id, 1, 5, 5, "{}") == 0);
	CHECK(db_trial_set_diagnosis(db, id, "{\"verdict\":\"improving\"}") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 3);
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(db_batch_depth(db) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 4);
	CHECK(raw_int(t.path, "SELECT status = 'completed' AND diagnosis_json "
		      "IS NOT NULL FROM trials") == 1);
	CHECK(db_batch_lost(db) == 0);
	CHECK(db_batch_end(db, 1) == -EINVAL);    /* none open */
	db_close(db);
	tdir_clean(&t);
}

/* A start written by db_trial_start_batched joins the open batch: another
 * connection sees the trial queued until the batch commits; a rolled-back
 * level takes it back; db_trial_start commits an open batch first. */
static void
batched_start_is_stored_with_its_batch(void)
{
	struct tdir t;
	struct db *db;
	int64_t id;

	if (!(db = open_running_trial(&t, &id))) {
		CHECK(0);
		return;
	}
	CHECK(db_trial_requeue(db, id, 1) == 0);
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_trial_start_batched(db, id, 2, 4242, 99, 5.0) == 0);
	CHECK(db_batch_end(db, 0) == 0);          /* undone */
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_trial_start_batched(db, id, 2, 4242, 99, 5.0) == 0);
	CHECK(db_batch_end(db, 1) == 0);
	CHECK(raw_int(t.path, "SELECT status = 'queued' FROM trials") == 1);
	CHECK(db_batch_end(db, 1) == 0);
	CHECK(raw_int(t.path, "SELECT status = 'running' AND attempt = 2 AND "
		      "pid = 4242 AND proc_start = 99 FROM trials") == 1);
	CHECK(db_trial_requeue(db, id, 2) == 0);
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_trial_start(db, id, 3, 4243, 100, 6.0) == 0);
	CHECK(db_batch_depth(db) == 0);           /* committed first */
	CHECK(raw_int(t.path, "SELECT status = 'running' AND attempt = 3 "
		      "FROM trials") == 1);
	db_close(db);
	tdir_clean(&t);
}

/* A batch whose commit cannot go through (the disk full) is lost, all of
 * it, and says so: db_batch_lost returns the failure once; nothing of it
 * is stored, and the connection writes again once there is room. */
static void
full_disk_loses_the_whole_batch_and_says_so(void)
{
	struct tdir t;
	struct db *db;
	int64_t id;
	char pad[3000], m[3100];
	int rc = 0, n = 0;

	if (!(db = open_running_trial(&t, &id))) {
		CHECK(0);
		return;
	}
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	CHECK(db_set_max_pages(db, raw_int(t.path, "PRAGMA page_count") + 4) == 0);
	CHECK(db_batch_begin(db) == 0);
	for (int ep = 1; rc == 0 && ep <= 200; ep++) {
		snprintf(m, sizeof m, "{\"pad\":\"%s\"}", pad);
		rc = db_batch_begin(db);
		if (rc == 0)
			rc = db_trial_epoch(db, id, 1, ep, ep, m);
		if (db_batch_depth(db) > 1)
			db_batch_end(db, rc == 0);
		n += rc == 0;
	}
	if (db_batch_depth(db) > 0)
		rc = db_batch_end(db, 1);
	CHECK(n > 0);
	CHECK(rc == -ENOSPC);
	CHECK(db_batch_depth(db) == 0);
	CHECK(db_batch_lost(db) == -ENOSPC);
	CHECK(db_batch_lost(db) == 0);            /* told once */
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 0);
	CHECK(raw_int(t.path, "SELECT epochs FROM trials") == 0);
	CHECK(db_set_max_pages(db, 1 << 30) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 1, "{}") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 1);
	db_close(db);
	tdir_clean(&t);
}

/* db_batch_fate says how a batch ended, whoever ended it: committed by
 * its own end or by another write first, rolled back by its owner, lost
 * (the disk full); an older batch's end is not kept. */
static void
batch_fate_says_how_each_batch_ended(void)
{
	struct tdir t;
	struct db *db;
	int64_t id;
	uint64_t g;
	char pad[3000], m[3100];
	int rc = 0;

	if (!(db = open_running_trial(&t, &id))) {
		CHECK(0);
		return;
	}
	CHECK(db_batch_fate(db, 0) == 0);
	CHECK(db_batch_begin(db) == 0);
	g = db_batch_gen(db);
	CHECK(g > 0 && db_batch_fate(db, g) == DB_BATCH_OPEN);
	CHECK(db_batch_begin(db) == 0);           /* an inner level: same batch */
	CHECK(db_batch_gen(db) == g);
	CHECK(db_batch_end(db, 1) == 0);
	CHECK(db_batch_fate(db, g) == DB_BATCH_OPEN);
	CHECK(db_batch_end(db, 1) == 0);
	CHECK(db_batch_fate(db, g) == 0);         /* committed by its end */
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_batch_gen(db) == g + 1);
	CHECK(db_batch_fate(db, g) == -ESTALE);
	CHECK(db_trial_epoch(db, id, 1, 1, 1, "{}") == 0);
	CHECK(db_begin(db) == 0);                 /* commits it first */
	CHECK(db_batch_fate(db, g + 1) == 0);
	CHECK(db_commit(db) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 1);
	CHECK(db_batch_begin(db) == 0);
	CHECK(db_batch_end(db, 0) == 0);
	CHECK(db_batch_fate(db, g + 2) == -ECANCELED);
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	snprintf(m, sizeof m, "{\"pad\":\"%s\"}", pad);
	CHECK(db_set_max_pages(db, raw_int(t.path, "PRAGMA page_count") + 4) == 0);
	CHECK(db_batch_begin(db) == 0);
	for (int ep = 2; rc == 0 && ep <= 200; ep++) {
		rc = db_batch_begin(db);
		if (rc == 0)
			rc = db_trial_epoch(db, id, 1, ep, ep, m);
		if (db_batch_depth(db) > 1)
			db_batch_end(db, rc == 0);
	}
	if (db_batch_depth(db) > 0)
		rc = db_batch_end(db, 1);
	CHECK(rc == -ENOSPC);
	CHECK(db_batch_fate(db, g + 3) == -ENOSPC);
	CHECK(db_batch_fate(db, g + 3) == -ENOSPC);   /* reading keeps it */
	CHECK(db_batch_lost(db) == -ENOSPC);          /* and db_batch_lost's */
	db_close(db);
	tdir_clean(&t);
}

/* A lock another process holds past the busy timeout is -EBUSY, storage
 * trouble (db_is_outage), named for the caller's log: the module returns
 * its failures and prints nothing, whatever fails (bad argument, missing
 * row, lock, read-only file). */
static void
failures_are_returned_not_printed(void)
{
	struct tdir t;
	struct db *db = NULL, *ro = NULL;
	char path[160], err[256];
	sqlite3 *h = NULL;
	int64_t sid = 0, tid = 0;
	int saved, fd;
	struct stat st;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC, 1, 1.0, &sid) == 0);
	snprintf(path, sizeof path, "%s/stderr", t.dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(saved >= 0 && fd >= 0 && dup2(fd, 2) == 2);
	CHECK(db_sweep_create(db, "s", "[]", 1, 1.0, &sid) == -EINVAL);
	CHECK(db_trial_create(db, 99, 1, "{}", 1, &tid) == -ENOENT);
	CHECK(sqlite3_open(t.path, &h) == SQLITE_OK &&
	      sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &tid) == -EBUSY);
	CHECK(db_is_outage(-EBUSY));
	CHECK_MSG(strstr(db_last_error(db), "locked"), "%s", db_last_error(db));
	CHECK_STR(db_last_error_func(db), "db_trial_create");
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(h);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &tid) == 0);
	CHECK(db_open_flags(t.path, SQLITE_OPEN_READONLY, &ro, err,
			    sizeof err) == 0);
	CHECK(ro && db_sweep_set_status(ro, sid, "paused", NULL, 2.0) == -EROFS);
	db_close(ro);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	CHECK(stat(path, &st) == 0);
	CHECK_MSG(st.st_size == 0, "db printed %lld bytes to stderr",
		  (long long)st.st_size);
	db_close(db);
	tdir_clean(&t);
}

int
main(void)
{
	RUN(migrations_table_is_contiguous);
	RUN(fresh_database_is_migrated_to_latest);
	RUN(reopen_is_idempotent);
	RUN(old_database_is_migrated_and_backfilled);
	RUN(failed_migration_rolls_back_and_names_itself);
	RUN(newer_schema_is_refused);
	RUN(garbage_file_is_refused_naming_it);
	RUN(corrupted_database_is_refused);
	RUN(missing_directory_is_enoent);
	RUN(read_only_database_reads_and_refuses_writes);
	RUN(read_only_file_is_refused_at_open);
	RUN(full_database_is_enospc);
	RUN(killed_writer_loses_no_acknowledged_epoch);
	RUN(batch_commits_at_its_end_or_before_another_write);
	RUN(full_disk_loses_the_whole_batch_and_says_so);
	RUN(batched_start_is_stored_with_its_batch);
	RUN(batch_fate_says_how_each_batch_ended);
	RUN(failures_are_returned_not_printed);
	return harness_done();
}
