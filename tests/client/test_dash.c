/* test_dash.c: the live dashboard's pages: the sweep list and its links,
 * the report's sections, the polling script and its token, escaping. */
#include "client/dash.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>

static const char sweeps_json[] =
	"[{\"id\":1,\"name\":\"old\",\"status\":\"completed\"},"
	" {\"id\":3,\"name\":\"<new>\",\"status\":\"running\"},"
	" {\"id\":2,\"name\":\"mid\",\"status\":\"cancelled\"}]";

static const char sweep_json[] =
	"{\"id\":3,\"name\":\"<new>\",\"status\":\"running\",\"trials_total\":2,"
	" \"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"}}";

static const char trials_json[] =
	"[{\"number\":1,\"status\":\"completed\",\"objective\":0.5,\"params\":{\"x\":1}},"
	" {\"number\":2,\"status\":\"running\",\"params\":{\"x\":2}}]";

static char *
page(int body_only, const char *error, int *rc)
{
	cJSON *s = cJSON_Parse(sweeps_json), *sw = cJSON_Parse(sweep_json);
	cJSON *t = cJSON_Parse(trials_json), *e = cJSON_Parse("[]");
	struct dash_view v = { "00ff", dash_default_sweep(s), s, sw, t, e, error, NULL };
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	*rc = body_only ? dash_write_body(f, &v) : dash_write_page(f, &v);
	fclose(f);
	cJSON_Delete(s);
	cJSON_Delete(sw);
	cJSON_Delete(t);
	cJSON_Delete(e);
	return buf;
}

static void
the_newest_sweep_is_shown_first(void)
{
	cJSON *s = cJSON_Parse(sweeps_json), *none = cJSON_Parse("[]");

	CHECK(dash_default_sweep(s) == 3);
	CHECK(dash_default_sweep(none) == 0);
	CHECK(dash_default_sweep(NULL) == 0);
	cJSON_Delete(s);
	cJSON_Delete(none);
}

static void
body_lists_every_sweep_with_the_token(void)
{
	int rc;
	char *out = page(1, NULL, &rc);

	CHECK(rc == 0);
	CHECK_CONTAINS(out, "href='/?token=00ff&amp;sweep=1'");
	CHECK_CONTAINS(out, "href='/?token=00ff&amp;sweep=2'");
	CHECK_CONTAINS(out, "class='cur' href='/?token=00ff&amp;sweep=3'");
	CHECK_CONTAINS(out, "&lt;new&gt;");
	CHECK(strstr(out, "<new>") == NULL);
	/* the report's sections, for sweep 3 */
	CHECK_CONTAINS(out, "<h2 id='summary'>");
	CHECK_CONTAINS(out, "<h2 id='overlay'>");
	CHECK_CONTAINS(out, "id='trial-table'");
	CHECK(strstr(out, "<html") == NULL);
	free(out);
}

static void
page_polls_its_own_body_only(void)
{
	int rc;
	char *out = page(0, NULL, &rc);

	CHECK(rc == 0);
	CHECK(strncmp(out, "<!DOCTYPE html>\n", 16) == 0);
	CHECK_CONTAINS(out, "<div id='live'>");
	CHECK_CONTAINS(out, "'/body?token='+token+'&sweep='+sweep");
	CHECK_CONTAINS(out, "var token='00ff',sweep=3;");
	CHECK_CONTAINS(out, "function sweepdSortable(");
	/* nothing from elsewhere, not even a favicon request */
	CHECK(strstr(out, "http") == NULL);
	CHECK(strstr(out, "src=") == NULL);
	CHECK_CONTAINS(out, "<link rel='icon' href='data:,'>");
	free(out);
}

static void
an_unreachable_daemon_is_said_on_the_page(void)
{
	int rc;
	char *out = page(1, "cannot connect to sweepd <here>", &rc);

	CHECK(rc == 0);
	CHECK_CONTAINS(out, "cannot connect to sweepd &lt;here&gt;");
	CHECK(strstr(out, "<h2 id='summary'>") == NULL);
	free(out);
}

int
main(void)
{
	RUN(the_newest_sweep_is_shown_first);
	RUN(body_lists_every_sweep_with_the_token);
	RUN(page_polls_its_own_body_only);
	RUN(an_unreachable_daemon_is_said_on_the_page);
	return harness_done();
}
