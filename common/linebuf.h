/*
 * linebuf.h: an incremental line splitter with a hard cap on line length.
 *
 * The daemon reads newline-delimited JSON from trainer report pipes (cap
 * 64 KiB) and from client sockets (cap 1 MiB). Reads arrive in arbitrary
 * chunks; linebuf joins them into lines and hands each complete line to a
 * callback. A peer that sends an endless line is refused as soon as the
 * pending line passes the cap, so memory per stream stays bounded by
 * max_line + 2 bytes whatever the peer does.
 *
 * Usage: linebuf_init once, linebuf_feed for each chunk read, linebuf_finish
 * at EOF, linebuf_free when done. Not thread-safe; one linebuf per stream.
 */
#ifndef SWEEPD_COMMON_LINEBUF_H
#define SWEEPD_COMMON_LINEBUF_H

#include <stddef.h>

/* The fields are public so the struct can be embedded by value; treat them
 * as read-only outside linebuf.c. */
struct linebuf {
	char *buf;    /* NULL or owned: the pending (incomplete) line */
	size_t len;   /* bytes pending in buf */
	size_t cap;   /* bytes allocated for buf; <= max + 2 */
	size_t max;   /* longest accepted line, without "\n" or "\r\n" */
	int skip_long;     /* linebuf_skip_overlong was called */
	const char *keep;  /* NULL or borrowed: overlong lines so prefixed
			    * are refused even in skip mode */
	int skipping;      /* dropping the rest of an overlong line */
	unsigned long skipped;   /* overlong lines dropped (skip mode) */
};

/*
 * Called once per complete line. line is NUL-terminated at line[len], has
 * no trailing "\n" or "\r\n", and may be modified in place (up to len
 * bytes); it is borrowed until the callback returns. Return 0 to go on;
 * any other value stops the feed and is returned by linebuf_feed (the rest
 * of that chunk is dropped, so return non-zero only to abandon the stream;
 * to skip a bad line, return 0).
 */
typedef int (*linebuf_cb)(void *ud, char *line, size_t len);

/* Prepares an empty splitter for lines of at most max_line bytes. Nothing
 * is allocated until data arrives. 0, or -EINVAL if max_line is 0 or so
 * large that max_line + 2 overflows. */
int linebuf_init(struct linebuf *lb, size_t max_line);

/* Skip mode, for a stream where long lines are someone else's (a trainer's
 * stdout, where only report lines are ours): from now on a line longer
 * than max is dropped, up to and including its '\n' in whatever later
 * chunk it comes, counted in skipped, and linebuf_feed goes on with the
 * lines after it instead of returning -E2BIG. */
void linebuf_skip_overlong(struct linebuf *lb);

/* In skip mode, an overlong line that begins with prefix (borrowed, a
 * static string; NULL: none) is not skipped: linebuf_feed returns -E2BIG
 * for it as without skip mode. For a trainer's stdout, where "SWEEP "
 * lines are reports and an overlong one is an error, not output. */
void linebuf_keep_prefix(struct linebuf *lb, const char *prefix);

/* Frees the buffer and zeroes the struct. Harmless on a zeroed struct and
 * when called twice. */
void linebuf_free(struct linebuf *lb);

/*
 * Appends n bytes of data and calls cb for every line completed by them, in
 * order. A partial last line is kept for the next call. Returns:
 *   0        all complete lines delivered;
 *   -E2BIG   the pending line grew past max (detected as soon as it does,
 *            without waiting for its newline);
 *   -ENOMEM  the buffer could not grow;
 *   the first non-zero value returned by cb.
 * After a non-zero return the pending bytes and the rest of the chunk are
 * dropped (the splitter is empty): the stream is out of step, and callers
 * are expected to close it. data may be NULL when n is 0.
 */
int linebuf_feed(struct linebuf *lb, const char *data, size_t n,
		 linebuf_cb cb, void *ud);

/* At EOF: delivers the pending unterminated line, if any (a trailing '\r'
 * stripped; not the tail of a line being skipped), and empties the
 * buffer. Returns 0, or what cb returned. */
int linebuf_finish(struct linebuf *lb, linebuf_cb cb, void *ud);

#endif
