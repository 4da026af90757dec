/* The ext4 superblock: 1 KiB at offset 1024, little endian (see ext4sb.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "storage/ext4sb.h"

#define STATE_VALID 0x0001  /* cleanly unmounted */
#define STATE_ERROR 0x0002  /* errors detected */
#define STATE_ORPHAN 0x0004 /* orphans being recovered */
#define INCOMPAT_RECOVER 0x0004 /* the journal needs a replay */
#define INCOMPAT_64BIT 0x0080
#define RO_COMPAT_ORPHAN_PRESENT 0x10000

static uint32_t le(const unsigned char *p, int bytes)
{
	uint32_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int nvz_ext4_sb_read(const char *image, struct nvz_ext4_sb *sb, struct nvz_error **err)
{
	unsigned char b[1024];
	cleanup_close int fd = open(image, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return nvz_err_sys(err, errno == ENOENT ? NVZ_E_NOPRIVATE : NVZ_E_SYSTEM, errno,
				   "open image %s", image);
	if (pread(fd, b, sizeof(b), 1024) != (ssize_t)sizeof(b) || le(b + 0x38, 2) != 0xEF53 ||
	    le(b + 0x18, 4) > 6)
		return nvz_err(err, NVZ_E_MOUNT, EINVAL, "%s holds no ext4 filesystem", image);
	bool is64 = le(b + 0x60, 4) & INCOMPAT_64BIT; /* high halves exist */
	sb->blocks = le(b + 0x04, 4) | (is64 ? (uint64_t)le(b + 0x150, 4) << 32 : 0);
	sb->free_blocks = le(b + 0x0c, 4) | (is64 ? (uint64_t)le(b + 0x158, 4) << 32 : 0);
	sb->inodes = le(b, 4);
	sb->overhead = le(b + 0x248, 4); /* 0: not recorded by an old mke2fs */
	if (sb->overhead >= sb->blocks)
		sb->overhead = 0;
	sb->free_inodes = le(b + 0x10, 4);
	sb->bsize = 1024u << le(b + 0x18, 4);
	sb->blocks_per_group = le(b + 0x20, 4);
	sb->inodes_per_group = le(b + 0x28, 4);
	sb->inode_size = le(b + 0x58, 2) ? le(b + 0x58, 2) : 128;
	sb->mnt_count = le(b + 0x34, 2);
	sb->max_mnt_count = (int16_t)le(b + 0x36, 2);
	sb->state = le(b + 0x3a, 2);
	sb->lastcheck = le(b + 0x40, 4);
	sb->checkinterval = le(b + 0x44, 4);
	sb->feature_incompat = le(b + 0x60, 4);
	sb->feature_ro_compat = le(b + 0x64, 4);
	sb->error_count = le(b + 0x194, 4);
	if (!sb->blocks_per_group || !sb->inodes_per_group)
		return nvz_err(err, NVZ_E_MOUNT, EINVAL, "%s: corrupt ext4 superblock", image);
	return 0;
}

const char *nvz_ext4_check_reason(const struct nvz_ext4_sb *sb, time_t now)
{
	if ((sb->state & STATE_ERROR) || sb->error_count)
		return "contains a file system with errors";
	if (!(sb->state & STATE_VALID))
		return "was not cleanly unmounted";
	if (sb->feature_incompat & INCOMPAT_RECOVER)
		return "needs its journal replayed";
	if ((sb->state & STATE_ORPHAN) || (sb->feature_ro_compat & RO_COMPAT_ORPHAN_PRESENT))
		return "has orphan inodes to release";
	if (sb->max_mnt_count > 0 && sb->mnt_count >= (uint32_t)sb->max_mnt_count)
		return "has reached its maximal mount count";
	if (sb->checkinterval && ((uint64_t)now < sb->lastcheck ||
				  (uint64_t)now - sb->lastcheck >= sb->checkinterval))
		return "is due for its periodic check";
	return NULL;
}
