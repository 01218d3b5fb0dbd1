/*
 * capacity.c: --cpus, --gpus and their defaults (capacity.h).
 */
#include "daemon/capacity.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/search/spec.h"   /* SPEC_MAX_CPUS */

int
capacity_machine_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(n > SPEC_MAX_CPUS ? SPEC_MAX_CPUS : n) : 1;
}

int
capacity_parse_cpus(struct capacity *c, const char *arg, char *err,
		    size_t errlen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 1 || n > SPEC_MAX_CPUS) {
		snprintf(err, errlen, "--cpus must be an integer in [1, %d], got "
			 "\"%s\"", SPEC_MAX_CPUS, arg);
		return -EINVAL;
	}
	c->cpus = (int)n;
	return 0;
}

/* One entry of --gpus, len bytes at p, appended to c. */
static int
add_gpu(struct capacity *c, const char *p, size_t len, char *err, size_t errlen)
{
	long id = 0;

	if (len == 0) {
		snprintf(err, errlen, "--gpus: an empty entry (want device ids "
			 "like 0,1,2,3, or auto)");
		return -EINVAL;
	}
	for (size_t i = 0; i < len && id >= 0 && id <= 65535; i++)
		id = p[i] >= '0' && p[i] <= '9' ? id * 10 + (p[i] - '0') : -1;
	if (id < 0 || id > 65535) {
		snprintf(err, errlen, "--gpus: \"%.*s\" is not a device id (want "
			 "integers from 0 to 65535, like 0,1,2,3, or auto)",
			 (int)(len > 32 ? 32 : len), p);
		return -EINVAL;
	}
	for (int i = 0; i < c->n_gpus; i++)
		if (c->gpus[i] == id) {
			snprintf(err, errlen, "--gpus: device %ld is listed twice", id);
			return -EINVAL;
		}
	if (c->n_gpus == RES_MAX_GPUS) {
		snprintf(err, errlen, "--gpus: more than %d devices", RES_MAX_GPUS);
		return -EINVAL;
	}
	c->gpus[c->n_gpus++] = (int)id;
	return 0;
}

int
capacity_parse_gpus(struct capacity *c, const char *arg, char *err,
		    size_t errlen)
{
	const char *p = arg;
	int rc = 0;

	c->n_gpus = 0;
	c->gpu_auto = strcmp(arg, "auto") == 0;
	if (c->gpu_auto)
		return 0;
	while (rc == 0) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		rc = add_gpu(c, p, len, err, errlen);
		if (!comma)
			break;
		p = comma + 1;
	}
	if (rc < 0)
		c->n_gpus = 0;
	return rc;
}

/* Whether name is an executable file in a directory of PATH. */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH"), *p;
	char buf[PATH_MAX];

	for (p = path; p && *p; ) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && len + strlen(name) + 2 < sizeof buf) {
			snprintf(buf, sizeof buf, "%.*s/%s", (int)len, p, name);
			if (access(buf, X_OK) == 0)
				return 1;
		}
		p = colon ? colon + 1 : NULL;
	}
	return 0;
}

/* Reads `nvidia-smi -L`'s lines, "GPU N: NAME (UUID: ...)", into c.
 * Returns the program's exit status, or -1 when it could not be run. */
static int
read_nvidia_smi(struct capacity *c)
{
	char line[512], err[128];
	FILE *f = popen("nvidia-smi -L 2>/dev/null", "r");
	int st;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *end;
		long id;
		if (strncmp(line, "GPU ", 4) != 0)
			continue;
		id = strtol(line + 4, &end, 10);
		if (end == line + 4 || *end != ':' || id < 0)
			continue;
		(void)add_gpu(c, line + 4, (size_t)(end - (line + 4)), err, sizeof err);
	}
	st = pclose(f);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
capacity_detect_gpus(struct capacity *c, char *msg, size_t msglen)
{
	int st;

	c->n_gpus = 0;
	if (!on_path("nvidia-smi")) {
		snprintf(msg, msglen, "--gpus auto: no nvidia-smi on PATH: no GPUs");
		return;
	}
	st = read_nvidia_smi(c);
	if (st != 0) {
		c->n_gpus = 0;
		snprintf(msg, msglen, "--gpus auto: nvidia-smi -L failed (status "
			 "%d): no GPUs", st);
		return;
	}
	snprintf(msg, msglen, "--gpus auto: nvidia-smi -L lists %d GPU%s",
		 c->n_gpus, c->n_gpus == 1 ? "" : "s");
}
