/*
 * export: a sweep's trials, or every epoch of every trial, as flat records
 * for spreadsheets and dataframes (`sweepctl export`).
 *
 * A trial becomes one record with fixed columns (number, status, attempt,
 * objective, best_epoch, epochs, test_loss, test_acc, verdict, stop_epoch,
 * error_class, error_message, seed, started_at, ended_at, seconds) and one
 * column per hyperparameter, named "params.<name>". An epoch row keeps the
 * daemon's keys (number, attempt, epoch, then the metrics). The columns are
 * the union over all records in first-seen order; a record without a
 * column leaves it empty (CSV) or null (JSON).
 *
 * CSV follows RFC 4180 (fields with , " CR or LF are quoted, quotes
 * doubled), numbers in the shortest form that reads back exactly, arrays
 * and objects as compact JSON text. JSON is an array with one record per
 * line.
 */
#ifndef SWEEPD_CLIENT_EXPORT_H
#define SWEEPD_CLIENT_EXPORT_H

#include <stdio.h>

#include <cJSON.h>

enum export_format { EXPORT_CSV, EXPORT_JSON };

/* trials: the `trials` reply's array. Returns 0, -ENOMEM, or -EIO when
 * writing to out failed. */
int export_trials(FILE *out, const cJSON *trials, enum export_format f);

/* epochs: the `epochs` reply's array. Same returns. */
int export_epochs(FILE *out, const cJSON *epochs, enum export_format f);

/* The daemon sends the epoch rows a page per `epochs` request: moves the
 * rows of one reply (taken, deleted here) to the array all, and sets
 * *after to the reply's "next" (owned by the caller: the next request's
 * "after"), NULL after the last page (or from a daemon without pages).
 * Returns 0, or -EPROTO when the reply has no such page. */
int export_take_epochs_page(cJSON *reply, cJSON *all, cJSON **after);

/* Writes one CSV field (quoted when it must be). */
void export_csv_field(FILE *out, const char *s);

/* Whole numbers below 1e15 in full, others as the shortest "%.Ng" (N from
 * 1 to 17) that reads back as v exactly; "" for NaN or infinities (CSV has
 * no standard spelling for them).
 * Returns buf (at least 32 bytes). */
char *export_number(char *buf, size_t len, double v);

#endif
