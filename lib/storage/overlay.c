/* Template sharing on top of any layout: the shared template tree is the
 * overlayfs lower layer, the CT's own changes live in <base>/upper (with
 * <base>/work beside it) on the CT's own storage (its directory, or its
 * image: then df inside counts only the CT's own layer). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "storage/overlay.h"

int nvz_overlay_prepare(const char *base, struct nvz_error **err)
{
	static const char *const dirs[] = { "upper", "work" };
	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *p = NULL;
		if (asprintf(&p, "%s/%s", base, dirs[i]) < 0)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "mkdir %s", p);
	}
	return 0;
}

int nvz_overlay_mount(const char *lower, const char *base, const char *root, struct nvz_error **err)
{
	/* Commas and colons are separators in overlay options: refuse them
	 * rather than mis-parse a path. */
	if (strpbrk(lower, ",:") || strpbrk(base, ",:"))
		return nvz_err(err, NVZ_E_MOUNT, EINVAL, "overlay paths must not contain ',' or ':'");
	cleanup_free char *opts = NULL;
	/* index=off, xino=off: CTs are moved between hosts and layers copied;
	 * keep the upper layer self-contained. */
	if (asprintf(&opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work,index=off,xino=off", lower,
		     base, base) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_mkdir_p(root, 0755, err) < 0)
		return -1;
	if (mount("overlay", root, "overlay", 0, opts) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount overlay on %s", root);
	if (mount(NULL, root, NULL, MS_PRIVATE, NULL) < 0) {
		int e = errno;
		umount2(root, MNT_DETACH);
		return nvz_err_sys(err, NVZ_E_MOUNT, e, "make %s private", root);
	}
	return 0;
}

int nvz_overlay_umount(const char *base, const char *root, struct nvz_error **err)
{
	if (umount2(root, 0) < 0) {
		if (errno == EINVAL)
			return 0;
		if (errno != EBUSY || umount2(root, MNT_DETACH) < 0)
			return nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount %s", root);
		/* A detached overlay still works in its work dir. */
		return 0;
	}
	/* Each mount empties and recreates work/work when it finds one (the
	 * kernel's ovl_workdir_create: a lookup, an rmdir and a mkdir on the
	 * upper's file system, in the start's path). Left empty by a clean
	 * unmount, it goes now, at the stop, where nothing waits on it; not if
	 * root is still a mount point (a mount stacked on the overlay went,
	 * the overlay is still there and works in it). */
	if (nvz_is_mountpoint(root))
		return 0;
	cleanup_free char *work = NULL;
	if (asprintf(&work, "%s/work/work", base) >= 0)
		rmdir(work);
	return 0;
}
