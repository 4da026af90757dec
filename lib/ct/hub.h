/* One monitor hub per server instead of a process per running CT.
 *
 * `vzctl start` asks the hub (vzhub, RUNDIR/hub.sock, started on demand) to run
 * its CT's monitor, in a thread of the hub (a restore's in a child it runs anew);
 * the monitor does what it always did (limits, launcher, init, the start's
 * handshake), then hands the CT's host side to the hub's main loop (console
 * pty, console log and socket, the beancounters' FUSE device) and ends. init
 * is the hub's child (from birth, or reparented to it, a child subreaper,
 * when a forked monitor exits); the hub reaps it and runs the after-exit
 * work (vzctl monitor-exit) as the small monitor (vzmon) does. A running CT
 * then costs the host its descriptors in one process instead of a process
 * of its own.
 *
 * While the hub serves a CT it holds RUNDIR/<id>/monitor.lock (flock), and
 * passes it on to the after-exit work: a command that ends init waits for
 * that lock where it waited for the per-CT monitor's exit. MONITOR_PID in
 * the state file names the hub. A hub that starts takes over the running
 * CTs of one that was killed (hub-adopt.c). Without a hub (it cannot start, or runs
 * another vzctl binary) the start forks its own monitor as before. */
#ifndef NVZ_CT_HUB_H
#define NVZ_CT_HUB_H

#include <stdbool.h>

#include "ct/monwait.h"
#include "nvz/ct.h"
#include "nvz/error.h"

/* vzctl start (and restore, from dumpdir): the hub runs this start's
 * monitor with these descriptors (start.c: monitor_fds). 0: it runs; -1:
 * no hub, the caller forks its own (*err says why, for the log). */
int nvz_hub_spawn_monitor(struct nvz_ct *ct, const char *dumpdir, int report, int go, int exec,
			  struct nvz_error **err);
/* Our limits to those of the vzctl that last started ct (LIMITS in its
 * state): a restart after a reboot inside keeps them, whoever runs it. */
void nvz_hub_take_start_limits(const struct nvz_ct *ct);

/* vzhub (src/vzhub.c): the hub on its listening socket, for the vzctl
 * binary open at vzctl_fd (the one it serves, and runs for each CT's
 * after-exit work). Returns its exit code once it has had nothing to
 * serve for a while. */
int nvz_hub_main(int listen_fd, int vzctl_fd);
/* vzhub --restore-monitor ...: a restore's monitor, which the hub runs
 * anew in a child (hub-start.c). Returns only on a bad call or request. */
int nvz_hub_restore_monitor_main(int argc, char **argv);

/* The vzctl binary, open O_PATH (close-on-exec): the one this hub serves,
 * else our own executable. For a monitor's small-monitor fallback. */
int nvz_hub_vzctl_open(void);

/* In a monitor the hub forked: its channel back to the hub (-1 in a
 * monitor vzctl forked). */
void nvz_monitor_set_hub(int fd);
/* Hand the CT over to the hub (monitor.c, once init runs): 0 when the hub
 * has it; the monitor then exits. */
struct nvz_monwait;
int nvz_hub_hand_over(int hub_fd, const struct nvz_monwait *m, int token);

/* The hub's own cgroup, CGROUP_PREFIX/NVZ_HUB_CGROUP (hub-cgroup.c): the
 * hub moves into it as it starts, out of the cgroup of the command that
 * started it, and removes it as it ends. NULL where it cannot. */
#define NVZ_HUB_CGROUP "hub"
struct nvz_cgroup;
struct nvz_cgroup *nvz_hub_cgroup_enter(void);
void nvz_hub_cgroup_leave(struct nvz_cgroup *cg);

/* A running CT whose monitor is gone (a killed hub), taken over by a new
 * hub (hub-adopt.c): the state names the new hub, which holds the token. */
struct nvz_hub_orphan {
	struct nvz_monwait m; /* no console: it went with the old monitor */
	unsigned long long init_start;
	int token; /* the monitor lock */
	int pidfd; /* init's, readable once it exits: it is not our child */
};
/* Each running CT of RUNDIR whose monitor is gone, handed to take(), which
 * owns o's descriptors from then on. Returns how many could not be taken
 * now (a command holds the CT's lock): worth another look later. */
int nvz_hub_adopt_orphans(void (*take)(void *arg, struct nvz_hub_orphan *o), void *arg);
/* Whether RUNDIR/<id>/state (read into *rs) names a running init and a
 * monitor gone. */
struct nvz_runstate;
bool nvz_ct_orphaned(const struct nvz_ct *ct, struct nvz_runstate *rs);
/* Once o's pidfd is readable: init's wait status while it is still a
 * zombie, else -1 (whoever inherited init reaped it: taken for a halt). */
int nvz_hub_orphan_status(const struct nvz_hub_orphan *o);

/* The CT's monitor lock, if a hub (or the work after init's exit) holds it
 * now: an fd to wait on, else -1. */
int nvz_ct_monitor_token(const struct nvz_ct *ct);
/* Create and take it (the monitor, before the state names the hub). */
int nvz_ct_monitor_token_take(const struct nvz_ct *ct, struct nvz_error **err);
/* Wait up to timeout_ms for its holder to let go; false on timeout. */
bool nvz_ct_monitor_token_wait(int fd, int timeout_ms);

#endif
