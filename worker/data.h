/*
 * data.h: data sets for the trainer: IDX files (Fashion-MNIST, MNIST),
 * a synthetic classification set, the train/val split, preprocessing and
 * on-the-fly augmentation.
 *
 * Errors come back as a negative errno with a message naming the file or
 * param in err; the caller (main) turns them into exit status 2.
 */
#ifndef SWEEPD_WORKER_DATA_H
#define SWEEPD_WORKER_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "worker/params.h"
#include "worker/rng.h"

struct data_set {
	float *x;        /* (n, d), owned */
	int32_t *y;      /* (n), owned; labels in [0, n_classes) */
	size_t n;
	int d;           /* features per sample = rows * cols for images */
	int rows, cols;  /* image shape; 0, 0 for tabular data (no augmentation) */
};

struct data_split {
	struct data_set train, val, test;
	int n_classes;
	float fill;      /* the preprocessed value of a 0 pixel: shifts fill with it */
	void *map;       /* non-NULL: the sets point into this read-only mapping of a
			  * data cache file (dcache.c), not into their own arrays */
	size_t map_len;
};

/* The four IDX files of a data set, in this order: train images, train
 * labels, test images, test labels (the name data_prepare opens). */
#define DATA_PATH_MAX (PARAMS_STR_MAX + 64)
enum { DATA_SRC_TRAIN_X, DATA_SRC_TRAIN_Y, DATA_SRC_TEST_X, DATA_SRC_TEST_Y, DATA_N_SRC };

/* Read an IDX image file and its label file (gzipped or not) into out,
 * pixels as raw floats 0..255. Returns 0; -ENOENT/-EIO when a file cannot be
 * read; -EINVAL when one is truncated, corrupt, of an unsupported type, or
 * the counts differ; -ENOMEM. The message names the file. out is zeroed on
 * failure and owns its arrays on success (data_set_free). */
int
data_idx_load(struct data_set *out, const char *images, const char *labels,
	      char *err, size_t errlen);

/* A deterministic classification problem: `classes` classes, each a
 * mixture of two Gaussian blobs in `features` dimensions with noise std
 * `noise`. The same arguments always give the same sets (a constant seed,
 * so every trial of a sweep sees the same data). Returns 0 or -ENOMEM. */
int
data_synthetic(struct data_set *train, struct data_set *test, int n_train, int n_test,
	       int features, int classes, double noise);

/* Load params' dataset, split off the last val_size samples of a seeded
 * shuffle as validation, keep train_fraction of the rest, preprocess with
 * statistics from the training part only. Returns 0 or a negative errno
 * with a message naming the file or param. out owns everything
 * (data_split_free), zeroed on failure. */
int
data_prepare(struct data_split *out, const struct params *p, uint64_t seed,
	     char *err, size_t errlen);

/* The IDX file names params' dataset reads (see DATA_SRC_*). Returns 0, or
 * -ENOTSUP for the synthetic set (it has no files). */
int
data_idx_sources(const struct params *p, char src[DATA_N_SRC][DATA_PATH_MAX]);

/* Copy samples idx[0..B) of s into xb (B, d) and yb (B), contiguously,
 * applying augment (enum params_augment) with randomness from r. fill is
 * the background value for shifted-in pixels. No allocation. */
void
data_gather(float *xb, int32_t *yb, const struct data_set *s, const uint32_t *idx, int B,
	    int augment, float fill, struct rng *r);

/* Free a set's arrays (never a mapped split's: data_split_free unmaps
 * those); NULL or zeroed is fine, twice is harmless. */
void
data_set_free(struct data_set *s);
void
data_split_free(struct data_split *s);

#endif
