/*
 * params.h: the trainer's hyperparameters, validated from one table.
 *
 * SWEEP_PARAMS is one JSON object: a trial's sampled params merged with the
 * spec's trainer options. params_parse() starts from every default, then
 * walks the object once: a key the table does not know, a value of the wrong
 * type or outside its range is refused with a message naming the key, e.g.
 * "param 'lr': 5 is out of range [1e-06, 1]". The table is also printed as
 * JSON (--params-table) so the daemon can check a sweep at submit time.
 */
#ifndef SWEEPD_WORKER_PARAMS_H
#define SWEEPD_WORKER_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#define PARAMS_MAX_HIDDEN 16
#define PARAMS_STR_MAX 1024

/* Enum params are stored as the index of their value in the table row's
 * list; these enums spell the same order. */
enum params_optimizer { OPT_SGD, OPT_MOMENTUM, OPT_NESTEROV, OPT_ADAM, OPT_RMSPROP };
enum params_activation { ACT_RELU, ACT_LEAKY_RELU, ACT_ELU, ACT_TANH, ACT_SIGMOID };
enum params_init { INIT_AUTO, INIT_SMALL_NORMAL, INIT_XAVIER, INIT_HE, INIT_AUTOENCODER,
		   INIT_PYTORCH };
enum params_schedule { SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE };
enum params_objective { OBJ_VAL_ACC, OBJ_VAL_LOSS, OBJ_TRAIN_LOSS, OBJ_TRAIN_ACC };
enum params_mode { MODE_AUTO, MODE_MAX, MODE_MIN };
enum params_preprocess { PRE_STANDARDIZE, PRE_MINMAX, PRE_NONE };
enum params_augment { AUG_NONE, AUG_SHIFT, AUG_FLIP };

/* The numeric keys of every epoch line the trainer writes (emit.c), in
 * its order, NULL-terminated: what a sweep's objective.metric can name. */
extern const char *const params_epoch_metrics[];

struct params_int_list {
	int n;
	int v[PARAMS_MAX_HIDDEN];
};

struct params {
	/* data */
	char dataset[PARAMS_STR_MAX];   /* "fashion-mnist" | "synthetic" | "idx:PREFIX" */
	char data_dir[PARAMS_STR_MAX];  /* where fashion-mnist's four files are */
	int val_size;                   /* samples held out from the training file */
	int split_seed;                 /* seed of the train/val shuffle (not SWEEP_SEED:
					 * every trial must be judged on the same val set) */
	double train_fraction;          /* share of the training part used, (0, 1] */
	int preprocess;                 /* enum params_preprocess */
	int augment;                    /* enum params_augment */
	int synthetic_size;             /* training-file samples of "synthetic" */
	int synthetic_test_size;
	int synthetic_features;
	int synthetic_classes;
	double synthetic_noise;         /* std of the noise around class centres */
	/* model */
	struct params_int_list hidden;  /* hidden widths, input side first */
	int activation;                 /* enum params_activation */
	bool batchnorm;
	double dropout;                 /* drop probability after each hidden activation */
	int init;                       /* enum params_init */
	double init_std;                /* small_normal's std */
	int pretrain_epochs;            /* autoencoder init: epochs per hidden layer */
	/* optimisation */
	int epochs;
	int batch_size;
	double lr;
	int optimizer;                  /* enum params_optimizer */
	double momentum;
	double beta1, beta2, eps, alpha;
	double weight_decay;            /* L2, added to the gradient like PyTorch */
	int lr_schedule;                /* enum params_schedule */
	int lr_step;                    /* step: epochs between decays */
	double lr_gamma;                /* step: decay factor */
	double lr_min;                  /* cosine: floor */
	/* early stopping */
	int objective;                  /* enum params_objective */
	int mode;                       /* enum params_mode; auto: acc max, loss min */
	int patience;                   /* epochs without improvement; 0 = off */
	double min_delta;
	/* ignored: which builtin trainer the daemon picked */
	char builtin[PARAMS_STR_MAX];
};

/* Fill every field with its table default. Never fails. */
void
params_defaults(struct params *p);

/* Parse a JSON object over the defaults. Returns 0, or -EINVAL with a
 * message naming the param in err (errlen bytes, always NUL-terminated).
 * json NULL or "" means all defaults. p is written even on failure. */
int
params_parse(struct params *p, const char *json, char *err, size_t errlen);

/* The table as a JSON array, one object per param (name, type, min, max,
 * default, values, help). Returns a malloc'd string the caller frees, or
 * NULL when out of memory. */
char *
params_table_json(void);

/*
 * Whether param `name` is a conditional knob: 1 with *parent (an enum
 * param) and *values (its NULL-terminated values for which `name` applies)
 * set; 0 for every other param. params_parse refuses a conditional knob
 * given while its parent has another value.
 */
int
params_condition(const char *name, const char **parent,
		 const char *const **values);

/* The value name of an enum param (e.g. "adam" for optimizer 3), or "?". */
const char *
params_enum_name(const char *param, int index);

/* True when the objective is maximised (explicit mode or acc objective). */
bool
params_objective_max(const struct params *p);

#endif
