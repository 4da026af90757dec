/* vzmigrate, source side: OpenVZ's steps over ssh and rsync.
 *
 *   check (target session: clash, lock) -> prepare (shared template tree)
 *   -> sync 1 (CT running) -> freeze (offline: stop) -> sync 2 (disk, config)
 *   -> resume on the target (offline: start) -> commit -> clean the source.
 *
 * Online migration (--online) differs in three steps: freeze is a
 * checkpoint (suspend + dump into DUMPDIR), sync 2 moves the dump too, and
 * resume restores it on the target; the rest is shared. Sync 2 and resume
 * run inside the freeze (criu's post-dump), as OpenVZ's vzmigrate undumped
 * on the target before it killed on the source: if either fails, criu lets
 * the CT here run on from where it was frozen, nothing restored. Until
 * commit the target holds nothing it would keep: any failure aborts the
 * target session (which removes what it received) and brings the CT back
 * on the source as it was. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/migrate-src.h"
#include "cpt/spawn.h"
#include "cpt/taskfd.h"
#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"
#include "nvz/migrate.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* vzctl's own progress lines (stop, start) are details here: vzmigrate
 * prints its steps, the rest only with -v. Errors and warnings pass. */
struct demote {
	nvz_log_fn log;
	void *data;
};

static void demote_log(void *userdata, int level, const char *msg)
{
	const struct demote *d = userdata;
	bool warn = !strncmp(msg, "Warning", 7) || !strncmp(msg, "WARNING", 7);
	d->log(d->data, level == NVZ_LOG_INFO && !warn ? NVZ_LOG_VERBOSE : level, msg);
}

static void demote_begin(struct nvz_ctx *ctx, struct demote *d)
{
	*d = (struct demote){ ctx->log, ctx->log_data };
	ctx->log = demote_log;
	ctx->log_data = d;
}

static void demote_end(struct nvz_ctx *ctx, const struct demote *d)
{
	ctx->log = d->log;
	ctx->log_data = d->data;
}

/* The target's loopback port that ssh forwards, through the session's
 * ControlMaster, to the page server on this side's loopback: the pages
 * travel inside the migration's authenticated, encrypted connection. */
static int forward(struct mig *m, int port, struct nvz_error **err)
{
	struct nvz_argv a = { 0 };
	char spec[64];
	snprintf(spec, sizeof(spec), "0:127.0.0.1:%d", port);
	nvz_argv_add_words(&a, m->rsh);
	nvz_argv_add_words(&a, "-O forward -R");
	nvz_argv_add(&a, spec);
	nvz_argv_add(&a, m->dest.ssh);
	pid_t pid;
	int out = -1;
	if (nvz_mig_spawn_out(&a, &pid, &out, err) < 0)
		return -1;
	char buf[32] = "";
	ssize_t n = read(out, buf, sizeof(buf) - 1);
	close(out);
	int st = nvz_wait(pid, NULL);
	m->fwd_port = n > 0 ? atoi(buf) : 0;
	if (st != 0 || m->fwd_port <= 0 || m->fwd_port > 65535)
		return nvz_err(err, NVZ_MIG_VE_STOP, EIO,
			       "ssh cannot forward the page server (status %d): post-copy needs "
			       "AllowTcpForwarding on the destination", st);
	return 0;
}

static int freeze_lazy(struct mig *m, struct nvz_error **err)
{
	int port = nvz_cpt_lazy_port(err);
	if (port < 0 || forward(m, port, err) < 0)
		return -1;
	m->stopped = m->suspended = true;
	if (nvz_ct_chkpnt_lazy(m->ct, port, &m->lazy, err) < 0) {
		m->stopped = m->suspended = false; /* a failed chkpnt leaves it running */
		(*err)->status = NVZ_MIG_VE_STOP;
		return -1;
	}
	return 0;
}

static int step_sync2(struct mig *m, struct nvz_error **err);
static int resume_target(struct mig *m, struct nvz_error **err);

static bool interrupted(const struct mig *m)
{
	return m->o->interrupted && *m->o->interrupted;
}

/* criu's post-dump, the CT here frozen and its dump complete: the last
 * sync and the restore there. A dump that cannot be restored (a criu bug,
 * the target's kernel) then costs nothing: criu here resumes the tree it
 * froze instead of killing it, where a restore here from the same images
 * could fail the same way and lose the CT. */
static int move_while_frozen(void *arg, struct nvz_error **err)
{
	struct mig *m = arg;
	struct nvz_error *e = NULL;
	const char *what = "Failed to sync container private areas";
	double t1 = now();
	/* A ploop image is still mounted: what its file system holds in
	 * memory goes into the image first. */
	int r = nvz_mig_is_ploop(m->ct) ? nvz_ct_sync_mounted(m->ct, &e) : 0;
	if (r == 0)
		r = step_sync2(m, &e);
	m->times->sync2 = now() - t1;
	if (r == 0 && interrupted(m))
		r = nvz_err(&e, NVZ_MIG_COPY, EINTR, "interrupted by a signal");
	if (r == 0) {
		what = "Failed to undump container";
		t1 = now();
		r = resume_target(m, &e);
		m->times->start = now() - t1;
	}
	if (r < 0) {
		nvz_err_wrap(&e, "%s", what);
		m->hold_err = e;
		return nvz_err(err, e->status, e->code, "%s", e->msg);
	}
	/* It runs there: from now on the tree here only goes. */
	m->held = true;
	return 0;
}

static int freeze(struct mig *m, struct nvz_error **err)
{
	if (m->o->online && m->o->lazy)
		return freeze_lazy(m, err);
	if (m->o->online) {
		/* Frozen, dumped (after pre-dump rounds: only the pages dirtied
		 * since), moved, restored there; then killed here. */
		m->stopped = m->suspended = true;
		nvz_mig_detail(m, "Suspending container");
		nvz_mig_detail(m, "Dumping container");
		if (nvz_ct_chkpnt_hold(m->ct, m->pre.rounds, move_while_frozen, m, err) < 0) {
			struct nvz_ct_state st;
			if (m->held && nvz_ct_get_state(m->ct, &st, NULL) == 0 && st.running) {
				/* criu here failed after the hook and let it run
				 * on: the copy there goes with the aborted session
				 * (criu's log says why: it is kept). */
				m->held = false;
				m->hold_failed = true;
				m->stopped = m->suspended = false;
				nvz_err_wrap(err, "Failed to dump container: after its restore on %s, criu "
					     "here failed and let it run on here", m->o->dest);
				(*err)->status = NVZ_MIG_VE_STOP;
				return -1;
			} else if (m->held) {
				/* It runs there only: too late to go back. */
				nvz_log(m->ct->ctx, NVZ_LOG_WARN, "Warning: the source side of the "
					"checkpoint did not end cleanly: %s", (*err)->msg);
				nvz_error_clear(err);
				return 0;
			}
			m->stopped = m->suspended = false; /* a failed chkpnt leaves it running */
			if (m->hold_err) {
				/* The dump itself was fine: criu's log of it says nothing. */
				cleanup_free char *dump = nvz_ct_dump_path(m->ct), *log = NULL;
				if (dump && asprintf(&log, "%s.failed.log", dump) > 0)
					unlink(log);
				nvz_error_free(*err);
				*err = steal_ptr(&m->hold_err);
				m->hold_failed = true;
				return -1;
			}
			(*err)->status = NVZ_MIG_VE_STOP;
			return -1;
		}
	} else if (m->was_running) {
		m->stopped = true;
		if (nvz_ct_stop(m->ct, &(struct nvz_stop_opts){ 0 }, err) < 0) {
			(*err)->status = NVZ_MIG_VE_STOP;
			return -1;
		}
	} else if (m->was_mounted) {
		m->stopped = true;
		if (nvz_ct_umount(m->ct, err) < 0) {
			(*err)->status = NVZ_MIG_VE_STOP;
			return -1;
		}
	}
	return 0;
}

static int freeze_quiet(struct mig *m, struct nvz_error **err)
{
	struct demote d;
	if (m->o->online)
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Live migrating container...");
	else if (m->was_running || m->was_mounted)
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, m->was_running ? "Stopping container" : "Unmounting container");
	demote_begin(m->ct->ctx, &d);
	int r = freeze(m, err);
	demote_end(m->ct->ctx, &d);
	return r;
}

static int resume_target(struct mig *m, struct nvz_error **err)
{
	if (m->held)
		return 0; /* restored there inside the freeze */
	if (m->suspended && m->o->lazy) {
		char req[32];
		snprintf(req, sizeof(req), "lazy %d", m->fwd_port);
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Restoring container (memory follows on demand)");
		if (nvz_mig_session_do(m, req, NVZ_MIG_VE_START, err) < 0)
			return -1;
		m->ran_there = true;
		m->resumed = now();
		return 0;
	}
	if (m->suspended) {
		/* One request there undumps and resumes. */
		nvz_mig_detail(m, "Undumping container");
		nvz_mig_detail(m, "Resuming container");
		return nvz_mig_session_do(m, "restore", NVZ_MIG_VE_START, err);
	}
	/* OpenVZ: running -> started there, mounted -> mounted there (status 7
	 * if not); a stopped CT only arrives, no step line (-v: nvz's). */
	if (m->was_running || m->was_mounted)
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, m->was_running ? "Starting container" : "Mounting container");
	else
		nvz_mig_detail(m, "Registering container");
	return nvz_mig_session_do(m, m->was_running ? "start" : m->was_mounted ? "mount" : "install",
				  NVZ_MIG_VE_START, err);
}

/* After commit the CT lives on the target: the source goes (or, with
 * -r no, keeps its area with the config renamed <id>.conf.migrated). */
static void clean_source(struct mig *m)
{
	struct nvz_ct *ct = m->ct;
	struct nvz_error *e = NULL;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Cleaning up");
	if (m->o->keep_src) {
		cleanup_free char *to = NULL;
		if (asprintf(&to, "%s.migrated", ct->conf_path) < 0 || rename(ct->conf_path, to) < 0)
			nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: cannot rename %s: %m", ct->conf_path);
		nvz_ct_scripts_rename(ct, ".migrated");
		/* The dump restored there must never be restored here too. */
		cleanup_free char *dump = m->suspended ? nvz_ct_dump_path(ct) : NULL;
		if (dump)
			nvz_rm_rf(dump, NULL);
		return;
	}
	struct demote d;
	nvz_mig_detail(m, "Destroying container");
	demote_begin(ct->ctx, &d);
	int r = nvz_ct_destroy(ct, &e);
	demote_end(ct->ctx, &d);
	if (r < 0) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: the source copy of CT %s was not removed: %s",
			ct->id, e->msg);
		nvz_error_free(e);
	}
}

/* Put the source back as it was: the target session is already gone. */
static void rollback_source(struct mig *m)
{
	if (m->hold_failed) {
		/* criu resumed it when the step inside the freeze failed. */
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Resuming container on the source");
		return;
	}
	if (m->in_doubt && m->o->lazy) {
		/* Its memory went there page by page: the dump here holds none,
		 * and a restore (or a start, which tries the dump first) would
		 * bring back its processes without it. */
		cleanup_free char *dump = nvz_ct_dump_path(m->ct);
		if (dump)
			nvz_rm_rf(dump, NULL);
		nvz_log(m->ct->ctx, NVZ_LOG_ERROR, "CT %s is left stopped here, as it may run on %s: "
			"check there. Its memory went there (post-copy): only if it does not run there, "
			"boot it here afresh (vzctl start %s)", m->ct->id, m->o->dest, m->ct->id);
		return;
	}
	if (m->in_doubt) {
		nvz_log(m->ct->ctx, NVZ_LOG_ERROR, "CT %s is left stopped here, as it may run on %s: "
			"check there, and bring it back here (vzctl %s %s) only if it does not", m->ct->id,
			m->o->dest, m->suspended ? "restore" : "start", m->ct->id);
		return;
	}
	if (m->suspended && m->o->lazy) {
		/* Before the CT ran there its memory never left: the frozen
		 * tree here just goes on. After, it goes on only if criu here
		 * gave up (and resumed it) before it had sent every page. */
		if (!m->ran_there)
			nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Resuming container on the source");
		bool runs = nvz_ct_chkpnt_lazy_abort(m->ct, &m->lazy);
		if (m->ran_there && runs)
			nvz_log(m->ct->ctx, NVZ_LOG_ERROR, "CT %s runs on the source again from the moment "
				"it was frozen: what it did on %s since then is lost", m->ct->id, m->o->dest);
		else if (m->ran_there)
			nvz_log(m->ct->ctx, NVZ_LOG_ERROR, "CT %s is LOST: it ran on %s while its memory "
				"was still on this server (post-copy), and the copy failed", m->ct->id,
				m->o->dest);
		else if (!runs)
			nvz_log(m->ct->ctx, NVZ_LOG_ERROR, "rollback of CT %s on the source failed: it "
				"is stopped", m->ct->id);
		return;
	}
	if (!m->stopped)
		return;
	struct nvz_error *e = NULL;
	struct demote d;
	if (m->was_running)
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, "%s container on the source again",
			m->suspended ? "Restoring" : "Starting");
	demote_begin(m->ct->ctx, &d);
	int r = m->suspended     ? nvz_ct_restore(m->ct, NULL, &e)
		: m->was_running ? nvz_ct_start(m->ct, &(struct nvz_start_opts){ .force = true }, &e)
				 : nvz_ct_mount(m->ct, true, &e);
	demote_end(m->ct->ctx, &d);
	if (r < 0) {
		nvz_log(m->ct->ctx, NVZ_LOG_ERROR, "rollback of CT %s on the source failed: %s",
			m->ct->id, e->msg);
		nvz_error_free(e);
	}
}

/* OpenVZ's words for a CT locked here, naming the holder if it lives
 * (the pid in the lock file is only informational: the lock is a flock). */
static int locked_here(struct nvz_ct *ct, struct nvz_error **err)
{
	cleanup_free char *path = NULL, *buf = NULL;
	const char *dir = nvz_ctx_get(ct->ctx, "LOCKDIR", "");
	int pid = 0;
	if (asprintf(&path, "%s/%s.lck", dir, ct->id) >= 0 &&
	    nvz_read_file(path, 32, &buf, NULL, NULL) == 0)
		pid = atoi(buf);
	if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
		pid = 0;
	nvz_error_clear(err);
	if (pid > 0)
		return nvz_err(err, NVZ_MIG_LOCKED, EWOULDBLOCK, "ERROR: CT %s already locked by PID %d",
			       ct->id, pid);
	return nvz_err(err, NVZ_MIG_LOCKED, EWOULDBLOCK, "ERROR: CT %s already locked", ct->id);
}

static int check_source(struct mig *m, struct nvz_error **err)
{
	struct nvz_ct *ct = m->ct;
	if (ct->ctx->conf_path)
		nvz_mig_detail(m, "Loading %s", ct->ctx->conf_path);
	if (nvz_ct_lock(ct, err) < 0) {
		if ((*err)->code == EWOULDBLOCK)
			return locked_here(ct, err);
		(*err)->status = NVZ_MIG_LOCKED;
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Locked CT %s", ct->id);
	struct nvz_ct_state st;
	if (!ct->conf_exists || nvz_ct_get_state(ct, &st, err) < 0 || !st.exists)
		return nvz_err(err, NVZ_MIG_NOTEXIST, ENOENT, "CT #%s doesn't exist", ct->id); /* OpenVZ's words */
	m->was_running = st.running;
	m->was_mounted = st.mounted;
	if (m->o->online && !st.running)
		return nvz_err(err, NVZ_MIG_VE_STOPPED, ESRCH,
			       "Can't perform live migration of a stopped container"); /* OpenVZ's words */
	if (m->o->online && nvz_ct_has_netdev(ct)) {
		cleanup_free char *held = nvz_ct_netdev_held(ct);
		return nvz_err(err, NVZ_MIG_UNSUP_CPT, EOPNOTSUPP,
			       "CT %s has this server's network devices (NETDEV=\"%s\"): online migration "
			       "is impossible; give them back with --netdev_del, or migrate it stopped",
			       ct->id, held ? held : "");
	}
	/* As chkpnt's, but before anything is copied (criu.c, dump_run). */
	char nested[128];
	if (m->o->online && nvz_cpt_own_userns(st.init_pid))
		return nvz_err(err, NVZ_MIG_UNSUP_CPT, EOPNOTSUPP,
			       "CT %s: " NVZ_CPT_USERNS_WHY ": online migration is impossible; migrate it "
			       "stopped", ct->id);
	if (m->o->online && nvz_cpt_nested_ns(st.init_pid, nested, sizeof(nested)))
		return nvz_err(err, NVZ_MIG_UNSUP_CPT, EBUSY,
			       "CT %s: %s, which a checkpoint cannot take along: online migration is "
			       "impossible; stop that process, or migrate it stopped",
			       ct->id, nested);
	if (m->o->lazy && nvz_cpt_lazy_check(err) < 0) {
		(*err)->status = NVZ_MIG_UNSUP_CPT;
		return -1;
	}
	return 0;
}

/* IP_ADDRESS as OpenVZ's check named it: blank-separated, no netmasks. */
static char *ip_list(const char *ips)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = ips ? open_memstream(&s, &len) : NULL;
	if (!f)
		return NULL;
	const char *sep = "";
	for (const char *p = ips; *(p += strspn(p, " \t")); sep = " ") {
		size_t n = strcspn(p, " \t"), ip = strcspn(p, "/");
		fprintf(f, "%s%.*s", sep, (int)(ip < n ? ip : n), p);
		p += n;
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int step_check(struct mig *m, struct nvz_error **err)
{
	/* criu cannot carry a tree between cgroup versions: said before the
	 * freeze, by the target (migrate-recv.c), instead of at its restore. */
	if (m->o->online)
		m->cgroup_version = nvz_ct_cgroup_version(m->ct);
	if (m->o->online && !(m->o->nodeps & NVZ_MIG_NODEPS_CPU)) {
		nvz_mig_detail(m, "Checking for CPU flags compatibility");
		m->cpuinfo = nvz_cpu_caps_dump(nvz_ct_get(m->ct, "CRIU", NVZ_CRIU_DEFAULT),
					       nvz_ctx_get(m->ct->ctx, "RUNDIR", "/run/nvz"), err);
		if (!m->cpuinfo)
			return -1;
	}
	/* The session reads the paths there and checks the IPs. */
	nvz_mig_detail(m, "Loading %s", m->ct->conf_path);
	nvz_mig_detail(m, "Getting remote VE_ROOT and VE_PRIVATE");
	cleanup_free char *ips = ip_list(nvz_conf_get(m->ct->conf, "IP_ADDRESS"));
	if (ips && *ips)
		nvz_mig_detail(m, "Checking IPs on destination node: %s", ips);
	return nvz_mig_open_session(m, err);
}

static int step_prepare(struct mig *m, struct nvz_error **err)
{
	/* OpenVZ said it for every migration (it copied the config then). */
	nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Preparing remote node");
	return nvz_mig_prepare_tree(m, err);
}

/* OpenVZ ran vzquota init and on there for a simfs CT with DISK_QUOTA: the
 * target gives the empty area the CT's project id, which everything the
 * copies make there inherits (its start then has no tree to tag). */
static int step_quota(struct mig *m, struct nvz_error **err)
{
	if (strncmp(nvz_ct_get(m->ct, "VE_LAYOUT", "simfs"), "simfs", 5) ||
	    nvz_ct_simfs_quota_off(m->ct, NULL))
		return 0;
	nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Initializing remote quota");
	nvz_mig_detail(m, "Quota init");
	nvz_mig_detail(m, "Turning remote quota on");
	return nvz_mig_session_do(m, "quota", NVZ_MIG_QUOTA, err);
}

static int step_sync1(struct mig *m, struct nvz_error **err)
{
	/* -c: trim the image first, so that less is copied (OpenVZ: ploop only). */
	if (m->o->compact && nvz_mig_is_ploop(m->ct)) {
		nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Compacting container image");
		if (nvz_ct_compact(m->ct, err) < 0)
			return -1;
	} else if (m->o->compact) {
		nvz_mig_detail(m, "Not a ploop CT: nothing to compact");
	}
	/* OpenVZ's -s froze a ploop image's base in a snapshot so that it could be
	 * copied while the CT wrote to a new top delta; the image is synced
	 * running and again in place once stopped here, with no snapshot left
	 * behind on either side. */
	if (m->o->snapshot)
		nvz_log(m->ct->ctx, NVZ_LOG_INFO,
			"Not creating a container snapshot: the running image is copied without one");
	nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Syncing private");
	return nvz_mig_sync_private(m, false, err);
}

/* Each pre-dump round goes to the target's dump directory at once. */
static int copy_round(void *data, struct nvz_error **err)
{
	struct mig *m = data;
	cleanup_free char *dump = nvz_ct_dump_path(m->ct);
	return dump ? nvz_mig_rsync_to(m, dump, m->rdump, "--sparse", true, false, err) : nvz_mig_oom(err);
}

/* Online, where the kernel tracks dirty pages: the memory goes while the
 * CT runs (OpenVZ 7's iterative copy; --noiter: not). Never fails: a
 * failed round falls back to the whole memory inside the freeze. */
static int step_predump(struct mig *m, struct nvz_error **err)
{
	(void)err;
	if (!m->o->online || m->o->lazy || m->o->noiter)
		return 0;
	nvz_ct_predump_rounds(m->ct, NULL, NVZ_PREDUMP_MAX, copy_round, m, &m->pre);
	return 0;
}

static int step_sync2(struct mig *m, struct nvz_error **err)
{
	if (m->held)
		return 0; /* synced inside the freeze */
	/* OpenVZ's order: the dump went first, then the second rsync (of a
	 * CT that ran: a stopped one's config alone goes now); here they go
	 * side by side. */
	if (m->suspended && !m->o->lazy)
		nvz_mig_detail(m, "Copying dumpfile");
	if (m->was_running)
		nvz_mig_detail(m, "Syncing private (2nd pass)");
	return nvz_mig_sync_private(m, true, err);
}

/* Post-copy: the CT runs on the target while its memory streams there.
 * This side's criu exits once every page is gone (and kills the frozen
 * tree); the target says whether its daemon got them all. */
static int step_pages(struct mig *m, struct nvz_error **err)
{
	if (!m->ran_there)
		return 0;
	nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Copying memory");
	struct demote d;
	demote_begin(m->ct->ctx, &d);
	int r = nvz_ct_chkpnt_lazy_end(m->ct, &m->lazy, err);
	demote_end(m->ct->ctx, &d);
	if (nvz_mig_session_do(m, "pages", NVZ_MIG_VE_START, r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

/* The CT runs (or is installed) there; the commit makes that final. If its
 * answer is lost (the session died), the target either committed or, at
 * the EOF, dropped its copy: it is asked which, as bringing the CT back
 * here while it runs there would make two of it. */
static int step_commit(struct mig *m, struct nvz_error **err)
{
	if (nvz_mig_session_do(m, "commit", NVZ_MIG_VE_START, err) == 0)
		return 0;
	struct nvz_error *e = NULL;
	int kept = nvz_mig_ask_target_kept(m, &e);
	if (kept == 1) {
		nvz_log(m->ct->ctx, NVZ_LOG_WARN, "Warning: the answer to the commit was lost (%s), "
			"but %s has CT %s: the migration is complete", (*err)->msg, m->o->dest, m->ct->id);
		nvz_error_clear(err);
		return 0;
	}
	if (kept < 0) {
		m->in_doubt = true;
		cleanup_free char *lost = strdup((*err)->msg);
		int code = (*err)->code;
		nvz_error_clear(err);
		nvz_err(err, NVZ_MIG_VE_START, code, "%s, and whether it kept the container is not known: %s",
			lost ? lost : "lost the connection", e->msg);
		nvz_error_free(e);
	}
	return -1;
}

/* The migration, step by step. Online migration takes other branches in
 * three of them: freeze (checkpoint into DUMPDIR), the final sync (the dump
 * too) and resume (restore on the target). */
struct step {
	/* "<what>: <why>" on failure, OpenVZ's words where it had a step;
	 * NULL: the error as it is (checks), or step_what() says it. */
	const char *what;
	int status;       /* if interrupted by a signal before it ends */
	int (*run)(struct mig *m, struct nvz_error **err);
	size_t time;      /* offset of its slot in nvz_migrate_times, or SIZE_MAX */
};

#define SLOT(f) offsetof(struct nvz_migrate_times, f)
static const struct step steps_offline[] = {
	{ NULL, NVZ_MIG_CONNECT, step_check, SIZE_MAX }, /* OpenVZ's check errors stand alone */
	{ "Failed to prepare remote node", NVZ_MIG_COPY, step_prepare, SIZE_MAX },
	{ "Failed to initialize quota", NVZ_MIG_QUOTA, step_quota, SIZE_MAX },
	{ "Failed to sync container private areas", NVZ_MIG_COPY, step_sync1, SLOT(sync1) },
	{ "Failed to copy memory iteratively", NVZ_MIG_COPY, step_predump, SIZE_MAX },
	{ NULL, NVZ_MIG_VE_STOP, freeze_quiet, SLOT(stop) }, /* step_what() */
	{ "Failed to sync container private areas", NVZ_MIG_COPY, step_sync2, SLOT(sync2) },
	{ NULL, NVZ_MIG_VE_START, resume_target, SLOT(start) }, /* step_what() */
	{ "Failed to copy memory", NVZ_MIG_VE_START, step_pages, SLOT(pages) },
	{ "Failed to commit the migration on the destination", NVZ_MIG_VE_START, step_commit, SIZE_MAX },
};

/* OpenVZ's failure words for the steps that depend on the CT's state. */
static const char *step_what(const struct mig *m, const struct step *s)
{
	if (s->run == freeze_quiet)
		return m->o->online     ? "Failed to dump container"
		       : m->was_running ? "Failed to stop container"
					: "Failed to umount container";
	if (s->run == resume_target)
		return m->o->online     ? "Failed to undump container"
		       : m->was_running ? "Failed to start container"
		       : m->was_mounted ? "Failed to mount container"
					: "Failed to register container";
	return s->what;
}

static int steps(struct mig *m, struct nvz_migrate_times *t, struct nvz_error **err)
{
	double t0 = now(), frozen = 0;
	size_t n = sizeof(steps_offline) / sizeof(steps_offline[0]);
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps_offline[i];
		double t1 = now();
		if (s->run == freeze_quiet)
			frozen = t1;
		/* Once the CT ran there (post-copy), a signal cannot take it back. */
		bool stop = interrupted(m) && !m->ran_there;
		int r = stop ? -1 : s->run(m, err);
		/* After commit the CT is the target's: too late to roll back. */
		if (r == 0 && interrupted(m) && !m->ran_there && i + 1 < n)
			r = -1;
		if (r < 0 && !*err)
			nvz_err(err, s->status, EINTR, "interrupted by a signal");
		/* The steps run inside the freeze timed themselves. */
		bool in_freeze = m->held && (s->run == step_sync2 || s->run == resume_target);
		if (s->time != SIZE_MAX && !in_freeze)
			*(double *)((char *)t + s->time) = now() - t1;
		/* The checkpoint's own time, without what ran inside it. */
		if (s->run == freeze_quiet && m->held)
			t->stop -= t->sync2 + t->start;
		/* A step inside the freeze that failed named itself. */
		if (r < 0 && s->run == freeze_quiet && m->hold_failed)
			return -1;
		if (r < 0)
			return step_what(m, s) ? nvz_err_wrap(err, "%s", step_what(m, s)) : -1;
		if (i == 0 && m->o->check_only) {
			nvz_log(m->ct->ctx, NVZ_LOG_INFO, "Check passed: CT %s can be migrated to %s",
				m->ct->id, m->o->dest);
			return 0;
		}
	}
	/* Post-copy: the CT runs again when the restore there returned. */
	t->frozen = !frozen ? 0 : m->resumed ? m->resumed - frozen : now() - frozen;
	t->total = now() - t0;
	t->predump = m->pre;
	nvz_mig_end_session(m, NULL);
	clean_source(m);
	return 0;
}

int nvz_migrate(struct nvz_ct *ct, const struct nvz_migrate_opts *o, struct nvz_migrate_times *t,
		struct nvz_error **err)
{
	struct mig m = { .ct = ct, .o = o, .sess_in = -1, .lazy = { .criu = -1 }, .times = t };
	*t = (struct nvz_migrate_times){ 0 };
	if (o->lazy && (!o->online || o->no_ssh_mux))
		return nvz_err(err, NVZ_MIG_USAGE, EINVAL, "--lazy needs --online and the ssh "
			       "connection multiplexing (not --no-ssh-mux)");
	if (check_source(&m, err) < 0 || nvz_mig_build_ssh(&m, err) < 0)
		goto out;
	/* OpenVZ: "Checking migration of CT ..." for --check-only, "live
	 * migration" for --online. */
	nvz_log(ct->ctx, NVZ_LOG_INFO, "%s %smigration of CT %s to %s",
		o->check_only ? "Checking" : "Starting", o->lazy ? "live post-copy " : o->online ? "live " : "",
		ct->id, o->dest);
	if (steps(&m, t, err) < 0) {
		nvz_mig_end_session(&m, o->keep_dst ? "keep\n" : "abort\n");
		if (m.pre.rounds && !m.suspended)
			nvz_ct_predump_drop(ct, NULL); /* the rounds, before the freeze */
		rollback_source(&m);
		goto out;
	}
	nvz_mig_end_session(&m, "abort\n"); /* after --check-only: nothing to keep */
out:
	nvz_argv_free(&m.ssh);
	nvz_mig_drop_mux(&m);
	nvz_migrate_dest_free(&m.dest);
	free(m.rsh);
	free(m.rpriv);
	free(m.rconf);
	free(m.rscripts);
	free(m.rtree);
	free(m.rdump);
	free(m.cpuinfo);
	nvz_error_free(m.hold_err);
	return *err ? -1 : 0;
}
