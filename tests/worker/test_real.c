/*
 * test_real.c: the one Fashion-MNIST test: the chapter's BNNet
 * (784-48-BN-ReLU-24-BN-ReLU-10, Adam 1e-3, batch 128) trained for 2
 * epochs must pass 0.83 validation accuracy; and the same curve, bit for
 * bit, from the data cache as from the files. Skipped when the data set
 * (Debian's dataset-fashion-mnist) is not installed.
 */
#include <cJSON.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "worker/dcache.h"
#include "worker/train.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

static void
bnnet_two_epochs_pass_083_val_acc(void)
{
	struct params p;
	struct data_split d;
	struct train_result res;
	char err[1024], buf[4096];
	FILE *f;

	if (access(FMNIST, R_OK) != 0) {
		SKIP("Fashion-MNIST not installed (" FMNIST ")");
		return;
	}
	CHECK(params_parse(&p, "{\"hidden\":[48,24],\"batchnorm\":true,\"epochs\":2,"
			   "\"optimizer\":\"adam\",\"lr\":0.001,\"batch_size\":128}",
			   err, sizeof(err)) == 0);
	CHECK(data_prepare(&d, &p, 0, err, sizeof(err)) == 0);
	CHECK(d.train.n == 50000 && d.val.n == 10000 && d.test.n == 10000);
	CHECK(d.n_classes == 10 && d.train.d == 784);
	f = tmpfile();
	CHECK(train_run(&p, &d, 0, fileno(f), NULL, &res) == 0);
	rewind(f);
	double val_acc = 0;
	int lines = 0;
	while (fgets(buf, sizeof(buf), f)) {
		cJSON *o = cJSON_Parse(buf);
		const cJSON *v = cJSON_GetObjectItem(o, "val_acc");
		if (cJSON_IsNumber(v))
			val_acc = v->valuedouble;
		printf("# %s", buf);
		lines++;
		cJSON_Delete(o);
	}
	fclose(f);
	CHECK(lines == 3);
	CHECK_MSG(val_acc > 0.83, "val_acc %g", val_acc);
	CHECK(res.test_acc > 0.8);
	data_split_free(&d);
}

/* The report of one run, "seconds" (wall time) dropped from every line,
 * the other fields exactly as printed; malloc'd. */
static char *
report_of(const struct params *p, const struct data_split *d)
{
	struct train_result res;
	char line[4096];
	size_t len = 0;
	char *out = calloc(1, 1);
	FILE *f = tmpfile();

	CHECK(train_run(p, d, 7, fileno(f), NULL, &res) == 0);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		cJSON *o = cJSON_Parse(line);
		cJSON_DeleteItemFromObject(o, "seconds");
		char *t = cJSON_PrintUnformatted(o);
		out = realloc(out, len + strlen(t) + 2);
		len += (size_t)sprintf(out + len, "%s\n", t);
		free(t);
		cJSON_Delete(o);
	}
	fclose(f);
	return out;
}

static bool
same_set(const struct data_set *a, const struct data_set *b)
{
	return a->n == b->n && a->d == b->d && a->rows == b->rows && a->cols == b->cols &&
	       memcmp(a->x, b->x, a->n * (size_t)a->d * sizeof(float)) == 0 &&
	       memcmp(a->y, b->y, a->n * sizeof(int32_t)) == 0;
}

static void
cached_split_trains_the_same_curve(void)
{
	struct params p;
	struct data_split plain, built, hit;
	struct dcache_info ci;
	char err[1024], cache[] = "/tmp/sweep-worker-cache-XXXXXX";

	if (access(FMNIST, R_OK) != 0) {
		SKIP("Fashion-MNIST not installed (" FMNIST ")");
		return;
	}
	CHECK(mkdtemp(cache) != NULL);
	CHECK(params_parse(&p, "{\"hidden\":[48,24],\"batchnorm\":true,\"epochs\":2,"
			   "\"dropout\":0.1,\"batch_size\":64,\"train_fraction\":0.2}",
			   err, sizeof(err)) == 0);
	CHECK(data_prepare(&plain, &p, 7, err, sizeof(err)) == 0);
	CHECK(dcache_prepare(&built, &p, 7, cache, &ci, err, sizeof(err)) == 0);
	CHECK_MSG(ci.result == DCACHE_BUILT, "result %d: %s", ci.result, ci.why);
	CHECK(built.map == NULL);
	CHECK(dcache_prepare(&hit, &p, 7, cache, &ci, err, sizeof(err)) == 0);
	CHECK_MSG(ci.result == DCACHE_HIT, "result %d: %s", ci.result, ci.why);
	CHECK(hit.map != NULL);
	CHECK(same_set(&plain.train, &hit.train) && same_set(&plain.val, &hit.val) &&
	      same_set(&plain.test, &hit.test));
	CHECK(plain.n_classes == hit.n_classes && plain.fill == hit.fill);
	char *a = report_of(&p, &plain), *b = report_of(&p, &built), *c = report_of(&p, &hit);
	CHECK(strlen(a) > 100);
	CHECK_STR(a, b);
	CHECK_STR(a, c);
	free(a);
	free(b);
	free(c);
	data_split_free(&plain);
	data_split_free(&built);
	data_split_free(&hit);
	CHECK(unlink(ci.path) == 0 && rmdir(cache) == 0);
}

int
main(void)
{
	openblas_set_num_threads(1);
	RUN(bnnet_two_epochs_pass_083_val_acc);
	RUN(cached_split_trains_the_same_curve);
	return harness_done();
}
