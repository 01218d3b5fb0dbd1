/*
 * log.h: the daemon's log. One line per message, with a UTC timestamp,
 * the level and the function that logged it, to stderr or to a file given
 * with --log. SIGHUP reopens the file so logrotate can move it away.
 */
#ifndef SWEEPD_LOG_H
#define SWEEPD_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Opens path for appending (NULL: stderr). 0 or -errno. */
int log_open(const char *path);
/* Reopens the file given to log_open (after rotation). 0 or -errno; on
 * failure the old stream stays in use. */
int log_reopen(void);
void log_close(void);
/* Sets the lowest level that is written (default INFO). */
void log_set_level(enum log_level level);

void log_write(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)

#endif
