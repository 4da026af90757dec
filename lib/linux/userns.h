/* User namespaces for unprivileged CTs (USERNS="yes"): the CT's ids 0..N-1
 * are host ids B..B+N-1, so its root is an ordinary user on the host. The
 * CT's files keep their on-disk owners (0 stays 0, so host tools and
 * templates need no chown): its root is mounted idmapped through the CT's
 * user namespace (mount_setattr MOUNT_ATTR_IDMAP). */
#ifndef NVZ_LINUX_USERNS_H
#define NVZ_LINUX_USERNS_H

#include <stdint.h>
#include <sys/types.h>

#include "nvz/error.h"

struct nvz_idmap {
	uint32_t host; /* first host id: the CT's 0 */
	uint32_t count;
};

/* Write "0 host count" as pid's uid and gid maps (the caller is the parent,
 * root in the initial user namespace, so setgroups stays allowed). */
int nvz_userns_write_maps(pid_t pid, const struct nvz_idmap *map, struct nvz_error **err);
/* A new user namespace with map as its uid and gid maps; returns an fd of
 * it (close-on-exec) to setns(2) into and to idmap mounts with. */
int nvz_userns_create(const struct nvz_idmap *map, struct nvz_error **err);
/* Is pid's namespace of kind ns ("user", "net", "time"...) this process's
 * own (0), another (1), or can either not be read (-1: pid gone, or no
 * such kind in this kernel)? */
int nvz_ns_cmp(pid_t pid, const char *ns);
/* pid's user namespace as an fd, or -2 when it is the caller's own. */
int nvz_userns_of(pid_t pid, struct nvz_error **err);
/* A detached clone of the mount at path, idmapped through the user
 * namespace userns_fd; returns its fd (close-on-exec). EINVAL from the
 * kernel means the filesystem cannot be idmapped. */
int nvz_idmapped_tree(const char *path, int userns_fd, struct nvz_error **err);
/* In a fresh user namespace whose maps are written: become its root
 * (ids 0, no supplementary groups). */
int nvz_userns_become_root(struct nvz_error **err);

#endif
