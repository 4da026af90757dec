/* Template sharing: one read-only unpacked tree per template version, the
 * lower layer of every CT created from it (overlayfs), so identical files
 * share disk and page cache and create only makes the CT's empty layer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/template.h"

/* <tree>.complete, beside the tree (inside it, every CT would see it):
 * written last, so a tree without it is a killed unpack and is redone. */
static char *mark_path(const char *tree)
{
	char *mark = NULL;
	if (asprintf(&mark, "%s.complete", tree) < 0)
		return NULL;
	return mark;
}

static bool tree_complete(const char *tree)
{
	cleanup_free char *mark = mark_path(tree);
	return mark && nvz_path_exists(mark);
}

static int unpack_tree(const char *archive, const char *tree, struct nvz_error **err)
{
	cleanup_free char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp", tree) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_rm_rf(tmp, err) < 0)
		return -1;
	if (mkdir(tmp, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "create %s", tmp);
	cleanup_close int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct nvz_unpack_stats stats = { 0 };
	int r = fd < 0 ? nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "open %s", tmp)
		       : nvz_template_unpack(fd, archive, &stats, err);
	/* Verified before anyone uses it: a tree without an init is no OS. */
	if (r == 0) {
		cleanup_close int init = nvz_open_in_root(fd, "/sbin/init", O_PATH, 0);
		if (init < 0)
			r = nvz_err(err, NVZ_E_BAD_TEMPLATE, ENOENT,
				    "template %s has no /sbin/init", archive);
	}
	if (r == 0 && (fchmod(fd, 0755) < 0 || fsync(fd) < 0 || nvz_rm_rf(tree, err) < 0 ||
		       rename(tmp, tree) < 0))
		r = nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "install %s", tree);
	cleanup_free char *mark = r == 0 ? mark_path(tree) : NULL;
	cleanup_close int mfd = mark ? open(mark, O_CREAT | O_WRONLY | O_CLOEXEC, 0444) : -1;
	if (r == 0 && mfd < 0)
		r = nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "mark %s complete", tree);
	if (r < 0)
		nvz_rm_rf(tmp, NULL);
	return r;
}

char *nvz_template_shared_tree(const char *template_dir, const char *ostemplate,
			       struct nvz_error **err)
{
	cleanup_free char *archive = nvz_template_find(template_dir, ostemplate, err);
	if (!archive)
		return NULL;
	struct stat st;
	if (stat(archive, &st) < 0) {
		nvz_err_sys(err, NVZ_E_OSTEMPLATE_NOT_FOUND, errno, "stat %s", archive);
		return NULL;
	}
	cleanup_free char *dir = NULL, *tree = NULL, *lockpath = NULL;
	if (asprintf(&dir, "%s/shared", template_dir) < 0 ||
	    asprintf(&tree, "%s/%s@%llx-%llx", dir, ostemplate, (unsigned long long)st.st_size,
		     (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
			     (unsigned long long)st.st_mtim.tv_nsec) < 0 ||
	    asprintf(&lockpath, "%s/.lock", dir) < 0) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	if (tree_complete(tree))
		return steal_ptr(&tree);
	if (nvz_mkdir_p(dir, 0755, err) < 0)
		return NULL;
	/* One unpacker at a time; the others wait and find it complete. */
	cleanup_close int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "lock %s", lockpath);
		return NULL;
	}
	if (!tree_complete(tree) && unpack_tree(archive, tree, err) < 0)
		return NULL;
	return steal_ptr(&tree);
}
