#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cpt/tmpfs.h"
#include "ct/bcfs.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* /proc/<pid>/stat (NULL: no such process). */
static char *proc_stat(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *buf = NULL;
	size_t len;
	if (pid <= 0 || nvz_read_file(path, 4096, &buf, &len, NULL) < 0)
		return NULL;
	return buf;
}

/* Where field n (1-based, n >= 3) of a stat line starts. comm may hold
 * spaces and parentheses: fields restart after the last ')'. */
static const char *stat_field(const char *buf, int n)
{
	const char *p = buf ? strrchr(buf, ')') : NULL;
	if (!p || p[1] != ' ')
		return NULL;
	p += 2;
	for (int field = 3; field < n && p; field++)
		if ((p = strchr(p, ' ')))
			p++;
	return p;
}

unsigned long long nvz_proc_starttime(pid_t pid)
{
	cleanup_free char *buf = proc_stat(pid);
	const char *p = stat_field(buf, 22);
	return p ? strtoull(p, NULL, 10) : 0;
}

bool nvz_proc_alive(pid_t pid, unsigned long long start)
{
	cleanup_free char *buf = proc_stat(pid);
	const char *state = stat_field(buf, 3), *since = stat_field(buf, 22);
	/* A zombie init is a stopped CT. */
	return start && since && strtoull(since, NULL, 10) == start && *state != 'Z' &&
	       *state != 'X';
}

int nvz_proc_zombie_status(pid_t pid, unsigned long long start)
{
	cleanup_free char *buf = proc_stat(pid);
	const char *state = stat_field(buf, 3), *since = stat_field(buf, 22),
		   *status = stat_field(buf, 52);
	if (!status || *state != 'Z' || strtoull(since, NULL, 10) != start)
		return -1;
	return (int)strtol(status, NULL, 10);
}

/* LIMITS="cur:max ..." in resource order; RLIM_INFINITY as -1. */
static bool limits_parse(const char *v, struct rlimit *rl)
{
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		char *end;
		for (int i = 0; i < 2; i++) {
			errno = 0;
			long long n = strtoll(v, &end, 10);
			if (errno || end == v || *end != (i ? (r + 1 < RLIM_NLIMITS ? ' ' : '\0') : ':') ||
			    n < -1)
				return false;
			rlim_t val = n < 0 ? RLIM_INFINITY : (rlim_t)n;
			*(i ? &rl[r].rlim_max : &rl[r].rlim_cur) = val;
			v = end + (*end != '\0');
		}
	}
	return true;
}

static void limits_print(FILE *f, const struct rlimit *rl)
{
	for (int r = 0; r < RLIM_NLIMITS; r++)
		fprintf(f, "%s%lld:%lld", r ? " " : "",
			rl[r].rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl[r].rlim_cur,
			rl[r].rlim_max == RLIM_INFINITY ? -1LL : (long long)rl[r].rlim_max);
}

static char *state_path(const struct nvz_ct *ct)
{
	char *s = NULL;
	if (asprintf(&s, "%s/state", ct->rundir) < 0)
		return NULL;
	return s;
}

/* The state, parsed; *out NULL and 0 if there is none. */
static int state_load(const struct nvz_ct *ct, struct nvz_conf **out, struct nvz_error **err)
{
	*out = NULL;
	cleanup_free char *path = state_path(ct);
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return nvz_conf_load_optional(out, path, NVZ_E_SYSTEM, err);
}

int nvz_runstate_read(const struct nvz_ct *ct, struct nvz_runstate *rs)
{
	memset(rs, 0, sizeof(*rs));
	struct nvz_conf *c = NULL;
	struct nvz_error *e = NULL;
	int r = state_load(ct, &c, &e);
	nvz_error_free(e);
	if (r < 0 || !c)
		return -1;
	const char *v;
	if ((v = nvz_conf_get(c, "INIT_PID")))
		rs->init_pid = (pid_t)atoi(v);
	if ((v = nvz_conf_get(c, "INIT_START")))
		rs->init_start = strtoull(v, NULL, 10);
	if ((v = nvz_conf_get(c, "MONITOR_PID")))
		rs->monitor_pid = (pid_t)atoi(v);
	if ((v = nvz_conf_get(c, "MONITOR_START")))
		rs->monitor_start = strtoull(v, NULL, 10);
	if ((v = nvz_conf_get(c, "LIMITS")))
		rs->has_limits = limits_parse(v, rs->limits);
	nvz_conf_free(c);
	return 0;
}

static void conf_freep(struct nvz_conf **c)
{
	int e = errno;
	nvz_conf_free(*c);
	errno = e;
}

/* A CT's init is cloned with a copy of the hub's descriptors (not
 * CLONE_FILES). Cloned while another thread holds a state's flock, it would
 * hold that lock too, until its exec: a writer would then wait for another
 * CT's start, which may itself wait for the hub's loop. So a clone waits
 * until no update is under way. */
static pthread_rwlock_t updates = PTHREAD_RWLOCK_INITIALIZER;

void nvz_runstate_updates_hold(void)
{
	pthread_rwlock_wrlock(&updates);
}

void nvz_runstate_updates_release(void)
{
	pthread_rwlock_unlock(&updates);
}

static void updates_done(bool *reading)
{
	if (*reading)
		pthread_rwlock_unlock(&updates);
}

/* Each writer of the state changes its own keys and keeps the others: the
 * start's record and a hub's adoption (the processes), the resources
 * applied at a start, a restore or a live set. A read, change and whole
 * rewrite, under an flock of the CT's run directory, for writers that may
 * meet (a hub adopting the CT while a set runs); readers need no lock, the
 * rename is atomic. */
static int state_update(const struct nvz_ct *ct,
			int (*change)(struct nvz_conf *c, const void *arg, struct nvz_error **err),
			const void *arg, struct nvz_error **err)
{
	if (nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return -1;
	/* Released after the directory is closed (cleanups run in reverse). */
	__attribute__((cleanup(updates_done), unused)) bool reading =
		pthread_rwlock_rdlock(&updates) == 0;
	cleanup_close int dir = open(ct->rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int locked = -1;
	while (dir >= 0 && (locked = flock(dir, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (locked < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "lock %s", ct->rundir);
	__attribute__((cleanup(conf_freep))) struct nvz_conf *c = NULL;
	if (state_load(ct, &c, err) < 0)
		return -1;
	if (!c && !(c = nvz_conf_new()))
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (change(c, arg, err) < 0)
		return -1;
	cleanup_free char *path = state_path(ct);
	cleanup_free char *text = nvz_conf_format(c);
	if (!path || !text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return nvz_write_runtime_atomic(path, text, strlen(text), 0600, err);
}

static int set_number(struct nvz_conf *c, const char *key, long long v, struct nvz_error **err)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", v);
	return nvz_conf_set(c, key, s, err);
}

static int set_processes(struct nvz_conf *c, const void *arg, struct nvz_error **err)
{
	const struct nvz_runstate *rs = arg;
	cleanup_free char *limits = NULL;
	size_t len = 0;
	if (rs->has_limits) {
		FILE *f = open_memstream(&limits, &len);
		if (!f)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		limits_print(f, rs->limits);
		if (fclose(f) != 0)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	if (set_number(c, "INIT_PID", rs->init_pid, err) < 0 ||
	    set_number(c, "INIT_START", (long long)rs->init_start, err) < 0 ||
	    set_number(c, "MONITOR_PID", rs->monitor_pid, err) < 0 ||
	    set_number(c, "MONITOR_START", (long long)rs->monitor_start, err) < 0)
		return -1;
	return nvz_conf_set(c, "LIMITS", limits, err);
}

int nvz_runstate_write(const struct nvz_ct *ct, const struct nvz_runstate *rs,
		       struct nvz_error **err)
{
	return state_update(ct, set_processes, rs, err);
}

static int set_applied(struct nvz_conf *c, const void *arg, struct nvz_error **err)
{
	const struct nvz_conf *applied = arg;
	const char *key, *value;
	for (size_t i = 0; nvz_conf_entry(applied, i, &key, &value); i++)
		if (nvz_conf_set(c, key, value, err) < 0)
			return -1;
	return 0;
}

static char *resources_path(const struct nvz_ct *ct)
{
	char *s = NULL;
	return asprintf(&s, "%s/resources", ct->rundir) < 0 ? NULL : s;
}

int nvz_runstate_write_applied(const struct nvz_ct *ct, const struct nvz_conf *applied,
			       bool fresh, struct nvz_error **err)
{
	if (state_update(ct, set_applied, applied, err) < 0)
		return -1;
	/* A CT started by an older nvz is served by the older hub (or small
	 * monitor) until it stops, which reads its own file: kept current.
	 * A new run of the CT is ours: a file left by a crash goes. */
	cleanup_free char *old = resources_path(ct);
	if (old && fresh)
		unlink(old);
	if (!old || fresh || access(old, F_OK) < 0)
		return 0;
	cleanup_free char *text = nvz_conf_format(applied);
	if (!text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return nvz_write_runtime_atomic(old, text, strlen(text), 0644, err);
}

/* Each of the n files named in the CT's run directory. */
static void unlink_in_rundir(const struct nvz_ct *ct, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *f = NULL;
		if (asprintf(&f, "%s/%s", ct->rundir, names[i]) >= 0)
			unlink(f);
	}
}

void nvz_runstate_forget(const struct nvz_ct *ct)
{
	static const char *const files[] = { "state", "resources", "resources.live" };
	unlink_in_rundir(ct, files, sizeof(files) / sizeof(files[0]));
	rmdir(ct->rundir); /* if nothing else is left */
}

int nvz_runstate_read_applied(const struct nvz_ct *ct, struct nvz_conf **out,
			      struct nvz_error **err)
{
	if (state_load(ct, out, err) < 0)
		return -1;
	/* write_applied (resources.c) always sets it. */
	if (*out && nvz_conf_get(*out, "CPUUNITS"))
		return 0;
	/* A CT started by an older nvz has them in a file of their own. */
	nvz_conf_free(*out);
	*out = NULL;
	cleanup_free char *path = resources_path(ct);
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return nvz_conf_load_optional(out, path, NVZ_E_SYSTEM, err);
}

void nvz_runstate_make(const struct nvz_ct *ct, pid_t init_pid, pid_t monitor_pid,
		       struct nvz_runstate *rs)
{
	*rs = (struct nvz_runstate){
		.init_pid = init_pid,
		.init_start = nvz_proc_starttime(init_pid),
		.monitor_pid = monitor_pid,
		.monitor_start = nvz_proc_starttime(monitor_pid),
		.has_limits = ct->start_rlimits != NULL,
	};
	if (ct->start_rlimits)
		memcpy(rs->limits, ct->start_rlimits, sizeof(rs->limits));
}

void nvz_runstate_remove(const struct nvz_ct *ct)
{
	cleanup_free char *path = state_path(ct);
	if (path)
		unlink(path);
	/* A monitor that was killed leaves its beancounter FUSE mount stale. */
	cleanup_free char *bc = NULL;
	if (asprintf(&bc, "%s/bc", ct->rundir) >= 0)
		nvz_bcfs_clear_host(bc);
	/* NETDEV devices out of a CT that powered itself off (netdev.c). */
	nvz_netdev_release(ct);
	/* limits: an older nvz's file (the limits are in the state now). */
	static const char *const files[] = { "console.sock", "resources", "resources.live", "netif",
					     "uptime", "limits" };
	unlink_in_rundir(ct, files, sizeof(files) / sizeof(files[0]));
	/* A restore's /sys/fs/cgroup tmpfs (lib/cpt/cgfs.c), if a monitor died
	 * before it detached it. */
	cleanup_free char *cgfs = NULL;
	if (asprintf(&cgfs, "%s/cgfs", ct->rundir) >= 0) {
		umount2(cgfs, MNT_DETACH);
		rmdir(cgfs);
	}
	cleanup_free char *tmpfs = NULL;
	if (asprintf(&tmpfs, "%s/tmpfs", ct->rundir) >= 0)
		nvz_cpt_tmpfs_release(tmpfs);
	rmdir(ct->rundir);
}

int nvz_ct_init_pidfd(struct nvz_ct *ct, pid_t *pid)
{
	struct nvz_runstate rs;
	if (nvz_runstate_read(ct, &rs) < 0 || !nvz_proc_alive(rs.init_pid, rs.init_start))
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, rs.init_pid, 0);
	/* Re-check after opening: the pidfd pins this exact process. */
	if (fd >= 0 && !nvz_proc_alive(rs.init_pid, rs.init_start)) {
		close(fd);
		return -1;
	}
	if (pid)
		*pid = rs.init_pid;
	return fd;
}

int nvz_ct_get_state(struct nvz_ct *ct, struct nvz_ct_state *st, struct nvz_error **err)
{
	(void)err;
	memset(st, 0, sizeof(*st));
	st->exists = ct->conf_exists && nvz_path_exists(ct->private);
	st->mounted = nvz_is_mountpoint(ct->root);
	struct nvz_runstate rs;
	if (nvz_runstate_read(ct, &rs) == 0 && nvz_proc_alive(rs.init_pid, rs.init_start)) {
		st->running = true;
		st->init_pid = rs.init_pid;
		st->init_start = rs.init_start;
		cleanup_free char *base = nvz_ct_runtime_value(ct, "uptime", "UPTIME_BASE");
		st->uptime_base = base ? strtod(base, NULL) : 0;
		if (nvz_proc_alive(rs.monitor_pid, rs.monitor_start))
			st->monitor_pid = rs.monitor_pid;
	}
	/* Only a CT that exists is suspended (OpenVZ's status): a dump left
	 * behind by a CT whose private area is gone restores nothing. */
	cleanup_free char *dump = NULL;
	if (st->exists && !st->running && (dump = nvz_ct_dump_path(ct)))
		st->suspended = nvz_path_exists(dump);
	return 0;
}

double nvz_ct_uptime(const struct nvz_ct_state *st)
{
	/* starttime in /proc/<pid>/stat counts clock ticks since boot,
	 * suspend included, as CLOCK_BOOTTIME does. */
	struct timespec now;
	long tck = sysconf(_SC_CLK_TCK);
	if (!st->running || !st->init_start || tck <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) < 0)
		return -1;
	double up = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - (double)st->init_start / (double)tck;
	return (up < 0 ? 0 : up) + (st->uptime_base > 0 ? st->uptime_base : 0);
}

int nvz_ct_uptime_restored(const struct nvz_ct *ct, double base, struct nvz_error **err)
{
	cleanup_free char *path = NULL, *text = NULL;
	if (asprintf(&path, "%s/uptime", ct->rundir) < 0 ||
	    asprintf(&text, "UPTIME_BASE=\"%.3f\"\n", base) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (base <= 0) {
		unlink(path);
		return 0;
	}
	return nvz_write_runtime_atomic(path, text, strlen(text), 0600, err);
}

char *nvz_ct_runtime_value(const struct nvz_ct *ct, const char *file, const char *key)
{
	cleanup_free char *path = NULL;
	struct nvz_conf *c = NULL;
	if (asprintf(&path, "%s/%s", ct->rundir, file) < 0 ||
	    nvz_conf_load(&c, path, NVZ_E_SYSTEM, NULL) < 0)
		return NULL;
	const char *v = nvz_conf_get(c, key);
	char *out = v ? strdup(v) : NULL;
	nvz_conf_free(c);
	return out;
}
