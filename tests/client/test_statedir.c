/* test_statedir.c: the state-dir lookup order and the sun_path limit. */
#include "common/statedir.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>

static void
clear_env(void)
{
	unsetenv("SWEEP_STATE_DIR");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
}

static void
sweep_state_dir_wins(void)
{
	char buf[256];

	clear_env();
	setenv("SWEEP_STATE_DIR", "/tmp/s1", 1);
	setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
	setenv("HOME", "/home/u", 1);
	CHECK(statedir_default(buf, sizeof buf) == 0);
	CHECK_STR(buf, "/tmp/s1");
}

static void
xdg_state_home_next(void)
{
	char buf[256];

	clear_env();
	setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
	setenv("HOME", "/home/u", 1);
	CHECK(statedir_default(buf, sizeof buf) == 0);
	CHECK_STR(buf, "/tmp/xdg/sweepd");
}

static void
home_last(void)
{
	char buf[256];

	clear_env();
	setenv("HOME", "/home/u", 1);
	CHECK(statedir_default(buf, sizeof buf) == 0);
	CHECK_STR(buf, "/home/u/.local/state/sweepd");
	setenv("HOME", "/home/u/", 1);
	CHECK(statedir_default(buf, sizeof buf) == 0);
	CHECK_STR(buf, "/home/u/.local/state/sweepd");
}

static void
empty_and_relative_vars_are_skipped(void)
{
	char buf[256];

	clear_env();
	setenv("SWEEP_STATE_DIR", "", 1);
	setenv("XDG_STATE_HOME", "relative/dir", 1);
	setenv("HOME", "/home/u", 1);
	CHECK(statedir_default(buf, sizeof buf) == 0);
	CHECK_STR(buf, "/home/u/.local/state/sweepd");
}

static void
nothing_set_is_enoent(void)
{
	char buf[256];

	clear_env();
	CHECK(statedir_default(buf, sizeof buf) == -ENOENT);
	CHECK_STR(buf, "");
}

static void
too_small_buffer_is_enametoolong(void)
{
	char buf[8];

	clear_env();
	setenv("SWEEP_STATE_DIR", "/a/rather/long/dir", 1);
	CHECK(statedir_default(buf, sizeof buf) == -ENAMETOOLONG);
	CHECK_STR(buf, "");
	CHECK(statedir_default(NULL, 10) == -EINVAL);
}

static void
socket_path_joins(void)
{
	char buf[256];

	CHECK(statedir_socket_path("/x", buf, sizeof buf) == 0);
	CHECK_STR(buf, "/x/sweepd.sock");
	CHECK(statedir_socket_path("/x/", buf, sizeof buf) == 0);
	CHECK_STR(buf, "/x/sweepd.sock");
	CHECK(statedir_socket_path("", buf, sizeof buf) == -EINVAL);
}

static void
socket_path_respects_sun_path(void)
{
	char dir[200], buf[256];
	size_t n;

	/* "/" + 95 x + "/sweepd.sock" (12) = 108 chars: one too many. */
	memset(dir, 'x', sizeof dir);
	dir[0] = '/';
	n = 96;
	dir[n] = '\0';
	CHECK(statedir_socket_path(dir, buf, sizeof buf) == -ENAMETOOLONG);
	/* 107 characters plus the NUL fits exactly. */
	dir[n - 1] = '\0';
	CHECK(statedir_socket_path(dir, buf, sizeof buf) == 0);
	CHECK(strlen(buf) == STATEDIR_SUN_PATH_MAX - 1);
	/* A buffer too small for the result is refused too. */
	CHECK(statedir_socket_path("/x", buf, 10) == -ENAMETOOLONG);
}

int
main(void)
{
	RUN(sweep_state_dir_wins);
	RUN(xdg_state_home_next);
	RUN(home_last);
	RUN(empty_and_relative_vars_are_skipped);
	RUN(nothing_set_is_enoent);
	RUN(too_small_buffer_is_enametoolong);
	RUN(socket_path_joins);
	RUN(socket_path_respects_sun_path);
	return harness_done();
}
