#ifndef NVZ_STORAGE_OVERLAY_H
#define NVZ_STORAGE_OVERLAY_H

#include "nvz/error.h"

/* Make <base>/upper and <base>/work. */
int nvz_overlay_prepare(const char *base, struct nvz_error **err);
/* Mount overlay(lower, <base>/upper) at root, private. */
int nvz_overlay_mount(const char *lower, const char *base, const char *root, struct nvz_error **err);

#endif
