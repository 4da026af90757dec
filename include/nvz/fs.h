/* File helpers: host paths, and paths inside a container root that must be
 * resolved as if that root were "/" (a CT can plant symlinks anywhere). */
#ifndef NVZ_FS_H
#define NVZ_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nvz/error.h"

/* openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS. */
int nvz_open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* Replace file path inside rootfd atomically (temp + rename in the resolved
 * parent directory). A symlink at path is replaced, never followed. */
int nvz_write_in_root(int rootfd, const char *path, const char *data, size_t len, mode_t mode,
		      struct nvz_error **err);
/* Read a file inside rootfd (in-root resolution), at most max bytes. */
int nvz_read_in_root(int rootfd, const char *path, size_t max, char **out, struct nvz_error **err);

/* mkdir of the last component of path inside rootfd (exists as a directory: fine). */
int nvz_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct nvz_error **err);
int nvz_mkdir_p(const char *path, mode_t mode, struct nvz_error **err);
/* Remove dirfd/name recursively without following symlinks or crossing
 * into other filesystems (a mount left inside is an error, not a target). */
int nvz_rm_rf_at(int dirfd, const char *name, struct nvz_error **err);
int nvz_rm_rf(const char *path, struct nvz_error **err);
/* Close each of fds[0..n) (errno kept, for an error path). */
void nvz_close_all(const int *fds, size_t n);
/* Close every descriptor above stderr but those in keep (any order, any
 * number; < 0 ignored): what a long-lived child must not hold of its
 * parent's. Async-signal-safe. */
void nvz_close_fds_except(const int *keep, size_t n);
bool nvz_path_exists(const char *path);
/* The directory of the running binary, "" if unknown. */
void nvz_self_dir(char *dir, size_t len);
/* One of nvz's helper binaries (vzmon, vzhub): beside the running binary
 * (a build tree), else the installed one in NVZ_LIBEXECDIR. 0 if it is
 * executable (path names it either way, for messages). */
int nvz_helper_path(const char *name, char *path, size_t len);
/* Is path a mount point in this mount namespace? */
bool nvz_is_mountpoint(const char *path);
/* A mountinfo field's \ooo escapes (space, tab, newline, backslash)
 * undone in place. */
void nvz_mountinfo_unescape(char *s);
/* Every mount strictly below dir in this namespace, detached (lazily),
 * newest first: how many, or -1 if mountinfo cannot be read. */
int nvz_detach_mounts_below(const char *dir);

/* Per-CT lock: flock on <lockdir>/<id>.lck, dropped by the kernel when the
 * holder dies. Non-blocking: status 9 "Container already locked". */
int nvz_lock(const char *lockdir, const char *id, bool wait, int *fd_out, struct nvz_error **err);

#endif
