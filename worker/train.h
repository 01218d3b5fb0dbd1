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

#include "worker/data.h"
#include "worker/nn.h"
#include "worker/params.h"

struct train_result {
	int epochs_run;
	int best_epoch;       /* the epoch whose weights were tested */
	bool diverged;        /* a loss became NaN or infinite */
	double test_loss, test_acc;
};

/* Train and report. stop (may be NULL) is polled after every batch; once
 * set the run ends within one batch. Returns 0 after the final line;
 * -EINTR when stopped; -ENOMEM; a negative errno when a report line could
 * not be written (then the run ends at once). */
int
train_run(const struct params *p, const struct data_split *d, uint64_t seed, int report_fd,
	  volatile sig_atomic_t *stop, struct train_result *res);

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
