/* The monitor hub (hub.h): one process per server that runs each start's
 * monitor in a thread of its own (a restore's in a child it runs anew) and then
 * serves every running CT's host side: reaps init, drains its console (or
 * lends it to `vzctl console`), answers its beancounters' FUSE requests,
 * and hands init's exit to vzctl monitor-exit. A new hub also takes over
 * the CTs of one that was killed (hub-adopt.c). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ct/console.h"
#include "ct/hub-proto.h"
#include "ct/hub.h"
#include "ct/internal.h"
#include "ct/bcfs.h"
#include "ct/monwait.h"
#include "linux/trim.h"
#include "nvz/cleanup.h"
#include "nvz/ctx.h"
#include "nvz/fs.h"

#define HUB_IDLE_SECS 10

/* A running CT the hub serves. */
struct hub_ct {
	struct nvz_monwait m;
	struct nvz_bcraw *bc;
	int client; /* `vzctl console`, which has the master meanwhile */
	int token;
	int pidfd; /* an adopted CT's init (not our child), else -1 */
	unsigned long long init_start;
	int exit_status; /* an adopted init's, once gone (see gone) */
	bool gone;
	unsigned watched; /* the CT_W_* descriptors in the hub's epoll set */
	struct hub_ct *next;
};

/* A CT's descriptors the hub waits on, in an epoll set (struct hub
 * epfd): a wake-up costs the same with 500 CTs as with one, where a
 * poll over every CT's descriptors cost microseconds per CT each time. */
enum { CT_W_MASTER, CT_W_LISTEN, CT_W_CLIENT, CT_W_BC, CT_W_INIT, CT_W_KINDS };
/* The server's beancounter file system (bcsrv.c) in the same set: no CT. */
#define BCSRV_EVENT 0

/* A CT whose init a command (vzctl stop) ended: that command removes the
 * state and then waits for the token, which goes as soon as we see the
 * state gone (an inotify watch on its run directory), with no fork. */
struct hub_ending {
	struct nvz_monwait m;
	int token, status, wd;
	uint64_t since_ms;
	struct hub_ending *next;
};

/* A start's monitor (a thread of ours, or a child of ours for a restore),
 * until it hands its CT over (or fails: EOF). */
struct hub_pending {
	int fd;
	struct hub_pending *next;
};

/* A child reaped while starts were under way that no CT claimed: the init
 * of a start still in one of our threads, dead before its hand-over (a
 * start thread's init is our child from birth). Kept a while for it. */
struct hub_early_exit {
	pid_t pid;
	int status;
	uint64_t at_ms;
	struct hub_early_exit *next;
};
#define EARLY_EXIT_KEEP_MS 10000

struct hub {
	int listen_fd, sigfd, exe_fd;
	dev_t sock_dev;
	ino_t sock_ino;
	char sock_path[256];
	char pid_path[256];
	char exe_path[PATH_MAX];
	struct stat exe;
	const char *vzconf;
	struct hub_ct *cts;
	struct hub_pending *pending;
	struct hub_ending *ending;
	struct hub_early_exit *early;
	int inotify_fd;
	int epfd; /* every CT's console and beancounter descriptors */
	int bcsrv_fd; /* the FUSE device of the CTs' beancounter files, or -1 */
	time_t idle_since;
	uint64_t trim_at; /* CLOCK_MONOTONIC ms when to give memory back; 0: not due */
	bool term;
	bool adopt_due; /* the CTs of a hub killed before us: to look for */
	uint64_t adopt_at; /* CLOCK_MONOTONIC ms, not before */
	unsigned adopt_delay; /* ms to the next look while some stay busy */
	uint64_t ns[HUB_NS_COUNT];
};

#define TRIM_DELAY_MS 50
#define ADOPT_RETRY_MS 200
#define ADOPT_RETRY_MAX_MS 5000

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int *ct_watch_fd(struct hub_ct *c, int kind)
{
	int *fd[CT_W_KINDS] = { &c->m.master, &c->m.listen_fd, &c->client, &c->m.bc_fd, &c->pidfd };
	return fd[kind];
}

/* The console is drained (and `vzctl console` accepted) only while no
 * client has it; the beancounters are answered while their FUSE server is. */
static bool ct_watch_wanted(const struct hub_ct *c, int kind)
{
	if (kind == CT_W_INIT)
		return true;
	return kind == CT_W_CLIENT ? c->client >= 0 : kind == CT_W_BC ? c->bc != NULL : c->client < 0;
}

/* The epoll set follows what c wants. Each entry goes before its
 * descriptor is closed: a child forked meanwhile may hold the same file,
 * which would keep the entry (and its pointer to c) alive. */
static void ct_watch(struct hub *h, struct hub_ct *c, bool none)
{
	for (int k = 0; k < CT_W_KINDS; k++) {
		int fd = *ct_watch_fd(c, k);
		bool want = !none && fd >= 0 && ct_watch_wanted(c, k), have = c->watched & (1u << k);
		if (want == have)
			continue;
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uintptr_t)c | (unsigned)k };
		if (epoll_ctl(h->epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev) == 0 || !want)
			c->watched ^= 1u << k;
	}
}

static bool socket_ours(const struct hub *h);

/* Our binary is no longer at its path (a new vzctl was installed)? */
static bool exe_replaced(const struct hub *h)
{
	struct stat st;
	return stat(h->exe_path, &st) < 0 || st.st_dev != h->exe.st_dev || st.st_ino != h->exe.st_ino;
}

/* Give up the socket (and the pid file): a new hub takes them. */
static void retire(struct hub *h)
{
	if (socket_ours(h)) {
		unlink(h->sock_path);
		if (h->pid_path[0])
			unlink(h->pid_path);
	}
	h->sock_ino = 0;
}

static void look_for_orphans(struct hub *h);

static void request(struct hub *h)
{
	int conn = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return;
	/* A monitor runs as root for whoever asks: root only. */
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0) {
		close(conn);
		return;
	}
	struct hub_request rq;
	int fds[NVZ_RECV_FDS_MAX];
	size_t nfds = 0;
	char answer = 'n';
	/* vzctl sends as soon as it is connected. */
	struct pollfd p = { .fd = conn, .events = POLLIN };
	ssize_t n = poll(&p, 1, 1000) == 1 ? nvz_recv_msg(conn, &rq, sizeof(rq), fds, &nfds, MSG_DONTWAIT) : -1;
	bool ours = n == (ssize_t)sizeof(rq) && rq.magic == HUB_MAGIC && rq.size == sizeof(rq) &&
		    rq.exe_dev == h->exe.st_dev && rq.exe_ino == h->exe.st_ino &&
		    memchr(rq.vzconf, 0, sizeof(rq.vzconf)) && memchr(rq.dumpdir, 0, sizeof(rq.dumpdir)) &&
		    !strncmp(rq.vzconf, h->vzconf, sizeof(rq.vzconf)) && !memcmp(rq.ns, h->ns, sizeof(h->ns));
	/* A command found a CT whose monitor is gone: look now, and often
	 * again while some are busy (that command may hold the CT's lock). */
	if (ours && rq.adopt && nfds == 0) {
		h->adopt_delay = ADOPT_RETRY_MS;
		look_for_orphans(h);
		answer = 'y';
	} else if (ours && !rq.adopt &&
		   nfds == 2 + (size_t)!!rq.have_exec + (size_t)!!rq.have_lock + (size_t)!!rq.have_lazy) {
		int hub_fd = -1;
		struct hub_pending *pe = calloc(1, sizeof(*pe));
		if (pe && nvz_hub_start_monitor(&rq, fds, &nfds, &hub_fd) == 0) {
			*pe = (struct hub_pending){ .fd = hub_fd, .next = h->pending };
			h->pending = pe;
			answer = 'y';
		} else {
			free(pe);
		}
	}
	nvz_close_fds(fds, &nfds);
	/* vzctl was upgraded under us: this hub serves its CTs to their end,
	 * and leaves the socket to a hub of the new vzctl ('r': try again). */
	if (answer == 'n' && n == (ssize_t)sizeof(rq) && rq.magic == HUB_MAGIC &&
	    (rq.exe_dev != h->exe.st_dev || rq.exe_ino != h->exe.st_ino) && exe_replaced(h)) {
		retire(h);
		answer = 'r';
	}
	if (write(conn, &answer, 1) < 0)
		answer = 'n';
	close(conn);
}

static bool early_exit(struct hub *h, pid_t pid, int *status);
/* Those kept EARLY_EXIT_KEEP_MS, or all of them (the hub is leaving). */
static void forget_early_exits(struct hub *h, bool all)
{
	uint64_t now = now_ms();
	for (struct hub_early_exit **pe = &h->early; *pe;) {
		struct hub_early_exit *e = *pe;
		if (!all && now - e->at_ms < EARLY_EXIT_KEEP_MS) {
			pe = &e->next;
			continue;
		}
		*pe = e->next;
		free(e);
	}
}

static bool reaped_init(struct hub *h, pid_t pid, int status);

/* A monitor's hand-over: the CT is ours from now on. 0: nothing sent yet;
 * else the monitor is done with us (handed over, or failed: EOF). */
static int hand_over(struct hub *h, struct hub_pending *pe)
{
	struct hub_handover ho;
	int fds[NVZ_RECV_FDS_MAX];
	size_t nfds = 0, k = 0;
	ssize_t n = nvz_recv_msg(pe->fd, &ho, sizeof(ho), fds, &nfds, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return 0;
	close_fd(&pe->fd);
	if (n != (ssize_t)sizeof(ho) || ho.magic != HUB_MAGIC ||
	    (size_t)__builtin_popcount(ho.have) != nfds) {
		nvz_close_fds(fds, &nfds);
		return 1;
	}
	struct hub_ct *c = calloc(1, sizeof(*c));
	if (!c) {
		nvz_close_fds(fds, &nfds);
		return 1;
	}
	int *slot[] = { &c->m.master, &c->m.slave, &c->m.logfd, &c->m.listen_fd, &c->m.bc_fd, &c->token };
	for (size_t i = 0; i < sizeof(slot) / sizeof(slot[0]); i++)
		*slot[i] = (ho.have & (1u << i)) ? fds[k++] : -1;
	c->m.veid = ho.veid;
	c->m.init_pid = ho.init_pid;
	c->m.bc_mounted_at = ho.bc_mounted_at;
	c->m.exe_fd = h->exe_fd;
	ho.rundir[sizeof(ho.rundir) - 1] = ho.lockpath[sizeof(ho.lockpath) - 1] = '\0';
	memcpy(c->m.rundir, ho.rundir, sizeof(c->m.rundir));
	memcpy(c->m.lockpath, ho.lockpath, sizeof(c->m.lockpath));
	c->client = c->pidfd = -1;
	c->bc = c->m.bc_fd >= 0 ? nvz_bcraw_new(&c->m) : NULL;
	c->next = h->cts;
	h->cts = c;
	ct_watch(h, c, false);
	int status;
	if (early_exit(h, c->m.init_pid, &status))
		reaped_init(h, c->m.init_pid, status);
	return 1;
}

/* Every hand-over already sent. */
static void hand_overs(struct hub *h)
{
	for (struct hub_pending **pp = &h->pending; *pp;) {
		struct hub_pending *pe = *pp;
		if (hand_over(h, pe)) {
			*pp = pe->next;
			free(pe);
		} else {
			pp = &pe->next;
		}
	}
}

/* vzctl monitor-exit, in a child of ours that holds the token until it
 * is done: the work after init's exit that no command did. The child only
 * execs: we have threads (a start's monitor), and one of them may hold a
 * heap lock the child would find held for good. */
static void after_exit(struct hub *h, const struct nvz_monwait *m, int token, int status)
{
	struct nvz_monwait ended = *m;
	/* vzctl monitor-exit keeps the token until it returns. */
	ended.token = token;
	struct nvz_monwait_exit_args args;
	nvz_monwait_exit_args(&ended, status, &args);
	pid_t pid = fork();
	if (pid != 0)
		return;
	int keep[] = { token, h->exe_fd };
	nvz_hub_child_reset(keep, 2);
	if (token >= 0)
		fcntl(token, F_SETFD, 0);
	nvz_monwait_exec_exit_now(&ended, &args);
	_exit(0);
}

/* Keep c's token until the command ending it removed its state (true),
 * rather than fork now; false: no watch, fork. */
static bool wait_ending(struct hub *h, struct hub_ct *c, int status)
{
	if (h->inotify_fd < 0)
		h->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct hub_ending *e = h->inotify_fd >= 0 ? calloc(1, sizeof(*e)) : NULL;
	if (!e)
		return false;
	e->wd = inotify_add_watch(h->inotify_fd, c->m.rundir,
				  IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE_SELF | IN_ONLYDIR);
	if (e->wd < 0) {
		free(e);
		return false;
	}
	e->m = c->m;
	e->token = steal_fd(&c->token);
	e->status = status;
	e->since_ms = now_ms();
	e->next = h->ending;
	h->ending = e;
	return true;
}

/* Each ending CT: its state gone, the token goes; the lock let go with the
 * state still there (the command failed) or after ENDING_MAX_MS, the
 * after-exit work as usual. */
#define ENDING_MAX_MS 2000
#define ENDING_POLL_MS 10
static void endings(struct hub *h)
{
	char buf[4096];
	while (h->inotify_fd >= 0 && read(h->inotify_fd, buf, sizeof(buf)) > 0)
		;
	for (struct hub_ending **pe = &h->ending; *pe;) {
		struct hub_ending *e = *pe;
		bool ours = nvz_monwait_still_ours(&e->m);
		if (ours && nvz_monwait_lock_held(&e->m) && now_ms() - e->since_ms < ENDING_MAX_MS) {
			pe = &e->next;
			continue;
		}
		if (ours)
			after_exit(h, &e->m, e->token, e->status);
		close_fd(&e->token);
		inotify_rm_watch(h->inotify_fd, e->wd);
		*pe = e->next;
		free(e);
	}
}

/* init is gone: the CT's host side goes, and vzctl monitor-exit does the
 * rest in a child of ours that holds the token until it is done. */
static void ct_exit(struct hub *h, struct hub_ct *c, int status)
{
	ct_watch(h, c, true);
	close_fd(&c->client);
	nvz_bcraw_free(c->bc);
	c->bc = NULL;
	if (c->m.bc_fd >= 0) {
		char bcpath[sizeof(c->m.rundir) + 4];
		snprintf(bcpath, sizeof(bcpath), "%s/bc", c->m.rundir);
		close_fd(&c->m.bc_fd);
		nvz_bcfs_clear_host(bcpath);
	}
	close_fd(&c->m.master);
	close_fd(&c->m.slave);
	close_fd(&c->m.logfd);
	close_fd(&c->m.listen_fd);
	close_fd(&c->pidfd);
	/* The command that ended init (vzctl stop) removes the CT's state as
	 * it cleans up, then waits for the token: if it got there first (the
	 * unmount above gives it time), monitor-exit would find nothing to
	 * do; let the token go at once instead of forking for it. If it holds
	 * the lock and is on its way there, wait for the state to go. */
	c->m.monitor_pid = getpid();
	if (!nvz_monwait_still_ours(&c->m)) {
		close_fd(&c->token);
		return;
	}
	if (nvz_monwait_lock_held(&c->m) && wait_ending(h, c, status))
		return;
	after_exit(h, &c->m, c->token, status);
	close_fd(&c->token);
}

static void remember_exit(struct hub *h, pid_t pid, int status)
{
	struct hub_early_exit *e = malloc(sizeof(*e));
	if (!e)
		return;
	*e = (struct hub_early_exit){ pid, status, now_ms(), h->early };
	h->early = e;
}

static bool early_exit(struct hub *h, pid_t pid, int *status)
{
	for (struct hub_early_exit **pe = &h->early; *pe; pe = &(*pe)->next) {
		struct hub_early_exit *e = *pe;
		if (e->pid != pid)
			continue;
		*status = e->status;
		*pe = e->next;
		free(e);
		return true;
	}
	return false;
}

static bool reaped_init(struct hub *h, pid_t pid, int status)
{
	for (struct hub_ct **pc = &h->cts; *pc; pc = &(*pc)->next) {
		struct hub_ct *c = *pc;
		if (c->m.init_pid != pid)
			continue;
		*pc = c->next;
		ct_exit(h, c, status);
		free(c);
		return true;
	}
	return false;
}

/* Not __WALL: a start thread's own helpers (a user namespace's holder, an
 * admin's network hook) have no exit signal, and it waits for them. */
static void reap(struct hub *h)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		/* An init whose monitor sent its hand-over after we polled (a
		 * forked one's can only be ours once that monitor is gone; a
		 * thread's is ours from birth, and may die before it). */
		if (!reaped_init(h, pid, status) && h->pending) {
			hand_overs(h);
			if (!reaped_init(h, pid, status))
				remember_exit(h, pid, status);
		}
	forget_early_exits(h, false);
}

/* The socket is still ours (nobody removed the server's RUNDIR)? */
/* No child of ours at all (monitors, after-exit work, orphans)? */
static bool no_children(void)
{
	siginfo_t si;
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 && errno == ECHILD;
}

static bool socket_ours(const struct hub *h)
{
	struct stat st;
	return stat(h->sock_path, &st) == 0 && st.st_dev == h->sock_dev && st.st_ino == h->sock_ino;
}

static void ct_event(struct hub *h, struct hub_ct *c, int kind, uint32_t events)
{
	/* An earlier event of this batch changed what c waits on. */
	if (!(c->watched & (1u << kind)))
		return;
	if (kind == CT_W_MASTER && (events & EPOLLIN)) {
		nvz_console_drain(c->m.master, c->m.logfd);
	} else if (kind == CT_W_LISTEN && (events & EPOLLIN)) {
		c->client = nvz_console_accept(c->m.listen_fd, c->m.master);
	} else if (kind == CT_W_CLIENT) {
		char ch;
		if (read(c->client, &ch, 1) <= 0) {
			ct_watch(h, c, true);
			close_fd(&c->client);
		}
	} else if (kind == CT_W_BC && nvz_bcraw_process(c->bc) < 0) {
		nvz_bcraw_free(c->bc);
		c->bc = NULL;
	} else if (kind == CT_W_INIT) {
		/* At once, before init's new parent reaps it; the CT goes once
		 * this batch is done with (ct_events), as c may have more. */
		struct nvz_hub_orphan o = { .m = c->m, .init_start = c->init_start };
		c->exit_status = nvz_hub_orphan_status(&o);
		c->gone = true;
		ct_watch(h, c, true);
		return;
	}
	ct_watch(h, c, false);
}

/* What the CTs' descriptors say (the epoll set was readable). */
static void ct_events(struct hub *h)
{
	struct epoll_event ev[64];
	int n = epoll_wait(h->epfd, ev, 64, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == BCSRV_EVENT) {
			/* Failed: the device is closed, which drops it from the set. */
			if (nvz_bcsrv_process() < 0)
				h->bcsrv_fd = -1;
			continue;
		}
		ct_event(h, (struct hub_ct *)(uintptr_t)(ev[i].data.u64 & ~(uint64_t)7),
			 (int)(ev[i].data.u64 & 7), ev[i].events);
	}
	for (struct hub_ct **pc = &h->cts; *pc;) {
		struct hub_ct *c = *pc;
		if (!c->gone) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		ct_exit(h, c, c->exit_status);
		free(c);
	}
}

/* A CT a killed hub served (hub-adopt.c): ours from now on. Should this
 * fail, the CT is as it was (the state names a hub that does not serve
 * it): a later hub cannot tell, so it is not worth a rollback. */
static void adopt(void *arg, struct nvz_hub_orphan *o)
{
	struct hub *h = arg;
	struct hub_ct *c = calloc(1, sizeof(*c));
	if (!c) {
		close(o->token);
		close(o->pidfd);
		close_fd(&o->m.bc_fd);
		return;
	}
	c->m = o->m;
	c->m.exe_fd = h->exe_fd;
	c->token = o->token;
	c->pidfd = o->pidfd;
	c->init_start = o->init_start;
	c->client = -1;
	c->bc = c->m.bc_fd >= 0 ? nvz_bcraw_new(&c->m) : NULL;
	c->next = h->cts;
	h->cts = c;
	ct_watch(h, c, false);
}

/* CTs a command holds (their lock) are looked at again, less often the
 * longer they stay busy: a migration or a checkpoint can hold one for
 * minutes. */
static void look_for_orphans(struct hub *h)
{
	h->adopt_due = nvz_hub_adopt_orphans(adopt, h) > 0;
	h->adopt_at = now_ms() + h->adopt_delay;
	h->adopt_delay = h->adopt_delay >= ADOPT_RETRY_MAX_MS / 2 ? ADOPT_RETRY_MAX_MS : h->adopt_delay * 2;
}

static size_t count_cts(const struct hub *h)
{
	size_t n = 0;
	for (const struct hub_ct *c = h->cts; c; c = c->next)
		n++;
	return n;
}

static int serve(struct hub *h)
{
	for (;;) {
		size_t npend = 0, ncts = count_cts(h);
		for (struct hub_pending *pe = h->pending; pe; pe = pe->next)
			npend++;
		if (!npend && !ncts && !h->ending) {
			if (!h->idle_since)
				h->idle_since = time(NULL);
			if (h->term || !h->sock_ino || time(NULL) - h->idle_since >= HUB_IDLE_SECS ||
			    !socket_ours(h)) {
				reap(h);
				if (no_children())
					return 0;
			}
		} else {
			h->idle_since = 0;
		}
		size_t np = 4 + npend, i = 4;
		cleanup_free struct pollfd *p = calloc(np, sizeof(*p));
		if (!p)
			return 1;
		p[0] = (struct pollfd){ .fd = h->sigfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = h->listen_fd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = h->ending ? h->inotify_fd : -1, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = h->epfd, .events = POLLIN };
		for (struct hub_pending *pe = h->pending; pe; pe = pe->next)
			p[i++] = (struct pollfd){ .fd = pe->fd, .events = POLLIN };
		uint64_t now = now_ms();
		int timeout = h->trim_at ? (int)(h->trim_at > now ? h->trim_at - now : 0) : 1000;
		/* Not while a start is pending: its hand-over wakes us. */
		if (h->adopt_due && !h->pending) {
			uint64_t wait = h->adopt_at > now ? h->adopt_at - now : 0;
			if ((uint64_t)timeout > wait)
				timeout = (int)wait;
		}
		/* An ending CT whose command let go of the lock tells nothing. */
		if (h->ending && timeout > ENDING_POLL_MS)
			timeout = ENDING_POLL_MS;
		if (poll(p, np, timeout) < 0 && errno != EINTR)
			return 1;
		/* The CTs first: an entry's CT is in the list until its exit. */
		if (p[3].revents & POLLIN)
			ct_events(h);
		/* Hand-overs before exits: a monitor sends its CT before it exits,
		 * and only then is init ours to reap. */
		hand_overs(h);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(h->sigfd, &si, sizeof(si)) > 0)
				if (si.ssi_signo == SIGTERM)
					h->term = true;
		}
		reap(h);
		if (h->ending)
			endings(h);
		if (p[1].revents & POLLIN)
			request(h);
		/* Once the start that made us has its CT (it waits for that),
		 * and no other start waits on us. */
		else if (h->adopt_due && !h->pending && now_ms() >= h->adopt_at)
			look_for_orphans(h);
		/* What a request, a hand-over, an exit or a beancounter table
		 * faulted in or allocated goes back: the hub lives as long as
		 * the server's CTs. Once things are quiet (TRIM_DELAY_MS):
		 * right after a start, its vzctl on the way out and the CT's
		 * first processes need the CPUs, and the next start in a row
		 * needs us. */
		if ((p[1].revents & POLLIN) || npend || ncts != count_cts(h) || nvz_bcraw_table_made())
			h->trim_at = now_ms() + TRIM_DELAY_MS;
		else if (h->trim_at && now_ms() >= h->trim_at) {
			h->trim_at = 0;
			nvz_trim_memory();
			nvz_trim_text();
		}
	}
}

int nvz_hub_main(int listen_fd, int vzctl_fd)
{
	struct hub h = { .listen_fd = listen_fd, .sigfd = -1, .inotify_fd = -1, .epfd = epoll_create1(EPOLL_CLOEXEC),
			 .vzconf = getenv("VZ_CONF"), .adopt_due = true,
			 .adopt_delay = ADOPT_RETRY_MS };
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    stat(sa.sun_path, &st) < 0 || fstat(vzctl_fd, &h.exe) < 0 || !S_ISREG(h.exe.st_mode))
		return 1;
	snprintf(h.sock_path, sizeof(h.sock_path), "%s", sa.sun_path);
	/* One malloc arena: each start thread would otherwise get one of its
	 * own, whose pages stay with the hub (~60 kB each) after the thread
	 * is gone; starts side by side are few and brief. */
	mallopt(M_ARENA_MAX, 1);
	hub_ns_ids(h.ns);
	h.sock_dev = st.st_dev;
	h.sock_ino = st.st_ino;
	if (!h.vzconf || !*h.vzconf)
		h.vzconf = NVZ_DEFAULT_VZ_CONF;
	/* Nothing of the starting command's: no directory kept busy. */
	if (chdir("/") < 0)
		return 1;
	umask(022);
	char fd_link[32];
	snprintf(fd_link, sizeof(fd_link), "/proc/self/fd/%d", vzctl_fd);
	ssize_t len_exe = readlink(fd_link, h.exe_path, sizeof(h.exe_path) - 1);
	h.exe_path[len_exe > 0 ? len_exe : 0] = '\0';
	int n = snprintf(h.pid_path, sizeof(h.pid_path), "%s", h.sock_path);
	if (n > 5 && !strcmp(h.pid_path + n - 5, ".sock")) {
		/* RUNDIR/hub.pid, for the admin (and the bench) */
		snprintf(h.pid_path + n - 5, 5, ".pid");
		FILE *f = fopen(h.pid_path, "we");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	} else {
		h.pid_path[0] = '\0';
	}
	fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
	fcntl(listen_fd, F_SETFL, O_NONBLOCK);
	prctl(PR_SET_NAME, "vzmon-hub");
	/* Each CT's init comes to us when its monitor exits. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	/* SIGTERM: exit as soon as no CT is left to serve (never before). */
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	h.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	h.exe_fd = vzctl_fd;
	nvz_hub_set_vzctl(vzctl_fd);
	nvz_bcraw_table_here();
	fcntl(vzctl_fd, F_SETFD, FD_CLOEXEC);
	if (h.sigfd < 0 || h.epfd < 0)
		return 1;
	/* Before any start thread: they find it by itself (bcsrv.c). */
	h.bcsrv_fd = nvz_bcsrv_open();
	struct epoll_event bcsrv_ev = { .events = EPOLLIN, .data.u64 = BCSRV_EVENT };
	if (h.bcsrv_fd >= 0)
		epoll_ctl(h.epfd, EPOLL_CTL_ADD, h.bcsrv_fd, &bcsrv_ev);
	struct nvz_cgroup *cg = nvz_hub_cgroup_enter();
	int rc = serve(&h);
	retire(&h);
	forget_early_exits(&h, true);
	nvz_hub_cgroup_leave(cg);
	return rc;
}
