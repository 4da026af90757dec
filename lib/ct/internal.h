/* Pieces of the life cycle shared between lib/ct files. */
#ifndef NVZ_CT_INTERNAL_H
#define NVZ_CT_INTERNAL_H

#include <stdint.h>

#include "linux/userns.h"
#include "nvz/cgroup.h"
#include "nvz/ct.h"
#include "nvz/res.h"
#include "nvz/storage.h"

/* The CT's cgroup: CGROUP_PREFIX/<id>. */
/* 1 and *map when the CT runs in its own user namespace (USERNS="yes"),
 * 0 when not, < 0 on a bad USERNS_MAP or no free default range. */
int nvz_ct_idmap(const struct nvz_ct *ct, struct nvz_idmap *map, struct nvz_error **err);
int nvz_ct_cgroup(const struct nvz_ct *ct, struct nvz_cgroup **cg, struct nvz_error **err);
/* The cgroup version the CT's cgroup has on this server (1, 2), 0 if unknown. */
int nvz_ct_cgroup_version(const struct nvz_ct *ct);
/* Is the CT suspended (its cgroup frozen: vzctl chkpnt --suspend, or a
 * command cut short)? criu must then take it through the freezer (seizing
 * frozen tasks one by one times out). nvz_ct_thaw lets a frozen one run
 * (cpt.c). */
bool nvz_ct_frozen(const struct nvz_ct *ct);
void nvz_ct_thaw(const struct nvz_ct *ct);
/* A checkpoint of a running CT into dir that leaves it running (snapshots
 * with the memory): post_dump(arg) runs while it is still frozen, every
 * image written; if it fails, nothing is kept and the CT runs on. */
typedef int (*nvz_ct_post_dump_fn)(void *arg, struct nvz_error **err);
int nvz_ct_chkpnt_live(struct nvz_ct *ct, const char *dir, nvz_ct_post_dump_fn post_dump, void *arg,
		       struct nvz_error **err);
/* chkpnt (after `rounds` pre-dump rounds, if > 0) whose post_dump(arg)
 * runs while the CT is frozen and the dump complete: if it fails, the
 * dump is dropped and the CT runs on from where it was frozen (criu's own
 * rollback: nothing restored); if it succeeds, the CT is killed and
 * stopped as by chkpnt. A live migration restores the copy on the target
 * in it. */
int nvz_ct_chkpnt_hold(struct nvz_ct *ct, int rounds, nvz_ct_post_dump_fn post_dump, void *arg,
		       struct nvz_error **err);
/* syncfs of the CT's mounted root (and its own layer): what it wrote is in
 * its private area's files (a ploop image's too) for a copy (snapshot.c). */
int nvz_ct_sync_mounted(const struct nvz_ct *ct, struct nvz_error **err);
/* OpenVZ's action scripts for event (premount, mount, umount, postumount,
 * create): CONF_DIR/vps.EVENT, then CONF_DIR/CTID.EVENT, those that exist
 * (actions.c). A failure: status 79. */
int nvz_ct_action_script(const struct nvz_ct *ct, const char *event, struct nvz_error **err);
/* CONF_DIR/CTID.EVENT (start, stop), if it exists: a host file run inside
 * the running CT by its /bin/sh, as OpenVZ's. A failure: status 79. */
int nvz_ct_inside_script(struct nvz_ct *ct, const char *event, struct nvz_error **err);
/* The events a CT's own scripts (CONF_DIR/CTID.EVENT) are for: what goes
 * with the CT when it is destroyed or migrated. */
#define NVZ_CT_SCRIPT_EVENTS 6
extern const char *const nvz_ct_script_events[NVZ_CT_SCRIPT_EVENTS];
/* Each of the CT's scripts renamed SCRIPT<suffix>: kept, never run again
 * for a new CT of the same ID. */
void nvz_ct_scripts_rename(const struct nvz_ct *ct, const char *suffix);
/* Remove the CT's scripts kept with that suffix (a new create, as vzctl). */
void nvz_ct_scripts_unlink(const struct nvz_ct *ct, const char *suffix);
/* Write hostname and DNS files into the CT tree (before start or live). */
int nvz_ct_setup_files(struct nvz_ct *ct, struct nvz_error **err);
/* A NETIF value as the CT uses it: parsed, missing host_ifname defaulted. */
struct nvz_netifs;
int nvz_ct_netifs(const struct nvz_ct *ct, const char *text, struct nvz_netifs *out, struct nvz_error **err);
/* I/O priority from IOPRIO for pid (0: the caller). */
/* IOPRIO as the kernel's ioprio value (best-effort class), and set on pid. */
int nvz_ct_ioprio(const struct nvz_ct *ct);
int nvz_ct_set_ioprio(const struct nvz_ct *ct, pid_t pid);
/* Capabilities a CT keeps (CAPABILITY key). */
int nvz_ct_caps(const struct nvz_ct *ct, uint64_t *keep, struct nvz_error **err);
/* FEATURES nesting:on: the seccomp filter lets it make namespaces. */
bool nvz_ct_nesting(const struct nvz_ct *ct);
/* Long-lived per-CT monitor: parent of init. It starts while vzctl writes
 * the limits and creates init only after a byte on go_fd; init gets exec_fd
 * (vzctl's exec pipe, see start.c). Never returns. */
__attribute__((noreturn)) void nvz_monitor_main(struct nvz_ct *ct, struct nvz_cgroup *cg,
						 int report_fd, int go_fd, int exec_fd,
						 const char *dumpdir);
/* The same start in a thread of the hub (hub.c), which it hands the CT to
 * over fd; returns once it has, or once the start failed (reported). The
 * descriptors stay the caller's to close, but for go_fd and exec_fd. */
void nvz_monitor_in_hub(struct nvz_ct *ct, struct nvz_cgroup *cg, int report_fd, int go_fd,
			int exec_fd, int fd);
/* A monitor that could not begin (the CT's config or cgroup): vzctl reads
 * this error on its report pipe. Frees err. */
void nvz_monitor_report_failure(int report_fd, struct nvz_error *err);
/* In the monitor: record init (and who monitors it: us, or the hub that
 * forked us) in the CT's state. */
int nvz_monitor_record(struct nvz_ct *ct, pid_t init_pid, struct nvz_error **err);
struct nvz_bcfs;
/* In the monitor, instead of creating init: restore it from dumpdir with
 * criu, in two halves. begin (as soon as the monitor has its console pty,
 * while vzctl mounts the root and writes the limits) makes the network
 * namespace with the CT's interfaces and the host-side mounts criu binds;
 * init (once root and limits are there) runs criu, serving bc (the
 * beancounter FUSE file criu binds) meanwhile; sigfd reports SIGCHLD. The
 * console pty slave (console, tty_fd) replaces the dumped one. init returns
 * the restored init (the monitor's child), its state recorded and its
 * host-side network re-created, or begin's error; cancel instead of init
 * undoes begin. Both take r. */
struct nvz_ct_restore;
struct nvz_ct_restore *nvz_ct_restore_begin(struct nvz_ct *ct, const char *dumpdir,
					    const char *console, int tty_fd, bool bc);
/* warning: what the CT came back without, for the admin ("" if nothing). */
pid_t nvz_ct_restore_init(struct nvz_ct *ct, struct nvz_ct_restore *r, int sigfd,
			  struct nvz_bcfs *bc, char *warning, size_t warning_len,
			  struct nvz_error **err);
void nvz_ct_restore_cancel(struct nvz_ct_restore *r);
/* After init is gone: remove the cgroup and runtime state. */
int nvz_ct_cleanup_stopped(struct nvz_ct *ct, struct nvz_error **err);
/* cpt-lazy.c: hold the CT in its freezer cgroup (criu's ptrace stop ends
 * with criu), then undo what a killed criu dump leaves on a CT that runs
 * on: TCP sockets in repair mode, its network locked (criu's nftables
 * table); and thaw it. */
void nvz_ct_lazy_hold(struct nvz_ct *ct);
void nvz_ct_lazy_unlock(struct nvz_ct *ct, pid_t init_pid);
/* A local post-copy restore (cpt-lazy.c): wanted for this dump? start its
 * criu lazy-pages daemon (and a watcher) before the restore; restored:
 * the restore returned (the watcher goes); stop: kill the daemon (the
 * restore failed); wait: until every page is in, or kill the CT. */
struct nvz_ct_lazy_local {
	pid_t daemon, watcher;
};
bool nvz_ct_lazy_wanted(const struct nvz_ct *ct, const char *dir, enum nvz_lazy opt);
int nvz_ct_lazy_local_start(struct nvz_ct *ct, const char *dir, struct nvz_ct_lazy_local *l,
			    struct nvz_error **err);
void nvz_ct_lazy_local_restored(struct nvz_ct *ct, struct nvz_ct_lazy_local *l);
void nvz_ct_lazy_local_stop(struct nvz_ct *ct, struct nvz_ct_lazy_local *l);
int nvz_ct_lazy_local_wait(struct nvz_ct *ct, const char *dir, struct nvz_ct_lazy_local *l,
			   struct nvz_error **err);
/* criu's own /run for its kernel-probe cache (nvz_cpt_kdat_run in
 * RUNDIR), or NULL; to be freed. */
char *nvz_ct_criu_run(const struct nvz_ct *ct);
/* The criu binary the CT's config names (CRIU), else nvz's own. */
const char *nvz_ct_criu_path(const struct nvz_ct *ct);
/* Start with the lock already held (used by start and by the monitor on reboot). */
int nvz_ct_start_locked(struct nvz_ct *ct, const struct nvz_start_opts *o, struct nvz_error **err);

/* Compute the CT's limits from its config overlaid with changes (may be
 * NULL), apply them to cg, record them in RUNDIR/<id>/state. */
int nvz_ct_apply_resources(struct nvz_ct *ct, const struct nvz_conf *changes,
			   struct nvz_cgroup *cg, struct nvz_error **err);
/* A restore from dumpdir: the config's limits overlaid with the values the
 * CT had been set to without --save when it was dumped (NVZ_CPT_LIVE),
 * which are its live values again, as after those sets. */
int nvz_ct_apply_resources_dumped(struct nvz_ct *ct, const char *dumpdir, struct nvz_cgroup *cg,
				  struct nvz_error **err);
/* RUNDIR/<id>/resources.live as a config's text, or NULL if the CT has no
 * unsaved live value. */
char *nvz_ct_live_text(const struct nvz_ct *ct);
/* A key's value with pending changes first, then the CT config, vz.conf. */
const char *nvz_ct_get_pending(const struct nvz_ct *ct, const struct nvz_conf *changes,
			       const char *key);
/* KEY of the runtime file RUNDIR/<id>/<file> (malloc'd), or NULL. */
char *nvz_ct_runtime_value(const struct nvz_ct *ct, const char *file, const char *key);
/* A simfs CT with DISK_QUOTA=no (changes first, as nvz_ct_get_pending):
 * no disk limits are applied to it, as OpenVZ ran no vzquota for it. */
bool nvz_ct_simfs_quota_off(const struct nvz_ct *ct, const struct nvz_conf *changes);
/* A simfs CT's DISKSPACE/DISKINODES put on its project (create, a migrated
 * CT's arrival); a host that cannot enforce them gets a warning. */
void nvz_ct_apply_disk_limits(struct nvz_ct *ct);

/* The CT's disk for its layout: private (NULL: VE_PRIVATE), VE_ROOT, no
 * template tree, limits from DISKSPACE/DISKINODES/QUOTATIME. On a parse
 * error the paths are still filled in (limits zero). */
int nvz_ct_disk(const struct nvz_ct *ct, const char *private, struct nvz_disk *d,
		struct nvz_error **err);

/* DEVNODES names ("net/tun"), NULL-terminated, malloc'd (nvz_strv_free). */
char **nvz_ct_devnode_names(const struct nvz_ct *ct, const struct nvz_conf *changes);
int nvz_ct_make_devnodes(struct nvz_ct *ct, char *const *names, struct nvz_error **err);

/* The addresses of ips the CT gets: with IPV6="no" (vz.conf or its
 * config), as vzctl, its IPv6 ones are left out (still saved). malloc'd,
 * NULL on ENOMEM. */
char *nvz_venet_ips(const struct nvz_ct *ct, const char *ips);
/* vzctl's "WARNING: IPv6 support is disabled" if that leaves any out. */
void nvz_venet_ipv6_warn(const struct nvz_ct *ct, const char *ips);
/* Routed (venet) networking of IP_ADDRESS: set up before init runs,
 * undone when the CT stops. */
int nvz_venet_start(struct nvz_ct *ct, pid_t init_pid, const char *ips, struct nvz_error **err);
void nvz_venet_stop(struct nvz_ct *ct);
/* After a restore: criu re-created the pair (host side hostif) and the CT
 * side's addresses and routes; redo the host side for ips. */
int nvz_venet_restored(struct nvz_ct *ct, const char *ips, struct nvz_error **err);
/* Restore into a network namespace nvz made (ct_ns): the CT sides of the
 * venet and NETIF pairs, their addresses and routes; host sides stay down
 * until nvz_venet_restored / nvz_veth_restored. */
int nvz_venet_prepare(struct nvz_ct *ct, int ct_ns, const char *ips, struct nvz_error **err);
int nvz_veth_prepare(struct nvz_ct *ct, int ct_ns, const char *netif, struct nvz_error **err);
/* "venet0=venet<id>" for criu --veth-pair (buf of IFNAMSIZ * 2 + 2). */
int nvz_venet_pair(const struct nvz_ct *ct, char *buf, size_t len);
/* After a restore: criu re-created each NETIF pair; put the host sides on
 * their bridges and up, and announce the CT's addresses. */
int nvz_veth_restored(struct nvz_ct *ct, pid_t init_pid, const char *netif, struct nvz_error **err);
/* Bridged (veth) networking of NETIF: set up before init runs; the pairs
 * vanish with the CT's network namespace. Messages are logged by vzctl. */
int nvz_veth_start(struct nvz_ct *ct, pid_t init_pid, const char *netif, struct nvz_error **err);
void nvz_veth_messages(const struct nvz_ct *ct);
/* vzctl start's words for the CPU and I/O values of the config ("Setting
 * CPU units: 1000"), said once the CT runs. */
void nvz_ct_start_messages(const struct nvz_ct *ct);
/* RUNDIR/<id>/layer: where a CT on a shared template has its own layer
 * mounted under the overlay (malloc'd; exists only for such CTs). */
char *nvz_ct_layer_dir(const struct nvz_ct *ct);
/* The network namespace of the CT's init, as an fd for lib/net. */
int nvz_ct_open_netns(pid_t pid, struct nvz_error **err);
/* NETDEV (netdev.c): the named host devices moved into the CT before init
 * runs (status 104 if one cannot be); nvz_netdev_hold opens the CT's
 * namespace when it has some (else -1) so that nvz_netdev_return can move
 * them back after init is gone. */
int nvz_netdev_start(struct nvz_ct *ct, pid_t init_pid, struct nvz_error **err);
int nvz_netdev_hold(struct nvz_ct *ct, pid_t init_pid);
void nvz_netdev_return(const struct nvz_ct *ct, int ct_ns);
/* The devices given back from the pinned namespace (a CT that powered
 * itself off), and the pin dropped: when the CT's runtime state goes. */
void nvz_netdev_release(const struct nvz_ct *ct);

#endif
