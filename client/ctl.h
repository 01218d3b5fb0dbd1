/*
 * ctl: what sweepctl's command handlers share: the connection state, the
 * parsed arguments, exit codes, and the request helpers in main.c.
 */
#ifndef SWEEPD_CLIENT_CTL_H
#define SWEEPD_CLIENT_CTL_H

#include <stddef.h>

#include <cJSON.h>

#include "client/cmd_select.h"
#include "client/conn.h"
#include "common/statedir.h"

enum {
	CTL_EXIT_OK    = 0,
	CTL_EXIT_FAIL  = 1,   /* the daemon answered an error; a file error */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_CONN  = 3,   /* cannot connect, or the connection dropped */
	CTL_EXIT_SWEEP_FAILED    = 4,   /* watch, wait: the sweep failed */
	CTL_EXIT_SWEEP_CANCELLED = 5,   /* watch, wait: it was cancelled */
};

/* watch and wait: the exit status for a sweep that ended with status st
 * and n_completed completed trials (-1: unknown). "completed" is 0 only
 * with a completed trial: the daemon ends a sweep completed only then, but
 * a database from before that rule may hold one without. */
int ctl_exit_for_sweep(const char *st, int n_completed);

/* Command options (a bit set per command says which it accepts). */
enum {
	CTL_OPT_FORMAT = 1 << 0,   /* --format csv|json */
	CTL_OPT_EPOCHS = 1 << 1,   /* --epochs */
	CTL_OPT_OUTPUT = 1 << 2,   /* -o, --output FILE */
	CTL_OPT_SIZE   = 1 << 3,   /* --width N, --height N */
	CTL_OPT_PAGE   = 1 << 4,   /* --limit N, --offset N */
	CTL_OPT_PORT   = 1 << 5,   /* --port N */
	CTL_OPT_SELECT = 1 << 6,   /* --sort KEY, --desc, --status S, --top N */
	CTL_OPT_ALL    = 1 << 7,   /* --all */
	CTL_OPT_YES    = 1 << 8,   /* --yes, -y */
	CTL_OPT_TRIALS = 1 << 9,   /* --trials N */
};

#define CTL_MAX_ARGS 4

struct ctl {
	const char *state_dir;      /* --state-dir, or NULL for the default */
	int json;                   /* --json */
	char sock[STATEDIR_SUN_PATH_MAX];  /* set by the first request */
	struct conn conn;           /* fd -1 until the first request */
	long long args_sweep;       /* the sweep id, for renderers */
	int args_all;               /* ls --all */
	struct select_opts select;  /* trials --sort, --status, --top */
	int selecting;              /* any of them given */
};

struct ctl_args {
	const char *cmd;            /* the command's name */
	int argc;                   /* positional arguments after it */
	char *argv[CTL_MAX_ARGS];   /* borrowed from main's argv */
	long long sweep, number;    /* parsed SWEEP and N, when the command has them */
	const char *format, *output, *width, *height;   /* NULL when not given */
	const char *limit, *offset;                     /* NULL when not given */
	const char *port;                               /* NULL when not given */
	const char *sort, *status, *top;                /* NULL when not given */
	const char *trials;                             /* NULL when not given */
	int desc, all, yes;         /* --desc, --all, --yes */
	int epochs;                 /* --epochs */
	int help, version;
};

/* "sweepctl: " + message on stderr (stdout flushed first). */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes len bytes of line and a newline to stdout (--json output). */
void ctl_put_line(const char *line, size_t len);
/* Prints "out of memory"; returns CTL_EXIT_FAIL. */
int ctl_oom(void);

/* A new request {"op":op} plus "sweep" and "number" when > 0. The caller
 * owns it; NULL on ENOMEM. */
cJSON *ctl_request(const char *op, long long sweep, long long number);

/*
 * Connects if needed, sends req (still the caller's), reads and parses the
 * reply. Returns 0 with *reply (the caller's, cJSON_Delete) and *line and *len
 * (the raw reply, borrowed until the next read) when the daemon answered
 * ok; otherwise an exit code after printing the error (the daemon's
 * message and code on stderr, and with --json the raw reply on stdout) and
 * *reply is NULL.
 */
int ctl_call(struct ctl *c, cJSON *req, cJSON **reply, char **line, size_t *len);
/* ctl_call's exchange alone: 0 with *reply whatever it says (ok or an
 * error, for a caller that goes on without it), or an exit code after a
 * message when the daemon could not be asked. */
int ctl_exchange(struct ctl *c, cJSON *req, cJSON **reply, char **line,
		 size_t *len);

/* Sends op for sweep (and number) with ctl_call; with print_json and
 * --json the raw reply is printed. Returns ctl_call's code, *reply the
 * caller's. */
int ctl_ask(struct ctl *c, const char *op, long long sweep, long long number,
	    int print_json, cJSON **reply);
/* Prints question and " [y/N] " on stderr, reads a line from stdin: 1 for
 * y, Y or yes, else 0. */
int ctl_confirm(const char *question);

/* The `importance` op's answer for sweep into *out (the caller's): its
 * object, or a string saying why the daemon gave none (an error reply:
 * the caller goes on without it). Returns 0 or an exit code. */
int ctl_fetch_importance(struct ctl *c, long long sweep, cJSON **out);

/* Reads one more JSON object line from the connection (watch events).
 * Returns 0 with *msg (the caller's), or an exit code after a message. */
int ctl_read(struct ctl *c, cJSON **msg, char **line, size_t *len);

/* Parses a positive integer (what names it in the message: "sweep id").
 * Returns 0, or CTL_EXIT_USAGE after `sweepctl: sweep id must be a
 * positive integer, got "abc"`. */
int ctl_parse_id(const char *s, const char *what, long long *out);

#endif
