#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvz/fs.h"
#include "nvz/storage.h"

/* simfs: the private area is a directory on the host filesystem, bind-mounted
 * at VE_ROOT (what vzctl itself did on non-OpenVZ kernels). */
static int simfs_create(const char *private, struct nvz_error **err)
{
	if (mkdir(private, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "create %s", private);
	return 0;
}

static int simfs_mount(const char *private, const char *root, struct nvz_error **err)
{
	if (nvz_mkdir_p(root, 0755, err) < 0)
		return -1;
	if (mount(private, root, NULL, MS_BIND, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "bind mount %s on %s", private, root);
	/* Private: what the CT mounts inside must never appear on the host,
	 * and host mounts elsewhere must not appear in the CT. */
	if (mount(NULL, root, NULL, MS_PRIVATE, NULL) < 0) {
		int e = errno;
		umount2(root, MNT_DETACH);
		return nvz_err_sys(err, NVZ_E_MOUNT, e, "make %s private", root);
	}
	return 0;
}

static int simfs_umount(const char *root, struct nvz_error **err)
{
	if (umount2(root, 0) < 0) {
		if (errno == EINVAL)
			return 0; /* not mounted */
		/* Busy (a shell of the admin in it): detach so the CT is stopped anyway. */
		if (errno != EBUSY || umount2(root, MNT_DETACH) < 0)
			return nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount %s", root);
	}
	return 0;
}

static int simfs_destroy(const char *private, struct nvz_error **err)
{
	return nvz_rm_rf(private, err);
}

static const struct nvz_layout layouts[] = {
	{ "simfs", simfs_create, simfs_mount, simfs_umount, simfs_destroy },
};

int nvz_layout_get(const char *name, const struct nvz_layout **out, struct nvz_error **err)
{
	if (!name || !*name)
		name = "simfs";
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (!strcmp(layouts[i].name, name)) {
			*out = &layouts[i];
			return 0;
		}
	return nvz_err(err, NVZ_E_VALUE, ENOTSUP, "unsupported VE_LAYOUT '%s' (supported: simfs)",
		       name);
}
