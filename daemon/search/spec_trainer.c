/*
 * spec_trainer.c: the "trainer" section (built-in, external command or
 * manual) and the check that what a trainer is started with fits what
 * execve takes.
 */
#include "daemon/search/spec_trainer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/search/spec_util.h"

#define MAX_ARGS          4096
/* execve refuses a string over 128 KiB (MAX_ARG_STRLEN) with E2BIG, and
 * the whole of argv and environ past a quarter of the stack limit: every
 * trial would fail with "argument list too long". Refused at submit. */
#define MAX_PARAMS_JSON   65536   /* SWEEP_PARAMS, the longest it can get */
#define MAX_EXEC_STRING   65536   /* one command argument or NAME=value */
#define MAX_EXEC_TOTAL    524288  /* command, env and SWEEP_PARAMS in all */
#define NUMBER_TEXT       24      /* longest number json_print writes */

static const char *const external_keys[] = { "command", "cwd", "env" };

static int
parse_env(struct spec *s, const cJSON *env, char *err, size_t errlen)
{
	const cJSON *it;
	int rc;

	if (!cJSON_IsObject(env))
		return spec_fail(err, errlen, "trainer.env: must be an object of "
				 "strings");
	rc = spec_check_dups(env, "trainer.env", err, errlen);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, env) {
		if (!it->string[0] || strchr(it->string, '='))
			return spec_fail(err, errlen, "trainer.env: \"%s\" is not a "
					 "variable name", it->string);
		if (strncmp(it->string, "SWEEP_", 6) == 0)
			return spec_fail(err, errlen, "trainer.env.%s: reserved (sweepd "
					 "sets the SWEEP_ variables)", it->string);
		if (!cJSON_IsString(it))
			return spec_fail(err, errlen, "trainer.env.%s: must be a string",
					 it->string);
		if (strlen(it->string) + 1 + strlen(it->valuestring) >
		    MAX_EXEC_STRING)
			return spec_fail(err, errlen, "trainer.env.%s: %zu bytes; an "
					 "environment string holds at most %d",
					 it->string, strlen(it->valuestring),
					 MAX_EXEC_STRING);
	}
	s->env = cJSON_Duplicate(env, 1);
	return s->env ? 0 : -ENOMEM;
}

static int
parse_command(struct spec *s, const cJSON *cmd, char *err, size_t errlen)
{
	const cJSON *it;
	int n = cJSON_IsArray(cmd) ? cJSON_GetArraySize(cmd) : 0, i = 0;

	if (n < 1)
		return spec_fail(err, errlen, "trainer.command: must be a non-empty "
				 "array of strings, e.g. [\"python3\", \"train.py\"]");
	if (n > MAX_ARGS)
		return spec_fail(err, errlen, "trainer.command: more than %d arguments",
				 MAX_ARGS);
	s->argv = calloc((size_t)n + 1, sizeof *s->argv);
	if (!s->argv)
		return -ENOMEM;
	cJSON_ArrayForEach(it, cmd) {
		if (!cJSON_IsString(it) || !it->valuestring[0])
			return spec_fail(err, errlen, "trainer.command[%d]: must be a "
					 "non-empty string", i);
		if (strlen(it->valuestring) > MAX_EXEC_STRING)
			return spec_fail(err, errlen, "trainer.command[%d]: %zu bytes; "
					 "an argument holds at most %d", i,
					 strlen(it->valuestring), MAX_EXEC_STRING);
		s->argv[i] = strdup(it->valuestring);
		if (!s->argv[i])
			return -ENOMEM;
		s->argc = ++i;
	}
	return 0;
}

static int
parse_external(struct spec *s, const cJSON *tr, char *err, size_t errlen)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(tr, "env");
	const char *cwd;
	int rc;

	rc = spec_check_keys(tr, "trainer", external_keys,
			     sizeof external_keys / sizeof external_keys[0], err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_command(s, cJSON_GetObjectItemCaseSensitive(tr, "command"),
			   err, errlen);
	if (rc < 0)
		return rc;
	rc = spec_get_str(tr, "cwd", "trainer", &cwd, err, errlen);
	if (rc < 0)
		return rc;
	if (cwd && cwd[0] != '/')
		return spec_fail(err, errlen, "trainer.cwd: must be an absolute path, "
				 "not \"%s\" (sweepctl resolves relative ones)", cwd);
	if (cwd && !(s->cwd = strdup(cwd)))
		return -ENOMEM;
	return env ? parse_env(s, env, err, errlen) : 0;
}

/* The built-in trainer: its other keys are sweep-worker options, checked
 * against the worker's table by builtin_check_spec(). */
static int
parse_builtin(struct spec *s, const cJSON *tr, char *err, size_t errlen)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(tr, "builtin");
	const cJSON *it;
	int rc;

	rc = spec_check_dups(tr, "trainer", err, errlen);
	if (rc < 0)
		return rc;
	if (!cJSON_IsString(b) || strcmp(b->valuestring, "mlp") != 0)
		return spec_fail(err, errlen, "trainer.builtin: must be \"mlp\" (the "
				 "only built-in trainer)");
	cJSON_ArrayForEach(it, tr) {
		if (strcmp(it->string, "cwd") == 0 || strcmp(it->string, "env") == 0)
			return spec_fail(err, errlen, "trainer.%s: only for an external "
					 "trainer (\"command\")", it->string);
		if (spec_param_index(s, it->string) >= 0)
			return spec_fail(err, errlen, "trainer.%s: also in space; set it "
					 "in one place", it->string);
	}
	s->builtin = 1;
	return 0;
}

/* {"manual": {}}: trials are asked for and told by a client (manual.c). */
static int
parse_manual(struct spec *s, const cJSON *tr, char *err, size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(tr, "manual");

	if (cJSON_GetArraySize(tr) != 1)
		return spec_fail(err, errlen, "trainer: \"manual\" takes no other "
				 "field (the client that asks runs the trial)");
	if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) != 0)
		return spec_fail(err, errlen, "trainer.manual: must be {} (it has no "
				 "options yet)");
	s->manual = 1;
	return 0;
}

int
spec_parse_trainer(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "trainer");
	int has_b, has_c, has_m;

	if (!tr)
		return spec_fail(err, errlen, "trainer: required: {\"builtin\": \"mlp\"} "
				 "or {\"command\": [...]}");
	if (!cJSON_IsObject(tr))
		return spec_fail(err, errlen, "trainer: must be an object");
	has_b = cJSON_HasObjectItem(tr, "builtin");
	has_c = cJSON_HasObjectItem(tr, "command");
	has_m = cJSON_HasObjectItem(tr, "manual");
	if (has_b + has_c + has_m != 1)
		return spec_fail(err, errlen, "trainer: needs one of \"builtin\", "
				 "\"command\" or \"manual\"%s",
				 has_b + has_c + has_m ? ", not several" : "");
	s->trainer = cJSON_Duplicate(tr, 1);
	if (!s->trainer)
		return -ENOMEM;
	if (has_m)
		return parse_manual(s, tr, err, errlen);
	return has_b ? parse_builtin(s, tr, err, errlen) :
		       parse_external(s, tr, err, errlen);
}

/* Bytes json_print(v) writes; 0 when out of memory. */
static size_t
printed_len(const cJSON *v)
{
	char *s = json_print(v);
	size_t n = s ? strlen(s) : 0;

	cJSON_free(s);
	return n;
}

/* The longest value p can give a trial, as JSON text. */
static size_t
param_value_max(const struct spec_param *p)
{
	const cJSON *c;
	size_t n, max = 0;

	if (p->kind == SPEC_CONST)
		return printed_len(p->values);
	if (p->kind != SPEC_CHOICE)
		return NUMBER_TEXT;
	cJSON_ArrayForEach(c, p->values)
		if ((n = printed_len(c)) > max)
			max = n;
	return max;
}

/* The longest "key":value of p in SWEEP_PARAMS, comma included. */
static size_t
param_member_max(const struct spec_param *p)
{
	cJSON *key = cJSON_CreateString(p->name);
	size_t n = key ? printed_len(key) : 0;

	cJSON_Delete(key);
	return n + 2 + param_value_max(p);
}

/* The longest SWEEP_PARAMS a trial can get (the built-in trainer's options
 * go in too), and the argv and environ it comes with, against what execve
 * takes. */
int
spec_check_exec_size(const struct spec *s, char *err, size_t errlen)
{
	size_t total = 2, big = 0, n, exec = 0;
	const char *big_name = NULL;
	const cJSON *it;

	for (int i = 0; i < s->n_params; i++) {
		n = param_member_max(&s->params[i]);
		total += n;
		if (n > big) {
			big = n;
			big_name = s->params[i].name;
		}
	}
	if (s->builtin)
		total += printed_len(s->trainer);
	if (total > MAX_PARAMS_JSON)
		return spec_fail(err, errlen, "space: a trial's params can take %zu "
				 "bytes as JSON (space.%s up to %zu); SWEEP_PARAMS holds "
				 "at most %d", total, big_name ? big_name : "?", big,
				 MAX_PARAMS_JSON);
	for (int i = 0; i < s->argc; i++)
		exec += strlen(s->argv[i]) + 1;
	cJSON_ArrayForEach(it, s->env)
		exec += strlen(it->string) + strlen(it->valuestring) + 2;
	if (exec + total > MAX_EXEC_TOTAL)
		return spec_fail(err, errlen, "trainer: the command, its env and "
				 "SWEEP_PARAMS take up to %zu bytes; a trainer can be "
				 "started with at most %d", exec + total,
				 MAX_EXEC_TOTAL);
	return 0;
}
