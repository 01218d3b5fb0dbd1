/*
 * spec.h: the sweep spec, parsed and validated.
 *
 * A pure module (cJSON and libc only). spec_parse() turns the JSON a client
 * submits into a struct spec, or refuses it with one message that names the
 * field at fault by its path (`space.lr.loguniform: low must be > 0`,
 * `search.parallel: must be an integer from 1 to 1024`, `unknown field
 * "serach"`). Unknown keys are refused at every level except the options of
 * the built-in trainer (builtin.c checks those against sweep-worker's table)
 * and the "diagnosis" object (diag_config_parse checks that).
 *
 * Every field, default and limit is documented in docs/spec.md.
 */
#ifndef SWEEPD_DAEMON_SPEC_H
#define SWEEPD_DAEMON_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

enum spec_dist {
	SPEC_CONST,        /* a fixed value of any JSON type */
	SPEC_CHOICE,       /* one of values[], uniformly */
	SPEC_UNIFORM,      /* real in [low, high) */
	SPEC_LOGUNIFORM,   /* real in [low, high], uniform in log space */
	SPEC_INT,          /* integer in [low, high] */
	SPEC_LOGINT,       /* integer in [low, high], roughly uniform in log */
};

struct spec_param {
	char *name;        /* owned, non-empty */
	enum spec_dist kind;
	double low, high;  /* UNIFORM..LOGINT; integral for INT and LOGINT */
	cJSON *values;     /* CHOICE: owned array of the values; CONST: owned
			    * copy of the value; NULL otherwise */
	int n_values;      /* CHOICE: entries in values (>= 1); CONST: 1 */
	cJSON *grid;       /* NULL or owned array of explicit grid points, each
			    * within the distribution */
	/* "when": the param exists only when every condition holds (AND):
	 * the parent is active and has one of the listed values. */
	int n_when;
	struct spec_cond *when;   /* owned [n_when], NULL when unconditional */
	cJSON *when_json;  /* owned copy of the "when" object, or NULL */
};

/* One condition of "when" (ConfigSpace's InCondition). */
struct spec_cond {
	int parent;        /* index into spec.params */
	cJSON *values;     /* borrowed from the param's when_json: a non-empty
			    * array of values the parent can take */
};

enum spec_search { SPEC_GRID, SPEC_RANDOM, SPEC_TPE };
enum spec_pruner { SPEC_PRUNE_NONE, SPEC_PRUNE_MEDIAN, SPEC_PRUNE_ASHA };

/* Failure classes of limits.retry_on: 1u << common/vocab.h's enum
 * error_class ("signal", "timeout", "stall", "oom", "exit"; spec_limits.c
 * checks the two agree). */
enum spec_retry {
	SPEC_RETRY_SIGNAL  = 1u << 0,
	SPEC_RETRY_TIMEOUT = 1u << 1,
	SPEC_RETRY_STALL   = 1u << 2,
	SPEC_RETRY_OOM     = 1u << 3,
	SPEC_RETRY_EXIT    = 1u << 4,
	SPEC_RETRY_ALL     = (1u << 5) - 1,
};

#define SPEC_MAX_TRIALS     1000000
#define SPEC_MAX_PARALLEL   1024
#define SPEC_MAX_INT_GRID   1000      /* int ranges up to this many values
				       * are enumerated by grid search */
#define SPEC_HEARTBEAT_S    600       /* limits.heartbeat_s default */
#define SPEC_ASHA_MIN_TRIALS 4        /* pruner.min_trials default for asha
				       * (bench/search/README.md, sixth
				       * attempt of issue 19) */
#define SPEC_MAX_COND_GRID  10000     /* combinations of the parents of
				       * conditions grid search walks */
#define SPEC_MAX_SEED       ((UINT64_C(1) << 53) - 1)  /* exact in JSON */
#define SPEC_MAX_OBJECTIVES 4         /* entries of "objectives" */
#define SPEC_MAX_CPUS       4096      /* resources.cpus */
#define SPEC_MAX_GPUS       64        /* resources.gpus */

/* One objective: "objective", or an entry of "objectives". */
struct spec_objective {
	char *metric;      /* owned, a key of the trainer's epoch lines */
	int mode_max;      /* 1: higher is better */
};

/* Who runs the trials (docs/slurm.md): not given (the daemon's default,
 * sweepd --launcher), "local", or {"slurm": {...}}. */
enum spec_launcher {
	SPEC_LAUNCHER_NONE,
	SPEC_LAUNCHER_LOCAL,
	SPEC_LAUNCHER_SLURM,
};

struct spec {
	char *name;                /* owned; default "sweep" */
	int builtin;               /* 1: {"builtin":"mlp", ...options};
				    * 0: external command or manual */
	int manual;                /* 1: {"manual": {}}: no process, trials
				    * are asked for and told (manual.c) */
	cJSON *trainer;            /* owned copy of the trainer object */
	char **argv;               /* external: owned, argv[argc] == NULL,
				    * non-empty strings; builtin: NULL */
	int argc;
	char *cwd;                 /* NULL or owned absolute path */
	cJSON *env;                /* NULL or owned object of string values */
	char *metric;              /* borrowed: objectives[0].metric, the
				    * objective the search, pruners, early
				    * stopping and best use */
	int mode_max;              /* objectives[0].mode_max */
	int n_objectives;          /* 1 ("objective"), or the entries of
				    * "objectives", 1..SPEC_MAX_OBJECTIVES,
				    * distinct metrics */
	struct spec_objective objectives[SPEC_MAX_OBJECTIVES];
	int n_params;
	struct spec_param *params; /* owned [n_params], in spec order */
	int *order;                /* owned [n_params]: indices with every
				    * parent before the params it conditions */
	int conditional;           /* 1 when some param has "when" */
	enum spec_search algorithm;   /* default random */
	int trials;                /* total for the sweep, 1..SPEC_MAX_TRIALS */
	int parallel;              /* 1..SPEC_MAX_PARALLEL, default 1 */
	uint64_t seed;             /* valid when has_seed; <= SPEC_MAX_SEED */
	int has_seed;
	int tpe_n_startup;         /* default 10 */
	double tpe_gamma;          /* in (0, 1); 0 = "auto" (the default):
				    * min(ceil(0.1 n), 25) good trials */
	int tpe_n_candidates;      /* default 24 */
	int tpe_multivariate;      /* 1: the unconditional params are drawn
				    * from joint kernels (tpe.c); default 0 */
	int es_patience;           /* epochs; 0 = early stopping off */
	double es_min_delta;       /* >= 0 */
	enum spec_pruner pruner;   /* default none */
	int prune_min_epochs;      /* asha: first rung, default 1 */
	int prune_eta;             /* asha: default 3, >= 2 */
	int prune_promote;         /* asha: stopped trials may go on again */
	int prune_warmup;          /* median: epochs never pruned, default 0 */
	int prune_min_trials;      /* completed others needed before pruning:
				    * median >= 1, default 5; asha >= 0,
				    * default SPEC_ASHA_MIN_TRIALS */
	int prune_max_epochs;      /* never prune at or past it; 0 = none */
	int prune_objective;       /* pruner.metric as an index into
				    * objectives; 0 when not given. Only 0
				    * is accepted for now (the pruners rank
				    * by metric/mode_max) */
	double timeout_s;          /* limits.trial_timeout_s; 0 = none */
	int retries;               /* limits.retries, default 0 */
	int max_failures;          /* limits.max_failures; 0 = no limit */
	int has_max_failures;      /* max_failures was given: no fail-fast */
	double stall_s;            /* limits.stall_s; 0 = no watchdog */
	double heartbeat_s;        /* limits.heartbeat_s (manual trainers):
				    * an asked trial silent this long is
				    * failed as stale; 0 = never */
	long memory_mb;            /* limits.memory_mb; 0 = no limit */
	int nice;                  /* limits.nice, 0..19 */
	unsigned retry_on;         /* enum spec_retry bits; default ALL */
	int cpus;                  /* resources.cpus per trial, default 1 */
	int gpus;                  /* resources.gpus per trial, default 0 */
	cJSON *diagnosis;          /* NULL or owned copy of "diagnosis" */
	cJSON *enqueue;            /* NULL or owned array of param objects */
	int n_enqueue;             /* its length (cJSON counts by walking) */
	enum spec_launcher launcher;  /* "launcher"; NONE: the daemon's */
	cJSON *slurm;              /* NULL or owned copy of launcher.slurm */
	cJSON *json;               /* owned: the normalized spec (defaults
				    * filled in, the seed once set) */
};

/*
 * Parses and validates json (borrowed). On success returns 0 and *out is a
 * new spec owned by the caller (spec_free). On bad input returns -EINVAL
 * with a message naming the field in err (NUL-terminated, truncated to
 * errlen); -ENOMEM when memory runs out. *out is untouched on failure.
 * Parsing s->json again gives an equal spec.
 */
int spec_parse(const cJSON *json, struct spec **out, char *err, size_t errlen);

/*
 * For a spec stored by an earlier version (a sweep recovered at start-up),
 * before spec_parse: writes into json the defaults it was run with where
 * a later version changed them, so a sweep goes on after an upgrade as it
 * began. Today: an "asha" pruner without "min_trials" was stored before
 * ASHA had it, and ran with none (0). Returns 0, or -ENOMEM.
 */
int spec_keep_stored_defaults(cJSON *json);

/* Frees s and everything it owns. NULL is fine. */
void spec_free(struct spec *s);

/*
 * Sets the seed (masked to SPEC_MAX_SEED so it stays exact in JSON), sets
 * has_seed and writes it into s->json as search.seed. Does nothing if
 * memory runs out while updating s->json (s->seed is set all the same).
 */
void spec_set_seed(struct spec *s, uint64_t seed);

/* Index of the space param called name, or -1. */
int spec_param_index(const struct spec *s, const char *name);

/*
 * Grid search support. spec_param_grid_len: how many values grid search
 * takes for p: 1 for a constant, the choice values, the explicit "grid"
 * points, or every integer of an int/logint range of at most
 * SPEC_MAX_INT_GRID values; -1 when p cannot be enumerated (a continuous
 * range, or a larger integer range, without "grid" points).
 */
long spec_param_grid_len(const struct spec_param *p);

/*
 * The i-th grid value of p (0 <= i < spec_param_grid_len(p)) as a new cJSON
 * item owned by the caller; NULL when i is out of range or memory runs out.
 */
cJSON *spec_param_grid_value(const struct spec_param *p, long i);

/*
 * Combinations grid search walks: the product of spec_param_grid_len over
 * the params; -1 when a param cannot be enumerated; capped at
 * SPEC_MAX_TRIALS + 1 so it cannot overflow.
 */
long spec_grid_size(const struct spec *s);

/*
 * Grid search support with conditions: the digits (indices into
 * spec_param_grid_value) of combination idx (0 <= idx < spec_grid_size)
 * into digit[n_params], -1 for a param inactive in it. Without conditions
 * this is the mixed radix of spec order, last param fastest. With them,
 * the combinations of the parents (the params some "when" names) are
 * walked first in that order, skipping those that differ only in an
 * inactive parent, and each is followed by every combination of the
 * other params active in it. Returns 0, -EINVAL (idx out of range) or
 * -ENOMEM.
 */
int spec_grid_digits(const struct spec *s, long idx, long *digit);

/*
 * Which params are active for the values in params (borrowed; a full or
 * partial params object): active[i] is 1 when every condition of param i
 * holds (its parent active and its value, as given in params, listed), 0
 * otherwise; a param without conditions is always active. A parent absent
 * from params counts as inactive.
 */
void spec_active(const struct spec *s, const cJSON *params,
		 unsigned char *active);

/* Deletes from params (borrowed) every param spec_active finds inactive.
 * Returns 0 or -ENOMEM. */
int spec_drop_inactive(const struct spec *s, cJSON *params);

/* Entries of the spec's "enqueue" list (0 without one). Grid search gives
 * these the first trial numbers and starts the grid after them. */
int spec_n_enqueued(const struct spec *s);

/*
 * Checks a (partial) params object against the space: every key must be a
 * space param and its value one the param could take (a member of the
 * choice values, the constant itself, a number within the range, an
 * integer for int/logint). where prefixes messages ("enqueue[2]",
 * "params"): `enqueue[2].lr: 0.5 is outside the loguniform range [0.0001,
 * 0.1]`. A param whose conditions the object itself rules out (its
 * parent given a value outside the "when" list) is refused as well.
 * Returns 0 or -EINVAL with err set.
 */
int spec_check_params(const struct spec *s, const cJSON *params,
		      const char *where, char *err, size_t errlen);

#endif
