/*
 * test_vocab.c: every trial state, sweep state and error class has one
 * name that parses back to it, anything else is refused, and the names
 * are the ones docs/DESIGN.md lists (argv[1]: its path).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vocab.h"
#include "tests/harness.h"

#define DOC_MAX_NAMES 32
#define DOC_NAME_MAX  32

static const char *doc_path;
static char *doc;   /* owned: the whole of docs/DESIGN.md, or NULL */

struct doc_list {
	int n;
	char names[DOC_MAX_NAMES][DOC_NAME_MAX];
};

/* The words of the `...` span that follows "marker" on its line in text
 * ("Trial states: `queued -> running -> ...`."): 0, or -ENOENT when the
 * marker or its span is missing, -E2BIG past the list's room. */
static int
doc_names(const char *text, const char *marker, struct doc_list *l)
{
	const char *p = text ? strstr(text, marker) : NULL, *end;

	l->n = 0;
	if (!p)
		return -ENOENT;
	p += strlen(marker);
	while (*p == ' ')
		p++;
	if (*p != '`' || !(end = strchr(p + 1, '`')) || memchr(p, '\n', (size_t)(end - p)))
		return -ENOENT;
	for (p++; p < end; ) {
		size_t k = 0;

		while (p < end && !(islower((unsigned char)*p) || *p == '_'))
			p++;
		if (p == end)
			break;
		if (l->n == DOC_MAX_NAMES)
			return -E2BIG;
		while (p < end && (islower((unsigned char)*p) || *p == '_')) {
			if (k + 1 < DOC_NAME_MAX)
				l->names[l->n][k++] = *p;
			p++;
		}
		l->names[l->n++][k] = '\0';
	}
	return 0;
}

/* 1 when l holds exactly name(0) .. name(n - 1), in that order; with say,
 * prints what differs otherwise. */
static int
same_names(const struct doc_list *l, const char *(*name)(int), int n, int say)
{
	int ok = l->n == n;

	if (!ok && say)
		printf("# the doc lists %d names, the enum has %d\n", l->n, n);
	for (int i = 0; i < l->n && i < n; i++)
		if (strcmp(l->names[i], name(i)) != 0) {
			if (say)
				printf("# name %d: the doc says \"%s\", the enum "
				       "\"%s\"\n", i, l->names[i], name(i));
			ok = 0;
		}
	return ok;
}

static const char *trial_name(int i) { return vocab_trial_name((enum trial_status)i); }
static const char *sweep_name(int i) { return vocab_sweep_name((enum sweep_status)i); }
static const char *class_name(int i) { return vocab_class_name((enum error_class)i); }

static void
every_name_round_trips(void)
{
	for (int i = 0; i < TRIAL_N_STATUS; i++) {
		CHECK(trial_name(i) != NULL);
		CHECK(vocab_trial_parse(trial_name(i)) == i);
	}
	for (int i = 0; i < SWEEP_N_STATUS; i++) {
		CHECK(sweep_name(i) != NULL);
		CHECK(vocab_sweep_parse(sweep_name(i)) == i);
	}
	for (int i = 0; i < CLASS_N; i++) {
		CHECK(class_name(i) != NULL);
		CHECK(vocab_class_parse(class_name(i)) == i);
	}
	CHECK_STR(vocab_trial_name(TRIAL_PRUNED), "pruned");
	CHECK_STR(vocab_sweep_name(SWEEP_PAUSED), "paused");
	CHECK_STR(vocab_class_name(CLASS_INTERRUPTED), "interrupted");
	/* A Slurm trial whose job waits in the queue (docs/slurm.md). */
	CHECK_STR(vocab_trial_name(TRIAL_PENDING), "pending");
	CHECK(vocab_trial_parse("pending") == TRIAL_PENDING);
	CHECK_STR(vocab_class_name(CLASS_LAUNCHER), "launcher");
}

static void
unknown_names_are_refused(void)
{
	static const char *const bad[] = {
		"", "done", "Running", "running ", " queued", "cancel", "crash",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(vocab_trial_parse(bad[i]) == -EINVAL);
		CHECK(vocab_sweep_parse(bad[i]) == -EINVAL);
		CHECK(vocab_class_parse(bad[i]) == -EINVAL);
	}
	CHECK(vocab_trial_parse(NULL) == -EINVAL);
	CHECK(vocab_sweep_parse(NULL) == -EINVAL);
	CHECK(vocab_class_parse(NULL) == -EINVAL);
	/* Each vocabulary is its own: a sweep is never "queued" or "pruned". */
	CHECK(vocab_sweep_parse("queued") == -EINVAL);
	CHECK(vocab_sweep_parse("pruned") == -EINVAL);
	CHECK(vocab_trial_parse("paused") == -EINVAL);
	CHECK(vocab_trial_parse("exit") == -EINVAL);
	/* Out of range values have no name. */
	CHECK(vocab_trial_name((enum trial_status)TRIAL_N_STATUS) == NULL);
	CHECK(vocab_trial_name((enum trial_status)-1) == NULL);
	CHECK(vocab_sweep_name((enum sweep_status)SWEEP_N_STATUS) == NULL);
	CHECK(vocab_class_name((enum error_class)CLASS_N) == NULL);
	CHECK(vocab_class_name(CLASS_NONE) == NULL);
}

static void
ended_and_active(void)
{
	int ended = 0, active = 0;

	for (int i = 0; i < TRIAL_N_STATUS; i++)
		ended += vocab_trial_ended((enum trial_status)i);
	CHECK(ended == 4);
	CHECK(!vocab_trial_ended(TRIAL_QUEUED) && !vocab_trial_ended(TRIAL_RUNNING));
	CHECK(!vocab_trial_ended(TRIAL_PENDING));
	for (int i = 0; i < SWEEP_N_STATUS; i++)
		active += vocab_sweep_active((enum sweep_status)i);
	CHECK(active == 2);
	CHECK(vocab_sweep_active(SWEEP_RUNNING) && vocab_sweep_active(SWEEP_PAUSED));
	/* limits.retry_on's bits: signal, timeout, stall, oom, exit */
	CHECK(CLASS_N_RETRY == 5 && CLASS_SIGNAL == 0 && CLASS_EXIT == 4);
}

/* The comparison below can fail: a list that differs is caught. */
static void
doc_parser_catches_a_difference(void)
{
	struct doc_list l;

	CHECK(doc_names("x\nTrial states: `queued -> pending -> running -> "
			"completed | failed | pruned | cancelled`.\n", "Trial states:",
			&l) == 0);
	CHECK(l.n == 7 && same_names(&l, trial_name, TRIAL_N_STATUS, 1));
	CHECK(doc_names("Trial states: `queued -> running -> done`.",
			"Trial states:", &l) == 0);
	CHECK(!same_names(&l, trial_name, TRIAL_N_STATUS, 0));
	CHECK(doc_names("Trial states: `queued -> running -> completed | failed "
			"| cancelled | pruned`.", "Trial states:", &l) == 0);
	CHECK(!same_names(&l, trial_name, TRIAL_N_STATUS, 0));
	CHECK(doc_names("Trial states: queued", "Trial states:", &l) == -ENOENT);
	CHECK(doc_names("nothing here", "Trial states:", &l) == -ENOENT);
}

static void
check_doc(const char *marker, const char *(*name)(int), int n)
{
	struct doc_list l;
	int rc;

	if (!doc) {
		SKIP("docs/DESIGN.md not given or unreadable");
		return;
	}
	rc = doc_names(doc, marker, &l);
	CHECK_MSG(rc == 0, "%s: no \"%s `...`\" line in %s", strerror(-rc),
		  marker, doc_path);
	CHECK_MSG(rc != 0 || same_names(&l, name, n, 1),
		  "\"%s\" in %s differs from common/vocab.c", marker, doc_path);
}

static void
doc_lists_the_trial_states(void)
{
	check_doc("Trial states:", trial_name, TRIAL_N_STATUS);
}

static void
doc_lists_the_sweep_states(void)
{
	check_doc("Sweep states:", sweep_name, SWEEP_N_STATUS);
}

static void
doc_lists_the_error_classes(void)
{
	check_doc("Error classes:", class_name, CLASS_N);
}

static char *
slurp(const char *path)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, k;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = 2 * cap + 8192);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		k = fread(buf + len, 1, 4096, f);
		len += k;
	} while (k > 0);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	doc_path = argc > 1 ? argv[1] : NULL;
	doc = slurp(doc_path);
	RUN(every_name_round_trips);
	RUN(unknown_names_are_refused);
	RUN(ended_and_active);
	RUN(doc_parser_catches_a_difference);
	RUN(doc_lists_the_trial_states);
	RUN(doc_lists_the_sweep_states);
	RUN(doc_lists_the_error_classes);
	free(doc);
	return harness_done();
}
