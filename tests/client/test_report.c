/* test_report.c: the HTML report: self-contained, escaped, one chart per
 * thing it promises, log axes where the spec says loguniform. */
#include "client/report.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>

static const char sweep_json[] =
	"{\"id\":6,\"name\":\"mix <&> \\\"q\\\"\",\"status\":\"completed\","
	" \"created_at\":1700000000,\"ended_at\":1700003725,\"trials_total\":3,"
	" \"counts\":{\"completed\":2,\"failed\":1},"
	" \"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
	" \"verdicts\":{\"good_fit\":1,\"diverged\":1},"
	" \"advice\":[\"<b>escape</b> me\"],"
	" \"spec\":{\"space\":{\"lr\":{\"loguniform\":[0.0001,1]},"
	"   \"act\":{\"choice\":[\"relu\",\"tanh\"]},\"dropout\":{\"uniform\":[0,0.5]},"
	"   \"epochs\":3}},"
	" \"best_trial\":{\"number\":1,\"objective\":0.9,\"best_epoch\":2,\"epochs\":3,"
	"   \"params\":{\"lr\":0.001,\"act\":\"relu\",\"dropout\":0.1,\"epochs\":3},"
	"   \"diagnosis\":{\"verdict\":\"good_fit\",\"stop_epoch\":2,"
	"     \"epochs_past_stop\":1,\"reason\":\"val & train agree\"}}}";

static const char trials_json[] =
	"[{\"number\":1,\"status\":\"completed\",\"attempt\":1,\"objective\":0.9,"
	"  \"best_epoch\":2,\"epochs\":3,\"started_at\":1700000000,\"ended_at\":1700000060,"
	"  \"params\":{\"lr\":0.001,\"act\":\"relu\",\"dropout\":0.1,\"epochs\":3},"
	"  \"diagnosis\":{\"verdict\":\"good_fit\",\"stop_epoch\":2}},"
	" {\"number\":2,\"status\":\"completed\",\"attempt\":2,\"objective\":0.1,"
	"  \"best_epoch\":1,\"epochs\":3,"
	"  \"params\":{\"lr\":0.5,\"act\":\"tanh\",\"dropout\":0.3,\"epochs\":3},"
	"  \"diagnosis\":{\"verdict\":\"diverged\",\"stop_epoch\":1}},"
	" {\"number\":3,\"status\":\"failed\",\"attempt\":1,\"objective\":null,"
	"  \"epochs\":0,\"params\":{\"lr\":0.01,\"act\":\"relu\",\"dropout\":0.2,\"epochs\":3},"
	"  \"diagnosis\":null,\"error\":{\"class\":\"crash\",\"message\":\"<boom>\"}}]";

/* Trial 2 has rows of an old attempt that must not be drawn. */
static const char epochs_json[] =
	"[{\"number\":1,\"attempt\":1,\"epoch\":1,\"train_loss\":0.9,\"val_loss\":0.8,\"val_acc\":0.8},"
	" {\"number\":1,\"attempt\":1,\"epoch\":2,\"train_loss\":0.5,\"val_loss\":0.6,\"val_acc\":0.9},"
	" {\"number\":1,\"attempt\":1,\"epoch\":3,\"train_loss\":0.4,\"val_loss\":0.62,\"val_acc\":0.88},"
	" {\"number\":2,\"attempt\":1,\"epoch\":1,\"train_loss\":7777,\"val_loss\":7777},"
	" {\"number\":2,\"attempt\":2,\"epoch\":1,\"train_loss\":0.9,\"val_loss\":0.9,\"val_acc\":0.1},"
	" {\"number\":2,\"attempt\":2,\"epoch\":2,\"train_loss\":1e10,\"val_loss\":1e12,\"val_acc\":0.1},"
	" {\"number\":2,\"attempt\":2,\"epoch\":3,\"train_loss\":null,\"val_loss\":null,\"val_acc\":0.1}]";

/* The page of these replies; imp: the importance object's JSON text, or
 * NULL for none. */
static char *
report_imp(const char *sw, const char *trials, const char *epochs,
	   const char *imp, int *rc)
{
	cJSON *s = cJSON_Parse(sw), *t = cJSON_Parse(trials);
	cJSON *e = epochs ? cJSON_Parse(epochs) : NULL;
	cJSON *i = imp ? cJSON_Parse(imp) : NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	*rc = report_write(f, s, t, e, i, 1700003800);
	fclose(f);
	cJSON_Delete(s);
	cJSON_Delete(t);
	cJSON_Delete(e);
	cJSON_Delete(i);
	return buf;
}

static char *
report(const char *sw, const char *trials, const char *epochs, int *rc)
{
	return report_imp(sw, trials, epochs, NULL, rc);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void
page_is_self_contained(void)
{
	int rc;
	char *out = report(sweep_json, trials_json, epochs_json, &rc);

	CHECK(rc == 0);
	CHECK(strncmp(out, "<!DOCTYPE html>\n", 16) == 0);
	CHECK(strcmp(out + strlen(out) - 8, "</html>\n") == 0);
	/* nothing to fetch: no URLs, no external scripts, styles or images */
	CHECK(strstr(out, "http") == NULL);
	CHECK(strstr(out, "<link") == NULL);
	CHECK(strstr(out, "src=") == NULL);
	CHECK(count(out, "<script>") == 1);
	CHECK(count(out, "<svg") == count(out, "</svg>"));
	free(out);
}

static void
daemon_text_is_escaped(void)
{
	int rc;
	char *out = report(sweep_json, trials_json, epochs_json, &rc);

	CHECK_CONTAINS(out, "<title>sweep 6: mix &lt;&amp;&gt; &quot;q&quot;</title>");
	CHECK(strstr(out, "mix <&>") == NULL);
	CHECK_CONTAINS(out, "<li>&lt;b&gt;escape&lt;/b&gt; me</li>");
	CHECK_CONTAINS(out, "title='&lt;boom&gt;'");
	CHECK_CONTAINS(out, "val &amp; train agree");
	free(out);
}

static void
every_section_is_there(void)
{
	int rc;
	char *out = report(sweep_json, trials_json, epochs_json, &rc);

	CHECK_CONTAINS(out, "<h2 id='summary'>");
	CHECK_CONTAINS(out, "<h2 id='best'>");
	CHECK_CONTAINS(out, "<h2 id='history'>");
	CHECK_CONTAINS(out, "<h2 id='curves'>");
	CHECK_CONTAINS(out, "<h2 id='params'>");
	CHECK_CONTAINS(out, "<h2 id='trials'>");
	CHECK_CONTAINS(out, "<h2 id='spec'>");
	CHECK_CONTAINS(out, "<h2 id='failures'>");
	CHECK_CONTAINS(out, "<h2 id='overlay'>");
	CHECK_CONTAINS(out, "<h2 id='parcoords'>");
	/* 1 history + 1 overlay + 3 curve panels + 3 searched params (epochs
	 * is constant) + 1 parallel coordinates */
	CHECK_MSG(count(out, "<svg") == 9, "%d charts", count(out, "<svg"));
	/* one table row per trial, plus the header */
	CHECK(count(out, "<tr><td class='n' data-v=") == 3);
	/* the best-so-far line and a dot per trial with an objective */
	CHECK(count(out, "<polyline fill='none' stroke='#333'") == 1);
	free(out);
}

static void
charts_follow_the_spec_and_verdicts(void)
{
	int rc;
	char *out = report(sweep_json, trials_json, epochs_json, &rc);

	/* lr is loguniform: log x; dropout is uniform: linear; act is a
	 * choice: its categories label the axis */
	CHECK_CONTAINS(out, ">lr (log scale)</text>");
	CHECK_CONTAINS(out, ">dropout</text>");
	CHECK_CONTAINS(out, "class='xt'>tanh</text>");
	/* panels are framed in their verdict's colour */
	CHECK_CONTAINS(out, "stroke='#c62828' stroke-width='2'");
	CHECK_CONTAINS(out, "stroke='#2e7d32' stroke-width='2'");
	CHECK_CONTAINS(out, "early stopping point: epoch 2");
	/* trial 2's diverging loss does not flatten the other curves: the
	 * shared range stops at 3 times the highest first loss; its old
	 * attempt (7777) is not drawn */
	CHECK_CONTAINS(out, "loss, cut at 2.7");
	CHECK(strstr(out, "7777") == NULL);
	/* the failed trial has no curve */
	CHECK_CONTAINS(out, "no curve");
	free(out);
}

static void
constant_params_get_no_column(void)
{
	int rc;
	char *out = report(sweep_json, trials_json, epochs_json, &rc);
	const char *t = out ? strstr(out, "id='trial-table'") : NULL;

	/* epochs=3 in every trial: listed once under the table, not a second
	 * "epochs" column beside the reported epochs */
	CHECK(t != NULL);
	CHECK_CONTAINS(t, "<th>epochs run<span class='arrow'></span></th><th>verdict");
	CHECK(t && strstr(t, "<th>epochs<") == NULL);
	CHECK_CONTAINS(t, "<th>lr<span");
	CHECK_CONTAINS(t, "Same in every trial: epochs=3</p>");
	free(out);
}

static void
works_without_epochs_or_results(void)
{
	int rc;
	char *out = report("{\"id\":1,\"name\":\"empty\"}", "[]", NULL, &rc);

	CHECK(rc == 0);
	CHECK_CONTAINS(out, "No trial has completed yet.");
	CHECK_CONTAINS(out, "did not send the epochs table");
	CHECK_CONTAINS(out, "No trial has reported an objective yet.");
	free(out);
}

static void
write_errors_are_reported(void)
{
	FILE *f = fopen("/dev/full", "w");
	cJSON *s = cJSON_Parse(sweep_json), *t = cJSON_Parse(trials_json);

	if (!f) {
		SKIP("no /dev/full");
	} else {
		CHECK(report_write(f, s, t, NULL, NULL, 0) == -EIO);
		fclose(f);
	}
	cJSON_Delete(s);
	cJSON_Delete(t);
}

/* A 1-epoch pruned trial, epochs searched (so an "epochs" param column
 * beside the reported epochs), and the daemon's failure summary. */
static const char sweep2_json[] =
	"{\"id\":7,\"name\":\"p\",\"status\":\"running\",\"created_at\":1700000000,"
	" \"trials_total\":4,\"counts\":{\"completed\":2,\"pruned\":1,\"failed\":1},"
	" \"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
	" \"failures\":[{\"class\":\"exit\",\"message\":\"exited with status 3\",\"count\":16}],"
	" \"spec\":{\"space\":{\"epochs\":{\"choice\":[1,3]},\"x\":{\"uniform\":[0,1]}}}}";

static const char trials2_json[] =
	"[{\"number\":1,\"status\":\"completed\",\"objective\":0.9,\"epochs\":3,"
	"  \"params\":{\"epochs\":3,\"x\":0.2},\"diagnosis\":{\"verdict\":\"good_fit\"}},"
	" {\"number\":2,\"status\":\"pruned\",\"objective\":0.3,\"epochs\":1,"
	"  \"params\":{\"epochs\":3,\"x\":0.9},\"diagnosis\":{\"verdict\":\"insufficient_data\"}},"
	" {\"number\":3,\"status\":\"completed\",\"objective\":0.7,\"epochs\":1,"
	"  \"params\":{\"epochs\":1,\"x\":0.5},\"diagnosis\":{\"verdict\":\"good_fit\"}},"
	" {\"number\":4,\"status\":\"failed\",\"objective\":null,\"epochs\":0,"
	"  \"params\":{\"epochs\":3,\"x\":0.4},\"error\":{\"class\":\"exit\","
	"  \"message\":\"exited with status 3\"}}]";

static const char epochs2_json[] =
	"[{\"number\":1,\"epoch\":1,\"val_loss\":0.8,\"train_loss\":0.9,\"val_acc\":0.6},"
	" {\"number\":1,\"epoch\":2,\"val_loss\":0.5,\"train_loss\":0.6,\"val_acc\":0.8},"
	" {\"number\":1,\"epoch\":3,\"val_loss\":0.4,\"train_loss\":0.5,\"val_acc\":0.9},"
	" {\"number\":2,\"epoch\":1,\"val_loss\":2.0,\"train_loss\":2.1,\"val_acc\":0.3},"
	" {\"number\":3,\"epoch\":1,\"val_loss\":0.6,\"train_loss\":0.7,\"val_acc\":0.7}]";

/* The part of out from section id's <h2> to the next <h2> (a copy). */
static char *
section(const char *out, const char *id)
{
	char key[64];
	const char *a, *b;

	snprintf(key, sizeof key, "<h2 id='%s'>", id);
	if (!out || !(a = strstr(out, key)))
		return strdup("");
	b = strstr(a + 1, "<h2 ");
	return b ? strndup(a, (size_t)(b - a)) : strdup(a);
}

static void
a_one_epoch_trial_draws_a_point(void)
{
	int rc;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *c = section(out, "curves");
	const char *p2 = strstr(c, "#2</tspan>");

	/* trial 2 has one epoch: a dot, not an empty panel */
	CHECK(p2 != NULL);
	CHECK(p2 && strstr(p2, "<circle") && strstr(p2, "<circle") < strstr(p2, "</svg>"));
	CHECK(strstr(c, "no curve") != NULL);   /* the failed trial */
	free(c);
	free(out);
}

/* The y tick labels of each small multiple, one string per panel. */
static int
panel_ticks(const char *c, char ticks[][256], int max)
{
	int n = 0;

	for (const char *p = c; (p = strstr(p, "<svg")) && n < max; n++) {
		const char *end = strstr(p, "</svg>"), *q = p;
		size_t k = 0;

		ticks[n][0] = '\0';
		while ((q = strstr(q, "class='yt'>")) && q < end) {
			q += 11;
			k += (size_t)snprintf(ticks[n] + k, 256 - k, "%.*s|",
					      (int)(strchr(q, '<') - q), q);
		}
		p = end;
	}
	return n;
}

static void
small_multiples_share_the_y_axis(void)
{
	int rc, n;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *c = section(out, "curves");
	char ticks[8][256];

	n = panel_ticks(c, ticks, 8);
	CHECK(n == 4);
	/* every panel with a curve has the same labelled y axis */
	CHECK_MSG(ticks[0][0] != '\0', "no y ticks");
	CHECK_STR(ticks[1], ticks[0]);
	CHECK_STR(ticks[2], ticks[0]);
	CHECK_CONTAINS(c, "class='xt'>");   /* and an x axis */
	/* no range label over the curves */
	CHECK(strstr(c, "&#8211;") == NULL);
	free(c);
	free(out);
}

static void
legend_lists_the_verdicts_trials_have(void)
{
	int rc;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *c = section(out, "curves");

	CHECK_CONTAINS(c, ">good_fit</span>");
	CHECK_CONTAINS(c, ">insufficient_data</span>");
	CHECK(strstr(c, ">plateau</span>") == NULL);
	CHECK(strstr(c, ">diverged</span>") == NULL);
	free(c);
	free(out);
}

static void
table_heads_are_distinct_and_sorted(void)
{
	int rc;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *t = section(out, "trials");

	CHECK(count(t, ">epochs<span") == 1);   /* the param */
	CHECK_CONTAINS(t, ">epochs run<span");   /* what the trial ran */
	/* the table comes sorted by number: the arrow says so */
	CHECK_CONTAINS(t, "aria-sort='ascending'");
	CHECK_CONTAINS(t, "\xe2\x96\xb2");   /* ▲ */
	free(t);
	free(out);
}

static void
spec_is_indented_with_two_spaces_and_times_have_a_date(void)
{
	int rc;
	char *out = report(sweep_json, trials_json, epochs_json, &rc);
	char *sp = section(out, "spec"), *sum = section(out, "summary");

	CHECK(strchr(sp, '\t') == NULL);
	CHECK_CONTAINS(sp, "<pre>{\n  &quot;space&quot;: {\n    &quot;lr&quot;: {");
	/* 1700000000 is 2023-11-14 or -15 depending on the zone */
	CHECK_MSG(strstr(sum, "2023-11-1") != NULL, "%s", sum);
	free(sp);
	free(sum);
	free(out);
}

static void
overlay_draws_every_curve_and_highlights_the_best(void)
{
	int rc;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *o = section(out, "overlay");

	CHECK(count(o, "<svg") == 1);
	/* trial 1 a line, 2 and 3 (one epoch) a point each; 1 is the best */
	CHECK_MSG(count(o, "<title>trial ") == 3, "%s", o);
	CHECK_CONTAINS(o, "class='best'");
	CHECK_CONTAINS(o, "#1 0.9");
	CHECK_CONTAINS(o, "class='yt'>");
	free(o);
	free(out);
}

static void
parallel_coordinates_of_the_params(void)
{
	int rc;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *pc = section(out, "parcoords");

	CHECK(count(pc, "<svg") == 1);
	/* an axis per searched param and the objective */
	CHECK_CONTAINS(pc, "class='pcl'>epochs</text>");
	CHECK_CONTAINS(pc, "class='pcl'>x</text>");
	CHECK_CONTAINS(pc, "class='pcl'>val_acc</text>");
	/* a line per trial with an objective, coloured by it */
	CHECK_MSG(count(pc, "<polyline") == 3, "%d", count(pc, "<polyline"));
	free(pc);
	free(out);
}

static void
failure_summary_from_the_daemon_or_the_trials(void)
{
	int rc;
	char *out = report(sweep2_json, trials2_json, epochs2_json, &rc);
	char *f = section(out, "failures");

	/* the daemon's summary counts every failure */
	CHECK_CONTAINS(f, "<td>exit</td><td>exited with status 3</td><td class='n'>16</td>");
	free(f);
	free(out);
	/* without it, the trials' errors are grouped */
	out = report(sweep_json, trials_json, epochs_json, &rc);
	f = section(out, "failures");
	CHECK_CONTAINS(f, "<td>crash</td><td>&lt;boom&gt;</td><td class='n'>1</td>");
	free(f);
	free(out);
}

/* ---- what mattered ------------------------------------------------------ */

/* Sent unsorted, one share not estimable; a verdict with enough trials
 * for bars and one with a single trial. */
static const char imp_json[] =
	"{\"method\":\"omega <squared>\",\"trials\":10,"
	" \"objective\":[{\"param\":\"dropout\",\"share\":0.1},"
	"   {\"param\":\"act\",\"share\":null},{\"param\":\"lr\",\"share\":0.8}],"
	" \"verdicts\":[{\"verdict\":\"diverged\",\"trials\":6,\"of\":10,"
	"   \"params\":[{\"param\":\"act\",\"share\":0.05},{\"param\":\"lr\",\"share\":0.9}]},"
	"  {\"verdict\":\"good_fit\",\"trials\":1,\"of\":10,"
	"   \"params\":[{\"param\":\"lr\",\"share\":null}]}]}";

/* The data-param of each bar in s, in order, joined by '|'. */
static void
bar_order(const char *s, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (const char *p = s; (p = strstr(p, "class='imp-bar' data-param='")); ) {
		p += strlen("class='imp-bar' data-param='");
		k += (size_t)snprintf(buf + k, len - k, "%.*s|",
				      (int)(strchr(p, '\'') - p), p);
	}
}

static void
importance_bars_are_sorted_and_say_how_many_trials(void)
{
	int rc;
	char *out = report_imp(sweep_json, trials_json, epochs_json, imp_json, &rc);
	char *s = section(out, "importance"), order[256];
	const char *v = strstr(s, ">diverged</span>");

	CHECK(rc == 0);
	CHECK_CONTAINS(s, "<h2 id='importance'>What mattered</h2>");
	CHECK_CONTAINS(s, "over <b>10 completed trials</b>");
	CHECK_CONTAINS(s, "(method: omega &lt;squared&gt;)");
	/* largest first, the one not estimable last and said so */
	bar_order(s, order, sizeof order);
	CHECK_STR(order, "lr|dropout|act|lr|act|");
	CHECK_CONTAINS(s, "data-share='0.800000'");
	CHECK_CONTAINS(s, ">not estimable</text>");
	/* the bar's length is its share of the 0 to 1 axis */
	CHECK_CONTAINS(s, "width='348.8'");          /* 0.8 of 436 px */
	/* a verdict with enough trials: bars in its colour, how many of how
	 * many */
	CHECK(v != NULL);
	CHECK_CONTAINS(v, " 6 of 10 diagnosed trials</h3>");
	CHECK_CONTAINS(v, "fill='#c62828'");
	/* one trial only: a table of it, not bars */
	CHECK_CONTAINS(s, " 1 of 10 diagnosed trials</h3>\n<p>Only one trial: too few");
	CHECK_CONTAINS(strstr(s, "Only one trial"), "<tr><td class='n'>1</td><td class='n'>0.9</td>");
	/* it comes before the objective's scatters */
	CHECK(out && strstr(out, "id='importance'") < strstr(out, "id='params'"));
	CHECK(count(out, "<svg") == count(out, "</svg>"));
	CHECK(strstr(s, "imp-overlap") == NULL);     /* 0.9 in all */
	free(s);
	free(out);
}

static void
importance_shares_over_one_are_explained(void)
{
	int rc;
	char *out = report_imp(sweep_json, trials_json, epochs_json,
			       "{\"method\":\"m\",\"trials\":10,\"objective\":"
			       "[{\"param\":\"lr\",\"share\":0.98},"
			       "{\"param\":\"act\",\"share\":0.41}],"
			       "\"verdicts\":[]}", &rc);
	char *s = section(out, "importance");

	CHECK(rc == 0);
	CHECK_CONTAINS(s, "These shares sum to 1.39, over 1: params sampled together");
	free(s);
	free(out);
}

static void
importance_with_too_few_trials_says_so(void)
{
	int rc;
	char *out = report_imp(sweep_json, trials_json, epochs_json,
			       "{\"method\":\"m\",\"trials\":2,\"objective\":"
			       "[{\"param\":\"lr\",\"share\":null}],\"verdicts\":[]}", &rc);
	char *s = section(out, "importance");

	CHECK(rc == 0);
	CHECK_CONTAINS(s, "over <b>2 completed trials</b>");
	CHECK_CONTAINS(s, "Too few completed trials to say what mattered: 2 so far");
	CHECK(strstr(s, "<svg") == NULL);     /* no empty chart */
	CHECK(strstr(s, "<h3>Verdicts") == NULL);
	free(s);
	free(out);
}

static void
importance_the_daemon_refused_is_said(void)
{
	int rc;
	char *out = report_imp(sweep_json, trials_json, epochs_json,
			       "\"unknown op <importance> (bad_request)\"", &rc);
	char *s = section(out, "importance");

	CHECK(rc == 0);
	CHECK_CONTAINS(s, "The daemon gave no importance: unknown op "
		       "&lt;importance&gt; (bad_request).");
	CHECK(strstr(s, "<svg") == NULL);
	free(s);
	free(out);
	/* and none at all */
	out = report(sweep_json, trials_json, epochs_json, &rc);
	s = section(out, "importance");
	CHECK_CONTAINS(s, "The daemon gave no importance.");
	free(s);
	free(out);
}

/* ---- parallel coordinates: conditional params, several objectives ------ */

/* mom exists only with opt=sgd, and the first trial has adam; two
 * objectives, the second (val_loss) read from the best epoch's row. */
static const char sweep3_json[] =
	"{\"id\":8,\"name\":\"c\",\"status\":\"completed\","
	" \"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
	" \"spec\":{\"objectives\":[{\"metric\":\"val_acc\",\"mode\":\"max\"},"
	"   {\"metric\":\"val_loss\",\"mode\":\"min\"}],"
	"  \"space\":{\"opt\":{\"choice\":[\"adam\",\"sgd\"]},"
	"   \"mom\":{\"uniform\":[0.5,0.9],\"when\":{\"opt\":[\"sgd\"]}}}}}";

static const char trials3_json[] =
	"[{\"number\":1,\"status\":\"completed\",\"attempt\":1,\"objective\":0.5,"
	"  \"best_epoch\":1,\"params\":{\"opt\":\"adam\"}},"
	" {\"number\":2,\"status\":\"completed\",\"attempt\":1,\"objective\":0.9,"
	"  \"best_epoch\":1,\"params\":{\"opt\":\"sgd\",\"mom\":0.7}},"
	" {\"number\":3,\"status\":\"completed\",\"attempt\":1,\"objective\":0.7,"
	"  \"best_epoch\":1,\"params\":{\"opt\":\"sgd\",\"mom\":0.8}}]";

static const char epochs3_json[] =
	"[{\"number\":1,\"attempt\":1,\"epoch\":1,\"val_acc\":0.5,\"val_loss\":2.0},"
	" {\"number\":2,\"attempt\":1,\"epoch\":1,\"val_acc\":0.9,\"val_loss\":0.25},"
	" {\"number\":3,\"attempt\":1,\"epoch\":1,\"val_acc\":0.7}]";

static void
parallel_coordinates_mark_absent_params_and_show_every_objective(void)
{
	int rc;
	char *out = report(sweep3_json, trials3_json, epochs3_json, &rc);
	char *pc = section(out, "parcoords"), *t = section(out, "trials");
	const char *l1 = strstr(pc, "<polyline"), *l3;

	CHECK(rc == 0);
	/* mom has an axis though the first trial lacks it, and the trial
	 * table a column */
	CHECK_CONTAINS(pc, "class='pcl'>mom</text>");
	CHECK_CONTAINS(t, "<th>mom<span");
	/* an axis per objective; the colour bar beside the first */
	CHECK_CONTAINS(pc, "class='pcl'>val_acc</text>");
	CHECK_CONTAINS(pc, "class='pcl'>val_loss</text>");
	CHECK_CONTAINS(pc, "fill='url(#pc-ramp)'");
	/* trial 1 has no mom: its line meets the mom axis (x 190) at the
	 * absent mark (y 274), not at a value; trial 3 reported no
	 * val_loss: the same on that axis (x 450) */
	CHECK(l1 != NULL);
	CHECK_CONTAINS(l1, "190.0,274.0 ");
	CHECK_CONTAINS(pc, ">absent</text>");
	l3 = strstr(pc, "<title>trial 3:");
	CHECK(l3 != NULL);
	CHECK_CONTAINS(pc, "450.0,274.0 '><title>trial 3:");
	CHECK_CONTAINS(pc, "meets it at its <i>absent</i> mark");
	/* the legend says what the colours mean */
	CHECK_CONTAINS(pc, "coloured by val_acc (the bar beside its axis): bright "
		       "yellow the best (the highest)");
	free(t);
	free(pc);
	free(out);
}

/* Long names are cut where they would run into the next label, whole in
 * the tooltip. */
static void
long_labels_are_cut_with_the_whole_text_in_a_tooltip(void)
{
	int rc;
	char *out = report(
		"{\"id\":9,\"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
		" \"spec\":{\"space\":{\"a_learning_rate_warmup_steps\":{\"uniform\":[0,1]},"
		"  \"opt\":{\"choice\":[\"sgd_with_nesterov_momentum\",\"adam\"]}}}}",
		"[{\"number\":1,\"status\":\"completed\",\"objective\":0.5,\"params\":"
		"  {\"a_learning_rate_warmup_steps\":0.1,\"opt\":\"adam\"}},"
		" {\"number\":2,\"status\":\"completed\",\"objective\":0.7,\"params\":"
		"  {\"a_learning_rate_warmup_steps\":0.6,\"opt\":\"sgd_with_nesterov_momentum\"}}]",
		NULL, &rc);
	char *pc = section(out, "parcoords");

	CHECK(rc == 0);
	CHECK_CONTAINS(pc, "class='pcl'>a_learning_rate_w\xe2\x80\xa6<title>"
		       "a_learning_rate_warmup_steps</title></text>");
	CHECK_CONTAINS(pc, "class='pcc'>sgd_with_nest\xe2\x80\xa6<title>"
		       "sgd_with_nesterov_momentum</title>");
	CHECK_CONTAINS(pc, "class='pcc'>adam</text>");
	free(pc);
	free(out);
}

int
main(void)
{
	RUN(page_is_self_contained);
	RUN(daemon_text_is_escaped);
	RUN(every_section_is_there);
	RUN(charts_follow_the_spec_and_verdicts);
	RUN(constant_params_get_no_column);
	RUN(works_without_epochs_or_results);
	RUN(write_errors_are_reported);
	RUN(a_one_epoch_trial_draws_a_point);
	RUN(small_multiples_share_the_y_axis);
	RUN(legend_lists_the_verdicts_trials_have);
	RUN(table_heads_are_distinct_and_sorted);
	RUN(spec_is_indented_with_two_spaces_and_times_have_a_date);
	RUN(overlay_draws_every_curve_and_highlights_the_best);
	RUN(parallel_coordinates_of_the_params);
	RUN(failure_summary_from_the_daemon_or_the_trials);
	RUN(importance_bars_are_sorted_and_say_how_many_trials);
	RUN(importance_shares_over_one_are_explained);
	RUN(importance_with_too_few_trials_says_so);
	RUN(importance_the_daemon_refused_is_said);
	RUN(parallel_coordinates_mark_absent_params_and_show_every_objective);
	RUN(long_labels_are_cut_with_the_whole_text_in_a_tooltip);
	return harness_done();
}
