/*
 * emit.c: formatting and writing report lines.
 */
#include "worker/emit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
emit_number(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "NaN");
	else if (isinf(x))
		snprintf(buf, len, x > 0 ? "Infinity" : "-Infinity");
	else
		snprintf(buf, len, "%.10g", x);
}

/* Append to buf at *pos; false once the buffer is full. */
static int
append(char *buf, size_t len, size_t *pos, const char *key, double x)
{
	char num[40];
	int n;

	emit_number(num, sizeof(num), x);
	n = snprintf(buf + *pos, len - *pos, "%s%s", key, num);
	if (n < 0 || (size_t)n >= len - *pos)
		return -ENOSPC;
	*pos += (size_t)n;
	return 0;
}

int
emit_format_epoch(char *buf, size_t len, const struct emit_epoch *e)
{
	size_t pos = 0;
	int n = snprintf(buf, len, "{\"epoch\":%d", e->epoch);

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	pos = (size_t)n;
	if (append(buf, len, &pos, ",\"train_loss\":", e->train_loss) < 0 ||
	    append(buf, len, &pos, ",\"train_acc\":", e->train_acc) < 0 ||
	    append(buf, len, &pos, ",\"val_loss\":", e->val_loss) < 0 ||
	    append(buf, len, &pos, ",\"val_acc\":", e->val_acc) < 0 ||
	    append(buf, len, &pos, ",\"lr\":", e->lr) < 0 ||
	    append(buf, len, &pos, ",\"seconds\":", e->seconds) < 0)
		return -ENOSPC;
	for (int i = 0; i < e->n_grad_norm; i++)
		if (append(buf, len, &pos, i ? "," : ",\"grad_norm\":[", e->grad_norm[i]) < 0)
			return -ENOSPC;
	n = snprintf(buf + pos, len - pos, "%s}\n", e->n_grad_norm ? "]" : "");
	if (n < 0 || (size_t)n >= len - pos)
		return -ENOSPC;
	return (int)(pos + (size_t)n);
}

int
emit_format_final(char *buf, size_t len, int best_epoch, double test_loss, double test_acc)
{
	size_t pos;
	int n = snprintf(buf, len, "{\"final\":true,\"best_epoch\":%d", best_epoch);

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	pos = (size_t)n;
	if (append(buf, len, &pos, ",\"test_loss\":", test_loss) < 0 ||
	    append(buf, len, &pos, ",\"test_acc\":", test_acc) < 0)
		return -ENOSPC;
	n = snprintf(buf + pos, len - pos, "}\n");
	if (n < 0 || (size_t)n >= len - pos)
		return -ENOSPC;
	return (int)(pos + (size_t)n);
}

static char emit_prefix[32];   /* "" or what emit_set_prefix was given */

int
emit_set_prefix(const char *prefix)
{
	if (prefix && strlen(prefix) >= sizeof(emit_prefix))
		return -ENAMETOOLONG;
	snprintf(emit_prefix, sizeof(emit_prefix), "%s", prefix ? prefix : "");
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	/* Lines are far below PIPE_BUF, so the first write is atomic and the
	 * loop only matters for EINTR. */
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int
emit_write(int fd, const char *line, size_t len)
{
	size_t plen = strlen(emit_prefix);
	char stack[4096];
	char *buf = stack;   /* stack, or owned when the line is longer */
	int rc;

	if (plen == 0)
		return write_all(fd, line, len);
	if (plen + len > sizeof(stack) && !(buf = malloc(plen + len)))
		return -ENOMEM;
	memcpy(buf, emit_prefix, plen);
	memcpy(buf + plen, line, len);
	rc = write_all(fd, buf, plen + len);
	if (buf != stack)
		free(buf);
	return rc;
}
