/*
 * daemon/serve/request.c: reading a request: the line as one JSON object,
 * and the integer members ops take (contract in request.h).
 */
#include "daemon/serve/request.h"

#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"

/* An integer member of at least min (0 or 1) and below 2^53, exactly
 * representable: 0, -ENOENT when absent, or -EINVAL naming it. */
int
req_int(const cJSON *req, const char *name, int64_t min, int64_t *out,
	char *msg, size_t msglen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);

	if (!v)
		return -ENOENT;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min) ||
	    v->valuedouble >= JSON_EXACT_INT ||
	    v->valuedouble != floor(v->valuedouble)) {
		snprintf(msg, msglen, "\"%s\" must be a %s integer below "
			 "2^53", name, min > 0 ? "positive" : "non-negative");
		return -EINVAL;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* A positive integer member, or -EINVAL naming it. */
int
req_pos_int(const cJSON *req, const char *name, int64_t *out, char *msg,
	    size_t msglen)
{
	int rc = req_int(req, name, 1, out, msg, msglen);

	if (rc == -ENOENT) {
		snprintf(msg, msglen, "missing field \"%s\"", name);
		rc = -EINVAL;
	}
	return rc;
}

/* An optional non-negative integer member: dflt when absent, else the
 * value, or -EINVAL naming it. */
int
req_count(const cJSON *req, const char *name, int64_t dflt, int64_t *out,
	  char *msg, size_t msglen)
{
	int rc = req_int(req, name, 0, out, msg, msglen);

	if (rc == -ENOENT) {
		*out = dflt;
		rc = 0;
	}
	return rc;
}

/* "after": absent ({0, 0, 0}: from the first row), or a reply's "next". */
int
req_epoch_key(const cJSON *req, struct db_epoch_key *k, char *msg,
	      size_t msglen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(req, "after");
	int64_t v[3];
	static const char *const names[] = { "number", "attempt", "epoch" };

	memset(k, 0, sizeof *k);
	if (!a)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (!cJSON_IsObject(a) ||
		    req_int(a, names[i], 0, &v[i], msg, msglen) < 0) {
			snprintf(msg, msglen, "\"after\" must be the \"next\" of "
				 "an epochs reply: {\"number\",\"attempt\","
				 "\"epoch\"}, non-negative integers");
			return -EINVAL;
		}
	}
	k->number = v[0];
	k->attempt = v[1];
	k->epoch = v[2];
	return 0;
}

/*
 * The request on a line: one JSON object and nothing after it but white
 * space, in valid UTF-8 without "\u0000" (cJSON would cut the string
 * there), whose "id", when a number, is an integer a double holds exactly
 * (the reply echoes it). NULL with a message otherwise.
 */
cJSON *
req_parse(const char *line, size_t len, char *msg, size_t msglen)
{
	const char *end = NULL;
	const cJSON *id;
	cJSON *req;
	char why[128];

	if (json_check_text(line, len, why, sizeof why) < 0) {
		snprintf(msg, msglen, "request refused: %s", why);
		return NULL;
	}
	req = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!req || !cJSON_IsObject(req)) {
		snprintf(msg, msglen, "request is not a JSON object");
		goto fail;
	}
	while (end < line + len && (*end == ' ' || *end == '\t' ||
				    *end == '\r' || *end == '\n'))
		end++;
	if (end < line + len) {
		snprintf(msg, msglen, "data after the request object (at byte "
			 "%zu): one JSON object per line", (size_t)(end - line));
		goto fail;
	}
	id = cJSON_GetObjectItemCaseSensitive(req, "id");
	if (cJSON_IsNumber(id) && !(fabs(id->valuedouble) < JSON_EXACT_INT &&
				    id->valuedouble == floor(id->valuedouble))) {
		snprintf(msg, msglen, "\"id\" must be a string or an integer "
			 "below 2^53 in magnitude (the reply could not echo it "
			 "exactly)");
		goto fail;
	}
	return req;
fail:
	cJSON_Delete(req);
	return NULL;
}
