/* The small monitor (vzmon): what a CT's monitor does once init runs, in a
 * process of its own image. The full monitor (a fork of vzctl, monitor.c)
 * creates init, then execs vzmon with its state as descriptors and numbers
 * (nvz_monwait_exec); vzmon waits for init with nothing else mapped but a
 * small static binary: it reaps init, drains the console (or lends it to
 * `vzctl console`), answers /run/user_beancounters' FUSE requests itself,
 * and when init is gone hands the after-exit work (cleanup, restart on
 * reboot, unmount) back to vzctl by exec'ing it again (`monitor-exit`). */
#ifndef NVZ_CT_MONWAIT_H
#define NVZ_CT_MONWAIT_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "nvz/ct.h"
#include "nvz/error.h"

struct nvz_monwait {
	unsigned long veid;
	pid_t init_pid;  /* the monitor's child */
	int master;      /* console pty master */
	int slave;       /* kept open: the master never sees a hangup */
	int logfd;       /* RUNDIR/<id>/console.log, or -1 */
	int listen_fd;   /* `vzctl console` socket, or -1 */
	int bc_fd;       /* the beancounters' FUSE device (INIT done), or -1 */
	int exe_fd;      /* vzctl, O_PATH: exec'd for the after-exit work */
	time_t bc_mounted_at;
	char rundir[256]; /* RUNDIR/<id>: state, and the beancounters at bc/ */
	char lockpath[256]; /* LOCKDIR/<id>.lck, or empty */
	pid_t monitor_pid; /* what MONITOR_PID names: the hub, or 0 for us */
	int token;         /* the hub's monitor lock, kept by vzctl monitor-exit; -1 */
};

/* In the full monitor, once init runs: exec the small monitor with m's
 * state. Returns only if that is impossible (no vzmon installed, exec
 * failed); the caller then carries on itself. */
int nvz_monwait_exec(const struct nvz_monwait *m, struct nvz_error **err);
/* In vzmon: parse what nvz_monwait_exec passed (argv after argv[0]). */
int nvz_monwait_parse(int argc, char **argv, struct nvz_monwait *m, struct nvz_error **err);
/* In vzmon: serve the CT until init exits; returns its wait status (or -1),
 * with the beancounter file system unmounted. */
int nvz_monwait_run(const struct nvz_monwait *m);
/* Does the CT's state still name this init and monitor (m->monitor_pid,
 * else the caller)? A command that ended the CT removed it. */
bool nvz_monwait_still_ours(const struct nvz_monwait *m);
/* Is the CT's lock held (by a command ending the CT)? Tested, not taken. */
bool nvz_monwait_lock_held(const struct nvz_monwait *m);
/* In vzmon, last: exec vzctl (m->exe_fd) for the after-exit work, unless
 * the command that ended init (vzctl stop, restart, chkpnt: it holds the
 * CT's lock, cleans up and waits for our exit) is handling it. Returns when
 * there is nothing to do, or on failure. */
void nvz_monwait_exec_exit(const struct nvz_monwait *m, int status);
/* The same exec without the look at the state and the lock (vzctl
 * monitor-exit makes it again, under the lock), in two halves: the
 * arguments made before a fork, the exec in the child, which then calls
 * nothing that allocates (the hub has threads). Returns on failure. */
struct nvz_monwait_exit_args {
	char id[32], pid[32], status[32], token[32];
	char *argv[8];
};
void nvz_monwait_exit_args(const struct nvz_monwait *m, int status, struct nvz_monwait_exit_args *a);
void nvz_monwait_exec_exit_now(const struct nvz_monwait *m, struct nvz_monwait_exit_args *a);

/* The raw FUSE side of vzmon (bcfs-raw.c). */
struct nvz_bcraw;
struct nvz_bcraw *nvz_bcraw_new(const struct nvz_monwait *m);
/* Answer the requests waiting on the device; -1 once it is unmounted. */
int nvz_bcraw_process(struct nvz_bcraw *b);
void nvz_bcraw_free(struct nvz_bcraw *b);
/* Each table made by the caller itself, not by a forked child: the hub
 * (threads) calls it once, before any. */
void nvz_bcraw_table_here(void);
/* Was a table made here since the last call (its heap worth a trim)? */
bool nvz_bcraw_table_made(void);

/* vzctl's side of the hand-back: with the CT's lock, as the full monitor
 * did after init's exit (cleanup, restart on reboot, unmount). token: the
 * hub's monitor lock on the CT (hub.h), closed once the CT is cleaned up,
 * or -1. */
void nvz_monitor_after_exit(struct nvz_ct *ct, pid_t pid, int status, int token);

/* Read what the CT's console wrote and append it to logfd (full monitor
 * and vzmon alike). */
void nvz_console_drain(int master, int logfd);

#endif
