/*
 * emit.h: report lines of the trial report protocol (docs/DESIGN.md).
 *
 * One JSON object per line, written with a single write() so a reader never
 * sees half a line. Non-finite numbers are written as the bare words NaN,
 * Infinity and -Infinity, as Python's json.dumps does; the daemon's parser
 * accepts them.
 */
#ifndef SWEEPD_WORKER_EMIT_H
#define SWEEPD_WORKER_EMIT_H

#include <stddef.h>

struct emit_epoch {
	int epoch;            /* 1-based */
	double train_loss, train_acc, val_loss, val_acc;
	double lr, seconds;
	const double *grad_norm;  /* (n_grad_norm), borrowed; input side first */
	int n_grad_norm;
};

/* Format x into buf (at least 32 bytes): %.10g, or NaN / Infinity / -Infinity. */
void
emit_number(char *buf, size_t len, double x);

/* Format one epoch line (with the trailing newline) into buf. Returns its
 * length, or -ENOSPC if len is too small. */
int
emit_format_epoch(char *buf, size_t len, const struct emit_epoch *e);

/* Format the final line into buf. Returns its length or -ENOSPC. */
int
emit_format_final(char *buf, size_t len, int best_epoch, double test_loss, double test_acc);

/* Every later emit_write puts prefix (copied; NULL or "" for none) before
 * its line, in the same write(): "SWEEP " when the lines go to stdout
 * because SWEEP_REPORT_FD is unset (docs/DESIGN.md). Set once, before the
 * run: a trainer process reports one way. Returns 0 or -ENAMETOOLONG for a
 * prefix over 31 bytes. */
int
emit_set_prefix(const char *prefix);

/* Write the prefix and the line in one write() (retrying on EINTR or a
 * short write). Returns 0, -ENOMEM, or -errno (EPIPE when the daemon went
 * away). */
int
emit_write(int fd, const char *line, size_t len);

#endif
