/*
 * test_real.c: the one Fashion-MNIST test: the chapter's BNNet
 * (784-48-BN-ReLU-24-BN-ReLU-10, Adam 1e-3, batch 128) trained for 2
 * epochs must pass 0.83 validation accuracy. Skipped when the data set
 * (Debian's dataset-fashion-mnist) is not installed.
 */
#include <cJSON.h>
#include <cblas.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/harness.h"
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

int
main(void)
{
	openblas_set_num_threads(1);
	RUN(bnnet_two_epochs_pass_083_val_acc);
	return harness_done();
}
