/*
 * train.c: epochs, batches, early stopping and the report lines.
 *
 * Everything the loop touches (batch buffers, the epoch order, the best
 * weights' copy) is allocated before the first epoch; a step is gather,
 * forward, zero_grad, backward, grad norms, optimiser update.
 */
#include "worker/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker/emit.h"
#include "worker/opt.h"
#include "worker/trainckpt.h"

#define EVAL_BATCH 1000       /* evaluation chunk; eval mode makes it irrelevant */
#define BENCH_EPOCHS 3        /* timed epochs after the warm-up one; the fastest counts */

struct trainer {
	const struct params *p;
	const struct data_split *d;
	struct nn_net net;
	struct opt opt;
	float *xb;            /* (batch_size, d) gathered batch */
	int32_t *yb;          /* (batch_size) */
	uint32_t *order;      /* (n_train) this epoch's sample order */
	float *best_params;   /* (n_params) weights of the best epoch so far */
	float *best_stats;    /* (n_stats) */
	struct rng order_rng, drop_rng, aug_rng, init_rng;
	volatile sig_atomic_t *stop;
	uint64_t seed;
	const struct train_ckpt *ck;  /* borrowed; NULL: no checkpoints */
	struct tck_book book;         /* early stopping: best so far, patience */
	int ckpt_writes;              /* checkpoint files written, and their time */
	double ckpt_seconds;
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
trainer_free(struct trainer *t)
{
	nn_free(&t->net);
	opt_free(&t->opt);
	free(t->xb);
	free(t->yb);
	free(t->order);
	free(t->best_params);
	free(t->best_stats);
	memset(t, 0, sizeof(*t));
}

/* The largest batch of a trainer: a training batch (never more than the
 * training part, whatever batch_size says) or an evaluation chunk. The
 * chunking of nn_evaluate follows it, so --predict uses the same. */
static int
max_batch(const struct params *p, const struct data_split *d)
{
	int B = (size_t)p->batch_size < d->train.n ? p->batch_size : (int)d->train.n;
	return B > EVAL_BATCH ? B : EVAL_BATCH;
}

static int
net_init(struct nn_net *net, const struct params *p, const struct data_split *d)
{
	return nn_init(net, d->train.d, &p->hidden, d->n_classes, p->activation, p->batchnorm,
		       (float)p->dropout, max_batch(p, d));
}

static int
trainer_init(struct trainer *t, const struct params *p, const struct data_split *d,
	     uint64_t seed, volatile sig_atomic_t *stop)
{
	int B = (size_t)p->batch_size < d->train.n ? p->batch_size : (int)d->train.n;
	size_t nd = (size_t)d->train.d;
	int rc;

	memset(t, 0, sizeof(*t));
	t->p = p;
	t->d = d;
	t->stop = stop;
	t->seed = seed;
	t->book.best = params_objective_max(p) ? -INFINITY : INFINITY;
	rc = net_init(&t->net, p, d);
	if (rc < 0)
		return rc;
	if ((rc = opt_init(&t->opt, p, t->net.n_params)) < 0)
		goto fail;
	rc = -ENOMEM;
	t->xb = malloc((size_t)B * nd * sizeof(float));
	t->yb = malloc((size_t)B * sizeof(int32_t));
	t->order = malloc(d->train.n * sizeof(uint32_t));
	t->best_params = malloc(t->net.n_params * sizeof(float));
	t->best_stats = malloc((t->net.n_stats + 1) * sizeof(float));
	if (!t->xb || !t->yb || !t->order || !t->best_params || !t->best_stats)
		goto fail;
	for (size_t i = 0; i < d->train.n; i++)
		t->order[i] = (uint32_t)i;
	rng_seed(&t->init_rng, seed, RNG_INIT);
	rng_seed(&t->order_rng, seed, RNG_ORDER);
	rng_seed(&t->drop_rng, seed, RNG_DROPOUT);
	rng_seed(&t->aug_rng, seed, RNG_AUGMENT);
	nn_init_weights(&t->net, p->init, (float)p->init_std, &t->init_rng);
	return 0;
fail:
	trainer_free(t);
	return rc;
}

struct epoch_stats {
	double loss, acc;
	double grad_norm[NN_MAX_LAYERS];  /* mean over steps of ||dW_l||_2 */
	bool diverged;
};

static float
l2norm(const float *x, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return (float)sqrt(s);
}

/* One pass over the training part (or its first max_batches batches).
 * Returns 0, or -EINTR when stopped. */
static int
train_epoch(struct trainer *t, float lr, long max_batches, struct epoch_stats *es)
{
	const struct params *p = t->p;
	const struct data_set *tr = &t->d->train;
	struct nn_net *net = &t->net;
	double loss = 0.0, gsum[NN_MAX_LAYERS] = { 0 };
	size_t seen = 0;
	long steps = 0;
	int correct = 0;

	memset(es, 0, sizeof(*es));
	rng_shuffle(&t->order_rng, t->order, tr->n);
	for (size_t start = 0; start < tr->n && steps != max_batches;
	     start += (size_t)p->batch_size) {
		int B = (int)(tr->n - start < (size_t)p->batch_size ? tr->n - start
								    : (size_t)p->batch_size);
		/* BatchNorm cannot normalise one sample (PyTorch refuses it too):
		 * a last batch of one is dropped; params and data guarantee a
		 * batch of at least 2 before it */
		if (B == 1 && p->batchnorm)
			break;
		data_gather(t->xb, t->yb, tr, t->order + start, B, p->augment, t->d->fill,
			    &t->aug_rng);
		nn_forward(net, t->xb, B, true, &t->drop_rng);
		nn_zero_grad(net);
		double bl = nn_backward(net, t->xb, t->yb, B, &correct);
		for (int l = 0; l < net->n_layers; l++)
			gsum[l] += l2norm(net->layer[l].dw,
					  (size_t)net->layer[l].n_out * net->layer[l].n_in);
		opt_step(&t->opt, net->params, net->grads, lr);
		loss += bl;
		seen += (size_t)B;
		steps++;
		if (!isfinite(bl)) {
			es->diverged = true;
			break;
		}
		if (t->stop && *t->stop)
			return -EINTR;
	}
	es->loss = seen ? loss / (double)seen : NAN;
	es->acc = seen ? (double)correct / (double)seen : 0.0;
	for (int l = 0; l < net->n_layers; l++)
		es->grad_norm[l] = steps ? gsum[l] / (double)steps : 0.0;
	return 0;
}

static double
objective_value(const struct params *p, const struct epoch_stats *es, double vl, double va)
{
	switch (p->objective) {
	case OBJ_VAL_LOSS:
		return vl;
	case OBJ_TRAIN_LOSS:
		return es->loss;
	case OBJ_TRAIN_ACC:
		return es->acc;
	default:
		return va;
	}
}

static void
save_best(struct trainer *t)
{
	memcpy(t->best_params, t->net.params, t->net.n_params * sizeof(float));
	memcpy(t->best_stats, t->net.stats, t->net.n_stats * sizeof(float));
}

static void
restore_best(struct trainer *t)
{
	memcpy(t->net.params, t->best_params, t->net.n_params * sizeof(float));
	memcpy(t->net.stats, t->best_stats, t->net.n_stats * sizeof(float));
}

static int
report_epoch(int fd, int epoch, const struct epoch_stats *es, double vl, double va, double lr,
	     double secs, int n_layers)
{
	char line[2048];
	struct emit_epoch e = {
		.epoch = epoch, .train_loss = es->loss, .train_acc = es->acc,
		.val_loss = vl, .val_acc = va, .lr = lr, .seconds = secs,
		.grad_norm = es->grad_norm, .n_grad_norm = n_layers,
	};
	int n = emit_format_epoch(line, sizeof(line), &e);

	return n < 0 ? n : emit_write(fd, line, (size_t)n);
}

/* The trainer's state as trainckpt.c saves and loads it. */
static void
trainer_view(struct trainer *t, struct tck_view *v)
{
	*v = (struct tck_view){
		.params_text = t->ck->params_text ? t->ck->params_text : "", .seed = t->seed,
		.n_params = t->net.n_params, .n_stats = t->net.n_stats, .n_train = t->d->train.n,
		.params = t->net.params, .stats = t->net.stats, .best_params = t->best_params,
		.best_stats = t->best_stats, .opt_m = t->opt.m, .opt_v = t->opt.v,
		.opt_step = &t->opt.step,
		.rng = { &t->order_rng, &t->drop_rng, &t->aug_rng, &t->init_rng },
		.order = t->order, .book = &t->book,
	};
}

static void
write_best(struct trainer *t, struct tck_view *v)
{
	char err[1024];

	if (tck_save_best(t->ck->dir, t->book.best_epoch, v, err, sizeof(err)) < 0)
		fprintf(stderr, "sweep-worker: best weights not written (none are kept): %s\n",
			err);
}

/* The first epoch to train: K + 1 when resuming from checkpoint K works,
 * else 1, after removing what another run left in the trial dir. A
 * refused checkpoint copies nothing (tck_load), so the trainer is still
 * its freshly seeded self. */
static int
trainer_start(struct trainer *t)
{
	const struct train_ckpt *ck = t->ck;
	struct tck_view v;
	char err[1024];

	if (!ck || !ck->dir)
		return 1;
	if (ck->resume_epoch > 0) {
		trainer_view(t, &v);
		if (tck_load(ck->dir, ck->resume_epoch, &v, err, sizeof(err)) == 0) {
			fprintf(stderr, "sweep-worker: resuming after epoch %d from its checkpoint "
				"in %s\n", ck->resume_epoch, ck->dir);
			tck_clear(ck->dir, ck->resume_epoch);
			if (t->book.best_epoch > 0)
				write_best(t, &v);
			return ck->resume_epoch + 1;
		}
		fprintf(stderr, "sweep-worker: cannot resume after epoch %d: %s; starting over "
			"from epoch 1\n", ck->resume_epoch, err);
	}
	tck_clear(ck->dir, 0);
	return 1;
}

/* After epoch's bookkeeping, before its report line: the checkpoint, and
 * the best weights when the epoch improved. A failed write is reported and
 * training goes on (the run's curve matters more than its checkpoint). */
static void
trainer_checkpoint(struct trainer *t, int epoch, bool improved)
{
	struct tck_view v;
	char err[1024];

	if (!t->ck || !t->ck->dir)
		return;
	double t0 = now_s();
	trainer_view(t, &v);
	if (tck_save(t->ck->dir, epoch, &v, err, sizeof(err)) < 0)
		fprintf(stderr, "sweep-worker: checkpoint of epoch %d not written: %s\n", epoch,
			err);
	else
		t->ckpt_writes++;
	if (improved)
		write_best(t, &v);
	t->ckpt_seconds += now_s() - t0;
}

/* Early-stopping bookkeeping of one epoch; true when it is the best so far. */
static bool
track_best(struct trainer *t, int epoch, const struct epoch_stats *es, double vl, double va)
{
	const struct params *p = t->p;
	struct tck_book *b = &t->book;
	double obj = objective_value(p, es, vl, va);
	bool better = params_objective_max(p) ? obj > b->best + p->min_delta
					      : obj < b->best - p->min_delta;

	b->epochs_run = epoch;
	/* the first finite epoch always counts, whatever min_delta says */
	if (isfinite(obj) && (better || b->best_epoch == 0)) {
		b->best = obj;
		b->best_epoch = epoch;
		b->since_best = 0;
		save_best(t);
		better = true;
	} else {
		b->since_best++;
		better = false;
	}
	if (es->diverged || !isfinite(vl))
		b->stopped = TCK_DIVERGED;
	else if (p->patience > 0 && b->since_best >= p->patience)
		b->stopped = TCK_PATIENCE;
	return better;
}

static int
run_epochs(struct trainer *t, int first, int report_fd)
{
	const struct params *p = t->p;
	const struct data_split *d = t->d;
	int rc;

	for (int epoch = first; epoch <= p->epochs && t->book.stopped == TCK_RUNNING; epoch++) {
		struct epoch_stats es;
		double t0 = now_s(), lr = opt_schedule_lr(p, epoch), vl, va;

		if ((rc = train_epoch(t, (float)lr, -1, &es)) < 0)
			return rc;
		nn_evaluate(&t->net, d->val.x, d->val.y, d->val.n, &vl, &va);
		/* seconds: training and validation, not the checkpoint's write */
		double secs = now_s() - t0;
		trainer_checkpoint(t, epoch, track_best(t, epoch, &es, vl, va));
		rc = report_epoch(report_fd, epoch, &es, vl, va, lr, secs, t->net.n_layers);
		if (rc < 0)
			return rc;
		if (t->book.stopped == TCK_DIVERGED)
			fprintf(stderr, "sweep-worker: loss diverged at epoch %d, stopping\n",
				epoch);
		else if (t->book.stopped == TCK_PATIENCE)
			fprintf(stderr, "sweep-worker: no improvement for %d epochs, stopping "
				"after epoch %d\n", p->patience, epoch);
	}
	return 0;
}

int
train_run_ckpt(const struct params *p, const struct data_split *d, uint64_t seed,
	       int report_fd, volatile sig_atomic_t *stop, const struct train_ckpt *ck,
	       struct train_result *res)
{
	struct trainer t;
	int first, rc;
	char line[512];

	memset(res, 0, sizeof(*res));
	if ((rc = trainer_init(&t, p, d, seed, stop)) < 0)
		return rc;
	t.ck = ck;
	first = trainer_start(&t);
	if (first == 1 && p->init == INIT_AUTOENCODER &&
	    (rc = train_pretrain(&t.net, p, &d->train, &t.init_rng, stop)) < 0)
		goto out;
	if (first == 1)
		save_best(&t);
	if ((rc = run_epochs(&t, first, report_fd)) < 0)
		goto out;
	res->epochs_run = t.book.epochs_run;
	res->diverged = t.book.stopped == TCK_DIVERGED;
	res->best_epoch = t.book.best_epoch;
	res->ckpt_writes = t.ckpt_writes;
	res->ckpt_seconds = t.ckpt_seconds;
	/* No finite epoch at all: the last weights are the ones tested. */
	if (res->best_epoch > 0)
		restore_best(&t);
	else
		res->best_epoch = res->epochs_run;
	nn_evaluate(&t.net, d->test.x, d->test.y, d->test.n, &res->test_loss, &res->test_acc);
	rc = emit_format_final(line, sizeof(line), res->best_epoch, res->test_loss,
			       res->test_acc);
	if (rc >= 0)
		rc = emit_write(report_fd, line, (size_t)rc);
out:
	trainer_free(&t);
	return rc < 0 ? rc : 0;
}

int
train_run(const struct params *p, const struct data_split *d, uint64_t seed, int report_fd,
	  volatile sig_atomic_t *stop, struct train_result *res)
{
	return train_run_ckpt(p, d, seed, report_fd, stop, NULL, res);
}

int
train_predict(const struct params *p, const struct data_split *d,
	      const struct ckpt_reader *weights, double *loss, double *acc, char *err,
	      size_t errlen)
{
	struct nn_net net;
	int rc;

	if ((rc = net_init(&net, p, d)) < 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = tck_weights_get(weights, net.params, net.n_params, net.stats, net.n_stats, err,
			     errlen);
	if (rc == 0)
		nn_evaluate(&net, d->test.x, d->test.y, d->test.n, loss, acc);
	nn_free(&net);
	return rc;
}

static double
flops_per_sample(const struct nn_net *net)
{
	double f = 0.0;
	for (int l = 0; l < net->n_layers; l++) {
		double mac = (double)net->layer[l].n_in * net->layer[l].n_out;
		/* forward, weight gradient, and input gradient except at the input */
		f += 2.0 * mac * (l ? 3.0 : 2.0);
	}
	return f;
}

int
train_bench(const struct params *p, const struct data_split *d, uint64_t seed,
	    size_t *samples, double *seconds, double *flops)
{
	struct trainer t;
	struct epoch_stats es;
	int rc;

	if ((rc = trainer_init(&t, p, d, seed, NULL)) < 0)
		return rc;
	/* a whole epoch first, so that nothing the first epoch of a run does
	 * once (first touches, BLAS buffers, caches) is in the figure; then
	 * the fastest of the timed epochs */
	train_epoch(&t, (float)p->lr, -1, &es);
	*seconds = INFINITY;
	for (int i = 0; i < BENCH_EPOCHS; i++) {
		double t0 = now_s();
		train_epoch(&t, (float)p->lr, -1, &es);
		double dt = now_s() - t0;
		if (dt < *seconds)
			*seconds = dt;
	}
	*samples = d->train.n;
	*flops = flops_per_sample(&t.net);
	trainer_free(&t);
	return 0;
}
