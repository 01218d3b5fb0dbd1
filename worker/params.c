/*
 * params.c: the hyperparameter table and the one loop that checks it.
 *
 * Each row names a field of struct params by offset, so adding a param is
 * one row plus one field; nothing else parses params.
 */
#include "worker/params.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ptype { PT_INT, PT_FLOAT, PT_BOOL, PT_ENUM, PT_STRING, PT_INT_LIST };

static const char *const ptype_names[] = {
	"int", "float", "bool", "enum", "string", "int_list",
};

struct param_def {
	const char *name;
	enum ptype type;
	double min, max;                /* INT, FLOAT; INT_LIST: per item */
	double def;                     /* INT, FLOAT, BOOL */
	const char *def_str;            /* ENUM, STRING; INT_LIST: JSON text */
	const char *const *values;      /* ENUM: NULL-terminated */
	size_t offset;                  /* into struct params */
	/* STRING: extra check, returns 0 or -EINVAL with a message. */
	int (*check)(const char *v, char *err, size_t errlen);
	const char *help;
	/* Conditional knobs: NULL, or the enum param whose value (one of
	 * when_values, NULL-terminated) makes this one mean anything. */
	const char *when;
	const char *const *when_values;
};

static const char *const v_optimizer[] = { "sgd", "momentum", "nesterov", "adam", "rmsprop", NULL };
static const char *const v_activation[] = { "relu", "leaky_relu", "elu", "tanh", "sigmoid", NULL };
static const char *const v_init[] = { "auto", "small_normal", "xavier", "he", "autoencoder",
				      "pytorch", NULL };
static const char *const v_schedule[] = { "constant", "step", "cosine", NULL };
static const char *const v_objective[] = { "val_acc", "val_loss", "train_loss", "train_acc", NULL };
static const char *const v_mode[] = { "auto", "max", "min", NULL };
static const char *const v_preprocess[] = { "standardize", "minmax", "none", NULL };
static const char *const v_augment[] = { "none", "shift", "flip", NULL };
static const char *const v_builtin[] = { "mlp", NULL };
/* What the conditional knobs apply to. */
static const char *const w_momentum[] = { "momentum", "nesterov", NULL };
static const char *const w_adam[] = { "adam", NULL };
static const char *const w_eps[] = { "adam", "rmsprop", NULL };
static const char *const w_rmsprop[] = { "rmsprop", NULL };
static const char *const w_step[] = { "step", NULL };
static const char *const w_cosine[] = { "cosine", NULL };
static const char *const w_small_normal[] = { "small_normal", NULL };
static const char *const w_autoencoder[] = { "autoencoder", NULL };

const char *const params_epoch_metrics[] = {
	"train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", NULL,
};

static int
check_dataset(const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "fashion-mnist") == 0 || strcmp(v, "synthetic") == 0)
		return 0;
	if (strncmp(v, "idx:", 4) == 0 && v[4] != '\0')
		return 0;
	snprintf(err, errlen, "param 'dataset': \"%s\" is not one of fashion-mnist, synthetic, "
		 "idx:PREFIX", v);
	return -EINVAL;
}

#define OFF(f) offsetof(struct params, f)
#define P_INT(n, lo, hi, d, h) { #n, PT_INT, lo, hi, d, NULL, NULL, OFF(n), NULL, h, NULL, NULL }
#define P_FLT(n, lo, hi, d, h) { #n, PT_FLOAT, lo, hi, d, NULL, NULL, OFF(n), NULL, h, NULL, NULL }
#define P_ENUM(n, vals, d, h) { #n, PT_ENUM, 0, 0, 0, d, vals, OFF(n), NULL, h, NULL, NULL }
#define P_INT_IF(n, lo, hi, d, h, w, wv) \
	{ #n, PT_INT, lo, hi, d, NULL, NULL, OFF(n), NULL, h, w, wv }
#define P_FLT_IF(n, lo, hi, d, h, w, wv) \
	{ #n, PT_FLOAT, lo, hi, d, NULL, NULL, OFF(n), NULL, h, w, wv }

static const struct param_def table[] = {
	{ "builtin", PT_ENUM, 0, 0, 0, "mlp", v_builtin, OFF(builtin), NULL,
	  "which built-in trainer; ignored (there is one)", NULL, NULL },
	{ "dataset", PT_STRING, 0, 0, 0, "fashion-mnist", NULL, OFF(dataset), check_dataset,
	  "fashion-mnist | synthetic | idx:PREFIX (PREFIX + train-images-idx3-ubyte.gz ...)",
	  NULL, NULL },
	{ "data_dir", PT_STRING, 0, 0, 0, "/usr/share/datasets/fashion-mnist", NULL, OFF(data_dir),
	  NULL, "directory of the fashion-mnist IDX files", NULL, NULL },
	P_INT(val_size, 1, 10000000, 10000, "training-file samples held out for validation"),
	P_INT(split_seed, 0, 2147483647, 0,
	      "seed of the train/val shuffle; fixed so all trials share one val set"),
	P_FLT(train_fraction, 1e-4, 1, 1, "share of the training part trained on"),
	P_ENUM(preprocess, v_preprocess, "standardize",
	       "standardize (training-part statistics; one mean/std for images) | minmax | none"),
	P_ENUM(augment, v_augment, "none",
	       "on-the-fly augmentation of image data: shift (up to 2 px) | flip (horizontal)"),
	P_INT(synthetic_size, 20, 10000000, 20000, "synthetic: samples in the training file"),
	P_INT(synthetic_test_size, 10, 10000000, 5000, "synthetic: samples in the test file"),
	P_INT(synthetic_features, 1, 100000, 32, "synthetic: input features"),
	P_INT(synthetic_classes, 2, 1000, 5, "synthetic: classes"),
	P_FLT(synthetic_noise, 0, 100, 1.0, "synthetic: noise std around the class centres"),
	{ "hidden", PT_INT_LIST, 1, 65536, 0, "[48, 24]", NULL, OFF(hidden), NULL,
	  "hidden layer widths, input side first; [] is softmax regression", NULL, NULL },
	P_ENUM(activation, v_activation, "relu", "hidden activation"),
	{ "batchnorm", PT_BOOL, 0, 1, 0, NULL, NULL, OFF(batchnorm), NULL,
	  "BatchNorm1d after each hidden Linear (momentum 0.1, eps 1e-5)", NULL, NULL },
	P_FLT(dropout, 0, 0.95, 0, "inverted dropout probability after each hidden activation"),
	P_ENUM(init, v_init, "auto",
	       "auto: he for relu-like, xavier for tanh/sigmoid | small_normal | xavier | he | "
	       "autoencoder (greedy layer-wise pre-training) | pytorch (U(+-1/sqrt(fan_in)))"),
	P_FLT_IF(init_std, 1e-6, 10, 0.01, "small_normal: weight std", "init", w_small_normal),
	P_INT_IF(pretrain_epochs, 0, 1000, 1, "autoencoder: pre-training epochs per hidden layer",
		 "init", w_autoencoder),
	P_INT(epochs, 1, 100000, 10, "training epochs"),
	P_INT(batch_size, 1, 65536, 128, "mini-batch size"),
	P_FLT(lr, 1e-6, 1, 1e-3, "learning rate"),
	P_ENUM(optimizer, v_optimizer, "adam", "update rule (PyTorch's)"),
	P_FLT_IF(momentum, 0, 0.9999, 0.9, "momentum and nesterov: momentum", "optimizer",
		 w_momentum),
	P_FLT_IF(beta1, 0, 0.9999, 0.9, "adam: beta1", "optimizer", w_adam),
	P_FLT_IF(beta2, 0, 0.999999, 0.999, "adam: beta2", "optimizer", w_adam),
	P_FLT_IF(eps, 1e-12, 1, 1e-8, "adam and rmsprop: eps", "optimizer", w_eps),
	P_FLT_IF(alpha, 0, 0.999999, 0.99, "rmsprop: smoothing constant", "optimizer",
		 w_rmsprop),
	P_FLT(weight_decay, 0, 1, 0, "L2 penalty added to the gradient of every parameter"),
	P_ENUM(lr_schedule, v_schedule, "constant", "per-epoch learning-rate schedule"),
	P_INT_IF(lr_step, 1, 100000, 10, "step: epochs between decays", "lr_schedule", w_step),
	P_FLT_IF(lr_gamma, 0, 1, 0.1, "step: decay factor", "lr_schedule", w_step),
	P_FLT_IF(lr_min, 0, 1, 0, "cosine: final learning rate", "lr_schedule", w_cosine),
	P_ENUM(objective, v_objective, "val_acc", "metric for early stopping and best_epoch"),
	P_ENUM(mode, v_mode, "auto", "auto: max for *_acc, min for *_loss"),
	P_INT(patience, 0, 100000, 0, "early stopping: epochs without improvement; 0 = off"),
	P_FLT(min_delta, 0, 1e9, 0, "early stopping: smallest change that counts as improvement"),
};

#define N_PARAMS (sizeof(table) / sizeof(table[0]))

static const struct param_def *
find_def(const char *name)
{
	for (size_t i = 0; i < N_PARAMS; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

static int
enum_index(const char *const *values, const char *s)
{
	for (int i = 0; values[i]; i++)
		if (strcmp(values[i], s) == 0)
			return i;
	return -1;
}

static void
set_default(struct params *p, const struct param_def *d)
{
	char *field = (char *)p + d->offset;

	switch (d->type) {
	case PT_INT:
		*(int *)field = (int)d->def;
		break;
	case PT_FLOAT:
		*(double *)field = d->def;
		break;
	case PT_BOOL:
		*(bool *)field = d->def != 0;
		break;
	case PT_ENUM:
		if (d->offset == OFF(builtin))
			snprintf(field, PARAMS_STR_MAX, "%s", d->def_str);
		else
			*(int *)field = enum_index(d->values, d->def_str);
		break;
	case PT_STRING:
		snprintf(field, PARAMS_STR_MAX, "%s", d->def_str);
		break;
	case PT_INT_LIST: {
		/* The default is written once, as text, for --params-table too. */
		struct params_int_list *l = (struct params_int_list *)field;
		const char *s = d->def_str;
		l->n = 0;
		while (*s && l->n < PARAMS_MAX_HIDDEN) {
			char *end;
			long v = strtol(s, &end, 10);
			if (end != s)
				l->v[l->n++] = (int)v;
			s = (end != s) ? end : s + 1;
		}
		break;
	}
	}
}

void
params_defaults(struct params *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < N_PARAMS; i++)
		set_default(p, &table[i]);
}

static int
check_number(const struct param_def *d, const cJSON *v, char *err, size_t errlen)
{
	if (!cJSON_IsNumber(v)) {
		snprintf(err, errlen, "param '%s': expected a number", d->name);
		return -EINVAL;
	}
	double x = v->valuedouble;
	if (d->type == PT_INT && x != floor(x)) {
		snprintf(err, errlen, "param '%s': %g is not an integer", d->name, x);
		return -EINVAL;
	}
	if (!(x >= d->min && x <= d->max)) {
		snprintf(err, errlen, "param '%s': %g is out of range [%g, %g]", d->name, x,
			 d->min, d->max);
		return -EINVAL;
	}
	return 0;
}

static int
parse_int_list(const struct param_def *d, const cJSON *v, struct params_int_list *out,
	       char *err, size_t errlen)
{
	struct params_int_list l = { 0 };
	const cJSON *it;

	if (!cJSON_IsArray(v)) {
		snprintf(err, errlen, "param '%s': expected a list of integers", d->name);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, v) {
		if (l.n == PARAMS_MAX_HIDDEN) {
			snprintf(err, errlen, "param '%s': more than %d entries", d->name,
				 PARAMS_MAX_HIDDEN);
			return -EINVAL;
		}
		if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble)) {
			snprintf(err, errlen, "param '%s': entry %d is not an integer", d->name,
				 l.n);
			return -EINVAL;
		}
		if (!(it->valuedouble >= d->min && it->valuedouble <= d->max)) {
			snprintf(err, errlen, "param '%s': entry %d (%g) is out of range [%g, %g]",
				 d->name, l.n, it->valuedouble, d->min, d->max);
			return -EINVAL;
		}
		l.v[l.n++] = (int)it->valuedouble;
	}
	*out = l;
	return 0;
}

static int
parse_one(struct params *p, const struct param_def *d, const cJSON *v, char *err,
	  size_t errlen)
{
	char *field = (char *)p + d->offset;
	int rc;

	switch (d->type) {
	case PT_INT:
	case PT_FLOAT:
		if ((rc = check_number(d, v, err, errlen)) < 0)
			return rc;
		if (d->type == PT_INT)
			*(int *)field = (int)v->valuedouble;
		else
			*(double *)field = v->valuedouble;
		return 0;
	case PT_BOOL:
		if (!cJSON_IsBool(v)) {
			snprintf(err, errlen, "param '%s': expected true or false", d->name);
			return -EINVAL;
		}
		*(bool *)field = cJSON_IsTrue(v);
		return 0;
	case PT_ENUM: {
		int idx = cJSON_IsString(v) ? enum_index(d->values, v->valuestring) : -1;
		if (idx < 0) {
			size_t n = (size_t)snprintf(err, errlen, "param '%s': expected one of",
						    d->name);
			for (int i = 0; d->values[i] && n < errlen; i++)
				n += (size_t)snprintf(err + n, errlen - n, "%s %s",
						      i ? "," : "", d->values[i]);
			return -EINVAL;
		}
		if (d->offset == OFF(builtin))
			snprintf(field, PARAMS_STR_MAX, "%s", v->valuestring);
		else
			*(int *)field = idx;
		return 0;
	}
	case PT_STRING:
		if (!cJSON_IsString(v)) {
			snprintf(err, errlen, "param '%s': expected a string", d->name);
			return -EINVAL;
		}
		if (strlen(v->valuestring) >= PARAMS_STR_MAX) {
			snprintf(err, errlen, "param '%s': longer than %d bytes", d->name,
				 PARAMS_STR_MAX - 1);
			return -EINVAL;
		}
		if (d->check && (rc = d->check(v->valuestring, err, errlen)) < 0)
			return rc;
		snprintf(field, PARAMS_STR_MAX, "%s", v->valuestring);
		return 0;
	case PT_INT_LIST:
		return parse_int_list(d, v, (struct params_int_list *)field, err, errlen);
	}
	return -EINVAL;
}

static int
in_values(const char *const *values, const char *v)
{
	return enum_index(values, v) >= 0;
}

/* "momentum or nesterov" into buf. */
static void
list_values(char *buf, size_t len, const char *const *values)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; values[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      i == 0 ? "" : values[i + 1] ? ", " : " or ",
				      values[i]);
}

/* A conditional knob given while its condition does not hold would be
 * silently ignored by the trainer: refused instead. */
static int
check_applies(const struct params *p, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *it;
	char list[256];

	cJSON_ArrayForEach(it, root) {
		const struct param_def *d = find_def(it->string), *w;
		const char *now;

		if (!d || !d->when)
			continue;
		w = find_def(d->when);
		now = w->values[*(const int *)((const char *)p + w->offset)];
		if (in_values(d->when_values, now))
			continue;
		list_values(list, sizeof list, d->when_values);
		snprintf(err, errlen, "param '%s': applies only when %s is %s, not %s",
			 d->name, d->when, list, now);
		return -EINVAL;
	}
	return 0;
}

int
params_condition(const char *name, const char **parent,
		 const char *const **values)
{
	const struct param_def *d = find_def(name);

	if (!d || !d->when)
		return 0;
	*parent = d->when;
	*values = d->when_values;
	return 1;
}

/* Checks across params that need no data; the data loader checks the rest
 * (val_size against a file's sample count). */
static int
check_combination(const struct params *p, char *err, size_t errlen)
{
	bool synthetic = strcmp(p->dataset, "synthetic") == 0;

	if (synthetic && p->augment != AUG_NONE) {
		snprintf(err, errlen, "param 'augment': %s needs an image dataset, not synthetic",
			 v_augment[p->augment]);
		return -EINVAL;
	}
	if (p->batchnorm && p->batch_size < 2 && p->hidden.n > 0) {
		snprintf(err, errlen, "param 'batch_size': batchnorm needs batches of at least 2");
		return -EINVAL;
	}
	if (synthetic && p->val_size >= p->synthetic_size) {
		snprintf(err, errlen, "param 'val_size': %d leaves no training samples "
			 "(synthetic_size is %d)", p->val_size, p->synthetic_size);
		return -EINVAL;
	}
	return 0;
}

int
params_parse(struct params *p, const char *json, char *err, size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *it;
	int rc = 0;

	params_defaults(p);
	err[0] = '\0';
	if (!json || !*json)
		return check_combination(p, err, errlen);
	root = cJSON_Parse(json);
	if (!root) {
		snprintf(err, errlen, "SWEEP_PARAMS is not valid JSON (near \"%.20s\")",
			 cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
		rc = -EINVAL;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "SWEEP_PARAMS must be a JSON object");
		rc = -EINVAL;
		goto out;
	}
	cJSON_ArrayForEach(it, root) {
		const struct param_def *d = find_def(it->string);
		if (!d) {
			snprintf(err, errlen, "unknown param '%s'", it->string);
			rc = -EINVAL;
			goto out;
		}
		if ((rc = parse_one(p, d, it, err, errlen)) < 0)
			goto out;
	}
	rc = check_applies(p, root, err, errlen);
	if (rc == 0)
		rc = check_combination(p, err, errlen);
out:
	cJSON_Delete(root);
	return rc;
}

static cJSON *
def_to_json(const struct param_def *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *values;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "type", ptype_names[d->type]);
	switch (d->type) {
	case PT_INT:
	case PT_FLOAT:
		cJSON_AddNumberToObject(o, "min", d->min);
		cJSON_AddNumberToObject(o, "max", d->max);
		cJSON_AddNumberToObject(o, "default", d->def);
		break;
	case PT_BOOL:
		cJSON_AddBoolToObject(o, "default", d->def != 0);
		break;
	case PT_ENUM:
		cJSON_AddStringToObject(o, "default", d->def_str);
		values = cJSON_AddArrayToObject(o, "values");
		for (int i = 0; values && d->values[i]; i++)
			cJSON_AddItemToArray(values, cJSON_CreateString(d->values[i]));
		break;
	case PT_STRING:
		cJSON_AddStringToObject(o, "default", d->def_str);
		break;
	case PT_INT_LIST:
		cJSON_AddNumberToObject(o, "min", d->min);
		cJSON_AddNumberToObject(o, "max", d->max);
		cJSON_AddNumberToObject(o, "max_items", PARAMS_MAX_HIDDEN);
		cJSON_AddItemToObject(o, "default", cJSON_Parse(d->def_str));
		break;
	}
	cJSON_AddStringToObject(o, "help", d->help);
	if (d->when) {
		cJSON *w = cJSON_AddObjectToObject(o, "when");
		cJSON *vals = w ? cJSON_AddArrayToObject(w, d->when) : NULL;
		for (int i = 0; vals && d->when_values[i]; i++)
			cJSON_AddItemToArray(vals, cJSON_CreateString(d->when_values[i]));
	}
	return o;
}

char *
params_table_json(void)
{
	cJSON *root = cJSON_CreateArray();
	char *out = NULL;

	if (!root)
		return NULL;
	for (size_t i = 0; i < N_PARAMS; i++) {
		cJSON *o = def_to_json(&table[i]);
		if (!o)
			goto out;
		cJSON_AddItemToArray(root, o);
	}
	out = cJSON_Print(root);
out:
	cJSON_Delete(root);
	return out;
}

const char *
params_enum_name(const char *param, int index)
{
	const struct param_def *d = find_def(param);

	if (!d || d->type != PT_ENUM || index < 0)
		return "?";
	for (int i = 0; d->values[i]; i++)
		if (i == index)
			return d->values[i];
	return "?";
}

bool
params_objective_max(const struct params *p)
{
	if (p->mode == MODE_MAX)
		return true;
	if (p->mode == MODE_MIN)
		return false;
	return p->objective == OBJ_VAL_ACC || p->objective == OBJ_TRAIN_ACC;
}
