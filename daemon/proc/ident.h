/*
 * ident.h: how sweepd tells its trainers' processes from any other.
 *
 * Every trainer's environment carries IDENT_ENV=DEV:INO:ID (the state
 * dir's device and inode, the trial id), which its descendants inherit
 * (reaper.c reads it); and a process is its trainer, not a later one with
 * the same pid, when its start time in /proc/PID/stat matches the one
 * stored (trial_proc_start). Pure: no loop, no daemon state.
 */
#ifndef SWEEPD_PROC_IDENT_H
#define SWEEPD_PROC_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define IDENT_ENV "SWEEPD_TRIAL"

/* Reads /proc/PID/stat into buf; returns where field 3 starts (just past
 * the command name's closing ')', so fields are one space apart from
 * there), or NULL when there is no such process. */
const char *ident_proc_stat(int pid, char *buf, size_t len);

/* CLOCK_BOOTTIME in the unit and the rounding of /proc/PID/stat's
 * starttime (field 22: clock ticks since boot, sysconf(_SC_CLK_TCK) to
 * the second, rounded down), which the kernel takes from the same clock
 * as it makes the process: a clone between two calls that return the
 * same value made a process whose starttime is that value. -1 when the
 * clock cannot be read. */
int64_t ident_boot_ticks(void);

/* The value of IDENT_ENV for trial_id of the state dir whose "DEV:INO" is
 * key: "key:trial_id". */
void ident_trial_mark(const char *key, int64_t trial_id, char *buf,
		      size_t len);

#endif
