/* test_export.c: trials and epochs flattened to CSV and JSON. */
#include "client/export.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>

static const char trials_json[] =
	"[{\"number\":1,\"status\":\"completed\",\"attempt\":1,\"objective\":0.1,"
	"  \"best_epoch\":3,\"epochs\":4,\"test_loss\":null,\"test_acc\":null,"
	"  \"seed\":7,\"started_at\":1700000000,\"ended_at\":1700000095.5,"
	"  \"params\":{\"lr\":0.001,\"act\":\"relu\",\"hidden\":[48,24]},"
	"  \"diagnosis\":{\"verdict\":\"good_fit\",\"stop_epoch\":3},\"error\":null},"
	" {\"number\":2,\"status\":\"failed\",\"attempt\":2,\"objective\":null,"
	"  \"epochs\":0,\"params\":{\"lr\":0.5,\"note\":\"a, \\\"b\\\"\\nc\"},"
	"  \"diagnosis\":null,"
	"  \"error\":{\"class\":\"crash\",\"message\":\"exit code 1\"}}]";

static char *
run(int epochs, const char *json, enum export_format f, int *rc)
{
	cJSON *v = cJSON_Parse(json);
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);

	*rc = epochs ? export_epochs(out, v, f) : export_trials(out, v, f);
	fclose(out);
	cJSON_Delete(v);
	return buf;
}

static void
numbers_read_back_exactly(void)
{
	char b[40];

	CHECK_STR(export_number(b, sizeof b, 0.1), "0.1");
	CHECK_STR(export_number(b, sizeof b, 1700000010), "1700000010");
	CHECK_STR(export_number(b, sizeof b, 1.0 / 3), "0.3333333333333333");
	CHECK(strtod(export_number(b, sizeof b, 0.1 + 0.2), NULL) == 0.1 + 0.2);
	CHECK_STR(export_number(b, sizeof b, NAN), "");
}

static void
csv_quotes_what_it_must(void)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	export_csv_field(f, "plain");
	fputc('|', f);
	export_csv_field(f, "a,b");
	fputc('|', f);
	export_csv_field(f, "say \"hi\"");
	fputc('|', f);
	export_csv_field(f, "two\nlines");
	fclose(f);
	CHECK_STR(buf, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
	free(buf);
}

static void
trials_csv_has_fixed_columns_then_params(void)
{
	int rc;
	char *out = run(0, trials_json, EXPORT_CSV, &rc);

	CHECK(rc == 0);
	CHECK_STR(out,
		"number,status,attempt,objective,best_epoch,epochs,test_loss,test_acc,"
		"verdict,stop_epoch,error_class,error_message,seed,started_at,ended_at,"
		"seconds,promotions,params.lr,params.act,params.hidden,params.note\n"
		"1,completed,1,0.1,3,4,,,good_fit,3,,,7,1700000000,1700000095.5,95.5,,"
		"0.001,relu,\"[48,24]\",\n"
		"2,failed,2,,,0,,,,,crash,exit code 1,,,,,,0.5,,,\"a, \"\"b\"\"\nc\"\n");
	free(out);
}

static void
trials_json_is_one_record_per_line(void)
{
	int rc;
	char *out = run(0, trials_json, EXPORT_JSON, &rc);
	cJSON *v = cJSON_Parse(out), *r1 = cJSON_GetArrayItem(v, 1);

	CHECK(rc == 0);
	CHECK(cJSON_GetArraySize(v) == 2);
	/* every record has every column, null where it had none */
	CHECK(cJSON_GetArraySize(r1) == 21);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(r1, "params.act")));
	CHECK_STR(cJSON_GetObjectItem(r1, "params.note")->valuestring, "a, \"b\"\nc");
	CHECK(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "params.hidden")));
	/* "[", 2 records, "]" */
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	CHECK(lines == 4);
	cJSON_Delete(v);
	free(out);
	out = run(0, "[]", EXPORT_JSON, &rc);
	CHECK_STR(out, "[]\n");
	free(out);
}

static void
epochs_keep_the_daemon_keys(void)
{
	int rc;
	char *out = run(1, "[{\"number\":1,\"attempt\":1,\"epoch\":1,\"train_loss\":0.5,"
			"\"grad_norm\":[0.1,0.2]},{\"number\":1,\"attempt\":1,\"epoch\":2,"
			"\"train_loss\":0.4,\"val_acc\":0.9}]", EXPORT_CSV, &rc);

	CHECK(rc == 0);
	CHECK_STR(out, "number,attempt,epoch,train_loss,grad_norm,val_acc\n"
		  "1,1,1,0.5,\"[0.1,0.2]\",\n"
		  "1,1,2,0.4,,0.9\n");
	free(out);
}

static void
write_errors_are_reported(void)
{
	FILE *f = fopen("/dev/full", "w");
	cJSON *v = cJSON_Parse(trials_json);

	if (!f) {
		SKIP("no /dev/full");
		cJSON_Delete(v);
		return;
	}
	CHECK(export_trials(f, v, EXPORT_CSV) == -EIO);
	fclose(f);
	cJSON_Delete(v);
}

int
main(void)
{
	RUN(numbers_read_back_exactly);
	RUN(csv_quotes_what_it_must);
	RUN(trials_csv_has_fixed_columns_then_params);
	RUN(trials_json_is_one_record_per_line);
	RUN(epochs_keep_the_daemon_keys);
	RUN(write_errors_are_reported);
	return harness_done();
}
