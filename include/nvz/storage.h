/* Disk layouts behind one table: how a CT's private area is created,
 * mounted at VE_ROOT, resized, compacted and removed, and what it uses. */
#ifndef NVZ_STORAGE_H
#define NVZ_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "nvz/error.h"

/* DISKSPACE (1 KiB blocks) and DISKINODES, soft:hard; 0 = no limit. */
struct nvz_disk_limits {
	uint64_t space_soft_kb, space_hard_kb;
	uint64_t inodes_soft, inodes_hard;
	uint64_t quotatime; /* grace period in seconds (simfs quota) */
};

struct nvz_disk_usage {
	uint64_t space_used_kb, space_total_kb; /* total: the hard limit or fs size */
	uint64_t inodes_used, inodes_total;
};

/* Where a layout works: the private area, the mount point, the template's
 * shared read-only tree (layouts that share it; NULL otherwise). */
struct nvz_disk {
	const char *private;
	const char *root;
	const char *template_tree;
	struct nvz_disk_limits limits;
	const char *mount_opts;   /* MOUNT_OPTS, ploop's ext4 only */
	char template_path[4096]; /* storage for template_tree */
};

struct nvz_layout {
	const char *name;
	/* Make an empty private area (for an image: the image and its fs);
	 * on a shared template (d->template_tree set), with the overlay's
	 * empty upper and work directories already in it. */
	int (*create)(const struct nvz_disk *d, struct nvz_error **err);
	/* Mount it at d->root in the caller's mount namespace. */
	int (*mount)(const struct nvz_disk *d, struct nvz_error **err);
	int (*umount)(const struct nvz_disk *d, struct nvz_error **err);
	int (*destroy)(const struct nvz_disk *d, struct nvz_error **err);
	/* Apply d->limits. mounted: the CT's root is mounted (maybe running),
	 * so only what can be done online is done, the rest is refused with a
	 * message saying how (e.g. stop the CT first). */
	int (*set_limits)(const struct nvz_disk *d, bool mounted, struct nvz_error **err);
	/* Return freed blocks to the host (images); NULL if meaningless. */
	int (*compact)(const struct nvz_disk *d, struct nvz_error **err);
	int (*usage)(const struct nvz_disk *d, bool walk, struct nvz_disk_usage *u,
		     struct nvz_error **err);
};

/* The layout named by VE_LAYOUT; status 21 if unknown. */
int nvz_layout_get(const char *name, const struct nvz_layout **out, struct nvz_error **err);

/* MOUNT_OPTS "noatime,commit=30": mount flags and ext4's data string;
 * status 21 naming an option outside the allowed list. */
int nvz_mount_opts_parse(const char *text, unsigned long *flags, char *data, size_t size,
			 struct nvz_error **err);
/* Parse DISKSPACE/DISKINODES/QUOTATIME values ("200M:200M", "5000:5000",
 * K/M/G/T suffixes for diskspace, default unit 1 KiB blocks). */
int nvz_disk_limits_parse(const char *diskspace, const char *diskinodes, const char *quotatime,
			  struct nvz_disk_limits *out, struct nvz_error **err);
/* The config value of --diskspace, --diskinodes or --quotatime (option
 * without dashes) as vzctl saves it: "soft:hard" in 1 KiB blocks or inodes
 * (one value: both; K/M/G/T suffixes, for inodes too), seconds; malloc'd.
 * NULL and "Bad parameter for --OPTION: TEXT" (21) if it is not one. */
char *nvz_disk_option_value(const char *option, const char *text, struct nvz_error **err);

#endif
