/* Running criu dump/restore for a CT (see criu.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/taskfd.h"
#include "cpt/run.h"
#include "cpt/tmpfs.h"
#include "linux/userns.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

void nvz_cpt_arg(struct nvz_cpt_args *a, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	char **v = r < 0 || a->oom ? NULL : realloc(a->v, (a->n + 2) * sizeof(*v));
	if (!v) {
		free(r < 0 ? NULL : s);
		a->oom = true;
		return;
	}
	v[a->n++] = s;
	v[a->n] = NULL;
	a->v = v;
}

/* The host's hierarchies as criu's yard: criu would mount them all again,
 * at dump inside the freeze, cgroup2 taking 10-15 ms; and on a pure v2
 * host that mount would reset the host's cgroup2 root options (cgyard.c). */
void nvz_cpt_add_yard(struct nvz_cpt_args *a, const char *rundir)
{
	const char *yard = nvz_cpt_cgroup_yard(rundir);
	if (yard) {
		nvz_cpt_arg(a, "--cgroup-yard");
		nvz_cpt_arg(a, "%s", yard);
	}
}

/* Options for both directions. TCP connections survive (the CT keeps its
 * addresses), file locks and unlinked-but-open files are carried, and the
 * CT's cgroup namespace and cgroup mounts are re-created: nvz creates the
 * cgroup with the CT's limits first, and criu's default "soft" mode then
 * leaves those limits alone. */
void nvz_cpt_common(struct nvz_cpt_args *a, const char *criu, const char *dir, const char *root)
{
	nvz_cpt_arg(a, "%s", criu);
	nvz_cpt_arg(a, "-D");
	nvz_cpt_arg(a, "%s", dir);
	/* Errors and warnings only: what the failure messages quote. -v4 (a
	 * line per page range, file, mount) wrote ~2000 lines inside the
	 * freeze window, ~10 ms of it; rerun criu by hand with -v4 to debug. */
	nvz_cpt_arg(a, "-v2");
	nvz_cpt_arg(a, "--root");
	nvz_cpt_arg(a, "%s", root);
	nvz_cpt_arg(a, "--tcp-established");
	nvz_cpt_arg(a, "--file-locks");
	nvz_cpt_arg(a, "--link-remap");
	nvz_cpt_arg(a, "--manage-cgroups");
	/* Filesystems systemd mounts in a CT that criu does not know by name:
	 * they hold no state worth dumping, a fresh instance is mounted. */
	nvz_cpt_arg(a, "--enable-fs");
	nvz_cpt_arg(a, "hugetlbfs,fusectl,configfs,debugfs,tracefs,binfmt_misc");
}

/* The most telling error line of a criu log: the first "Error" that is not
 * one criu prints on every run here (no iptables, no CAP_SYS_RESOURCE) or
 * its closing "Dumping/Restoring FAILED". */
static void log_error(const char *log, char *out, size_t len)
{
	snprintf(out, len, "no error in the log");
	cleanup_fclose FILE *f = fopen(log, "re");
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *e = strstr(line, "Error (");
		if (!e || strstr(line, "iptables") || strstr(line, "ip6tables") ||
		    strstr(line, "-V failed") || strstr(line, "RLIMIT_NOFILE") || strstr(line, "FAILED") ||
		    strstr(line, "finished with error"))
			continue;
		char *msg = strstr(e, "): ");
		msg = msg ? msg + 3 : e;
		msg[strcspn(msg, "\n")] = '\0';
		/* prlimit on another user's process (a CT's sshd, dbus-daemon). */
		bool rlimit = !strncmp(msg, "Can't get rlimit", 16) && strstr(msg, "not permitted");
		snprintf(out, len, "%s%s", msg,
			 rlimit ? " (criu reads each process's limits: for a process of another user "
				  "that takes CAP_SYS_RESOURCE, which this host's root lacks)"
				: "");
		return;
	}
}

/* netns >= 0: criu runs in that network namespace (the CT's own), see
 * ct_netns; run: a tmpfs to be its /run (kdat.c), or NULL. */
pid_t nvz_cpt_spawn(char *const *argv, char *const *env, int keep_fd, int netns, const char *run,
		   struct nvz_error **err)
{
	pid_t pid = fork();
	if (pid < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "fork");
	if (pid > 0)
		return pid;
	/* criu gets no descriptor of ours but the one it must hand on. */
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* A snapshot blocks ^C while the CT is frozen; criu need not. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (keep_fd >= 0)
		fcntl(keep_fd, F_SETFD, 0);
	if (netns >= 0 && setns(netns, CLONE_NEWNET) < 0)
		_exit(126);
	if (run)
		nvz_cpt_kdat_enter(run);
	for (char *const *e = env; e && *e; e++)
		putenv(*e);
	execv(argv[0], argv);
	_exit(127);
}

pid_t nvz_cpt_spawn_status(char *const *argv, int netns, const char *run, int *ready_fd,
			   struct nvz_error **err)
{
	int p[2];
	*ready_fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "pipe");
	struct nvz_cpt_args a = { 0 };
	for (char *const *v = argv; *v; v++)
		nvz_cpt_arg(&a, "%s", *v);
	nvz_cpt_arg(&a, "--status-fd");
	nvz_cpt_arg(&a, "%d", p[1]);
	pid_t pid = a.oom ? nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory")
			  : nvz_cpt_spawn(a.v, NULL, p[1], netns, run, err);
	nvz_strv_free(a.v);
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	else
		*ready_fd = p[0];
	return pid;
}

int nvz_cpt_wait_ready(int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

int nvz_cpt_spawn_ready(char *const *argv, int netns, const char *run, pid_t *pid, int *status,
			struct nvz_error **err)
{
	int fd;
	*pid = nvz_cpt_spawn_status(argv, netns, run, &fd, err);
	if (*pid < 0)
		return -1;
	int r = nvz_cpt_wait_ready(fd);
	close(fd);
	if (r == 0)
		return 0;
	while (waitpid(*pid, status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* log: the file criu wrote; shown: where the admin finds it afterwards. */
int nvz_cpt_criu_failed(const char *what, const char *criu, const char *log, const char *shown,
		       const char *before, int status, int code, struct nvz_error **err)
{
	char msg[800];
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return nvz_err(err, code, ENOENT, "cannot run %s (CRIU in vz.conf; "
			       "scripts/install-criu provides one)", criu);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
		return nvz_err(err, code, EIO, "criu %s: cannot enter the CT's network namespace", what);
	log_error(log, msg, sizeof(msg));
	return nvz_err(err, code, EIO, "criu %s failed: %s (log: %s)%s%s", what, msg, shown,
		       before ? "; before it, the CT's cgroups: " : "", before ? before : "");
}

/* Whether this host's own mount table has a mount at root + mnt: made on
 * the host (an admin's CTID.mount binding a host directory into the CT),
 * which nothing in the CT can fake, unlike a path it could resolve. */
bool nvz_cpt_host_mount_at(const char *root, const char *mnt)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t rlen = strlen(root);
	char line[4096], point[PATH_MAX];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && !strncmp(point, root, rlen) &&
		    !strcmp(point + rlen, mnt))
			return true;
	return false;
}

/* A mount point inside the CT that is a plain path (no escapes, no "..",
 * not the root). */
bool nvz_cpt_plain_mount_point(const char *mnt)
{
	return mnt[0] == '/' && mnt[1] && !strchr(mnt, '\\') && !strstr(mnt, "..");
}

/* --external mnt[...] for mounts criu cannot or must not dump, as keys the
 * restore maps to this host's paths: FUSE files (the monitor's beancounter
 * file, lxcfs views), /dev/null over masked /proc files, the empty masks
 * over /proc directories, the console pty, host directories an action
 * script bound (all from the host). Appended to a (dump) and to keys (for
 * restore). */
static int add_externals(struct nvz_cpt_args *a, pid_t pid, const char *ve_root, struct nvz_cpt_args *keys, char **cgfs,
			 struct nvz_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "open %s", path);
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		char root[1024], mnt[1024], fstype[256];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%255s", fstype) != 1)
			continue;
		char key[1100];
		if (!strcmp(fstype, "fuse.nvz-bc"))
			snprintf(key, sizeof(key), "nvz-bcfs");
		else if (!strcmp(fstype, "fuse.lxcfs"))
			snprintf(key, sizeof(key), "nvz-lxcfs:%s", mnt);
		else if (!strcmp(mnt, "/dev/console"))
			snprintf(key, sizeof(key), "nvz-console");
		else if (!strcmp(fstype, "devtmpfs") && !strcmp(root, "/null"))
			snprintf(key, sizeof(key), "nvz-devnull");
		else if (!strcmp(mnt, "/sys/fs/cgroup") && !*cgfs &&
			 !strcmp(fstype, "tmpfs") &&
			 (*cgfs = nvz_cpt_cgfs_list(pid)))
			/* nvz's tmpfs of cgroup mountpoints (cgfs.c). */
			snprintf(key, sizeof(key), NVZ_CPT_CGFS_KEY);
		else if (!strcmp(mnt, "/proc/acpi") || !strcmp(mnt, "/proc/scsi") ||
			 !strcmp(mnt, "/sys/fs/fuse/connections"))
			/* nvz's empty read-only mask over a /proc directory (or fusectl)
			 * (a bind of an empty directory of the CT's /dev at start,
			 * of the restore's own once restored; a tmpfs before
			 * 2026-12): nothing to save, and criu would run tar +
			 * gzip on it in the freeze window, and again on restore. */
			snprintf(key, sizeof(key), "nvz-empty:%s", mnt);
		else if (nvz_cpt_plain_mount_point(mnt) && nvz_cpt_host_mount_at(ve_root, mnt))
			/* The restore's mount runs the script again first. */
			snprintf(key, sizeof(key), "nvz-host:%s", mnt);
		else
			continue;
		nvz_cpt_arg(a, "--external");
		nvz_cpt_arg(a, "mnt[%s]:%s", mnt, key);
		nvz_cpt_arg(keys, "%s", key);
	}
	return 0;
}

/* The CT's network namespace, for criu to run in: a namespace criu runs in
 * is not one it saves or makes; it saves and restores only the sockets in
 * it. nvz makes the namespace again at restore from the CT's config (lo,
 * venet0, NETIF) and starts criu in it, so the tasks stay there. criu's own
 * way (the namespace in the images, or as --external net[]) is one `ip`
 * process per table, a sysctl read per device, the conntrack tables and a
 * sysfs mount each way: ~35-60 ms of the freeze. Not for a CT in a user
 * namespace of its own: its netns must belong to that user namespace,
 * which criu makes. What the CT changed in its netns itself (its own
 * interfaces, addresses, net.* sysctls) is not carried. -1 if not. */
static int ct_netns(pid_t pid)
{
	char path[64];
	if (nvz_ns_cmp(pid, "user") != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The console's tty as criu names it: "tty[rdev:dev]" in hex. */
static int console_key(pid_t pid, char *buf, size_t len)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/root/dev/console", (int)pid);
	if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
		return -1;
	snprintf(buf, len, "tty[%llx:%llx]", (unsigned long long)st.st_rdev,
		 (unsigned long long)st.st_dev);
	return 0;
}

static int write_live(const struct nvz_cpt_dump_spec *s, struct nvz_error **err)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/" NVZ_CPT_LIVE, s->dir) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	return nvz_write_runtime_atomic(path, s->live_conf, strlen(s->live_conf), 0600, err);
}

/* What completes a dump once criu has written its images: the tmpfs
 * contents (cloned while frozen), the executables mended, nvz's files. */
struct dump_rest {
	const struct nvz_cpt_dump_spec *s;
	struct nvz_cpt_tmpfs *tmpfs;
	char **tmpfs_list;
	const char *tty;
	char *const *keys;
	bool own_net;
	const char *cgfs;
	int last_pid; /* the CT's pid counter before the freeze, or -1 */
};

static int write_meta(const struct nvz_cpt_dump_spec *s, const struct dump_rest *c, const char *tmpfs,
		      struct nvz_error **err)
{
	char *const *keys = c->keys;
	cleanup_free char *path = NULL, *text = NULL, *list = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&list, &len);
	for (char *const *k = keys; m && k && *k; k++)
		fprintf(m, "%s%s", k == keys ? "" : " ", *k);
	if (!m || fclose(m) != 0 || asprintf(&path, "%s/" NVZ_CPT_META, s->dir) < 0 ||
	    asprintf(&text, "# nvz checkpoint of a container: CRIU images in this directory\n"
			    "TTY=\"%s\"\nEXTERNAL_MOUNTS=\"%s\"\nIP_ADDRESS=\"%s\"\nCGROUP_ROOT=\"%s\"\n"
			    "CGROUP_VERSION=\"%d\"\nNETNS=\"%s\"\nCGFS=\"%s\"\nTMPFS=\"%s\"\n"
			    "NETIF=\"%s\"\nUPTIME=\"%.3f\"\nNS_LAST_PID=\"%d\"\n%s",
		     c->tty, list ? list : "", s->ips ? s->ips : "", s->cgroup_root, s->cgroup_version,
		     c->own_net ? "nvz" : "criu", c->cgfs ? c->cgfs : "", tmpfs ? tmpfs : "",
		     s->netif ? s->netif : "", s->uptime, c->last_pid > 0 ? c->last_pid : 0,
		     s->lazy_port > 0 ? "LAZY=\"yes\"\n" : "") < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	/* Atomic (its presence marks a complete dump) but not fsync'd, as
	 * criu's own images are not: this runs while the CT is frozen (chkpnt
	 * then restore), and an fsync of the file and its directory forces a
	 * journal commit there, behind the writeback of whatever else is
	 * dirty on that file system. The dump reaches the disk with the
	 * images, by writeback. */
	return nvz_write_runtime_atomic(path, text, strlen(text), 0600, err);
}

/* The CT's tmpfs mounts nvz carries itself (tmpfs.h): externals for criu. */
static void add_tmpfs_externals(struct nvz_cpt_args *a, struct nvz_cpt_args *keys, const struct nvz_cpt_tmpfs *t)
{
	for (int i = 0; i < t->n; i++) {
		nvz_cpt_arg(a, "--external");
		nvz_cpt_arg(a, "mnt[%s]:" NVZ_CPT_TMPFS_KEY "%d", t->m[i].mnt, i);
		nvz_cpt_arg(keys, NVZ_CPT_TMPFS_KEY "%d", i);
	}
}

static void tmpfs_closep(struct nvz_cpt_tmpfs *t)
{
	nvz_cpt_tmpfs_close(t);
}


static int finish_dump(struct dump_rest *c, struct nvz_error **err)
{
	const struct nvz_cpt_dump_spec *s = c->s;
	if (nvz_cpt_tmpfs_save_all(c->tmpfs, s->dir, c->tmpfs_list, err) < 0)
		return -1;
	/* Never a reason to fail: criu may already have killed the CT, and a
	 * dump this cannot mend is still the dump (the restore says why).
	 * NVZ_TEST_DUMP_UNMENDED: a dump as an nvz before the mend made it
	 * (test_cpt.sh), which the restore mends. */
	if (!getenv("NVZ_TEST_DUMP_UNMENDED"))
		nvz_cpt_exe_fix(s->dir, NULL);
	if (s->live_conf && write_live(s, err) < 0)
		return -1;
	return write_meta(s, c, *c->tmpfs_list, err);
}

/* At post-dump, the tree still frozen: the dump completed (its tmpfs
 * saved before the tree writes on), then the caller's part. */
static int post_dump(void *arg, struct nvz_error **err)
{
	struct dump_rest *c = arg;
	if (finish_dump(c, err) < 0)
		return -1;
	return c->s->post_dump ? c->s->post_dump(c->s->post_dump_arg, err) : 0;
}

/* criu with its post-dump hook served (a snapshot's, a live migration's). */
static pid_t spawn_hooked(struct nvz_cpt_args *a, const struct nvz_cpt_dump_spec *s, int netns,
			  struct dump_rest *c, int *status, struct nvz_error **err)
{
	char script[4096];
	cleanup_free char *env = NULL;
	if (nvz_helper_path(NVZ_CPT_ACTION, script, sizeof(script)) < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "cannot run %s", script);
	if (s->leave_running)
		nvz_cpt_arg(a, "--leave-running");
	nvz_cpt_arg(a, "--action-script");
	nvz_cpt_arg(a, "%s", script);
	/* A tree criu kills after the hook: the script waits for this process
	 * (whose answer alone may let the tree run on) however long it takes. */
	cleanup_free char *waiter = NULL;
	if (a->oom || asprintf(&env, NVZ_CPT_HOOK_ENV "=%s", s->dir) < 0 ||
	    (!s->leave_running && asprintf(&waiter, NVZ_CPT_HOOK_WAITER_ENV "=%d", (int)getpid()) < 0))
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	struct nvz_cpt_hook hook;
	pid_t pid = nvz_cpt_hook_open(&hook, s->dir, err) < 0 ? -1
		    : nvz_cpt_spawn(a->v, (char *[]){ env, waiter, NULL }, -1, netns, NULL, err);
	struct nvz_error *hook_err = NULL;
	if (pid > 0 && nvz_cpt_hook_wait(&hook, pid, post_dump, c, status, &hook_err) < 0) {
		/* criu failed because of it: that is the error to show. */
		if (err) {
			nvz_error_free(*err);
			*err = steal_ptr(&hook_err);
		}
		nvz_error_free(hook_err);
		pid = -1;
	} else {
		nvz_error_free(hook_err);
	}
	nvz_cpt_hook_close(&hook);
	return pid;
}

static int dump_run(const struct nvz_cpt_dump_spec *s, struct nvz_error **err)
{
	struct nvz_cpt_args a = { 0 }, keys = { 0 };
	char tty[96] = "", nested[128];
	/* Before the freeze: criu would refuse it, or kill a CT it cannot restore. */
	if (nvz_cpt_own_userns(s->init_pid))
		return nvz_err(err, NVZ_E_CHKPNT, EOPNOTSUPP,
			       "the container cannot be checkpointed: " NVZ_CPT_USERNS_WHY);
	if (nvz_cpt_nested_ns(s->init_pid, nested, sizeof(nested)))
		return nvz_err(err, NVZ_E_CHKPNT, EBUSY,
			       "%s, which a checkpoint cannot take along: stop that process, or %s", nested,
			       s->nesting ? "turn nesting off (--features nesting:off --save) and restart "
					    "the container"
					  : "restart the container (its services then run without one)");
	nvz_cpt_common(&a, s->criu, s->dir, s->root);
	nvz_cpt_arg(&a, "dump");
	nvz_cpt_add_yard(&a, s->rundir);
	nvz_cpt_arg(&a, "-t");
	nvz_cpt_arg(&a, "%d", (int)s->init_pid);
	nvz_cpt_arg(&a, "-o");
	nvz_cpt_arg(&a, "dump.log");
	/* iptables is not installed here; nftables locks the network while
	 * the tree is frozen, and criu restore unlocks it by the method the
	 * images name (~15 ms of libnftables inside the freeze window). A CT
	 * without venet0 and NETIF has no link whose other end is outside its
	 * frozen tree: no packet can arrive, there is nothing to lock. */
	nvz_cpt_arg(&a, "--network-lock");
	nvz_cpt_arg(&a, "%s", s->isolated ? "skip" : "nftables");
	if (s->lazy_port > 0) {
		/* Post-copy: on the loopback only; ssh forwards it (lazy.c). */
		nvz_cpt_arg(&a, "--lazy-pages");
		nvz_cpt_arg(&a, "--address");
		nvz_cpt_arg(&a, "127.0.0.1");
		nvz_cpt_arg(&a, "--port");
		nvz_cpt_arg(&a, "%d", s->lazy_port);
	}
	if (s->freezer) {
		nvz_cpt_arg(&a, "--freeze-cgroup");
		nvz_cpt_arg(&a, "%s", s->freezer);
	}
	if (s->prev) {
		nvz_cpt_arg(&a, "--track-mem");
		nvz_cpt_arg(&a, "--prev-images-dir");
		nvz_cpt_arg(&a, "%s", s->prev);
	}
	if (console_key(s->init_pid, tty, sizeof(tty)) == 0) {
		nvz_cpt_arg(&a, "--external");
		nvz_cpt_arg(&a, "%s", tty);
	}
	cleanup_close int netns = s->net_from_config ? ct_netns(s->init_pid) : -1;
	bool own_net = netns >= 0;
	cleanup_free char *cgfs = NULL;
	int r = add_externals(&a, s->init_pid, s->root, &keys, &cgfs, err);
	__attribute__((cleanup(tmpfs_closep))) struct nvz_cpt_tmpfs tmpfs = { 0 };
	if (r == 0) {
		nvz_cpt_tmpfs_grab(s->init_pid, &tmpfs);
		add_tmpfs_externals(&a, &keys, &tmpfs);
	}
	if (r == 0 && (a.oom || keys.oom))
		r = nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	/* Just before the freeze: criu kills the processes after the dump. */
	cleanup_free char *cglist = NULL, *cgprocs = NULL;
	if (r == 0 && (asprintf(&cglist, "%s/" NVZ_CPT_CGROUPS, s->dir) < 0 ||
		       asprintf(&cgprocs, "%s/" NVZ_CPT_CGROUP_PROCS, s->dir) < 0))
		r = nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	if (r == 0)
		r = nvz_cpt_cgroups_save(s->cgroup_root, cglist, cgprocs, err);
	if (r == 0)
		r = nvz_cpt_cgprops_dump(s->cgroup_root, s->dir, err);
	pid_t pid = -1;
	int status = 0;
	cleanup_free char *tmpfs_list = NULL;
	/* Read before the freeze: a process made after it gets a larger pid,
	 * which the restore's counter skips as taken. */
	struct dump_rest rest = { s, &tmpfs, &tmpfs_list, tty, keys.v, own_net, cgfs,
				  r == 0 ? nvz_cpt_last_pid_read(s->init_pid) : -1 };
	bool hooked = s->leave_running || s->post_dump;
	if (r == 0 && hooked) {
		pid = spawn_hooked(&a, s, netns, &rest, &status, err);
	} else if (r == 0 && s->lazy_port > 0) {
		/* Ready: the images are written, the page server listens. */
		if (nvz_cpt_spawn_ready(a.v, netns, NULL, &pid, &status, err) == 0)
			*s->lazy_pid = pid;
		else if (pid < 0)
			r = -1;
	} else if (r == 0) {
		pid = nvz_cpt_spawn(a.v, NULL, -1, netns, NULL, err);
	}
	while (pid > 0 && s->lazy_port <= 0 && !hooked && waitpid(pid, &status, 0) < 0 &&
	       errno == EINTR)
		;
	if (pid > 0 && status != 0) {
		cleanup_free char *log = NULL, *shown = NULL;
		if (asprintf(&log, "%s/dump.log", s->dir) < 0 ||
		    asprintf(&shown, "%s.failed.log", s->dir) < 0)
			r = nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
		else
			r = nvz_cpt_criu_failed("dump", s->criu, log, shown, NULL, status, NVZ_E_CHKPNT, err);
	} else if (pid < 0) {
		r = -1;
	}
	/* criu killed the CT: the clones hold what its tmpfs had when frozen.
	 * A hooked dump was completed at post-dump. */
	if (r == 0 && !hooked)
		r = finish_dump(&rest, err);
	nvz_strv_free(a.v);
	nvz_strv_free(keys.v);
	return r;
}

int nvz_cpt_dump(const struct nvz_cpt_dump_spec *s, struct nvz_error **err)
{
	if (!s->prev && mkdir(s->dir, 0700) < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "create dump directory %s", s->dir);
	if (dump_run(s, err) < 0) {
		/* Keep criu's log beside the dump path: it says why. */
		cleanup_free char *log = NULL, *keep = NULL;
		if (asprintf(&log, "%s/dump.log", s->dir) >= 0 &&
		    asprintf(&keep, "%s.failed.log", s->dir) >= 0)
			rename(log, keep);
		nvz_rm_rf(s->dir, NULL);
		return -1;
	}
	return 0;
}

bool nvz_cpt_mem_track(const char *criu)
{
	static char *asked;
	static bool answer;
	if (asked && !strcmp(asked, criu))
		return answer;
	/* criu's own probe: it touches a page, clears the soft-dirty bits and
	 * looks for the bit in pagemap (its kerndat, cached by criu in /run). */
	char *const argv[] = { (char *)criu, "check", "--feature", "mem_dirty_track", NULL };
	pid_t pid = nvz_cpt_spawn(argv, NULL, -1, -1, NULL, NULL);
	int status = -1;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(asked);
	asked = strdup(criu);
	answer = pid > 0 && status == 0;
	return answer;
}

int nvz_cpt_predump(const struct nvz_cpt_predump_spec *s, struct nvz_error **err)
{
	if (nvz_cpt_own_userns(s->init_pid))
		return nvz_err(err, NVZ_E_CHKPNT, EOPNOTSUPP,
			       "the container cannot be checkpointed: " NVZ_CPT_USERNS_WHY);
	if (mkdir(s->dir, 0700) < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "create pre-dump directory %s", s->dir);
	struct nvz_cpt_args a = { 0 };
	nvz_cpt_arg(&a, "%s", s->criu);
	nvz_cpt_arg(&a, "pre-dump");
	nvz_cpt_arg(&a, "-D");
	nvz_cpt_arg(&a, "%s", s->dir);
	nvz_cpt_arg(&a, "-v2");
	nvz_cpt_arg(&a, "-o");
	nvz_cpt_arg(&a, "predump.log");
	nvz_cpt_arg(&a, "--root");
	nvz_cpt_arg(&a, "%s", s->root);
	nvz_cpt_arg(&a, "-t");
	nvz_cpt_arg(&a, "%d", (int)s->init_pid);
	nvz_cpt_arg(&a, "--track-mem");
	if (s->prev) {
		nvz_cpt_arg(&a, "--prev-images-dir");
		nvz_cpt_arg(&a, "%s", s->prev);
	}
	if (s->freezer) {
		nvz_cpt_arg(&a, "--freeze-cgroup");
		nvz_cpt_arg(&a, "%s", s->freezer);
	}
	pid_t pid = a.oom ? nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory")
			  : nvz_cpt_spawn(a.v, NULL, -1, -1, NULL, err);
	nvz_strv_free(a.v);
	int status = 0, r = pid < 0 ? -1 : 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && status != 0) {
		cleanup_free char *log = NULL;
		r = asprintf(&log, "%s/predump.log", s->dir) < 0
			    ? nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory")
			    : nvz_cpt_criu_failed("pre-dump", s->criu, log, s->failed_log, NULL, status,
					  NVZ_E_CHKPNT, err);
		if (log)
			rename(log, s->failed_log);
	}
	if (r < 0)
		nvz_rm_rf(s->dir, NULL);
	return r;
}

