/*
 * trial.c: a trial's run, as the scheduler sees it.
 *
 * The process itself (pipes, lines, backlogs, stderr tail, timers, the one
 * end) is the child module's (daemon/proc/child.c); this file gives it the
 * trial's command, environment and limits, reads what it reports as the
 * protocol says (docs/DESIGN.md), and hands the trial to the scheduler
 * when the child has ended (sched_trial_ended). The trial's cgroup
 * (trialcg.c) is made before the start and, when the trainer exits (or
 * never started), removed, or killed when something is still in it,
 * and the reaper (reaper.c) looks for what escaped both.
 */
#include "daemon/sched/trial.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/log.h"
#include "daemon/sched/trialdir.h"
#include "daemon/sched/state.h"
#include "daemon/search/spec.h"
#include "daemon/proc/ident.h"
#include "daemon/proc/trialcg.h"

extern char **environ;

struct trial *
trial_new(struct sweep *sw, int64_t id, int number, int attempt, uint64_t seed,
	  const char *params_json)
{
	struct trial *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->params_json = strdup(params_json);
	if (!t->params_json) {
		free(t);
		return NULL;
	}
	t->sweep = sw;
	t->id = id;
	t->number = number;
	t->attempt = attempt;
	t->seed = seed;
	t->status = TRIAL_QUEUED;
	t->best = NAN;
	t->test_loss = NAN;
	t->test_acc = NAN;
	return t;
}

static void
curve_clear(struct trial *t)
{
	for (int i = 0; i < t->n_curve; i++)
		free((void *)t->curve[i].grad_norm);
	free(t->curve);
	t->curve = NULL;
	t->n_curve = t->cap_curve = 0;
}

void
trial_free(struct trial *t)
{
	if (!t)
		return;
	curve_clear(t);
	child_free(&t->child);
	cJSON_Delete(t->diagnosis);
	free(t->params_json);
	free(t->end_msg);
	free(t->end_diag);
	free(t);
}

int64_t
trial_proc_start(int pid)
{
	char buf[1024];
	const char *p = ident_proc_stat(pid, buf, sizeof buf);
	long long start;

	if (!p)
		return -1;
	/* p is the space before field 3; after the loop, the one before field
	 * 22, starttime. (sscanf with 19 skipped conversions cost more than
	 * the rest of starting a trial.) */
	for (int field = 4; field <= 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	start = strtoll(p + 1, NULL, 10);
	return start > 0 ? start : -1;
}

/* ---- stopping -------------------------------------------------------- */

void
trial_stop(struct trial *t, enum trial_stop why, const char *msg)
{
	if (t->stop == STOP_NONE) {
		t->stop = why;
		snprintf(t->stop_msg, sizeof t->stop_msg, "%s", msg ? msg : "");
	}
	if (t->manual) {
		t->sweep->sched->hooks.manual_stop(t);
		return;
	}
	child_stop(&t->child);
}

/* ---- what the child tells ---------------------------------------------- */

static void
protocol_error(struct trial *t, const char *msg)
{
	log_warn("sweep %" PRId64 " trial %d: %s", t->sweep->id, t->number,
		 msg);
	trial_stop(t, STOP_PROTOCOL, msg);
}

/* False (with the message) when the epoch line gives the objective metric
 * as a string: it would never count, and "never reported" would mislead. */
static int
objective_is_number(const struct trial *t, const struct report_line *r,
		    const char *line, size_t len, char *err, size_t errlen)
{
	const char *metric = t->sweep->spec->metric;
	char text[64];

	if (report_has(r, metric) ||
	    !report_string_value(line, len, metric, text, sizeof text))
		return 1;
	snprintf(err, errlen, "the objective metric \"%s\" is a string "
		 "(\"%s\"), not a number: %.200s", metric, text, line);
	return 0;
}

static int
handle_line(struct trial *t, const char *line, size_t len)
{
	struct report_line r;
	char err[512];

	if (t->stop != STOP_NONE)
		return 0;   /* stopping: late lines are not part of the result */
	if (len == 0)
		return 0;
	if (report_parse(line, len, &r, err, sizeof err) < 0) {
		protocol_error(t, err);
		return -EPROTO;
	}
	t->last_report_ms = uv_now(t->sweep->sched->loop);
	child_alive(&t->child);
	if (t->got_final || (r.kind == REPORT_EPOCH &&
			     !objective_is_number(t, &r, line, len, err,
						  sizeof err))) {
		if (t->got_final)
			snprintf(err, sizeof err, "%s line after the final line: "
				 "%.200s", r.kind == REPORT_EPOCH ? "an epoch" :
				 "a second final", line);
		protocol_error(t, err);
		return -EPROTO;
	}
	if (r.kind == REPORT_EPOCH) {
		if (r.epoch <= t->last_epoch) {
			snprintf(err, sizeof err,
				 "epoch %d reported after epoch %d", r.epoch,
				 t->last_epoch);
			protocol_error(t, err);
			return -EPROTO;
		}
		t->last_epoch = r.epoch;
	} else {
		t->got_final = 1;
		t->final_best_epoch = r.best_epoch;
		t->test_loss = report_get(&r, "test_loss");
		t->test_acc = report_get(&r, "test_acc");
	}
	t->sweep->sched->hooks.report(t, &r);
	return 0;
}

/* A line on stdout without the prefix that would be a valid report line:
 * counted, until a real report arrives, so that a trainer that forgot the
 * prefix (or fd 3) is told so instead of "never reported". */
static void
note_plain_report(struct trial *t, const char *line, size_t len)
{
	struct report_line r;
	size_t i = 0;

	if (t->last_epoch > 0 || t->got_final)
		return;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] != '{' ||
	    report_parse(line + i, len - i, &r, NULL, 0) < 0)
		return;
	if (t->plain_reports++ == 0) {
		size_t cut = len - i < 80 ? len - i : 80;
		/* not inside a UTF-8 sequence: the message must stay valid */
		while (cut < len - i && cut > 0 &&
		       ((unsigned char)line[i + cut] & 0xc0) == 0x80)
			cut--;
		snprintf(t->plain_example, sizeof t->plain_example, "%.*s%s",
			 (int)cut, line + i, cut < len - i ? "..." : "");
	}
}

static int
on_child_report(void *ud, char *line, size_t len)
{
	return handle_line(ud, line, len);
}

/* A stdout line without the "SWEEP " prefix: the trainer's own output,
 * not ours to read, but counted when it would be a report. */
static void
on_child_output(void *ud, char *line, size_t len)
{
	note_plain_report(ud, line, len);
}

static void
on_child_refused(void *ud, const char *msg)
{
	protocol_error(ud, msg);
}

/* limits.trial_timeout_s passed, or limits.stall_s without a report. */
static void
on_child_limit(void *ud, enum child_limit which)
{
	struct trial *t = ud;
	const struct spec *sp = t->sweep->spec;
	char msg[128];

	if (which == CHILD_TIMEOUT) {
		snprintf(msg, sizeof msg, "timed out after %g s "
			 "(limits.trial_timeout_s)", sp->timeout_s);
		trial_stop(t, STOP_TIMEOUT, msg);
		return;
	}
	snprintf(msg, sizeof msg, "no report line for %g s (limits.stall_s)",
		 sp->stall_s);
	trial_stop(t, STOP_STALL, msg);
}

/* The trainer exited: what left its group but not its cgroup goes too;
 * what left both comes back to the daemon, the subreaper (reaper.c). */
static void
on_child_exited(void *ud)
{
	struct trial *t = ud;

	if (t->child.term_signal == SIGKILL)
		trialcg_end_killed(t->sweep->sched->cg, t->id, t->attempt);
	else
		trialcg_end(t->sweep->sched->cg, t->id, t->attempt);
	t->sweep->sched->hooks.reap_soon(t->sweep->sched);
}

/* The work began: a Slurm job left the queue (a local one began at once). */
static void
on_child_started(void *ud)
{
	struct trial *t = ud;

	if (t->sweep->slurm)
		t->sweep->sched->hooks.slurm_started(t);
}

static void
on_child_ended(void *ud, struct child *c)
{
	struct trial *t = ud;

	(void)c;
	if (t->sweep->slurm)
		t->sweep->sched->hooks.slurm_ended(t);
	t->sweep->sched->hooks.ended(t);
}

static const struct child_cbs trial_child_cbs = {
	.report = on_child_report,
	.output = on_child_output,
	.refused = on_child_refused,
	.limit = on_child_limit,
	.started = on_child_started,
	.exited = on_child_exited,
	.ended = on_child_ended,
};

/* ---- starting -------------------------------------------------------- */

/* NULL-terminated environment: the daemon's, then the spec's trainer.env,
 * then the SWEEP_* variables, each later one replacing an earlier name. */
struct envb {
	char **v;
	int n, cap;
};

/* Where the name kv (its first nl bytes: a name, or an entry's name)
 * first is in e, or -1 (strncmp, not memcmp: an entry may be shorter
 * than nl). */
static int
env_find(const struct envb *e, const char *kv, size_t nl)
{
	for (int i = 0; i < e->n; i++)
		if ((nl == 0 || e->v[i][0] == kv[0]) &&
		    strncmp(e->v[i], kv, nl) == 0 &&
		    e->v[i][nl] == '=')
			return i;
	return -1;
}

static int
env_set(struct envb *e, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *kv;
	int i;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	if ((i = env_find(e, name, nl)) >= 0) {
		free(e->v[i]);
		e->v[i] = kv;
		return 0;
	}
	if (e->n + 2 > e->cap) {
		int cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, (size_t)cap * sizeof *v);
		if (!v) {
			free(kv);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
	return 0;
}

static int
env_set_cb(void *e, const char *name, const char *value)
{
	return env_set(e, name, value);
}

static void
env_unset(struct envb *e, const char *name)
{
	int i = env_find(e, name, strlen(name));

	if (i < 0)
		return;
	free(e->v[i]);
	memmove(&e->v[i], &e->v[i + 1], (size_t)(e->n - i) * sizeof *e->v);
	e->n--;
}

static void
env_free(struct envb *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* The trainer's SWEEP_PARAMS: the trial's params, and for the built-in
 * trainer the trainer options of the spec merged in (params win). */
static char *
params_for_child(const struct trial *t)
{
	const struct spec *sp = t->sweep->spec;
	cJSON *obj, *it;
	char *out;

	if (!sp->builtin)
		return strdup(t->params_json);
	obj = cJSON_Parse(t->params_json);
	if (!obj)
		return NULL;
	cJSON_ArrayForEach(it, sp->trainer) {
		if (strcmp(it->string, "builtin") == 0 ||
		    cJSON_HasObjectItem(obj, it->string))
			continue;
		cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, 1));
	}
	out = json_print(obj);
	cJSON_Delete(obj);
	return out;
}

/* SWEEP_TRIAL_DIR, and SWEEP_RESUME / SWEEP_RESUME_EPOCH after an
 * interruption (resume.h): whatever the daemon's or the spec's env said. */
static int
resume_env(const struct trial *t, struct envb *e)
{
	char dir[PATH_MAX], num[32];
	int rc = trialdir_path(t->sweep->id, t->number, dir, sizeof dir);

	if (rc == -ENOENT) {   /* no root configured: no directory */
		env_unset(e, "SWEEP_TRIAL_DIR");
		rc = 0;
	} else if (rc == 0) {
		rc = env_set(e, "SWEEP_TRIAL_DIR", dir);
	}
	if (t->resume_epoch <= 0) {
		env_unset(e, "SWEEP_RESUME");
		env_unset(e, "SWEEP_RESUME_EPOCH");
		return rc;
	}
	snprintf(num, sizeof num, "%d", t->resume_epoch);
	if (rc == 0)
		rc = env_set(e, "SWEEP_RESUME", "1");
	if (rc == 0)
		rc = env_set(e, "SWEEP_RESUME_EPOCH", num);
	return rc;
}

/* The daemon's environment, as env_set of each entry in turn would make
 * it (names of 256 bytes or more and entries without '=' left out; a
 * repeated name keeps its first place and its last value), but copied
 * with one strdup each: asprintf's formatting of every entry was most of
 * a trial's environment (issue 17). */
static int
env_base(struct envb *e)
{
	int n = 0, i;

	for (char **p = environ; *p; p++)
		n++;
	if (n + 2 > e->cap) {
		char **v = realloc(e->v, (size_t)(n + 64) * sizeof *v);
		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = n + 64;
	}
	e->v[e->n] = NULL;
	for (char **p = environ; *p; p++) {
		const char *eq = strchr(*p, '=');
		size_t nl = eq ? (size_t)(eq - *p) : 0;
		char *kv;

		if (!eq || nl >= 256)
			continue;
		kv = strdup(*p);
		if (!kv)
			return -ENOMEM;
		i = env_find(e, kv, nl);
		if (i >= 0) {
			free(e->v[i]);
			e->v[i] = kv;
			continue;
		}
		e->v[e->n++] = kv;
		e->v[e->n] = NULL;
	}
	return 0;
}

static int
build_env(const struct trial *t, struct envb *e)
{
	const struct spec *sp = t->sweep->spec;
	char num[32], key[96], *params;
	const cJSON *it;
	int rc = 0;

	rc = env_base(e);
	if (rc == 0 && sp->env) {
		cJSON_ArrayForEach(it, sp->env) {
			if (rc == 0 && cJSON_IsString(it))
				rc = env_set(e, it->string, it->valuestring);
		}
	}
	if (rc == 0 && t->sweep->slurm) {
		/* Slurm maps the resources and sets CUDA_VISIBLE_DEVICES on
		 * the node: the CPU count only, no devices of this host. */
		static const struct sched_res none;
		struct res_hold h = { .cpus = sp->cpus };
		rc = res_env(&none, &h, sp->env, env_set_cb, e);
	} else if (rc == 0) {   /* after trainer.env: it names the threads */
		rc = res_env(&t->sweep->sched->res, &t->res, sp->env, env_set_cb, e);
	}
	params = params_for_child(t);
	if (!params)
		return -ENOMEM;
	if (rc == 0)
		rc = env_set(e, "SWEEP_PARAMS", params);
	free(params);
	snprintf(num, sizeof num, "%" PRId64, t->id);
	if (rc == 0)
		rc = env_set(e, "SWEEP_TRIAL_ID", num);
	snprintf(num, sizeof num, "%d", t->number);
	if (rc == 0)
		rc = env_set(e, "SWEEP_TRIAL_NUMBER", num);
	snprintf(num, sizeof num, "%" PRId64, t->sweep->id);
	if (rc == 0)
		rc = env_set(e, "SWEEP_SWEEP_ID", num);
	snprintf(num, sizeof num, "%" PRIu64, t->seed);
	if (rc == 0)
		rc = env_set(e, "SWEEP_SEED", num);
	snprintf(num, sizeof num, "%d", t->attempt);
	if (rc == 0)
		rc = env_set(e, "SWEEP_ATTEMPT", num);
	if (rc == 0)
		rc = env_set(e, "SWEEP_REPORT_FD", "3");
	if (rc == 0)
		rc = resume_env(t, e);
	ident_trial_mark(t->sweep->sched->reaper_key, t->id, key, sizeof key);
	if (rc == 0)
		rc = env_set(e, IDENT_ENV, key);
	if (t->sweep->slurm) {
		/* fd 3 does not cross srun; the mark is for this host's
		 * reaper, and the trainer runs on a node under slurmstepd. */
		env_unset(e, "SWEEP_REPORT_FD");
		env_unset(e, IDENT_ENV);
	}
	return rc;
}

static void
reset_run_state(struct trial *t)
{
	curve_clear(t);
	cJSON_Delete(t->diagnosis);
	t->diagnosis = NULL;
	child_reset(&t->child);
	t->stop = STOP_NONE;
	t->stop_msg[0] = '\0';
	t->asha_rung = 0;   /* of an earlier attempt; promoted_rung stays */
	t->diag_stored_ms = uv_now(t->sweep->sched->loop);   /* progress.c */
	t->last_epoch = 0;
	t->best = NAN;
	t->best_epoch = 0;
	t->got_final = 0;
	t->plain_reports = 0;
	t->batched = 0;
	t->batch_epoch = 0;
	t->batch_start = 0;
	t->plain_example[0] = '\0';
	t->final_best_epoch = 0;
	t->test_loss = t->test_acc = NAN;
	t->queue_s = 0;
	memset(&t->slurm, 0, sizeof t->slurm);
}

void
trial_reset(struct trial *t)
{
	reset_run_state(t);
}


/* A Slurm trial runs srun (slurm_run.c's row): no local limits, no
 * cgroup here; Slurm applies the resources. *srun owned by the caller. */
static int
slurm_config(struct trial *t, struct child_config *cfg, char ***srun, char *err,
	     size_t errlen)
{
	int rc = t->sweep->sched->hooks.slurm_argv(t, cfg->argv, srun, err,
						   errlen);

	if (rc < 0)
		return rc;
	cfg->argv = *srun;
	cfg->launcher = &launcher_slurm;
	cfg->launcher_arg = &t->slurm;
	cfg->memory_mb = 0;
	cfg->nice = 0;
	cfg->cgroup = NULL;
	return 0;
}

int
trial_start(struct trial *t, char *err, size_t errlen)
{
	struct sched *s = t->sweep->sched;
	const struct spec *sp = t->sweep->spec;
	char *builtin_argv[2] = { s->worker_bin, NULL };
	struct envb env = { 0 };
	char cgdir[4300] = "", label[64], **srun = NULL;
	struct child_config cfg = {
		.loop = s->loop,
		.label = label,
		.argv = sp->builtin ? builtin_argv : sp->argv,
		.cwd = sp->cwd,
		.max_line = REPORT_MAX_LINE,
		.timeout_s = sp->timeout_s,
		.stall_s = sp->stall_s,
		.memory_mb = sp->memory_mb,
		.nice = sp->nice,
		.cgroup = cgdir,
	};
	int rc;

	reset_run_state(t);
	t->attempt++;
	t->status = TRIAL_RUNNING;
	t->started_at = sched_now();
	t->last_report_ms = uv_now(s->loop);
	snprintf(label, sizeof label, "trial %d/%d", t->number, t->attempt);
	if (!t->sweep->slurm &&
	    trialcg_create(s->cg, t->id, t->attempt, cgdir, sizeof cgdir) == 0)
		cfg.cgroup_at = trialcg_at(s->cg, cgdir, &cfg.cgroup);
	rc = s->hooks.begin(t, err, errlen);
	if (rc == 0 && t->sweep->slurm)
		rc = slurm_config(t, &cfg, &srun, err, errlen);
	if (rc < 0)
		child_fail(&t->child, &cfg, &trial_child_cbs, t, rc);
	else if ((rc = build_env(t, &env)) < 0) {
		snprintf(err, errlen, "cannot build the environment: %s",
			 strerror(-rc));
		child_fail(&t->child, &cfg, &trial_child_cbs, t, rc);
	} else {
		cfg.env = env.v;
		rc = child_start(&t->child, &cfg, &trial_child_cbs, t, err,
				 errlen);
	}
	env_free(&env);
	slurm_argv_free(srun);
	if (rc < 0 && cgdir[0])   /* nothing runs in it: not left to tidy */
		trialcg_end(s->cg, t->id, t->attempt);
	return rc;
}
