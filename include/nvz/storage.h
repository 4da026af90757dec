/* Disk layouts behind one table: how a CT's private area is created,
 * mounted at VE_ROOT and removed. */
#ifndef NVZ_STORAGE_H
#define NVZ_STORAGE_H

#include "nvz/error.h"

struct nvz_layout {
	const char *name;
	/* Make an empty private area at path (the caller unpacks into it). */
	int (*create)(const char *private, struct nvz_error **err);
	/* Mount the private area at root in the host's mount namespace. */
	int (*mount)(const char *private, const char *root, struct nvz_error **err);
	int (*umount)(const char *root, struct nvz_error **err);
	int (*destroy)(const char *private, struct nvz_error **err);
};

/* The layout named by VE_LAYOUT ("simfs" when unset); status 21 if unknown. */
int nvz_layout_get(const char *name, const struct nvz_layout **out, struct nvz_error **err);

#endif
