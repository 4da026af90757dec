/* Containers: IDs and names, their configuration, state and life cycle. */
#ifndef NVZ_CT_H
#define NVZ_CT_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "nvz/config.h"
#include "nvz/ctx.h"
#include "nvz/error.h"

#define NVZ_VEID_MAX 2147483644UL

struct nvz_ct {
	struct nvz_ctx *ctx;
	unsigned long veid;
	char id[24];
	char *conf_path;
	struct nvz_conf *conf; /* the CT's own file; empty if it does not exist */
	bool conf_exists;
	char *root;    /* VE_ROOT with $VEID substituted */
	char *private; /* VE_PRIVATE with $VEID substituted */
	char *rundir;  /* RUNDIR/<id>: runtime state */
	int lockfd;
	/* A local post-copy restore (nvz_ct_restore_opts): the read end of
	 * its criu lazy-pages daemon's status pipe, for the monitor (a fork
	 * of vzctl) to wait on before criu restore; -1 (or 0) otherwise. */
	int lazy_ready_fd;
	/* RLIM_NLIMITS limits of the vzctl that starts the CT, for its init
	 * (launcher.c); NULL: the starting process's own. */
	const struct rlimit *start_rlimits;
};

struct nvz_ct_state {
	bool exists;  /* private area present */
	bool mounted; /* VE_ROOT mounted */
	bool running; /* init alive */
	bool suspended; /* exists, not running, a dump in DUMPDIR */
	pid_t init_pid;
	pid_t monitor_pid;
	unsigned long long init_start; /* init's start, clock ticks after boot */
	double uptime_base; /* seconds it ran before this init: a restored CT's at its dump */
};

/* "101" or a name from names/: the numeric ID (status 21 on error). */
int nvz_ct_parse_id(const char *s, unsigned long *veid, struct nvz_error **err);
int nvz_ct_resolve(struct nvz_ctx *ctx, const char *arg, unsigned long *veid,
		   struct nvz_error **err);
int nvz_ct_open(struct nvz_ctx *ctx, unsigned long veid, struct nvz_ct **out,
		struct nvz_error **err);
void nvz_ct_free(struct nvz_ct *ct);
/* Effective value: CT file, then vz.conf, then def. */
const char *nvz_ct_get(const struct nvz_ct *ct, const char *key, const char *def);
int nvz_ct_lock(struct nvz_ct *ct, struct nvz_error **err);
void nvz_ct_unlock(struct nvz_ct *ct);
int nvz_ct_save(struct nvz_ct *ct, struct nvz_error **err);
/* Recompute root/private after VE_ROOT/VE_PRIVATE changed. */
int nvz_ct_refresh_paths(struct nvz_ct *ct, struct nvz_error **err);
int nvz_ct_get_state(struct nvz_ct *ct, struct nvz_ct_state *st, struct nvz_error **err);
/* Seconds since the init of a running CT started (vzlist's uptime), or
 * -1 if the CT is not running. */
double nvz_ct_uptime(const struct nvz_ct_state *st);
/* A CT that runs without its monitor (the hub was killed): the server's
 * hub, started if there is none, takes it over (and every other such CT)
 * before this returns, unless a command holds its lock. 1: a hub did so;
 * 0: nothing to do (or MONITOR_HUB="no" and no hub runs); -1: error. */
int nvz_ct_adopt_if_orphaned(struct nvz_ct *ct, struct nvz_error **err);
/* Every CT that has a config file, sorted by ID. */
int nvz_ct_list_ids(struct nvz_ctx *ctx, unsigned long **ids, size_t *n, struct nvz_error **err);
/* vzpid: which CT a host process belongs to ("0": the host's), found by
 * its cgroup under CGROUP_PREFIX (ctx NULL: "nvz"), and its pid there
 * (hostview.c). */
struct nvz_pid_info {
	pid_t pid, ct_pid;
	char ctid[24];
	char name[64];
};
int nvz_pid_info(struct nvz_ctx *ctx, pid_t pid, struct nvz_pid_info *out, struct nvz_error **err);
/* The CT id in a /proc/PID/cgroup text: the numeric directory right below
 * prefix; 0 if none. */
int nvz_cgroup_text_ctid(const char *text, const char *prefix, char *id, size_t len);
/* vzcpucheck: the CPU units of the host (VE0CPUUNITS) and of each running
 * CT (as applied), against the node's power (bogomips x 25, as OpenVZ). */
struct nvz_ct_units {
	unsigned long id, units;
};
struct nvz_cpucheck {
	unsigned long host_units, total;
	double power;
	struct nvz_ct_units *cts; /* malloc'd */
	size_t n;
};
int nvz_cpucheck(struct nvz_ctx *ctx, struct nvz_cpucheck *out, struct nvz_error **err);
double nvz_node_power(const char *cpuinfo);
/* vzsplit (split.c): what this server has, each CT's equal share of it,
 * that share as a config sample, and the sample saved as
 * ve-<name>.conf-sample (never over an existing one). */
struct nvz_split_host {
	unsigned long long ram, swap, procs, disk_kb, inodes; /* bytes, bytes, -, KiB, - */
	unsigned long long lowmem, threads; /* the header's: LowTotal (else MemTotal), threads-max */
	double power;
	bool swap_set; /* vzsplit -s: swap_given instead of the host's */
	unsigned long long swap_given;
};
struct nvz_split {
	unsigned long long ram, swap, numproc, disk_kb, inodes, cpuunits;
};
int nvz_split_host(struct nvz_ctx *ctx, struct nvz_split_host *h, struct nvz_error **err);
int nvz_split_compute(const struct nvz_split_host *h, unsigned long n, struct nvz_split *s,
		      struct nvz_error **err);
char *nvz_split_format(const struct nvz_split_host *h, unsigned long n, const struct nvz_split *s);
int nvz_split_save(struct nvz_ctx *ctx, const char *name, const char *text, char **path,
		   struct nvz_error **err);
/* Names: the names/<name> link to conf/<id>.conf. */
int nvz_ct_set_name(struct nvz_ct *ct, const char *name, struct nvz_error **err);
int nvz_ct_remove_name(struct nvz_ct *ct, struct nvz_error **err);

/* Life cycle. Each expects the caller to hold the CT lock (nvz_ct_lock). */
struct nvz_create_opts {
	const char *ostemplate;
	const char *config;   /* sample name: ve-<config>.conf-sample */
	const char *private;  /* override VE_PRIVATE */
	const char *root;     /* override VE_ROOT */
	const char *hostname;
	const char *name;
	const char *description;
	const char *layout;     /* VE_LAYOUT: simfs, ploop, simfs:shared, ploop:shared */
	const char *diskspace;  /* DISKSPACE soft[:hard] */
	const char *diskinodes; /* DISKINODES soft[:hard] */
	const char *ipadd;      /* IP_ADDRESS to add: addresses, space-separated */
	const char *local_uid;  /* LOCAL_UID / LOCAL_GID: OpenVZ's, kept (see ctid.conf(5)) */
	const char *local_gid;
};
int nvz_ct_create(struct nvz_ct *ct, const struct nvz_create_opts *o, struct nvz_error **err);
int nvz_ct_destroy(struct nvz_ct *ct, struct nvz_error **err);
int nvz_ct_mount(struct nvz_ct *ct, bool quiet_if_mounted, struct nvz_error **err);
int nvz_ct_umount(struct nvz_ct *ct, struct nvz_error **err);

struct nvz_start_opts {
	bool wait;  /* until init reached its default runlevel/target */
	bool force; /* start even if DISABLED=yes */
	const char *dumpdir; /* restore this checkpoint instead of booting (vzctl restore) */
};
int nvz_ct_start(struct nvz_ct *ct, const struct nvz_start_opts *o, struct nvz_error **err);
struct nvz_stop_opts {
	bool fast;        /* kill at once, no clean halt */
	bool skip_umount;
	bool quiet; /* no progress lines */
};
int nvz_ct_stop(struct nvz_ct *ct, const struct nvz_stop_opts *o, struct nvz_error **err);

/* Checkpoint/restore with CRIU. dumpfile NULL: DUMPDIR/Dump.<CTID>, a CRIU
 * image directory. chkpnt freezes, dumps and stops the CT (status 16 on
 * failure, the CT then keeps running); restore brings it back in fresh
 * namespaces with its cgroup limits, network and mounts, and removes the
 * dump (status 17 on failure, the dump then stays as it was). */
int nvz_ct_chkpnt(struct nvz_ct *ct, const char *dumpfile, struct nvz_error **err);
int nvz_ct_restore(struct nvz_ct *ct, const char *dumpfile, struct nvz_error **err);
/* vzctl chkpnt --suspend / --resume: every process of the running CT
 * frozen (cgroup freezer) until resumed; stop thaws a frozen CT. */
int nvz_ct_suspend(struct nvz_ct *ct, bool frozen, struct nvz_error **err);
/* vzctl restore --lazy / --no-lazy, or LAZY_RESTORE (yes, no, auto: the
 * default, post-copy when the dump holds at least NVZ_LAZY_AUTO_MIN of
 * pages). Post-copy: criu lazy-pages serves the memory from the dump's
 * images while the CT already runs; the restore returns (and the dump is
 * removed) once every page is in. If the daemon fails meanwhile, the CT
 * is killed and the dump kept (status 17). */
enum nvz_lazy { NVZ_LAZY_CONF, NVZ_LAZY_NO, NVZ_LAZY_YES };
#define NVZ_LAZY_AUTO_MIN (128ULL << 20)
struct nvz_restore_opts {
	const char *dumpfile;
	enum nvz_lazy lazy;
	bool keep_dump; /* a snapshot's: restored again at the next switch */
};
int nvz_ct_restore_opts(struct nvz_ct *ct, const struct nvz_restore_opts *o,
			struct nvz_error **err);
/* Post-copy (vzmigrate --online --lazy): the CT is frozen and dumped into
 * DUMPDIR/Dump.<CTID> without its memory, which criu keeps and serves on
 * 127.0.0.1:port. lazy_end waits until criu has given it all away (the
 * target's lazy-pages daemon took it; criu then killed the CT) and stops
 * the CT here; lazy_abort kills criu and removes the dump: true if the CT
 * runs on here as it was when frozen (its network unlocked), false if criu
 * had already killed it (then it is stopped here). */
struct nvz_ct_lazy {
	pid_t criu;
	pid_t init_pid, monitor_pid;
	unsigned long long init_start, monitor_start;
};
int nvz_ct_chkpnt_lazy(struct nvz_ct *ct, int port, struct nvz_ct_lazy *l, struct nvz_error **err);
int nvz_ct_chkpnt_lazy_end(struct nvz_ct *ct, struct nvz_ct_lazy *l, struct nvz_error **err);
bool nvz_ct_chkpnt_lazy_abort(struct nvz_ct *ct, struct nvz_ct_lazy *l);
/* Iterative pre-copy (vzmigrate --online, vzctl chkpnt --pre-dump): where
 * the kernel tracks dirty pages (predump_supported, criu's probe), rounds
 * of `criu pre-dump --track-mem` copy the memory of the running CT into
 * the dump directory (pre/<n>, *bytes: pages written); chkpnt_after then
 * freezes and dumps only what was dirtied since round `rounds`, the rest
 * read from the rounds' images at restore (which removes all of it).
 * predump_drop removes the dump directory, rounds and all. A failed
 * round leaves nothing; a failed chkpnt_after neither (the CT runs on). */
bool nvz_ct_predump_supported(const struct nvz_ct *ct);
int nvz_ct_predump(struct nvz_ct *ct, const char *dumpfile, int round, unsigned long long *bytes,
		   struct nvz_error **err);
int nvz_ct_chkpnt_after(struct nvz_ct *ct, const char *dumpfile, int rounds, struct nvz_error **err);
void nvz_ct_predump_drop(const struct nvz_ct *ct, const char *dumpfile);
/* Up to max rounds (at most NVZ_PREDUMP_MAX), each followed by copy (may
 * be NULL), until they stop shrinking (cpt-predump.c). Returns the rounds
 * made, 0 if none: not supported, or a round or its copy failed (said at
 * INFO level; nothing is left then and chkpnt is the plain one). */
#define NVZ_PREDUMP_MAX 4
struct nvz_predump_stats {
	int rounds;
	double secs[NVZ_PREDUMP_MAX];               /* each round with its copy */
	unsigned long long bytes[NVZ_PREDUMP_MAX];  /* pages each round wrote */
};
int nvz_ct_predump_rounds(struct nvz_ct *ct, const char *dumpfile, int max,
			  int (*copy)(void *data, struct nvz_error **err), void *data,
			  struct nvz_predump_stats *st);
/* DUMPDIR/Dump.<CTID> (malloc'd). */
char *nvz_ct_dump_path(const struct nvz_ct *ct);

/* Run argv inside the running CT (exec: via /bin/sh -c). Returns the exit
 * status of the command (>= 0) or < 0 with err. */
struct nvz_exec_opts {
	char *const *argv;
	/* vzctl's shell, the CT's /bin/bash (its /bin/sh where it has none):
	 * argv joined with spaces is its -c command line; an empty argv
	 * ({ NULL }), it reads the commands from stdin. */
	bool shell;
	bool pty;     /* interactive: allocate a pty in the CT and relay the terminal */
	const char *pty_input; /* with pty: typed into it before the caller's input */
	int stdin_fd, stdout_fd, stderr_fd;
	char *const *envp; /* NULL: a minimal default environment */
	/* nvz's own helpers inside the CT (the --wait probe): no privilege
	 * gained through setuid files. Not for the admin's commands, which
	 * must be able to run su, sudo or ping as on a real server. */
	bool no_new_privs;
};
int nvz_ct_exec(struct nvz_ct *ct, const struct nvz_exec_opts *o, struct nvz_error **err);

/* Run a host script with the CT's bash, else sh (running CT: like exec; stopped
 * CT: in its root and namespaces, without init). Returns its exit code. */
int nvz_ct_runscript(struct nvz_ct *ct, const char *path, struct nvz_error **err);

/* The CT console, taken from its monitor: *sock stays open while
 * attached (its close gives the console back). Returns the pty master. */
int nvz_ct_console_take(struct nvz_ct *ct, int *sock, struct nvz_error **err);
/* vzctl console: the caller's terminal on the CT's console until Esc . at
 * the start of a line (or the input's end). A CT that is not running is
 * waited for, and one that stops while attached is waited for again, so
 * that each boot is seen, as with OpenVZ's console. attached(arg) runs
 * once, when the waiting starts or the console of a running CT is had. */
int nvz_ct_console_attach(struct nvz_ct *ct, int in, int out, void (*attached)(void *), void *arg,
			  struct nvz_error **err);

/* --applyconfig: ve-<name>.conf-sample without the keys that identify or
 * describe a CT (HOSTNAME, IP_ADDRESS, OSTEMPLATE, DISTRIBUTION, VE_ROOT,
 * VE_PRIVATE, NAME, DESCRIPTION), as a config of its own; and merged into
 * the CT config with ORIGIN_SAMPLE=<name> (not saved). */
int nvz_ct_sample_load(const struct nvz_ct *ct, const char *name, struct nvz_conf **out,
		       struct nvz_error **err);
int nvz_ct_apply_sample(struct nvz_ct *ct, const char *name, struct nvz_error **err);
/* The CAPABILITY value cur with --capability's arg merged in (see
 * nvz_caps_merge); NULL with NVZ_E_VALUE on a bad arg. */
char *nvz_ct_merge_capability(const char *cur, const char *arg, struct nvz_error **err);

/* Live parts of `set`, applied to a running CT. */
int nvz_ct_apply_hostname(struct nvz_ct *ct, const char *hostname, struct nvz_error **err);
/* user:password, on the CT's own files (running or stopped); never saved. */
int nvz_ct_set_userpasswd(struct nvz_ct *ct, const char *userpass, struct nvz_error **err);
/* Apply the CT's resources with changes overlaid to the running CT:
 * cgroup limits and devices (all or nothing), new device nodes. */
int nvz_ct_set_resources(struct nvz_ct *ct, const struct nvz_conf *changes,
			 struct nvz_error **err);
/* A resource value (IOPRIO, DEVICES...) a set without --save applied to
 * the running CT, malloc'd, or NULL: it wins over the config until the CT
 * stops. */
char *nvz_ct_live_value(const struct nvz_ct *ct, const char *key);
/* --reset_ub: the config's beancounters applied again to the running CT
 * (the unsaved live values of the other resources stay). */
int nvz_ct_reset_ub(struct nvz_ct *ct, struct nvz_error **err);
/* DISKSPACE/DISKINODES/QUOTATIME with changes overlaid, applied by the CT's
 * layout: online if mounted (what cannot be done online is refused with a
 * message saying how), offline otherwise. */
int nvz_ct_set_disk(struct nvz_ct *ct, const struct nvz_conf *changes, struct nvz_error **err);
/* Disk space (1K blocks) and inodes the CT uses, of its own area (its
 * layer on a shared template), from the layout: ploop's file system, or
 * simfs's project quota; walk: count a simfs tree the kernel keeps no
 * project quota of (else that fails with ENOTSUP). */
struct nvz_disk_usage;
int nvz_ct_disk_usage(struct nvz_ct *ct, bool walk, struct nvz_disk_usage *u,
		      struct nvz_error **err);
/* vzctl compact: return a ploop image's freed blocks to the host. */
int nvz_ct_compact(struct nvz_ct *ct, struct nvz_error **err);
/* vzctl snapshot*: copies of a ploop CT's image and config in
 * VE_PRIVATE/snapshots/<uuid> (snapshot.c), and of a running CT's memory
 * (a criu dump in <uuid>/dump) unless skip_suspend. id: "{uuid}" or
 * "uuid". */
struct nvz_snapshot_opts {
	const char *id, *name, *description, *target;
	bool skip_config, skip_resume, skip_suspend, must_resume;
};
struct nvz_snapshot_info {
	char uuid[37], parent[37], date[32], created[48], name[256], description[256];
	char device[32], target[4096]; /* where snapshot-mount put it, or "" */
	bool current; /* the one the image derives from now */
};
int nvz_ct_snapshot(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err);
/* Stops a running CT, puts the snapshot's image (and config) in place and
 * unless skip_resume restores the snapshot's memory (the CT runs on from
 * where it was when the snapshot was made, whether it ran now or not) or,
 * for a snapshot without memory, boots a CT that was running. A restore
 * that fails is a warning, or with must_resume an error that puts the
 * image and config back (the CT stays stopped). */
int nvz_ct_snapshot_switch(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err);
int nvz_ct_snapshot_delete(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err);
/* Read-only at o->target; snapshot-umount takes it away. */
int nvz_ct_snapshot_mount(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err);
int nvz_ct_snapshot_umount(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err);
/* Oldest first; *out malloc'd. */
int nvz_ct_snapshot_list(struct nvz_ct *ct, struct nvz_snapshot_info **out, size_t *n,
			 struct nvz_error **err);
/* vzctl convert: a stopped CT's private area onto a ploop image (layout
 * "ploop" or NULL; DISKSPACE sizes it). Any failure leaves the CT as it was. */
int nvz_ct_convert(struct nvz_ct *ct, const char *layout, struct nvz_error **err);
/* Live NETIF change of a running CT (bridged mode). */
int nvz_ct_set_netif(struct nvz_ct *ct, const char *before, const char *now, struct nvz_error **err);
/* The host devices a running CT holds (an unsaved --netdev_add or
 * --netdev_del included), else its config's NETDEV; malloc'd. */
char *nvz_ct_netdev_held(const struct nvz_ct *ct);
/* Does it hold any (a checkpoint cannot take them)? */
bool nvz_ct_has_netdev(const struct nvz_ct *ct);
/* The host devices a running CT holds (NETDEV's, and those moved in or out
 * live without --save), space-separated, malloc'd; NULL without a record. */
char *nvz_ct_live_netdev(const struct nvz_ct *ct);
/* Live NETDEV change of a running CT: host devices moved in or back out. */
int nvz_ct_set_netdev(struct nvz_ct *ct, const char *before, const char *now, struct nvz_error **err);
/* Rewrite the CT's network files (ifupdown, networkd, /etc/hosts) from its
 * config overlaid with changes (may be NULL). */
int nvz_ct_apply_netconf(struct nvz_ct *ct, const struct nvz_conf *changes, struct nvz_error **err);
/* Live IP_ADDRESS of a running CT (routed mode). */
int nvz_ct_set_ips(struct nvz_ct *ct, const char *ips, struct nvz_error **err);
/* The addresses a running CT has now (they may differ from the config after
 * a live --ipadd without --save), malloc'd, or NULL. */
char *nvz_ct_live_ips(const struct nvz_ct *ct);
/* The same with the IPv6 addresses IPV6="no" kept out of the CT: the list a
 * live change starts from. */
char *nvz_ct_live_ips_asked(const struct nvz_ct *ct);
/* The same for NETIF (a live --netif_add/--netif_del without --save). */
char *nvz_ct_live_netif(const struct nvz_ct *ct);
/* The CT (other than self) that has addr in its IP_ADDRESS, or 0. */
unsigned long nvz_ct_ip_owner(struct nvz_ctx *ctx, const char *addr, unsigned long self);
/* resolv.conf of a running CT: the kinds given (NULL: left alone) replace
 * its search or nameserver lines, its other lines stay. */
int nvz_ct_apply_dns(struct nvz_ct *ct, const char *nameservers, const char *searchdomains,
		     struct nvz_error **err);

#endif
