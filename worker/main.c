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
 * Exit status: 0 after the final line; 2 for invalid params or data (the
 * message on stderr names the param or file); 1 for internal errors; 143
 * when stopped by SIGTERM (or 130 by SIGINT).
 *
 *   sweep-worker --params-table   print the param table as JSON
 *   sweep-worker --check          validate SWEEP_PARAMS only
 *   sweep-worker --bench          time steady-state training epochs, print JSON
 */
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/data.h"
#include "worker/dcache.h"
#include "worker/emit.h"
#include "worker/params.h"
#include "worker/train.h"

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

int
main(int argc, char **argv)
{
	struct params p;
	struct data_split d = { 0 };
	struct train_result res;
	struct dcache_info ci;
	char err[1024];
	uint64_t seed;
	int fd, rc, status = 1;
	bool check = false, bench_mode = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--params-table") == 0)
			return print_table();
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (strcmp(argv[i], "--bench") == 0)
			bench_mode = true;
		else {
			fprintf(stderr, "usage: SWEEP_PARAMS='{...}' %s [--check | --params-table"
				" | --bench]\n", argv[0]);
			return EXIT_INVALID;
		}
	}
	openblas_set_num_threads(1);
	if (params_parse(&p, getenv("SWEEP_PARAMS"), err, sizeof(err)) < 0) {
		fprintf(stderr, "sweep-worker: %s\n", err);
		return EXIT_INVALID;
	}
	if (env_seed(&seed) < 0)
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
	rc = dcache_prepare(&d, &p, seed, getenv("SWEEP_DATA_CACHE"), &ci, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sweep-worker: %s\n", err);
		return rc == -ENOMEM ? 1 : EXIT_INVALID;
	}
	describe_cache(&ci);
	if (stop_signal)
		goto out;
	describe(&p, &d, seed);
	if (bench_mode) {
		status = bench(&p, &d, seed);
		goto out;
	}
	rc = train_run(&p, &d, seed, fd, &stop_signal, &res);
	if (rc == -EINTR)
		goto out;
	if (rc < 0) {
		fprintf(stderr, "sweep-worker: %s\n", rc == -ENOMEM ? "out of memory"
			: strerror(-rc));
		goto out;
	}
	fprintf(stderr, "sweep-worker: done: best epoch %d, test loss %.4f, test acc %.4f%s\n",
		res.best_epoch, res.test_loss, res.test_acc, res.diverged ? " (diverged)" : "");
	status = 0;
out:
	data_split_free(&d);
	if (stop_signal) {
		fprintf(stderr, "sweep-worker: stopped by signal %d\n", (int)stop_signal);
		status = 128 + (int)stop_signal;
	}
	return status;
}
