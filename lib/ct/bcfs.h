/* bcfs: a tiny FUSE filesystem, served by the CT's monitor (then the hub),
 * whose root is one read-only file, the CT's `user_beancounters`, its text
 * regenerated from the kernel counters and the resources applied (RUNDIR/<id>/state) at every
 * open. */
#ifndef NVZ_CT_BCFS_H
#define NVZ_CT_BCFS_H

#include <sys/types.h>
#include <time.h>

#include "nvz/ct.h"
#include "nvz/error.h"

struct nvz_bcfs;

/* Make the file system and answer the kernel's INIT. With path NULL it is
 * a detached mount (nvz_bcfs_file_tree), mounted nowhere until the CT's
 * init attaches it; else it is mounted on the host at path, a regular file
 * created for it (a restore: criu binds it from there). ct is borrowed and
 * must outlive it. */
struct nvz_bcfs *nvz_bcfs_new(const struct nvz_ct *ct, const char *path, struct nvz_error **err);
/* Unmount (lazily: a reader may still hold it) and remove what
 * nvz_bcfs_new mounted at path, or what an older nvz left there (a
 * directory); nothing if there is nothing. */
void nvz_bcfs_clear_host(const char *path);
/* The FUSE device, non-blocking: poll it for POLLIN. */
int nvz_bcfs_fd(const struct nvz_bcfs *bc);
/* When it was mounted (the file's times). */
time_t nvz_bcfs_mounted_at(const struct nvz_bcfs *bc);
/* Receive and answer at most one request. Returns 0, or -1 once the
 * filesystem was unmounted from outside (stop polling, then unmount). */
int nvz_bcfs_process(struct nvz_bcfs *bc);
/* The detached mount of the file (an fsmount fd, close on exec), or -1 (or
 * mounted at a path). It survives clone(CLONE_NEWNS) and can be attached in
 * any mount namespace with nvz_bcfs_attach, once. */
int nvz_bcfs_file_tree(const struct nvz_bcfs *bc);
/* In the CT child: attach tree_fd onto target, an existing regular file. */
int nvz_bcfs_attach(int tree_fd, const char *target, struct nvz_error **err);
/* Unmount (lazily: a reader may still hold it) and free. NULL is fine. */
void nvz_bcfs_unmount(struct nvz_bcfs *bc);
/* Free bc but leave the mount to whoever has a copy of its FUSE device
 * (the hub, once a start in one of its threads handed the CT over). */
void nvz_bcfs_release(struct nvz_bcfs *bc);

/* A detached beancounter file system on FUSE device devfd, whose root has
 * rootmode (bcfs-raw.c): its fsmount fd, close on exec, or -1. */
int nvz_bc_fsmount(int devfd, const char *source, mode_t rootmode, struct nvz_error **err);

/* The server's file system (bcsrv.c), one for every CT the hub starts.
 * In the hub, before its loop: make it and answer its INIT; returns its
 * FUSE device (non-blocking: poll it for POLLIN), or -1 where the kernel
 * cannot hand out a file of it (each CT then gets its own, as above). */
int nvz_bcsrv_open(void);
/* In the hub's loop: answer the requests waiting. -1: the device failed,
 * and the server's file system is closed (starts then make their own). */
int nvz_bcsrv_process(void);
/* In a start the hub runs: a detached bind of the CT's file, to attach as
 * nvz_bcfs_file_tree's (close on exec), or -1 (no server file system in
 * this process, or the lookup failed). */
int nvz_bcsrv_tree(unsigned long veid);

#endif
