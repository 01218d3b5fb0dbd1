/*
 * tests/wire/test_wire.c: the protocol's objects (daemon/wire/) against
 * docs/DESIGN.md: every watch event has the members DESIGN.md's "Client
 * protocol" lists, in its order (read from the page itself, so the page
 * and the code cannot drift apart); the trial object and the sweep
 * summary keep wire.h's order; storage trouble never answers a state
 * error's code.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "daemon/wire/wire.h"
#include "tests/db/dbtest.h"

#ifndef DESIGN_MD
#error "DESIGN_MD must name docs/DESIGN.md"
#endif

#define SPEC_MIN "{\"objective\":{\"metric\":\"val_loss\",\"mode\":\"min\"}}"

/* The members of o, in order, as "a,b,c". */
static const char *
keys(const cJSON *o)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
		int w = snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "",
				 c->string ? c->string : "?");
		if (w < 0 || (size_t)w >= sizeof buf - n)
			break;
		n += (size_t)w;
	}
	return buf;
}

/* DESIGN.md's text, NUL-terminated (owned by the caller), or NULL. */
static char *
read_design(void)
{
	FILE *f = fopen(DESIGN_MD, "r");
	char *text = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1))) {
		if (fread(text, 1, (size_t)len, f) != (size_t)len) {
			free(text);
			text = NULL;
		} else {
			text[len] = '\0';
		}
	}
	fclose(f);
	return text;
}

/* The members DESIGN.md gives event name, from its
 * {"event":"name","a","b":"value",...} line, as "event,a,b,...". */
static const char *
documented(const char *design, const char *name)
{
	static char buf[512];
	char pat[128];
	const char *p, *end;
	size_t n = 0;

	buf[0] = '\0';
	snprintf(pat, sizeof pat, "{\"event\":\"%s\"", name);
	p = strstr(design, pat);
	end = p ? strchr(p, '}') : NULL;
	if (!end)
		return buf;
	for (p++; p < end; ) {
		const char *q = strchr(p + 1, '"');   /* p at a key's quote */
		if (*p != '"' || !q || q > end)
			break;
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%.*s",
				      n ? "," : "", (int)(q - p - 1), p + 1);
		p = q + 1;
		if (*p == ':') {                      /* skip a "value" */
			p = strchr(p + 2, '"');
			if (!p || p > end)
				break;
			p++;
		}
		if (*p == ',')
			p++;
	}
	return buf;
}

static void
events_have_the_documented_members_in_order(void)
{
	char *design = read_design();
	struct report_line line;
	char err[128];
	cJSON *diag = cJSON_Parse("{\"verdict\":\"good_fit\"}");
	const char *txt = "{\"epoch\":2,\"val_loss\":0.5}";
	struct wire_trial_ended e = {
		.sweep = 3, .number = 4, .status = "failed", .objective = NAN,
		.has_error = 1, .error_message = "exited with status 1",
	};
	cJSON *ev;

	CHECK_MSG(design, "cannot read %s", DESIGN_MD);
	if (!design) {
		cJSON_Delete(diag);
		return;
	}
	CHECK(report_parse(txt, strlen(txt), &line, err, sizeof err) == 0);
	ev = wire_ev_trial_started(3, 4, 1, "{\"lr\":0.1}", 1);
	CHECK_STR(keys(ev), documented(design, "trial_started"));
	CHECK(jnum(jget(ev, "params"), "lr") == 0.1);
	CHECK(cJSON_IsTrue(jget(ev, "pending")));
	cJSON_Delete(ev);
	ev = wire_ev_trial_running(3, 4, 1, 2.5);
	CHECK_STR(keys(ev), documented(design, "trial_running"));
	CHECK(jnum(ev, "queue_s") == 2.5);
	cJSON_Delete(ev);
	ev = wire_ev_epoch(3, 4, &line, NULL, 0.5, diag);
	CHECK_STR(keys(ev), documented(design, "epoch"));
	CHECK_STR(jstr(jget(ev, "diagnosis"), "verdict"), "good_fit");
	CHECK(jnum(jget(ev, "metrics"), "val_loss") == 0.5);
	cJSON_Delete(ev);
	ev = wire_ev_trial_ended(&e);
	CHECK_STR(keys(ev), documented(design, "trial_ended"));
	CHECK(jnull(ev, "objective") && jnull(ev, "best_epoch") &&
	      jnull(ev, "diagnosis"));
	CHECK_STR(jstr(jget(ev, "error"), "class"), "exit");   /* no class */
	cJSON_Delete(ev);
	e.status = "completed";
	e.has_error = 0;
	e.objective = 0.25;
	e.best_epoch = 2;
	ev = wire_ev_trial_ended(&e);
	CHECK(jnull(ev, "error") && jnum(ev, "objective") == 0.25 &&
	      jnum(ev, "best_epoch") == 2);
	cJSON_Delete(ev);
	ev = wire_ev_sweep("sweep_ended", 3, "completed", NULL);
	CHECK_STR(keys(ev), documented(design, "sweep_ended"));
	CHECK(jnull(ev, "error"));
	cJSON_Delete(ev);
	ev = wire_ev_sweep("sweep_paused", 3, "paused", NULL);
	CHECK_STR(keys(ev), documented(design, "sweep_paused"));
	cJSON_Delete(ev);
	ev = wire_ev_sweep("sweep_resumed", 3, "running", NULL);
	CHECK_STR(keys(ev), documented(design, "sweep_resumed"));
	cJSON_Delete(ev);
	CHECK_STR(documented(design, "trial_started"),
		  "event,sweep,number,attempt,params,pending");   /* the parser works */
	cJSON_Delete(diag);
	free(design);
}

/* Storage trouble is never a state error: every outage code differs from
 * the codes of the client's own doing. */
static void
storage_trouble_has_storage_codes(void)
{
	static const int outage[] = { -ENOSPC, -EROFS, -EBUSY, -EIO };
	static const char *const state[] = { "conflict", "bad_request",
					     "not_found", NULL };

	for (size_t i = 0; i < sizeof outage / sizeof outage[0]; i++) {
		const char *code = wire_error_code(outage[i]);
		CHECK_MSG(db_is_outage(outage[i]), "%d", outage[i]);
		for (int k = 0; state[k]; k++)
			CHECK_MSG(strcmp(code, state[k]) != 0, "%d -> %s",
				  outage[i], code);
	}
	CHECK_STR(wire_error_code(-EBUSY), "locked");
	CHECK_STR(wire_error_code(-ENOSPC), "disk_full");
	CHECK_STR(wire_error_code(-EROFS), "read_only");
	CHECK_STR(wire_error_code(-EALREADY), "conflict");
	CHECK_STR(wire_error_code(-ENOMEM), "out_of_memory");
	CHECK(!db_is_outage(-ENOMEM) && !db_is_outage(-EALREADY) &&
	      !db_is_outage(-ENOENT) && !db_is_outage(0));
}

static void
holds_and_error_replies(void)
{
	cJSON *id = cJSON_CreateNumber(7);
	cJSON *o = wire_hold(NULL, "x", 1.0, "unstored", 2);

	CHECK_STR(keys(o), "ok");
	cJSON_Delete(o);
	o = wire_hold("disk_full", "cannot store an epoch", 5.0, "unstored", 2);
	CHECK_STR(keys(o), "ok,error,message,since,unstored");
	CHECK(jnum(o, "unstored") == 2);
	cJSON_Delete(o);
	o = wire_error_reply(id, "locked", "database is locked");
	CHECK_STR(keys(o), "id,ok,error");
	CHECK_STR(keys(jget(o, "error")), "code,message");
	cJSON_Delete(o);
	o = wire_error_reply(NULL, "bad_request", "no");
	CHECK_STR(keys(o), "ok,error");
	cJSON_Delete(o);
	cJSON_Delete(id);
}

#define TRIAL_KEYS "id,number,status,attempt,params,seed,objective," \
	"best_epoch,epochs,test_loss,test_acc,diagnosis,note,error," \
	"started_at,ended_at,job,queue_s,promotions,promoted_rung"

/* The trial object and the sweep summary, built from stored rows. */
static void
read_objects_keep_their_order(void)
{
	struct tdir t;
	struct db *db;
	cJSON *j = NULL;
	int64_t sid, a, b;
	struct db_trial_end fail = {
		.status = "failed", .objective = NAN, .test_loss = NAN,
		.test_acc = NAN, .error = "boom", .error_class = "signal",
		.exit_code = -1, .signal = 9, .now = 3.0,
	};

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MIN, 2, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{\"lr\":1}", 5, &a) == 0);
	CHECK(db_trial_create(db, sid, 2, "{\"lr\":2}", 6, &b) == 0);
	CHECK(db_trial_start(db, a, 1, 0, 0, 2.0) == 0);
	CHECK(db_trial_epoch(db, a, 1, 1, 0.5, "{\"val_loss\":0.5}") == 0);
	CHECK(db_trial_end(db, a, &fail) == 0);
	CHECK(wire_trials_json(db, sid, &j) == 0);
	CHECK_STR(keys(cJSON_GetArrayItem(j, 0)), TRIAL_KEYS);
	CHECK_STR(keys(jget(cJSON_GetArrayItem(j, 0), "error")),
		  "class,message,exit_code,signal");
	CHECK(jnum(jget(cJSON_GetArrayItem(j, 0), "error"), "signal") == 9);
	CHECK(jnull(jget(cJSON_GetArrayItem(j, 0), "error"), "exit_code"));
	CHECK(jnull(cJSON_GetArrayItem(j, 1), "error") &&
	      jnull(cJSON_GetArrayItem(j, 1), "started_at"));
	CHECK(jnum(cJSON_GetArrayItem(j, 0), "promotions") == 0 &&
	      jnull(cJSON_GetArrayItem(j, 0), "promoted_rung"));
	cJSON_Delete(j);
	CHECK(wire_trial_json(db, sid, 1, &j) == 0);
	CHECK_STR(keys(j), TRIAL_KEYS ",stderr_tail,curve");
	CHECK_STR(keys(cJSON_GetArrayItem(jget(j, "curve"), 0)),
		  "epoch,val_loss");
	cJSON_Delete(j);
	CHECK(wire_trial_json(db, sid, 9, &j) == -ENOENT && !j);
	CHECK(wire_sweeps_json(db, &j) == 0);
	CHECK_STR(keys(cJSON_GetArrayItem(j, 0)), "id,name,status,created_at,"
		  "ended_at,trials_total,counts,objective,best,failures");
	cJSON_Delete(j);
	CHECK(wire_sweep_json(db, sid, &j) == 0);
	CHECK_STR(keys(j), "id,name,status,created_at,ended_at,trials_total,"
		  "counts,objective,best,failures,spec,error");
	CHECK_STR(keys(jget(j, "counts")),
		  "queued,pending,running,completed,failed,pruned,cancelled");
	CHECK_STR(jstr(jget(j, "objective"), "mode"), "min");
	CHECK(jnum(jget(j, "counts"), "failed") == 1 && jnull(j, "best"));
	CHECK_STR(jstr(cJSON_GetArrayItem(jget(j, "failures"), 0), "class"),
		  "signal");
	cJSON_Delete(j);
	CHECK(wire_sweep_json(db, sid + 1, &j) == -ENOENT && !j);
	db_close(db);
	tdir_clean(&t);
}

int
main(void)
{
	RUN(events_have_the_documented_members_in_order);
	RUN(storage_trouble_has_storage_codes);
	RUN(holds_and_error_replies);
	RUN(read_objects_keep_their_order);
	return harness_done();
}
