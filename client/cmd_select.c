/*
 * cmd_select.c: sweepctl's choices of what to show: `trials --sort KEY
 * [--desc] --status S --top N` over a sweep's whole trial list, `ls`'s
 * recent sweeps (all with --all), and rows cut to the terminal width.
 */
#include "client/cmd_select.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client/fmt.h"
#include "common/vocab.h"

/* ---- trials ----------------------------------------------------------- */

struct sort_key {
	const char *key;   /* a column, or a param's name */
	int desc;
};

/* The value a trial sorts by: a number (NAN when missing) or, for status
 * and verdict, a string in *s. */
static double
key_value(const cJSON *t, const char *key, const char **s)
{
	const cJSON *v;

	*s = NULL;
	if (strcmp(key, "status") == 0) {
		*s = fmt_jstr(t, "status", "");
		return NAN;
	}
	if (strcmp(key, "verdict") == 0) {
		*s = fmt_jstr(fmt_jget(t, "diagnosis"), "verdict", "");
		return NAN;
	}
	if (strcmp(key, "time") == 0) {
		double t0 = fmt_jnum(t, "started_at", NAN);
		double t1 = fmt_jnum(t, "ended_at", NAN);
		return t1 - t0;
	}
	if (strcmp(key, "number") == 0 || strcmp(key, "objective") == 0 ||
	    strcmp(key, "best_epoch") == 0 || strcmp(key, "epochs") == 0)
		return fmt_jnum(t, key, NAN);
	v = cJSON_GetObjectItemCaseSensitive(fmt_jget(t, "params"), key);
	if (cJSON_IsString(v))
		*s = v->valuestring;
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Missing values last whatever the direction; ties by trial number. */
static int
cmp_trials(const cJSON *a, const cJSON *b, const struct sort_key *k)
{
	const char *sa, *sb;
	double va = key_value(a, k->key, &sa), vb = key_value(b, k->key, &sb);
	int c = 0, ma = isnan(va) && !sa, mb = isnan(vb) && !sb;

	if (ma != mb)
		return ma - mb;
	if (sa && sb)
		c = strcmp(sa, sb);
	else if (!ma)
		c = (va > vb) - (va < vb);
	if (k->desc)
		c = -c;
	if (c == 0)
		c = (fmt_jnum(a, "number", 0) > fmt_jnum(b, "number", 0)) -
		    (fmt_jnum(a, "number", 0) < fmt_jnum(b, "number", 0));
	return c;
}

static int
known_key(const char *key, const cJSON *trials)
{
	static const char *const cols[] = {
		"number", "status", "objective", "best_epoch", "epochs",
		"verdict", "time",
	};
	const cJSON *t;

	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		if (strcmp(key, cols[i]) == 0)
			return 1;
	cJSON_ArrayForEach(t, trials)
		if (cJSON_GetObjectItemCaseSensitive(fmt_jget(t, "params"), key))
			return 1;
	return 0;
}

static int
known_status(const char *s)
{
	return vocab_trial_parse(s) >= 0;
}

int
select_trials(cJSON *trials, const struct select_opts *o, char *err,
	      size_t errlen)
{
	struct sort_key k = { o->sort, o->desc };
	int n = cJSON_GetArraySize(trials), kept = 0;
	cJSON **v, *t;

	if (o->status && !known_status(o->status)) {
		snprintf(err, errlen, "--status must be one of queued, running, "
			 "completed, failed, pruned, cancelled; got \"%s\"",
			 o->status);
		return -EINVAL;
	}
	if (o->sort && n > 0 && !known_key(o->sort, trials)) {
		snprintf(err, errlen, "--sort: no column or param \"%s\" (columns: "
			 "number, status, objective, best_epoch, epochs, verdict, "
			 "time; or a param of the sweep)", o->sort);
		return -EINVAL;
	}
	if (!(v = calloc((size_t)n + 1, sizeof *v)))
		return -ENOMEM;
	while ((t = cJSON_DetachItemFromArray(trials, 0))) {
		if (o->status && strcmp(fmt_jstr(t, "status", ""), o->status) != 0)
			cJSON_Delete(t);
		else
			v[kept++] = t;
	}
	/* insertion sort: stable, and n is a sweep's trial count */
	for (int i = 1; o->sort && i < kept; i++)
		for (int j = i; j > 0 && cmp_trials(v[j - 1], v[j], &k) > 0; j--) {
			cJSON *tmp = v[j - 1];
			v[j - 1] = v[j];
			v[j] = tmp;
		}
	for (int i = 0; i < kept; i++) {
		if (o->top >= 0 && i >= o->top)
			cJSON_Delete(v[i]);
		else
			cJSON_AddItemToArray(trials, v[i]);
	}
	free(v);
	return 0;
}

/* ---- sweeps ----------------------------------------------------------- */

int
select_recent_sweeps(cJSON *sweeps, double now, int *hidden)
{
	cJSON *s = sweeps ? sweeps->child : NULL, *next;

	*hidden = 0;
	for (; s; s = next) {
		const char *st = fmt_jstr(s, "status", "");
		double ended = fmt_jnum(s, "ended_at", NAN);

		next = s->next;
		if (vocab_sweep_active(vocab_sweep_parse(st)) ||
		    isnan(ended) || now - ended < SELECT_RECENT_SECONDS)
			continue;
		cJSON_Delete(cJSON_DetachItemViaPointer(sweeps, s));
		(*hidden)++;
	}
	return 0;
}

/* ---- width ------------------------------------------------------------ */

int
select_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return ws.ws_col;
	if (cols && atoi(cols) > 0)
		return atoi(cols);
	return 0;
}

void
select_print_fit(FILE *out, const char *buf, size_t len, int width)
{
	size_t i = 0;

	while (i < len) {
		size_t end = i, cut = 0;
		int col = 0;

		while (end < len && buf[end] != '\n')
			end++;
		for (size_t j = i; j < end; j++) {
			/* a column per code point: not inside a UTF-8 sequence */
			if (((unsigned char)buf[j] & 0xC0) != 0x80 && col++ == width - 1)
				cut = j;
		}
		if (width > 1 && cut && col > width) {
			fwrite(buf + i, 1, cut - i, out);
			fputs("~\n", out);   /* this row goes on past the width */
		} else {
			fwrite(buf + i, 1, end - i, out);
			fputc('\n', out);
		}
		i = end + 1;
	}
}
