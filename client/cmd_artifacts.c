/*
 * cmd_artifacts.c: sweepctl artifacts and clean (cmd_artifacts.h).
 */
#include "client/cmd_artifacts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/fmt.h"

/* The reply of op for sweep (and number), printed raw with --json. */
static int
call(struct ctl *c, const char *op, long long sweep, long long number,
     cJSON **reply)
{
	cJSON *req = ctl_request(op, sweep, number);
	char *line;
	size_t len;
	int rc;

	if (!req)
		return ctl_oom();
	rc = ctl_call(c, req, reply, &line, &len);
	cJSON_Delete(req);
	if (rc == 0 && c->json)
		ctl_put_line(line, len);
	return rc;
}

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
	int rc = call(c, "artifacts", a->sweep, a->number, &reply);

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
	char answer[16] = "";

	fprintf(stderr, "remove the trial directories of sweep %lld (every "
		"checkpoint and artifact in them)? [y/N] ", sweep);
	fflush(stderr);
	if (!fgets(answer, sizeof answer, stdin))
		return 0;
	answer[strcspn(answer, "\r\n")] = '\0';
	return strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 ||
	       strcmp(answer, "yes") == 0;
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
	rc = call(c, "clean", a->sweep, 0, &reply);
	if (rc == 0 && !c->json)
		printf("removed the trial directories of sweep %lld: %.0f files, "
		       "%.0f bytes\n", a->sweep, fmt_jnum(reply, "removed_files", 0),
		       fmt_jnum(reply, "removed_bytes", 0));
	cJSON_Delete(reply);
	return rc;
}
