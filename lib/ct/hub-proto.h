/* What vzctl, the hub and the monitors it forks say to each other (hub.h). */
#ifndef NVZ_CT_HUB_PROTO_H
#define NVZ_CT_HUB_PROTO_H

#include <limits.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#define HUB_MAGIC 0x6e767a68u /* "nvzh" */
#define HUB_SOCK "hub.sock"
#define HUB_FDS_MAX 6 /* <= NVZ_RECV_FDS_MAX (console.h) */
/* The namespaces a monitor works in (the host side of the CT's network,
 * its mounts, ...): vzctl's, so only a hub in the same ones may fork it. */
#define HUB_NS_COUNT 7

/* vzctl -> hub, with the start's descriptors: report, go, exec (if
 * have_exec), the CT's lock (if have_lock), a post-copy restore's
 * lazy-pages status pipe (if have_lazy). dumpdir: a restore's images. The hub answers one byte: 'y'
 * (the monitor is forked) or 'n' (not by this hub: another binary, another
 * vz.conf). With adopt set there is no start and no descriptor: the hub
 * takes over the CTs whose monitor is gone (hub-adopt.c), then says 'y'.
 * exe_dev/exe_ino name the vzctl binary, which must be the hub's: the
 * monitor runs the hub's code for the start vzctl began. */
struct hub_request {
	uint32_t magic, size;
	uint64_t exe_dev, exe_ino;
	unsigned long veid;
	uint64_t ns[HUB_NS_COUNT]; /* vzctl's namespaces (inodes): the hub's too */
	int have_exec, have_lock, have_lazy, skiplock, adopt;
	char vzconf[PATH_MAX];
	char dumpdir[PATH_MAX];
	struct rlimit rlim[RLIM_NLIMITS]; /* vzctl's: the CT's init gets them */
};

/* monitor -> hub once init runs, with master, slave, logfd, listen_fd,
 * bc_fd and the token, each if its have bit is set (that order). */
struct hub_handover {
	uint32_t magic, have;
	unsigned long veid;
	pid_t init_pid;
	time_t bc_mounted_at;
	char rundir[256];
	char lockpath[256];
};

/* In the hub (hub-start.c): run rq's monitor, in a thread of ours or, for
 * a restore, a child that runs our binary anew; 0 once it runs, with
 * *hub_fd our end of its channel and the descriptors it took out of fds
 * (*nfds updated). */
int nvz_hub_start_monitor(const struct hub_request *rq, int *fds, size_t *nfds, int *hub_fd);
/* In a child of the hub, before its exec: only the descriptors kept, the
 * hub's signal mask and handling and its subreaper role gone. Makes only
 * system calls: it allocates nothing (the hub has threads). */
void nvz_hub_child_reset(const int *keep, size_t n);
/* The vzctl the hub serves (its fd 4), for nvz_hub_vzctl_open. */
void nvz_hub_set_vzctl(int fd);

extern const char *const hub_ns_names[HUB_NS_COUNT];
/* ns[i]: the inode of /proc/self/ns/<hub_ns_names[i]>, 0 if none. */
void hub_ns_ids(uint64_t *ns);

#endif
