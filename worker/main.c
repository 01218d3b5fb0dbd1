/*
 * main.c: sweep-worker, the built-in trainer.
 *
 * Runs one trial under the report protocol of docs/DESIGN.md:
 *   SWEEP_PARAMS     JSON object of params (trial params + trainer options)
 *   SWEEP_SEED       uint64, the only source of randomness (default 0)
 *   SWEEP_REPORT_FD  where report lines go (default: stdout, each line
 *                    prefixed with "SWEEP ")
 *   SWEEP_DATA_CACHE directory of prepared-split caches (dcache.h); unset
 *                    or empty: every run prepares its data from the files
 *   SWEEP_TRIAL_DIR  the trial's directory: a checkpoint after every epoch
 *                    and the best weights go there (trainckpt.h); unset or
 *                    empty: nothing is written
 *   SWEEP_RESUME=1, SWEEP_RESUME_EPOCH=K  resume after epoch K from its
 *                    checkpoint, reporting from K + 1 (else start over)
 * Exit status: 0 after the final line; 2 for invalid params or data (the
 * message on stderr names the param or file); 1 for internal errors; 143
 * when stopped by SIGTERM (or 130 by SIGINT).
 *
 *   sweep-worker --params-table   print the param table as JSON
 *   sweep-worker --check          validate SWEEP_PARAMS only
 *   sweep-worker --bench          time steady-state training epochs, print JSON
 *   sweep-worker --predict FILE   test-set loss and accuracy of a best.weights
 *                                 file (its own params and seed), as JSON
 */
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/data.h"
#include "worker/dcache.h"
#include "worker/emit.h"
#include "worker/params.h"
#include "worker/train.h"
#include "worker/trainckpt.h"

#define EXIT_INVALID 2

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	/* a vanished reader shows up as EPIPE from write(), not as death */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int
env_seed(uint64_t *seed)
{
	const char *s = getenv("SWEEP_SEED");
	char *end;

	*seed = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || *s == '-') {
		fprintf(stderr, "sweep-worker: SWEEP_SEED: '%s' is not an unsigned 64-bit "
			"integer\n", s);
		return -EINVAL;
	}
	*seed = (uint64_t)v;
	return 0;
}

static int
env_report_fd(int *fd)
{
	const char *s = getenv("SWEEP_REPORT_FD");
	char *end;

	*fd = STDOUT_FILENO;
	/* no report pipe (by hand, or under srun: fd 3 does not reach the
	 * node): stdout, with the prefix the daemon looks for there */
	if (!s || !*s)
		return emit_set_prefix("SWEEP ");
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535 || fcntl((int)v, F_GETFD) < 0) {
		fprintf(stderr, "sweep-worker: SWEEP_REPORT_FD: '%s' is not an open file "
			"descriptor\n", s);
		return -EINVAL;
	}
	*fd = (int)v;
	return 0;
}

/* SWEEP_TRIAL_DIR, SWEEP_RESUME and SWEEP_RESUME_EPOCH (docs/DESIGN.md):
 * the daemon sets the last two together or not at all. */
static int
env_ckpt(struct train_ckpt *ck)
{
	const char *dir = getenv("SWEEP_TRIAL_DIR"), *res = getenv("SWEEP_RESUME");
	const char *ep = getenv("SWEEP_RESUME_EPOCH");
	struct stat st;
	char *end;

	*ck = (struct train_ckpt){ .params_text = getenv("SWEEP_PARAMS") };
	if (dir && *dir) {
		const char *why = stat(dir, &st) < 0 ? strerror(errno)
				  : !S_ISDIR(st.st_mode) ? "not a directory" : NULL;
		if (why) {
			fprintf(stderr, "sweep-worker: SWEEP_TRIAL_DIR: '%s': %s\n", dir, why);
			return -EINVAL;
		}
		ck->dir = dir;
	}
	if (!res || !*res) {
		if (ep && *ep) {
			fprintf(stderr, "sweep-worker: SWEEP_RESUME_EPOCH is '%s' but SWEEP_RESUME "
				"is not set: set SWEEP_RESUME=1 too, or neither\n", ep);
			return -EINVAL;
		}
		return 0;
	}
	errno = 0;
	long k = ep ? strtol(ep, &end, 10) : 0;
	if (strcmp(res, "1") != 0 || !ep || errno || *end || end == ep || k < 1 ||
	    k > 1000000000) {
		fprintf(stderr, "sweep-worker: SWEEP_RESUME='%s', SWEEP_RESUME_EPOCH='%s': "
			"resuming needs SWEEP_RESUME=1 and SWEEP_RESUME_EPOCH an epoch from 1 "
			"to 1000000000\n", res, ep ? ep : "(unset)");
		return -EINVAL;
	}
	ck->resume_epoch = (int)k;
	if (!ck->dir)
		fprintf(stderr, "sweep-worker: SWEEP_RESUME=1 without SWEEP_TRIAL_DIR: no "
			"checkpoint to resume from, starting over from epoch 1\n");
	return 0;
}

static int
print_table(void)
{
	char *t = params_table_json();

	if (!t) {
		fprintf(stderr, "sweep-worker: out of memory\n");
		return 1;
	}
	printf("%s\n", t);
	free(t);
	return 0;
}

static void
describe(const struct params *p, const struct data_split *d, uint64_t seed)
{
	fprintf(stderr, "sweep-worker: %s: %zu train / %zu val / %zu test, %d", p->dataset,
		d->train.n, d->val.n, d->test.n, d->train.d);
	for (int i = 0; i < p->hidden.n; i++)
		fprintf(stderr, "-%d", p->hidden.v[i]);
	fprintf(stderr, "-%d %s%s, %s lr %g, batch %d, %d epochs, seed %" PRIu64 "\n",
		d->n_classes, params_enum_name("activation", p->activation),
		p->batchnorm ? " +bn" : "", params_enum_name("optimizer", p->optimizer), p->lr,
		p->batch_size, p->epochs, seed);
}

/* One line when the cache was not simply used: where it went, and why. */
static void
describe_cache(const struct dcache_info *ci)
{
	static const char *const what[] = {
		[DCACHE_BUILT] = "written", [DCACHE_REBUILT] = "rebuilt",
		[DCACHE_UNWRITABLE] = "not written, trained without it",
	};

	if (ci->result == DCACHE_OFF || ci->result == DCACHE_HIT)
		return;
	fprintf(stderr, "sweep-worker: data cache %s: %s%s%s\n", ci->path, what[ci->result],
		*ci->why ? ": " : "", ci->why);
}

static int
bench(const struct params *p, const struct data_split *d, uint64_t seed)
{
	size_t samples;
	double secs, flops;

	if (train_bench(p, d, seed, &samples, &secs, &flops) < 0) {
		fprintf(stderr, "sweep-worker: out of memory\n");
		return 1;
	}
	printf("{\"samples\":%zu,\"seconds\":%.6f,\"samples_per_s\":%.1f,"
	       "\"flops_per_sample\":%.0f,\"gflops\":%.3f}\n", samples, secs, samples / secs,
	       flops, flops * samples / secs * 1e-9);
	return 0;
}

/* --predict FILE: the test set through a weights file's net, with the
 * params and seed stored in it (SWEEP_PARAMS is not read). */
static int
predict(const char *path)
{
	struct ckpt_reader r;
	struct params p;
	struct data_split d = { 0 };
	struct dcache_info ci;
	char err[1024], loss[32], acc[32], *ptext = NULL;
	uint64_t seed;
	double tl, ta;
	int epoch, rc, status = EXIT_INVALID;

	if (tck_weights_open(&r, path, &ptext, &seed, &epoch, err, sizeof(err)) < 0) {
		fprintf(stderr, "sweep-worker: --predict: %s\n", err);
		return EXIT_INVALID;
	}
	if (params_parse(&p, ptext, err, sizeof(err)) < 0) {
		fprintf(stderr, "sweep-worker: --predict: %s: its params: %s\n", path, err);
		goto out;
	}
	rc = dcache_prepare(&d, &p, seed, getenv("SWEEP_DATA_CACHE"), &ci, err, sizeof(err));
	if (rc == 0) {
		describe_cache(&ci);
		rc = train_predict(&p, &d, &r, &tl, &ta, err, sizeof(err));
	}
	if (rc < 0) {
		fprintf(stderr, "sweep-worker: --predict: %s: %s\n", path, err);
		status = rc == -ENOMEM ? 1 : EXIT_INVALID;
		goto out;
	}
	emit_number(loss, sizeof(loss), tl);
	emit_number(acc, sizeof(acc), ta);
	printf("{\"best_epoch\":%d,\"test_loss\":%s,\"test_acc\":%s,\"test_samples\":%zu}\n",
	       epoch, loss, acc, d.test.n);
	status = 0;
out:
	data_split_free(&d);
	ckpt_reader_free(&r);
	free(ptext);
	return status;
}

/* Prepare the data and train (or --bench); the exit status. */
static int
run(const struct params *p, uint64_t seed, int fd, const struct train_ckpt *ck, bool bench_mode)
{
	struct data_split d = { 0 };
	struct train_result res;
	struct dcache_info ci;
	char err[1024];
	int rc, status = 1;

	rc = dcache_prepare(&d, p, seed, getenv("SWEEP_DATA_CACHE"), &ci, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sweep-worker: %s\n", err);
		return rc == -ENOMEM ? 1 : EXIT_INVALID;
	}
	describe_cache(&ci);
	if (stop_signal)
		goto out;
	describe(p, &d, seed);
	if (bench_mode) {
		status = bench(p, &d, seed);
		goto out;
	}
	rc = train_run_ckpt(p, &d, seed, fd, &stop_signal, ck, &res);
	if (rc == -EINTR)
		goto out;
	if (rc < 0) {
		fprintf(stderr, "sweep-worker: %s\n", rc == -ENOMEM ? "out of memory"
			: strerror(-rc));
		goto out;
	}
	fprintf(stderr, "sweep-worker: done: best epoch %d, test loss %.4f, test acc %.4f%s\n",
		res.best_epoch, res.test_loss, res.test_acc, res.diverged ? " (diverged)" : "");
	if (ck->dir)
		fprintf(stderr, "sweep-worker: %d checkpoints written in %s, %.1f ms each with "
			"best.weights\n", res.ckpt_writes, ck->dir,
			res.ckpt_writes ? 1e3 * res.ckpt_seconds / res.ckpt_writes : 0.0);
	status = 0;
out:
	data_split_free(&d);
	return status;
}

int
main(int argc, char **argv)
{
	struct params p;
	struct train_ckpt ck;
	char err[1024];
	uint64_t seed;
	int fd, status;
	bool check = false, bench_mode = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--params-table") == 0)
			return print_table();
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (strcmp(argv[i], "--bench") == 0)
			bench_mode = true;
		else if (strcmp(argv[i], "--predict") == 0 && i + 1 < argc && argc == 3) {
			openblas_set_num_threads(1);
			return predict(argv[i + 1]);
		} else {
			fprintf(stderr, "usage: SWEEP_PARAMS='{...}' %s [--check | --params-table"
				" | --bench]\n       %s --predict best.weights\n", argv[0],
				argv[0]);
			return EXIT_INVALID;
		}
	}
	openblas_set_num_threads(1);
	if (params_parse(&p, getenv("SWEEP_PARAMS"), err, sizeof(err)) < 0) {
		fprintf(stderr, "sweep-worker: %s\n", err);
		return EXIT_INVALID;
	}
	if (env_seed(&seed) < 0 || env_ckpt(&ck) < 0)
		return EXIT_INVALID;
	/* --check validates params only: the report fd belongs to a real run */
	if (check)
		return 0;
	if (env_report_fd(&fd) < 0)
		return EXIT_INVALID;
	if (install_signals() < 0) {
		perror("sweep-worker: sigaction");
		return 1;
	}
	status = run(&p, seed, fd, &ck, bench_mode);
	if (stop_signal) {
		fprintf(stderr, "sweep-worker: stopped by signal %d\n", (int)stop_signal);
		status = 128 + (int)stop_signal;
	}
	return status;
}
