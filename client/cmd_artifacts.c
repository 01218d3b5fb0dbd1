/*
 * cmd_artifacts.c: sweepctl artifacts and clean (cmd_artifacts.h).
 */
#include "client/cmd_artifacts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/fmt.h"

static int
print_files(const cJSON *files)
{
	static const char *const head[] = { "SIZE", "MODIFIED", "NAME" };
	struct fmt_table *tab = fmt_table_new(3, head);
	const cJSON *f;
	char size[32], when[64];
	time_t now = time(NULL);

	if (!tab)
		return ctl_oom();
	fmt_table_right(tab, 0);
	cJSON_ArrayForEach(f, files) {
		const char *cells[3] = { size, when, fmt_jstr(f, "name", "?") };

		snprintf(size, sizeof size, "%.0f", fmt_jnum(f, "size", 0));
		fmt_when(when, sizeof when, fmt_jnum(f, "mtime", 0), now);
		if (fmt_table_add(tab, cells) < 0) {
			fmt_table_free(tab);
			return ctl_oom();
		}
	}
	fmt_table_print(tab, stdout);
	fmt_table_free(tab);
	return 0;
}

int
ctl_cmd_artifacts(struct ctl *c, struct ctl_args *a)
{
	cJSON *reply = NULL;
	const cJSON *files;
	int rc = ctl_ask(c, "artifacts", a->sweep, a->number, 1, &reply);

	if (rc != 0 || c->json) {
		cJSON_Delete(reply);
		return rc;
	}
	files = fmt_jget(reply, "files");
	printf("trial %lld of sweep %lld: %s\n", a->number, a->sweep,
	       fmt_jstr(reply, "trial_dir", "(no directory)"));
	if (cJSON_GetArraySize(files) == 0)
		puts("no files");
	else
		rc = print_files(files);
	cJSON_Delete(reply);
	return rc;
}

/* Asks on stderr, reads stdin: 1 for y or yes. */
static int
confirm(long long sweep)
{
	char q[160];

	snprintf(q, sizeof q, "remove the trial directories of sweep %lld (every "
		 "checkpoint and artifact in them)?", sweep);
	return ctl_confirm(q);
}

int
ctl_cmd_clean(struct ctl *c, struct ctl_args *a)
{
	cJSON *reply = NULL;
	int rc;

	if (!a->yes && !confirm(a->sweep)) {
		ctl_err("the trial directories of sweep %lld not removed (answer "
			"y, or pass --yes)", a->sweep);
		return CTL_EXIT_FAIL;
	}
	rc = ctl_ask(c, "clean", a->sweep, 0, 1, &reply);
	if (rc == 0 && !c->json)
		printf("removed the trial directories of sweep %lld: %.0f files, "
		       "%.0f bytes\n", a->sweep, fmt_jnum(reply, "removed_files", 0),
		       fmt_jnum(reply, "removed_bytes", 0));
	cJSON_Delete(reply);
	return rc;
}
