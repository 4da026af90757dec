/* vzctl monitor-exit <CTID> <init pid> <wait status>: not for people. The
 * small monitor (vzmon) execs vzctl with it once the CT's init has exited,
 * in its own process (same pid, which the state file names), to do what
 * needs the whole library: cleanup, restart after a reboot, unmount. */
#include <stdlib.h>

#include "ct/monwait.h"
#include "vzctl.h"

int cmd_monitor_exit(struct cmd_ctx *c)
{
	if (c->argc != 2)
		return cmd_bad_args("%s: expects <init pid> <wait status>", c->name);
	pid_t pid = (pid_t)atoi(c->argv[0]);
	if (pid <= 0)
		return cmd_bad_args("Bad init pid: %s", c->argv[0]);
	nvz_monitor_after_exit(c->ct, pid, atoi(c->argv[1]));
	return 0;
}
