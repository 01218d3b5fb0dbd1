/*
 * trainckpt.c: the trainer's checkpoints and best weights (trainckpt.h).
 */
#include "worker/trainckpt.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_PARM CKPT_TAG('P', 'A', 'R', 'M')
#define T_SEED CKPT_TAG('S', 'E', 'E', 'D')
#define T_SHAP CKPT_TAG('S', 'H', 'A', 'P')
#define T_EPOC CKPT_TAG('E', 'P', 'O', 'C')
#define T_WGHT CKPT_TAG('W', 'G', 'H', 'T')
#define T_BNST CKPT_TAG('B', 'N', 'S', 'T')
#define T_BWGT CKPT_TAG('B', 'W', 'G', 'T')
#define T_BBNS CKPT_TAG('B', 'B', 'N', 'S')
#define T_OPTM CKPT_TAG('O', 'P', 'T', 'M')
#define T_OPTV CKPT_TAG('O', 'P', 'T', 'V')
#define T_OSTP CKPT_TAG('O', 'S', 'T', 'P')
#define T_RNGS CKPT_TAG('R', 'N', 'G', 'S')
#define T_ORDR CKPT_TAG('O', 'R', 'D', 'R')
#define T_BOOK CKPT_TAG('B', 'O', 'O', 'K')
#define T_BOBJ CKPT_TAG('B', 'O', 'B', 'J')

#define STATE_PREFIX "checkpoint-"
#define RNG_WORDS (TCK_N_RNG * 4)

/* Scalars and small arrays of a checkpoint, gathered for ckpt_put. */
struct scalars {
	uint64_t seed, shape[3], epoch, step, rngs[RNG_WORDS], book[4];
	double best;
};

static int
state_path(char *out, size_t len, const char *dir, int epoch)
{
	int n = snprintf(out, len, "%s/" STATE_PREFIX "%d", dir, epoch);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void
gather(struct scalars *s, int epoch, const struct tck_view *v)
{
	s->seed = v->seed;
	s->shape[0] = v->n_params;
	s->shape[1] = v->n_stats;
	s->shape[2] = v->n_train;
	s->epoch = (uint64_t)epoch;
	s->step = (uint64_t)*v->opt_step;
	for (int i = 0; i < TCK_N_RNG; i++)
		memcpy(s->rngs + 4 * i, v->rng[i]->s, sizeof(v->rng[i]->s));
	s->book[0] = (uint64_t)v->book->best_epoch;
	s->book[1] = (uint64_t)v->book->since_best;
	s->book[2] = (uint64_t)v->book->epochs_run;
	s->book[3] = (uint64_t)v->book->stopped;
	s->best = v->book->best;
}

int
tck_save(const char *dir, int epoch, const struct tck_view *v, char *err, size_t errlen)
{
	struct ckpt_writer w;
	struct scalars s;
	char path[PATH_MAX];
	int rc;

	if (state_path(path, sizeof(path), dir, epoch) < 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	gather(&s, epoch, v);
	ckpt_writer_init(&w);
	ckpt_put(&w, T_PARM, 1, strlen(v->params_text), v->params_text);
	ckpt_put(&w, T_SEED, 8, 1, &s.seed);
	ckpt_put(&w, T_SHAP, 8, 3, s.shape);
	ckpt_put(&w, T_EPOC, 8, 1, &s.epoch);
	ckpt_put(&w, T_WGHT, 4, v->n_params, v->params);
	ckpt_put(&w, T_BNST, 4, v->n_stats, v->stats);
	ckpt_put(&w, T_BWGT, 4, v->n_params, v->best_params);
	ckpt_put(&w, T_BBNS, 4, v->n_stats, v->best_stats);
	ckpt_put(&w, T_OPTM, 4, v->n_params, v->opt_m);
	ckpt_put(&w, T_OPTV, 4, v->n_params, v->opt_v);
	ckpt_put(&w, T_OSTP, 8, 1, &s.step);
	ckpt_put(&w, T_RNGS, 8, RNG_WORDS, s.rngs);
	ckpt_put(&w, T_ORDR, 4, v->n_train, v->order);
	ckpt_put(&w, T_BOOK, 8, 4, s.book);
	ckpt_put(&w, T_BOBJ, 8, 1, &s.best);
	if ((rc = ckpt_write(&w, CKPT_KIND_STATE, path, err, errlen)) < 0)
		return rc;
	if (epoch > TCK_KEEP && state_path(path, sizeof(path), dir, epoch - TCK_KEEP) == 0)
		unlink(path);
	return 0;
}

int
tck_save_best(const char *dir, int best_epoch, const struct tck_view *v, char *err,
	      size_t errlen)
{
	struct ckpt_writer w;
	uint64_t seed = v->seed, shape[2] = { v->n_params, v->n_stats };
	uint64_t epoch = (uint64_t)best_epoch;
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/" TCK_BEST_NAME, dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	ckpt_writer_init(&w);
	ckpt_put(&w, T_PARM, 1, strlen(v->params_text), v->params_text);
	ckpt_put(&w, T_SEED, 8, 1, &seed);
	ckpt_put(&w, T_SHAP, 8, 2, shape);
	ckpt_put(&w, T_EPOC, 8, 1, &epoch);
	ckpt_put(&w, T_WGHT, 4, v->n_params, v->best_params);
	ckpt_put(&w, T_BNST, 4, v->n_stats, v->best_stats);
	rc = ckpt_write(&w, CKPT_KIND_WEIGHTS, path, err, errlen);
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Field tag must hold exactly count elements of elem bytes. */
static int
need(const struct ckpt_reader *r, uint32_t tag, uint32_t elem, uint64_t count, char *err,
     size_t errlen)
{
	const struct ckpt_field *f = ckpt_find(r, tag);

	if (f && f->elem == elem && f->count == count)
		return 0;
	/* a mismatch: ckpt_get refuses it with a message naming the tag and
	 * copies nothing */
	return ckpt_get(r, tag, elem, count, NULL, err, errlen);
}

/* Everything the state needs, of the sizes v has, before a byte is copied. */
static int
check_state(const struct ckpt_reader *r, int epoch, const struct tck_view *v, char *err,
	    size_t errlen)
{
	const struct ckpt_field *pt = ckpt_find(r, T_PARM);
	uint64_t seed, shape[3], e;
	size_t plen = strlen(v->params_text);
	int rc;

	if (!pt || pt->elem != 1 || pt->count != plen || memcmp(pt->data, v->params_text, plen)) {
		snprintf(err, errlen, "it was written for other params (SWEEP_PARAMS differs)");
		return -EINVAL;
	}
	if ((rc = ckpt_get(r, T_SEED, 8, 1, &seed, err, errlen)) < 0 ||
	    (rc = ckpt_get(r, T_SHAP, 8, 3, shape, err, errlen)) < 0 ||
	    (rc = ckpt_get(r, T_EPOC, 8, 1, &e, err, errlen)) < 0)
		return rc;
	if (seed != v->seed || e != (uint64_t)epoch || shape[0] != v->n_params ||
	    shape[1] != v->n_stats || shape[2] != v->n_train) {
		snprintf(err, errlen, "it holds epoch %llu of seed %llu with %llu params, %llu "
			 "stats, %llu training samples; this run is epoch %d of seed %llu with "
			 "%zu, %zu, %zu", (unsigned long long)e, (unsigned long long)seed,
			 (unsigned long long)shape[0], (unsigned long long)shape[1],
			 (unsigned long long)shape[2], epoch, (unsigned long long)v->seed,
			 v->n_params, v->n_stats, v->n_train);
		return -EINVAL;
	}
	static const uint32_t per_param[] = { T_WGHT, T_BWGT, T_OPTM, T_OPTV };
	for (size_t i = 0; i < sizeof(per_param) / sizeof(*per_param); i++)
		if ((rc = need(r, per_param[i], 4, v->n_params, err, errlen)) < 0)
			return rc;
	if ((rc = need(r, T_BNST, 4, v->n_stats, err, errlen)) < 0 ||
	    (rc = need(r, T_BBNS, 4, v->n_stats, err, errlen)) < 0 ||
	    (rc = need(r, T_OSTP, 8, 1, err, errlen)) < 0 ||
	    (rc = need(r, T_RNGS, 8, RNG_WORDS, err, errlen)) < 0 ||
	    (rc = need(r, T_ORDR, 4, v->n_train, err, errlen)) < 0 ||
	    (rc = need(r, T_BOOK, 8, 4, err, errlen)) < 0 ||
	    (rc = need(r, T_BOBJ, 8, 1, err, errlen)) < 0)
		return rc;
	return 0;
}

/* Copy a checked state into v (check_state passed: ckpt_get cannot fail). */
static void
copy_state(const struct ckpt_reader *r, struct tck_view *v)
{
	struct scalars s;
	char err[8];

	ckpt_get(r, T_WGHT, 4, v->n_params, v->params, err, sizeof(err));
	ckpt_get(r, T_BNST, 4, v->n_stats, v->stats, err, sizeof(err));
	ckpt_get(r, T_BWGT, 4, v->n_params, v->best_params, err, sizeof(err));
	ckpt_get(r, T_BBNS, 4, v->n_stats, v->best_stats, err, sizeof(err));
	ckpt_get(r, T_OPTM, 4, v->n_params, v->opt_m, err, sizeof(err));
	ckpt_get(r, T_OPTV, 4, v->n_params, v->opt_v, err, sizeof(err));
	ckpt_get(r, T_ORDR, 4, v->n_train, v->order, err, sizeof(err));
	ckpt_get(r, T_OSTP, 8, 1, &s.step, err, sizeof(err));
	ckpt_get(r, T_RNGS, 8, RNG_WORDS, s.rngs, err, sizeof(err));
	ckpt_get(r, T_BOOK, 8, 4, s.book, err, sizeof(err));
	ckpt_get(r, T_BOBJ, 8, 1, &s.best, err, sizeof(err));
	*v->opt_step = (long)s.step;
	for (int i = 0; i < TCK_N_RNG; i++)
		memcpy(v->rng[i]->s, s.rngs + 4 * i, sizeof(v->rng[i]->s));
	v->book->best_epoch = (int)s.book[0];
	v->book->since_best = (int)s.book[1];
	v->book->epochs_run = (int)s.book[2];
	v->book->stopped = (int)s.book[3];
	v->book->best = s.best;
}

int
tck_load(const char *dir, int epoch, struct tck_view *v, char *err, size_t errlen)
{
	struct ckpt_reader r;
	char path[PATH_MAX], why[512];
	int rc;

	if (state_path(path, sizeof(path), dir, epoch) < 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if ((rc = ckpt_read(&r, path, CKPT_KIND_STATE, err, errlen)) < 0)
		return rc;
	rc = check_state(&r, epoch, v, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	else
		copy_state(&r, v);
	ckpt_reader_free(&r);
	return rc;
}

void
tck_clear(const char *dir, int after)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *num = e->d_name + strlen(STATE_PREFIX);
		char *end;
		if (strncmp(e->d_name, STATE_PREFIX, strlen(STATE_PREFIX)) != 0 ||
		    *num < '1' || *num > '9')
			continue;
		long n = strtol(num, &end, 10);
		/* checkpoint-N and its temp file checkpoint-N.tmp */
		if ((*end && strcmp(end, ".tmp") != 0) || n <= after)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	if (after == 0 && snprintf(path, sizeof(path), "%s/" TCK_BEST_NAME, dir) <
	    (int)sizeof(path))
		unlink(path);
}

int
tck_weights_open(struct ckpt_reader *r, const char *path, char **params_text,
		 uint64_t *seed, int *best_epoch, char *err, size_t errlen)
{
	const struct ckpt_field *pt;
	uint64_t e;
	char why[512];
	int rc;

	*params_text = NULL;
	if ((rc = ckpt_read(r, path, CKPT_KIND_WEIGHTS, err, errlen)) < 0)
		return rc;
	pt = ckpt_find(r, T_PARM);
	if (!pt || pt->elem != 1 || memchr(pt->data, '\0', (size_t)pt->count)) {
		snprintf(why, sizeof(why), "field 'PARM' is missing or not text");
		rc = -EINVAL;
	} else if ((rc = ckpt_get(r, T_SEED, 8, 1, seed, why, sizeof(why))) == 0 &&
		   (rc = ckpt_get(r, T_EPOC, 8, 1, &e, why, sizeof(why))) == 0) {
		*params_text = strndup(pt->data, (size_t)pt->count);
		*best_epoch = (int)e;
		if (!*params_text) {
			snprintf(why, sizeof(why), "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		ckpt_reader_free(r);
	}
	return rc;
}

int
tck_weights_get(const struct ckpt_reader *r, float *params, size_t n_params, float *stats,
		size_t n_stats, char *err, size_t errlen)
{
	uint64_t shape[2];
	int rc;

	if ((rc = ckpt_get(r, T_SHAP, 8, 2, shape, err, errlen)) < 0)
		return rc;
	if (shape[0] != n_params || shape[1] != n_stats) {
		snprintf(err, errlen, "the file holds %llu weights and %llu BatchNorm stats, the "
			 "net its params build has %zu and %zu", (unsigned long long)shape[0],
			 (unsigned long long)shape[1], n_params, n_stats);
		return -EINVAL;
	}
	if ((rc = ckpt_get(r, T_WGHT, 4, n_params, params, err, errlen)) < 0 ||
	    (rc = ckpt_get(r, T_BNST, 4, n_stats, stats, err, errlen)) < 0)
		return rc;
	return 0;
}
