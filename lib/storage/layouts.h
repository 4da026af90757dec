/* The layouts behind nvz_layout_get(), one file each. */
#ifndef NVZ_STORAGE_LAYOUTS_H
#define NVZ_STORAGE_LAYOUTS_H

#include <stdint.h>

#include "nvz/storage.h"

extern const struct nvz_layout nvz_layout_simfs, nvz_layout_ploop;

/* ploop compact with the image's allocation (st_blocks, KiB) before and
 * after, for a caller that reports it; either pointer may be NULL. */
int nvz_ploop_compact(const struct nvz_disk *d, uint64_t *before_kb, uint64_t *after_kb,
		      struct nvz_error **err);

#endif
