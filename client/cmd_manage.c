/*
 * cmd_manage.c: sweepctl rm SWEEP [--yes] (delete an ended sweep with its
 * trials, after asking), extend SWEEP --trials N (run it again with N
 * more trials) and rerun SWEEP N (trial N again, as a new trial).
 */
#include "client/cmd_manage.h"

#include <stdio.h>
#include <string.h>

#include "client/fmt.h"
#include "common/vocab.h"

/* "sweep 3 (name, cancelled, 12 trials)" of the sweep's summary. */
static void
describe(char *buf, size_t len, long long id, const cJSON *sum)
{
	snprintf(buf, len, "sweep %lld (%s, %s, %.0f trials)", id,
		 fmt_jstr(sum, "name", "?"), fmt_jstr(sum, "status", "?"),
		 fmt_jnum(sum, "trials_total", 0));
}

/* Asks on stderr, reads stdin: 1 for y or yes. */
static int
confirm(const char *what)
{
	char q[600];

	snprintf(q, sizeof q, "remove %s and everything stored of it?", what);
	return ctl_confirm(q);
}

int
ctl_cmd_rm(struct ctl *c, struct ctl_args *a)
{
	cJSON *reply = NULL;
	const cJSON *sum;
	const char *st;
	char what[512];
	int rc;

	if ((rc = ctl_ask(c, "sweep", a->sweep, 0, 0, &reply)) != 0)
		return rc;
	sum = fmt_jget(reply, "sweep");
	describe(what, sizeof what, a->sweep, sum);
	st = fmt_jstr(sum, "status", "");
	if (vocab_sweep_active(vocab_sweep_parse(st))) {
		ctl_err("%s is %s: cancel it first (sweepctl cancel %lld)", what,
			st, a->sweep);
		rc = CTL_EXIT_FAIL;
	} else if (!a->yes && !confirm(what)) {
		ctl_err("%s not removed (answer y, or pass --yes)", what);
		rc = CTL_EXIT_FAIL;
	} else {
		cJSON_Delete(reply);
		reply = NULL;
		if ((rc = ctl_ask(c, "delete", a->sweep, 0, 1, &reply)) == 0 && !c->json)
			printf("removed %s\n", what);
	}
	cJSON_Delete(reply);
	return rc;
}

int
ctl_cmd_extend(struct ctl *c, struct ctl_args *a)
{
	cJSON *req, *reply = NULL;
	long long n;
	char *line;
	size_t len;
	int rc;

	if (!a->trials) {
		ctl_err("extend: --trials N is needed (how many more trials)");
		return CTL_EXIT_USAGE;
	}
	if ((rc = ctl_parse_id(a->trials, "--trials", &n)) != 0)
		return rc;
	if (!(req = ctl_request("extend", a->sweep, 0)) ||
	    !cJSON_AddNumberToObject(req, "trials", (double)n)) {
		cJSON_Delete(req);
		return ctl_oom();
	}
	rc = ctl_call(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	if (rc == 0 && c->json)
		ctl_put_line(line, len);
	else if (rc == 0)
		printf("sweep %lld extended to %.0f trials (%s)\n", a->sweep,
		       fmt_jnum(fmt_jget(reply, "sweep"), "trials_total", 0),
		       fmt_jstr(fmt_jget(reply, "sweep"), "status", "?"));
	cJSON_Delete(reply);
	return rc;
}

int
ctl_cmd_rerun(struct ctl *c, struct ctl_args *a)
{
	cJSON *req = ctl_request("rerun", a->sweep, a->number), *reply = NULL;
	char *line;
	size_t len;
	int rc;

	if (!req)
		return ctl_oom();
	rc = ctl_call(c, req, &reply, &line, &len);
	cJSON_Delete(req);
	if (rc == 0 && c->json)
		ctl_put_line(line, len);
	else if (rc == 0)
		printf("sweep %lld: trial %.0f re-runs trial %lld (same params "
		       "and seed)\n", a->sweep, fmt_jnum(reply, "number", 0),
		       a->number);
	cJSON_Delete(reply);
	return rc;
}
