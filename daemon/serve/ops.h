/*
 * ops.h: the client protocol's operations, as a table.
 *
 * One request line in, one reply line out (plus watch events later). The
 * dispatcher parses the line, checks what every op shares (a known op, a
 * valid "sweep" id where the op needs one, not shutting down for ops that
 * change state), then calls the op's handler, which fills the reply or
 * returns a negative errno that becomes {"ok":false,"error":{...}}.
 */
#ifndef SWEEPD_OPS_H
#define SWEEPD_OPS_H

#include <stddef.h>
#include <cJSON.h>

struct server;
struct conn;

/* Handles one request line (NUL-terminated, len bytes). Never fails: every
 * error is answered on the connection. */
void ops_dispatch(struct server *s, struct conn *c, const char *line, size_t len);

/* Sends {"id":id,"ok":false,"error":{"code":code,"message":msg}}; id may
 * be NULL (then no "id" member). */
void ops_reply_error(struct conn *c, const cJSON *id, const char *code,
		     const char *msg);

/* The stable error code for a negative errno returned by a handler. */
const char *ops_error_code(int err);

#endif
