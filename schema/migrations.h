/*
 * schema/migrations.h: the SQL migrations compiled into sweepd.
 *
 * The table is generated at build time by schema/embed.c from
 * schema/NNNN_*.sql, so the daemon never reads migration files at run time
 * and cannot be started against a half-installed schema directory. Entry i
 * takes a database from user_version i to i + 1 (versions start at 1).
 */
#ifndef SWEEPD_SCHEMA_MIGRATIONS_H
#define SWEEPD_SCHEMA_MIGRATIONS_H

struct schema_migration {
	int version;          /* user_version once applied: 1, 2, ... */
	const char *name;     /* file name, e.g. "0001_init.sql" */
	const char *sql;      /* the file's text, run with sqlite3_exec */
	int fk_off;           /* 1: the file holds the line
			       * "-- migrate: foreign_keys off"; db.c runs it
			       * with foreign keys off and then requires
			       * PRAGMA foreign_key_check to find nothing (a
			       * table rebuild: docs/storage.md) */
};

/* Ordered by version, contiguous from 1; static storage. */
extern const struct schema_migration schema_migrations[];
extern const int schema_migrations_n;   /* = the latest version */

#endif
