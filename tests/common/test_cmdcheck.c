/*
 * test_cmdcheck.c: an external trainer's cwd, executable and script
 * arguments are checked before any trial runs, each fault named by field.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cmdcheck.h"
#include "tests/harness.h"

static char dir[] = "/tmp/cmdcheck-XXXXXX";
static char err[1024];

static void
make_file(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The check's result for a trainer written as JSON; %s in text is dir. */
static int
check(const char *fmt)
{
	char text[2048];
	cJSON *tr;
	int rc;

	snprintf(text, sizeof text, fmt, dir, dir, dir);
	tr = cJSON_Parse(text);
	err[0] = '\0';
	rc = tr ? cmdcheck_trainer(tr, err, sizeof err) : -999;
	cJSON_Delete(tr);
	return rc;
}

static void
cwd_must_be_a_directory(void)
{
	CHECK(check("{\"command\":[\"/bin/sh\"],\"cwd\":\"%s/nope\"}") == -ENOENT);
	CHECK_CONTAINS(err, "trainer.cwd: ");
	CHECK_CONTAINS(err, "/nope does not exist");
	CHECK(check("{\"command\":[\"/bin/sh\"],\"cwd\":\"%s/t.sh\"}") == -ENOTDIR);
	CHECK_CONTAINS(err, "t.sh is not a directory");
	CHECK(check("{\"command\":[\"/bin/sh\"],\"cwd\":\"%s\"}") == 0);
}

static void
executable_resolves(void)
{
	CHECK(check("{\"command\":[\"/nonexistent/x\"]}") == -ENOENT);
	CHECK_CONTAINS(err, "trainer.command[0]: /nonexistent/x does not exist");
	CHECK(check("{\"command\":[\"no-such-cmd-xyz\"],\"env\":{\"PATH\":\"%s\"}}")
	      == -ENOENT);
	CHECK_CONTAINS(err, "\"no-such-cmd-xyz\" not found on PATH (");
	CHECK_CONTAINS(err, dir);
	/* the spec's PATH, relative to cwd, or the process's PATH */
	CHECK(check("{\"command\":[\"t.sh\"],\"env\":{\"PATH\":\"%s\"}}") == 0);
	CHECK(check("{\"command\":[\"./t.sh\"],\"cwd\":\"%s\"}") == 0);
	CHECK(check("{\"command\":[\"sh\"]}") == 0);
	/* found, but not executable */
	CHECK(check("{\"command\":[\"./plain.txt\"],\"cwd\":\"%s\"}") == -EACCES);
	CHECK_CONTAINS(err, "plain.txt is not executable");
	CHECK(check("{\"command\":[\"plain.txt\"],\"env\":{\"PATH\":\"%s\"}}")
	      == -EACCES);
	CHECK_CONTAINS(err, "on PATH but not executable");
	CHECK(check("{\"command\":[\"%s\"]}") == -EACCES);   /* a directory */
}

static void
script_arguments_exist(void)
{
	CHECK(check("{\"command\":[\"/bin/sh\",\"-u\",\"train.py\"],"
		    "\"cwd\":\"%s\"}") == -ENOENT);
	CHECK_CONTAINS(err, "trainer.command[2]: script \"train.py\" not found");
	CHECK_CONTAINS(err, dir);
	make_file("train.py", "", 0644);
	CHECK(check("{\"command\":[\"/bin/sh\",\"-u\",\"train.py\"],"
		    "\"cwd\":\"%s\"}") == 0);
	/* options, key=value and code are not script names */
	CHECK(check("{\"command\":[\"/bin/sh\",\"--out=x.py\",\"-c\","
		    "\"print('a.py')\",\"--log.py\"],\"cwd\":\"%s\"}") == 0);
	CHECK(check("{\"command\":[\"/bin/sh\",\"other.sh\"],\"cwd\":\"%s\"}") ==
	      -ENOENT);
}

static void
other_shapes_are_left_to_the_validator(void)
{
	CHECK(check("{\"builtin\":\"mlp\"}") == 0);
	CHECK(check("{\"command\":[]}") == 0);
	CHECK(check("{\"command\":[1]}") == 0);
	CHECK(check("{\"command\":\"x\"}") == 0);
}

int
main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	make_file("t.sh", "#!/bin/sh\nexit 0\n", 0755);
	make_file("plain.txt", "x\n", 0644);
	RUN(cwd_must_be_a_directory);
	RUN(executable_resolves);
	RUN(script_arguments_exist);
	RUN(other_shapes_are_left_to_the_validator);
	{
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return harness_done();
}
