/*
 * linebuf.c: joins arbitrary read chunks into lines, with a hard cap.
 *
 * Each byte is copied once, into the pending-line buffer, and only up to
 * the next '\n': the cap is checked before copying, so a peer streaming a
 * line without end is refused once it passes max, and the buffer never
 * holds more than max + 2 bytes (the line, a '\r' that may still turn out
 * to be half of "\r\n", and the NUL).
 */
#include "common/linebuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINEBUF_MIN_CAP 256

int
linebuf_init(struct linebuf *lb, size_t max_line)
{
	if (max_line == 0 || max_line > SIZE_MAX - 2)
		return -EINVAL;
	memset(lb, 0, sizeof(*lb));
	lb->max = max_line;
	return 0;
}

void
linebuf_skip_overlong(struct linebuf *lb)
{
	lb->skip_long = 1;
}

void
linebuf_keep_prefix(struct linebuf *lb, const char *prefix)
{
	lb->keep = prefix;
}

/* 1 when the line that starts with the pending bytes and goes on with
 * data[0..n) begins with lb->keep (a shorter line cannot: it is not
 * overlong). */
static int
starts_with_keep(const struct linebuf *lb, const char *data, size_t n)
{
	size_t k = lb->keep ? strlen(lb->keep) : 0, have = lb->len;

	if (k == 0 || have + n < k)
		return 0;
	if (have >= k)
		return memcmp(lb->buf, lb->keep, k) == 0;
	return memcmp(lb->buf, lb->keep, have) == 0 &&
	       memcmp(data, lb->keep + have, k - have) == 0;
}

void
linebuf_free(struct linebuf *lb)
{
	if (!lb)
		return;
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

/* Makes room for need bytes. Doubling keeps growth amortized O(1) per
 * byte; the ceiling max + 2 is all a legal line can use. */
static int
reserve(struct linebuf *lb, size_t need)
{
	size_t ceiling = lb->max + 2;
	size_t ncap;
	char *nbuf;

	if (need <= lb->cap)
		return 0;
	ncap = lb->cap ? lb->cap : LINEBUF_MIN_CAP;
	while (ncap < need && ncap < ceiling / 2)
		ncap *= 2;
	if (ncap < need)
		ncap = need;
	if (ncap > ceiling)
		ncap = ceiling;
	nbuf = realloc(lb->buf, ncap);
	if (!nbuf)
		return -ENOMEM;
	lb->buf = nbuf;
	lb->cap = ncap;
	return 0;
}

/* Strips a trailing '\r', NUL-terminates and hands the pending line to cb.
 * The buffer is emptied before cb runs, so cb's error leaves it clean. */
static int
deliver(struct linebuf *lb, linebuf_cb cb, void *ud)
{
	size_t len = lb->len;

	if (len > 0 && lb->buf[len - 1] == '\r')
		len--;
	lb->buf[len] = '\0';
	lb->len = 0;
	return cb(ud, lb->buf, len);
}

int
linebuf_feed(struct linebuf *lb, const char *data, size_t n,
	     linebuf_cb cb, void *ud)
{
	size_t pos = 0;
	int rc = 0;

	while (pos < n) {
		const char *nl = memchr(data + pos, '\n', n - pos);
		size_t seg = nl ? (size_t)(nl - (data + pos)) : n - pos;
		size_t total = lb->len + seg;
		char last;

		if (lb->skipping) {   /* the tail of an overlong line */
			if (!nl)
				break;
			lb->skipping = 0;
			pos += seg + 1;
			continue;
		}
		/* The byte that would end the line, to allow "max bytes +
		 * '\r'" while the '\n' is still to come. */
		last = seg ? data[pos + seg - 1]
			   : (lb->len ? lb->buf[lb->len - 1] : '\0');
		if (total > lb->max && !(total == lb->max + 1 && last == '\r')) {
			if (!lb->skip_long ||
			    starts_with_keep(lb, data + pos, seg)) {
				rc = -E2BIG;
				goto fail;
			}
			lb->len = 0;
			lb->skipped++;
			lb->skipping = !nl;
			pos += seg + (nl != NULL);
			continue;
		}
		/* +1 for the NUL that deliver() writes. */
		rc = reserve(lb, total + 1);
		if (rc < 0)
			goto fail;
		memcpy(lb->buf + lb->len, data + pos, seg);
		lb->len = total;
		pos += seg;
		if (!nl)
			break;
		pos++; /* the '\n' */
		rc = deliver(lb, cb, ud);
		if (rc != 0)
			goto fail;
	}
	return 0;

fail:
	lb->len = 0;
	return rc;
}

int
linebuf_finish(struct linebuf *lb, linebuf_cb cb, void *ud)
{
	lb->skipping = 0;
	if (lb->len == 0)
		return 0;
	return deliver(lb, cb, ud);
}
