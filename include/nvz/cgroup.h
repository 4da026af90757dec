/* One cgroup per container, behind a backend table chosen once (v1 or v2),
 * picked by where the controllers are, not by what is mounted. */
#ifndef NVZ_CGROUP_H
#define NVZ_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "nvz/error.h"
#include "nvz/res.h"

struct nvz_cgroup;

enum nvz_cgroup_version { NVZ_CGROUP_V1 = 1, NVZ_CGROUP_V2 = 2 };

/* Describe the cgroup <prefix>/<name> on this host (nothing is created).
 * prefix may contain '/', e.g. "nvz" or "nvz-test-123". */
int nvz_cgroup_open(struct nvz_cgroup **out, const char *prefix, const char *name,
		    struct nvz_error **err);
void nvz_cgroup_free(struct nvz_cgroup *cg);
enum nvz_cgroup_version nvz_cgroup_version(const struct nvz_cgroup *cg);

/* Create it in every hierarchy (v1: each controller and name=systemd). */
int nvz_cgroup_create(struct nvz_cgroup *cg, struct nvz_error **err);
/* An fd of its directory in the cgroup2 hierarchy (cgroup v2, or the
 * empty hybrid one on v1), for clone3(CLONE_INTO_CGROUP): a child born in
 * it, no move. -1 with errno ENOENT when it has no cgroup2 hierarchy. */
int nvz_cgroup_open_v2_dir(const struct nvz_cgroup *cg);
/* Move the calling thread into its v1 hierarchies (none on v2) by writing
 * 0 to their `tasks` files. The caller must be single-threaded: then the
 * thread is the whole process, and a thread moving itself does not take
 * the global cgroup_threadgroup_rwsem (Linux 5.17+), so no RCU grace period
 * is waited for, unlike a write to cgroup.procs. */
int nvz_cgroup_enter_v1_self(struct nvz_cgroup *cg, bool but_counting, struct nvz_error **err);
/* More v1 hierarchies than a kernel has controllers. */
#define NVZ_CGROUP_V1_MAX 16
/* The same `tasks` files, opened for writing (close-on-exec) into fds (at
 * most max): for a child that shares our memory until its exec and must
 * not allocate (killed inside malloc, it would leave our heap locked).
 * Returns how many, or -1 with errno (nothing left open). */
int nvz_cgroup_open_v1_tasks(const struct nvz_cgroup *cg, bool but_counting, int *fds, size_t max);
/* The hierarchy that counts its processes (pids: numproc), for a process
 * that joins it last and by itself (vzctl exec's command, so that its
 * helper never takes a process slot of the CT): its `tasks` file on v1
 * (*v2 false), its cgroup.procs on v2, opened for writing "0". */
int nvz_cgroup_open_counting(const struct nvz_cgroup *cg, bool *v2);
/* v2: the cgroup.procs of the cgroup pid is in, a leaf below this one
 * (a CT's systemd puts itself in init.scope), opened for writing "0".
 * -1 with errno ENOENT on v1, or where pid is not below it. */
int nvz_cgroup_open_leaf_of(const struct nvz_cgroup *cg, pid_t pid);
/* Move a process into it (all hierarchies); and out of it, into each of
 * its hierarchies' root. */
int nvz_cgroup_attach(struct nvz_cgroup *cg, pid_t pid, struct nvz_error **err);
int nvz_cgroup_leave(struct nvz_cgroup *cg, pid_t pid, struct nvz_error **err);
/* Does it exist at all / does it hold any process (recursively)? */
bool nvz_cgroup_exists(const struct nvz_cgroup *cg);
int nvz_cgroup_nr_procs(const struct nvz_cgroup *cg, struct nvz_error **err);
/* Freeze (or thaw) every process in it, and wait until the kernel says so
 * (v1: freezer.state, v2: cgroup.freeze and cgroup.events). A freeze that
 * does not settle in 2 s still holds: a task leaving a ptrace stop freezes
 * before it runs again; the error says it did not settle. */
int nvz_cgroup_freeze(struct nvz_cgroup *cg, bool frozen, struct nvz_error **err);
/* Is it frozen now (v1 freezer.state FROZEN, v2 cgroup.events "frozen 1")? */
bool nvz_cgroup_frozen(const struct nvz_cgroup *cg);
/* Its directory that freezes it all at once, for criu --freeze-cgroup:
 * the freezer hierarchy's on v1, the cgroup2 one on v2 (criu tells them
 * apart by cgroup.freeze). NULL when there is none, or it does not exist. */
char *nvz_cgroup_freezer_dir(const struct nvz_cgroup *cg);
/* SIGKILL every process in it, recursively (v2: cgroup.kill where present). */
int nvz_cgroup_kill(struct nvz_cgroup *cg, struct nvz_error **err);
/* Remove it and any child cgroups created inside; fails with EBUSY if
 * processes remain. Missing cgroup is not an error. */
int nvz_cgroup_destroy(struct nvz_cgroup *cg, struct nvz_error **err);

/* In the container's mount namespace, after its cgroup namespace was
 * entered: mount the cgroup filesystems under <root>/sys/fs/cgroup the way
 * an init expects (v1: tmpfs + one mount per hierarchy, controllers
 * read-only, name=systemd writable; v2: cgroup2 writable). */
int nvz_cgroup_mount_inside(const struct nvz_cgroup *cg, const char *root, struct nvz_error **err);

/* Write / read one interface file, e.g. ("pids", "pids.max", "100").
 * controller selects the v1 hierarchy; ignored on v2. */
int nvz_cgroup_write(struct nvz_cgroup *cg, const char *controller, const char *file,
		     const char *value, struct nvz_error **err);
int nvz_cgroup_read(const struct nvz_cgroup *cg, const char *controller, const char *file,
		    char **out, struct nvz_error **err);

/* Is this controller available to the CT's cgroup (v1: mounted hierarchy;
 * v2: listed in cgroup.controllers)? */
bool nvz_cgroup_has_controller(const struct nvz_cgroup *cg, const char *controller);

/* Apply every limit of l. Values the kernel refuses, or that need a
 * controller this host lacks, fail the whole call with a clear message and
 * every file already written is restored to the value it had before:
 * nothing is half-applied. Order keeps memory+swap >= memory at each step. */
int nvz_cgroup_set_limits(struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			  struct nvz_error **err);

/* Device access: deny all, then allow the standard nodes a CT always has
 * (null zero full random urandom tty console ptmx, pts devices) plus rules.
 * v1: devices.deny/allow; v2: a BPF_PROG_TYPE_CGROUP_DEVICE program. */
int nvz_cgroup_set_devices(struct nvz_cgroup *cg, const struct nvz_dev_rule *rules, size_t n,
			   struct nvz_error **err);

/* Live counters for the beancounter view, in the parameter's own unit. */
struct nvz_cgroup_counter {
	uint64_t held, maxheld, limit, failcnt;
	bool valid; /* false: this kernel/cgroup version has no such counter */
};
int nvz_cgroup_counters(const struct nvz_cgroup *cg, struct nvz_cgroup_counter out[UBC_COUNT],
			struct nvz_error **err);
/* RAM and swap together, from counters c: held and maxheld summed (the
 * peaks need not have come at once: maxheld is an upper bound), the
 * memory counter's failcnt. false without a memory counter. */
bool nvz_cgroup_ram_swap(const struct nvz_cgroup_counter c[UBC_COUNT],
			 struct nvz_cgroup_counter *out);

/* Does this backend enforce the limit of this beancounter on this host? The
 * others are recorded and shown but not enforced (v2 has no separate TCP
 * buffer limit: socket memory is part of memory.max). */
bool nvz_cgroup_enforces(const struct nvz_cgroup *cg, enum nvz_ubc_id id);

#endif
