/* vzctl's side of the monitor hub (hub.h): find or start the server's hub
 * and have it fork this start's monitor; the monitor lock. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/child.h"
#include "ct/console.h"
#include "ct/hub-proto.h"
#include "ct/hub.h"
#include "ct/monwait.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/ctx.h"
#include "nvz/fs.h"

const char *const hub_ns_names[HUB_NS_COUNT] = { "net", "mnt", "pid", "ipc", "uts", "user", "cgroup" };

void hub_ns_ids(uint64_t *ns)
{
	for (size_t i = 0; i < HUB_NS_COUNT; i++) {
		char path[32];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", hub_ns_names[i]);
		ns[i] = stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
	}
}

static int hub_path(const struct nvz_ct *ct, const char *name, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	const char *rundir = nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz");
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", rundir, name);
	if (n < 0 || n >= (int)sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int hub_connect(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* vzctl beside the running binary (vzmigrate starts hubs too). */
static int vzctl_path(char *path, size_t len)
{
	char dir[PATH_MAX];
	nvz_self_dir(dir, sizeof(dir));
	if (!*dir || snprintf(path, len, "%s/vzctl", dir) >= (int)len)
		return -1;
	return access(path, X_OK);
}

/* The hub, daemonised (two forks, its own session, nothing of ours open
 * but its listening socket), on a socket bound before it runs: a connect
 * right after this one waits in the backlog instead of failing. */
static int hub_start(const struct sockaddr_un *sa, struct nvz_error **err)
{
	char exe[PATH_MAX], hub[PATH_MAX];
	if (vzctl_path(exe, sizeof(exe)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "find vzctl for the monitor hub");
	if (nvz_helper_path("vzhub", hub, sizeof(hub)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "find the monitor hub (%s)", hub);
	/* The vzctl the hub serves: the binary whose starts it takes. */
	cleanup_close int vzctl_fd = open(exe, O_PATH | O_CLOEXEC);
	if (vzctl_fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", exe);
	unlink(sa->sun_path);
	cleanup_close int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	/* Root's only (the hub checks the peer too). */
	if (lfd < 0 || bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    chmod(sa->sun_path, 0600) < 0 || listen(lfd, 128) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "listen on %s", sa->sun_path);
	pid_t pid = fork();
	if (pid < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "fork the monitor hub");
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		/* Above 4 first: neither may land on the other's number. */
		int l = fcntl(lfd, F_DUPFD, 5), v = fcntl(vzctl_fd, F_DUPFD, 5);
		if (l < 0 || v < 0 || dup2(l, 3) < 0 || dup2(v, 4) < 0)
			_exit(1);
		syscall(SYS_close_range, 5, ~0U, 0);
		char *argv[] = { "vzhub", "3", "4", NULL };
		execv(hub, argv);
		_exit(1);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Connect to the hub, starting one if there is none and may_start (one
 * at a time: the lock file beside the socket). None and !may_start: -1,
 * *err untouched. */
static int hub_open(const struct nvz_ct *ct, bool may_start, struct nvz_error **err)
{
	struct sockaddr_un sa, lock;
	if (hub_path(ct, HUB_SOCK, &sa) < 0 || hub_path(ct, "hub.lock", &lock) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "monitor hub socket");
	int fd = hub_connect(&sa);
	bool none = fd < 0 && (errno == ENOENT || errno == ECONNREFUSED);
	if (!none || !may_start)
		return fd >= 0 || none ? fd : nvz_err_sys(err, NVZ_E_SYSTEM, errno, "connect %s", sa.sun_path);
	const char *rundir = nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz");
	if (nvz_mkdir_p(rundir, 0755, err) < 0)
		return -1;
	cleanup_close int lk = open(lock.sun_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lk < 0 || flock(lk, LOCK_EX) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "lock %s", lock.sun_path);
	fd = hub_connect(&sa);
	if (fd < 0 && hub_start(&sa, err) == 0)
		fd = hub_connect(&sa);
	if (fd < 0 && !*err)
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "connect %s", sa.sun_path);
	return fd;
}

/* A request of vzctl's binary, namespaces and vz.conf; dumpdir: a
 * restore's images. */
static int hub_request_init(const struct nvz_ct *ct, const char *dumpdir, struct hub_request *rq,
			    struct nvz_error **err)
{
	struct stat self;
	if (stat("/proc/self/exe", &self) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "stat /proc/self/exe");
	*rq = (struct hub_request){ .magic = HUB_MAGIC, .size = sizeof(*rq), .exe_dev = self.st_dev,
				    .exe_ino = self.st_ino, .veid = ct->veid, .skiplock = ct->ctx->skiplock };
	hub_ns_ids(rq->ns);
	for (int r = 0; r < RLIM_NLIMITS; r++)
		if (getrlimit(r, &rq->rlim[r]) < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "getrlimit %d", r);
	if (snprintf(rq->vzconf, sizeof(rq->vzconf), "%s", ct->ctx->conf_path) >= (int)sizeof(rq->vzconf) ||
	    snprintf(rq->dumpdir, sizeof(rq->dumpdir), "%s", dumpdir ? dumpdir : "") >= (int)sizeof(rq->dumpdir))
		return nvz_err(err, NVZ_E_SYSTEM, ENAMETOOLONG, "path too long for the monitor hub");
	return 0;
}

/* rq and its descriptors to the hub; its one-byte answer, within
 * timeout_ms. Twice at most: a hub of an older vzctl answers 'r' and gives
 * its socket up for ours. */
static char hub_call(const struct nvz_ct *ct, bool may_start, const struct hub_request *rq,
		     const int *fds, size_t nfds, int timeout_ms, struct nvz_error **err)
{
	char answer = 0;
	for (int tries = 0; tries < 2 && answer != 'y' && answer != 'n'; tries++) {
		cleanup_close int fd = hub_open(ct, may_start, err);
		if (fd < 0)
			break;
		if (nvz_send_msg(fd, rq, sizeof(*rq), fds, nfds) < 0) {
			nvz_err_sys(err, NVZ_E_SYSTEM, errno, "send to the monitor hub");
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) != 1 || read(fd, &answer, 1) != 1) {
			nvz_err(err, NVZ_E_SYSTEM, EPROTO, "no answer from the monitor hub");
			break;
		}
	}
	return answer;
}

void nvz_hub_take_start_limits(const struct nvz_ct *ct)
{
	struct nvz_runstate rs;
	if (nvz_runstate_read(ct, &rs) == 0 && rs.has_limits)
		nvz_rlimits_set(rs.limits);
}

int nvz_hub_spawn_monitor(struct nvz_ct *ct, const char *dumpdir, int report, int go, int exec,
			  struct nvz_error **err)
{
	struct hub_request rq;
	if (hub_request_init(ct, dumpdir, &rq, err) < 0)
		return -1;
	rq.have_exec = exec >= 0;
	rq.have_lock = ct->lockfd >= 0;
	rq.have_lazy = ct->lazy_ready_fd > 0;
	int fds[HUB_FDS_MAX] = { report, go };
	size_t n = 2;
	if (exec >= 0)
		fds[n++] = exec;
	if (ct->lockfd >= 0)
		fds[n++] = ct->lockfd;
	if (ct->lazy_ready_fd > 0)
		fds[n++] = ct->lazy_ready_fd;
	/* The hub answers once it has forked (or refused). */
	char answer = hub_call(ct, true, &rq, fds, n, 5000, err);
	if (answer != 'y' && !*err)
		nvz_err(err, NVZ_E_SYSTEM, EPROTO, "the monitor hub did not take the start");
	return answer == 'y' ? 0 : -1;
}

int nvz_ct_adopt_if_orphaned(struct nvz_ct *ct, struct nvz_error **err)
{
	struct nvz_runstate rs;
	if (!nvz_ct_orphaned(ct, &rs))
		return 0;
	/* A CT the admin gave a monitor of its own (MONITOR_HUB="no") is
	 * taken by a hub that runs, but starts none. */
	bool may_start = strcmp(nvz_ct_get(ct, "MONITOR_HUB", "yes"), "no") != 0;
	struct hub_request rq;
	if (hub_request_init(ct, NULL, &rq, err) < 0)
		return -1;
	rq.adopt = 1;
	/* The hub answers once it has looked at every CT of the server. */
	char answer = hub_call(ct, may_start, &rq, NULL, 0, 10000, err);
	if (answer == 'y')
		return 1;
	if (!answer && !*err) /* no hub, and not ours to start */
		return 0;
	if (!*err)
		nvz_err(err, NVZ_E_SYSTEM, EPROTO, "the monitor hub did not take over CT %s", ct->id);
	return -1;
}

/* The token: RUNDIR/<id>/monitor.lock. */
static char *token_path(const struct nvz_ct *ct)
{
	char *p = NULL;
	return asprintf(&p, "%s/monitor.lock", ct->rundir) < 0 ? NULL : p;
}

int nvz_ct_monitor_token(const struct nvz_ct *ct)
{
	cleanup_free char *path = token_path(ct);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	if (fd < 0)
		return -1;
	/* Free now: left by a hub that is done, nothing to wait for. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int nvz_ct_monitor_token_take(const struct nvz_ct *ct, struct nvz_error **err)
{
	cleanup_free char *path = token_path(ct);
	if (!path)
		return nvz_err_sys(err, NVZ_E_SYSTEM, ENOMEM, "monitor lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "lock %s", path);
	}
	return fd;
}

bool nvz_ct_monitor_token_wait(int fd, int timeout_ms)
{
	/* Looked at every 0.5 ms: the holder is the after-exit work, which
	 * lets go as soon as it sees the CT's state gone. */
	for (int i = 0; i < timeout_ms * 2; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return true;
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

int nvz_hub_hand_over(int hub_fd, const struct nvz_monwait *m, int token)
{
	struct hub_handover ho = { .magic = HUB_MAGIC, .veid = m->veid, .init_pid = m->init_pid,
				   .bc_mounted_at = m->bc_mounted_at };
	snprintf(ho.rundir, sizeof(ho.rundir), "%s", m->rundir);
	snprintf(ho.lockpath, sizeof(ho.lockpath), "%s", m->lockpath);
	const int all[] = { m->master, m->slave, m->logfd, m->listen_fd, m->bc_fd, token };
	int fds[HUB_FDS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] >= 0) {
			ho.have |= 1u << i;
			fds[n++] = all[i];
		}
	return nvz_send_msg(hub_fd, &ho, sizeof(ho), fds, n);
}
