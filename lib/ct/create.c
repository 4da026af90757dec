/* create and destroy. The order of steps is chosen so that a command killed
 * at any point leaves either no CT or a CT that the next create/destroy
 * finishes: unpack into <private>.tmp, save the config, rename into place. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/internal.h"
#include "ct/postcreate.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/storage.h"
#include "nvz/template.h"
#include "storage/overlay.h"
#include "core/child.h"

static char *suffixed(const char *path, const char *suffix)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s", path, suffix) < 0)
		return NULL;
	return s;
}

/* Copy ve-<sample>.conf-sample as the CT's config (only when it has none).
 * A missing default (vz.conf's CONFIGFILE) gets vzctl's hint line. */
static int apply_sample(struct nvz_ct *ct, const char *sample, bool is_default, struct nvz_error **err)
{
	if (!sample || !*sample)
		return 0;
	cleanup_free char *path = NULL;
	if (strchr(sample, '/'))
		path = strdup(sample);
	else if (asprintf(&path, "%s/ve-%s.conf-sample", ct->ctx->ct_conf_dir, sample) < 0)
		path = NULL;
	if (!path)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct nvz_conf *c = NULL;
	if (strchr(sample, '/') || nvz_conf_load(&c, path, NVZ_E_CONFIG_COPY, err) < 0) {
		nvz_error_clear(err);
		return nvz_err(err, NVZ_E_CONFIG_COPY, ENOENT, "Sample config %s not found%s%s", path,
			       is_default ? "\nFix the value of CONFIGFILE in " : "",
			       is_default ? ct->ctx->conf_path : "");
	}
	nvz_conf_free(ct->conf);
	ct->conf = c;
	return nvz_conf_set(ct->conf, "ORIGIN_SAMPLE", sample, err);
}

int nvz_ct_sample_load(const struct nvz_ct *ct, const char *name, struct nvz_conf **out,
		       struct nvz_error **err)
{
	/* OpenVZ's --applyconfig: every key of the sample except the ones that
	 * identify or describe this CT. */
	static const char *const keep[] = { "HOSTNAME",	  "IP_ADDRESS",	   "OSTEMPLATE",
					    "DISTRIBUTION", "VE_ROOT",	   "VE_PRIVATE",
					    "NAME",	    "DESCRIPTION", "ORIGIN_SAMPLE" };
	cleanup_free char *path = NULL;
	if (strchr(name, '/') || asprintf(&path, "%s/ve-%s.conf-sample", ct->ctx->ct_conf_dir, name) < 0)
		return nvz_err(err, NVZ_E_APPLYCONFIG, EINVAL, "Sample config file not found: %s", name);
	struct nvz_conf *sample = NULL;
	if (nvz_conf_load(&sample, path, NVZ_E_APPLYCONFIG, err) < 0) {
		nvz_error_clear(err);
		return nvz_err(err, NVZ_E_APPLYCONFIG, ENOENT, "Sample config file not found: %s", path);
	}
	struct nvz_conf *c = nvz_conf_new();
	const char *key, *value;
	int r = c ? 0 : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && nvz_conf_entry(sample, i, &key, &value); i++) {
		bool skip = false;
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			skip |= !strcmp(key, keep[k]);
		if (!skip)
			r = nvz_conf_set(c, key, value, err);
	}
	nvz_conf_free(sample);
	if (r < 0) {
		nvz_conf_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int nvz_ct_apply_sample(struct nvz_ct *ct, const char *name, struct nvz_error **err)
{
	struct nvz_conf *sample = NULL;
	if (nvz_ct_sample_load(ct, name, &sample, err) < 0)
		return -1;
	const char *key, *value;
	int r = 0;
	for (size_t i = 0; r == 0 && nvz_conf_entry(sample, i, &key, &value); i++)
		r = nvz_conf_set(ct->conf, key, value, err);
	nvz_conf_free(sample);
	/* As vzctl: the config now comes from this sample. */
	return r < 0 ? r : nvz_conf_set(ct->conf, "ORIGIN_SAMPLE", name, err);
}

/* As vzctl: a private area "exists" unless it is absent or an empty
 * directory (which the new area replaces). */
static bool private_taken(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno != ENOENT;
	if (!S_ISDIR(st.st_mode))
		return true;
	cleanup_dir DIR *d = opendir(path);
	if (!d)
		return true;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			return true;
	return false;
}

/* vzctl refused a private area that is a mount point (OpenVZ bug 3166):
 * the rename of the new area over it would fail, or hide the mount. */
static int private_mountpoint(const char *path, struct nvz_error **err)
{
	struct stat st, up;
	cleanup_free char *parent = suffixed(path, "/..");
	if (!parent)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (stat(path, &st) < 0 || stat(parent, &up) < 0 || st.st_dev == up.st_dev)
		return 0;
	return nvz_err(err, NVZ_E_CANT_CREATE_PRIVATE, EBUSY,
		       "Can't create: private dir (%s) is a mount point. Suggestion: use --private %s/private",
		       path, path);
}

static int set_opt(struct nvz_ct *ct, const char *key, const char *value, struct nvz_error **err)
{
	if (!value)
		return 0;
	if (nvz_conf_validate(key, value, err) < 0)
		return -1;
	return nvz_conf_set(ct->conf, key, value, err);
}

/* create --ipadd: added to what a config the CT already has lists. */
static int add_ips(struct nvz_ct *ct, const char *ips, struct nvz_error **err)
{
	const char *cur = nvz_conf_get(ct->conf, "IP_ADDRESS");
	if (!ips)
		return 0;
	if (!cur || !*cur)
		return nvz_conf_set(ct->conf, "IP_ADDRESS", ips, err);
	cleanup_free char *all = NULL;
	if (asprintf(&all, "%s %s", cur, ips) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return nvz_conf_set(ct->conf, "IP_ADDRESS", all, err);
}

/* As vzctl: the CT's config records its paths (with $VEID, as vz.conf
 * has them) and its layout, so a later change of vz.conf's defaults moves
 * or reinterprets no existing CT. */
static int record_defaults(struct nvz_ct *ct, struct nvz_error **err)
{
	static const char *const keys[] = { "VE_ROOT", "VE_PRIVATE", "VE_LAYOUT" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = nvz_conf_get(ct->conf, keys[i]);
		if (v && *v)
			continue;
		v = nvz_ctx_get(ct->ctx, keys[i], i == 2 ? "simfs" : NULL);
		if (v && nvz_conf_set(ct->conf, keys[i], v, err) < 0)
			return -1;
	}
	return 0;
}

/* The mounted new root: the template unpacked into it (unless it is a
 * shared template's overlay), then OpenVZ's postcreate actions. */
static int fill_root(struct nvz_ct *ct, const char *root, const char *archive,
		     struct nvz_error **err)
{
	cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "open %s", root);
	struct nvz_unpack_stats stats = { 0 };
	if (archive && nvz_template_unpack(rootfd, archive, &stats, err) < 0)
		return nvz_err_wrap(err, "Creation of container private area failed");
	if (stats.skipped_devices)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "skipped %lu device nodes from the template",
			stats.skipped_devices);
	/* The root of a CT is 755 like any /, whatever the archive said. */
	if (archive && fchmod(rootfd, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, errno, "chmod %s", root);
	if (nvz_ct_postcreate(rootfd, true, err) < 0)
		return nvz_err_wrap(err, "Performing postcreate actions failed");
	return 0;
}

struct fill_args {
	struct nvz_ct *ct;
	const struct nvz_layout *l;
	const struct nvz_disk *d;
	const char *archive;
	const char *layer; /* a shared template's CT: where its own layer is mounted */
};

/* In the child: mount the new private area privately and fill it. A shared
 * template's CT is mounted as vzctl mount does: its layer, then the overlay
 * of template and layer, so that what postcreate changes is copied up. */
static int fill_private(const struct fill_args *a, struct nvz_error **err)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "private mount namespace");
	const struct nvz_disk *d = a->d;
	struct nvz_disk own = *d;
	if (d->template_tree) {
		own.root = a->layer;
		own.template_tree = NULL;
	}
	if (a->l->mount(&own, err) < 0 ||
	    (d->template_tree && nvz_overlay_mount(d->template_tree, own.root, d->root, err) < 0) ||
	    fill_root(a->ct, d->root, a->archive, err) < 0)
		return -1;
	if (d->template_tree && nvz_overlay_umount(own.root, d->root, err) < 0)
		return -1;
	return a->l->umount(&own, err);
}

static int fill_child(void *arg, struct nvz_error **err)
{
	struct fill_args *a = arg;
	/* Our copy of vzctl's lock would keep the CT locked after a killed
	 * create until PDEATHSIG has finished us: a create retried at once
	 * said "locked". Closing a copy leaves the parent's flock in place. */
	nvz_ct_unlock(a->ct);
	return fill_private(a, err);
}

static bool shared_tree_needs_postcreate(const char *tree)
{
	cleanup_close int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 && nvz_ct_postcreate(fd, false, NULL) != 0;
}

/* Create the private area at tmp and fill it: the template unpacked, or,
 * on a shared template (archive NULL), the CT's empty upper layer, which
 * the layout's create makes without mounting anything. The unpacking and
 * the postcreate actions run in a child in its own mount namespace that
 * dies with vzctl (PDEATHSIG): a killed create leaves no mount and no loop
 * device behind. A shared template that needs no postcreate change (read
 * in the template's own tree) is not mounted at all. */
static int populate(struct nvz_ct *ct, const char *tmp, const char *archive,
		    struct nvz_error **err)
{
	const struct nvz_layout *l;
	struct nvz_disk d;
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &l, err) < 0 ||
	    nvz_ct_disk(ct, tmp, &d, err) < 0)
		return -1;
	if (archive)
		d.template_tree = NULL; /* the CT's own full tree: no overlay layer */
	if (l->create(&d, err) < 0)
		return -1;
	if (!archive && !shared_tree_needs_postcreate(d.template_tree))
		return 0;
	cleanup_free char *scratch = suffixed(tmp, ".mnt");
	cleanup_free char *layer = suffixed(tmp, ".layer");
	if (!scratch || !layer)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_mkdir_p(scratch, 0700, err) < 0 ||
	    (d.template_tree && nvz_mkdir_p(layer, 0700, err) < 0))
		return -1;
	d.root = scratch;
	struct fill_args args = { ct, l, &d, archive, layer };
	int r = nvz_child_run(fill_child, &args, "create private area", err);
	rmdir(scratch);
	rmdir(layer);
	if (r == 0)
		return 0;
	return nvz_err(err, NVZ_E_CANT_CREATE_PRIVATE, EIO, "Creation of container private area failed");
}

/* Layouts whose limits are not the image's size (simfs: project quota) get
 * them now; a host that cannot enforce them gets a warning, not a failed
 * create (`vzctl set --diskspace` later refuses with the same reason). */
void nvz_ct_apply_disk_limits(struct nvz_ct *ct)
{
	const struct nvz_layout *l;
	struct nvz_disk d;
	struct nvz_error *e = NULL;
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &l, NULL) < 0 ||
	    strcmp(l->name, "simfs") || nvz_ct_simfs_quota_off(ct, NULL) ||
	    nvz_ct_disk(ct, NULL, &d, NULL) < 0 ||
	    !(d.limits.space_hard_kb || d.limits.inodes_hard))
		return;
	if (l->set_limits(&d, false, &e) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: disk limits are not enforced: %s", e->msg);
	nvz_error_free(e);
}

/* The new CT's config: the sample (unless it has one), then the layout
 * and paths of the command line. */
static int start_config(struct nvz_ct *ct, const struct nvz_create_opts *o, struct nvz_error **err)
{
	if (o->config && ct->conf_exists)
		return nvz_err(err, NVZ_E_CONFIG_COPY, EEXIST,
			       "Error: container config file %s already exists, can not use --config option",
			       ct->conf_path);
	const char *def_sample = nvz_ctx_get(ct->ctx, "CONFIGFILE", NULL);
	if (!ct->conf_exists && apply_sample(ct, o->config ? o->config : def_sample, !o->config, err) < 0)
		return -1;
	if (ct->conf_exists && !o->config && def_sample)
		nvz_log(ct->ctx, NVZ_LOG_INFO,
			"Warning: CT config file already exists, not applying a default config sample.\n"
			"It might lead to incomplete CT configuration, you can use --applyconfig to fix.");
	if (o->layout) {
		const struct nvz_layout *l;
		if (nvz_layout_get(o->layout, &l, err) < 0 ||
		    nvz_conf_set(ct->conf, "VE_LAYOUT", o->layout, err) < 0)
			return -1;
	}
	if (set_opt(ct, "VE_PRIVATE", o->private, err) < 0 || set_opt(ct, "VE_ROOT", o->root, err) < 0)
		return -1;
	return nvz_ct_refresh_paths(ct, err);
}

/* A create whose vps.create failed: the CT goes again, its config too
 * unless it had one before (vzctl's rollback). */
static void undo_create(struct nvz_ct *ct, bool had_conf)
{
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Destroying container private area: %s", ct->private);
	nvz_ct_remove_name(ct, NULL);
	if (!had_conf)
		unlink(ct->conf_path);
	cleanup_free char *del = suffixed(ct->private, ".del");
	if (!del || rename(ct->private, del) < 0)
		return;
	const struct nvz_layout *l;
	struct nvz_disk d;
	nvz_ct_disk(ct, del, &d, NULL);
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &l, NULL) == 0)
		l->destroy(&d, NULL);
	rmdir(ct->root);
}

int nvz_ct_create(struct nvz_ct *ct, const struct nvz_create_opts *o, struct nvz_error **err)
{
	bool had_conf = ct->conf_exists;
	if (ct->conf_exists && private_taken(ct->private))
		return nvz_err(err, NVZ_E_PRIVATE_EXISTS, EEXIST, "Private area already exists in %s",
			       ct->private);
	if (start_config(ct, o, err) < 0)
		return -1;
	if (private_taken(ct->private))
		return nvz_err(err, NVZ_E_PRIVATE_EXISTS, EEXIST, "Private area already exists in %s",
			       ct->private);
	const char *ostemplate = o->ostemplate ? o->ostemplate
					       : nvz_ct_get(ct, "OSTEMPLATE",
							    nvz_ctx_get(ct->ctx, "DEF_OSTEMPLATE", NULL));
	if (!ostemplate)
		return nvz_err(err, NVZ_E_OSTEMPLATE_NOTSET, EINVAL, "OS template is not specified");
	if (set_opt(ct, "OSTEMPLATE", ostemplate, err) < 0)
		return -1;
	const char *tmpldir = nvz_ctx_get(ct->ctx, "TEMPLATE", NULL);
	if (!tmpldir)
		return nvz_err(err, NVZ_E_TEMPLATE_NOTSET, EINVAL, "TEMPLATE is not set");
	cleanup_free char *archive = nvz_template_find(tmpldir, ostemplate, err);
	if (!archive || private_mountpoint(ct->private, err) < 0)
		return -1;
	/* VE_LAYOUT=<layout>:shared: the template is the CT's read-only lower layer. */
	const char *layout = nvz_ct_get(ct, "VE_LAYOUT", "simfs");
	const char *colon = strchr(layout, ':');
	cleanup_free char *tree = NULL;
	if (colon && !strcmp(colon + 1, "shared")) {
		tree = nvz_template_shared_tree(tmpldir, ostemplate, err);
		const char *base = tree ? strrchr(tree, '/') + 1 : NULL;
		if (!tree || nvz_conf_set(ct->conf, "TEMPLATE_TREE", base, err) < 0)
			return -1;
	}
	/* Saved as vzctl saves them: "soft:hard" in 1 KiB blocks, inodes. */
	cleanup_free char *space = o->diskspace ? nvz_disk_option_value("diskspace", o->diskspace, err) : NULL;
	if (o->diskspace && (!space || nvz_conf_set(ct->conf, "DISKSPACE", space, err) < 0))
		return -1;
	cleanup_free char *inodes = o->diskinodes ? nvz_disk_option_value("diskinodes", o->diskinodes, err) : NULL;
	if (o->diskinodes && (!inodes || nvz_conf_set(ct->conf, "DISKINODES", inodes, err) < 0))
		return -1;
	if (set_opt(ct, "HOSTNAME", o->hostname, err) < 0 ||
	    set_opt(ct, "DESCRIPTION", o->description, err) < 0 || add_ips(ct, o->ipadd, err) < 0 ||
	    set_opt(ct, "LOCAL_UID", o->local_uid, err) < 0 ||
	    set_opt(ct, "LOCAL_GID", o->local_gid, err) < 0 ||
	    (o->name && nvz_ct_set_name(ct, o->name, err) < 0) || record_defaults(ct, err) < 0)
		return -1;
	cleanup_free char *tmp = suffixed(ct->private, ".tmp");
	cleanup_free char *del = suffixed(ct->private, ".del");
	cleanup_free char *mnt = suffixed(ct->private, ".tmp.mnt");
	cleanup_free char *layer = suffixed(ct->private, ".tmp.layer");
	if (!tmp || !del || !mnt || !layer)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* Leftovers of a create or destroy that was killed. */
	if (nvz_rm_rf(tmp, err) < 0 || nvz_rm_rf(del, err) < 0 || nvz_rm_rf(mnt, err) < 0 ||
	    nvz_rm_rf(layer, err) < 0)
		return -1;
	cleanup_free char *parent = strdup(ct->private);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	if (slash && slash != parent)
		*slash = '\0';
	if (parent && nvz_mkdir_p(parent, 0755, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Creating container private area (%s)", ostemplate);
	if (populate(ct, tmp, tree ? NULL : archive, err) < 0) {
		nvz_rm_rf(tmp, NULL);
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Performing postcreate actions");
	if (nvz_ct_save(ct, err) < 0 || rename(tmp, ct->private) < 0) {
		int e = errno;
		nvz_rm_rf(tmp, NULL);
		return nvz_err_sys(err, NVZ_E_CANT_CREATE_PRIVATE, e, "rename %s", tmp);
	}
	nvz_ct_apply_disk_limits(ct);
	/* As vzctl: what a destroy of an earlier CT with this ID kept goes. */
	cleanup_free char *gone = suffixed(ct->conf_path, ".destroyed");
	if (gone)
		unlink(gone);
	nvz_ct_scripts_unlink(ct, ".destroyed");
	/* OpenVZ's vps.create: the server's own steps for every new CT; as
	 * vzctl, one that fails undoes the create. */
	if (nvz_ct_action_script(ct, "create", err) < 0) {
		undo_create(ct, had_conf);
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container private area was created");
	return 0;
}

int nvz_ct_destroy(struct nvz_ct *ct, struct nvz_error **err)
{
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (st.running)
		return nvz_err(err, NVZ_E_RUNNING, EBUSY, "Container is currently running. Stop it first.");
	if (st.mounted)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY, "Container is currently mounted (umount first)");
	cleanup_free char *del = suffixed(ct->private, ".del");
	cleanup_free char *gone = suffixed(ct->conf_path, ".destroyed");
	if (!del || !gone)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Destroying container private area: %s", ct->private);
	/* A linked area: the link goes, not what it points to (vzctl's warning). */
	char target[PATH_MAX];
	ssize_t tn = readlink(ct->private, target, sizeof(target) - 1);
	if (tn > 0) {
		target[tn] = '\0';
		nvz_log(ct->ctx, NVZ_LOG_WARN,
			"Warning: container private area %s is a symlink to %s.\n"
			"Not removing link destination, you have to do it manually.",
			ct->private, target);
	}
	/* One rename makes the CT absent; the slow removal comes after. */
	if (rename(ct->private, del) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "rename %s", ct->private);
	if (nvz_ct_remove_name(ct, err) < 0)
		return -1;
	if (ct->conf_exists && rename(ct->conf_path, gone) < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_DELETE, errno, "rename %s", ct->conf_path);
	/* Its action scripts go with it, kept as OpenVZ kept them. */
	nvz_ct_scripts_rename(ct, ".destroyed");
	const struct nvz_layout *l;
	struct nvz_disk d;
	nvz_ct_disk(ct, del, &d, NULL); /* paths only: a bad DISKSPACE must not block destroy */
	if (nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), &l, err) < 0 || l->destroy(&d, err) < 0)
		return -1;
	rmdir(ct->root);
	nvz_runstate_remove(ct);
	/* OpenVZ removes a suspended CT's dump with it; criu's restore files
	 * too, and the dump a start moved aside when it did not restore. */
	cleanup_free char *dump = nvz_ct_dump_path(ct);
	cleanup_free char *failed = dump ? suffixed(dump, ".failed") : NULL;
	if (dump)
		nvz_rm_rf(dump, NULL);
	if (failed)
		nvz_rm_rf(failed, NULL);
	/* What a stop keeps for the next start (the boot's limits, the
	 * monitor's lock token) goes with the CT. */
	static const char *const files[] = { "/console.log", "/restore.log", "/restore.pid",
					     "/stats-restore", "/limits", "/monitor.lock" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *f = suffixed(ct->rundir, files[i]);
		if (f)
			unlink(f);
	}
	rmdir(ct->rundir);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container private area was destroyed");
	return 0;
}
