/* vzctl monitor-exit <CTID> <init pid> <wait status> [<lock fd>]: not for people. The
 * small monitor (vzmon) execs vzctl with it once the CT's init has exited,
 * in its own process (same pid, which the state file names), to do what
 * needs the whole library: cleanup, restart after a reboot, unmount. */
#include <fcntl.h>
#include <stdlib.h>

#include "ct/monwait.h"
#include "vzctl.h"

int cmd_monitor_exit(struct cmd_ctx *c)
{
	if (c->argc != 2 && c->argc != 3)
		return cmd_bad_args("%s: expects <init pid> <wait status> [<lock fd>]", c->name);
	pid_t pid = (pid_t)atoi(c->argv[0]);
	if (pid <= 0)
		return cmd_bad_args("Bad init pid: %s", c->argv[0]);
	/* From the hub: its monitor lock on the CT, which we hold until the
	 * CT is cleaned up (vzctl stop waits for it). */
	int token = c->argc == 3 ? atoi(c->argv[2]) : -1;
	if (token >= 0 && fcntl(token, F_SETFD, FD_CLOEXEC) < 0)
		token = -1;
	nvz_monitor_after_exit(c->ct, pid, atoi(c->argv[1]), token);
	return 0;
}
