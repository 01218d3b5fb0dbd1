/*
 * fake_trainer.c: a trainer for tests and benchmarks that speaks the report
 * protocol and misbehaves on request.
 *
 * Reports go to fd $SWEEP_REPORT_FD, or, without it, to stdout as
 * "SWEEP {...}" lines (as under srun, where fd 3 does not cross).
 *
 * SWEEP_PARAMS selects the behaviour:
 *   epochs     (int, default 5)   epochs to report
 *   sleep_ms   (int, default 0)   pause before each epoch
 *   mode       (string)           ok | segv | kill | exit3 | hang | garbage |
 *                                 huge_line | no_final | nan | pynan | flood |
 *                                 fork | close_fd3 | stdout | no_metric |
 *                                 stall | ignore_term | fail_once | peak |
 *                                 alloc | nice | noisy_stdout | escape |
 *                                 import_error | plain_stdout |
 *                                 short_no_final | garbage_first
 *                                 (noisy_stdout: reports on stdout, and
 *                                 before epoch 2's a 100,000-byte line of
 *                                 its own output in the same write;
 *                                 import_error: a Python traceback on
 *                                 stderr, exit 1 before any report;
 *                                 plain_stdout: every line, the final one
 *                                 too, on stdout without the "SWEEP "
 *                                 prefix, exit 0; short_no_final: epochs
 *                                 - 1 epochs, no final line, exit 0;
 *                                 garbage_first: a line that is not JSON
 *                                 before epoch 1, then sleep_ms)
 *   alloc_mb   (int, default 64)  mode alloc: malloc and touch this many MiB
 *                                 before epoch 1 (exit 1 with "out of
 *                                 memory" on stderr when malloc fails)
 *   keep_going (number, default 0)  1: ignore SIGPIPE and, when a report
 *                                 write fails (the daemon is gone), sit
 *                                 silent forever instead of exiting, as a
 *                                 trainer that catches BrokenPipeError
 *                                 and trains on would
 *   (mode escape: before epoch 1, a double-forked grandchild in its own
 *    session, holding fd 3, pauses forever; the trainer reports as ok.
 *    pidfile (string): the grandchild writes its pid there; clear_env 1:
 *    it then becomes /bin/sleep 600 with an empty environment; in mode
 *    hang, clear_env 1 makes the trainer itself do so at epoch 2)
 *   x          (number, default 0.5)  the objective is a smooth function of x
 *                                     (and of lr when given), so a search has
 *                                     something to find
 *   lr         (number)
 *   diverge_lr (number, default 0: never)  with lr above it, the run
 *                                     diverges as in mode nan (NaN losses
 *                                     from epoch 3 on)
 *   record     (string)  a file to which the trainer appends, as it exits
 *                        normally, one JSON line: its start and end
 *                        (CLOCK_REALTIME seconds), SWEEP_TRIAL_NUMBER,
 *                        SWEEP_SWEEP_ID, CUDA_VISIBLE_DEVICES, SWEEP_GPUS,
 *                        SWEEP_CPUS, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
 *                        MKL_NUM_THREADS and SLURM_STEP_GPUS (null when
 *                        unset) and its cgroup v2 path as "cgroup", in one
 *                        O_APPEND write
 *   epoch_list (array of numbers)  the epoch numbers to report, in order,
 *                                  instead of 1..epochs (a trainer that
 *                                  reports its global step, say)
 *   burst      (int, default 0)   1: the epoch lines are written in one
 *                                 write() after the last epoch (up to 64
 *                                 KiB of them), then the trainer sleeps
 *                                 burst_ms (default 0) before its final
 *                                 line
 *   kill_after (int, default 0)   on attempt 1 only: SIGKILL itself once
 *                                 epoch kill_after is reported (an
 *                                 interruption; a retry starts over at 1,
 *                                 whatever SWEEP_RESUME says)
 *   log_env    (number, default 0)  1: append "ATTEMPT RESUME RESUME_EPOCH
 *                                 TRIAL_DIR" (- for unset) to
 *                                 $SWEEP_TRIAL_DIR/fake.env
 * The curve is deterministic in (params, SWEEP_SEED): val_acc rises to a
 * plateau of quality(x, lr) with a little seeded noise.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

static int report_fd = 1;
static int use_prefix;
static int keep_going;
static int bursting;             /* param burst: emit() collects into burst */
static char burst[65536];
static size_t burst_len;

/* Writes n bytes of buf to the report fd; 0, or -1. */
static int
put(const char *buf, size_t n)
{
	if (write(report_fd, buf, n) == (ssize_t)n)
		return 0;
	while (keep_going)   /* the daemon is gone: train on, silently */
		pause();
	return -1;
}

/* Returns 0, or -1 when the report could not be written. */
static int
emit(const char *line)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s%s\n", use_prefix ? "SWEEP " : "", line);

	if (bursting && burst_len + (size_t)n <= sizeof burst) {
		memcpy(burst + burst_len, buf, (size_t)n);
		burst_len += (size_t)n;
		return 0;
	}
	return put(buf, (size_t)n);
}

/* Dies by sig for real. Under AddressSanitizer a handler of ASan's (SIGSEGV,
 * SIGBUS, SIGFPE) would catch it and abort instead (SIGABRT), so the default
 * action comes back first. */
static void
die_by(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double
num(const cJSON *p, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static uint64_t
mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Mode escape: a grandchild in a session of its own (so outside the
 * trial's process group), reparented away from the trainer, that keeps
 * fd 3 open and never exits. Returns 0 in the trainer, -1 if fork fails. */
static int
escape(const cJSON *p)
{
	const cJSON *pf = cJSON_GetObjectItemCaseSensitive(p, "pidfile");
	int clear_env = num(p, "clear_env", 0) != 0;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		setsid();
		if (cJSON_IsString(pf)) {
			FILE *f = fopen(pf->valuestring, "w");
			if (f) {
				fprintf(f, "%d\n", (int)getpid());
				fclose(f);
			}
		}
		if (clear_env) {   /* nothing left to tell whose it is */
			char *argv[] = { "sleep", "600", NULL }, *envp[] = { NULL };
			execve("/bin/sleep", argv, envp);
		}
		for (;;)
			pause();
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* The epoch number of the e-th line (1-based): epoch_list[e - 1] when the
 * params have one, else e. Printed with %.0f, so any number goes. */
static double
epoch_number(const cJSON *p, int e)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "epoch_list");
	const cJSON *v = cJSON_IsArray(l) ? cJSON_GetArrayItem(l, e - 1) : NULL;

	return cJSON_IsNumber(v) ? v->valuedouble : (double)e;
}

static const char *
env_or_dash(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "-";
}

/* log_env: what this attempt was given, for the test to read back. */
static void
log_env(void)
{
	const char *dir = getenv("SWEEP_TRIAL_DIR");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof path, "%s/fake.env", dir);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s %s %s %s\n", env_or_dash("SWEEP_ATTEMPT"),
		env_or_dash("SWEEP_RESUME"), env_or_dash("SWEEP_RESUME_EPOCH"),
		dir);
	fclose(f);
}

/* Mode alloc: the chunks, linked through their first bytes so that they
 * can be freed (LeakSanitizer counts a lost one as a leak). */
static void
free_chunks(void *chunk)
{
	while (chunk) {
		void *prev = *(void **)chunk;

		free(chunk);
		chunk = prev;
	}
}

/* Runs the trainer on the params p (borrowed); returns the exit status.
 * Every path leaves through out, which frees what was allocated. */
static int
train(const cJSON *p)
{
	const char *attempt_s = getenv("SWEEP_ATTEMPT");
	const char *seed_s = getenv("SWEEP_SEED");
	const char *fd = getenv("SWEEP_REPORT_FD");
	uint64_t seed = seed_s ? strtoull(seed_s, NULL, 10) : 0;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "mode");
	const char *mode = cJSON_IsString(m) ? m->valuestring : "ok";
	const cJSON *elist = cJSON_GetObjectItemCaseSensitive(p, "epoch_list");
	int epochs = cJSON_IsArray(elist) ? cJSON_GetArraySize(elist) :
		     (int)num(p, "epochs", 5);
	int sleep_ms = (int)num(p, "sleep_ms", 0);
	double x = num(p, "x", 0.5);
	double lr = num(p, "lr", 0.01);
	int diverges = num(p, "diverge_lr", 0) > 0 && lr > num(p, "diverge_lr", 0);
	void *chunks = NULL;   /* mode alloc: NULL or owned, see free_chunks */
	char *big = NULL;      /* mode huge_line: NULL or owned */
	double q;
	char line[1024];
	int rc = 0;

	bursting = num(p, "burst", 0) != 0;
	if (fd)
		report_fd = atoi(fd);
	else   /* the protocol's fallback (no fd 3 through srun, say) */
		use_prefix = 1;
	if (strcmp(mode, "stdout") == 0 || strcmp(mode, "noisy_stdout") == 0) {
		report_fd = 1;
		use_prefix = 1;
		printf("some ordinary output\n");
		fflush(stdout);
	}
	if (strcmp(mode, "plain_stdout") == 0) {
		report_fd = 1;
		use_prefix = 0;
	}
	if (strcmp(mode, "short_no_final") == 0)
		epochs--;
	if (strcmp(mode, "import_error") == 0) {
		fprintf(stderr, "Traceback (most recent call last):\n"
			"  File \"train.py\", line 1, in <module>\n"
			"ModuleNotFoundError: No module named 'numpy'\n");
		rc = 1;
		goto out;
	}
	if (strcmp(mode, "garbage_first") == 0) {
		rc = emit("Epoch 1/10 - loss: 0.5") < 0 ? 4 : 0;
		nap(sleep_ms);
		goto out;
	}
	if (strcmp(mode, "ignore_term") == 0)
		signal(SIGTERM, SIG_IGN);
	if (num(p, "keep_going", 0) != 0) {
		keep_going = 1;
		signal(SIGPIPE, SIG_IGN);
	}
	if (strcmp(mode, "escape") == 0 && escape(p) < 0) {
		rc = 1;
		goto out;
	}
	if (strcmp(mode, "fail_once") == 0 && attempt_s && atoi(attempt_s) == 1) {
		fprintf(stderr, "fake_trainer: failing on the first attempt\n");
		rc = 3;
		goto out;
	}
	if (strcmp(mode, "close_fd3") == 0)
		close(report_fd);
	if (strcmp(mode, "fork") == 0 && fork() == 0) {
		/* A grandchild that would outlive the trial. */
		for (;;)
			pause();
	}
	if (strcmp(mode, "alloc") == 0) {
		int mb = (int)num(p, "alloc_mb", 64);
		for (int i = 0; i < mb; i++) {
			char *c = malloc(1 << 20);
			if (!c) {
				fprintf(stderr, "fake_trainer: out of memory after "
					"%d MiB\n", i);
				rc = 1;
				goto out;
			}
			memset(c, 1, 1 << 20);   /* touched: really resident */
			*(void **)c = chunks;
			chunks = c;
		}
	}
	/* quality peaks at x = 0.3 and lr = 0.01 */
	q = 0.9 - 0.5 * (x - 0.3) * (x - 0.3) - 0.02 * pow(log10(lr) + 2.0, 2);
	if (num(p, "log_env", 0) != 0)
		log_env();
	for (int e = 1; e <= epochs; e++) {
		double noise = (double)(mix(seed ^ (uint64_t)e) >> 11) / 9007199254740992.0;
		double acc = q * (1.0 - exp(-0.8 * e)) + 0.002 * (noise - 0.5);
		double loss = 2.3 * exp(-0.5 * e) + (1.0 - q);

		if (num(p, "kill_after", 0) > 0 &&
		    e == (int)num(p, "kill_after", 0) + 1 && attempt_s &&
		    atoi(attempt_s) == 1)
			raise(SIGKILL);
		nap(sleep_ms);
		if (strcmp(mode, "segv") == 0 && e == 2)
			die_by(SIGSEGV);
		if (strcmp(mode, "kill") == 0 && e == 2)
			raise(SIGKILL);
		if (strcmp(mode, "exit3") == 0 && e == 2) {
			fprintf(stderr, "fake_trainer: something went wrong\n");
			rc = 3;
			goto out;
		}
		if ((strcmp(mode, "hang") == 0 || strcmp(mode, "stall") == 0) && e == 2) {
			if (num(p, "clear_env", 0) != 0) {
				/* the same process, nothing left to find it by
				 * but its pid and start time */
				char *argv[] = { "sleep", "600", NULL }, *envp[] = { NULL };
				execve("/bin/sleep", argv, envp);
			}
			for (;;)
				pause();
		}
		if (strcmp(mode, "garbage") == 0 && e == 2) {
			rc = emit("this is not json") < 0 ? 4 : 0;
			nap(2000);
			goto out;
		}
		if (strcmp(mode, "huge_line") == 0 && e == 2) {
			size_t n = 100000;
			big = malloc(n + 2);
			if (!big) {
				rc = 1;
				goto out;
			}
			memset(big, 'a', n);
			big[n] = '\n';
			if (write(report_fd, big, n + 1) < 0) {
				rc = 4;
				goto out;
			}
			nap(2000);
			goto out;
		}
		if (strcmp(mode, "flood") == 0) {
			static char junk[65536];
			memset(junk, 'x', sizeof junk);
			for (int i = 0; i < 512; i++) {   /* 32 MiB each way */
				if (write(1, junk, sizeof junk) < 0 ||
				    write(2, junk, sizeof junk) < 0) {
					rc = 4;
					goto out;
				}
			}
		}
		if ((strcmp(mode, "nan") == 0 || strcmp(mode, "pynan") == 0 ||
		     diverges) && e >= 3) {
			snprintf(line, sizeof line, "{\"epoch\":%d,\"train_loss\":NaN,"
				 "\"val_loss\":NaN,\"val_acc\":0.1,\"train_acc\":0.1}", e);
			if (emit(line) < 0) {
				rc = 4;
				goto out;
			}
			continue;
		}
		if (strcmp(mode, "peak") == 0)   /* best at epoch 3, then worse */
			acc = q - 0.02 * fabs((double)e - 3.0);
		if (strcmp(mode, "no_metric") == 0)
			snprintf(line, sizeof line, "{\"epoch\":%d,\"train_loss\":%.6f}",
				 e, loss);
		else if (strcmp(mode, "nice") == 0)   /* its own nice value */
			snprintf(line, sizeof line, "{\"epoch\":%d,\"val_acc\":%.6f,"
				 "\"nice\":%d}", e, acc,
				 getpriority(PRIO_PROCESS, 0));
		else
			snprintf(line, sizeof line,
				 "{\"epoch\":%.0f,\"train_loss\":%.6f,\"train_acc\":%.6f,"
				 "\"val_loss\":%.6f,\"val_acc\":%.6f,\"lr\":%g,"
				 "\"seconds\":0.001}", epoch_number(p, e), loss * 0.95, acc + 0.01,
				 loss, acc, lr);
		if (strcmp(mode, "noisy_stdout") == 0 && e == 2) {
			size_t n = 100000;
			int k;
			big = malloc(n + sizeof line + 16);
			if (!big) {
				rc = 1;
				goto out;
			}
			memset(big, 'a', n);
			k = snprintf(big + n, sizeof line + 16, "\nSWEEP %s\n", line);
			if (write(report_fd, big, n + (size_t)k) != (ssize_t)(n + (size_t)k)) {
				rc = 4;
				goto out;
			}
			continue;
		}
		if (emit(line) < 0) {
			rc = 4;
			goto out;
		}
	}
	if (bursting) {
		bursting = 0;
		if (put(burst, burst_len) < 0) {
			rc = 4;
			goto out;
		}
		nap((int)num(p, "burst_ms", 0));
	}
	if (strcmp(mode, "no_final") == 0 || strcmp(mode, "short_no_final") == 0)
		goto out;
	snprintf(line, sizeof line, "{\"final\":true,\"best_epoch\":%.0f,"
		 "\"test_loss\":0.5,\"test_acc\":%.6f}", epoch_number(p, epochs), q);
	if (emit(line) < 0)
		rc = 4;
out:
	free(big);
	free_chunks(chunks);
	return rc;
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The cgroup v2 path this process is in ("0::PATH" of /proc/self/cgroup),
 * added to o as "cgroup" (null without one). */
static void
add_cgroup(cJSON *o)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int found = 0;

	while (f && !found && fgets(line, sizeof line, f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			cJSON_AddStringToObject(o, "cgroup", line + 3);
			found = 1;
		}
	if (f)
		fclose(f);
	if (!found)
		cJSON_AddNullToObject(o, "cgroup");
}

/* Param "record": appends the trial's interval and environment to the
 * file named (see the top of this file). */
static void
record(const cJSON *p, double start)
{
	static const char *const vars[] = {
		"SWEEP_TRIAL_NUMBER", "SWEEP_SWEEP_ID", "CUDA_VISIBLE_DEVICES",
		"SWEEP_GPUS", "SWEEP_CPUS", "OMP_NUM_THREADS",
		"OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SLURM_STEP_GPUS",
	};
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(p, "record");
	cJSON *o;
	char *line;
	int fd;

	if (!cJSON_IsString(path))
		return;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "start", start);
	cJSON_AddNumberToObject(o, "end", wall_now());
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v)
			cJSON_AddStringToObject(o, vars[i], v);
		else
			cJSON_AddNullToObject(o, vars[i]);
	}
	add_cgroup(o);
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	fd = line ? open(path->valuestring, O_WRONLY | O_APPEND | O_CREAT, 0644) : -1;
	if (fd >= 0) {
		size_t n = strlen(line);
		line[n] = '\n';   /* the NUL goes: the write has the length */
		if (write(fd, line, n + 1) != (ssize_t)(n + 1))
			fprintf(stderr, "fake_trainer: record: %s\n", strerror(errno));
		close(fd);
	}
	free(line);
}

int
main(void)
{
	double start = wall_now();
	const char *ps = getenv("SWEEP_PARAMS");
	cJSON *p = ps ? cJSON_Parse(ps) : NULL;
	int rc;

	if (!p) {
		fprintf(stderr, "fake_trainer: SWEEP_PARAMS missing or invalid\n");
		return 2;
	}
	rc = train(p);
	if (rc == 0)
		record(p, start);
	cJSON_Delete(p);
	return rc;
}
