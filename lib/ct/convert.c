/* vzctl convert: a stopped CT's private area moved onto a ploop image, as
 * OpenVZ's simfs -> ploop conversion. The image is made beside the old
 * area and filled by rsync (hard links, ACLs, xattrs, sparse files and
 * numeric owners kept) in a child's own mount namespace; only then are the
 * areas swapped and the config saved, and any failure before that leaves
 * the CT as it was. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "core/child.h"
#include "cpt/spawn.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/storage.h"
#include "storage/overlay.h"

struct copy_job {
	const struct nvz_layout *from, *into;
	struct nvz_disk *src, *dst;
	const char *layer; /* where a shared template CT's own layer is mounted */
};

/* In the child: both trees mounted privately, copied, unmounted. */
static int copy_child(void *arg, struct nvz_error **err)
{
	struct copy_job *j = arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "private mount namespace");
	/* On a shared template the CT's tree is the overlay of template and layer. */
	struct nvz_disk own = *j->src;
	own.template_tree = NULL;
	own.root = j->src->template_tree ? j->layer : j->src->root;
	if (j->from->mount(&own, err) < 0 ||
	    (j->src->template_tree && nvz_overlay_mount(j->src->template_tree, j->layer, j->src->root, err) < 0) ||
	    j->into->mount(j->dst, err) < 0)
		return -1;
	cleanup_free char *from = NULL, *to = NULL;
	if (asprintf(&from, "%s/", j->src->root) < 0 || asprintf(&to, "%s/", j->dst->root) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	char *const argv[] = { "rsync", "-aHAXS", "--numeric-ids", from, to, NULL };
	int rc = nvz_run(argv, NULL, err);
	if (rc != 0)
		return rc < 0 ? -1 : nvz_err(err, NVZ_E_SYSTEM, EIO, "rsync exit status %d", rc);
	/* The image is unmounted (flushed) before the switch; the source's
	 * mounts go with this namespace. */
	return j->into->umount(j->dst, err);
}

/* 0: go on; 1: nothing to do; < 0: refused. */
static int check_convertible(struct nvz_ct *ct, const char *to, struct nvz_error **err)
{
	if (strcmp(to, "ploop") && strcmp(to, "ploop:expanded") && strcmp(to, "ploop:plain") &&
	    strcmp(to, "ploop:raw"))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "Only conversion to ploop is supported");
	/* vzctl: nothing to do is no failure (a script converting all CTs). */
	if (!strncmp(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), "ploop", 5)) {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "CT is already on ploop");
		return 1;
	}
	struct nvz_ct_state st;
	if (nvz_ct_get_state(ct, &st, err) < 0)
		return -1;
	if (!st.exists)
		return nvz_err(err, NVZ_E_NOPRIVATE, ENOENT, "Container private area %s does not exist",
			       ct->private);
	if (st.running)
		return nvz_err(err, NVZ_E_RUNNING, EBUSY, "CT is running (stop it first)");
	if (st.mounted)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY, "CT is mounted (umount it first)");
	return 0;
}

/* Swap the areas in one step (the old one is then at tmp) and record the
 * layout; on failure swap back. */
static int switch_over(struct nvz_ct *ct, const char *to, const char *tmp, struct nvz_error **err)
{
	cleanup_free char *was_layout = strdup(nvz_ct_get(ct, "VE_LAYOUT", "simfs"));
	cleanup_free char *was_tree = strdup(nvz_ct_get(ct, "TEMPLATE_TREE", ""));
	if (!was_layout || !was_tree)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, ct->private, RENAME_EXCHANGE) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "exchange %s and %s", tmp, ct->private);
	/* The image holds the whole tree: no shared template below it. */
	if (nvz_conf_set(ct->conf, "VE_LAYOUT", to, err) < 0 ||
	    nvz_conf_set(ct->conf, "TEMPLATE_TREE", "", err) < 0 || nvz_ct_save(ct, err) < 0) {
		renameat2(AT_FDCWD, tmp, AT_FDCWD, ct->private, RENAME_EXCHANGE);
		nvz_conf_set(ct->conf, "VE_LAYOUT", was_layout, NULL);
		nvz_conf_set(ct->conf, "TEMPLATE_TREE", was_tree, NULL);
		return -1;
	}
	return 0;
}

/* A killed convert leaves its image area at tmp, removed here; but one
 * killed between the swap and the config's save left the CT's own files
 * there: never removed, the admin is told. */
static int clear_leftover(const char *tmp, struct nvz_error **err)
{
	cleanup_free char *image = NULL;
	if (asprintf(&image, "%s/root.hdd", tmp) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_path_exists(tmp) && !nvz_path_exists(image))
		return nvz_err(err, NVZ_E_SYSTEM, EEXIST,
			       "%s is not an image a convert left: an interrupted convert may have left the "
			       "container's files there; put them back as the private area by hand", tmp);
	return nvz_rm_rf(tmp, err);
}

int nvz_ct_convert(struct nvz_ct *ct, const char *layout, struct nvz_error **err)
{
	const char *to = layout ? layout : "ploop";
	int c = check_convertible(ct, to, err);
	if (c != 0)
		return c < 0 ? -1 : 0;
	const struct nvz_layout *from, *into;
	struct nvz_disk src, dst;
	cleanup_free char *tmp = NULL, *old = NULL, *src_mnt = NULL, *dst_mnt = NULL, *layer = NULL;
	if (asprintf(&tmp, "%s.tmp", ct->private) < 0 || asprintf(&old, "%s.del", ct->private) < 0 ||
	    asprintf(&src_mnt, "%s.convert.src", ct->private) < 0 ||
	    asprintf(&dst_mnt, "%s.convert.dst", ct->private) < 0 ||
	    asprintf(&layer, "%s.convert.layer", ct->private) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &from, err) < 0 ||
	    nvz_layout_get(to, &into, err) < 0 || nvz_ct_disk(ct, NULL, &src, err) < 0 ||
	    nvz_ct_disk(ct, tmp, &dst, err) < 0)
		return -1;
	dst.template_tree = NULL;
	if (!dst.limits.space_hard_kb)
		return nvz_err(err, NVZ_E_DISKSPACE_NOTSET, EINVAL, "Error: diskspace not set (required for ploop)");
	/* Leftovers of a convert that was killed. */
	if (clear_leftover(tmp, err) < 0 || nvz_rm_rf(old, err) < 0 || nvz_rm_rf(src_mnt, err) < 0 ||
	    nvz_rm_rf(dst_mnt, err) < 0 || nvz_rm_rf(layer, err) < 0 || nvz_mkdir_p(src_mnt, 0700, err) < 0 ||
	    nvz_mkdir_p(dst_mnt, 0700, err) < 0 || nvz_mkdir_p(layer, 0700, err) < 0)
		return -1;
	src.root = src_mnt;
	dst.root = dst_mnt;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Creating image: %s/root.hdd size=%lluK", ct->private,
		(unsigned long long)dst.limits.space_hard_kb);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Copying content to ploop...");
	struct copy_job job = { from, into, &src, &dst, layer };
	int r = into->create(&dst, err);
	if (r == 0)
		r = nvz_child_run(copy_child, &job, "copy the container's files", err);
	rmdir(src_mnt);
	rmdir(dst_mnt);
	rmdir(layer);
	if (r < 0 || switch_over(ct, to, tmp, err) < 0) {
		nvz_rm_rf(tmp, NULL);
		return nvz_err_wrap(err, "Conversion to ploop failed, the container is unchanged");
	}
	/* The old area, now at tmp, goes as a destroy takes it (simfs: its
	 * project quota); renamed first so that a new convert never takes it
	 * for its own leftover image. */
	if (rename(tmp, old) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: rename %s: %m", tmp);
	src.private = old;
	src.root = ct->root;
	src.template_tree = NULL;
	struct nvz_error *e = NULL;
	if (from->destroy(&src, &e) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: the old private area %s was not removed: %s", old,
			e->msg);
		nvz_error_free(e);
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container was successfully converted to the ploop layout");
	return 0;
}
