/*
 * trainckpt.h: what the built-in trainer keeps in SWEEP_TRIAL_DIR
 * (docs/DESIGN.md, "SWEEP_TRIAL_DIR"), in the file format of ckpt.h.
 *
 *   checkpoint-E   (kind CKPT_KIND_STATE) the whole training state after
 *                  epoch E: everything the next epoch reads, so that a run
 *                  resumed from it continues bit for bit
 *   best.weights   (kind CKPT_KIND_WEIGHTS) the weights of the best epoch
 *                  so far, with the params and seed that made them, so
 *                  `sweep-worker --predict best.weights` needs nothing else
 *
 * Fields of a checkpoint (tag, element size, count):
 *   PARM 1 x len   SWEEP_PARAMS as given (a checkpoint of other params is
 *                  not resumed)
 *   SEED 8 x 1     SWEEP_SEED
 *   SHAP 8 x 3     n_params, n_stats, n_train (the net's and data's sizes)
 *   EPOC 8 x 1     E
 *   WGHT 4 x n_params, BNST 4 x n_stats   weights; BatchNorm running stats
 *   BWGT 4 x n_params, BBNS 4 x n_stats   the best epoch's copies
 *   OPTM, OPTV 4 x n_params  the optimiser's first / second moment buffers
 *   OSTP 8 x 1     the optimiser's step count
 *   RNGS 8 x 16    the order, dropout, augmentation and init rng streams
 *   ORDR 4 x n_train  the sample order (each epoch shuffles the last one)
 *   BOOK 8 x 4     best epoch, epochs since the best, epochs run, and why
 *                  training stopped (enum tck_stopped)
 *   BOBJ 8 x 1     the best objective value (a double)
 * A weights file holds PARM, SEED, SHAP (n_params, n_stats), EPOC (the
 * best epoch), WGHT and BNST.
 *
 * The last TCK_KEEP checkpoints are kept (E, E-1, E-2): the daemon's
 * SWEEP_RESUME_EPOCH K is the last epoch it stored, and the trainer may
 * be up to two epochs ahead of that (checkpoint E is written before line
 * E is reported; the daemon may die with line E unstored while the
 * trainer writes checkpoint E+1 and then finds the pipe gone).
 */
#ifndef SWEEPD_WORKER_TRAINCKPT_H
#define SWEEPD_WORKER_TRAINCKPT_H

#include <stddef.h>
#include <stdint.h>

#include "worker/ckpt.h"
#include "worker/rng.h"

#define TCK_KEEP 3
#define TCK_BEST_NAME "best.weights"
#define TCK_N_RNG 4

enum tck_stopped { TCK_RUNNING, TCK_PATIENCE, TCK_DIVERGED };

/* The early-stopping bookkeeping of a run. */
struct tck_book {
	double best;          /* best objective so far (+-inf before any) */
	int best_epoch;       /* 0 before any finite epoch */
	int since_best;
	int epochs_run;
	int stopped;          /* enum tck_stopped */
};

/* A trainer's state as borrowed arrays: what is saved, and where a load
 * puts it. Sizes must match the file's exactly for a load to happen. */
struct tck_view {
	const char *params_text;  /* borrowed, NUL-terminated */
	uint64_t seed;
	size_t n_params, n_stats, n_train;
	float *params, *stats, *best_params, *best_stats;   /* borrowed */
	float *opt_m, *opt_v;     /* borrowed, (n_params) each */
	long *opt_step;
	struct rng *rng[TCK_N_RNG];   /* borrowed */
	uint32_t *order;          /* borrowed, (n_train) */
	struct tck_book *book;    /* borrowed */
};

/* Write dir/checkpoint-epoch, then remove dir/checkpoint-(epoch -
 * TCK_KEEP). Returns 0 or -errno with a message in err. */
int
tck_save(const char *dir, int epoch, const struct tck_view *v, char *err, size_t errlen);

/* Write dir/best.weights from v's best arrays. On failure the old file is
 * removed too (it would name another epoch's weights). */
int
tck_save_best(const char *dir, int best_epoch, const struct tck_view *v, char *err,
	      size_t errlen);

/* Load dir/checkpoint-epoch into v. Everything is checked (format, params
 * text, seed, sizes, epoch) before anything is copied, so on failure v is
 * untouched. Returns 0 or a negative errno with the reason in err. */
int
tck_load(const char *dir, int epoch, struct tck_view *v, char *err, size_t errlen);

/* Remove dir/checkpoint-N for every N > after, and best.weights when
 * after is 0: what a run starting over (after = 0) or resuming from epoch
 * `after` would otherwise find from another run. */
void
tck_clear(const char *dir, int after);

/* Open a weights file: on success r holds it, *params_text (owned, free
 * it) its params, *seed and *best_epoch its seed and epoch. Returns 0 or
 * a negative errno with the reason in err. */
int
tck_weights_open(struct ckpt_reader *r, const char *path, char **params_text,
		 uint64_t *seed, int *best_epoch, char *err, size_t errlen);

/* Copy an opened weights file into params (n_params) and stats (n_stats),
 * which must be its sizes. Returns 0 or -EINVAL with the reason. */
int
tck_weights_get(const struct ckpt_reader *r, float *params, size_t n_params, float *stats,
		size_t n_stats, char *err, size_t errlen);

#endif
