/* The launcher: a thread the monitor starts first thing, that enters the
 * CT's cgroups and namespaces while the monitor writes the limits, then
 * clones init there (child_setup: init's mounts, console, seccomp and
 * capabilities, and its exec). A thread, not a forked child: on a
 * paravirtualised host a fork's page-table copy, its copy-on-write faults
 * and its exit's teardown cost ~3 ms of CPU on the start's path. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <unistd.h>

#include "core/child.h"
#include "core/sync.h"
#include "ct/bcfs.h"
#include "ct/console.h"
#include "ct/launcher.h"
#include "ct/state.h"
#include "linux/rootfs.h"
#include "linux/security.h"
#include "linux/vmclone.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* The launcher makes the CT's network, uts and ipc namespaces for itself
 * (see launcher_main); init is cloned into them and gets its own pid and
 * mount namespaces at birth. */
#define CT_NS_FLAGS (CLONE_NEWPID | CLONE_NEWNS)
#define CT_NS_EARLY (CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)

static char *const init_env[] = {
	"container=nvz",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
	"TERM=linux",
	NULL,
};

/* The monitor moves init into the CT's cgroup while init mounts /proc,
 * /sys and /dev: on cgroup v1 the move waits for an RCU grace period
 * (milliseconds), so the two overlap instead of adding up. */
static int join_cgroup_ns(void *arg, struct nvz_error **err)
{
	int sync_fd = *(int *)arg;
	if (nvz_sync_wait(sync_fd, SYNC_CGROUP_JOINED, "wait for cgroup", err) < 0)
		return -1;
	/* Entered only now, so the namespace's root is the CT's own cgroup. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "unshare cgroup namespace");
	return 0;
}

static int child_setup(struct nvz_ct *ct, struct nvz_cgroup *cg, const struct launch_msg *lm,
		       const struct nvz_seccomp_prog *sc, struct nvz_error **err)
{
	const char *console = lm->console;
	int sync_fd = lm->sync_fd;
	const struct ct_userns *u = lm->userns ? &lm->u : NULL;
	/* The idmapped root goes over VE_ROOT in this namespace only (slave
	 * first, so it cannot propagate to a peer); everything below is then
	 * built on it as usual, by host root. */
	if (u && (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
		  move_mount(u->tree, "", AT_FDCWD, ct->root, MOVE_MOUNT_F_EMPTY_PATH) < 0))
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount the idmapped root on %s", ct->root);
	cleanup_strv char **devnodes = nvz_ct_devnode_names(ct, NULL);
	struct nvz_rootfs_spec spec = {
		.root = ct->root, .console = console, .cg = cg, .devnodes = (const char *const *)devnodes,
		.lxcfs_dir = nvz_ct_get(ct, "LXCFS_DIR", "/var/lib/lxcfs"), .owner = u ? u->owner : 0,
		.before_cgroups = join_cgroup_ns, .arg = &sync_fd,
	};
	if (nvz_rootfs_setup(&spec, err) < 0)
		return -1;
	/* The monitor mounted the beancounters while we did the above: their
	 * tree comes over the sync socket (a message without one: none). */
	cleanup_close int bc_tree = nvz_recv_fd(sync_fd);
	if (bc_tree >= 0) {
		int t = open("/run/user_beancounters", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (t >= 0)
			close(t);
		if (nvz_bcfs_attach(bc_tree, "/run/user_beancounters", err) < 0)
			return -1;
	}
	/* init gets the console as its controlling terminal, as on a real boot. */
	setsid();
	int c = open("/dev/console", O_RDWR | O_CLOEXEC);
	if (c >= 0) {
		ioctl(c, TIOCSCTTY, 0);
		dup2(c, 0);
		dup2(c, 1);
		dup2(c, 2);
		close(c);
	}
	/* init starts with the limits of the vzctl that starts it, as when
	 * vzctl forked it, not with those of whoever started the hub. */
	if (ct->start_rlimits)
		nvz_rlimits_set(ct->start_rlimits);
	/* Into the user namespace last: its root has capabilities there only,
	 * and the CT's other namespaces belong to the host's, so from here on
	 * no mount, network or hostname change is possible from inside. */
	if (u && (setns(u->nsfd, CLONE_NEWUSER) < 0 || nvz_userns_become_root(err) < 0))
		return *err ? -1 : nvz_err_sys(err, NVZ_E_SYSTEM, errno, "enter the user namespace");
	uint64_t keep;
	nvz_ct_set_ioprio(ct, 0);
	/* The filter first: loading it without no_new_privs needs CAP_SYS_ADMIN. */
	if (nvz_ct_caps(ct, &keep, err) < 0 ||
	    (sc ? nvz_seccomp_load(sc, err) : nvz_seccomp_apply(nvz_ct_nesting(ct), err)) < 0 ||
	    nvz_caps_apply(keep, err) < 0)
		return -1;
	if (nvz_sync_send(sync_fd, SYNC_ROOTFS_READY) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "report rootfs ready");
	if (nvz_sync_wait(sync_fd, SYNC_EXEC, "wait for exec", err) < 0)
		return -1;
	/* No host descriptor may survive into the CT: every fd above stderr,
	 * including the sync socket, closes on exec (EOF tells the monitor). */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	char *const argv[] = { "/sbin/init", NULL };
	/* sysvinit resets neither: with SIGCHLD blocked it never reaped its
	 * first child and the boot stopped there. */
	nvz_signals_default();
	if (lm->exec_fd >= 0 && write(lm->exec_fd, "R", 1) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "report exec");
	execve("/sbin/init", argv, init_env);
	int e = errno;
	if (lm->exec_fd >= 0 && write(lm->exec_fd, "E", 1) < 0)
		e = errno;
	return nvz_err_sys(err, NVZ_E_BAD_TEMPLATE, e,
			   "Unable to start init, probably incorrect template");
}

/* What init starts from: on the launcher's stack, in the monitor's memory,
 * which init shares until its exec. */
struct init_start {
	struct nvz_ct *ct;
	struct nvz_cgroup *cg;
	struct launch_msg m;
	const struct nvz_seccomp_prog *sc;
	int cgfd;
	int hold_wr; /* init_room's pipe: init keeps its write end until its exec */
};

/* A test's way to hold a CT's init back at its birth (test_monitor.sh):
 * NVZ_TEST_INIT_DELAY="CTID:MS[,CTID:MS...]". */
static void test_delay(const char *id)
{
	const char *d = getenv("NVZ_TEST_INIT_DELAY");
	size_t len = strlen(id);
	for (; d && *d; d = strchr(d, ',') ? strchr(d, ',') + 1 : NULL)
		if (!strncmp(d, id, len) && d[len] == ':') {
			usleep((useconds_t)atoi(d + len + 1) * 1000);
			return;
		}
}

/* Returns only if the exec failed: the exit status (nvz_clone_vm exits
 * with it; calling _exit here, a noreturn function, would make ASan look
 * for the stack it knows instead of this one). */
static int init_main(void *arg)
{
	struct init_start *is = arg;
	/* init was born with a copy of the monitor's whole descriptor table,
	 * the hub's: other CTs' consoles and, while their starts run, their
	 * locks (a command's lock, handed over to the hub). A copy holds such
	 * a lock until this exec, and the next command on that CT waits for
	 * it (nvz_lock). So only what init uses stays, from its first
	 * instruction; the host's / and other CTs' files go with the rest. */
	const bool u = is->m.userns;
	const int keep[] = { is->m.sync_fd, is->m.exec_fd, is->hold_wr,
			     u ? is->m.u.nsfd : -1, u ? is->m.u.tree : -1 };
	nvz_close_fds_except(keep, sizeof(keep) / sizeof(keep[0]));
	test_delay(is->ct->id);
	struct nvz_error *err = NULL;
	child_setup(is->ct, is->cg, &is->m, is->sc, &err);
	nvz_sync_send_error(is->m.sync_fd, err);
	return 1;
}

/* init could not enter its cgroup (the portable clone moves it there
 * itself): the monitor hears why, not only that init went. No allocation:
 * it runs in the monitor's memory. */
static void init_no_cgroup(void *arg, int e)
{
	const struct init_start *is = arg;
	char msg[160];
	snprintf(msg, sizeof(msg), "move container init into its cgroup: %s", strerror(e));
	struct nvz_error err = { .code = e, .status = NVZ_E_SYSTEM, .msg = msg };
	nvz_sync_send_error(is->m.sync_fd, &err);
}

#define INIT_STACK (1024 * 1024)
/* The launcher thread's own: libseccomp, netlink and the cgroup paths. */
#define LAUNCHER_STACK (256 * 1024)

/* clone3(CLONE_INTO_CGROUP) puts init in its cgroup2 cgroup at birth (v2,
 * or the hybrid one of a v1 host); its v1 cgroups it inherits from the
 * launcher thread, which moved itself into them. init is the monitor's
 * child and shares its memory until its exec (nvz_clone_vm: no page tables
 * to copy, no page to fault again), on a stack of its own, and with the
 * launcher's thread-local storage: the launcher only reports init's pid
 * and waits for its exec meanwhile (the monitor's other thread has its
 * own). Never a plain clone: the monitor may be the hub, which has threads,
 * and a child of a plain clone that allocates (as init's set-up does)
 * could find a heap lock held for good by a thread that is not in it. */
static pid_t clone_init(struct init_start *is, void *stack)
{
	struct clone_args a = { .flags = CT_NS_FLAGS, .exit_signal = SIGCHLD,
				.stack = (uint64_t)(uintptr_t)stack, .stack_size = INIT_STACK };
	if (is->cgfd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)is->cgfd;
	}
	return nvz_clone_vm_or(&a, init_main, init_no_cgroup, is);
}

/* The CT's network, uts and ipc namespaces, made by the launcher while
 * the monitor writes the limits instead of by init's clone after them: a network
 * namespace alone costs ~0.8 ms here. Made after the launcher entered the
 * CT's cgroups, so their memory is charged to the CT, as when clone made
 * them. Like every namespace of the CT they belong to the host's user
 * namespace (a USERNS CT's init enters its own only before exec). A
 * thread's own: the monitor's other thread stays in the host's. */
static int early_namespaces(const struct nvz_ct *ct, struct nvz_error **err)
{
	if (unshare(CT_NS_EARLY) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create the container's namespaces");
	/* Its clocks: a time namespace, which init enters at its exec (a
	 * child cloned with CLONE_VM does so only then). criu carries it, so
	 * CLOCK_MONOTONIC and CLOCK_BOOTTIME go on from where they were after
	 * a restore or a migration, as OpenVZ's did, instead of jumping to the
	 * new server's (timers and deadlines in programs' memory then fired
	 * at once, or not for days). None where the kernel has no time
	 * namespaces, or cannot clone init (CLONE_VM) with one pending. */
	if (nvz_clone_vm_timens_ok() && unshare(CLONE_NEWTIME) < 0 && errno != EINVAL)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create the container's time namespace");
	const char *hostname = nvz_ct_get(ct, "HOSTNAME", NULL);
	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		return nvz_err_sys(err, NVZ_E_BAD_HOSTNAME, errno, "set hostname %s", hostname);
	return nvz_net_loopback_up(err);
}

/* The monitor's go-ahead once the CT's cgroups exist (a 1-byte message). */
static bool cgroups_created(int fd)
{
	char c;
	ssize_t n;
	do
		n = recv(fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

/* init's stack, and the pipe that tells when init is done with it: init's
 * exec (or death) closes its copy of hold[1]. Until then init runs on the
 * stack and with our thread-local storage, so we stay. */
struct init_room {
	void *stack;
	int hold[2];
};

static void init_room_release(struct init_room *r)
{
	if (r->hold[1] >= 0)
		close(steal_fd(&r->hold[1]));
	if (r->hold[0] >= 0) {
		char c;
		while (read(r->hold[0], &c, 1) < 0 && errno == EINTR)
			;
		close(steal_fd(&r->hold[0]));
	}
	nvz_stack_put(r->stack, INIT_STACK);
}

static void launcher_run(struct nvz_ct *ct, struct nvz_cgroup *cg, int fd, const cpu_set_t *cpus)
{
	/* While the cgroups are made: the seccomp filter (init then loads it
	 * in one call), and init's stack, its top faulted in (the last
	 * start's, if the hub kept it). */
	struct nvz_seccomp_prog sc;
	struct nvz_error *scerr = NULL;
	bool have_sc = nvz_seccomp_prepare(&sc, nvz_ct_nesting(ct), &scerr) == 0;
	nvz_error_free(scerr);
	__attribute__((cleanup(init_room_release))) struct init_room room = {
		.stack = nvz_stack_get(INIT_STACK, 64 * 1024), .hold = { -1, -1 },
	};
	int room_errno = room.stack ? 0 : errno;
	if (room.stack && pipe2(room.hold, O_CLOEXEC) < 0)
		room_errno = errno;
	if (!cgroups_created(fd))
		return; /* the monitor gave up */
	/* Started off the monitor's CPU (nvz_launcher_start), which was done
	 * before the go: every CPU again, for us and for init. */
	if (cpus)
		sched_setaffinity(0, sizeof(*cpus), cpus);
	/* A write of "0" to a v1 `tasks` file moves this thread alone, with no
	 * RCU grace period (see cgroup.h). */
	cleanup_error struct nvz_error *err = NULL;
	cleanup_close int cgfd = nvz_cgroup_open_v2_dir(cg);
	if (room_errno)
		nvz_err_sys(&err, NVZ_E_SYSTEM, room_errno, "make the stack of container init");
	else if (cgfd < 0 && errno != ENOENT)
		nvz_err_sys(&err, NVZ_E_SYSTEM, errno, "open the container's cgroup");
	else if (nvz_cgroup_enter_v1_self(cg, false, &err) == 0)
		early_namespaces(ct, &err);
	if (err) {
		nvz_sync_send_error(fd, err);
		return;
	}
	struct init_start is = { .ct = ct, .cg = cg, .sc = have_sc ? &sc : NULL, .cgfd = cgfd,
				 .hold_wr = room.hold[1] };
	ssize_t n;
	do
		n = recv(fd, &is.m, sizeof(is.m), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(is.m))
		return; /* the monitor gave up */
	is.m.console[sizeof(is.m.console) - 1] = '\0';
	nvz_runstate_updates_hold();
	pid_t pid = clone_init(&is, room.stack);
	int e = errno;
	nvz_runstate_updates_release();
	/* The table is the monitor's too: leave nothing of ours in it. */
	if (cgfd >= 0)
		close(steal_fd(&cgfd));
	if (room.hold[1] >= 0)
		close(steal_fd(&room.hold[1]));
	if (pid < 0) {
		nvz_err_sys(&err, NVZ_E_SYSTEM, e, "clone container init");
		nvz_sync_send_error(fd, err);
		return;
	}
	struct nvz_sync_msg r = { .step = SYNC_LAUNCHED, .code = pid };
	send(fd, &r, sizeof(r), MSG_NOSIGNAL);
	/* init_room_release waits for init's exec. Not at idle priority:
	 * until it has returned this thread is a task in the CT's v1
	 * cgroups, and a `vzctl stop` right after the start would find it
	 * there (and freeze the cgroup to kill it). */
}

struct launcher_args {
	struct nvz_ct *ct;
	struct nvz_cgroup *cg;
	int fd;
	bool spread;
	cpu_set_t cpus;
};

static void *launcher_thread(void *arg)
{
	struct launcher_args a = *(struct launcher_args *)arg;
	free(arg);
	launcher_run(a.ct, a.cg, a.fd, a.spread ? &a.cpus : NULL);
	close(a.fd);
	return NULL;
}

int nvz_launcher_start(struct nvz_ct *ct, struct nvz_cgroup *cg, struct launcher *l,
		       struct nvz_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socketpair");
	struct launcher_args *a = calloc(1, sizeof(*a));
	if (!a) {
		close(sv[0]);
		close(sv[1]);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "start the init launcher: out of memory");
	}
	*a = (struct launcher_args){ .ct = ct, .cg = cg, .fd = sv[1] };
	/* The launcher and the monitor work side by side until init runs, and
	 * the scheduler is slow to move a new task off its parent's CPU when
	 * another goes idle: the launcher starts on another of our CPUs and
	 * takes all of them back itself. Joined (nvz_launcher_join): in the
	 * hub a failed start frees the CT it reads, and the hub lives on. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LAUNCHER_STACK);
	int here = sched_getcpu();
	if (here >= 0 && sched_getaffinity(0, sizeof(a->cpus), &a->cpus) == 0 &&
	    CPU_ISSET(here, &a->cpus) && CPU_COUNT(&a->cpus) > 1) {
		cpu_set_t others = a->cpus;
		CPU_CLR(here, &others);
		a->spread = pthread_attr_setaffinity_np(&attr, sizeof(others), &others) == 0;
	}
	pthread_t t;
	int rc = pthread_create(&t, &attr, launcher_thread, a);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(a);
		close(sv[0]);
		close(sv[1]);
		return nvz_err_sys(err, NVZ_E_SYSTEM, rc, "start the init launcher");
	}
	*l = (struct launcher){ .fd = sv[0], .exec_fd = l->exec_fd, .thread = t, .joinable = true };
	return 0;
}

void nvz_launcher_join(struct launcher *l)
{
	if (l->joinable)
		pthread_join(l->thread, NULL);
	l->joinable = false;
}

void nvz_launcher_close_exec(struct launcher *l)
{
	if (l->exec_fd >= 0)
		close(l->exec_fd);
	l->exec_fd = -1;
}

/* Our end goes: a launcher still waiting for the go or the launch order
 * sees EOF and returns; one that cloned init waits for its exec. */
void nvz_launcher_end(struct launcher *l)
{
	nvz_launcher_close_exec(l);
	if (l->fd < 0)
		return;
	shutdown(l->fd, SHUT_RDWR);
	close(steal_fd(&l->fd));
}

/* After the launch order: init's pid, reported by the launcher. */
pid_t nvz_launcher_wait(struct launcher *l, struct nvz_error **err)
{
	struct nvz_sync_msg r;
	ssize_t n;
	do
		n = recv(l->fd, &r, sizeof(r), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(r))
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "the init launcher died");
	if (r.step == SYNC_ERROR) {
		r.msg[sizeof(r.msg) - 1] = '\0';
		return nvz_err(err, r.status, r.code, "%s", r.msg);
	}
	return r.code;
}
