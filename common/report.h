/*
 * report.h: the trial report line (trainer -> daemon), see docs/DESIGN.md.
 *
 * A trainer writes one JSON object per line: an epoch line
 *   {"epoch":1,"train_loss":0.61,"val_acc":0.81,"grad_norm":[0.3,0.1]}
 * or, once, a final line
 *   {"final":true,"best_epoch":7,"test_loss":0.33,"test_acc":0.884}
 * report_parse turns one line into a fixed-size struct report_line (no heap
 * memory to free), with a message naming the fault when the line is bad.
 *
 * Non-finite numbers: Python's json.dumps writes NaN, Infinity and
 * -Infinity as bare words, which are not JSON. A diverging trial reports
 * exactly those, so they are accepted: outside strings they are read as
 * NaN, +inf and -inf; a JSON null metric value is read as NaN too.
 */
#ifndef SWEEPD_COMMON_REPORT_H
#define SWEEPD_COMMON_REPORT_H

#include <stddef.h>

#include <cJSON.h>

#define REPORT_MAX_METRICS 32
#define REPORT_MAX_GRAD 64
#define REPORT_MAX_NAME 64     /* metric name buffer, NUL included */
#define REPORT_MAX_LINE 65536  /* longest line report_parse accepts */
/* The largest epoch number (a trainer may report its global step): the
 * daemon's memory and time per line do not depend on it, see sched.c. */
#define REPORT_MAX_EPOCH 1000000000
#define REPORT_MAX_EPOCH_STR "1000000000"

enum report_kind {
	REPORT_EPOCH = 1,
	REPORT_FINAL = 2,
};

struct report_metric {
	char name[REPORT_MAX_NAME];
	double value;          /* NaN for NaN or null, +-inf for +-Infinity */
};

struct report_line {
	enum report_kind kind;
	int epoch;             /* EPOCH: >= 1; FINAL: its "epoch" if given, else 0 */
	int best_epoch;        /* FINAL: 0 if absent or null */
	int n_metrics;         /* in key order of the line */
	struct report_metric metrics[REPORT_MAX_METRICS];
	int n_grad;            /* 0 when grad_norm is absent or null */
	double grad_norm[REPORT_MAX_GRAD];  /* input side first */
};

/*
 * Parses one report line of len bytes (no '\n'; it need not be
 * NUL-terminated). Rules:
 *  - the line is one JSON object, at most REPORT_MAX_LINE bytes, no NUL;
 *  - "final": true makes a FINAL line ("final": false is the same as
 *    absent); "best_epoch" is then optional, an integer >= 0 or null;
 *  - otherwise "epoch" is required, an integer 1..REPORT_MAX_EPOCH
 *    ("best_epoch" and a final line's "epoch" are at most that too);
 *  - "grad_norm", when present and not null, is an array of at most
 *    REPORT_MAX_GRAD numbers (null entries read as NaN);
 *  - every other key whose value is a number or null is a metric (name at
 *    most REPORT_MAX_NAME - 1 bytes, at most REPORT_MAX_METRICS of them,
 *    no key twice); keys with string, bool, object or array values are
 *    ignored, so trainers may add notes.
 * Returns 0 and fills *out, or -EINVAL with a message in err (when err is
 * not NULL) that quotes the line, truncated to about 200 bytes, e.g.
 *   bad report line "xyz": not valid JSON (at byte 0)
 * or -ENOMEM. *out is unspecified after an error.
 */
int report_parse(const char *line, size_t len, struct report_line *out,
		 char *err, size_t errlen);

/* The value of metric name, or NAN when the line has no such metric (see
 * report_has to tell that from a reported NaN). */
double report_get(const struct report_line *r, const char *name);

/* 1 when the line carries metric name (even if its value is NaN), else 0. */
int report_has(const struct report_line *r, const char *name);

/*
 * A new JSON object for storage and display, the same shape as the line:
 * {"epoch":N, <metrics>..., "grad_norm":[...]} or
 * {"final":true, "best_epoch":N (when > 0), "epoch":N (when > 0),
 *  <metrics>...}. Non-finite numbers (NaN, +-inf) become null, since JSON
 * has no such values; report_parse reads null back as NaN, so an infinity
 * comes back as NaN. Owned by the caller (cJSON_Delete); NULL on ENOMEM.
 */
cJSON *report_to_json(const struct report_line *r);

/* The prefix of a report line on stdout (below). */
#define REPORT_STDOUT_PREFIX "SWEEP "

/*
 * The stdout fallback: a trainer that cannot use fd 3 prints report lines
 * prefixed "SWEEP ". Returns 1 and points *payload and *plen at the text
 * after the prefix when line (len bytes) starts with it, else 0 and leaves
 * them untouched. *payload is borrowed from line.
 */
int report_strip_prefix(const char *line, size_t len, const char **payload,
			size_t *plen);

/*
 * For a line report_parse accepted without metric name: 1 when the line
 * gives name a string value (metrics must be numbers; such keys are
 * skipped as notes), with the string, truncated to buflen - 1 bytes, in
 * buf; else 0. Lets the daemon say "the objective is a string" rather
 * than "never reported".
 */
int report_string_value(const char *line, size_t len, const char *name,
			char *buf, size_t buflen);

#endif
