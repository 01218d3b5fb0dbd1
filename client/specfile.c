/*
 * specfile.c: JSON files from the command line, and the spec's paths.
 */
#include "client/specfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"

/* Reads all of fd into a NUL-terminated malloc'ed buffer. */
static int
slurp(int fd, char **out, size_t *outlen)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > SPECFILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			if (!(nb = realloc(buf, cap * 2))) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SPECFILE_MAX) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Line and column (both from 1) of offset off in text. */
static void
position(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Up to 20 printable bytes of text at p, for "near ..." in messages. */
static void
near_text(char *buf, size_t len, const char *p)
{
	size_t i = 0;

	for (; *p && i + 1 < len && i < 20; p++)
		buf[i++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	while (i > 0 && buf[i - 1] == ' ')
		i--;
	buf[i] = '\0';
}

int
specfile_load(const char *path, cJSON **out, char *err, size_t errlen)
{
	char *text = NULL, near[24], why[128];
	size_t len = 0;
	cJSON *v = NULL;
	const char *ep;
	int fd, rc, line, col;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = slurp(fd, &text, &len);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, rc == -EFBIG ? "%s: larger than 1 MiB" :
			 "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	/* cJSON would cut a string at \u0000 and send the rest unseen; the
	 * daemon refuses invalid UTF-8, better said here with the path. */
	if (json_check_text(text, len, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		rc = -EINVAL;
		goto out;
	}
	v = cJSON_ParseWithOpts(text, &ep, 1);
	if (!v) {
		/* cJSON reports where it stopped; past the end means the text
		 * ended early (an unclosed brace, an empty file). */
		if (!ep || (size_t)(ep - text) >= len) {
			snprintf(err, errlen, "%s: invalid JSON: unexpected end of file",
				 path);
		} else {
			position(text, (size_t)(ep - text), &line, &col);
			near_text(near, sizeof near, ep);
			snprintf(err, errlen, "%s: invalid JSON at line %d, column %d "
				 "(near '%s')", path, line, col, near);
		}
		rc = -EINVAL;
		goto out;
	}
	*out = v;
	rc = 0;
out:
	free(text);
	return rc;
}

/* dir + "/" + rel as a new string, or NULL on ENOMEM. */
static char *
join(const char *dir, const char *rel)
{
	char *s = NULL;

	if (strcmp(rel, ".") == 0)
		return strdup(dir);
	if (strncmp(rel, "./", 2) == 0)
		rel += 2;
	if (asprintf(&s, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", rel) < 0)
		return NULL;
	return s;
}

/* The absolute directory of path: realpath of its dirname when it exists,
 * else cwd + dirname. Returns a malloc'ed string or NULL (errno set). */
static char *
spec_dir(const char *path)
{
	char *copy = strdup(path), *slash, *dir = NULL, cwd[PATH_MAX];

	if (!copy)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == copy)
		copy[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(copy, ".");
	dir = realpath(copy, NULL);
	if (!dir && copy[0] != '/' && getcwd(cwd, sizeof cwd))
		dir = join(cwd, copy);
	else if (!dir && copy[0] == '/')
		dir = strdup(copy);
	free(copy);
	return dir;
}

/* Replaces obj[key] (a relative path string) by dir/value. */
static int
absolutize(cJSON *obj, const char *key, const char *dir)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *abs;
	int ok;

	if (!cJSON_IsString(v) || v->valuestring[0] == '/' || !v->valuestring[0])
		return 0;
	if (!(abs = join(dir, v->valuestring)))
		return -ENOMEM;
	ok = cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(abs));
	free(abs);
	return ok ? 0 : -ENOMEM;
}

int
specfile_resolve(cJSON *spec, const char *spec_path, char *err, size_t errlen)
{
	cJSON *tr = cJSON_GetObjectItemCaseSensitive(spec, "trainer");
	char *dir;
	int rc;

	if (!cJSON_IsObject(tr))
		return 0;
	if (!(dir = spec_dir(spec_path))) {
		rc = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot resolve the directory of %s: %s",
			 spec_path, strerror(-rc));
		return rc;
	}
	rc = absolutize(tr, "cwd", dir);
	if (rc == 0)
		rc = absolutize(tr, "data_dir", dir);
	if (rc == 0 && cJSON_GetObjectItemCaseSensitive(tr, "command") &&
	    !cJSON_GetObjectItemCaseSensitive(tr, "cwd") &&
	    !cJSON_AddStringToObject(tr, "cwd", dir))
		rc = -ENOMEM;
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	free(dir);
	return rc;
}

int
specfile_check_params(const cJSON *v, const char *path, char *err,
		      size_t errlen)
{
	const cJSON *e;
	int i = 0;

	if (cJSON_IsObject(v))
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		snprintf(err, errlen, "%s: expected a JSON object of params or a "
			 "non-empty array of them", path);
		return -EINVAL;
	}
	cJSON_ArrayForEach(e, v) {
		i++;   /* 1-based, as the daemon's params[N] */
		if (!cJSON_IsObject(e)) {
			snprintf(err, errlen, "%s: params[%d]: must be an object "
				 "of params", path, i);
			return -EINVAL;
		}
	}
	return 0;
}
