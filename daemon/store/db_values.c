/*
 * daemon/store/db_values.c: each completed trial's metrics at its best
 * epoch, for several objectives (contract in db.h).
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

struct best_metrics_cb {
	int (*cb)(void *ud, int number, const char *metrics_json);
	void *ud;
};

static int
best_metrics_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct best_metrics_cb *c = ctx;

	(void)db;
	return c->cb(c->ud, sqlite3_column_int(st, 0), db_col_text(st, 1));
}

int
db_best_epoch_metrics(struct db *db, int64_t sweep_id,
		      int (*cb)(void *ud, int number, const char *metrics_json),
		      void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_BEST_EPOCH_METRICS);
	struct best_metrics_cb c = { cb, ud };
	int b = sqlite3_bind_int64(st, 1, sweep_id);

	return db_walk(db, st, b, best_metrics_row, &c, __func__);
}
