/*
 * test_report.c: the trainer report-line parser: valid epoch and final
 * lines, non-finite numbers, and every rejection with its message.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/report.h"
#include "tests/harness.h"

static struct report_line r;
static char err[512];

/* Parses a NUL-terminated line into the static r/err. */
static int
parse(const char *line)
{
	err[0] = '\0';
	return report_parse(line, strlen(line), &r, err, sizeof(err));
}

/* The line must be rejected with a message containing want. */
#define CHECK_BAD(line, want) do { \
	CHECK(parse(line) == -EINVAL); \
	CHECK_CONTAINS(err, "bad report line \""); \
	CHECK_CONTAINS(err, want); \
} while (0)

static void
epoch_line_full(void)
{
	CHECK(parse("{\"epoch\":3,\"train_loss\":0.61,\"train_acc\":0.78,"
		    "\"val_loss\":0.52,\"val_acc\":0.81,\"lr\":0.001,"
		    "\"seconds\":2.1,\"grad_norm\":[0.31,0.12,0.05]}") == 0);
	CHECK(r.kind == REPORT_EPOCH);
	CHECK(r.epoch == 3);
	CHECK(r.best_epoch == 0);
	CHECK(r.n_metrics == 6);
	CHECK_STR(r.metrics[0].name, "train_loss");
	CHECK_NEAR(report_get(&r, "train_loss"), 0.61, 1e-12);
	CHECK_NEAR(report_get(&r, "val_acc"), 0.81, 1e-12);
	CHECK_NEAR(report_get(&r, "seconds"), 2.1, 1e-12);
	CHECK(isnan(report_get(&r, "test_acc")));
	CHECK(report_has(&r, "lr") && !report_has(&r, "nope"));
	CHECK(r.n_grad == 3);
	CHECK_NEAR(r.grad_norm[0], 0.31, 1e-12);
	CHECK_NEAR(r.grad_norm[2], 0.05, 1e-12);
}

static void
epoch_line_minimal(void)
{
	CHECK(parse("{\"epoch\":1}") == 0);
	CHECK(r.kind == REPORT_EPOCH && r.epoch == 1);
	CHECK(r.n_metrics == 0 && r.n_grad == 0);
	/* whitespace around and inside is fine; 2.0 is an integer */
	CHECK(parse("  { \"epoch\" : 2.0 , \"loss\" : 1e-3 }  ") == 0);
	CHECK(r.epoch == 2);
	CHECK_NEAR(report_get(&r, "loss"), 1e-3, 1e-15);
}

static void
final_line(void)
{
	CHECK(parse("{\"final\":true,\"best_epoch\":7,\"test_loss\":0.33,"
		    "\"test_acc\":0.884}") == 0);
	CHECK(r.kind == REPORT_FINAL);
	CHECK(r.best_epoch == 7);
	CHECK(r.epoch == 0);
	CHECK(r.n_metrics == 2);
	CHECK_NEAR(report_get(&r, "test_acc"), 0.884, 1e-12);
	/* best_epoch optional, or null */
	CHECK(parse("{\"final\":true}") == 0);
	CHECK(r.kind == REPORT_FINAL && r.best_epoch == 0);
	CHECK(parse("{\"final\":true,\"best_epoch\":null,\"epoch\":12}") == 0);
	CHECK(r.best_epoch == 0 && r.epoch == 12);
	/* final:false is an ordinary epoch line */
	CHECK(parse("{\"final\":false,\"epoch\":4}") == 0);
	CHECK(r.kind == REPORT_EPOCH && r.epoch == 4);
}

static void
extra_metrics_kept_nonnumeric_ignored(void)
{
	CHECK(parse("{\"epoch\":1,\"my_f1\":0.7,\"note\":\"hi\",\"ok\":true,"
		    "\"cfg\":{\"a\":1},\"hist\":[1,2],\"weird key\":5}") == 0);
	CHECK(r.n_metrics == 2);
	CHECK_NEAR(report_get(&r, "my_f1"), 0.7, 1e-12);
	CHECK_NEAR(report_get(&r, "weird key"), 5, 0);
	CHECK(!report_has(&r, "note") && !report_has(&r, "ok"));
	CHECK(!report_has(&r, "cfg") && !report_has(&r, "hist"));
}

static void
python_nonfinite_words_accepted(void)
{
	CHECK(parse("{\"epoch\":5,\"train_loss\":NaN,\"val_loss\":Infinity,"
		    "\"x\":-Infinity,\"grad_norm\":[NaN,Infinity,1.5]}") == 0);
	CHECK(r.epoch == 5);
	CHECK(isnan(report_get(&r, "train_loss")));
	CHECK(report_has(&r, "train_loss"));
	CHECK(isinf(report_get(&r, "val_loss")) && report_get(&r, "val_loss") > 0);
	CHECK(isinf(report_get(&r, "x")) && report_get(&r, "x") < 0);
	CHECK(r.n_grad == 3);
	CHECK(isnan(r.grad_norm[0]));
	CHECK(isinf(r.grad_norm[1]));
	CHECK_NEAR(r.grad_norm[2], 1.5, 0);
}

static void
null_metric_is_nan(void)
{
	CHECK(parse("{\"epoch\":2,\"val_loss\":null,\"grad_norm\":[null,2]}") == 0);
	CHECK(report_has(&r, "val_loss"));
	CHECK(isnan(report_get(&r, "val_loss")));
	CHECK(r.n_grad == 2 && isnan(r.grad_norm[0]));
	/* grad_norm null is the same as absent */
	CHECK(parse("{\"epoch\":2,\"grad_norm\":null}") == 0);
	CHECK(r.n_grad == 0);
}

static void
words_inside_strings_untouched(void)
{
	CHECK(parse("{\"epoch\":1,\"note\":\"NaN Infinity -Infinity\"}") == 0);
	CHECK(r.n_metrics == 0);
	/* a key spelled NaN stays a key, escapes do not end the string */
	CHECK(parse("{\"epoch\":1,\"NaN\":2,\"q\":\"a\\\"NaN\\\\\",\"z\":NaN}") == 0);
	CHECK(r.n_metrics == 2);
	CHECK_NEAR(report_get(&r, "NaN"), 2, 0);
	CHECK(isnan(report_get(&r, "z")));
}

static void
missing_epoch_rejected(void)
{
	CHECK_BAD("{\"train_loss\":0.5}", "missing \"epoch\"");
	CHECK_BAD("{}", "missing \"epoch\"");
}

#define EPOCH_RULE "\"epoch\" must be an integer from 1 to 1000000000"

static void
bad_epoch_values_rejected(void)
{
	struct report_line r;

	CHECK_BAD("{\"epoch\":1000000001}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":2147483647}", EPOCH_RULE);
	CHECK(report_parse("{\"epoch\":1000000000}", 20, &r, NULL, 0) == 0);
	CHECK(r.epoch == 1000000000);
	CHECK_BAD("{\"epoch\":0}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":-1}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":1.5}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":\"1\"}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":NaN}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":1e12}", EPOCH_RULE);
	CHECK_BAD("{\"epoch\":null}", EPOCH_RULE);
	CHECK_BAD("{\"final\":true,\"epoch\":0}", "\"epoch\" must be an integer");
}

static void
bad_final_and_best_epoch_rejected(void)
{
	CHECK_BAD("{\"final\":1}", "\"final\" must be true or false");
	CHECK_BAD("{\"final\":\"yes\",\"epoch\":1}", "\"final\" must be");
	CHECK_BAD("{\"final\":true,\"best_epoch\":-2}",
		  "\"best_epoch\" must be an integer from 0 to 1000000000");
	CHECK_BAD("{\"final\":true,\"best_epoch\":2.5}", "\"best_epoch\"");
	CHECK_BAD("{\"final\":true,\"final\":true}", "\"final\" appears twice");
}

static void
garbage_and_truncated_rejected(void)
{
	CHECK_BAD("xyz", "not valid JSON (at byte 0)");
	CHECK_BAD("{\"epoch\":1,\"train_loss\":0.5", "not valid JSON");
	CHECK_BAD("{\"epoch\":1} trailing", "not valid JSON");
	CHECK_BAD("{\"epoch\":1}{\"epoch\":2}", "not valid JSON");
	CHECK_BAD("{\"epoch\":1,\"a\":NaNa}", "not valid JSON");
	CHECK_BAD("{\"epoch\":1,\"a\":-NaN}", "not valid JSON");
	CHECK(report_parse("", 0, &r, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "empty line");
}

static void
non_objects_rejected(void)
{
	CHECK_BAD("[1,2,3]", "not a JSON object");
	CHECK_BAD("[{\"epoch\":1}]", "not a JSON object");
	CHECK_BAD("42", "not a JSON object");
	CHECK_BAD("\"epoch\"", "not a JSON object");
	CHECK_BAD("null", "not a JSON object");
}

static void
bad_grad_norm_rejected(void)
{
	char line[1024];
	size_t n;

	CHECK_BAD("{\"epoch\":1,\"grad_norm\":1.5}",
		  "\"grad_norm\" must be an array of numbers");
	CHECK_BAD("{\"epoch\":1,\"grad_norm\":{\"a\":1}}", "\"grad_norm\" must be");
	CHECK_BAD("{\"epoch\":1,\"grad_norm\":[1,\"x\"]}",
		  "\"grad_norm\"[1] is not a number");
	n = (size_t)snprintf(line, sizeof(line), "{\"epoch\":1,\"grad_norm\":[");
	for (int i = 0; i < REPORT_MAX_GRAD + 1; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s1",
				      i ? "," : "");
	snprintf(line + n, sizeof(line) - n, "]}");
	CHECK_BAD(line, "\"grad_norm\" has 65 entries, at most 64 allowed");
	/* exactly 64 is fine */
	n = (size_t)snprintf(line, sizeof(line), "{\"epoch\":1,\"grad_norm\":[");
	for (int i = 0; i < REPORT_MAX_GRAD; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%d",
				      i ? "," : "", i);
	snprintf(line + n, sizeof(line) - n, "]}");
	CHECK(parse(line) == 0);
	CHECK(r.n_grad == 64);
	CHECK_NEAR(r.grad_norm[63], 63, 0);
}

static void
metric_limits_enforced(void)
{
	char line[4096];
	char name[80];
	size_t n;

	/* a 63-byte name is the longest allowed */
	memset(name, 'm', 63);
	name[63] = '\0';
	snprintf(line, sizeof(line), "{\"epoch\":1,\"%s\":1}", name);
	CHECK(parse(line) == 0);
	CHECK(report_has(&r, name));
	memset(name, 'm', 64);
	name[64] = '\0';
	snprintf(line, sizeof(line), "{\"epoch\":1,\"%s\":1}", name);
	CHECK_BAD(line, "is longer than 63 bytes");

	n = (size_t)snprintf(line, sizeof(line), "{\"epoch\":1");
	for (int i = 0; i < REPORT_MAX_METRICS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"m%d\":%d", i, i);
	snprintf(line + n, sizeof(line) - n, "}");
	CHECK(parse(line) == 0);
	CHECK(r.n_metrics == 32);
	snprintf(line + n, sizeof(line) - n, ",\"one_more\":1}");
	CHECK_BAD(line, "more than 32 metrics");

	CHECK_BAD("{\"epoch\":1,\"a\":1,\"a\":2}", "metric \"a\" appears twice");
	CHECK_BAD("{\"epoch\":1,\"epoch\":2}", "\"epoch\" appears twice");
	CHECK_BAD("{\"epoch\":1,\"\":2}", "empty name");
}

static void
long_and_nul_lines_rejected(void)
{
	size_t len = REPORT_MAX_LINE + 1;
	char *big = malloc(len);

	if (!big) {
		SKIP("no memory");
		return;
	}
	memset(big, ' ', len);
	big[0] = '{';
	CHECK(report_parse(big, len, &r, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "line is 65537 bytes, at most 65536 allowed");
	/* the quote is truncated */
	CHECK(strlen(err) < 300);
	CHECK_CONTAINS(err, "...");
	free(big);

	CHECK(report_parse("{\"epoch\":1}\0x", 13, &r, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "NUL byte");
}

static void
error_quote_is_one_line(void)
{
	CHECK(parse("{\"epoch\":0,\n\"x\":\t1}") == -EINVAL);
	CHECK(strchr(err, '\n') == NULL && strchr(err, '\t') == NULL);
	/* a tiny err buffer is filled, truncated, not overrun */
	char small[16];
	memset(small, 'Z', sizeof(small));
	CHECK(report_parse("garbage", 7, &r, small, 8) == -EINVAL);
	CHECK(strlen(small) == 7);
	CHECK(small[9] == 'Z');
	/* err NULL is allowed */
	CHECK(report_parse("garbage", 7, &r, NULL, 0) == -EINVAL);
}

static void
to_json_round_trip(void)
{
	struct report_line back;
	cJSON *j;
	char *s;

	CHECK(parse("{\"epoch\":4,\"train_loss\":NaN,\"val_loss\":0.5,"
		    "\"val_acc\":Infinity,\"grad_norm\":[1,NaN]}") == 0);
	j = report_to_json(&r);
	CHECK(j != NULL);
	s = j ? cJSON_PrintUnformatted(j) : NULL;
	CHECK_STR(s, "{\"epoch\":4,\"train_loss\":null,\"val_loss\":0.5,"
		  "\"val_acc\":null,\"grad_norm\":[1,null]}");
	if (s) {
		CHECK(report_parse(s, strlen(s), &back, err, sizeof(err)) == 0);
		CHECK(back.epoch == 4 && back.n_metrics == 3 && back.n_grad == 2);
		CHECK_NEAR(report_get(&back, "val_loss"), 0.5, 0);
		CHECK(isnan(report_get(&back, "train_loss")));
	}
	free(s);
	cJSON_Delete(j);

	CHECK(parse("{\"final\":true,\"best_epoch\":7,\"test_acc\":0.88}") == 0);
	j = report_to_json(&r);
	s = j ? cJSON_PrintUnformatted(j) : NULL;
	CHECK_STR(s, "{\"final\":true,\"best_epoch\":7,\"test_acc\":0.88}");
	free(s);
	cJSON_Delete(j);
}

static void
strip_prefix(void)
{
	const char *p = NULL;
	size_t pl = 0;
	const char *l1 = "SWEEP {\"epoch\":1}";

	CHECK(report_strip_prefix(l1, strlen(l1), &p, &pl) == 1);
	CHECK(p == l1 + 6 && pl == strlen(l1) - 6);
	CHECK(report_strip_prefix("SWEEP ", 6, &p, &pl) == 1 && pl == 0);
	p = NULL;
	CHECK(report_strip_prefix("SWEEP", 5, &p, &pl) == 0);
	CHECK(report_strip_prefix("sweep {}", 8, &p, &pl) == 0);
	CHECK(report_strip_prefix("Epoch 1 loss 0.3", 16, &p, &pl) == 0);
	CHECK(report_strip_prefix(" SWEEP {}", 9, &p, &pl) == 0);
	CHECK(p == NULL);
}

/* Random byte flips, insertions and truncations of valid lines: the parser
 * either accepts with the struct's invariants intact or rejects with a
 * message; it never crashes (run under ASan/UBSan too). */
static void
fuzz_mutations_keep_invariants(void)
{
	static const char *seeds[] = {
		"{\"epoch\":3,\"train_loss\":0.61,\"val_acc\":0.81,\"grad_norm\":[0.3,NaN,1]}",
		"{\"final\":true,\"best_epoch\":7,\"test_acc\":0.884}",
		"{\"epoch\":1,\"note\":\"NaN \\\" Infinity\",\"x\":-Infinity}",
	};
	static const char alphabet[] = "{}[]\":,\\ -+.eE0123456789NaIfinityulrs";
	unsigned seed = 7;
	char buf[256];
	int accepted = 0, rejected = 0;

	for (int it = 0; it < 20000; it++) {
		const char *src = seeds[it % 3];
		size_t len = strlen(src);
		int edits = 1 + it % 4;

		memcpy(buf, src, len);
		for (int e = 0; e < edits; e++) {
			size_t pos;
			char c;

			seed = seed * 1103515245u + 12345u;
			pos = (seed >> 8) % (len ? len : 1);
			c = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
			switch ((seed >> 16) % 3) {
			case 0:
				buf[pos] = c;
				break;
			case 1:
				if (len < sizeof(buf) - 1) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = c;
					len++;
				}
				break;
			default:
				len = pos;
				break;
			}
		}
		err[0] = '\0';
		if (report_parse(buf, len, &r, err, sizeof(err)) == 0) {
			accepted++;
			CHECK(r.kind == REPORT_EPOCH || r.kind == REPORT_FINAL);
			CHECK(r.kind != REPORT_EPOCH || r.epoch >= 1);
			CHECK(r.n_metrics >= 0 && r.n_metrics <= REPORT_MAX_METRICS);
			CHECK(r.n_grad >= 0 && r.n_grad <= REPORT_MAX_GRAD);
			for (int i = 0; i < r.n_metrics; i++)
				CHECK(strlen(r.metrics[i].name) < REPORT_MAX_NAME);
		} else {
			rejected++;
			CHECK(strncmp(err, "bad report line \"", 17) == 0);
		}
	}
	/* both outcomes occurred, so the mutations exercised both paths */
	CHECK(accepted > 100 && rejected > 100);
}

static void
string_value_is_found_for_the_message(void)
{
	const char *line = "{\"epoch\":1,\"val_acc\":\"0.9\",\"n\":2}";
	char buf[8] = "";

	CHECK(report_string_value(line, strlen(line), "val_acc", buf,
				  sizeof buf) == 1);
	CHECK_STR(buf, "0.9");
	CHECK(report_string_value(line, strlen(line), "n", buf, sizeof buf) == 0);
	CHECK(report_string_value(line, strlen(line), "x", buf, sizeof buf) == 0);
	CHECK(report_string_value("nope", 4, "x", buf, sizeof buf) == 0);
	line = "{\"epoch\":1,\"m\":\"a long string value\"}";
	CHECK(report_string_value(line, strlen(line), "m", buf, sizeof buf) == 1);
	CHECK_STR(buf, "a long ");
}

static void
nul_escape_and_invalid_utf8_are_refused(void)
{
	struct report_line r;
	char err[512];
	const char *nul = "{\"epoch\":1,\"val_acc\\u0000x\":0.5}";
	const char *utf = "{\"epoch\":1,\"acc\xff\":0.5}";
	const char *ok = "{\"epoch\":1,\"note\":\"a\\\\u0000\",\"acc\":0.5}";

	CHECK(report_parse(nul, strlen(nul), &r, err, sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "\\u0000");
	CHECK(report_parse(utf, strlen(utf), &r, err, sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "UTF-8");
	CHECK(strchr(err, '\xff') == NULL);   /* the quote is stored as JSON */
	CHECK(report_parse(ok, strlen(ok), &r, err, sizeof err) == 0);
	CHECK(report_has(&r, "acc"));
}

int
main(void)
{
	RUN(epoch_line_full);
	RUN(nul_escape_and_invalid_utf8_are_refused);
	RUN(string_value_is_found_for_the_message);
	RUN(epoch_line_minimal);
	RUN(final_line);
	RUN(extra_metrics_kept_nonnumeric_ignored);
	RUN(python_nonfinite_words_accepted);
	RUN(null_metric_is_nan);
	RUN(words_inside_strings_untouched);
	RUN(missing_epoch_rejected);
	RUN(bad_epoch_values_rejected);
	RUN(bad_final_and_best_epoch_rejected);
	RUN(garbage_and_truncated_rejected);
	RUN(non_objects_rejected);
	RUN(bad_grad_norm_rejected);
	RUN(metric_limits_enforced);
	RUN(long_and_nul_lines_rejected);
	RUN(error_quote_is_one_line);
	RUN(to_json_round_trip);
	RUN(strip_prefix);
	RUN(fuzz_mutations_keep_invariants);
	return harness_done();
}
