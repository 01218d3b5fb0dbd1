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

static char *
report(const char *sw, const char *trials, const char *epochs, int *rc)
{
	cJSON *s = cJSON_Parse(sw), *t = cJSON_Parse(trials);
	cJSON *e = epochs ? cJSON_Parse(epochs) : NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	*rc = report_write(f, s, t, e, 1700003800);
	fclose(f);
	cJSON_Delete(s);
	cJSON_Delete(t);
	cJSON_Delete(e);
	return buf;
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
	/* 1 history + 3 curve panels + 3 searched params (epochs is constant) */
	CHECK_MSG(count(out, "<svg") == 7, "%d charts", count(out, "<svg"));
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
	/* trial 2's diverging loss is drawn on a log axis; its old attempt
	 * (7777) is not in the range */
	CHECK_CONTAINS(out, "0.9&#8211;1e+12 log");
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
	CHECK_CONTAINS(t, "<th>epochs</th><th>verdict</th>");
	CHECK(t && strstr(strstr(t, "<th>epochs</th>") + 1, "<th>epochs</th>") == NULL);
	CHECK_CONTAINS(t, "<th>lr</th>");
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
		CHECK(report_write(f, s, t, NULL, 0) == -EIO);
		fclose(f);
	}
	cJSON_Delete(s);
	cJSON_Delete(t);
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
	return harness_done();
}
