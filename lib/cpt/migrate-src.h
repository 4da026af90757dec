/* vzmigrate's source side, shared by its files: migrate.c (the steps),
 * migrate-copy.c (the rsync copies) and migrate-ssh.c (the ssh connection
 * and the target session over it). */
#ifndef NVZ_CPT_MIGRATE_SRC_H
#define NVZ_CPT_MIGRATE_SRC_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cpt/spawn.h"
#include "nvz/migrate.h"

struct mig {
	struct nvz_ct *ct;
	const struct nvz_migrate_opts *o;
	struct nvz_argv ssh; /* ssh [opts] host: the command prefix */
	char *rsh;           /* ssh [opts] as one string, for rsync -e (a mux client) */
	char *mux;           /* ssh's ControlPath, in a private directory */
	struct nvz_migrate_dest dest;
	pid_t sess_pid;
	int sess_in;
	FILE *sess_out;
	char *rpriv, *rconf, *rtree, *rdump; /* target paths the session gave */
	char *rscripts; /* where the target takes the CT's action scripts (older nvz: none) */
	bool was_running, was_mounted, stopped;
	bool suspended; /* online: checkpointed into DUMPDIR, not stopped */
	char *cpuinfo;  /* online: this CPU's features for the target to check (cpucaps.c) */
	int cgroup_version; /* online: the CT's cgroup version here, for the target to check */
	/* --lazy: criu serving the memory, ssh's end of it on the target, and
	 * whether the CT ran there (from then on nothing can roll back). */
	struct nvz_ct_lazy lazy;
	int fwd_port;
	bool ran_there;
	double resumed; /* when the restore there returned */
	struct nvz_predump_stats pre; /* iterative memory copy, before the freeze */
	/* Online (not post-copy): the last sync and the restore there ran
	 * inside the freeze (held), or one failed there (hold_err, its error;
	 * the CT here then ran on). */
	struct nvz_migrate_times *times;
	bool held;
	struct nvz_error *hold_err;
	bool hold_failed;
	/* The commit's answer was lost and the target could not be asked:
	 * the CT may run there, so it is not brought back here. */
	bool in_doubt;
};

/* OpenVZ's "log 2": a detail of a step, shown with -v only, three spaces
 * in (its vzmigrate's words; what vzctl prints meanwhile is not indented). */
#define nvz_mig_detail(m, fmt, ...) \
	nvz_log((m)->ct->ctx, NVZ_LOG_VERBOSE, "   " fmt, ##__VA_ARGS__)

static inline int nvz_mig_oom(struct nvz_error **err)
{
	return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
}

/* migrate-copy.c: one rsync of src (a directory's content if dir) to
 * dst on the target, exit 24 (a file vanished) fine if vanish_ok; the
 * shared template tree if the target lacks it; the CT's area (the final
 * pass: with its config, dump and action scripts, side by side). */
int nvz_mig_rsync_to(struct mig *m, const char *src, const char *dst, const char *extra,
		     bool dir, bool vanish_ok, struct nvz_error **err);
bool nvz_mig_is_ploop(const struct nvz_ct *ct);
int nvz_mig_prepare_tree(struct mig *m, struct nvz_error **err);
int nvz_mig_sync_private(struct mig *m, bool final, struct nvz_error **err);

/* ssh's command prefix (m->ssh) and rsync's -e (m->rsh), sharing one
 * ControlMaster connection in a private directory (dropped by drop_mux). */
int nvz_mig_build_ssh(struct mig *m, struct nvz_error **err);
void nvz_mig_drop_mux(struct mig *m);
/* The target session (vzctl migrate-recv over ssh): open until it says
 * READY with the paths to copy to; one command and its OK/ERR answer;
 * end (with a last word, or none: an abort) and wait for it, bounded. */
int nvz_mig_open_session(struct mig *m, struct nvz_error **err);
int nvz_mig_session_do(struct mig *m, const char *what, int status, struct nvz_error **err);
void nvz_mig_end_session(struct mig *m, const char *last_word);
/* Run the command a (then freed), its stdout on *out. */
int nvz_mig_spawn_out(struct nvz_argv *a, pid_t *pid, int *out, struct nvz_error **err);
/* After a commit whose answer was lost: did the target keep the CT? On a
 * connection of its own (`migrate-recv CTID --query`). 1: kept, 0:
 * dropped, -1: cannot tell (err says why). */
int nvz_mig_ask_target_kept(struct mig *m, struct nvz_error **err);

#endif
