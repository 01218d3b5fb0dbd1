/*
 * train.h: the training loop of one trial.
 *
 * train_run builds the net, trains epoch by epoch on the split, writes one
 * report line per epoch to report_fd, stops early on patience or
 * divergence, restores the best epoch's weights, evaluates the test set
 * once and writes the final line. All randomness comes from seed (distinct
 * rng streams for init, order, dropout, augmentation), so the same params,
 * data and seed give a bit-identical curve.
 */
#ifndef SWEEPD_WORKER_TRAIN_H
#define SWEEPD_WORKER_TRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/ckpt.h"
#include "worker/data.h"
#include "worker/nn.h"
#include "worker/params.h"

struct train_result {
	int epochs_run;
	int best_epoch;       /* the epoch whose weights were tested */
	bool diverged;        /* a loss became NaN or infinite */
	double test_loss, test_acc;
	int ckpt_writes;      /* checkpoints written (train_run_ckpt with a dir) */
	double ckpt_seconds;  /* wall time of writing them and best.weights */
};

/* Train and report. stop (may be NULL) is polled after every batch; once
 * set the run ends within one batch. Returns 0 after the final line;
 * -EINTR when stopped; -ENOMEM; a negative errno when a report line could
 * not be written (then the run ends at once). */
int
train_run(const struct params *p, const struct data_split *d, uint64_t seed, int report_fd,
	  volatile sig_atomic_t *stop, struct train_result *res);

/* Checkpoints and resume (docs/DESIGN.md, SWEEP_TRIAL_DIR; trainckpt.h). */
struct train_ckpt {
	const char *dir;          /* borrowed: SWEEP_TRIAL_DIR; NULL: nothing is written */
	int resume_epoch;         /* SWEEP_RESUME_EPOCH K; 0: not resuming */
	const char *params_text;  /* borrowed: SWEEP_PARAMS as given, or NULL for "" */
};

/* train_run with ck (may be NULL: exactly train_run). With ck->dir, after
 * every epoch and before its report line, dir/checkpoint-E is written
 * (the last TCK_KEEP are kept) and, when the epoch is the best so far,
 * dir/best.weights. With ck->resume_epoch K > 0 the run continues from
 * dir/checkpoint-K and reports from epoch K + 1, bit for bit as if never
 * stopped; a missing or refused checkpoint is named on stderr and the run
 * starts over from epoch 1. Starting over (or resuming from K) first
 * removes the checkpoints of other epochs (after K) a previous run left. */
int
train_run_ckpt(const struct params *p, const struct data_split *d, uint64_t seed,
	       int report_fd, volatile sig_atomic_t *stop, const struct train_ckpt *ck,
	       struct train_result *res);

/* The test set's mean loss and accuracy with the weights of an opened
 * weights file (tck_weights_open), in a net built from p for d exactly as
 * train_run builds it, so the figures equal the final line's of the run
 * that wrote the file. Returns 0, -ENOMEM, or -EINVAL when the file's
 * sizes are not this net's (message in err). */
int
train_predict(const struct params *p, const struct data_split *d,
	      const struct ckpt_reader *weights, double *loss, double *acc, char *err,
	      size_t errlen);

/* Speed measurement: build the net as train_run does, train one whole
 * warm-up epoch, then time three epochs of training steps (no evaluation)
 * over the training part. *samples gets the samples of one epoch,
 * *seconds the wall time of the fastest timed epoch (the steady state), *flops the multiply-adds x 2 of the matrix products per sample.
 * Returns 0 or -ENOMEM. */
int
train_bench(const struct params *p, const struct data_split *d, uint64_t seed,
	    size_t *samples, double *seconds, double *flops);

/* Greedy layer-wise autoencoder pre-training of net's hidden layers on
 * train (see pretrain.c). Returns 0, -EINTR when stopped, -ENOMEM. */
int
train_pretrain(struct nn_net *net, const struct params *p, const struct data_set *train,
	       struct rng *r, volatile sig_atomic_t *stop);

#endif
