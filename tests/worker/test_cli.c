/*
 * test_cli.c: sweep-worker as the daemon runs it: environment, exit codes,
 * messages on stderr, the report fd, --check, --params-table, SIGTERM.
 * argv[1] is the sweep-worker executable.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"

#define SYN "\"dataset\":\"synthetic\",\"synthetic_size\":3000,\"val_size\":1000," \
	    "\"synthetic_test_size\":500"

static const char *exe;

struct result {
	int status;           /* exit status, or 128 + signal */
	char out[65536], err[8192], fd3[65536];
};

static void
slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Run exe with arg (may be NULL) and the given env entries. With use_fd3
 * a pipe is passed as fd 3 and SWEEP_REPORT_FD=3 is set. */
static void
run(struct result *res, const char *arg, const char *params, const char *seed, int use_fd3)
{
	int po[2], pe[2], p3[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe(po) < 0 || pipe(pe) < 0 || pipe(p3) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (use_fd3)
			dup2(p3[1], 3);
		for (int fd = 4; fd < 64; fd++)
			close(fd);
		clearenv();
		if (params)
			setenv("SWEEP_PARAMS", params, 1);
		if (seed)
			setenv("SWEEP_SEED", seed, 1);
		if (use_fd3)
			setenv("SWEEP_REPORT_FD", "3", 1);
		execl(exe, exe, arg, (char *)NULL);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	close(p3[1]);
	/* outputs are small; read them one after the other */
	slurp(p3[0], res->fd3, sizeof(res->fd3));
	slurp(po[0], res->out, sizeof(res->out));
	slurp(pe[0], res->err, sizeof(res->err));
	close(po[0]);
	close(pe[0]);
	close(p3[0]);
	int st;
	waitpid(pid, &st, 0);
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct result r;

static void
check_accepts_valid_params(void)
{
	run(&r, "--check", "{\"lr\":0.01,\"hidden\":[256,128],\"builtin\":\"mlp\"}", NULL, 0);
	CHECK(r.status == 0);
	CHECK_STR(r.out, "");
}

static void
check_refuses_out_of_range_naming_the_param(void)
{
	run(&r, "--check", "{\"lr\":5}", NULL, 0);
	CHECK(r.status == 2);
	CHECK_STR(r.err, "sweep-worker: param 'lr': 5 is out of range [1e-06, 1]\n");
}

static void
check_refuses_unknown_param(void)
{
	run(&r, "--check", "{\"lrr\":0.1}", NULL, 0);
	CHECK(r.status == 2);
	CHECK_STR(r.err, "sweep-worker: unknown param 'lrr'\n");
}

static void
bad_seed_is_refused(void)
{
	run(&r, "--check", "{}", "-3", 0);
	CHECK(r.status == 2);
	CHECK_CONTAINS(r.err, "SWEEP_SEED");
}

static void
params_table_is_a_json_array(void)
{
	run(&r, "--params-table", NULL, NULL, 0);
	CHECK(r.status == 0);
	cJSON *t = cJSON_Parse(r.out);
	CHECK(cJSON_IsArray(t) && cJSON_GetArraySize(t) > 30);
	cJSON_Delete(t);
}

static void
missing_data_exits_2_naming_the_file(void)
{
	run(&r, NULL, "{\"data_dir\":\"/nonexistent-sweepd-data\"}", NULL, 0);
	CHECK(r.status == 2);
	CHECK_CONTAINS(r.err, "/nonexistent-sweepd-data/train-images-idx3-ubyte.gz");
	CHECK_STR(r.out, "");
}

/* Without SWEEP_REPORT_FD (by hand, or under srun, where fd 3 does not
 * reach the node) the lines go to stdout with the "SWEEP " prefix the
 * daemon reads there: every line, each whole. */
static void
without_report_fd_the_report_goes_to_stdout_prefixed(void)
{
	run(&r, NULL, "{" SYN ",\"epochs\":2}", "7", 0);
	CHECK(r.status == 0);
	CHECK(strncmp(r.out, "SWEEP {\"epoch\":1,", 17) == 0);
	CHECK_CONTAINS(r.out, "\nSWEEP {\"epoch\":2,");
	CHECK_CONTAINS(r.out, "\nSWEEP {\"final\":true,\"best_epoch\":");
	CHECK(r.out[strlen(r.out) - 1] == '\n');
	int lines = 0;
	for (const char *l = r.out, *nl; *l; l = nl + 1) {
		CHECK(strncmp(l, "SWEEP {", 7) == 0);
		if (!(nl = strchr(l, '\n')))
			break;
		lines++;
	}
	CHECK(lines == 3);
	CHECK(strstr(r.err, "{\"epoch\"") == NULL);
}

static void
with_report_fd_the_lines_go_there(void)
{
	static struct result a;
	run(&a, NULL, "{" SYN ",\"epochs\":2}", "7", 1);
	CHECK(a.status == 0);
	CHECK_STR(a.out, "");
	CHECK(strncmp(a.fd3, "{\"epoch\":1,", 11) == 0);
	CHECK_CONTAINS(a.fd3, "{\"final\":true");
	/* the same seed as the stdout run: the same test result, unprefixed */
	const char *f1 = strstr(a.fd3, "{\"final\""), *f2 = strstr(r.out, "SWEEP {\"final\"");
	f2 = f2 ? f2 + 6 : NULL;
	CHECK(f1 && f2 && strcmp(f1, f2) == 0);
}

static void
sigterm_stops_the_run_with_a_failure_status(void)
{
	int p3[2], pe[2];
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (pipe(p3) < 0 || pipe(pe) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(p3[1], 3);
		dup2(pe[1], 2);
		clearenv();
		setenv("SWEEP_PARAMS", "{\"dataset\":\"synthetic\",\"synthetic_size\":60000,"
		       "\"val_size\":1000,\"epochs\":1000,\"hidden\":[256]}", 1);
		setenv("SWEEP_REPORT_FD", "3", 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(p3[1]);
	close(pe[1]);
	/* wait for the first epoch line: training is under way */
	n = read(p3[0], buf, sizeof(buf) - 1);
	CHECK(n > 0);
	kill(pid, SIGTERM);
	int st = 0, waited = 0;
	for (int i = 0; i < 1000 && !waited; i++) {   /* generous: 10 s */
		waited = waitpid(pid, &st, WNOHANG) == pid;
		if (!waited)
			usleep(10000);
	}
	if (!waited) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	CHECK(waited);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 143);
	n = read(p3[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "final") == NULL);
	close(p3[0]);
	close(pe[0]);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s path/to/sweep-worker\n", argv[0]);
		return 1;
	}
	exe = argv[1];
	RUN(check_accepts_valid_params);
	RUN(check_refuses_out_of_range_naming_the_param);
	RUN(check_refuses_unknown_param);
	RUN(bad_seed_is_refused);
	RUN(params_table_is_a_json_array);
	RUN(missing_data_exits_2_naming_the_file);
	RUN(without_report_fd_the_report_goes_to_stdout_prefixed);
	RUN(with_report_fd_the_lines_go_there);
	RUN(sigterm_stops_the_run_with_a_failure_status);
	return harness_done();
}
