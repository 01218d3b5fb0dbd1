/*
 * slurm.c: launcher.slurm options, a trial's srun argv, squeue's answer.
 */
#include "daemon/proc/slurm.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 256          /* partition, account, qos */
#define EXTRA_MAX 64          /* items of extra */
#define OPTION_MAX 4096       /* bytes of one extra item */
#define TIME_MAX_H 1000000    /* hours: Slurm's limit is far below INT_MAX minutes */

static const char *const opt_keys[] = { "partition", "account", "qos", "time", "extra" };

/* srun options sweepd sets itself, or that would break a trial's reports
 * or its accounting; extra may not give them, nor any abbreviation of them
 * (srun, like getopt_long, takes an unambiguous prefix of a long option). */
static const struct owned {
	const char *name, *why;
} owned[] = {
	{ "export", "the trial's environment (SWEEP_PARAMS, PATH) must reach the trainer" },
	{ "export-file", "the trial's environment must reach the trainer" },
	{ "job-name", "the name is how sweepd finds the trial's job" },
	{ "input", "sweepd sets --input=none" },
	{ "output", "the trainer's stdout carries its report lines to sweepd" },
	{ "error", "the trainer's stderr is the trial's stderr" },
	{ "unbuffered", "sweepd sets it" },
	{ "label", "a task label would break every report line" },
	{ "pty", "sweepd sets --unbuffered" },
	{ "kill-on-bad-exit", "sweepd sets it" },
	{ "ntasks", "a trial is one task" },
	{ "ntasks-per-node", "a trial is one task" },
	{ "jobid", "each trial is a job of its own" },
	{ "cpus-per-task", "set the spec's resources.cpus" },
	{ "gres", "set the spec's resources.gpus" },
	{ "gpus", "set the spec's resources.gpus" },
	{ "gpus-per-task", "set the spec's resources.gpus" },
	{ "gpus-per-node", "set the spec's resources.gpus" },
	{ "mem", "set the spec's resources.mem" },
	{ "partition", "set launcher.slurm.partition" },
	{ "account", "set launcher.slurm.account" },
	{ "qos", "set launcher.slurm.qos" },
	{ "time", "set launcher.slurm.time" },
};

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- launcher.slurm ---------------------------------------------------- */

static int
check_keys(const cJSON *v, const char *path, char *err, size_t errlen)
{
	const size_t n = sizeof(opt_keys) / sizeof(opt_keys[0]);
	const cJSON *it, *jt;

	cJSON_ArrayForEach(it, v) {
		bool known = false;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(it->string, opt_keys[i]) == 0;
		if (!known)
			return fail(err, errlen, "%s: unknown field \"%s\" (valid: partition, "
				    "account, qos, time, extra)", path, it->string);
		for (jt = it->next; jt; jt = jt->next)
			if (strcmp(jt->string, it->string) == 0)
				return fail(err, errlen, "%s: field \"%s\" given twice", path,
					    it->string);
	}
	return 0;
}

/* A partition, account or qos name into *out (owned). */
static int
parse_word(const cJSON *v, const char *path, const char *key, char **out, char *err,
	   size_t errlen)
{
	const char *s;
	size_t len;

	if (!cJSON_IsString(v) || !*v->valuestring)
		return fail(err, errlen, "%s.%s: must be a non-empty string", path, key);
	s = v->valuestring;
	len = strlen(s);
	if (len > WORD_MAX)
		return fail(err, errlen, "%s.%s: longer than %d bytes", path, key, WORD_MAX);
	for (size_t i = 0; i < len; i++)
		if (isspace((unsigned char)s[i]) || iscntrl((unsigned char)s[i]))
			return fail(err, errlen, "%s.%s: \"%s\" holds white space or a "
				    "control character", path, key, s);
	return (*out = strdup(s)) ? 0 : -ENOMEM;
}

/* "HH:MM:SS" into seconds: hours one or more digits, minutes and seconds
 * two digits below 60, the whole more than zero (Slurm reads 0 as no
 * limit at all). */
static int
parse_time(const cJSON *v, const char *path, long *secs, char *err, size_t errlen)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	long h = 0;
	size_t i = 0;

	if (!s)
		return fail(err, errlen, "%s.time: must be a string \"HH:MM:SS\"", path);
	for (; isdigit((unsigned char)s[i]) && h <= TIME_MAX_H; i++)
		h = h * 10 + (s[i] - '0');
	if (i == 0 || h > TIME_MAX_H || s[i] != ':' || !isdigit((unsigned char)s[i + 1]) ||
	    !isdigit((unsigned char)s[i + 2]) || s[i + 3] != ':' ||
	    !isdigit((unsigned char)s[i + 4]) || !isdigit((unsigned char)s[i + 5]) ||
	    s[i + 6] != '\0')
		return fail(err, errlen, "%s.time: \"%s\" is not HH:MM:SS (hours up to %d)",
			    path, s, TIME_MAX_H);
	long m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	long sec = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
	if (m >= 60 || sec >= 60)
		return fail(err, errlen, "%s.time: \"%s\": minutes and seconds must be below 60",
			    path, s);
	*secs = h * 3600 + m * 60 + sec;
	if (*secs == 0)
		return fail(err, errlen, "%s.time: must be more than 00:00:00 (Slurm reads "
			    "0 as no limit)", path);
	return 0;
}

/* Why item (a string of extra) is refused, or NULL when it may go to srun. */
static const char *
extra_refusal(const char *s, const char **owner)
{
	size_t len;

	*owner = NULL;
	if (strncmp(s, "--", 2) != 0)
		return s[0] == '-' ? "short options are refused: give the long form, "
				     "--name=value" :
				     "not an option: each item is one long option, --name or "
				     "--name=value";
	s += 2;
	len = strcspn(s, "=");
	if (len == 0)
		return "not an option: each item is one long option, --name or --name=value";
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strlen(owned[i].name) >= len && strncmp(owned[i].name, s, len) == 0) {
			*owner = owned[i].name;
			return owned[i].why;
		}
	return NULL;
}

static int
parse_extra(struct slurm_opts *o, const cJSON *v, const char *path, char *err,
	    size_t errlen)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(v))
		return fail(err, errlen, "%s.extra: must be an array of strings", path);
	if (cJSON_GetArraySize(v) > EXTRA_MAX)
		return fail(err, errlen, "%s.extra: more than %d items", path, EXTRA_MAX);
	if (!(o->extra = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(char *))))
		return -ENOMEM;
	cJSON_ArrayForEach(it, v) {
		const char *why, *owner;

		if (!cJSON_IsString(it))
			return fail(err, errlen, "%s.extra[%zu]: must be a string", path, i);
		if (strlen(it->valuestring) > OPTION_MAX)
			return fail(err, errlen, "%s.extra[%zu]: longer than %d bytes", path, i,
				    OPTION_MAX);
		if ((why = extra_refusal(it->valuestring, &owner)) && owner)
			return fail(err, errlen, "%s.extra[%zu]: \"%s\": sweepd sets --%s "
				    "itself (%s)", path, i, it->valuestring, owner, why);
		if (why)
			return fail(err, errlen, "%s.extra[%zu]: \"%s\": %s", path, i,
				    it->valuestring, why);
		if (!(o->extra[i] = strdup(it->valuestring)))
			return -ENOMEM;
		o->n_extra = ++i;
	}
	return 0;
}

int
slurm_opts_parse(struct slurm_opts *o, const cJSON *v, const char *path, char *err,
		 size_t errlen)
{
	const cJSON *f;
	int rc;

	memset(o, 0, sizeof(*o));
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return fail(err, errlen, "%s: must be an object", path);
	if ((rc = check_keys(v, path, err, errlen)) < 0)
		return rc;
	if ((f = cJSON_GetObjectItemCaseSensitive(v, "partition")) &&
	    (rc = parse_word(f, path, "partition", &o->partition, err, errlen)) < 0)
		return rc;
	if ((f = cJSON_GetObjectItemCaseSensitive(v, "account")) &&
	    (rc = parse_word(f, path, "account", &o->account, err, errlen)) < 0)
		return rc;
	if ((f = cJSON_GetObjectItemCaseSensitive(v, "qos")) &&
	    (rc = parse_word(f, path, "qos", &o->qos, err, errlen)) < 0)
		return rc;
	if ((f = cJSON_GetObjectItemCaseSensitive(v, "time")) &&
	    (rc = parse_time(f, path, &o->time_s, err, errlen)) < 0)
		return rc;
	if ((f = cJSON_GetObjectItemCaseSensitive(v, "extra")) &&
	    (rc = parse_extra(o, f, path, err, errlen)) < 0)
		return rc;
	return 0;
}

void
slurm_opts_free(struct slurm_opts *o)
{
	free(o->partition);
	free(o->account);
	free(o->qos);
	for (size_t i = 0; i < o->n_extra; i++)
		free(o->extra[i]);
	free(o->extra);
	memset(o, 0, sizeof(*o));
}

/* ---- argv -------------------------------------------------------------- */

struct vec {
	char **v;     /* owned, NULL-terminated once built */
	size_t n, cap;
	int rc;       /* 0, or the first -ENOMEM: later pushes do nothing */
};

static void __attribute__((format(printf, 2, 3)))
push(struct vec *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (a->rc < 0)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(char *));
		if (!v) {
			a->rc = -ENOMEM;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		a->rc = -ENOMEM;
	else
		a->v[a->n++] = s;
	va_end(ap);
	a->v[a->n] = NULL;
}

/* *out = the built argv, or the failure (then freed). */
static int
vec_done(struct vec *a, char ***out)
{
	if (a->rc == 0 && !a->v)
		a->rc = -ENOMEM;
	if (a->rc < 0) {
		slurm_argv_free(a->v);
		return a->rc;
	}
	*out = a->v;
	return 0;
}

void
slurm_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

int
slurm_job_name(char *buf, size_t len, const struct slurm_trial *t)
{
	int n = snprintf(buf, len, "sweepd-%lld-%lld-%d", t->sweep_id, t->trial_id, t->attempt);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int
slurm_srun_argv(const struct slurm_opts *o, const struct slurm_trial *t, char ***argv)
{
	struct vec a = { 0 };
	char name[96];

	if (t->cpus < 1 || t->gpus < 0 || t->mem_mb < 0 || t->attempt < 1 ||
	    t->sweep_id < 1 || t->trial_id < 1 || !t->argv || !t->argv[0] ||
	    (t->comment && (!t->comment[0] || t->comment[strcspn(t->comment, "| \t\r\n")])))
		return -EINVAL;
	slurm_job_name(name, sizeof(name), t);
	push(&a, "srun");
	for (size_t i = 0; i < o->n_extra; i++)
		push(&a, "%s", o->extra[i]);
	push(&a, "--job-name=%s", name);
	if (t->comment)
		push(&a, "--comment=%s", t->comment);
	if (o->partition)
		push(&a, "--partition=%s", o->partition);
	if (o->account)
		push(&a, "--account=%s", o->account);
	if (o->qos)
		push(&a, "--qos=%s", o->qos);
	if (o->time_s)
		push(&a, "--time=%ld:%02ld:%02ld", o->time_s / 3600, o->time_s / 60 % 60,
		     o->time_s % 60);
	push(&a, "--ntasks=1");
	push(&a, "--cpus-per-task=%d", t->cpus);
	if (t->gpus > 0)
		push(&a, "--gres=gpu:%d", t->gpus);
	if (t->mem_mb > 0)
		push(&a, "--mem=%lldM", t->mem_mb);
	push(&a, "--export=ALL");
	push(&a, "--input=none");
	push(&a, "--unbuffered");
	push(&a, "--kill-on-bad-exit=1");
	push(&a, "--verbose");   /* "srun: jobid N: nodes(...)": the start */
	push(&a, "--");
	push(&a, "/usr/bin/env");
	push(&a, "-u");
	push(&a, "SWEEP_REPORT_FD");
	push(&a, "--");
	for (const char *const *p = t->argv; *p; p++)
		push(&a, "%s", *p);
	return vec_done(&a, argv);
}

int
slurm_squeue_argv(const char *const *names, size_t n, char ***argv)
{
	struct vec a = { 0 };
	size_t len = strlen("--name=");
	char *list;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	if (!(list = malloc(len + 1)))
		return -ENOMEM;
	strcpy(list, "--name=");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(list, ",");
		strcat(list, names[i]);
	}
	push(&a, "squeue");
	push(&a, "--noheader");
	push(&a, "--states=all");
	push(&a, "--format=%%i|%%T|%%k|%%j");
	push(&a, "%s", list);
	free(list);
	return vec_done(&a, argv);
}

/* ---- squeue's answer --------------------------------------------------- */

enum slurm_job_class
slurm_state_class(const char *state)
{
	static const char *const pending[] = {
		"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
	};
	static const char *const running[] = {
		"RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "SIGNALING",
		"STAGE_OUT", "RESIZING", "STOPPED",
	};
	static const char *const ended[] = {
		"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "PREEMPTED", "NODE_FAIL",
		"BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED",
	};

	for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		if (strcmp(state, pending[i]) == 0)
			return SLURM_JOB_PENDING;
	for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++)
		if (strcmp(state, running[i]) == 0)
			return SLURM_JOB_RUNNING;
	for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++)
		if (strcmp(state, ended[i]) == 0)
			return SLURM_JOB_ENDED;
	return SLURM_JOB_OTHER;
}

/* One line "ID|STATE|COMMENT|NAME" (len bytes, no newline) against name
 * and comment (NULL: any): 1 and *job filled when it is that job, 0 when
 * another, -EBADMSG. The name is matched as the line's end, so that a
 * comment or a name holding a bar still reads. */
static int
squeue_line(const char *l, size_t len, const char *name, const char *comment,
	    struct slurm_job *job, char *err, size_t errlen)
{
	const char *end = l + len, *bar1 = memchr(l, '|', len);
	const char *bar2 = bar1 ? memchr(bar1 + 1, '|', (size_t)(end - bar1 - 1)) : NULL;
	const char *bar3 = bar2 ? memchr(bar2 + 1, '|', (size_t)(end - bar2 - 1)) : NULL;
	size_t nlen = strlen(name), slen;
	const char *np = end - nlen;

	if (!bar3) {
		fail(err, errlen, "squeue: not ID|STATE|COMMENT|NAME: \"%.*s\"", (int)len, l);
		return -EBADMSG;
	}
	if (len < nlen + 1 || np - 1 < bar3 || np[-1] != '|' || memcmp(np, name, nlen) != 0)
		return 0;
	if (comment && ((size_t)(np - 1 - (bar2 + 1)) != strlen(comment) ||
			memcmp(bar2 + 1, comment, strlen(comment)) != 0))
		return 0;   /* that name, but another daemon's job */
	job->id = 0;
	for (const char *p = l; p < bar1; p++) {
		if (!isdigit((unsigned char)*p) || job->id > (~0ULL - 9) / 10) {
			fail(err, errlen, "squeue: job %s has no plain job id: \"%.*s\"", name,
			     (int)len, l);
			return -EBADMSG;
		}
		job->id = job->id * 10 + (unsigned long long)(*p - '0');
	}
	slen = (size_t)(bar2 - bar1 - 1);
	if (bar1 == l || slen == 0 || slen >= sizeof(job->state)) {
		fail(err, errlen, "squeue: not ID|STATE|COMMENT|NAME: \"%.*s\"", (int)len, l);
		return -EBADMSG;
	}
	memcpy(job->state, bar1 + 1, slen);
	job->state[slen] = '\0';
	job->cls = slurm_state_class(job->state);
	return 1;
}

int
slurm_squeue_find(const char *out, const char *name, const char *comment,
		  struct slurm_job *job, char *err, size_t errlen)
{
	struct slurm_job cur;
	int found = 0, rc = 0;

	memset(job, 0, sizeof(*job));
	for (const char *l = out; *l;) {
		size_t len = strcspn(l, "\n");

		if (len > 0 &&
		    (rc = squeue_line(l, len, name, comment, &cur, err, errlen)) < 0)
			return rc;
		if (len > 0 && rc == 1) {
			found++;
			if (cur.id > job->id)
				*job = cur;
		}
		l += len + (l[len] == '\n');
	}
	job->matches = found;
	return found ? 0 : -ENOENT;
}

/* ---- srun's stderr ----------------------------------------------------- */

/* s (len bytes) starts with lit: the rest after it, else NULL. */
static const char *
after(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0 ? s + n : NULL;
}

/* Digits at s (before end) into *v; the first byte after them. */
static const char *
digits(const char *s, const char *end, unsigned long long *v)
{
	const char *p = s;

	*v = 0;
	for (; p < end && isdigit((unsigned char)*p) && *v <= (~0ULL - 9) / 10; p++)
		*v = *v * 10 + (unsigned long long)(*p - '0');
	if (p == s)
		*v = 0;
	return p;
}

/* Whether the bytes at s (before end) are exactly lit. */
static bool
rest_is(const char *s, const char *end, const char *lit)
{
	return (size_t)(end - s) == strlen(lit) && memcmp(s, lit, strlen(lit)) == 0;
}

enum slurm_line
slurm_stderr_line(const char *line, size_t len, unsigned long long *job)
{
	const char *end = line + len, *p, *q;
	const char *colon = memchr(line, ':', len);

	*job = 0;
	if ((p = after(line, len, "srun: job "))) {
		q = digits(p, end, job);
		if (*job && rest_is(q, end, " queued and waiting for resources"))
			return SLURM_LINE_QUEUED;
		if (*job && rest_is(q, end, " has been allocated resources"))
			return SLURM_LINE_ALLOCATED;
		*job = 0;
		return SLURM_LINE_OTHER;
	}
	if ((p = after(line, len, "srun: jobid "))) {
		/* --verbose: "srun: jobid N: nodes(1):`NODE', cpu counts: ..." */
		q = digits(p, end, job);
		if (*job && after(q, (size_t)(end - q), ": nodes("))
			return SLURM_LINE_ALLOCATED;
		*job = 0;
		return SLURM_LINE_OTHER;
	}
	if ((p = after(line, len, "srun: error: "))) {
		/* "srun: error: NODE: task N: what" */
		const char *c = memchr(p, ':', (size_t)(end - p));
		return c && after(c, (size_t)(end - c), ": task ") ? SLURM_LINE_TASK :
		       SLURM_LINE_ERROR;
	}
	if (after(line, len, "srun: "))
		return SLURM_LINE_OTHER;
	/* slurmstepd, or slurmstepd-NODE, then ": " */
	if (!after(line, len, "slurmstepd") || !colon ||
	    (colon != line + 10 && line[10] != '-'))
		return SLURM_LINE_TRAINER;
	for (p = colon; (p = memchr(p, '*', (size_t)(end - p))) != NULL; p++) {
		if ((q = after(p, (size_t)(end - p), "*** STEP ")) ||
		    (q = after(p, (size_t)(end - p), "*** JOB "))) {
			unsigned long long id;
			const char *r = digits(q, end, &id);
			if (id && memmem(r, (size_t)(end - r), " CANCELLED AT ", 14)) {
				*job = id;
				return SLURM_LINE_CANCELLED;
			}
			break;
		}
	}
	return SLURM_LINE_OTHER;
}
