/*
 * daemon/serve/request.h: reading a client's request line (the protocol's
 * rules for it are in docs/DESIGN.md, "Client protocol"). Each function
 * returns 0 or a negative errno and, on -EINVAL, a message naming what is
 * wrong in msg (msglen bytes).
 */
#ifndef SWEEPD_SERVE_REQUEST_H
#define SWEEPD_SERVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "daemon/store/db.h"

/* One JSON object and nothing after it but white space, in valid UTF-8
 * without "\u0000", whose numeric "id" is an integer a double holds
 * exactly. A NEW object owned by the caller, or NULL with a message. */
cJSON *req_parse(const char *line, size_t len, char *msg, size_t msglen);

/* Member name, an integer of at least min (0 or 1) and below 2^53: 0,
 * -ENOENT when absent, or -EINVAL naming it. */
int req_int(const cJSON *req, const char *name, int64_t min, int64_t *out,
	    char *msg, size_t msglen);
/* A positive integer member; absent is -EINVAL too. */
int req_pos_int(const cJSON *req, const char *name, int64_t *out, char *msg,
		size_t msglen);
/* An optional non-negative integer member: dflt when absent. */
int req_count(const cJSON *req, const char *name, int64_t dflt, int64_t *out,
	      char *msg, size_t msglen);
/* "after" of an epochs request: absent ({0, 0, 0}), or a reply's "next",
 * {"number","attempt","epoch"} of non-negative integers. */
int req_epoch_key(const cJSON *req, struct db_epoch_key *k, char *msg,
		  size_t msglen);

#endif
