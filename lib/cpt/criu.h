/* Checkpoint and restore of a CT's whole process tree (with its pid, mount,
 * uts, ipc, net and cgroup namespaces) by the criu binary (vz.conf CRIU).
 *
 * Why the binary and not libcriu/RPC: the binary is what `criu check` and
 * scripts/install-criu verify (a private Debian 13 build run through its own
 * loader), it needs no service socket, and its log file is the one place an
 * admin looks when a dump fails. Every option is on one command line that
 * the log repeats.
 *
 * A dump is a CRIU image directory plus nvz-cpt.conf (written last, so its
 * presence marks a complete dump) with what restore must re-create outside
 * the images: the console key and the external mounts. */
#ifndef NVZ_CPT_CRIU_H
#define NVZ_CPT_CRIU_H

#include <stdbool.h>
#include <sys/types.h>

#include "nvz/error.h"

#define NVZ_CRIU_DEFAULT "/opt/nvz/criu/criu"
#define NVZ_CPT_META "nvz-cpt.conf"
/* The CT's unsaved live settings at dump time (RUNDIR/<id>/resources.live) */
#define NVZ_CPT_LIVE "nvz-live.conf"

typedef int (*nvz_cpt_post_dump_fn)(void *arg, struct nvz_error **err);

struct nvz_cpt_dump_spec {
	const char *criu;    /* criu binary */
	const char *dir;     /* image directory: created here, must not exist */
	const char *root;    /* VE_ROOT as the host sees it */
	pid_t init_pid;      /* the CT's init, as the host sees it */
	const char *freezer; /* the CT's freezer cgroup directory, or NULL (ptrace freeze) */
	const char *ips;     /* routed addresses the CT has now, kept for restore */
	const char *cgroup_root; /* "/<prefix>/<id>" */
	int cgroup_version;      /* its version here (1, 2): a restore needs the same */
	bool isolated;       /* no venet0, no NETIF: nothing outside reaches its netns */
	bool net_from_config; /* its netns holds only what nvz makes from its config:
			       * left out of the images, made again at restore */
	/* Post-copy (lazy.c): > 0 keeps the memory out of the images; criu
	 * serves it on 127.0.0.1:lazy_port after writing them and kills the
	 * tree only once a lazy-pages daemon has fetched it all. Its pid goes
	 * to *lazy_pid and nvz_cpt_dump returns as soon as it listens. */
	int lazy_port;
	pid_t *lazy_pid;
	/* Iterative pre-copy (criu pre-dump --track-mem rounds in dir before
	 * this dump): the last round's images, relative to dir (criu wants it
	 * so, and links dir/parent to it). dir exists then; only the pages
	 * dirtied since that round are written (--track-mem). */
	const char *prev;
	const char *rundir; /* RUNDIR: where a pure v2 host's cgroup yard goes */
	/* What the CT was set to without --save (a config's text), or NULL:
	 * kept in the dump as NVZ_CPT_LIVE, as OpenVZ's dump kept the
	 * beancounters the CT ran with. */
	const char *live_conf;
	const char *netif; /* the NETIF the CT has now, kept for restore */
	double uptime;	   /* seconds the CT has run (vzlist's uptime), kept for restore */
	bool nesting;	   /* FEATURES nesting:on: its processes may make namespaces */
	/* post_dump (its arg) runs while the tree is still frozen and every
	 * image written, this file's own included (hook.c); if it fails, so
	 * does the dump, and the tree runs on as if nothing had been done.
	 * Then criu kills the tree (a live migration: the copy restored on
	 * the target), or, leave_running (a snapshot with the memory), lets
	 * it run on. */
	bool leave_running;
	nvz_cpt_post_dump_fn post_dump;
	void *post_dump_arg;
};

/* The post-dump handshake (hook.c): open makes the FIFOs in the dump
 * directory before criu runs; wait reaps criu, running fn once if criu's
 * action script asks (its result is what wait returns); close removes the
 * FIFOs. post_dump is the script's side: 0 if vzctl did its part. */
struct nvz_cpt_hook {
	int go;
	char *dir;
};
int nvz_cpt_hook_open(struct nvz_cpt_hook *h, const char *dir, struct nvz_error **err);
int nvz_cpt_hook_wait(struct nvz_cpt_hook *h, pid_t criu, nvz_cpt_post_dump_fn fn, void *arg, int *status,
		      struct nvz_error **err);
void nvz_cpt_hook_close(struct nvz_cpt_hook *h);
/* The script's side: 0 if vzctl's part succeeded. waiter > 0 (its pid):
 * wait for it as long as it lives; else at most HOOK_WAIT_MS. */
int nvz_cpt_hook_post_dump(const char *dir, pid_t waiter);
#define NVZ_CPT_HOOK_ENV "NVZ_CPT_HOOK_DIR"
#define NVZ_CPT_HOOK_WAITER_ENV "NVZ_CPT_HOOK_WAITER"

/* Can the kernel track dirty pages (soft-dirty), as `criu check --feature
 * mem_dirty_track` says? Asked once per process and criu binary. */
bool nvz_cpt_mem_track(const char *criu);

/* One pre-dump round: the tree is frozen only while criu drains its memory
 * into pipes, then runs on while the pages are written to dir (created
 * here, must not exist) and the soft-dirty bits cleared. prev: the round
 * before, relative to dir (NULL for the first). On failure dir is removed. */
struct nvz_cpt_predump_spec {
	const char *criu, *dir, *prev, *root, *freezer;
	pid_t init_pid;
	const char *failed_log; /* where criu's log is kept if it fails */
};
int nvz_cpt_predump(const struct nvz_cpt_predump_spec *s, struct nvz_error **err);

/* Freeze, dump and kill the tree. On failure the tree keeps running (criu
 * thaws it) and dir is removed; the error names criu's log. */
int nvz_cpt_dump(const struct nvz_cpt_dump_spec *s, struct nvz_error **err);

struct nvz_cpt_restore_spec {
	const char *criu;
	const char *dir;         /* a complete dump (nvz_cpt_dump); never written to */
	const char *workdir;     /* criu's log, pidfile and statistics go here */
	const char *root;        /* VE_ROOT, mounted */
	int tty_fd;              /* new console pty slave (inherited by criu), or -1 */
	const char *console;     /* its path, bound on /dev/console */
	const char *bcfs_file;   /* the monitor's beancounter file, or NULL */
	const char *lxcfs_dir;   /* LXCFS_DIR */
	const char *empty_dir;   /* an empty directory, bound read-only over masked /proc dirs */
	const char *cgfs_dir;    /* made from the dump's CGFS, bound on /sys/fs/cgroup (cgfs.c) */
	const char *tmpfs_dir;   /* the dump's TMPFS mounts are made below (tmpfs.h) */
	const char *cgroup_root; /* "/<prefix>/<id>": the CT's cgroup, created with its limits */
	char *const *veth_pairs; /* criu --veth-pair values "ct_if=host_if", NULL-terminated */
	int netns_fd;            /* the CT's network namespace nvz made (criu runs in it), or -1 */
	bool lazy;               /* local post-copy: criu lazy-pages listens in workdir */
	const char *criu_run;    /* criu's own /run, a tmpfs (nvz_cpt_kdat_run), or NULL */
	const char *rundir;      /* RUNDIR: where a pure v2 host's cgroup yard goes */
};

/* lazy.c: post-copy. A free TCP port on the loopback (for the page
 * server); criu lazy-pages for dir, fetching from 127.0.0.1:port and
 * serving the restore through workdir/lazy-pages.socket, started and
 * listening (its pid); was dir dumped with lazy_port (LAZY in its meta)? */
int nvz_cpt_lazy_port(struct nvz_error **err);
/* Until fd is readable (1), criu (our child) exits (0, *status set, left
 * unreaped) or timeout_ms (-1: none) passes (0, *status untouched). */
int nvz_cpt_lazy_watch(int fd, pid_t criu, int timeout_ms, int *status);
/* Can criu serve pages here (pipe sizes, see lazy.c)? */
int nvz_cpt_lazy_check(struct nvz_error **err);
pid_t nvz_cpt_lazy_daemon(const char *criu, const char *dir, const char *workdir, int port,
			  const char *run, struct nvz_error **err);
/* criu lazy-pages for a local post-copy restore of dir: the pages from its
 * images, no page server; returns at once (*ready_fd: see spawn_status). */
pid_t nvz_cpt_lazy_local(const char *criu, const char *dir, const char *workdir, const char *run,
			 int *ready_fd, struct nvz_error **err);
/* Bytes of memory pages in dir's images (pages-*.img). */
unsigned long long nvz_cpt_dump_pages(const char *dir);
bool nvz_cpt_dump_lazy(const char *dir);
/* Start criu (argv) with a --status-fd: its pid, and the pipe's read end
 * in *ready_fd, readable (a byte) once criu is ready, EOF if it exited.
 * run: as criu_run above. */
pid_t nvz_cpt_spawn_status(char *const *argv, int netns, const char *run, int *ready_fd,
			   struct nvz_error **err);
int nvz_cpt_wait_ready(int fd);
/* While a post-copy restore runs (migrate-lazy.c): a process that kills
 * the CT's criu restore if the daemon exits (or session, if >= 0, speaks
 * or hangs up); unwatch ends it. */
struct nvz_ct;
pid_t nvz_cpt_lazy_watch_restore(const struct nvz_ct *ct, pid_t daemon, int session);
void nvz_cpt_lazy_unwatch(pid_t watcher);
/* Start criu (argv) keeping its --status-fd; wait until it says it is
 * ready (0) or exits (-1, its status in *status). */
int nvz_cpt_spawn_ready(char *const *argv, int netns, const char *run, pid_t *pid, int *status,
			struct nvz_error **err);

/* criu's kernel probe kept between runs where /run is not a tmpfs (kdat.c):
 * the tmpfs RUNDIR/criu-run, mounted on first use, to give criu as its /run
 * (criu_run), or NULL where /run is a tmpfs or it cannot be had. */
char *nvz_cpt_kdat_run(const char *rundir);
/* In criu's child before exec: run becomes its /run in a mount namespace
 * of its own, with the host's /run entries bound into it. */
void nvz_cpt_kdat_enter(const char *run);

/* Is dir a complete nvz dump, made under cgroup_version (1, 2; 0: any)?
 * criu cannot restore a tree into the other cgroup version. */
int nvz_cpt_dump_check(const char *dir, int cgroup_version, struct nvz_error **err);
/* The dump in dir made restorable where criu gave a process's exe the file
 * entry of an O_PATH descriptor of the same file (exefix.c). */
int nvz_cpt_exe_fix(const char *dir, struct nvz_error **err);
/* Start `criu restore --restore-detached`; returns criu's pid. The restored
 * init is reparented to the nearest subreaper when criu exits. */
pid_t nvz_cpt_restore_spawn(const struct nvz_cpt_restore_spec *s, struct nvz_error **err);
/* The host-side mounts criu binds into the CT (cgfs_dir, tmpfs_dir) made
 * from the dump, before nvz_cpt_restore_spawn. */
int nvz_cpt_restore_mounts(const struct nvz_cpt_restore_spec *s, struct nvz_error **err);
/* A post-copy restore that failed because the lazy-pages daemon did not
 * listen yet: criu stopped before it restored anything, so it can simply
 * run again once the daemon is ready. */
bool nvz_cpt_restore_met_no_daemon(const struct nvz_cpt_restore_spec *s);
/* After criu exited with status: the restored init's pid (host view). */
pid_t nvz_cpt_restore_finish(const struct nvz_cpt_restore_spec *s, int status,
			     struct nvz_error **err);
/* The cgroups below the CT's own ("/<prefix>/<id>") in every hierarchy:
 * saved to file at dump, made again before restore (cgtree.c). */
#define NVZ_CPT_CGROUPS "nvz-cgroups.list"
/* And which cgroup below the CT's each process (by its pid inside the CT)
 * was in: criu, told to restore under another root (another CGROUP_PREFIX),
 * puts every process in the new root; nvz_cpt_cgroups_move puts them back
 * where they were. Returns how many it moved. */
#define NVZ_CPT_CGROUP_PROCS "nvz-cgroup-procs.list"
int nvz_cpt_cgroups_save(const char *cgroot, const char *file, const char *procfile,
			 struct nvz_error **err);
int nvz_cpt_cgroups_restore(const char *cgroot, const char *file, struct nvz_error **err);
int nvz_cpt_cgroups_move(const char *cgroot, const char *procfile);

/* cgprops.c: on cgroup v2, each cgroup's subtree_control and the limits
 * set below the CT's own cgroup, which criu does not carry: saved at dump
 * (from the CT's v2 directory cgdir), written back at restore by criu's
 * action script, NVZ_CPT_ACTION (src/nvz-criu-action.c), at
 * post-setup-namespaces. apply tries every line; err keeps the first
 * failure. The CT's v2 directory for cgroot: buf, or NULL without cgroup2. */
#define NVZ_CPT_CGPROPS "nvz-cgroup-props.list"
#define NVZ_CPT_ACTION "nvz-criu-action"
int nvz_cpt_cgprops_save(const char *cgdir, const char *file, struct nvz_error **err);
int nvz_cpt_cgprops_apply(const char *cgdir, const char *file, struct nvz_error **err);
const char *nvz_cpt_cgprops_dir(const char *cgroot, char *buf, size_t len);
/* At dump: the list into dir, where cgroup2 has the CT's cgroup. */
int nvz_cpt_cgprops_dump(const char *cgroot, const char *dir, struct nvz_error **err);
/* At restore from dir: 1 with the action script's path in script and the
 * environment it needs in *env (malloc'd), 0 when there is nothing to do. */
int nvz_cpt_cgprops_action(const char *dir, const char *cgroot, const char *workdir,
			   char *script, size_t len, char ***env, struct nvz_error **err);
/* What the action script could not write back (its first line, malloc'd),
 * or NULL. */
char *nvz_cpt_cgprops_failure(const char *workdir);

/* Was the CT's network namespace left out of the dump (NETNS="nvz" in the
 * dump's meta file; criu ran inside it)? nvz makes it at restore. */
bool nvz_cpt_dump_own_net(const char *dir);
/* cgfs.c: the names in the CT's /sys/fs/cgroup tmpfs ("dir" or
 * "alias>target", space separated; malloc'd), NULL if it holds anything
 * else; and a read-only tmpfs at dir made from such a list. */
#define NVZ_CPT_CGFS_KEY "nvz-cgfs"
char *nvz_cpt_cgfs_list(pid_t pid);
int nvz_cpt_cgfs_make(const char *dir, const char *list, struct nvz_error **err);
/* Detach and remove what nvz_cpt_cgfs_make mounted (once criu is done). */
void nvz_cpt_cgfs_release(const char *dir);
/* cgyard.c: the directory criu takes as its cgroup yard instead of
 * mounting every hierarchy again: the host's /sys/fs/cgroup where each
 * hierarchy is mounted there whole (hybrid), RUNDIR/cgyard with a bind of
 * the host's cgroup2 in it (pure v2), else NULL. A static buffer. */
const char *nvz_cpt_cgroup_yard(const char *rundir);
/* The CT's pid counter at dump time (NS_LAST_PID), 0 if not recorded
 * (a dump of an older nvz). */
int nvz_cpt_dump_last_pid(const char *dir);
/* IPS recorded at dump time (malloc'd), or NULL. */
char *nvz_cpt_dump_ips(const char *dir);
/* The NETIF the CT had when dumped (malloc'd, "" for none), or NULL if the
 * dump does not say (an older nvz's: its config's then). */
char *nvz_cpt_dump_netif(const char *dir);
/* The seconds the CT had run when dumped; 0 if the dump does not say. */
double nvz_cpt_dump_uptime(const char *dir);

/* cpucaps.c: live migration's checks of the target. The source's CPU
 * features as criu records them (hex, malloc'd), checked on the target
 * against its own (NVZ_MIG_UNSUP_CPU if one is missing). */
char *nvz_cpu_caps_dump(const char *criu, const char *rundir, struct nvz_error **err);
int nvz_cpu_caps_check(const char *criu, const char *rundir, const char *hex,
		       struct nvz_error **err);
bool nvz_ipv6_enabled(void);
bool nvz_ips_have_ipv6(const char *ips);

#endif
