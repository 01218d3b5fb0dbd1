/*
 * test_res.c: daemon/sched/res.c, the CPUs and GPUs trials hold, and
 * daemon/capacity.c's --cpus and --gpus parsing.
 */
#include <string.h>

#include "daemon/capacity.h"
#include "daemon/sched/res.h"
#include "daemon/search/spec.h"
#include "tests/harness.h"

static struct spec
need(int cpus, int gpus)
{
	struct spec sp;

	memset(&sp, 0, sizeof sp);
	sp.cpus = cpus;
	sp.gpus = gpus;
	return sp;
}

/* Two trials of one GPU each on a 2-GPU pool get distinct devices, a
 * third does not fit, and a give frees exactly once. */
static void
test_gpus_distinct_and_freed_once(void)
{
	const int ids[] = { 4, 7 };
	struct sched_res r;
	struct res_hold a, b;
	struct spec one = need(1, 1);
	char la[64], lb[64];

	res_init(&r, 8, ids, 2);
	CHECK(res_fits(&r, &one));
	res_take(&r, &a, 1, &one);
	res_take(&r, &b, 2, &one);
	res_gpu_list(&r, &a, la, sizeof la);
	res_gpu_list(&r, &b, lb, sizeof lb);
	CHECK_STR(la, "4");
	CHECK_STR(lb, "7");
	CHECK(!res_fits(&r, &one));
	res_give(&r, &a);
	res_give(&r, &a);   /* a second give changes nothing */
	CHECK(r.cpus_used == 1);
	CHECK(r.gpu_owner[1] == 2);
	CHECK(res_fits(&r, &one));
	res_give(&r, &b);
	CHECK(r.cpus_used == 0 && r.gpu_owner[0] == 0 && r.gpu_owner[1] == 0);
}

static void
test_cpus_sum(void)
{
	struct sched_res r;
	struct res_hold a, b;
	struct spec two = need(2, 0), three = need(3, 0);

	res_init(&r, 4, NULL, 0);
	res_take(&r, &a, 1, &two);
	CHECK(!res_fits(&r, &three));
	CHECK(res_fits(&r, &two));
	res_take(&r, &b, 2, &two);
	CHECK(!res_fits(&r, &two) && r.cpus_used == 4);
	res_give(&r, &b);
	res_give(&r, &a);
	CHECK(res_fits(&r, &three));
}

static void
test_check_spec_says_what_there_is(void)
{
	const int ids[] = { 0, 1 };
	struct sched_res r;
	struct spec g3 = need(1, 3), c5 = need(5, 0), ok = need(4, 2);
	char err[256];

	res_init(&r, 4, ids, 2);
	CHECK(res_check_spec(&r, &ok, err, sizeof err) == 0);
	CHECK(res_check_spec(&r, &g3, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "2 GPUs (0,1)");
	CHECK(res_check_spec(&r, &c5, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "4 CPUs");
	res_init(&r, 4, NULL, 0);
	CHECK(res_check_spec(&r, &g3, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "no GPUs");
}

static void
test_parse_gpus(void)
{
	static const struct { const char *arg, *word; } bad[] = {
		{ "0,0", "twice" }, { "1,x", "\"x\"" }, { "", "empty" },
		{ "0,", "empty" }, { "-1", "\"-1\"" }, { "65536", "\"65536\"" },
		{ "99999999999999999999", "not a device id" },
	};
	struct capacity c;
	char err[256];

	memset(&c, 0, sizeof c);
	CHECK(capacity_parse_gpus(&c, "3,0,12", err, sizeof err) == 0);
	CHECK(c.n_gpus == 3 && c.gpus[0] == 3 && c.gpus[1] == 0 && c.gpus[2] == 12);
	CHECK(capacity_parse_gpus(&c, "auto", err, sizeof err) == 0 && c.gpu_auto);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_MSG(capacity_parse_gpus(&c, bad[i].arg, err, sizeof err) < 0,
			  "--gpus %s accepted", bad[i].arg);
		CHECK_CONTAINS(err, bad[i].word);
	}
	CHECK(capacity_parse_cpus(&c, "0", err, sizeof err) < 0);
	CHECK(capacity_parse_cpus(&c, "4x", err, sizeof err) < 0);
	CHECK(capacity_parse_cpus(&c, "4", err, sizeof err) == 0 && c.cpus == 4);
	CHECK(capacity_machine_cpus() >= 1);
}

int
main(void)
{
	RUN(test_gpus_distinct_and_freed_once);
	RUN(test_cpus_sum);
	RUN(test_check_spec_says_what_there_is);
	RUN(test_parse_gpus);
	return harness_done();
}
