/*
 * capacity.h: what the daemon's trials share, from sweepd's command line:
 * --cpus N and --gpus LIST|auto (docs/man/sweepd.8).
 */
#ifndef SWEEPD_CAPACITY_H
#define SWEEPD_CAPACITY_H

#include <stddef.h>

#include "daemon/sched/res.h"   /* RES_MAX_GPUS */

struct capacity {
	int cpus;                  /* 0: not given */
	int gpu_auto;              /* --gpus auto: capacity_detect_gpus */
	int n_gpus;
	int gpus[RES_MAX_GPUS];    /* distinct device ids, in the given order */
};

/* The CPUs this process may run on (sched_getaffinity; sysconf when that
 * fails), at least 1. */
int capacity_machine_cpus(void);
/* --cpus ARG into c->cpus: an integer from 1 to 4096. 0, or -EINVAL with
 * a message in err. */
int capacity_parse_cpus(struct capacity *c, const char *arg, char *err,
			size_t errlen);
/* --gpus ARG: "auto", or comma-separated distinct device ids (integers
 * from 0 to 65535). A duplicate, an empty entry or anything but digits is
 * refused: 0, or -EINVAL with a message naming it in err. */
int capacity_parse_gpus(struct capacity *c, const char *arg, char *err,
			size_t errlen);
/* For --gpus auto: the NVIDIA devices `nvidia-smi -L` lists, when that
 * program is on PATH; none otherwise. What was found, or why none, goes
 * in msg, for the log. */
void capacity_detect_gpus(struct capacity *c, char *msg, size_t msglen);

#endif
