/*
 * tests/proc/test_slurm.c: launcher.slurm options (every refusal names its
 * path), the srun argv of a trial, squeue's answer about a job, and srun's
 * stderr lines told from the trainer's.
 */
#include <errno.h>
#include <stdlib.h>

#include <cJSON.h>

#include "daemon/proc/slurm.h"
#include "tests/harness.h"

#define PATH "launcher.slurm"

static char err[512];

/* slurm_opts_parse on json (NULL: the value absent); o is freed here. */
static int
parse(const char *json)
{
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	struct slurm_opts o;
	int rc;

	err[0] = '\0';
	if (json && !v) {
		printf("# bad test JSON: %s\n", json);
		return -999;
	}
	rc = slurm_opts_parse(&o, v, PATH, err, sizeof(err));
	slurm_opts_free(&o);
	cJSON_Delete(v);
	return rc;
}

static void
all_fields_are_read(void)
{
	cJSON *v = cJSON_Parse("{\"partition\":\"gpu\",\"account\":\"lab-7\",\"qos\":\"high\","
			       "\"time\":\"48:30:05\",\"extra\":[\"--constraint=a100\","
			       "\"--exclusive\"]}");
	struct slurm_opts o;

	CHECK(slurm_opts_parse(&o, v, PATH, err, sizeof(err)) == 0);
	CHECK_STR(o.partition, "gpu");
	CHECK_STR(o.account, "lab-7");
	CHECK_STR(o.qos, "high");
	CHECK(o.time_s == 48 * 3600 + 30 * 60 + 5);
	CHECK(o.n_extra == 2);
	if (o.n_extra == 2) {
		CHECK_STR(o.extra[0], "--constraint=a100");
		CHECK_STR(o.extra[1], "--exclusive");
	}
	slurm_opts_free(&o);
	CHECK(o.partition == NULL && o.extra == NULL && o.n_extra == 0);
	cJSON_Delete(v);
}

static void
absent_or_empty_means_slurm_defaults(void)
{
	struct slurm_opts o;
	cJSON *v = cJSON_Parse("{}");

	CHECK(slurm_opts_parse(&o, NULL, PATH, err, sizeof(err)) == 0);
	CHECK(!o.partition && !o.account && !o.qos && o.time_s == 0 && o.n_extra == 0);
	slurm_opts_free(&o);
	CHECK(slurm_opts_parse(&o, v, PATH, err, sizeof(err)) == 0);
	CHECK(!o.partition && o.time_s == 0 && o.n_extra == 0);
	slurm_opts_free(&o);
	cJSON_Delete(v);
}

static void
not_an_object_is_refused(void)
{
	CHECK(parse("\"gpu\"") == -EINVAL);
	CHECK_STR(err, "launcher.slurm: must be an object");
	CHECK(parse("[]") == -EINVAL);
	CHECK_STR(err, "launcher.slurm: must be an object");
}

static void
unknown_and_repeated_keys_are_refused(void)
{
	CHECK(parse("{\"partition\":\"a\",\"partiton\":\"b\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm: unknown field \"partiton\" (valid: partition, "
		  "account, qos, time, extra)");
	CHECK(parse("{\"qos\":\"a\",\"qos\":\"b\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm: field \"qos\" given twice");
}

static void
names_must_be_plain_non_empty_strings(void)
{
	CHECK(parse("{\"partition\":\"\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.partition: must be a non-empty string");
	CHECK(parse("{\"account\":7}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.account: must be a non-empty string");
	CHECK(parse("{\"qos\":\"a b\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.qos: \"a b\" holds white space or a control character");
	CHECK(parse("{\"partition\":\"a\\tb\"}") == -EINVAL);
	CHECK_CONTAINS(err, "launcher.slurm.partition: ");
}

static void
time_is_hh_mm_ss_and_more_than_zero(void)
{
	static const char *const bad[] = {
		"\"1:00\"", "\"01:00:00x\"", "\"-1:00:00\"", "\"aa:00:00\"", "\"1:0:00\"",
		"\"1:00:0\"", "\"\"", "\"1-00:00:00\"", "\"99999999999:00:00\"",
	};
	char json[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"time\":%s}", bad[i]);
		CHECK_MSG(parse(json) == -EINVAL, "%s", bad[i]);
		CHECK_MSG(strncmp(err, "launcher.slurm.time: \"", 22) == 0 &&
			  strstr(err, "is not HH:MM:SS"), "%s: %s", bad[i], err);
	}
	CHECK(parse("{\"time\":\"01:60:00\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.time: \"01:60:00\": minutes and seconds must be below 60");
	CHECK(parse("{\"time\":\"01:00:60\"}") == -EINVAL);
	CHECK(parse("{\"time\":\"00:00:00\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.time: must be more than 00:00:00 (Slurm reads 0 as "
		  "no limit)");
	CHECK(parse("{\"time\":3600}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.time: must be a string \"HH:MM:SS\"");
	CHECK(parse("{\"time\":\"0:00:01\"}") == 0);
	CHECK(parse("{\"time\":\"100:00:00\"}") == 0);
}

static void
extra_items_must_be_long_option_strings(void)
{
	CHECK(parse("{\"extra\":\"--exclusive\"}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.extra: must be an array of strings");
	CHECK(parse("{\"extra\":[\"--exclusive\",5]}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.extra[1]: must be a string");
	CHECK(parse("{\"extra\":[\"--constraint\",\"a100\"]}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.extra[1]: \"a100\": not an option: each item is one "
		  "long option, --name or --name=value");
	CHECK(parse("{\"extra\":[\"-C\",\"a100\"]}") == -EINVAL);
	CHECK_STR(err, "launcher.slurm.extra[0]: \"-C\": short options are refused: give the "
		  "long form, --name=value");
	CHECK(parse("{\"extra\":[\"--\"]}") == -EINVAL);
	CHECK_CONTAINS(err, "launcher.slurm.extra[0]: \"--\": not an option");
	CHECK(parse("{\"extra\":[\"--=x\"]}") == -EINVAL);
	CHECK(parse("{\"extra\":[\"--constraint=a100\",\"--mem-per-cpu=100\","
		    "\"--exclusive\",\"--nodelist=n1\",\"--time-min=00:10:00\"]}") == 0);
}

static void
extra_may_not_set_what_sweepd_sets(void)
{
	static const struct { const char *item, *owner; } cases[] = {
		{ "--export=NONE", "export" }, { "--job-name=mine", "job-name" },
		{ "--input=/dev/null", "input" }, { "--output=out.txt", "output" },
		{ "--unbuffered", "unbuffered" }, { "--label", "label" },
		{ "--cpus-per-task=8", "cpus-per-task" }, { "--gres=gpu:4", "gres" },
		{ "--mem=4G", "mem" }, { "--partition=x", "partition" },
		{ "--time=1:00:00", "time" }, { "--ntasks=2", "ntasks" },
		/* srun takes an unambiguous prefix of a long option */
		{ "--exp=NONE", "export" }, { "--job=x", "job-name" }, { "--inp=none", "input" },
	};
	char json[256], want[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json), "{\"extra\":[\"--exclusive\",\"%s\"]}",
			 cases[i].item);
		snprintf(want, sizeof(want), "launcher.slurm.extra[1]: \"%s\": sweepd sets --%s "
			 "itself (", cases[i].item, cases[i].owner);
		CHECK_MSG(parse(json) == -EINVAL, "%s", cases[i].item);
		CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "%s: %s", cases[i].item, err);
	}
	CHECK(parse("{\"extra\":[\"--export=NONE\"]}") == -EINVAL);
	CHECK_CONTAINS(err, "(the trial's environment (SWEEP_PARAMS, PATH) must reach the "
		       "trainer)");
	CHECK(parse("{\"extra\":[\"--gres=gpu:2\"]}") == -EINVAL);
	CHECK_CONTAINS(err, "set the spec's resources.gpus");
}

/* argv as one string, items joined by spaces. */
static void
joined(char **argv, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (char **p = argv; p && *p && n < len; p++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", p == argv ? "" : " ", *p);
}

static void
srun_argv_carries_options_resources_and_the_trainer(void)
{
	cJSON *v = cJSON_Parse("{\"partition\":\"gpu\",\"account\":\"lab\",\"qos\":\"q\","
			       "\"time\":\"02:05:09\",\"extra\":[\"--constraint=a100\"]}");
	const char *const trainer[] = { "python3", "train.py", "--lr", "0.1", NULL };
	struct slurm_trial t = {
		.sweep_id = 3, .trial_id = 41, .attempt = 2, .cpus = 4, .gpus = 2,
		.mem_mb = 8192, .argv = trainer, .comment = "sweepd:2049:77",
	};
	struct slurm_opts o;
	char **argv = NULL, s[1024];

	CHECK(slurm_opts_parse(&o, v, PATH, err, sizeof(err)) == 0);
	CHECK(slurm_srun_argv(&o, &t, &argv) == 0);
	joined(argv, s, sizeof(s));
	CHECK_STR(s, "srun --constraint=a100 --job-name=sweepd-3-41-2 "
		  "--comment=sweepd:2049:77 --partition=gpu "
		  "--account=lab --qos=q --time=2:05:09 --ntasks=1 --cpus-per-task=4 "
		  "--gres=gpu:2 --mem=8192M --export=ALL --input=none --unbuffered "
		  "--kill-on-bad-exit=1 --verbose -- /usr/bin/env -u SWEEP_REPORT_FD -- python3 train.py "
		  "--lr 0.1");
	slurm_argv_free(argv);
	slurm_opts_free(&o);
	cJSON_Delete(v);
}

static void
srun_argv_leaves_out_what_is_not_given(void)
{
	const char *const trainer[] = { "/opt/w", NULL };
	struct slurm_trial t = {
		.sweep_id = 1, .trial_id = 1, .attempt = 1, .cpus = 1, .argv = trainer,
	};
	struct slurm_opts o;
	char **argv = NULL, s[1024];

	CHECK(slurm_opts_parse(&o, NULL, PATH, err, sizeof(err)) == 0);
	CHECK(slurm_srun_argv(&o, &t, &argv) == 0);
	joined(argv, s, sizeof(s));
	CHECK_STR(s, "srun --job-name=sweepd-1-1-1 --ntasks=1 --cpus-per-task=1 --export=ALL "
		  "--input=none --unbuffered --kill-on-bad-exit=1 --verbose -- /usr/bin/env -u "
		  "SWEEP_REPORT_FD -- /opt/w");
	slurm_argv_free(argv);
	slurm_opts_free(&o);
}

static void
srun_argv_refuses_a_trial_out_of_range(void)
{
	const char *const trainer[] = { "w", NULL }, *const empty[] = { NULL };
	struct slurm_opts o = { 0 };
	struct slurm_trial ok = {
		.sweep_id = 1, .trial_id = 1, .attempt = 1, .cpus = 1, .argv = trainer,
	}, t;
	char **argv = NULL;

	t = ok, t.cpus = 0;
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL);
	t = ok, t.gpus = -1;
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL);
	t = ok, t.attempt = 0;
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL);
	t = ok, t.argv = empty;
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL);
	t = ok, t.argv = NULL;
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL);
	CHECK(argv == NULL);
	/* squeue prints the comment between bars: one with a bar, a newline
	 * or a space would not read back */
	t = ok;
	t.comment = "a|b";
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL && argv == NULL);
	t.comment = "a\nb";
	CHECK(slurm_srun_argv(&o, &t, &argv) == -EINVAL && argv == NULL);
	CHECK(slurm_srun_argv(&o, &ok, &argv) == 0 && argv);
	slurm_argv_free(argv);
}

static void
job_name_and_squeue_argv(void)
{
	struct slurm_trial t = { .sweep_id = 12, .trial_id = 345, .attempt = 3 };
	const char *const names[] = { "sweepd-1-2-1", "sweepd-1-3-2" };
	char buf[64], **argv = NULL, s[512];

	CHECK(slurm_job_name(buf, sizeof(buf), &t) == 15);
	CHECK_STR(buf, "sweepd-12-345-3");
	CHECK(slurm_job_name(buf, 8, &t) == -ENOSPC);
	CHECK(slurm_squeue_argv(names, 2, &argv) == 0);
	joined(argv, s, sizeof(s));
	CHECK_STR(s, "squeue --noheader --states=all --format=%i|%T|%k|%j "
		  "--name=sweepd-1-2-1,sweepd-1-3-2");
	slurm_argv_free(argv);
	argv = NULL;
	CHECK(slurm_squeue_argv(names, 0, &argv) == -EINVAL && argv == NULL);
}

static void
squeue_finds_the_newest_job_of_exactly_that_name(void)
{
	const char *out = "17|COMPLETED|sweepd:1:2|sweepd-1-2-1\n"
			  "30|RUNNING|sweepd:1:2|sweepd-1-2-10\n"
			  "9|weird|(null)|a|b\n"
			  "21|PENDING|sweepd:1:2|sweepd-1-2-1\n"
			  "12_4|RUNNING|(null)|someone-elses-array\n"
			  "40|RUNNING|sweepd:7:9|sweepd-1-2-1\n"   /* another daemon's */
			  "19|CANCELLED|sweepd:1:2|sweepd-1-2-1";  /* no newline at the end */
	struct slurm_job j;

	CHECK(slurm_squeue_find(out, "sweepd-1-2-1", "sweepd:1:2", &j, err, sizeof(err)) == 0);
	CHECK(j.id == 21);
	CHECK_STR(j.state, "PENDING");
	CHECK(j.cls == SLURM_JOB_PENDING);
	CHECK(j.matches == 3);
	/* without a comment to check, every job of the name is a candidate */
	CHECK(slurm_squeue_find(out, "sweepd-1-2-1", NULL, &j, err, sizeof(err)) == 0);
	CHECK(j.id == 40 && j.matches == 4);
	CHECK(slurm_squeue_find(out, "sweepd-1-2-1", "sweepd:1:3", &j, err, sizeof(err)) ==
	      -ENOENT);
	CHECK(slurm_squeue_find(out, "sweepd-1-2-10", "sweepd:1:2", &j, err, sizeof(err)) == 0);
	CHECK(j.id == 30 && j.cls == SLURM_JOB_RUNNING && j.matches == 1);
	CHECK(slurm_squeue_find(out, "a|b", NULL, &j, err, sizeof(err)) == 0);
	CHECK(j.id == 9 && j.cls == SLURM_JOB_OTHER);
	CHECK(slurm_squeue_find(out, "sweepd-1-2", NULL, &j, err, sizeof(err)) == -ENOENT);
	CHECK(slurm_squeue_find("", "sweepd-1-2-1", NULL, &j, err, sizeof(err)) == -ENOENT);
	CHECK(slurm_squeue_find("\n\n", "sweepd-1-2-1", NULL, &j, err, sizeof(err)) ==
	      -ENOENT);
}

static void
squeue_output_that_is_not_ours_is_refused_quoting_it(void)
{
	struct slurm_job j;

	CHECK(slurm_squeue_find("17|RUNNING|c|x\nslurm_load_jobs error: Socket timed out\n",
				"x", NULL, &j, err, sizeof(err)) == -EBADMSG);
	CHECK_STR(err, "squeue: not ID|STATE|COMMENT|NAME: \"slurm_load_jobs error: Socket "
		  "timed out\"");
	/* the old three-field format is not taken for a comment-less job */
	CHECK(slurm_squeue_find("17|RUNNING|x\n", "x", NULL, &j, err, sizeof(err)) == -EBADMSG);
	CHECK(slurm_squeue_find("12_4|RUNNING|c|x\n", "x", NULL, &j, err, sizeof(err)) ==
	      -EBADMSG);
	CHECK_STR(err, "squeue: job x has no plain job id: \"12_4|RUNNING|c|x\"");
	CHECK(slurm_squeue_find("|RUNNING|c|x\n", "x", NULL, &j, err, sizeof(err)) == -EBADMSG);
	CHECK(slurm_squeue_find("4||c|x\n", "x", NULL, &j, err, sizeof(err)) == -EBADMSG);
	CHECK(slurm_squeue_find("99999999999999999999999|RUNNING|c|x\n", "x", NULL, &j, err,
				sizeof(err)) == -EBADMSG);
}

static void
states_are_classed(void)
{
	CHECK(slurm_state_class("PENDING") == SLURM_JOB_PENDING);
	CHECK(slurm_state_class("REQUEUED") == SLURM_JOB_PENDING);
	CHECK(slurm_state_class("RUNNING") == SLURM_JOB_RUNNING);
	CHECK(slurm_state_class("COMPLETING") == SLURM_JOB_RUNNING);
	CHECK(slurm_state_class("SUSPENDED") == SLURM_JOB_RUNNING);
	CHECK(slurm_state_class("COMPLETED") == SLURM_JOB_ENDED);
	CHECK(slurm_state_class("PREEMPTED") == SLURM_JOB_ENDED);
	CHECK(slurm_state_class("NODE_FAIL") == SLURM_JOB_ENDED);
	CHECK(slurm_state_class("OUT_OF_MEMORY") == SLURM_JOB_ENDED);
	CHECK(slurm_state_class("running") == SLURM_JOB_OTHER);
	CHECK(slurm_state_class("") == SLURM_JOB_OTHER);
}

static enum slurm_line
line_kind(const char *l, unsigned long long *job)
{
	return slurm_stderr_line(l, strlen(l), job);
}

/* The lines are srun 22.05's and slurmstepd's, as the test cluster
 * printed them (bench/slurm/README.md, docs/slurm.md). */
static void
srun_and_slurmstepd_lines_are_told_from_the_trainers(void)
{
	unsigned long long j = 99;

	CHECK(line_kind("srun: job 6 queued and waiting for resources", &j) ==
	      SLURM_LINE_QUEUED && j == 6);
	CHECK(line_kind("srun: job 6 has been allocated resources", &j) ==
	      SLURM_LINE_ALLOCATED && j == 6);
	/* --verbose: the allocation is told whether the job waited or not */
	CHECK(line_kind("srun: jobid 7: nodes(1):`sweepd-node', cpu counts: 1(x1)", &j) ==
	      SLURM_LINE_ALLOCATED && j == 7);
	CHECK(line_kind("srun: jobid 7 nodes", &j) == SLURM_LINE_OTHER && j == 0);
	CHECK(line_kind("srun: launching StepId=7.0 on host sweepd-node, 1 tasks: 0", &j) ==
	      SLURM_LINE_OTHER);
	CHECK(line_kind("slurmstepd-sweepd-node: error: *** STEP 6.0 ON sweepd-node CANCELLED "
			"AT 2026-12-01T12:51:36 ***", &j) == SLURM_LINE_CANCELLED && j == 6);
	CHECK(line_kind("slurmstepd: error: *** JOB 41 ON n1 CANCELLED AT 2026-12-01T12:00:00 "
			"DUE TO PREEMPTION ***", &j) == SLURM_LINE_CANCELLED && j == 41);
	CHECK(line_kind("srun: error: sweepd-node: task 0: Exited with exit code 3", &j) ==
	      SLURM_LINE_TASK && j == 0);
	CHECK(line_kind("srun: error: sweepd-node: task 0: Segmentation fault", &j) ==
	      SLURM_LINE_TASK);
	CHECK(line_kind("srun: error: Unable to allocate resources: Invalid partition name "
			"specified", &j) == SLURM_LINE_ERROR);
	CHECK(line_kind("srun: Force Terminated StepId=6.0", &j) == SLURM_LINE_OTHER);
	CHECK(line_kind("srun: job 6 something new", &j) == SLURM_LINE_OTHER && j == 0);
	CHECK(line_kind("slurmstepd: error: execve(): nope: No such file or directory", &j) ==
	      SLURM_LINE_OTHER);
	/* the trainer's own */
	CHECK(line_kind("ModuleNotFoundError: No module named 'numpy'", &j) ==
	      SLURM_LINE_TRAINER && j == 0);
	CHECK(line_kind("boom", &j) == SLURM_LINE_TRAINER);
	CHECK(line_kind("", &j) == SLURM_LINE_TRAINER);
	CHECK(line_kind("srun", &j) == SLURM_LINE_TRAINER);
	CHECK(line_kind("slurmstepdx: hello", &j) == SLURM_LINE_TRAINER);
	CHECK(line_kind("print: *** STEP 6.0 ON x CANCELLED AT y ***", &j) ==
	      SLURM_LINE_TRAINER && j == 0);
	/* only len bytes are read */
	CHECK(slurm_stderr_line("srun: job 6 has been allocated resourcesXYZ", 40, &j) ==
	      SLURM_LINE_ALLOCATED);
}

int
main(void)
{
	RUN(all_fields_are_read);
	RUN(absent_or_empty_means_slurm_defaults);
	RUN(not_an_object_is_refused);
	RUN(unknown_and_repeated_keys_are_refused);
	RUN(names_must_be_plain_non_empty_strings);
	RUN(time_is_hh_mm_ss_and_more_than_zero);
	RUN(extra_items_must_be_long_option_strings);
	RUN(extra_may_not_set_what_sweepd_sets);
	RUN(srun_argv_carries_options_resources_and_the_trainer);
	RUN(srun_argv_leaves_out_what_is_not_given);
	RUN(srun_argv_refuses_a_trial_out_of_range);
	RUN(job_name_and_squeue_argv);
	RUN(squeue_finds_the_newest_job_of_exactly_that_name);
	RUN(squeue_output_that_is_not_ours_is_refused_quoting_it);
	RUN(states_are_classed);
	RUN(srun_and_slurmstepd_lines_are_told_from_the_trainers);
	return harness_done();
}
