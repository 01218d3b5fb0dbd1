/*
 * specfile: JSON files given on sweepctl's command line (a sweep spec for
 * `submit`, params for `enqueue`): reading them with errors that name the
 * file and the position, and making the spec's relative paths absolute.
 *
 * Paths are resolved here, on the client, because only the client knows
 * where the spec file is: the daemon has its own working directory.
 */
#ifndef SWEEPD_CLIENT_SPECFILE_H
#define SWEEPD_CLIENT_SPECFILE_H

#include <stddef.h>

#include <cJSON.h>

/* Largest JSON file sweepctl reads: the daemon refuses request lines over
 * 1 MiB anyway. */
#define SPECFILE_MAX ((size_t)1 << 20)

/*
 * Reads and parses the JSON file at path. On success *out is the parsed
 * value (the caller frees it with cJSON_Delete) and 0 is returned. On
 * failure *out is NULL, err holds a message naming the file ("spec.json:
 * invalid JSON at line 3, column 7: ..."), and the return is -errno from
 * open/read, -EFBIG over SPECFILE_MAX, -EINVAL for invalid JSON, -ENOMEM.
 */
int specfile_load(const char *path, cJSON **out, char *err, size_t errlen);

/*
 * Makes the spec's trainer paths absolute, against the directory of
 * spec_path (itself made absolute with the current directory):
 *  - trainer.cwd: relative -> joined; absent when trainer.command is set ->
 *    the spec file's directory;
 *  - trainer.data_dir: relative -> joined.
 * Values of the wrong type are left alone for the daemon to reject by
 * name. Returns 0, -ENOMEM, or -errno when the current directory cannot be
 * read (err then says so).
 */
int specfile_resolve(cJSON *spec, const char *spec_path, char *err,
		     size_t errlen);

/*
 * Checks that v is a JSON object or a non-empty array of objects (what
 * `enqueue` sends). Returns 0 or -EINVAL with err naming path and, for an
 * array, the index of the first bad element.
 */
int specfile_check_params(const cJSON *v, const char *path, char *err,
			  size_t errlen);

#endif
