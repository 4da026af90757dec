/* lxcfs: the host's lxcfs daemon serves per-container views of
 * /proc/{meminfo,cpuinfo,stat,uptime,loadavg,diskstats,swaps} computed from
 * the reader's cgroups and pid namespace; a CT sees them through bind
 * mounts over its own procfs files. */
#ifndef NVZ_CT_LXCFS_H
#define NVZ_CT_LXCFS_H

#include <stdbool.h>

#include "nvz/error.h"

/* Default of the vz.conf key LXCFS_DIR (the Debian package's mount point). */
#define NVZ_LXCFS_DIR_DEFAULT "/var/lib/lxcfs"

/* Is dir a mounted lxcfs that answers? (For the monitor to log, once,
 * that CTs will see the host's numbers.) */
bool nvz_lxcfs_available(const char *dir);

/* In the CT child, after <root>/proc is a fresh procfs and before
 * pivot_root: mount each <lxcfs_dir>/proc/<file> that lxcfs serves over
 * <root>/proc/<file>, read-only, nosuid, nodev, noexec. Returns 1 if the
 * views are in place, 0 if lxcfs_dir is not a mounted, answering lxcfs (or
 * NULL/empty): nothing is done and the CT sees the host's numbers. */
int nvz_lxcfs_mounts(const char *lxcfs_dir, const char *root, struct nvz_error **err);

#endif
