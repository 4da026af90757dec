/* Loop devices through /dev/loop-control and the loop ioctls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "storage/loop.h"

void nvz_loop_path(int nr, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/loop%d", nr);
}

/* The /dev node can lag behind LOOP_CTL_GET_FREE creating a new device
 * (devtmpfs adds it asynchronously): give it a moment. */
static int open_dev(int nr, int flags)
{
	char dev[32];
	nvz_loop_path(nr, dev, sizeof(dev));
	for (int i = 0;; i++) {
		int fd = open(dev, flags | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || i == 50)
			return fd;
		usleep(10000);
	}
}

int nvz_loop_attach(const char *image, int *nr, struct nvz_error **err)
{
	cleanup_close int file = open(image, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (file < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open image %s", image);
	cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open /dev/loop-control");
	/* A free device can be taken by someone else between GET_FREE and
	 * CONFIGURE (EBUSY): ask again. */
	for (int tries = 0; tries < 32; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "get a free loop device");
		cleanup_close int fd = open_dev(n, O_RDWR);
		if (fd < 0)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open /dev/loop%d", n);
		/* Buffered I/O (no LO_FLAGS_DIRECT_IO): the image is sparse and the
		 * page cache makes small writes of a CT cheap. */
		struct loop_config cfg = { .fd = (unsigned)file };
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", image);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			*nr = n;
			return steal_fd(&fd);
		}
		if (errno != EBUSY)
			return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind %s to /dev/loop%d", image, n);
	}
	return nvz_err(err, NVZ_E_MOUNT, EBUSY, "bind %s: no loop device stayed free", image);
}

/* Does bound device nr have ino/dev as its backing file? */
static bool backs(int nr, const struct stat *st)
{
	cleanup_close int fd = open_dev(nr, O_RDONLY);
	struct loop_info64 info;
	if (fd < 0 || ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
		return false;
	return info.lo_device == (__u64)st->st_dev && info.lo_inode == (__u64)st->st_ino;
}

int nvz_loop_find(const char *image, int *nr, struct nvz_error **err)
{
	struct stat st;
	if (stat(image, &st) < 0)
		return errno == ENOENT ? 0 : nvz_err_sys(err, NVZ_E_SYSTEM, errno, "stat %s", image);
	cleanup_dir DIR *dir = opendir("/sys/block");
	if (!dir)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open /sys/block");
	/* loop/backing_file exists only while a device is bound; its text is
	 * the path as seen from the binder's mount namespace (and changes on
	 * rename), so the inode from LOOP_GET_STATUS64 decides. */
	for (struct dirent *de; (de = readdir(dir));) {
		int n;
		char tail, path[300];
		if (sscanf(de->d_name, "loop%d%c", &n, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
		if (access(path, F_OK) == 0 && backs(n, &st)) {
			*nr = n;
			return 1;
		}
	}
	return 0;
}

int nvz_loop_set_capacity(int nr, struct nvz_error **err)
{
	cleanup_close int fd = open_dev(nr, O_RDWR);
	if (fd < 0 || ioctl(fd, LOOP_SET_CAPACITY, 0) < 0)
		return nvz_err_sys(err, NVZ_E_RESOURCE, errno, "resize /dev/loop%d", nr);
	return 0;
}
