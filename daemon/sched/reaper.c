/*
 * reaper.c: escaped descendants of trials (see reaper.h).
 */
#include "daemon/sched/reaper.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/proc/slurm_run.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/state.h"
#include "daemon/sched/trial.h"
#include "daemon/proc/ident.h"
#include "daemon/proc/trialcg.h"

#define ENVIRON_MAX (8u << 20)   /* bytes of /proc/PID/environ read */

/* ---- /proc ------------------------------------------------------------ */

/* Parent pid and state letter of pid; -1 if it is gone. */
static int
proc_parent(int pid, int *ppid, char *state)
{
	char buf[1024];
	const char *p = ident_proc_stat(pid, buf, sizeof buf);

	if (!p || sscanf(p, " %c %d", state, ppid) != 2)
		return -1;
	return 0;
}

/* The whole environment of pid (NUL-separated), malloc'ed; NULL if it
 * cannot be read. */
static char *
proc_environ(int pid, size_t *len)
{
	char path[64], *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 16384;
			nb = cap <= ENVIRON_MAX ? realloc(buf, cap + 1) : NULL;
			if (!nb)
				break;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* The trial id in pid's SWEEPD_TRIAL when it is of this daemon (key), else
 * 0 (none, another daemon's, unreadable). */
static int64_t
proc_trial(int pid, const char *key)
{
	char prefix[128];
	size_t len, pl;
	char *env = proc_environ(pid, &len);
	int64_t id = 0;

	if (!env)
		return 0;
	pl = (size_t)snprintf(prefix, sizeof prefix, "%s=%s:", IDENT_ENV, key);
	for (size_t i = 0; i < len; i += strlen(env + i) + 1) {
		if (strncmp(env + i, prefix, pl) == 0) {
			id = strtoll(env + i + pl, NULL, 10);
			break;
		}
	}
	free(env);
	return id;
}

/* Calls fn(pid, ud) for every process but this one. */
static void
each_pid(void (*fn)(int pid, void *ud), void *ud)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int self = (int)getpid();

	if (!d)
		return;
	while ((e = readdir(d))) {
		int pid;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid > 0 && pid != self)
			fn(pid, ud);
	}
	closedir(d);
}

/* Calls fn(pid, ud) for each child of this process, from the threads'
 * /proc/self/task/TID/children lists; 0, or -ENOENT where the kernel has
 * no such lists (then nothing was called). */
static int
each_child(void (*fn)(int pid, void *ud), void *ud)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int rc = -ENOENT;

	if (!d)
		return rc;
	while ((e = readdir(d))) {
		char path[320];
		FILE *f;
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		rc = 0;
		while (fscanf(f, "%d", &pid) == 1)
			fn(pid, ud);
		fclose(f);
	}
	closedir(d);
	return rc;
}

/* ---- the daemon's children --------------------------------------------- */

/* 1 while trial id runs and its trainer has not exited (its descendants
 * and its cgroup are left alone). ud: the scheduler. */
static int
trainer_running(void *ud, int64_t id)
{
	const struct trial *t = sched_running_trial(ud, 0, id);

	return t && !t->child.exited;
}

struct sweep_ctx {
	struct sched *s;
	int all;       /* the end: spare no one */
	int found;     /* children that are not trainers */
};

static void
check_child(int pid, void *ud)
{
	struct sweep_ctx *c = ud;
	int ppid;
	char state;
	int64_t id;

	if (sched_running_trial(c->s, pid, 0) || slurm_run_helper(pid) ||
	    proc_parent(pid, &ppid, &state) < 0 || ppid != (int)getpid())
		return;   /* a trainer (child.c reaps those), or not ours */
	c->found++;
	if (state == 'Z') {
		waitpid(pid, NULL, WNOHANG);
		return;
	}
	id = proc_trial(pid, c->s->reaper_key);
	if (!c->all && id && trainer_running(c->s, id))
		return;   /* its trainer is still running */
	if (id)
		log_warn("killing pid %d, left behind by trial id %" PRId64
			 " outside its process group", pid, id);
	else
		log_warn("killing pid %d, left behind by a trial outside its "
			 "process group (its environment does not say which)", pid);
	kill(pid, SIGKILL);
}

static int
sweep_children(struct sched *s, int all)
{
	struct sweep_ctx c = { .s = s, .all = all };

	/* Where the kernel lists children (CONFIG_PROC_CHILDREN), a check is
	 * one read when there is nothing to do; else every pid is looked at. */
	if (each_child(check_child, &c) < 0)
		each_pid(check_child, &c);
	return c.found;
}

static void
on_reap_timer(uv_timer_t *tm)
{
	struct sched *s = tm->data;

	sweep_children(s, 0);
	trialcg_tidy(s->cg);
}

static void
on_sigchld(uv_signal_t *h, int signum)
{
	(void)signum;
	reaper_schedule(h->data);
}

void
reaper_schedule(struct sched *s)
{
	if (s->reaper_on && !uv_is_active((uv_handle_t *)&s->reap_timer))
		uv_timer_start(&s->reap_timer, on_reap_timer, REAPER_DELAY_MS, 0);
}

int
reaper_init(struct sched *s, char *err, size_t errlen)
{
	struct stat st;
	int rc = 0;

	if (stat(s->state_dir, &st) == 0)
		snprintf(s->reaper_key, sizeof s->reaper_key, "%ju:%ju",
			 (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	else
		snprintf(s->reaper_key, sizeof s->reaper_key, "0:0");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot become a child subreaper (%s): "
			 "descendants that leave a trial's process group may "
			 "outlive it", strerror(-rc));
	}
	uv_timer_init(s->loop, &s->reap_timer);
	uv_signal_init(s->loop, &s->sig_chld);
	s->reap_timer.data = s->sig_chld.data = s;
	uv_signal_start(&s->sig_chld, on_sigchld, SIGCHLD);
	s->reaper_on = 1;
	return rc;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
reaper_close(struct sched *s)
{
	/* Killing a child reparents its own children to the daemon: go on
	 * while there are any, for about a second at most. */
	for (int round = 0; round < 20 && sweep_children(s, 1) > 0; round++)
		usleep(50 * 1000);
	if (!s->reaper_on)
		return;
	uv_close((uv_handle_t *)&s->reap_timer, on_closed);
	uv_close((uv_handle_t *)&s->sig_chld, on_closed);
	s->reaper_on = 0;
}

struct kill_ctx {
	const char *key;
	int killed;
};

static void
kill_if_any_trial(int pid, void *ud)
{
	struct kill_ctx *c = ud;

	if (proc_trial(pid, c->key) <= 0)
		return;
	if (kill(pid, SIGKILL) == 0)
		c->killed++;
}

int
reaper_kill_all(const char *key)
{
	struct kill_ctx c = { .key = key };

	each_pid(kill_if_any_trial, &c);
	return c.killed;
}
