/*
 * cmdcheck: what can be checked of an external trainer before any trial
 * runs it, so that a sweep that cannot work is refused at submit instead
 * of failing trial by trial (docs/spec.md, "trainer").
 *
 * sweepctl runs it before sending a spec (with its own PATH) and sweepd
 * again at submit (with the PATH its trainers get), so that a client on the
 * raw socket is told too.
 */
#ifndef SWEEPD_COMMON_CMDCHECK_H
#define SWEEPD_COMMON_CMDCHECK_H

#include <stddef.h>

#include <cJSON.h>

/*
 * Checks trainer (the spec's "trainer" object, borrowed) when it has a
 * "command" array; anything of the wrong shape is left to the spec
 * validator (0). In order:
 *  - trainer.cwd, when given, is an existing directory we may enter;
 *  - command[0] is an executable file: a name with a '/' relative to cwd
 *    (or absolute), else found on trainer.env.PATH when the spec sets one,
 *    else on this process's PATH (execvp's rule, "/bin:/usr/bin" without
 *    one);
 *  - every later argument that looks like a script (no leading '-', no '='
 *    or space, ending in .py .sh .R .jl .rb .pl .js .lua) exists relative
 *    to cwd.
 * cwd: trainer.cwd, else the current directory. Returns 0, or -ENOENT /
 * -ENOTDIR / -EACCES with err naming the field ("trainer.command[0]: ...",
 * "trainer.cwd: ..."), or -ENOMEM.
 */
int cmdcheck_trainer(const cJSON *trainer, char *err, size_t errlen);

#endif
