/* The CT's own tmpfs mounts (/dev, /dev/shm, /run) carried by nvz instead of
 * criu. criu dumps a tmpfs with `tar --gzip` (tar, sh, gzip) and restores it
 * with tar: five execs per mount, ~5-15 ms each, all inside the freeze
 * window. nvz passes these mounts to criu as externals and copies their
 * content itself, in-process: before the dump it takes a detached clone of
 * each mount (open_tree, from inside the CT's mount namespace), which keeps
 * the tmpfs alive after criu killed the CT, and writes its content into the
 * dump once criu is done (the processes are dead: nothing changes it any
 * more); at restore it mounts a tmpfs with the same options, fills it and
 * hands it to criu, which binds it where it was. Device nodes, fifos,
 * symlinks, regular files (hard links, holes), owners, modes, times and extended
 * attributes are kept; sockets are not files tar or criu carry (criu binds
 * the sockets it restores). */
#ifndef NVZ_CPT_TMPFS_H
#define NVZ_CPT_TMPFS_H

#include <stdint.h>
#include <sys/types.h>

#include "nvz/error.h"

#define NVZ_CPT_TMPFS_MAX 4
#define NVZ_CPT_TMPFS_KEY "nvz-tmpfs:"

struct nvz_cpt_tmpfs {
	int n;
	struct {
		char mnt[32];          /* where the CT has it: /dev, /dev/shm, /run */
		char opts[256];        /* the tmpfs options (size=, mode=, ...) */
		unsigned long flags;   /* MS_NOSUID, MS_NODEV, ... of the mount */
		int fd;                /* detached clone of the mount */
	} m[NVZ_CPT_TMPFS_MAX];
};

/* Clone the CT's tmpfs mounts nvz can carry (none for a CT in a user
 * namespace of its own, or one whose mounts propagate: criu carries those
 * as before). Never fails: what cannot be cloned is left to criu. */
void nvz_cpt_tmpfs_grab(pid_t pid, struct nvz_cpt_tmpfs *t);
void nvz_cpt_tmpfs_close(struct nvz_cpt_tmpfs *t);
/* Write each clone's content into dir (nvz-tmpfs-N.img) and the list the
 * meta file keeps (TMPFS=, malloc'd into *meta). */
int nvz_cpt_tmpfs_save_all(const struct nvz_cpt_tmpfs *t, const char *dir, char **meta,
			   struct nvz_error **err);
/* Mount and fill hostdir/N for each entry of a dump's TMPFS list. */
int nvz_cpt_tmpfs_make(const char *hostdir, const char *dumpdir, const char *meta,
		       struct nvz_error **err);
/* Detach what nvz_cpt_tmpfs_make mounted (the CT's binds keep it). */
void nvz_cpt_tmpfs_release(const char *hostdir);

/* The stream's records (native endian): a header, then the name, the
 * xattrs and, for a file or link, its data. */
enum { NVZ_TMPFS_DIR = 1, NVZ_TMPFS_END, NVZ_TMPFS_FILE, NVZ_TMPFS_LNK, NVZ_TMPFS_NODE, NVZ_TMPFS_HARD };
struct nvz_tmpfs_rec {
	uint32_t type, mode, uid, gid;
	uint64_t rdev, size;
	int64_t atime, mtime;
	uint32_t atime_ns, mtime_ns;
	uint32_t namelen, xattrlen, link_id, pad;
};

/* tmpfs.c: the content of a tree as one stream, and back. Both take the
 * descriptor they write to / read from. */
int nvz_cpt_tmpfs_save(int treefd, int outfd, struct nvz_error **err);
int nvz_cpt_tmpfs_load(int infd, int dirfd, struct nvz_error **err);

#endif
