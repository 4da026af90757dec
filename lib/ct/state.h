/* Runtime state of a CT: RUNDIR/<id>/state, written atomically. It names
 * the CT's init and monitor once they run; before that (a start applies the
 * resources first) it may hold the resources alone: the file alone does not
 * mean the CT runs, a live INIT_PID does. */
#ifndef NVZ_CT_STATE_H
#define NVZ_CT_STATE_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "nvz/config.h"
#include "nvz/ct.h"

struct nvz_runstate {
	pid_t init_pid;
	unsigned long long init_start; /* /proc/<pid>/stat starttime: guards PID reuse */
	pid_t monitor_pid;
	unsigned long long monitor_start;
	/* The limits of the vzctl that started the CT, for the restart after
	 * a reboot inside (done by the hub, whose own limits are not the
	 * user's); has_limits false: the restart keeps its own. In the state
	 * rather than a file of their own: each file is a page of a tmpfs
	 * /run per running CT. */
	bool has_limits;
	struct rlimit limits[RLIM_NLIMITS];
};

/* Start time of pid, 0 if it does not exist. */
unsigned long long nvz_proc_starttime(pid_t pid);
bool nvz_proc_alive(pid_t pid, unsigned long long start);
/* The wait status of pid, a zombie started at start (field 52 of its
 * /proc stat, which its parent's wait(2) would return), or -1: not a
 * zombie (running, or already reaped). */
int nvz_proc_zombie_status(pid_t pid, unsigned long long start);
int nvz_runstate_read(const struct nvz_ct *ct, struct nvz_runstate *rs);
int nvz_runstate_write(const struct nvz_ct *ct, const struct nvz_runstate *rs,
		       struct nvz_error **err);
/* The resources applied to the running CT (the beancounters' barrier:limit
 * and CPUUNITS, as KEY="value"), written into the state beside the
 * processes: one file rather than two, each a page of a tmpfs /run.
 * fresh: a start or restore, not a live change. */
int nvz_runstate_write_applied(const struct nvz_ct *ct, const struct nvz_conf *applied,
			       bool fresh, struct nvz_error **err);
/* What was applied: the state (with other keys besides), or an older nvz's
 * RUNDIR/<id>/resources if the state has none. *out NULL if neither
 * exists. */
int nvz_runstate_read_applied(const struct nvz_ct *ct, struct nvz_conf **out,
			      struct nvz_error **err);
/* A start that failed: the state it began (the resources are applied before
 * init runs) and a restore's live values go, and the run directory if
 * nothing else is in it. */
void nvz_runstate_forget(const struct nvz_ct *ct);
/* For the clone of a CT's init: no state update is under way from the
 * hold to the release (state.c says why). */
void nvz_runstate_updates_hold(void);
void nvz_runstate_updates_release(void);
/* The state naming this init and monitor, with the CT's start limits
 * (ct->start_rlimits), if it has them. */
void nvz_runstate_make(const struct nvz_ct *ct, pid_t init_pid, pid_t monitor_pid,
		       struct nvz_runstate *rs);
void nvz_runstate_remove(const struct nvz_ct *ct);
/* A restored CT's uptime goes on from its dump's (OpenVZ kept it across
 * checkpoints and migration): base, the seconds it had run, is added to
 * its new init's age (RUNDIR/<id>/uptime; base 0 removes it). */
int nvz_ct_uptime_restored(const struct nvz_ct *ct, double base, struct nvz_error **err);
/* pidfd of the CT's init if it is running, else -1. */
int nvz_ct_init_pidfd(struct nvz_ct *ct, pid_t *pid);

#endif
