#ifndef NVZ_STORAGE_OVERLAY_H
#define NVZ_STORAGE_OVERLAY_H

#include "nvz/error.h"

/* Make <base>/upper and <base>/work. */
int nvz_overlay_prepare(const char *base, struct nvz_error **err);
/* Mount overlay(lower, <base>/upper) at root, private. */
int nvz_overlay_mount(const char *lower, const char *base, const char *root, struct nvz_error **err);
/* Unmount the overlay at root (detached if busy); after a clean unmount
 * that left nothing mounted at root, remove the kernel's <base>/work/work. */
int nvz_overlay_umount(const char *base, const char *root, struct nvz_error **err);

#endif
