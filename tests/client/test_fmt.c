/* test_fmt.c: sweepctl's number, time, params and table formatting, and
 * the spec-file reader. */
#include "client/fmt.h"
#include "client/specfile.h"
#include "tests/harness.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

/* Runs fn(f) into a memory stream and returns what it wrote (malloc'ed). */
static char *
capture_table(struct fmt_table *t)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	fmt_table_print(t, f);
	fclose(f);
	return buf;
}

static void
numbers_are_compact(void)
{
	char b[FMT_NUM_MAX];

	CHECK_STR(fmt_double(b, sizeof b, 0.123456789), "0.1235");
	CHECK_STR(fmt_double(b, sizeof b, 12345), "12345");
	CHECK_STR(fmt_double(b, sizeof b, -0.0), "0");
	CHECK_STR(fmt_double(b, sizeof b, 1e-5), "1e-05");
	CHECK_STR(fmt_double(b, sizeof b, 123456.7), "1.235e+05");
	CHECK_STR(fmt_double(b, sizeof b, NAN), "nan");
	CHECK_STR(fmt_double(b, sizeof b, -INFINITY), "-inf");
	CHECK_STR(fmt_jnumber(b, sizeof b, NULL, "-"), "-");
}

static void
durations_are_human(void)
{
	char b[FMT_NUM_MAX];

	CHECK_STR(fmt_duration(b, sizeof b, 0.0051), "5.1ms");
	CHECK_STR(fmt_duration(b, sizeof b, 0.42), "420ms");
	CHECK_STR(fmt_duration(b, sizeof b, 2.5), "2.5s");
	CHECK_STR(fmt_duration(b, sizeof b, 12.34), "12.3s");
	CHECK_STR(fmt_duration(b, sizeof b, 184), "3m04s");
	CHECK_STR(fmt_duration(b, sizeof b, 2 * 3600 + 5 * 60 + 7), "2h05m");
	CHECK_STR(fmt_duration(b, sizeof b, 3 * 86400 + 4 * 3600), "3d04h");
	CHECK_STR(fmt_duration(b, sizeof b, -1), "-");
	CHECK_STR(fmt_duration(b, sizeof b, NAN), "-");
}

static void
times_are_local_and_short_today(void)
{
	char b[FMT_NUM_MAX];

	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_STR(fmt_when(b, sizeof b, 1700000000, 1700000000 + 3600), "22:13:20");
	CHECK_STR(fmt_when(b, sizeof b, 1700000000, 1700000000 + 86400), "2023-11-14 22:13");
	CHECK_STR(fmt_when(b, sizeof b, 0, 1700000000), "-");
	CHECK_STR(fmt_kib(b, sizeof b, 512), "512 KiB");
	CHECK_STR(fmt_kib(b, sizeof b, 12595), "12.3 MiB");
}

static void
values_are_shortened_by_columns(void)
{
	cJSON *v = cJSON_Parse("[\"abcdefghij\", \"\xc3\xa9t\xc3\xa9s\", [48, 24], true, null, 0.5]");
	char *s;

	s = fmt_value(cJSON_GetArrayItem(v, 0), 5);
	CHECK_STR(s, "abcd\xe2\x80\xa6");
	CHECK(fmt_width(s) == 5);
	free(s);
	s = fmt_value(cJSON_GetArrayItem(v, 0), 0);
	CHECK_STR(s, "abcdefghij");
	free(s);
	/* Multi-byte characters are cut on a character boundary. */
	s = fmt_value(cJSON_GetArrayItem(v, 1), 3);
	CHECK_STR(s, "\xc3\xa9t\xe2\x80\xa6");
	free(s);
	s = fmt_value(cJSON_GetArrayItem(v, 2), 0);
	CHECK_STR(s, "[48,24]");
	free(s);
	s = fmt_value(cJSON_GetArrayItem(v, 3), 0);
	CHECK_STR(s, "true");
	free(s);
	s = fmt_value(cJSON_GetArrayItem(v, 4), 0);
	CHECK_STR(s, "null");
	free(s);
	cJSON_Delete(v);
}

static void
params_skip_the_common_ones(void)
{
	cJSON *trials = cJSON_Parse(
		"[{\"params\":{\"lr\":0.01,\"epochs\":5,\"hidden\":[4,2],\"act\":\"relu\"}},"
		" {\"params\":{\"lr\":0.1,\"epochs\":5,\"hidden\":[4,2],\"act\":\"tanh\"}},"
		" {\"params\":{\"lr\":0.2,\"epochs\":5,\"hidden\":[4,2]}}]");
	cJSON *common = fmt_common_params(trials);
	char *s;

	CHECK(cJSON_GetArraySize(common) == 2);
	CHECK(cJSON_GetObjectItem(common, "epochs") != NULL);
	CHECK(cJSON_GetObjectItem(common, "hidden") != NULL);
	/* act is missing from one trial, so it is not common */
	CHECK(cJSON_GetObjectItem(common, "act") == NULL);
	s = fmt_params(cJSON_GetObjectItem(cJSON_GetArrayItem(trials, 0), "params"),
		       0, common);
	CHECK_STR(s, "lr=0.01 act=relu");
	free(s);
	s = fmt_params(NULL, 0, NULL);
	CHECK_STR(s, "");
	free(s);
	cJSON_Delete(common);
	/* One trial: nothing is "common", every param is shown. */
	{
		cJSON *one = cJSON_Parse("[{\"params\":{\"lr\":1}}]");

		common = fmt_common_params(one);
		CHECK(common && cJSON_GetArraySize(common) == 0);
		cJSON_Delete(common);
		cJSON_Delete(one);
	}
	cJSON_Delete(trials);
}

static void
share_sums_skip_what_was_not_estimable(void)
{
	cJSON *a = cJSON_Parse("[{\"param\":\"x\",\"share\":0.9},"
			       "{\"param\":\"y\",\"share\":null},"
			       "{\"param\":\"z\",\"share\":0.35}]");
	cJSON *b = cJSON_Parse("[{\"param\":\"x\",\"share\":0.6},"
			       "{\"param\":\"z\",\"share\":0.4}]");

	CHECK(fabs(fmt_share_sum(a) - 1.25) < 1e-12);
	CHECK(FMT_SHARES_OVERLAP(fmt_share_sum(a)));
	CHECK(!FMT_SHARES_OVERLAP(fmt_share_sum(b)));   /* rounding's 1.0 */
	CHECK(fmt_share_sum(NULL) == 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void
table_widths_come_from_the_data(void)
{
	static const char *const head[] = { "ID", "NAME", "BEST" };
	static const char *const r1[] = { "1", "caf\xc3\xa9", "0.88" };
	static const char *const r2[] = { "12", "a\nb", NULL };
	struct fmt_table *t = fmt_table_new(3, head);
	char *out;

	fmt_table_right(t, 0);
	CHECK(fmt_table_add(t, r1) == 0);
	CHECK(fmt_table_add(t, r2) == 0);
	CHECK(fmt_table_rows(t) == 2);
	out = capture_table(t);
	/* Right-aligned ids, the name column 4 wide (é is one column), a
	 * newline in a cell flattened, NULL as "-", no trailing blanks. */
	CHECK_STR(out,
		  "ID  NAME  BEST\n"
		  " 1  caf\xc3\xa9  0.88\n"
		  "12  a b   -\n");
	free(out);
	fmt_table_free(t);
	fmt_table_free(NULL);
}

static void
specfile_reports_position(void)
{
	char path[] = "/tmp/test_fmt_XXXXXX", err[512];
	int fd = mkstemp(path);
	cJSON *v = NULL;

	CHECK(fd >= 0);
	CHECK(write(fd, "{\n  \"a\": 1\n  \"b\": 2}", 20) == 20);
	close(fd);
	CHECK(specfile_load(path, &v, err, sizeof err) == -EINVAL);
	CHECK(v == NULL);
	CHECK_CONTAINS(err, path);
	CHECK_CONTAINS(err, "invalid JSON at line 3, column 3");
	unlink(path);
	CHECK(specfile_load(path, &v, err, sizeof err) == -ENOENT);
	CHECK_CONTAINS(err, "No such file or directory");
}

static void
specfile_resolves_trainer_paths(void)
{
	char err[256];
	cJSON *spec = cJSON_Parse("{\"trainer\":{\"command\":[\"x\"],"
				  "\"cwd\":\"./work\",\"data_dir\":\"d\"}}");
	cJSON *tr = cJSON_GetObjectItem(spec, "trainer");

	CHECK(specfile_resolve(spec, "/etc/some/spec.json", err, sizeof err) == 0);
	/* /etc/some does not exist: joined as given, not resolved */
	CHECK_STR(cJSON_GetObjectItem(tr, "cwd")->valuestring, "/etc/some/work");
	CHECK_STR(cJSON_GetObjectItem(tr, "data_dir")->valuestring, "/etc/some/d");
	cJSON_Delete(spec);

	spec = cJSON_Parse("{\"trainer\":{\"command\":[\"x\"]}}");
	tr = cJSON_GetObjectItem(spec, "trainer");
	CHECK(specfile_resolve(spec, "/spec.json", err, sizeof err) == 0);
	CHECK_STR(cJSON_GetObjectItem(tr, "cwd")->valuestring, "/");
	cJSON_Delete(spec);

	/* A cwd of the wrong type is left for the daemon to name. */
	spec = cJSON_Parse("{\"trainer\":{\"command\":[\"x\"],\"cwd\":3}}");
	CHECK(specfile_resolve(spec, "/x/spec.json", err, sizeof err) == 0);
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "trainer"), "cwd")));
	cJSON_Delete(spec);
}

static void
enqueue_params_are_checked(void)
{
	char err[256];
	cJSON *v = cJSON_Parse("[{\"lr\":1},{\"lr\":2},\"x\"]");

	CHECK(specfile_check_params(v, "p.json", err, sizeof err) == -EINVAL);
	CHECK_STR(err, "p.json: params[3]: must be an object of params");
	cJSON_Delete(v);
	v = cJSON_Parse("[]");
	CHECK(specfile_check_params(v, "p.json", err, sizeof err) == -EINVAL);
	cJSON_Delete(v);
	v = cJSON_Parse("{\"lr\":1}");
	CHECK(specfile_check_params(v, "p.json", err, sizeof err) == 0);
	cJSON_Delete(v);
}

int
main(void)
{
	RUN(numbers_are_compact);
	RUN(durations_are_human);
	RUN(times_are_local_and_short_today);
	RUN(values_are_shortened_by_columns);
	RUN(params_skip_the_common_ones);
	RUN(share_sums_skip_what_was_not_estimable);
	RUN(table_widths_come_from_the_data);
	RUN(specfile_reports_position);
	RUN(specfile_resolves_trainer_paths);
	RUN(enqueue_params_are_checked);
	return harness_done();
}
