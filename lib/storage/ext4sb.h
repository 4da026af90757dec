/* The ext4 superblock of an image, read without mounting it: the sizes the
 * ploop layout reports, and the record e2fsck -p looks at before it calls a
 * filesystem clean. */
#ifndef NVZ_STORAGE_EXT4SB_H
#define NVZ_STORAGE_EXT4SB_H

#include <stdint.h>
#include <time.h>

#include "nvz/error.h"

struct nvz_ext4_sb {
	uint64_t blocks, free_blocks, inodes, free_inodes;
	uint64_t overhead; /* metadata blocks (journal, tables), as statfs leaves them out */
	uint32_t bsize, blocks_per_group, inodes_per_group, inode_size;
	uint32_t state, error_count, mnt_count, lastcheck, checkinterval;
	int32_t max_mnt_count; /* < 1: no limit */
	uint32_t feature_incompat, feature_ro_compat;
};

int nvz_ext4_sb_read(const char *image, struct nvz_ext4_sb *sb, struct nvz_error **err);
/* Why e2fsck -p would check the filesystem (errors recorded, not cleanly
 * unmounted, a journal to replay, orphans, the mount count or the check
 * interval reached), or NULL where it would call it clean and do nothing. */
const char *nvz_ext4_check_reason(const struct nvz_ext4_sb *sb, time_t now);

#endif
