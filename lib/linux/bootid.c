/* Each CT boot gets its own /proc/sys/kernel/random/boot_id, as OpenVZ
 * gave and LXC gives: journald and `journalctl --list-boots` tell boots
 * apart by it, and with the host's every CT boot (and the host's) is one.
 *
 * The id lives in a file of the CT's /dev tmpfs, bound read-only over the
 * procfs file. /dev is a tmpfs checkpoint carries itself (lib/cpt/tmpfs*),
 * so the file comes back with it and criu restores the bind from it: the
 * id survives checkpoint, restore and migration, and changes only when the
 * CT boots again (a reboot inside makes a new root setup, hence a new id). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

#include "linux/rootfs.h"
#include "nvz/cleanup.h"

/* The kernel's format: a random (version 4) UUID, lower case, newline. */
static int new_boot_id(char out[38], struct nvz_error **err)
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "getrandom for the boot id");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 38,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return 0;
}

int nvz_rootfs_boot_id(int devfd, const char *root, struct nvz_error **err)
{
	char id[38];
	if (new_boot_id(id, err) < 0)
		return -1;
	/* A fresh tmpfs: the CT has not run yet, nothing can be planted. */
	cleanup_close int fd = openat(devfd, NVZ_BOOT_ID_FILE,
				      O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "create /dev/%s", NVZ_BOOT_ID_FILE);
	if (write(fd, id, 37) != 37)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "write /dev/%s", NVZ_BOOT_ID_FILE);
	char src[4200], dst[4200];
	snprintf(src, sizeof(src), "%s/dev/%s", root, NVZ_BOOT_ID_FILE);
	/* In the fresh procfs mounted just before: kernel-made paths only. */
	snprintf(dst, sizeof(dst), "%s/proc/sys/kernel/random/boot_id", root);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
		if (errno == ENOENT) /* a kernel without it: nothing to hide */
			return 0;
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind the boot id");
	}
	/* Read-only, as the kernel's file is: the CT cannot change its id
	 * through it. */
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "remount the boot id read-only");
	return 0;
}
