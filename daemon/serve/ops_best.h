/*
 * ops_best.h: the `best` op's answers kept between requests.
 *
 * `best` is asked far more often than its answer changes: 20 clients
 * polling a 10,000-trial sweep ask thousands of times a second, while a
 * new best needs a trial to end. Each answer costs the loop its SQLite
 * reads, the trial's JSON and its printing (for several objectives the
 * Pareto front over every completed trial, and for an ended sweep its
 * stored spec parsed again). So the members op_best adds to its reply
 * ("trial", and "front" and "objectives" with several objectives) are kept
 * here as printed JSON, per sweep, with the database's change number
 * (db_change_gen) at the time they were read and what of the sweep they
 * depend on outside the database (whether it is active, its number of
 * objectives). A later `best` for that sweep reuses them only when all of
 * those are unchanged, as raw members of its reply: byte for byte the
 * text a fresh answer would print. Any write to `trials` or `sweeps`
 * (a trial started, ended, deleted, rerun, a manual trial told, a sweep
 * resumed or removed) changes the number, and the next `best` reads
 * again; a daemon restart starts empty. Errors (no best yet, storage
 * trouble) are never kept. A handful of sweeps are kept, the least
 * recently asked replaced first.
 */
#ifndef SWEEPD_DAEMON_OPS_BEST_H
#define SWEEPD_DAEMON_OPS_BEST_H

#include <stdint.h>

#include <cJSON.h>

#define OPS_BEST_KEPT 16

/* One sweep's kept answer: its members' names and printed values. */
struct ops_best_entry {
	int64_t sweep_id;          /* 0: unused */
	uint64_t gen;              /* db_change_gen when it was read */
	int active;                /* the sweep was active (in the scheduler) */
	int n_objectives;          /* its spec's, 0 when not active */
	uint64_t used;             /* ops_best_cache.clock at the last hit */
	int n;
	char *key[4];              /* owned */
	char *text[4];             /* owned, as json_print prints them */
};

struct ops_best_cache {
	struct ops_best_entry e[OPS_BEST_KEPT];
	uint64_t clock;
	uint64_t hits, misses;     /* for tests and bench figures */
};

/* What a kept answer depends on besides sweep_id. */
struct ops_best_key {
	uint64_t gen;
	int active, n_objectives;
};

/* Adds sweep_id's kept members to reply (owned by the caller) and returns
 * 1 when they were read under key; 0 when there are none (nothing added);
 * -ENOMEM (reply unchanged). */
int ops_best_add(struct ops_best_cache *c, int64_t sweep_id,
		 const struct ops_best_key *key, cJSON *reply);
/* Keeps the members of answer (borrowed: an object holding exactly what
 * op_best adds to its reply) for sweep_id, read under key. A failure to
 * keep them is silent: the next `best` reads again. */
void ops_best_keep(struct ops_best_cache *c, int64_t sweep_id,
		   const struct ops_best_key *key, const cJSON *answer);
/* Frees every kept answer; c is empty and usable again. */
void ops_best_clear(struct ops_best_cache *c);

#endif
