/*
 * slurm_argv.c: daemon/proc/slurm.c from the command line, for
 * tests/integration/test_slurm.py (which runs what it prints against a
 * real cluster):
 *
 *   slurm_argv srun OPTS_JSON SWEEP TRIAL ATTEMPT CPUS GPUS MEM_MB TRAINER [ARG...]
 *   slurm_argv squeue NAME...
 *       print the argv, each item followed by a NUL byte
 *   slurm_argv find NAME  < squeue's output
 *       print "ID STATE CLASS MATCHES" (CLASS: pending running ended other)
 *
 * Exit 0; 1 when find finds nothing; 2 on a usage or parse error (stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "daemon/proc/slurm.h"

static void
print_argv(char **argv)
{
	for (char **p = argv; *p; p++)
		fwrite(*p, 1, strlen(*p) + 1, stdout);
}

static int
cmd_srun(int argc, char **argv)
{
	struct slurm_opts o;
	struct slurm_trial t;
	char err[512], **out = NULL;
	cJSON *v;
	int rc;

	if (argc < 9) {
		fprintf(stderr, "usage: slurm_argv srun OPTS SWEEP TRIAL ATTEMPT CPUS GPUS MEM "
			"TRAINER...\n");
		return 2;
	}
	if (!(v = cJSON_Parse(argv[1]))) {
		fprintf(stderr, "slurm_argv: OPTS is not JSON: %s\n", argv[1]);
		return 2;
	}
	rc = slurm_opts_parse(&o, v, "launcher.slurm", err, sizeof(err));
	cJSON_Delete(v);
	if (rc < 0) {
		fprintf(stderr, "slurm_argv: %s\n", rc == -ENOMEM ? "out of memory" : err);
		slurm_opts_free(&o);
		return 2;
	}
	t = (struct slurm_trial){
		.sweep_id = atoll(argv[2]), .trial_id = atoll(argv[3]), .attempt = atoi(argv[4]),
		.cpus = atoi(argv[5]), .gpus = atoi(argv[6]), .mem_mb = atoll(argv[7]),
		.argv = (const char *const *)argv + 8,
	};
	rc = slurm_srun_argv(&o, &t, &out);
	slurm_opts_free(&o);
	if (rc < 0) {
		fprintf(stderr, "slurm_argv: slurm_srun_argv: %s\n", strerror(-rc));
		return 2;
	}
	print_argv(out);
	slurm_argv_free(out);
	return 0;
}

static int
cmd_find(const char *name)
{
	static const char *const cls[] = { "pending", "running", "ended", "other" };
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
	struct slurm_job j;
	char err[512];
	int rc;

	buf[n] = '\0';
	rc = slurm_squeue_find(buf, name, NULL, &j, err, sizeof(err));
	if (rc == -ENOENT)
		return 1;
	if (rc < 0) {
		fprintf(stderr, "slurm_argv: %s\n", err);
		return 2;
	}
	printf("%llu %s %s %d\n", j.id, j.state, cls[j.cls], j.matches);
	return 0;
}

int
main(int argc, char **argv)
{
	char **out = NULL;

	if (argc >= 2 && strcmp(argv[1], "srun") == 0)
		return cmd_srun(argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "find") == 0)
		return cmd_find(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "squeue") == 0) {
		if (slurm_squeue_argv((const char *const *)argv + 2, (size_t)argc - 2, &out) < 0)
			return 2;
		print_argv(out);
		slurm_argv_free(out);
		return 0;
	}
	fprintf(stderr, "usage: slurm_argv srun ... | squeue NAME... | find NAME\n");
	return 2;
}
