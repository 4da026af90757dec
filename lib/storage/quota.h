/* Disk quota of simfs containers: the kernel's project quota (ext4/XFS
 * prjquota) keyed by a project id (= the CT ID) set on every file of the
 * private area, and a du-like walk where the kernel cannot count.
 * quota.c: the probe, quotactl and project ids.
 * simfs.c: the tree walks and what vzquota/vzctl call (nvz_quota_apply...). */
#ifndef NVZ_STORAGE_QUOTA_H
#define NVZ_STORAGE_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/error.h"
#include "nvz/storage.h"

/* OpenVZ's disk quota exit statuses (include/vzerror.h 60-68). */
enum nvz_quota_status {
	NVZ_QS_ON = 60,              /* vzquota on failed */
	NVZ_QS_INIT = 61,            /* vzquota init failed */
	NVZ_QS_SETLIMIT = 62,        /* vzquota setlimit failed */
	NVZ_QS_DISKSPACE_NOTSET = 63,
	NVZ_QS_DISKINODES_NOTSET = 64,
	NVZ_QS_OFF = 66,             /* vzquota off failed */
	NVZ_QS_USAGE = 68,           /* cannot get quota usage */
};

/* What project quota can do on the filesystem holding a path. */
enum nvz_quota_state {
	NVZ_QUOTA_ENFORCED,   /* accounted and limits enforced (mounted prjquota) */
	NVZ_QUOTA_ACCOUNTING, /* accounted, limits not enforced */
	NVZ_QUOTA_OFF,        /* the fs type can, project quota is not on here */
	NVZ_QUOTA_NO_KERNEL,  /* this kernel cannot (no quotactl, no QFMT_V2 for
			       * ext4, no XFS_QUOTA for xfs) */
	NVZ_QUOTA_NO_FS,      /* this fs type has none (tmpfs, overlay, btrfs...) */
};

struct nvz_quota_fs {
	enum nvz_quota_state state;
	char fstype[32];      /* from mountinfo; "" if not found */
	char source[256];
	char mountpoint[256];
	bool prjquota_opt;    /* "prjquota" among the super options */
	char why[320];        /* for states other than ENFORCED: the reason */
};

/* "enforced", "accounting", "off", "no-kernel", "no-fs". */
const char *nvz_quota_state_name(enum nvz_quota_state s);

/* Classify the filesystem holding fd (a directory opened O_RDONLY). Errors
 * only on an unexpected quotactl failure (EPERM from a seccomp filter...). */
int nvz_quota_probe(int fd, struct nvz_quota_fs *fs, struct nvz_error **err);

/* Find mount mnt_id in a /proc/self/mountinfo buffer: fills fstype, source,
 * mountpoint and prjquota_opt. 0 if found, -1 if not. */
int nvz_quota_mountinfo_find(const char *buf, size_t len, uint64_t mnt_id,
			     struct nvz_quota_fs *fs);

/* The kernel's record of one project (quotactl_fd Q_GETQUOTA + Q_GETINFO). */
struct nvz_quota_dq {
	uint64_t space_bytes, inodes;
	uint64_t bsoft_kb, bhard_kb, isoft, ihard;
	int64_t btime, itime;    /* when the soft limit's grace ends; 0 = not over */
	uint64_t bgrace, igrace; /* grace periods (per filesystem, not per project) */
};
int nvz_quota_get(int fd, uint32_t projid, struct nvz_quota_dq *dq, struct nvz_error **err);
/* Set block and inode limits of projid (0 = none); a nonzero quotatime sets
 * the filesystem's project grace periods (shared by every project on it). */
int nvz_quota_set(int fd, uint32_t projid, const struct nvz_disk_limits *l, int status,
		  struct nvz_error **err);

/* Project id and PROJINHERIT of dirfd/name (name "" = dirfd itself), never
 * following a symlink. file_getattr/file_setattr (Linux 6.17) reach every
 * file type; older kernels: FS_IOC_FSGETXATTR on regular files and
 * directories only (-EOPNOTSUPP for the others). */
int nvz_projid_get(int dirfd, const char *name, uint32_t *projid, bool *inherit);
/* Set projid, and PROJINHERIT if dir. Returns 0 or -errno. */
int nvz_projid_set(int dirfd, const char *name, uint32_t projid, bool dir);

/* ---- simfs.c: tree walks and the operations of the commands ---- */

/* du of a tree: blocks and inodes, hard links once, symlinks not followed,
 * mount points below not entered (nor counted). */
struct nvz_tree_usage {
	uint64_t space_bytes;
	uint64_t inodes;
};
int nvz_tree_usage(int dirfd, struct nvz_tree_usage *u, struct nvz_error **err);

/* Tag every inode of the tree with projid (+PROJINHERIT on directories);
 * same rules as nvz_tree_usage. skipped: files whose type cannot carry a
 * project id on this kernel (symlinks, devices, fifos before Linux 6.17). */
struct nvz_tag_stats {
	uint64_t tagged, skipped;
};
int nvz_tree_tag(int dirfd, uint32_t projid, struct nvz_tag_stats *st, struct nvz_error **err);

/* Apply limits to a private area: tag it with projid (a full walk unless its
 * root already carries projid + PROJINHERIT, or always if retag) and set the
 * limits. Limits on a filesystem without enforced project quota fail with
 * status and a message that says why; no limits there is a no-op. */
int nvz_quota_apply(const char *private, uint32_t projid, const struct nvz_disk_limits *l,
		    bool retag, int status, struct nvz_error **err);

/* Usage of a private area: the kernel's counters if the fs accounts projid
 * and the area is tagged with it, else a walk (if walk; else -ENOTSUP, for
 * listings that must stay cheap). */
struct nvz_quota_report {
	bool from_kernel;          /* else: counted by walking, limits are 0 */
	struct nvz_quota_dq dq;
	struct nvz_quota_fs fs;
};
int nvz_quota_report(const char *private, uint32_t projid, bool walk,
		     struct nvz_quota_report *r, struct nvz_error **err);

/* vzquota drop: re-tag the whole tree (files moved in from elsewhere keep
 * their old project id). *done = false when the fs keeps no project quota
 * (nothing is cached then: usage is always counted afresh). */
int nvz_quota_retag(const char *private, uint32_t projid, bool *done, struct nvz_error **err);

/* vzquota off: drop the project's limits (accounting of a project cannot
 * be switched off alone). *done = false when there was no project quota. */
int nvz_quota_clear(const char *private, uint32_t projid, bool *done, struct nvz_error **err);

/* Does the BTF file btf (/sys/kernel/btf/vmlinux) name the function name?
 * map_it: map the file if the kernel allows it, else read it in chunks.
 * 1 found, 0 not there, -1 no such file. */
int nvz_btf_has_function(const char *btf, const char *name, bool map_it);

#endif
