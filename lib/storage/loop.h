/* Loop devices over image files, through the kernel's ioctls only (never
 * losetup): attach with autoclear, find the device backing an image, grow. */
#ifndef NVZ_STORAGE_LOOP_H
#define NVZ_STORAGE_LOOP_H

#include <stddef.h>

#include "nvz/error.h"

/* "/dev/loop<nr>" into buf. */
void nvz_loop_path(int nr, char *buf, size_t len);

/* Bind image (read-write) to a free loop device with LO_FLAGS_AUTOCLEAR and
 * return an open fd of that device (its number in *nr). The device unbinds
 * itself when its last opener goes: close the fd after mounting it, and the
 * unmount frees the device; close it without mounting and it is free now. */
int nvz_loop_attach(const char *image, int *nr, struct nvz_error **err);

/* The bound loop device whose backing file is image (same inode, whatever
 * path or mount namespace it was bound through): 1 and *nr when found, 0 when
 * none, < 0 on error. */
int nvz_loop_find(const char *image, int *nr, struct nvz_error **err);

/* After the backing file was resized: make the device follow its size. */
int nvz_loop_set_capacity(int nr, struct nvz_error **err);

#endif
