/*
 * dcache.h: the data cache. A trial of an IDX data set spends most of its
 * start-up decompressing, splitting and standardising the same 70k images
 * every other trial of the sweep also prepares. The first trial writes the
 * prepared split (the exact floats data_prepare computes) to one file per
 * (source files, val_size, split_seed, train_fraction, preprocess); every
 * later trial maps that file read-only, so all trials share one copy in
 * the page cache.
 *
 * A cache file is used only when its header matches the key, its source
 * files still have the size, mtime and inode recorded in it, its length is
 * what the header says and a checksum over header and payload matches;
 * anything else (truncated, corrupt, stale, another format) is rebuilt
 * from the sources, written to a temp file and renamed over it. A cache
 * that cannot be written is reported and the trial trains on its own
 * freshly prepared copy: the cache never fails a trial.
 */
#ifndef SWEEPD_WORKER_DCACHE_H
#define SWEEPD_WORKER_DCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "worker/data.h"
#include "worker/params.h"

enum dcache_result {
	DCACHE_OFF,          /* no cache dir, or a data set without files */
	DCACHE_HIT,          /* mapped a valid cache file */
	DCACHE_BUILT,        /* there was none: prepared and written */
	DCACHE_REBUILT,      /* there was one but unusable (why says so): rewritten */
	DCACHE_UNWRITABLE,   /* prepared, but could not write it (why says so) */
};

struct dcache_info {
	enum dcache_result result;
	char path[DATA_PATH_MAX];   /* the cache file, when not DCACHE_OFF */
	char why[512];              /* REBUILT, UNWRITABLE: what was wrong */
};

/* data_prepare through the cache in dir (created, mode 0700, when
 * missing); dir NULL or "" is data_prepare itself. Same results, errors
 * and ownership as data_prepare (data_split_free unmaps a mapped split). */
int
dcache_prepare(struct data_split *out, const struct params *p, uint64_t seed, const char *dir,
	       struct dcache_info *info, char *err, size_t errlen);

/* The checksum of the cache files, over n bytes (a multiple of 8). */
uint64_t
dcache_sum(const void *buf, size_t n);

#endif
