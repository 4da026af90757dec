/* vzmigrate, target side: `vzctl migrate-recv CTID` run by the source over
 * ssh. It holds the CT lock here for the whole migration and speaks a line
 * protocol on stdin/stdout:
 *   target: PRIVATE <dir> / CONF <file> / [TREE <dir>] / READY, or REFUSED <why>
 *   source: install | start | restore | lazy <port> | pages | commit | keep | abort,
 *   each answered OK or ERR <why>.
 * Post-copy (lazy, pages): see lib/cpt/lazy.c and migrate-lazy.c.
 * Like LXC's "partial" marker, nothing received is kept unless the source
 * commits: any other end (abort, EOF because the source or its ssh died)
 * removes it, so the target is left as it was. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/migrate.h"
#include "nvz/storage.h"
#include "storage/quota.h"

struct recv {
	struct nvz_ct *ct;
	const struct nvz_migrate_recv_opts *o;
	char *staged_conf;
	char *staged_scripts; /* where the CT's action scripts are received */
	char *tree, *staged_tree; /* TEMPLATE/shared/<tree> and where it is received */
	char *dump;               /* online: where the checkpoint is received */
	bool made_private, made_dump, installed;
	pid_t lazy; /* post-copy: criu lazy-pages, until it has every page */
};

static int oom(struct nvz_error **err)
{
	return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
}

static int check_ips(struct recv *r, struct nvz_error **err)
{
	cleanup_free char *copy = r->o->ips ? strdup(r->o->ips) : NULL;
	char *save = NULL;
	for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save)) {
		w[strcspn(w, "/")] = '\0';
		unsigned long owner = nvz_ct_ip_owner(r->ct->ctx, w, r->ct->veid);
		if (owner)
			return nvz_err(err, NVZ_MIG_IP_INUSE, EADDRINUSE,
				       "IP address %s is already used by CT %lu on the destination", w, owner);
	}
	return 0;
}

/* Everything that would clash, before anything is copied. */
static int check(struct recv *r, struct nvz_error **err)
{
	struct nvz_ct *ct = r->ct;
	if (ct->conf_exists)
		return nvz_err(err, NVZ_MIG_EXISTS, EEXIST, "CT #%s already exists on destination node",
			       ct->id); /* OpenVZ's words */
	/* A private area left by a failed --keep-dst attempt is what a retry
	 * with --keep-dst continues from; anything else is somebody's CT. */
	if (nvz_path_exists(ct->private) && !r->o->keep_dst)
		return nvz_err(err, NVZ_MIG_EXISTS, EEXIST,
			       "private area %s of CT %s already exists on the destination",
			       ct->private, ct->id);
	unsigned long owner;
	if (r->o->name && *r->o->name && nvz_ct_resolve(ct->ctx, r->o->name, &owner, NULL) == 0) {
		cleanup_free char *conf = NULL;
		if (asprintf(&conf, "%s/%lu.conf", ct->ctx->ct_conf_dir, owner) < 0)
			return oom(err);
		if (nvz_path_exists(conf))
			return nvz_err(err, NVZ_MIG_EXISTS, EEXIST,
				       "name %s is already used by CT %lu on the destination",
				       r->o->name, owner);
	}
	const struct nvz_layout *l;
	if (r->o->layout && nvz_layout_get(r->o->layout, &l, err) < 0) {
		(*err)->status = NVZ_MIG_APPLY_CONFIG;
		return nvz_err_wrap(err, "CT %s cannot be kept here", ct->id);
	}
	if (r->o->check_ipv6 && nvz_ips_have_ipv6(r->o->ips) && !nvz_ipv6_enabled())
		return nvz_err(err, NVZ_MIG_NOT_RUNNING, EAFNOSUPPORT,
			       "CT %s has IPv6 addresses and IPv6 is disabled on the destination "
			       "(vzmigrate --nodeps=ipv6 migrates anyway)", ct->id);
	int here = r->o->cgroup_version > 0 ? nvz_ct_cgroup_version(ct) : 0;
	if (here > 0 && here != r->o->cgroup_version)
		return nvz_err(err, NVZ_MIG_UNSUP_CPT, ENOTSUP,
			       "CT %s runs under cgroup v%d on the source and this server's controllers "
			       "are on cgroup v%d: criu cannot carry its processes across; migrate it "
			       "without --online (it restarts here)",
			       ct->id, r->o->cgroup_version, here);
	if (r->o->cpuinfo &&
	    nvz_cpu_caps_check(nvz_ct_get(ct, "CRIU", NVZ_CRIU_DEFAULT),
			       nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz"), r->o->cpuinfo, err) < 0)
		return -1;
	return check_ips(r, err);
}

static int tree_paths(struct recv *r, struct nvz_error **err)
{
	const char *tree = r->o->tree;
	const char *tmpl = nvz_ct_get(r->ct, "TEMPLATE", NULL);
	if (!tree || !*tree)
		return 0;
	if (!tmpl || strchr(tree, '/') || !strcmp(tree, ".") || !strcmp(tree, ".."))
		return nvz_err(err, NVZ_E_INVALID_CONFIG, EINVAL, "bad TEMPLATE_TREE '%s'", tree);
	cleanup_free char *mark = NULL;
	if (asprintf(&r->tree, "%s/shared/%s", tmpl, tree) < 0 ||
	    asprintf(&mark, "%s.complete", r->tree) < 0)
		return oom(err);
	if (nvz_path_exists(mark))
		return 0;
	if (asprintf(&r->staged_tree, "%s/shared/.%s.migrating.%s", tmpl, tree, r->ct->id) < 0)
		return oom(err);
	return nvz_rm_rf(r->staged_tree, err) < 0 ? -1 : nvz_mkdir_p(r->staged_tree, 0755, err);
}

static int prepare(struct recv *r, int out, struct nvz_error **err)
{
	struct nvz_ct *ct = r->ct;
	if (check(r, err) < 0 || tree_paths(r, err) < 0)
		return -1;
	if (asprintf(&r->staged_conf, "%s/%s.conf.migrating", ct->ctx->ct_conf_dir, ct->id) < 0 ||
	    asprintf(&r->staged_scripts, "%s/.%s.scripts.migrating", ct->ctx->ct_conf_dir, ct->id) < 0)
		return oom(err);
	if (nvz_mkdir_p(ct->ctx->ct_conf_dir, 0755, err) < 0 || nvz_rm_rf(r->staged_scripts, err) < 0 ||
	    nvz_mkdir_p(r->staged_scripts, 0700, err) < 0)
		return -1;
	if (!nvz_path_exists(ct->private)) {
		r->made_private = true;
		if (nvz_mkdir_p(ct->private, 0700, err) < 0)
			return -1;
	}
	if (r->o->online) {
		if (!(r->dump = nvz_ct_dump_path(ct)))
			return oom(err);
		cleanup_free char *parent = strdup(r->dump);
		if (!parent)
			return oom(err);
		*strrchr(parent, '/') = '\0';
		r->made_dump = !nvz_path_exists(r->dump);
		if (nvz_mkdir_p(parent, 0700, err) < 0 ||
		    dprintf(out, "DUMP %s\n", r->dump) < 0)
			return -1;
	}
	if (dprintf(out, "PRIVATE %s\nCONF %s\nSCRIPTS %s\n", ct->private, r->staged_conf,
		    r->staged_scripts) < 0 ||
	    (r->staged_tree && dprintf(out, "TREE %s\n", r->staged_tree) < 0) ||
	    dprintf(out, "READY\n") < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "write to the source");
	return 0;
}

/* The received tree becomes TEMPLATE/shared/<tree> unless an unpack here
 * made it meanwhile (same version name: same archive, same content). */
static int install_tree(struct recv *r, struct nvz_error **err)
{
	if (!r->staged_tree)
		return 0;
	cleanup_free char *lockpath = NULL, *mark = NULL;
	const char *tmpl = nvz_ct_get(r->ct, "TEMPLATE", NULL);
	if (asprintf(&lockpath, "%s/shared/.lock", tmpl) < 0 || asprintf(&mark, "%s.complete", r->tree) < 0)
		return oom(err);
	cleanup_close int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "lock %s", lockpath);
	if (nvz_path_exists(mark))
		return nvz_rm_rf(r->staged_tree, err);
	if (nvz_rm_rf(r->tree, err) < 0)
		return -1;
	if (rename(r->staged_tree, r->tree) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "install %s", r->tree);
	free(r->staged_tree);
	r->staged_tree = NULL;
	cleanup_close int fd = open(mark, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
	return fd < 0 ? nvz_err_sys(err, NVZ_E_SYSTEM, errno, "mark %s complete", r->tree) : 0;
}

/* The CT's action scripts received: those of its own names, regular
 * files, into CONF_DIR (a CT of this ID is not here: any there were are
 * a destroyed one's, and go). */
static int install_scripts(struct recv *r, struct nvz_error **err)
{
	struct nvz_ct *ct = r->ct;
	for (size_t i = 0; i < NVZ_CT_SCRIPT_EVENTS; i++) {
		cleanup_free char *from = NULL, *to = NULL;
		const char *ev = nvz_ct_script_events[i];
		if (asprintf(&from, "%s/%s.%s", r->staged_scripts, ct->id, ev) < 0 ||
		    asprintf(&to, "%s/%s.%s", ct->ctx->ct_conf_dir, ct->id, ev) < 0)
			return oom(err);
		struct stat st;
		if (lstat(from, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (rename(from, to) < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "install %s", to);
	}
	return nvz_rm_rf(r->staged_scripts, err);
}

/* The received config becomes this CT's, with this server's paths. */
static int install_conf(struct recv *r, struct nvz_error **err)
{
	struct nvz_ct *ct = r->ct;
	struct nvz_conf *c = NULL;
	if (nvz_conf_load(&c, r->staged_conf, NVZ_MIG_APPLY_CONFIG, err) < 0)
		return -1;
	static const char *const paths[] = { "VE_PRIVATE", "VE_ROOT" };
	int rc = 0;
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		const char *v = nvz_conf_get(c, paths[i]);
		if (v && *v)
			rc = nvz_conf_set(c, paths[i], nvz_ctx_get(ct->ctx, paths[i], ""), err);
	}
	const char *layout = nvz_conf_get(c, "VE_LAYOUT");
	if (rc == 0 && (!layout || !*layout) && r->o->layout)
		rc = nvz_conf_set(c, "VE_LAYOUT", r->o->layout, err);
	if (rc == 0)
		rc = nvz_conf_save(c, r->staged_conf, err);
	if (rc == 0 && rename(r->staged_conf, ct->conf_path) < 0)
		rc = nvz_err_sys(err, NVZ_E_SYSTEM, errno, "install %s", ct->conf_path);
	if (rc < 0) {
		nvz_conf_free(c);
		return -1;
	}
	r->installed = true;
	nvz_conf_free(ct->conf);
	ct->conf = c;
	ct->conf_exists = true;
	if (nvz_ct_refresh_paths(ct, err) < 0)
		return -1;
	const char *name = nvz_conf_get(c, "NAME");
	return name && *name ? nvz_ct_set_name(ct, name, err) : 0;
}

enum how { REGISTER, START, MOUNT, RESTORE, LAZY };

static int install(struct recv *r, enum how how, int lazy_port, struct nvz_error **err)
{
	if (r->installed)
		return nvz_err(err, NVZ_E_SYNTAX, EALREADY, "CT %s is already installed", r->ct->id);
	if ((how == RESTORE || how == LAZY) && !r->dump)
		return nvz_err(err, NVZ_E_SYNTAX, EINVAL, "restore without --online");
	if (install_tree(r, err) < 0 || install_conf(r, err) < 0 || install_scripts(r, err) < 0)
		return -1;
	/* The CT's disk limits, here as on the source (OpenVZ: vzquota init
	 * and on with its config): nothing but this puts them on a project. */
	nvz_ct_apply_disk_limits(r->ct);
	if (how == START)
		return nvz_ct_start(r->ct, &(struct nvz_start_opts){ .force = true }, err);
	/* OpenVZ: a CT mounted (not running) on the source is mounted here. */
	if (how == MOUNT)
		return nvz_ct_mount(r->ct, false, err);
	if (how == LAZY)
		return nvz_migrate_lazy_restore(r->ct, lazy_port, r->o->in, &r->lazy, err);
	/* A successful restore removes the dump, as OpenVZ's did. */
	return how == RESTORE ? nvz_ct_restore(r->ct, NULL, err) : 0;
}

/* rsync servers still writing into dir (their cwd is the destination): a
 * source that died leaves them running for a moment, and the cleanup must
 * not race them. Only rsync, and only inside dir. */
static void stop_writers(const char *dir)
{
	cleanup_dir DIR *d = opendir("/proc");
	size_t len = strlen(dir);
	pid_t victims[64];
	size_t n = 0;
	for (struct dirent *de; d && (de = readdir(d)) && n < 64;) {
		char path[64], cwd[4096], comm[32] = "";
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
		ssize_t l = readlink(path, cwd, sizeof(cwd) - 1);
		if (l < 0)
			continue;
		cwd[l] = '\0';
		if (strncmp(cwd, dir, len) || (cwd[len] && cwd[len] != '/'))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		cleanup_fclose FILE *f = fopen(path, "re");
		if (!f || !fgets(comm, sizeof(comm), f) || strcmp(comm, "rsync\n"))
			continue;
		kill(pid, SIGKILL);
		victims[n++] = pid;
	}
	/* Not our children: wait until /proc says they are gone (2 s at most). */
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/proc/%d/cwd", (int)victims[i]);
		char buf[8];
		for (int t = 0; t < 200 && readlink(path, buf, sizeof(buf)) >= 0; t++)
			usleep(10000);
	}
}

/* Undo everything this session made; the lock is still held. */
static void cleanup(struct recv *r, bool keep_private)
{
	struct nvz_ct *ct = r->ct;
	nvz_migrate_lazy_stop(&r->lazy);
	if (r->installed) {
		nvz_ct_stop(ct, &(struct nvz_stop_opts){ .fast = true }, NULL);
		nvz_ct_umount(ct, NULL);
		nvz_ct_remove_name(ct, NULL);
		unlink(ct->conf_path);
		for (size_t i = 0; i < NVZ_CT_SCRIPT_EVENTS; i++) {
			cleanup_free char *script = NULL;
			if (asprintf(&script, "%s/%s.%s", ct->ctx->ct_conf_dir, ct->id,
				     nvz_ct_script_events[i]) >= 0)
				unlink(script);
		}
		nvz_runstate_remove(ct);
		rmdir(ct->rundir);
	}
	stop_writers(ct->private);
	if (r->staged_tree)
		stop_writers(r->staged_tree);
	if (r->staged_conf)
		unlink(r->staged_conf);
	if (r->made_private && !keep_private) {
		nvz_rm_rf(ct->private, NULL);
		rmdir(ct->root);
	}
	if (r->staged_tree)
		nvz_rm_rf(r->staged_tree, NULL);
	if (r->staged_scripts)
		nvz_rm_rf(r->staged_scripts, NULL);
	if (r->dump && r->made_dump)
		nvz_rm_rf(r->dump, NULL);
}

static void reply(int out, int rc, struct nvz_error **err)
{
	if (rc == 0) {
		dprintf(out, "OK\n");
	} else {
		char *msg = *err ? (*err)->msg : "failed";
		msg[strcspn(msg, "\n")] = '\0';
		dprintf(out, "ERR %s\n", msg);
	}
}

/* One request line, read byte by byte: no buffer (and no descriptor copy
 * that a CT monitor forked from here could inherit and hold open). */
static bool read_request(int in, char *line, size_t len)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(in, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (c == '\n')
			break;
		if (n + 1 < len)
			line[n++] = c;
	}
	line[n] = '\0';
	return true;
}

/* The empty area gets the CT's project id (inherited by all that is
 * received), no limits yet: those come with its config (install). A
 * filesystem that counts no project makes it a no-op, as on create. */
static int quota_init(struct recv *r, struct nvz_error **err)
{
	if (!r->made_private)
		return 0; /* a --keep-dst retry's area: tagged by its first attempt, or at install */
	struct nvz_disk_limits none = { 0 };
	return nvz_quota_apply(r->ct->private, (uint32_t)r->ct->veid, &none, false, NVZ_MIG_QUOTA, err);
}

static int serve(struct recv *r, int in, int out, struct nvz_error **err)
{
	char line[64];
	while (read_request(in, line, sizeof(line))) {
		if (!strcmp(line, "commit")) {
			reply(out, 0, NULL);
			return 0;
		}
		if (!strcmp(line, "keep")) {
			cleanup(r, true);
			return nvz_err(err, NVZ_MIG_COPY, ECANCELED, "migration of CT %s aborted by the source",
				       r->ct->id);
		}
		if (!strcmp(line, "abort"))
			break;
		if (!strcmp(line, "quota")) {
			reply(out, quota_init(r, err), err);
			nvz_error_clear(err);
			continue;
		}
		if (!strcmp(line, "pages")) {
			/* Post-copy: the CT runs here; its memory is whole once
			 * the daemon has it all. */
			int rc = nvz_migrate_lazy_wait(r->ct, &r->lazy, err);
			reply(out, rc, err);
			nvz_error_clear(err);
			continue;
		}
		int port = 0;
		enum how how = !strcmp(line, "start")	  ? START
			       : !strcmp(line, "mount")   ? MOUNT
			       : !strcmp(line, "restore") ? RESTORE
			       : sscanf(line, "lazy %d", &port) == 1 && port > 0 && port < 65536 ? LAZY
							  : REGISTER;
		if (how == REGISTER && strcmp(line, "install")) {
			reply(out, nvz_err(err, NVZ_E_SYNTAX, EINVAL, "bad request '%s'", line), err);
			nvz_error_clear(err);
			continue;
		}
		int rc = install(r, how, port, err);
		reply(out, rc, err);
		nvz_error_clear(err);
	}
	cleanup(r, false);
	return nvz_err(err, NVZ_MIG_COPY, ECANCELED, "migration of CT %s aborted by the source", r->ct->id);
}

int nvz_migrate_recv(struct nvz_ct *ct, const struct nvz_migrate_recv_opts *o,
		     struct nvz_error **err)
{
	struct recv r = { .ct = ct, .o = o };
	int rc;
	if (prepare(&r, o->out, err) < 0) {
		cleanup(&r, false);
		/* Refused before READY: the source says why, as OpenVZ's
		 * vzmigrate did ("Error: CT #101 already exists on destination
		 * node"), not this end on a line of its own. */
		if ((*err)->status && dprintf(o->out, "REFUSED %s\n", (*err)->msg) > 0)
			(*err)->code = ECANCELED;
		rc = -1;
	} else {
		rc = serve(&r, o->in, o->out, err);
	}
	free(r.staged_conf);
	free(r.tree);
	free(r.staged_tree);
	free(r.staged_scripts);
	free(r.dump);
	return rc;
}

int nvz_migrate_recv_query(struct nvz_ct *ct, bool *kept, struct nvz_error **err)
{
	/* The session's vzctl holds the lock until it has committed or
	 * cleaned up (after an EOF it stops the CT it restored first). */
	for (int tries = 300; nvz_ct_lock(ct, err) < 0; tries--) {
		if ((*err)->code != EWOULDBLOCK || tries == 0)
			return -1;
		nvz_error_clear(err);
		usleep(100000);
	}
	*kept = nvz_path_exists(ct->conf_path);
	return 0;
}
