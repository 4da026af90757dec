/* bcfs: a tiny FUSE filesystem, served by the CT's monitor, holding one
 * read-only file `user_beancounters` whose text is regenerated from the
 * kernel counters and RUNDIR/<id>/resources at every open. */
#ifndef NVZ_CT_BCFS_H
#define NVZ_CT_BCFS_H

#include <time.h>

#include "nvz/ct.h"
#include "nvz/error.h"

struct nvz_bcfs;

/* Mount at dir (created if needed; a stale mount left by a dead monitor is
 * detached first) in the caller's mount namespace, read-only. ct is
 * borrowed and must outlive the mount. Also prepares a detached clone of
 * dir/user_beancounters (nvz_bcfs_file_tree) while serving the lookups it
 * needs, so that nobody has to resolve a path on this filesystem while the
 * single-threaded monitor is busy elsewhere. */
struct nvz_bcfs *nvz_bcfs_mount(const struct nvz_ct *ct, const char *dir, struct nvz_error **err);
/* The FUSE device, non-blocking: poll it for POLLIN. */
int nvz_bcfs_fd(const struct nvz_bcfs *bc);
/* When it was mounted (the file's times). */
time_t nvz_bcfs_mounted_at(const struct nvz_bcfs *bc);
/* Receive and answer at most one request. Returns 0, or -1 once the
 * filesystem was unmounted from outside (stop polling, then unmount). */
int nvz_bcfs_process(struct nvz_bcfs *bc);
/* The detached mount of the file (an open_tree(OPEN_TREE_CLONE) fd, close
 * on exec), or -1. It survives clone(CLONE_NEWNS) and can be attached in
 * any mount namespace with nvz_bcfs_attach, once. */
int nvz_bcfs_file_tree(const struct nvz_bcfs *bc);
/* In the CT child: attach tree_fd onto target, an existing regular file. */
int nvz_bcfs_attach(int tree_fd, const char *target, struct nvz_error **err);
/* Unmount (lazily: a reader may still hold it) and free. NULL is fine. */
void nvz_bcfs_unmount(struct nvz_bcfs *bc);
/* Free bc but leave the mount to whoever has a copy of its FUSE device
 * (the hub, once a start in one of its threads handed the CT over). */
void nvz_bcfs_release(struct nvz_bcfs *bc);

#endif
