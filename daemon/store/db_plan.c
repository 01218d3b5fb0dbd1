/*
 * daemon/store/db_plan.c: diagnostics of the prepared statements: their
 * EXPLAIN QUERY PLAN (that `best`, the failure summary and the start-up
 * load are index searches) and their EXPLAIN's instructions (that no
 * write builds an ephemeral table). For tests and operators; contract in
 * db.h.
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The EXPLAIN QUERY PLAN of one prepared statement's SQL, a line each. */
static int
plan_of(struct db *db, int id, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	size_t used = 0;
	char *q;
	int rc;

	if (!db || !buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", db_stmt_sql(id));
	if (!q)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(db->h, q, -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && used < len) {
			/* Columns: id, parent, notused, detail. */
			int n = snprintf(buf + used, len - used, "%s\n",
					 db_col_text(st, 3));
			used += n > 0 ? (size_t)n : 0;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(db, __func__, rc);
	sqlite3_finalize(st);
	sqlite3_free(q);
	return rc;
}

/* How many rows of the EXPLAIN of sql have opcode op. */
static int
count_ops(struct db *db, const char *sql, const char *op)
{
	sqlite3_stmt *st = NULL;
	char *q = sqlite3_mprintf("EXPLAIN %s", sql);
	int n = 0, rc;

	if (!q)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(db->h, q, -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		/* Columns: addr, opcode, p1, p2, p3, p4, p5, comment. */
		if (rc == SQLITE_ROW && strcmp(db_col_text(st, 1), op) == 0)
			n++;
	}
	rc = rc == SQLITE_DONE ? n : db_fail(db, __func__, rc);
	sqlite3_finalize(st);
	sqlite3_free(q);
	return rc;
}

int
db_explain_ops(struct db *db, const char *name, const char *opcode)
{
	if (!db || !name || !opcode)
		return -EINVAL;
	for (int i = 0; i < ST_COUNT; i++)
		if (strcmp(db_stmt_name(i), name) == 0)
			return count_ops(db, db_stmt_sql(i), opcode);
	return db_failf(db, __func__, -ENOENT, "no statement %s", name);
}

int
db_best_plan(struct db *db, int mode_max, char *buf, size_t len)
{
	return plan_of(db, mode_max ? ST_BEST_MAX : ST_BEST_MIN, buf, len);
}

int
db_failures_plan(struct db *db, char *buf, size_t len)
{
	return plan_of(db, ST_FAILURES, buf, len);
}

int
db_unsettled_plan(struct db *db, char *buf, size_t len)
{
	return plan_of(db, ST_UNSETTLED_LOAD, buf, len);
}
