/* vzmigrate: move a container to another nvz server over ssh and rsync.
 *
 * The source drives; the target runs its own `vzctl migrate-recv CTID` in
 * one ssh session that lives as long as the migration: it checks for a
 * clash, takes the CT lock on the target and holds it, tells the source
 * where to put the files, installs and starts the CT on request, and on
 * "commit" keeps it. If the session ends any other way (abort, source
 * killed, connection lost) the target removes everything it received: the
 * CT is locked on both ends throughout and a failure leaves the target
 * clean while the source CT runs on as before. */
#ifndef NVZ_MIGRATE_H
#define NVZ_MIGRATE_H

#include <signal.h>
#include <stdbool.h>

#include "nvz/ct.h"
#include "nvz/error.h"

/* vzmigrate's exit statuses (OpenVZ bin/vzmigrate.in), used as
 * nvz_error.status by the migration calls. */
enum nvz_migrate_status {
	NVZ_MIG_USAGE = 1,
	NVZ_MIG_VE_STOPPED = 2,
	NVZ_MIG_CONNECT = 4,
	NVZ_MIG_COPY = 6,
	NVZ_MIG_VE_START = 7,
	NVZ_MIG_VE_STOP = 8,
	NVZ_MIG_EXISTS = 9,
	NVZ_MIG_NOTEXIST = 10,
	NVZ_MIG_IP_INUSE = 12,
	NVZ_MIG_QUOTA = 13,
	NVZ_MIG_NOT_RUNNING = 14, /* OpenVZ: not running on the target; here: nvz missing there */
	NVZ_MIG_APPLY_CONFIG = 15,
	NVZ_MIG_UNSUP_CPT = 17,
	NVZ_MIG_UNSUP_CPU = 18,
	NVZ_MIG_LOCKED = 20,
};

/* vzmigrate -f/--nodeps[=cpu,ipv6,all]: checks of the target to skip. */
#define NVZ_MIG_NODEPS_CPU 1u  /* online: the target's CPU has the source's features */
#define NVZ_MIG_NODEPS_IPV6 2u /* the target has IPv6 if the CT has IPv6 addresses */
#define NVZ_MIG_NODEPS_ALL (NVZ_MIG_NODEPS_CPU | NVZ_MIG_NODEPS_IPV6)
/* "cpu,ipv6" -> flags; -1 for an unknown word. NULL or "all": all. */
int nvz_migrate_parse_nodeps(const char *list);

struct nvz_migrate_opts {
	const char *dest;       /* host, user@host; an IPv6 address bare or in [] */
	bool online;            /* checkpoint/restore instead of stop/start */
	bool lazy;              /* with online: post-copy, the memory follows the restore */
	bool keep_dst;          /* keep the synced private area on failure */
	bool keep_src;          /* -r no: keep the source (config renamed .migrated) */
	bool check_only;
	bool no_ssh_mux;        /* one ssh connection per copy instead of one for all */
	bool compact;           /* -c: compact a ploop image before copying it */
	bool snapshot;          /* -s: OpenVZ's snapshot before the copy; not needed here */
	bool noiter;            /* online: no iterative memory copy (pre-dump rounds) */
	unsigned nodeps;        /* -f: NVZ_MIG_NODEPS_* checks skipped */
	const char *ssh_opts;   /* extra ssh options, split on blanks */
	const char *rsync_opts; /* extra rsync options, split on blanks */
	const char *remote_vzctl; /* vzctl on the target (default "vzctl") */
	int verbose;            /* -v count: 0 hides ssh's own messages, 4 is ssh -v */
	/* Set by the caller's signal handler (SIGINT, SIGTERM): the running
	 * copy is stopped, and the migration rolls back as on any failure. */
	const volatile sig_atomic_t *interrupted;
};

/* Timings of the steps (seconds), filled in as they run; pages: with
 * --lazy, from the restore there until the last page arrived. */
struct nvz_migrate_times {
	double sync1, stop, sync2, start, total, frozen, pages;
	struct nvz_predump_stats predump; /* online: the rounds while the CT ran */
};

/* Migrate ct (opened, not locked: this takes the lock). */
int nvz_migrate(struct nvz_ct *ct, const struct nvz_migrate_opts *o, struct nvz_migrate_times *t,
		struct nvz_error **err);

/* Target side: the migrate-recv session on stdin/stdout, for ct (locked by
 * the caller). name and ips are the CT's NAME and IP_ADDRESS on the source,
 * checked here for clashes before anything is copied. Returns 0 when the
 * source committed, < 0 otherwise (everything received is removed). */
struct nvz_migrate_recv_opts {
	const char *name;
	const char *ips;
	const char *tree; /* TEMPLATE_TREE of a CT on a shared template */
	const char *layout; /* the CT's VE_LAYOUT on the source */
	bool online;        /* a checkpoint comes too (DUMP), restored on request */
	const char *cpuinfo; /* online: the source's `criu cpuinfo dump` image, hex; NULL: not checked */
	int cgroup_version;  /* online: the CT's cgroup version on the source (1, 2); 0: not checked */
	bool check_ipv6;    /* refuse IPv6 addresses if IPv6 is off here */
	bool keep_dst;
	int in, out;
};
int nvz_migrate_recv(struct nvz_ct *ct, const struct nvz_migrate_recv_opts *o,
		     struct nvz_error **err);
/* `migrate-recv CTID --query`, asked by a source that lost the answer to
 * its commit: once this server's session of the CT has ended (its lock,
 * waited for up to 30 s), *kept says whether it committed (the CT is
 * here) or cleaned up. */
int nvz_migrate_recv_query(struct nvz_ct *ct, bool *kept, struct nvz_error **err);

/* Post-copy on the target (lib/cpt/migrate-lazy.c): start criu lazy-pages
 * (fetching from 127.0.0.1:port, ssh's end of the source's page server)
 * and restore the CT from its dump with lazy memory; *daemon is its pid.
 * The restore is killed (and fails) if the daemon exits before it returns
 * or anything arrives on session (the source gave up, or hung up).
 * lazy_wait: until it has fetched every page; if it failed, the CT's
 * memory is incomplete and the CT is killed. lazy_stop: kill it. */
int nvz_migrate_lazy_restore(struct nvz_ct *ct, int port, int session, pid_t *daemon,
			     struct nvz_error **err);
int nvz_migrate_lazy_wait(struct nvz_ct *ct, pid_t *daemon, struct nvz_error **err);
void nvz_migrate_lazy_stop(pid_t *daemon);

/* A destination as ssh and rsync want it: user@host for ssh (an IPv6
 * address bare), user@[v6]:path for rsync. "root@" is added unless a user
 * is given. Refuses what is not a host name or an address (blanks, quotes,
 * a leading '-', ':' outside an IPv6 address). */
struct nvz_migrate_dest {
	char *ssh;   /* root@2001:db8::2 */
	char *rsync; /* root@[2001:db8::2] */
};
int nvz_migrate_parse_dest(const char *dest, struct nvz_migrate_dest *d, struct nvz_error **err);
void nvz_migrate_dest_free(struct nvz_migrate_dest *d);

/* Shell-quote s for a remote command line ('...' with ' as '\''), malloc'd. */
char *nvz_shell_quote(const char *s);

#endif
