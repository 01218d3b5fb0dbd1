/*
 * log.c: timestamped log lines for sweepd.
 *
 * The log is process-wide state by nature (every module logs), so it is the
 * one place that keeps a static: the stream and its path. Lines are written
 * with a single fprintf + fflush so a crash loses at most the line being
 * written.
 */
#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static FILE *log_stream;         /* NULL means stderr */
static char *log_path;           /* NULL or owned */
static enum log_level log_min = LOG_LEVEL_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int
log_open(const char *path)
{
	FILE *f;
	char *copy;

	if (!path) {
		log_close();
		return 0;
	}
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	f = fopen(path, "a");
	if (!f) {
		int err = -errno;
		free(copy);
		return err;
	}
	log_close();
	log_stream = f;
	log_path = copy;
	return 0;
}

int
log_reopen(void)
{
	FILE *f;

	if (!log_path)
		return 0;
	f = fopen(log_path, "a");
	if (!f)
		return -errno;
	fclose(log_stream);
	log_stream = f;
	return 0;
}

void
log_close(void)
{
	if (log_stream)
		fclose(log_stream);
	log_stream = NULL;
	free(log_path);
	log_path = NULL;
}

void
log_set_level(enum log_level level)
{
	log_min = level;
}

void
log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	FILE *out = log_stream ? log_stream : stderr;
	char msg[2048];
	char stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "%s.%03dZ %s %s: %s\n", stamp, (int)(tv.tv_usec / 1000),
		level_names[level], func, msg);
	fflush(out);
}
