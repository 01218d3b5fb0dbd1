/*
 * vocab.c: the names of trial states, sweep states and error classes, and
 * their parsers. The tables are indexed by the enums of vocab.h.
 */
#include "common/vocab.h"

#include <errno.h>
#include <string.h>

static const char *const trial_names[TRIAL_N_STATUS] = {
	[TRIAL_QUEUED] = "queued",       [TRIAL_RUNNING] = "running",
	[TRIAL_COMPLETED] = "completed", [TRIAL_FAILED] = "failed",
	[TRIAL_PRUNED] = "pruned",       [TRIAL_CANCELLED] = "cancelled",
	[TRIAL_PENDING] = "pending",
};

static const char *const sweep_names[SWEEP_N_STATUS] = {
	[SWEEP_RUNNING] = "running",     [SWEEP_PAUSED] = "paused",
	[SWEEP_COMPLETED] = "completed", [SWEEP_FAILED] = "failed",
	[SWEEP_CANCELLED] = "cancelled",
};

static const char *const class_names[CLASS_N] = {
	[CLASS_SIGNAL] = "signal",           [CLASS_TIMEOUT] = "timeout",
	[CLASS_STALL] = "stall",             [CLASS_OOM] = "oom",
	[CLASS_EXIT] = "exit",               [CLASS_PROTOCOL] = "protocol",
	[CLASS_STORAGE] = "storage",         [CLASS_INTERRUPTED] = "interrupted",
	[CLASS_CANCELLED] = "cancelled",     [CLASS_PRUNED] = "pruned",
	[CLASS_DIVERGED] = "diverged",       [CLASS_NOTE] = "note",
	[CLASS_LAUNCHER] = "launcher",
};

static const char *
name_of(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : NULL;
}

static int
parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *
vocab_trial_name(enum trial_status st)
{
	return name_of(trial_names, TRIAL_N_STATUS, (int)st);
}

const char *
vocab_sweep_name(enum sweep_status st)
{
	return name_of(sweep_names, SWEEP_N_STATUS, (int)st);
}

const char *
vocab_class_name(enum error_class cls)
{
	return name_of(class_names, CLASS_N, (int)cls);
}

int
vocab_trial_parse(const char *name)
{
	return parse(trial_names, TRIAL_N_STATUS, name);
}

int
vocab_sweep_parse(const char *name)
{
	return parse(sweep_names, SWEEP_N_STATUS, name);
}

int
vocab_class_parse(const char *name)
{
	return parse(class_names, CLASS_N, name);
}

int
vocab_trial_ended(int st)
{
	return st == TRIAL_COMPLETED || st == TRIAL_FAILED ||
	       st == TRIAL_PRUNED || st == TRIAL_CANCELLED;
}

int
vocab_sweep_active(int st)
{
	return st == SWEEP_RUNNING || st == SWEEP_PAUSED;
}
