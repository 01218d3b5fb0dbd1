/*
 * cmdcheck.c: an external trainer's cwd, executable and script arguments,
 * checked before any trial runs them.
 */
#include "common/cmdcheck.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* execvp's search path when PATH is unset (glibc: confstr _CS_PATH). */
#define DEFAULT_PATH "/bin:/usr/bin"

static const char *
str_item(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* dir/name into buf (name itself when absolute); -ENAMETOOLONG. */
static int
join(char *buf, size_t len, const char *dir, const char *name)
{
	int n;

	while (name[0] == '.' && name[1] == '/')
		name += 2;   /* "./t.sh" reads better as dir/t.sh */
	if (name[0] == '/' || !dir || !dir[0])
		n = snprintf(buf, len, "%s", name);
	else
		n = snprintf(buf, len, "%s%s%s", dir,
			     dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
check_cwd(const char *cwd, char *err, size_t errlen)
{
	struct stat st;

	if (stat(cwd, &st) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "trainer.cwd: %s %s", cwd, rc == -ENOENT ?
			 "does not exist" : strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "trainer.cwd: %s is not a directory", cwd);
		return -ENOTDIR;
	}
	if (access(cwd, X_OK) < 0) {
		snprintf(err, errlen, "trainer.cwd: %s: cannot enter it (%s)", cwd,
			 strerror(errno));
		return -EACCES;
	}
	return 0;
}

/* 0 for an executable regular file, -EACCES for another existing file,
 * -ENOENT (or stat's error) for none. */
static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

/* execvp's search of name along path; an empty entry is the cwd. */
static int
search_path(const char *name, const char *path, const char *cwd)
{
	char full[PATH_MAX];
	int found = -ENOENT;

	for (const char *p = path; ; ) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char dir[PATH_MAX];

		if (n < sizeof dir) {
			memcpy(dir, p, n);
			dir[n] = '\0';
			if (join(full, sizeof full, n ? dir : cwd, name) == 0) {
				int rc = executable(full);
				if (rc == 0)
					return 0;
				if (rc == -EACCES)
					found = -EACCES;
			}
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return found;
}

static int
check_exe(const cJSON *trainer, const char *exe, const char *cwd, char *err,
	  size_t errlen)
{
	const char *path = str_item(cJSON_GetObjectItemCaseSensitive(trainer,
								      "env"), "PATH");
	char full[PATH_MAX];
	int rc;

	if (strchr(exe, '/')) {
		if (join(full, sizeof full, cwd, exe) < 0) {
			snprintf(err, errlen, "trainer.command[0]: path too long");
			return -ENAMETOOLONG;
		}
		rc = executable(full);
		if (rc == -EACCES)
			snprintf(err, errlen, "trainer.command[0]: %s is not "
				 "executable (chmod +x it, or run it through its "
				 "interpreter)", full);
		else if (rc < 0)
			snprintf(err, errlen, "trainer.command[0]: %s %s", full,
				 rc == -ENOENT ? "does not exist" : strerror(-rc));
		return rc;
	}
	if (!path)
		path = getenv("PATH");
	if (!path)
		path = DEFAULT_PATH;
	rc = search_path(exe, path, cwd);
	if (rc == -EACCES)
		snprintf(err, errlen, "trainer.command[0]: \"%s\" is on PATH but "
			 "not executable", exe);
	else if (rc < 0)
		snprintf(err, errlen, "trainer.command[0]: \"%s\" not found on "
			 "PATH (%.300s%s)", exe, path, strlen(path) > 300 ? "..." : "");
	return rc;
}

/* An argument naming a script file: "train.py", "src/run.sh". */
static int
looks_like_script(const char *a)
{
	static const char *const ext[] = {
		".py", ".sh", ".R", ".jl", ".rb", ".pl", ".js", ".lua",
	};
	size_t n = strlen(a);

	if (a[0] == '-' || strpbrk(a, "= \t\n"))
		return 0;
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t k = strlen(ext[i]);
		if (n > k && strcmp(a + n - k, ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int
check_scripts(const cJSON *cmd, const char *cwd, char *err, size_t errlen)
{
	char full[PATH_MAX];
	struct stat st;

	for (int i = 1; i < cJSON_GetArraySize(cmd); i++) {
		const cJSON *a = cJSON_GetArrayItem(cmd, i);

		if (!cJSON_IsString(a) || !looks_like_script(a->valuestring) ||
		    join(full, sizeof full, cwd, a->valuestring) < 0)
			continue;
		if (stat(full, &st) == 0)
			continue;
		snprintf(err, errlen, "trainer.command[%d]: script \"%s\" not "
			 "found (looked for %s)", i, a->valuestring, full);
		return -ENOENT;
	}
	return 0;
}

int
cmdcheck_trainer(const cJSON *trainer, char *err, size_t errlen)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(trainer, "command");
	const cJSON *exe = cJSON_GetArrayItem(cmd, 0);
	const char *cwd = str_item(trainer, "cwd");
	char here[PATH_MAX];
	int rc;

	if (!cJSON_IsArray(cmd) || !cJSON_IsString(exe) || !exe->valuestring[0])
		return 0;
	if (cwd && (rc = check_cwd(cwd, err, errlen)) < 0)
		return rc;
	if (!cwd)
		cwd = getcwd(here, sizeof here) ? here : ".";
	rc = check_exe(trainer, exe->valuestring, cwd, err, errlen);
	if (rc == 0)
		rc = check_scripts(cmd, cwd, err, errlen);
	return rc;
}
