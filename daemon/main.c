/*
 * main.c: sweepd's command line, state directory and lifetime.
 *
 *   sweepd [--state-dir DIR] [--cpus N] [--gpus LIST|auto] [--workers N]
 *          [--log FILE] [--worker PATH] [--detach]
 *
 * The state directory (0700) holds sweepd.db and sweepd.sock. It must be
 * the daemon user's, and so must those files (strict.c). A flock on the
 * directory itself makes sure one daemon serves it, which also makes it
 * safe to remove a stale socket at start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "common/statedir.h"
#include "daemon/proc/slurm.h"
#include "daemon/capacity.h"
#include "daemon/log.h"
#include "daemon/daemon.h"
#include "daemon/serve/strict.h"
#include "daemon/sched/trialdir.h"

/* Where `meson install` puts the trainer (set by meson.build). */
#ifndef SWEEPD_LIBEXECDIR
#define SWEEPD_LIBEXECDIR "/usr/local/libexec/sweepd"
#endif

struct options {
	const char *state_dir;     /* NULL: the default */
	const char *log_path;      /* NULL: stderr */
	const char *worker_bin;    /* NULL: beside this executable */
	const char *trial_root;    /* NULL: STATE_DIR/trials */
	int workers;               /* 0: --cpus, else the machine's CPUs */
	struct capacity cap;       /* --cpus, --gpus */
	int detach;
	int no_cgroups;
	int slurm;                 /* --launcher slurm */
	const char *slurm_opt[4];  /* --slurm-partition, -account, -qos, -time */
	int slurm_max_jobs;        /* 0: the default */
	int slurm_local;           /* --slurm-local: the nodes are this host */
	struct slurm_opts slurm_opts;  /* owned: parsed from slurm_opt */
};

static const char *const slurm_keys[4] = { "partition", "account", "qos", "time" };

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: sweepd [--state-dir DIR] [--cpus N] [--gpus LIST|auto]\n"
		"              [--workers N] [--log FILE] [--worker PATH]\n"
		"              [--trial-root DIR] [--detach] [--no-cgroups]\n"
		"\n"
		"  --state-dir DIR  database, socket and lock (default:\n"
		"                   $SWEEP_STATE_DIR, $XDG_STATE_HOME/sweepd or\n"
		"                   ~/.local/state/sweepd)\n"
		"  --cpus N         CPUs the trials share (default: the machine's,\n"
		"                   at least --workers)\n"
		"  --gpus LIST      GPU device ids the trials share, e.g. 0,1,2,3;\n"
		"                   auto: those nvidia-smi -L lists (default: none)\n"
		"  --workers N      a cap on concurrent trials over all sweeps\n"
		"                   (default: --cpus, else the machine's CPUs)\n"
		"  --log FILE       append the log to FILE (SIGHUP reopens it)\n"
		"  --worker PATH    the built-in trainer (default: $SWEEPD_WORKER,\n"
		"                   sweep-worker beside sweepd, or\n"
		"                   " SWEEPD_LIBEXECDIR "/sweep-worker)\n"
		"  --trial-root DIR each trial's directory (SWEEP_TRIAL_DIR) is\n"
		"                   DIR/SWEEP/NUMBER (default: STATE_DIR/trials)\n"
		"  --detach         run in the background once listening\n"
		"  --no-cgroups     no cgroup v2 per trial, even where possible\n"
		"  --launcher local|slurm  who runs the trials of a spec without\n"
		"                   \"launcher\" (default: local; docs/slurm.md)\n"
		"  --slurm-partition P, --slurm-account A, --slurm-qos Q,\n"
		"  --slurm-time HH:MM:SS  srun's defaults under a spec's own\n"
		"  --slurm-max-jobs N  Slurm trials submitted at once (default 64)\n"
		"  --slurm-local    the cluster's only node is this machine: paths\n"
		"                   under /tmp are not refused for Slurm sweeps\n");
}

/* --launcher, --slurm-*: 0, or -1 said on stderr. */
static int
slurm_arg(struct options *o, int c, const char *arg)
{
	char *end;
	long n;

	if (c == 'L') {
		if (strcmp(arg, "local") != 0 && strcmp(arg, "slurm") != 0) {
			fprintf(stderr, "sweepd: --launcher must be local or slurm, "
				"got \"%s\"\n", arg);
			return -1;
		}
		o->slurm = strcmp(arg, "slurm") == 0;
		return 0;
	}
	if (c != 'M') {
		o->slurm_opt[c - 0x100] = arg;
		return 0;
	}
	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || n < 1 || n > 100000) {
		fprintf(stderr, "sweepd: --slurm-max-jobs must be an integer in "
			"[1, 100000], got \"%s\"\n", arg);
		return -1;
	}
	o->slurm_max_jobs = (int)n;
	return 0;
}

/* The --slurm-* values, checked as a spec's launcher.slurm would be. */
static int
slurm_defaults(struct options *o)
{
	cJSON *v = cJSON_CreateObject();
	char err[512];
	int rc = v ? 0 : -ENOMEM;

	for (int i = 0; i < 4 && rc == 0; i++)
		if (o->slurm_opt[i] &&
		    !cJSON_AddStringToObject(v, slurm_keys[i], o->slurm_opt[i]))
			rc = -ENOMEM;
	if (rc == 0)
		rc = slurm_opts_parse(&o->slurm_opts, v, "--slurm", err, sizeof err);
	else
		snprintf(err, sizeof err, "out of memory");
	cJSON_Delete(v);
	if (rc < 0) {
		fprintf(stderr, "sweepd: %s\n", err);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "workers",   required_argument, NULL, 'w' },
		{ "cpus",      required_argument, NULL, 'c' },
		{ "gpus",      required_argument, NULL, 'g' },
		{ "log",       required_argument, NULL, 'l' },
		{ "worker",    required_argument, NULL, 'W' },
		{ "trial-root", required_argument, NULL, 'T' },
		{ "detach",    no_argument,       NULL, 'd' },
		{ "no-cgroups", no_argument,      NULL, 'C' },
		{ "launcher",  required_argument, NULL, 'L' },
		{ "slurm-partition", required_argument, NULL, 0x100 },
		{ "slurm-account", required_argument, NULL, 0x101 },
		{ "slurm-qos", required_argument, NULL, 0x102 },
		{ "slurm-time", required_argument, NULL, 0x103 },
		{ "slurm-max-jobs", required_argument, NULL, 'M' },
		{ "slurm-local", no_argument,     NULL, 0x104 },
		{ "help",      no_argument,       NULL, 'h' },
		{ "version",   no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int c;

	memset(o, 0, sizeof *o);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		long n;

		switch (c) {
		case 's': o->state_dir = optarg; break;
		case 'l': o->log_path = optarg; break;
		case 'W': o->worker_bin = optarg; break;
		case 'T': o->trial_root = optarg; break;
		case 'd': o->detach = 1; break;
		case 'C': o->no_cgroups = 1; break;
		case 'w':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 4096) {
				fprintf(stderr, "sweepd: --workers must be an "
					"integer in [1, 4096], got \"%s\"\n", optarg);
				return -1;
			}
			o->workers = (int)n;
			break;
		case 'c':
		case 'g':
			if ((c == 'c' ? capacity_parse_cpus(&o->cap, optarg, err, sizeof err) :
			     capacity_parse_gpus(&o->cap, optarg, err, sizeof err)) < 0) {
				fprintf(stderr, "sweepd: %s\n", err);
				return -1;
			}
			break;
		case 0x104: o->slurm_local = 1; break;
		case 'L': case 'M': case 0x100: case 0x101: case 0x102: case 0x103:
			if (slurm_arg(o, c, optarg) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': puts("sweepd 0.1.0"); exit(0);
		default:  usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sweepd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return slurm_defaults(o);
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int
make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The state dir, created 0700 if missing, checked (strict.c) before
 * anything in it is opened. Returns its fd (kept open: it carries the
 * lock), the real path in out. */
static int
prepare_state_dir(const struct options *o, char *out, size_t outlen)
{
	char dir[PATH_MAX], sock[STATEDIR_SUN_PATH_MAX], err[PATH_MAX + 256];
	int rc, fd;

	if (o->state_dir) {
		snprintf(dir, sizeof dir, "%s", o->state_dir);
	} else if ((rc = statedir_default(dir, sizeof dir)) < 0) {
		fprintf(stderr, "sweepd: no state directory: set --state-dir, "
			"$SWEEP_STATE_DIR or $HOME\n");
		return rc;
	}
	if (snprintf(sock, sizeof sock, "%s/sweepd.sock", dir) >= (int)sizeof sock) {
		fprintf(stderr, "sweepd: socket path %s/sweepd.sock is too long: "
			"a Unix socket path holds at most %d bytes; use a "
			"shorter --state-dir\n", dir, STATEDIR_SUN_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	rc = make_dirs(dir);
	if (rc < 0) {
		fprintf(stderr, "sweepd: cannot create %s: %s\n", dir, strerror(-rc));
		return rc;
	}
	if (!realpath(dir, out) || strlen(out) >= outlen) {
		fprintf(stderr, "sweepd: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	/* Resolving links can make the path longer than the one given. */
	if (statedir_socket_path(out, sock, sizeof sock) < 0) {
		fprintf(stderr, "sweepd: socket path %s/sweepd.sock is too long: "
			"a Unix socket path holds at most %d bytes; use a "
			"shorter --state-dir\n", out, STATEDIR_SUN_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	fd = strict_open_dir(out, o->log_path, err, sizeof err);
	if (fd < 0) {
		fprintf(stderr, "sweepd: %s\n", err);
		return fd;
	}
	/* The socket's 0600 mode is the access control; the 0700 directory
	 * keeps other users from even reaching it. */
	if (fchmod(fd, 0700) < 0)
		fprintf(stderr, "sweepd: warning: cannot chmod 0700 %s: %s\n",
			out, strerror(errno));
	return fd;
}

static int
take_lock(int dirfd, const char *dir)
{
	int rc = strict_lock_dir(dirfd, 2000);

	if (rc == -EBUSY)
		fprintf(stderr, "sweepd: another sweepd is already running on "
			"%s\n", dir);
	else if (rc < 0)
		fprintf(stderr, "sweepd: cannot lock %s: %s\n", dir, strerror(-rc));
	return rc;
}

/* The trainer: $SWEEPD_WORKER, else sweep-worker beside this executable
 * (the build tree), else the one `meson install` put in libexec. */
static void
default_worker(char *buf, size_t len)
{
	char self[PATH_MAX], beside[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;
	const char *env = getenv("SWEEPD_WORKER");

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	snprintf(buf, len, "%s/sweep-worker", SWEEPD_LIBEXECDIR);
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(beside, sizeof beside, "%s/sweep-worker", self) <
		    (int)sizeof beside && strlen(beside) < len &&
	    access(beside, X_OK) == 0)
		memcpy(buf, beside, strlen(beside) + 1);
}

/* --detach: the parent returns once the child listens (or failed), so a
 * script that starts sweepd can use it at once. */
static int
detach(int *notify_fd)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		exit(read(fds[0], &c, 1) == 1 && c == '1' ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	*notify_fd = fds[1];
	return 0;
}

static void
release_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* The detached daemon is up: its parent may exit (detach), and stdio
 * goes (release_stdio). */
static void
notify_parent(int notify_fd)
{
	if (write(notify_fd, "1", 1) != 1)
		log_warn("cannot notify the parent: %s", strerror(errno));
	close(notify_fd);
	release_stdio();
}

/* The trials' directories (trialdir.h), checked as the state dir is. */
static int
prepare_trial_root(const struct options *o, const char *state_dir)
{
	char err[PATH_MAX + 512] = "";
	int fd, rc = trialdir_init(o->trial_root, state_dir, err, sizeof err);

	if (rc == 0) {
		fd = strict_open_dir(trialdir_root(), NULL, err, sizeof err);
		rc = fd < 0 ? fd : close(fd);
	}
	if (rc < 0) {
		fprintf(stderr, "sweepd: %s\n", err);
		log_error("%s", err);
	}
	return rc;
}

/* --workers, --cpus and --gpus into cfg (which borrows o's GPU list). The
 * defaults keep --workers N alone meaning N concurrent one-CPU trials. */
static void
set_capacity(struct options *o, struct daemon_config *cfg)
{
	char msg[256];

	cfg->workers = o->workers ? o->workers :
		       o->cap.cpus ? o->cap.cpus : capacity_machine_cpus();
	cfg->cpus = o->cap.cpus ? o->cap.cpus : capacity_machine_cpus();
	if (!o->cap.cpus && cfg->cpus < cfg->workers)
		cfg->cpus = cfg->workers;
	if (o->cap.gpu_auto) {
		capacity_detect_gpus(&o->cap, msg, sizeof msg);
		log_info("%s", msg);
	}
	cfg->gpus = o->cap.gpus;
	cfg->n_gpus = o->cap.n_gpus;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct daemon d;
	struct daemon_config cfg;
	char dir[PATH_MAX], worker[PATH_MAX];
	char logpath[PATH_MAX + 16], cache[PATH_MAX + 8];
	char err[1024] = "";
	uv_loop_t *loop = uv_default_loop();
	int lock_fd, notify_fd = -1, rc;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	lock_fd = prepare_state_dir(&o, dir, sizeof dir);
	if (lock_fd < 0)
		return 1;
	if (o.detach && !o.log_path) {
		snprintf(logpath, sizeof logpath, "%s/sweepd.log", dir);
		o.log_path = logpath;
	}
	if (o.log_path && (rc = log_open(o.log_path)) < 0) {
		fprintf(stderr, "sweepd: cannot open log %s: %s\n", o.log_path,
			strerror(-rc));
		return 1;
	}
	if (o.detach && detach(&notify_fd) < 0) {
		fprintf(stderr, "sweepd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	if (take_lock(lock_fd, dir) < 0)
		return 1;
	if (prepare_trial_root(&o, dir) < 0)
		return 1;
	if (o.worker_bin)
		snprintf(worker, sizeof worker, "%s", o.worker_bin);
	else
		default_worker(worker, sizeof worker);
	cfg.state_dir = dir;
	cfg.worker_bin = worker;
	cfg.cgroups = !o.no_cgroups;
	cfg.slurm_default = o.slurm;
	cfg.slurm_opts = &o.slurm_opts;
	cfg.slurm_max_jobs = o.slurm_max_jobs;
	cfg.slurm_local = o.slurm_local;
	cfg.trial_root_given = o.trial_root != NULL;
	/* the built-in trainer's prepared-data cache (worker/dcache.h), shared
	 * by all trials; a SWEEP_DATA_CACHE of the caller's own, even empty
	 * (no cache), is kept */
	snprintf(cache, sizeof cache, "%s/cache", dir);
	if (setenv("SWEEP_DATA_CACHE", cache, 0) < 0)
		log_warn("cannot set SWEEP_DATA_CACHE: %s", strerror(errno));
	set_capacity(&o, &cfg);

	if (daemon_open(&d, loop, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sweepd: %s\n", err);
		log_error("%s", err);
		return 1;
	}
	log_info("sweepd 0.1.0 listening on %s (pid %d, %d workers, %d CPUs, "
		 "%d GPUs)", d.srv.sock_path, (int)getpid(), cfg.workers, cfg.cpus,
		 cfg.n_gpus);
	if (notify_fd >= 0)
		notify_parent(notify_fd);
	daemon_run(&d);
	daemon_free(&d);
	rc = uv_loop_close(loop);
	if (rc < 0)
		log_warn("uv_loop_close: %s", uv_strerror(rc));
	trialdir_free();
	slurm_opts_free(&o.slurm_opts);
	log_info("sweepd stopped");
	log_close();
	close(lock_fd);
	return 0;
}
