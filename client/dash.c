/*
 * dash.c: the live dashboard's page and its live part (see dash.h). The
 * sections are report.c's; this file adds the sweep list, the frame of
 * the page and the script that refreshes it.
 */
#include "client/dash.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/report.h"

long long
dash_default_sweep(const cJSON *sweeps)
{
	const cJSON *s;
	double best = 0;

	cJSON_ArrayForEach(s, sweeps)
		best = fmax(best, fmt_jnum(s, "id", 0));
	return (long long)best;
}

/* The sweep list: one link per sweep, newest first (the daemon sends
 * them oldest first). The token is hex, so it needs no escaping. */
static void
nav(FILE *out, const struct dash_view *v)
{
	int n = cJSON_GetArraySize(v->sweeps);

	fputs("<nav class='sweeps'>", out);
	if (n == 0)
		fputs("No sweeps yet: submit one with <code>sweepctl submit "
		      "FILE</code>.", out);
	for (int i = n - 1; i >= 0; i--) {
		const cJSON *s = cJSON_GetArrayItem(v->sweeps, i);
		long long id = (long long)fmt_jnum(s, "id", 0);

		fprintf(out, "<a%s href='/?token=%s&amp;sweep=%lld'>%lld ",
			id == v->sweep ? " class='cur'" : "", v->token, id, id);
		report_esc(out, fmt_jstr(s, "name", ""));
		fputs(" <span class='st'>", out);
		report_esc(out, fmt_jstr(s, "status", ""));
		fputs("</span></a>\n", out);
	}
	fputs("</nav>\n", out);
}

int
dash_write_body(FILE *out, const struct dash_view *v)
{
	nav(out, v);
	if (v->error) {
		fputs("<p class='err'>", out);
		report_esc(out, v->error);
		fputs("</p>\n", out);
		return 0;
	}
	if (!v->sw)
		return 0;
	fprintf(out, "<h1>sweep %lld: ", v->sweep);
	report_esc(out, fmt_jstr(v->sw, "name", ""));
	fputs("</h1>\n", out);
	return report_write_body(out, v->sw, v->trials, v->epochs, v->importance);
}

/* Replaces #live with /body when it changed since the last poll (the
 * first one too: the page may have been rendered a moment before a trial
 * ended); says when it last asked (HH:MM:SS, 24-hour as every other
 * time the views print), or why it could not. The next poll is
 * DASH_POLL_MS later, or 5 times as long as this one took when that is
 * more (a sweep so large that rendering it is slow keeps the daemon busy
 * a fifth of the time at most); a hidden tab does not poll. */
static const char poll_script[] =
	"(function(){\n"
	"var live=document.getElementById('live'),"
	"state=document.getElementById('state'),last=null,updates=0;\n"
	"function refresh(){\n"
	"  if(document.hidden){setTimeout(refresh,%d);return;}\n"
	"  var t0=Date.now();\n"
	"  fetch('/body?token='+token+'&sweep='+sweep,{cache:'no-store'})\n"
	"  .then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);"
	"return r.text();})\n"
	"  .then(function(t){\n"
	"    if(t!==last){live.innerHTML=t;sweepdSortable(live);"
	"live.setAttribute('data-updates',++updates);}\n"
	"    last=t;\n"
	"    state.textContent='live: checked '+new Date().toTimeString().slice(0,8);})\n"
	"  .catch(function(e){state.textContent='not updating: '+e.message;})\n"
	"  .then(function(){setTimeout(refresh,Math.max(%d,5*(Date.now()-t0)));});\n"
	"}\n"
	"sweepdSortable(live);\n"
	"refresh();\n"
	"})();\n";

int
dash_write_page(FILE *out, const struct dash_view *v)
{
	int rc;

	fputs("<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
	      "<meta name='viewport' content='width=device-width,initial-scale=1'>\n"
	      "<link rel='icon' href='data:,'>\n<title>sweepd dashboard</title>\n"
	      "<style>\n", out);
	fputs(report_css(), out);
	fputs("nav.sweeps{display:flex;flex-wrap:wrap;gap:4px 14px;padding:6px 0;"
	      "border-bottom:1px solid #ddd}\nnav.sweeps a{color:#1565c0;"
	      "text-decoration:none}nav.sweeps a.cur{font-weight:bold;color:#222}\n"
	      ".st{color:#777;font-size:12px}.err{color:#c62828}\n"
	      "#state{color:#777;font-size:12px;float:right}\n</style>\n</head>\n"
	      "<body>\n<span id='state'>live</span>\n<div id='live'>\n", out);
	if ((rc = dash_write_body(out, v)) < 0)
		return rc;
	fprintf(out, "</div>\n<script>\n%s\nvar token='%s',sweep=%lld;\n",
		report_script(), v->token, v->sweep);
	fprintf(out, poll_script, DASH_POLL_MS, DASH_POLL_MS);
	fputs("</script>\n</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
