/* The hub's side of a start (hub.h): each start's monitor runs in a thread
 * of the hub, a restore's in a child it runs anew; either hands its CT over to
 * the hub's main loop (hub.c) once init runs. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ct/console.h"
#include "ct/hub-proto.h"
#include "ct/hub.h"
#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/ctx.h"
#include "nvz/fs.h"

/* The vzctl we serve (our fd 4): each CT's after-exit work runs it. */
static int hub_vzctl_fd = -1;

void nvz_hub_set_vzctl(int fd)
{
	hub_vzctl_fd = fd;
}

void nvz_hub_child_reset(const int *keep, size_t n)
{
	nvz_close_fds_except(keep, n);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* The forked monitor: the CT as vzctl would open it, then the monitor's
 * usual life; it comes back to us at the hand-over (monitor.c). It keeps
 * the vzctl: a monitor that cannot hand over (we are gone) becomes the
 * small one, which runs that vzctl after init's exit. */
static __attribute__((noreturn)) void monitor_child(const struct hub_request *rq, int *fds,
						    size_t nfds, int hub_fd)
{
	int keep[NVZ_RECV_FDS_MAX + 2];
	memcpy(keep, fds, sizeof(int) * nfds);
	keep[nfds] = hub_fd;
	keep[nfds + 1] = hub_vzctl_fd;
	nvz_hub_child_reset(keep, nfds + 2);
	struct nvz_ctx *ctx = NULL;
	struct nvz_ct *ct = NULL;
	struct nvz_cgroup *cg = NULL;
	struct nvz_error *err = NULL;
	if (nvz_ctx_open(&ctx, NULL, NULL, &err) < 0 || nvz_ct_open(ctx, rq->veid, &ct, &err) < 0 ||
	    nvz_ct_cgroup(ct, &cg, &err) < 0) {
		/* vzctl, which opened neither, says why its start failed. */
		nvz_monitor_report_failure(fds[0], err);
		_exit(1);
	}
	ctx->skiplock = rq->skiplock;
	ctx->log_tag = ct->id;
	size_t i = 2;
	int exec_fd = rq->have_exec ? fds[i++] : -1;
	if (rq->have_lock)
		ct->lockfd = fds[i++];
	if (rq->have_lazy)
		ct->lazy_ready_fd = fds[i++];
	nvz_monitor_set_hub(hub_fd);
	nvz_monitor_main(ct, cg, fds[0], fds[1], exec_fd, rq->dumpdir[0] ? rq->dumpdir : NULL);
}

#define RESTORE_ARG "--restore-monitor"

/* A restore's monitor, in a process of its own: criu runs as its child,
 * which it waits for itself, and our other CTs are no business of criu's.
 * Forked, then our binary anew (vzhub --restore-monitor REQUEST HUB FD...,
 * the request in a pipe): we have threads, one of which may hold a heap
 * lock a forked child would find held for good, so the child only execs. */
static pid_t fork_monitor(const struct hub_request *rq, int *fds, size_t nfds, int *hub_fd)
{
	int sv[2], req[2] = { -1, -1 };
	/* Our binary, even if a new one was installed at its path since. */
	cleanup_close int self = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	if (self < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	/* Written before the fork: it fits in a pipe's buffer (if this one is
	 * smaller, the write fails rather than waits for a reader). */
	if (pipe2(req, O_CLOEXEC | O_NONBLOCK) < 0 || write(req[1], rq, sizeof(*rq)) != (ssize_t)sizeof(*rq)) {
		nvz_close_all(sv, 2);
		nvz_close_all(req, 2);
		return -1;
	}
	close(req[1]);
	int keep[NVZ_RECV_FDS_MAX + 4] = { req[0], sv[1], hub_vzctl_fd };
	size_t nkeep = 3;
	memcpy(keep + nkeep, fds, sizeof(int) * nfds);
	nkeep += nfds;
	char num[NVZ_RECV_FDS_MAX + 3][12];
	char *argv[NVZ_RECV_FDS_MAX + 6] = { "vzhub", RESTORE_ARG };
	for (size_t i = 0; i < nkeep; i++) {
		snprintf(num[i], sizeof(num[i]), "%d", keep[i]);
		argv[2 + i] = num[i];
	}
	keep[nkeep] = self; /* kept close-on-exec */
	pid_t pid = fork();
	if (pid == 0) {
		nvz_hub_child_reset(keep, nkeep + 1);
		for (size_t i = 0; i < nkeep; i++)
			if (keep[i] >= 0)
				fcntl(keep[i], F_SETFD, 0);
		execveat(self, "", argv, environ, AT_EMPTY_PATH);
		_exit(1); /* vzctl reads EOF on the report pipe: the start failed */
	}
	close(req[0]);
	close(sv[1]);
	if (pid < 0)
		close(sv[0]);
	else
		*hub_fd = sv[0];
	return pid;
}

int nvz_hub_restore_monitor_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], RESTORE_ARG) != 0 || argc - 2 < 5 ||
	    argc - 2 > NVZ_RECV_FDS_MAX + 3)
		return NVZ_E_SYNTAX;
	int fd[NVZ_RECV_FDS_MAX + 3];
	size_t n = (size_t)argc - 2;
	for (size_t i = 0; i < n; i++) {
		fd[i] = atoi(argv[2 + i]);
		/* Ours again only: criu and init get none of them. */
		if (fd[i] >= 0 && fcntl(fd[i], F_SETFD, FD_CLOEXEC) < 0)
			return 1;
	}
	struct hub_request rq;
	ssize_t got = read(fd[0], &rq, sizeof(rq));
	close(fd[0]);
	if (got != (ssize_t)sizeof(rq) || rq.magic != HUB_MAGIC || rq.size != sizeof(rq) ||
	    n - 3 != 2 + (size_t)!!rq.have_exec + (size_t)!!rq.have_lock + (size_t)!!rq.have_lazy)
		return 1;
	rq.vzconf[sizeof(rq.vzconf) - 1] = rq.dumpdir[sizeof(rq.dumpdir) - 1] = '\0';
	hub_vzctl_fd = fd[2];
	prctl(PR_SET_NAME, "vzmon-hub");
	monitor_child(&rq, fd + 3, n - 3, fd[1]);
}

/* A start's monitor in a thread of ours: no fork, no copy-on-write on
 * either side, no process to warm up or to tear down (on a paravirtualised
 * host those were a third of a start's CPU); init is our child from birth.
 * It owns the start's descriptors and its end of the socket pair, which
 * it closes last, once it has freed everything else. */
struct start_thread_args {
	struct hub_request rq;
	int fds[NVZ_RECV_FDS_MAX];
	size_t nfds;
	int hub_fd;
};

static void *start_thread(void *arg)
{
	struct start_thread_args *a = arg;
	struct nvz_ctx *ctx = NULL;
	struct nvz_ct *ct = NULL;
	struct nvz_cgroup *cg = NULL;
	struct nvz_error *err = NULL;
	if (nvz_ctx_open(&ctx, NULL, NULL, &err) < 0 || nvz_ct_open(ctx, a->rq.veid, &ct, &err) < 0 ||
	    nvz_ct_cgroup(ct, &cg, &err) < 0) {
		/* vzctl, which opened neither, says why its start failed. */
		nvz_monitor_report_failure(a->fds[0], err);
	} else {
		ctx->skiplock = a->rq.skiplock;
		ctx->log_tag = ct->id;
		ct->start_rlimits = a->rq.rlim;
		/* steal_fd evaluates its argument twice: no i++ in it. */
		int *next = &a->fds[2];
		int exec_fd = a->rq.have_exec ? steal_fd(next) : -1;
		if (a->rq.have_exec)
			next++;
		if (a->rq.have_lock)
			ct->lockfd = steal_fd(next);
		nvz_monitor_in_hub(ct, cg, a->fds[0], steal_fd(&a->fds[1]), exec_fd, a->hub_fd);
	}
	for (size_t i = 0; i < a->nfds; i++)
		if (a->fds[i] >= 0)
			close(a->fds[i]);
	nvz_cgroup_free(cg);
	nvz_ct_free(ct);
	nvz_ctx_free(ctx);
	close(a->hub_fd);
	free(a);
	return NULL;
}

static int thread_monitor(const struct hub_request *rq, int *fds, size_t *nfds, int *hub_fd)
{
	int sv[2];
	struct start_thread_args *a = calloc(1, sizeof(*a));
	if (!a || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(a);
		return -1;
	}
	*a = (struct start_thread_args){ .rq = *rq, .nfds = *nfds, .hub_fd = sv[1] };
	memcpy(a->fds, fds, sizeof(int) * *nfds);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int rc = pthread_create(&t, &attr, start_thread, a);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		close(sv[0]);
		close(sv[1]);
		free(a);
		return -1;
	}
	*nfds = 0; /* the thread's now */
	*hub_fd = sv[0];
	return 0;
}

int nvz_hub_start_monitor(const struct hub_request *rq, int *fds, size_t *nfds, int *hub_fd)
{
	if (rq->dumpdir[0])
		return fork_monitor(rq, fds, *nfds, hub_fd) > 0 ? 0 : -1;
	return thread_monitor(rq, fds, nfds, hub_fd);
}

int nvz_hub_vzctl_open(void)
{
	return hub_vzctl_fd >= 0 ? fcntl(hub_vzctl_fd, F_DUPFD_CLOEXEC, 3)
				 : open("/proc/self/exe", O_PATH | O_CLOEXEC);
}
