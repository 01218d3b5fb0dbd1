/*
 * test_regress.c: replays fuzz inputs through a fuzz target, as TAP.
 *
 * Built with the normal compiler (no libFuzzer) and linked with one
 * fuzz_<target>.c; every argument is a directory (tests/fuzz/corpus/<t>,
 * tests/fuzz/regress/<t>) whose files are fed, sorted by name, to
 * LLVMFuzzerTestOneInput. Each file runs in a child process that calls
 * LLVMFuzzerInitialize first (when the target has one), so an input that
 * aborts, trips a sanitizer or leaks shows as one "not ok" naming the file,
 * and the others still run. Exit status: 0 when every file passed.
 *
 * A file named todo-* reproduces a bug that is reported but not fixed yet
 * (its owner's module is not ours to change): it is reported with a TAP
 * TODO directive, so it does not fail the suite while it fails, and
 * turns into an unexpected pass (a failure) once the bug is fixed, as a
 * reminder to drop the prefix.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return -errno;
	do {
		if (cap - n < 4096) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* Runs one input in a child; 0 when it returned normally. */
static int
replay(const char *path)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int argc = 1;
		char *args[] = { (char *)"test_regress", NULL }, **argv = args;
		uint8_t *data = NULL;
		size_t len = 0;

		if (read_file(path, &data, &len) < 0)
			_exit(3);
		if (LLVMFuzzerInitialize)
			LLVMFuzzerInitialize(&argc, &argv);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0);   /* atexit handlers and the leak check run */
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d\n", path, WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		printf("# %s: exit status %d\n", path, WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of the directory being replayed. Static, not local: a
 * child exits from inside replay() and its leak check must find them
 * reachable. */
static char **names;

/* One TAP test per regular file of dir. */
static void
replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, cap = 0;

	if (!d) {
		printf("# cannot open %s: %s\n", dir, strerror(errno));
		harness_failed++;
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) *
					    sizeof *names);
			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			int todo = strncmp(names[i], "todo-", 5) == 0;
			int ok = replay(path) == 0;

			harness_n++;
			if (!ok && !todo)
				harness_failed++;
			printf("%s %d - %s%s\n", ok ? "ok" : "not ok", harness_n,
			       path, todo ? " # TODO reported bug, not fixed yet" : "");
			fflush(stdout);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	names = NULL;
}

int
main(int argc, char **argv)
{
	(void)harness_cur_failed;   /* CHECK and SKIP are not used here */
	(void)harness_skip;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		replay_dir(argv[i]);
	return harness_done();
}
