/*
 * exec_main.c: sweepd-exec, the exec wrapper of limited trials alone
 * (daemon/proc/exectrial.h), linked against libc only.
 */
#include "daemon/proc/exectrial.h"

int
main(int argc, char **argv)
{
	return exectrial_main(argc, argv);
}
