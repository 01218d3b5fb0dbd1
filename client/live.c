/*
 * live.c: the state of `sweepctl watch` on a terminal and its rendering
 * (see live.h). Events arrive in the order the daemon sent them; every
 * update is idempotent where the watch can see a thing twice (an epoch
 * both in a fetched curve and in an event, a trial_started for a trial
 * already known), so the command glue can seed state from other replies
 * without racing the event stream.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client/fmt.h"
#include "client/live.h"

#define LINE_MAX_BYTES 2048
#define BAR_W 30        /* cells of the progress bar */
#define SPARK_W 24      /* cells of a trial's sparkline, at most */

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static int
ended_count(const int *counts)
{
	return counts[LIVE_COMPLETED] + counts[LIVE_FAILED] +
	       counts[LIVE_PRUNED] + counts[LIVE_CANCELLED];
}

/* A sweep's status that says it ended (not "running", "paused" or
 * anything unknown). */
static int
is_end_status(const char *s)
{
	int st = vocab_sweep_parse(s);

	return st >= 0 && !vocab_sweep_active(st);
}

/* Counts n more failures of this class and message (kinds past
 * LIVE_FAILURES_MAX are not kept: the view shows the commonest). */
static void
add_failure(struct live *l, const char *class, const char *message, int n)
{
	int i;

	if (n <= 0)
		return;
	class = class && *class ? class : "error";
	message = message ? message : "";
	for (i = 0; i < l->n_failures; i++)
		if (strcmp(l->failures[i].class, class) == 0 &&
		    strncmp(l->failures[i].message, message,
			    sizeof l->failures[i].message - 1) == 0)
			break;
	if (i == l->n_failures) {
		if (i == LIVE_FAILURES_MAX)
			return;
		copy(l->failures[i].class, sizeof l->failures[i].class, class);
		copy(l->failures[i].message, sizeof l->failures[i].message, message);
		l->failures[i].n = 0;
		l->n_failures++;
	}
	l->failures[i].n += n;
}

/* The summary's failure summary, [{"class","message","count"}], when the
 * daemon sends one (older daemons do not). */
static void
seed_failures(struct live *l, const cJSON *failures)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, failures)
		add_failure(l, fmt_jstr(f, "class", NULL), fmt_jstr(f, "message", NULL),
			    (int)fmt_jnum(f, "count", 1));
}

int
live_init(struct live *l, long long sweep, const cJSON *summary)
{
	const cJSON *counts = fmt_jget(summary, "counts");
	const cJSON *obj = fmt_jget(summary, "objective");
	const cJSON *best = fmt_jget(summary, "best");

	memset(l, 0, sizeof *l);
	l->sweep = sweep;
	copy(l->name, sizeof l->name, fmt_jstr(summary, "name", ""));
	copy(l->status, sizeof l->status, fmt_jstr(summary, "status", "-"));
	copy(l->metric, sizeof l->metric, fmt_jstr(obj, "metric", "objective"));
	l->mode_max = strcmp(fmt_jstr(obj, "mode", "max"), "min") != 0;
	l->created_at = fmt_jnum(summary, "created_at", 0);
	l->ended_at = fmt_jnum(summary, "ended_at", 0);
	l->total = (int)fmt_jnum(summary, "trials_total", 0);
	for (int i = 0; i < LIVE_N_STATUS; i++)
		l->counts[i] = (int)fmt_jnum(counts,
					     vocab_trial_name((enum trial_status)i), 0);
	if (cJSON_IsNumber(fmt_jget(best, "objective"))) {
		l->have_best = 1;
		l->best_number = (int)fmt_jnum(best, "number", 0);
		l->best_value = fmt_jnum(best, "objective", NAN);
	}
	l->ended = is_end_status(l->status);
	seed_failures(l, fmt_jget(summary, "failures"));
	return 0;
}

static void
count_verdict(struct live *l, const char *v, int n)
{
	int i;

	if (!v || !*v || n <= 0)
		return;
	/* kept in name order, as `status` lists them: a line that moves
	 * around as counts change is hard to read live */
	for (i = 0; i < l->n_verdicts; i++)
		if (strcmp(l->verdicts[i].name, v) >= 0)
			break;
	if (i == l->n_verdicts || strcmp(l->verdicts[i].name, v) != 0) {
		if (l->n_verdicts == LIVE_VERDICTS_MAX)
			return;   /* more kinds than any diagnosis has */
		memmove(&l->verdicts[i + 1], &l->verdicts[i],
			(size_t)(l->n_verdicts - i) * sizeof l->verdicts[0]);
		copy(l->verdicts[i].name, sizeof l->verdicts[i].name, v);
		l->verdicts[i].n = 0;
		l->n_verdicts++;
	}
	l->verdicts[i].n += n;
}

int
live_seed_verdicts(struct live *l, const cJSON *trials)
{
	const cJSON *t;
	int ended = 0;

	l->n_verdicts = 0;
	cJSON_ArrayForEach(t, trials) {
		int st = vocab_trial_parse(fmt_jstr(t, "status", NULL));

		if (st < 0 || !vocab_trial_ended((enum trial_status)st))
			continue;
		ended++;
		count_verdict(l, fmt_jstr(fmt_jget(t, "diagnosis"), "verdict", NULL), 1);
	}
	/* Ended since the watch reply: l->counts has that reply's counts plus
	 * the trial_ended events applied since. */
	l->skip_verdicts = ended - ended_count(l->counts);
	if (l->skip_verdicts < 0)
		l->skip_verdicts = 0;
	return 0;
}

struct live_trial *
live_find(struct live *l, int number)
{
	for (size_t i = 0; i < l->n_run; i++)
		if (l->run[i].number == number)
			return &l->run[i];
	return NULL;
}

static struct live_trial *
add_trial(struct live *l, int number, int attempt)
{
	struct live_trial *t;

	if (l->n_run == l->cap_run) {
		size_t cap = l->cap_run ? 2 * l->cap_run : 8;
		struct live_trial *r = realloc(l->run, cap * sizeof *r);

		if (!r)
			return NULL;
		l->run = r;
		l->cap_run = cap;
	}
	t = &l->run[l->n_run++];
	memset(t, 0, sizeof *t);
	t->number = number;
	t->attempt = attempt;
	t->value = NAN;
	return t;
}

static void
drop_trial(struct live *l, struct live_trial *t)
{
	size_t i = (size_t)(t - l->run);

	free(t->curve);
	memmove(&l->run[i], &l->run[i + 1], (l->n_run - i - 1) * sizeof *t);
	l->n_run--;
}

/* Appends the objective of epoch e, unless the curve already has it (an
 * epoch seen both in a fetched curve and in an event). */
static int
add_point(struct live_trial *t, int e, double v)
{
	if (e <= t->epoch)
		return 0;
	if (!t->curve && !(t->curve = malloc(LIVE_CURVE_MAX * sizeof *t->curve)))
		return -ENOMEM;
	if (t->n == LIVE_CURVE_MAX) {
		/* keep the recent half: the sparkline shows the tail */
		memmove(t->curve, t->curve + LIVE_CURVE_MAX / 2,
			(LIVE_CURVE_MAX / 2) * sizeof *t->curve);
		t->n = LIVE_CURVE_MAX / 2;
	}
	t->curve[t->n++] = v;
	t->epoch = e;
	t->value = v;
	return 0;
}

static void
set_verdict(struct live_trial *t, const cJSON *diagnosis)
{
	const char *v = fmt_jstr(diagnosis, "verdict", NULL);

	if (v)
		copy(t->verdict, sizeof t->verdict, v);
}

static void
set_epochs(struct live_trial *t, const cJSON *params)
{
	double e = fmt_jnum(params, "epochs", 0);

	if (e >= 1 && e < 1e9)
		t->epochs = (int)e;
}

/* counts[st] += d, never below 0. */
static void
move_count(struct live *l, enum live_status st, int d)
{
	l->counts[st] += d;
	if (l->counts[st] < 0)
		l->counts[st] = 0;
}

static void
on_started(struct live *l, const cJSON *ev)
{
	int number = (int)fmt_jnum(ev, "number", 0);
	int attempt = (int)fmt_jnum(ev, "attempt", 1);
	struct live_trial *t = live_find(l, number);

	int pending = cJSON_IsTrue(fmt_jget(ev, "pending"));

	if (t && t->attempt == attempt)
		return;   /* seen already */
	if (t) {
		/* a new attempt starts over; it was running all along */
		move_count(l, t->pending ? LIVE_PENDING : LIVE_RUNNING, -1);
		drop_trial(l, t);
	} else if (l->counts[LIVE_QUEUED] > 0) {
		l->counts[LIVE_QUEUED]--;
	}
	move_count(l, pending ? LIVE_PENDING : LIVE_RUNNING, 1);
	if (!(t = add_trial(l, number, attempt)))
		return;
	t->pending = pending;
	set_epochs(t, fmt_jget(ev, "params"));
}

/* A Slurm trial's job left Slurm's queue. */
static void
on_running(struct live *l, const cJSON *ev)
{
	struct live_trial *t = live_find(l, (int)fmt_jnum(ev, "number", 0));

	if (!t || !t->pending || t->attempt != (int)fmt_jnum(ev, "attempt", 1))
		return;
	t->pending = 0;
	move_count(l, LIVE_PENDING, -1);
	move_count(l, LIVE_RUNNING, 1);
}

static int
on_epoch(struct live *l, const cJSON *ev)
{
	int number = (int)fmt_jnum(ev, "number", 0);
	struct live_trial *t = live_find(l, number);
	double v = fmt_jnum(ev, "objective", NAN);

	if (!t) {
		/* started before the watch did: counted running already */
		if (!(t = add_trial(l, number, 0)))
			return -ENOMEM;
		t->need_fetch = 1;
	}
	set_verdict(t, fmt_jget(ev, "diagnosis"));
	return add_point(t, (int)fmt_jnum(ev, "epoch", 0), v);
}

static int
better(const struct live *l, double v)
{
	if (!isfinite(v))
		return 0;
	if (!l->have_best)
		return 1;
	return l->mode_max ? v > l->best_value : v < l->best_value;
}

static void
on_ended(struct live *l, const cJSON *ev)
{
	int number = (int)fmt_jnum(ev, "number", 0);
	int st = vocab_trial_parse(fmt_jstr(ev, "status", NULL));
	struct live_trial *t = live_find(l, number);
	double v = fmt_jnum(ev, "objective", NAN);

	move_count(l, t && t->pending ? LIVE_PENDING : LIVE_RUNNING, -1);
	if (t)
		drop_trial(l, t);
	if (st >= 0)
		l->counts[st]++;
	if (st == LIVE_COMPLETED && better(l, v)) {
		l->have_best = 1;
		l->best_number = number;
		l->best_value = v;
	}
	if (st == LIVE_FAILED) {
		const cJSON *err = fmt_jget(ev, "error");

		add_failure(l, fmt_jstr(err, "class", NULL),
			    fmt_jstr(err, "message", NULL), 1);
	}
	if (l->skip_verdicts > 0)
		l->skip_verdicts--;
	else
		count_verdict(l, fmt_jstr(fmt_jget(ev, "diagnosis"), "verdict", NULL), 1);
}

int
live_update(struct live *l, const cJSON *ev)
{
	const char *name = fmt_jstr(ev, "event", "");

	if (strcmp(name, "trial_started") == 0) {
		on_started(l, ev);
	} else if (strcmp(name, "trial_running") == 0) {
		on_running(l, ev);
	} else if (strcmp(name, "epoch") == 0) {
		return on_epoch(l, ev);
	} else if (strcmp(name, "trial_ended") == 0) {
		on_ended(l, ev);
	} else if (strcmp(name, "sweep_paused") == 0 && !l->ended) {
		copy(l->status, sizeof l->status, vocab_sweep_name(SWEEP_PAUSED));
	} else if (strcmp(name, "sweep_resumed") == 0 && !l->ended) {
		copy(l->status, sizeof l->status, vocab_sweep_name(SWEEP_RUNNING));
	} else if (strcmp(name, "sweep_ended") == 0) {
		copy(l->status, sizeof l->status, fmt_jstr(ev, "status", "ended"));
		l->ended = 1;
		/* whatever still looks running was stopped with the sweep */
		for (size_t i = 0; i < l->n_run; i++)
			free(l->run[i].curve);
		l->n_run = 0;
		l->counts[LIVE_RUNNING] = l->counts[LIVE_PENDING] = 0;
	}
	return 0;
}

int
live_seed_trial(struct live *l, const cJSON *trial)
{
	struct live_trial *t = live_find(l, (int)fmt_jnum(trial, "number", 0));
	const cJSON *e, *curve = fmt_jget(trial, "curve");
	double *keep;
	size_t nkeep;
	int last;

	if (!t)
		return 0;
	t->need_fetch = 0;
	t->attempt = (int)fmt_jnum(trial, "attempt", 1);
	set_epochs(t, fmt_jget(trial, "params"));
	set_verdict(t, fmt_jget(trial, "diagnosis"));
	if (!cJSON_IsArray(curve) || cJSON_GetArraySize(curve) == 0)
		return 0;
	/* The fetched curve comes first; the epochs events already added
	 * after its end stay. */
	keep = t->curve;
	nkeep = t->n;
	last = t->epoch;
	t->curve = NULL;
	t->n = 0;
	t->epoch = 0;
	cJSON_ArrayForEach(e, curve) {
		int ep = (int)fmt_jnum(e, "epoch", 0);

		if (last > 0 && ep >= last - (int)nkeep + 1)
			break;   /* from here on the events have it */
		if (add_point(t, ep, fmt_jnum(e, l->metric, NAN)) < 0)
			goto oom;
	}
	for (size_t i = 0; i < nkeep; i++)
		if (add_point(t, last - (int)nkeep + 1 + (int)i, keep[i]) < 0)
			goto oom;
	free(keep);
	return 0;
oom:
	free(t->curve);
	t->curve = keep;
	t->n = nkeep;
	t->epoch = last;
	return -ENOMEM;
}

void
live_free(struct live *l)
{
	for (size_t i = 0; l->run && i < l->n_run; i++)
		free(l->run[i].curve);
	free(l->run);
	l->run = NULL;
	l->n_run = l->cap_run = 0;
}

/* ---- rendering -------------------------------------------------------- */

char *
live_sparkline(char *buf, const double *v, size_t n, size_t width)
{
	static const char *const blocks[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	double lo = INFINITY, hi = -INFINITY;
	size_t from = n > width ? n - width : 0, k = 0;

	for (size_t i = from; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (size_t i = from; i < n; i++) {
		int level;

		if (!isfinite(v[i])) {
			buf[k++] = ' ';
			continue;
		}
		/* level = round(7 (v - lo) / (hi - lo)); a flat curve sits mid-way */
		level = hi > lo ? (int)lround(7.0 * (v[i] - lo) / (hi - lo)) : 3;
		memcpy(buf + k, blocks[level], 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

struct frame {
	FILE *out;
	int width, lines, max_lines;
};

/* Display columns of UTF-8 s: its code points (the view draws nothing
 * wider than one cell). */
static int
cols(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* src cut to at most max columns into dst, its last one "…" when cut. */
static char *
cut(char *dst, size_t len, const char *src, int max)
{
	size_t i = 0;
	int n = 0;

	if (cols(src) <= max) {
		copy(dst, len, src);
		return dst;
	}
	for (; src[i] && i + 4 < len; i++) {
		if (((unsigned char)src[i] & 0xc0) != 0x80 && n++ == max - 1)
			break;
		dst[i] = src[i];
	}
	if (max > 0)
		memcpy(dst + i, "\xe2\x80\xa6", 4);   /* … and the NUL */
	else
		dst[i] = '\0';
	return dst;
}

/* One line, control characters replaced (names come from the daemon), cut
 * to the frame's width in code points. Lines past max_lines are dropped. */
static void __attribute__((format(printf, 2, 3)))
line(struct frame *f, const char *fmt, ...)
{
	char buf[LINE_MAX_BYTES];
	va_list ap;
	int n = 0;
	size_t i;

	if (f->lines >= f->max_lines)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (i = 0; buf[i]; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c & 0xc0) != 0x80 && n++ == f->width)
			break;
		if (c < 0x20 || c == 0x7f)
			buf[i] = ' ';
	}
	/* no trailing blanks */
	while (i > 0 && buf[i - 1] == ' ')
		i--;
	buf[i] = '\0';
	fputs(buf, f->out);
	fputc('\n', f->out);
	f->lines++;
}

/* "sweep N NAME  STATUS  objective M (mode)": the name is cut (and on a
 * narrow terminal the objective left out) so that the status shows. */
static void
header(struct frame *f, const struct live *l)
{
	char id[32], tail[LIVE_NAME_MAX + 48], name[LIVE_NAME_MAX + 4];
	int room;

	snprintf(id, sizeof id, "sweep %lld", l->sweep);
	snprintf(tail, sizeof tail, "  %s  objective %s (%s)", l->status,
		 l->metric, l->mode_max ? "max" : "min");
	room = f->width - cols(id) - cols(tail) - 1;
	if (l->name[0] && room < 12 && room < cols(l->name)) {
		snprintf(tail, sizeof tail, "  %s", l->status);
		room = f->width - cols(id) - cols(tail) - 1;
	}
	cut(name, sizeof name, l->name, room > 0 ? room : 0);
	line(f, "%s%s%s%s", id, name[0] ? " " : "", name, tail);
}

static void
progress(struct frame *f, const struct live *l, double now)
{
	char bar[BAR_W * 3 + 1], el[FMT_NUM_MAX], left[FMT_NUM_MAX + 16] = "";
	char text[160];
	int done = ended_count(l->counts), total = l->total, fill, k = 0, w;
	double elapsed = -1;

	if (l->created_at > 0)
		elapsed = (l->ended && l->ended_at > 0 ? l->ended_at : now) -
			  l->created_at;
	fmt_duration(el, sizeof el, elapsed);
	/* time left = elapsed / done * (total - done): the rate so far */
	if (!l->ended && done > 0 && done < total && elapsed > 0) {
		char d[FMT_NUM_MAX];

		snprintf(left, sizeof left, "  ~%s left",
			 fmt_duration(d, sizeof d, elapsed / done * (total - done)));
	}
	/* narrow: the time left goes whole, then the elapsed time */
	for (int parts = 3; parts > 0; parts--) {
		snprintf(text, sizeof text, "%d/%d trials  %d%%%s%s%s", done, total,
			 total > 0 ? (int)(100LL * done / total) : 0,
			 parts > 1 ? "  elapsed " : "", parts > 1 ? el : "",
			 parts > 2 ? left : "");
		if (cols(text) <= f->width)
			break;
	}
	/* the bar gets what the text leaves, up to BAR_W; none below 5 */
	w = f->width - cols(text) - 1;
	w = w > BAR_W ? BAR_W : w < 5 ? 0 : w;
	/* fill = w done / total, in whole cells */
	fill = total > 0 ? (int)((long long)w * (done > total ? total : done) /
				 total) : 0;
	for (int i = 0; i < w; i++) {
		memcpy(bar + k, i < fill ? "\xe2\x96\x88" : "\xe2\x96\x91", 3);
		k += 3;
	}
	bar[k] = '\0';
	line(f, "%s%s%s", bar, w ? " " : "", text);
}

/* "name n  name n ..." of the n items in at most room columns (names are
 * ASCII): whole ones only, the rest counted ("  +3 more"), so that a
 * narrow terminal never shows a name without its count. 1 when all of
 * them fit. */
static int
pack_counts(const char *const *names, const int *ns, int n, int room,
	    char *buf, size_t len)
{
	char item[64], more[32];
	size_t k = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		int w = snprintf(item, sizeof item, "%s%s %d", i ? "  " : "",
				 names[i], ns[i]);
		int tail = i + 1 < n ? snprintf(more, sizeof more, "  +%d more",
						n - i - 1) : 0;
		if (k + (size_t)w + (size_t)tail > (size_t)room ||
		    k + (size_t)w >= len)
			break;
		memcpy(buf + k, item, (size_t)w + 1);
		k += (size_t)w;
	}
	if (i < n)
		snprintf(buf + k, len - k, "%s+%d more", k ? "  " : "", n - i);
	return i == n;
}

/* "queued 0  running 2  completed 5  pruned 18 ...": on a narrow terminal
 * the zero ones go first, then what does not fit is counted. */
static void
counts(struct frame *f, const struct live *l)
{
	const char *names[LIVE_N_STATUS];
	int ns[LIVE_N_STATUS], n;
	char buf[256];

	for (int skip_zero = 0; skip_zero < 2; skip_zero++) {
		n = 0;
		for (int i = 0; i < LIVE_N_STATUS; i++) {
			int always = i == LIVE_RUNNING || i == LIVE_QUEUED ||
				     i == LIVE_COMPLETED;

			if (l->counts[i] == 0 && (!always || skip_zero))
				continue;
			names[n] = vocab_trial_name((enum trial_status)i);
			ns[n++] = l->counts[i];
		}
		if (pack_counts(names, ns, n, f->width, buf, sizeof buf))
			break;
	}
	line(f, "%s", buf);
}

/* t's "epoch i/n" (or "epoch i" without a known budget), padded. */
static void
epoch_text(const struct live_trial *t, char *ep, size_t len)
{
	if (t->epochs > 0)
		snprintf(ep, len, "epoch %3d/%-3d", t->epoch, t->epochs);
	else
		snprintf(ep, len, "epoch %3d    ", t->epoch);
}

/* The columns t's line leaves for its sparkline and the blanks around
 * it, given its epoch and value texts: "  #" 4 " " ep "  " num "  "
 * spark "  " verdict. */
static int
spark_room(const struct frame *f, const struct live_trial *t, const char *ep,
	   const char *num)
{
	return f->width - 8 - cols(ep) - 2 - cols(num) - 2 - 2 - cols(t->verdict);
}

/* t's value (or "-" before its first epoch), padded to 8: the metric's
 * name left out. */
static void
value_text(const struct live_trial *t, const char *val, char *num, size_t len)
{
	snprintf(num, len, "%-8s", t->epoch > 0 ? val : "-");
}

/* 1 when t's line would cut its verdict even without the metric's name
 * and the sparkline: then every trial line of the frame drops the word
 * "epoch" (trial_line), so that the lines stay in step. */
static int
needs_compact(const struct frame *f, const struct live_trial *t)
{
	char ep[48], val[FMT_NUM_MAX], num[FMT_NUM_MAX + 8];

	if (t->pending)
		return 0;
	epoch_text(t, ep, sizeof ep);
	value_text(t, fmt_double(val, sizeof val, t->value), num, sizeof num);
	return spark_room(f, t, ep, num) + 2 < 0;
}

/* "  #N   epoch i/n  metric value  sparkline  verdict": the sparkline
 * shrinks (then the metric's name goes, then the sparkline) so the
 * verdict stays in view; compact: "  #N   i/n  value  verdict". */
static void
trial_line(struct frame *f, const struct live *l, const struct live_trial *t,
	   int compact)
{
	char ep[48], val[FMT_NUM_MAX], num[LIVE_NAME_MAX + FMT_NUM_MAX + 8];
	char spark[SPARK_W * 3 + 1];
	int sw, shown;

	if (t->pending) {
		line(f, "  #%-4d pending in Slurm's queue", t->number);
		return;
	}
	epoch_text(t, ep, sizeof ep);
	fmt_double(val, sizeof val, t->value);
	snprintf(num, sizeof num, "%s %-8s", l->metric, t->epoch > 0 ? val : "-");
	sw = spark_room(f, t, ep, num);
	if (sw < 6) {
		value_text(t, val, num, sizeof num);
		sw = spark_room(f, t, ep, num);
	}
	/* no room for the verdict in some line: "4/8" for "epoch   4/8  " */
	if (compact) {
		if (t->epochs > 0)
			snprintf(ep, sizeof ep, "%d/%d", t->epoch, t->epochs);
		else
			snprintf(ep, sizeof ep, "%d", t->epoch);
		snprintf(num, sizeof num, "%s", t->epoch > 0 ? val : "-");
		sw = 0;
	}
	sw = sw > SPARK_W ? SPARK_W : sw < 4 ? 0 : sw;
	live_sparkline(spark, t->curve, t->n, (size_t)sw);
	shown = (int)(t->n < (size_t)sw ? t->n : (size_t)sw);
	if (sw == 0)
		line(f, "  #%-4d %s  %s  %s", t->number, ep, num, t->verdict);
	else
		/* pad by cells: each sparkline cell is 3 bytes, or 1 for a blank */
		line(f, "  #%-4d %s  %s  %-*s  %s", t->number, ep, num,
		     (int)strlen(spark) + (sw - shown), spark, t->verdict);
}

/* The commonest failure, and how many other kinds there are. */
static void
failures(struct frame *f, const struct live *l)
{
	int top = 0;

	for (int i = 1; i < l->n_failures; i++)
		if (l->failures[i].n > l->failures[top].n)
			top = i;
	line(f, "failures  %dx %s%s%s%s", l->failures[top].n, l->failures[top].class,
	     l->failures[top].message[0] ? ": " : "", l->failures[top].message,
	     l->n_failures > 1 ? "  (and other kinds)" : "");
}

static void
trials(struct frame *f, const struct live *l, int room)
{
	int shown = 0, unseen = l->counts[LIVE_RUNNING] +
		l->counts[LIVE_PENDING] - (int)l->n_run, compact = 0;

	for (size_t i = 0; i < l->n_run && (int)i < room; i++)
		compact |= needs_compact(f, &l->run[i]);
	for (size_t i = 0; i < l->n_run; i++) {
		if (shown == room - 1 && l->n_run - i > 1)
			break;
		if (shown == room)
			break;
		trial_line(f, l, &l->run[i], compact);
		shown++;
	}
	if (room <= 0)
		return;
	if ((size_t)shown < l->n_run)
		line(f, "  ... %d more running", (int)l->n_run - shown +
		     (unseen > 0 ? unseen : 0));
	else if (unseen > 0 && shown < room)
		line(f, "  ... %d more running, no epoch yet", unseen);
}

/* l's verdicts, packed as pack_counts does. */
static void
verdicts_text(const struct live *l, int room, char *buf, size_t len)
{
	const char *names[LIVE_VERDICTS_MAX];
	int ns[LIVE_VERDICTS_MAX];

	for (int i = 0; i < l->n_verdicts; i++) {
		names[i] = l->verdicts[i].name;
		ns[i] = l->verdicts[i].n;
	}
	pack_counts(names, ns, l->n_verdicts, room, buf, len);
}

int
live_render(FILE *out, const struct live *l, double now, int width,
	    int max_lines)
{
	struct frame f = { out, width < 20 ? 20 : width, 0,
			   max_lines < 1 ? 1 : max_lines };
	char best[FMT_NUM_MAX], verdicts[512];
	int tail = 2 + (l->n_failures > 0);

	header(&f, l);
	progress(&f, l, now);
	counts(&f, l);
	/* the running trials get what the other lines leave */
	trials(&f, l, f.max_lines - f.lines - tail);
	if (l->have_best)
		line(&f, "best      #%d  %s=%s", l->best_number, l->metric,
		     fmt_double(best, sizeof best, l->best_value));
	else
		line(&f, "best      none yet");
	verdicts_text(l, f.width - (int)strlen("verdicts  "), verdicts,
		      sizeof verdicts);
	line(&f, "verdicts  %s", l->n_verdicts ? verdicts : "none yet");
	if (l->n_failures > 0)
		failures(&f, l);
	return f.lines;
}
