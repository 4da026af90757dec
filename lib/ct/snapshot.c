/* vzctl snapshot*: OpenVZ's ploop snapshots on a plain image. A snapshot
 * is a copy of the CT's image (its blocks shared where the file system can
 * reflink, else its data only: holes stay holes) and of its config, in
 * VE_PRIVATE/snapshots/<uuid>/, with its name, description, date and
 * parent. Of a running CT, as in OpenVZ, also its memory: a criu dump in
 * <uuid>/dump that leaves it running, the image copied while criu still
 * holds it frozen, its file system synced, so that disk and memory match;
 * switching to the snapshot restores it, the CT running on from there.
 * With --skip-suspend its tasks are frozen only for the copy: disk and
 * config, what a power cut would have left (switching boots the CT). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cgroup.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"
#include "storage/loop.h"

#define IMAGE "root.hdd"

static char *snap_path(const struct nvz_ct *ct, const char *uuid, const char *file)
{
	char *s = NULL;
	if (asprintf(&s, "%s/snapshots%s%s%s%s", ct->private, uuid ? "/" : "", uuid ? uuid : "",
		     file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return s;
}

/* vzctl's words; the status is the command's own (156 create, 159
 * switch, ...), as each of its snapshot commands refused with its own. */
static int need_ploop(const struct nvz_ct *ct, int status, struct nvz_error **err)
{
	if (strncmp(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), "ploop", 5) != 0)
		return nvz_err(err, status, ENOTSUP, "Snapshot feature is only available for ploop-based CTs");
	return 0;
}

/* "{...}" as OpenVZ prints them; braces optional on input. */
static int valid_uuid(const char *s)
{
	size_t n = strlen(s);
	if (n == 38 && s[0] == '{' && s[37] == '}')
		s++, n = 36;
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

/* The bare uuid of an --id value, into buf (37 bytes). */
static int uuid_arg(const char *id, char *buf, struct nvz_error **err)
{
	if (!id || !valid_uuid(id))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad parameter for --id: %s", id ? id : "(none)");
	snprintf(buf, 37, "%s", id[0] == '{' ? id + 1 : id);
	return 0;
}

static int new_uuid(char buf[37], struct nvz_error **err)
{
	cleanup_fclose FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");
	if (!f || !fgets(buf, 37, f) || !valid_uuid(buf))
		return nvz_err_sys(err, NVZ_E_SYSTEM, f ? EIO : errno, "make a snapshot id");
	return 0;
}

/* [from, to) of in into out at the same offsets: in the kernel where it
 * can, else (another file system: EXDEV since 5.19) through a buffer. */
static int copy_extent(int in, int out, off_t from, off_t to)
{
	off_t off_in = from, off_out = from;
	while (off_in < to) {
		ssize_t n = copy_file_range(in, &off_in, out, &off_out, (size_t)(to - off_in), 0);
		if (n > 0)
			continue;
		if (n == 0 || (errno != EXDEV && errno != EOPNOTSUPP && errno != EINVAL))
			return n == 0 ? (errno = EIO, -1) : -1;
		break;
	}
	static char buf[1 << 16];
	while (off_in < to) {
		size_t want = (size_t)(to - off_in) < sizeof(buf) ? (size_t)(to - off_in) : sizeof(buf);
		ssize_t n = pread(in, buf, want, off_in);
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		/* A short write (a full disk) is followed by one that says why. */
		for (ssize_t done = 0, w; done < n; done += w)
			if ((w = pwrite(out, buf + done, (size_t)(n - done), off_in + done)) <= 0)
				return w == 0 ? (errno = EIO, -1) : -1;
		off_in += n;
	}
	return 0;
}

/* A copy of src at dst (new file): its blocks shared where the file system
 * can, else its data extents copied and its holes kept. */
static int copy_image(const char *src, const char *dst, struct nvz_error **err)
{
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", src);
	cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	struct stat st;
	if (out < 0 || fstat(in, &st) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create %s", dst);
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	if (ftruncate(out, st.st_size) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "size %s", dst);
	for (off_t pos = 0; pos < st.st_size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			data = pos; /* no SEEK_DATA: all of it */
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		if (copy_extent(in, out, data, hole) < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno ? errno : EIO, "copy %s to %s", src, dst);
		pos = hole;
	}
	return fsync(out) < 0 ? nvz_err_sys(err, NVZ_E_SYSTEM, errno, "fsync %s", dst) : 0;
}

static int copy_config(const char *src, const char *dst, struct nvz_error **err)
{
	struct nvz_conf *c = NULL;
	if (nvz_conf_load(&c, src, NVZ_E_NOVECONFIG, err) < 0)
		return -1;
	int r = nvz_conf_save(c, dst, err);
	nvz_conf_free(c);
	return r;
}

/* snapshots/current.conf: CURRENT, the snapshot the image derives from. */
static char *current_uuid(const struct nvz_ct *ct)
{
	cleanup_free char *path = snap_path(ct, NULL, "current.conf");
	struct nvz_conf *c = NULL;
	if (!path || nvz_conf_load(&c, path, NVZ_E_SYSTEM, NULL) < 0)
		return NULL;
	const char *v = nvz_conf_get(c, "CURRENT");
	char *uuid = v && valid_uuid(v) ? strdup(v) : NULL;
	nvz_conf_free(c);
	return uuid;
}

static int set_current(const struct nvz_ct *ct, const char *uuid, struct nvz_error **err)
{
	cleanup_free char *path = snap_path(ct, NULL, "current.conf");
	struct nvz_conf *c = nvz_conf_new();
	int r = !path || !c ? nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory")
			    : nvz_conf_set(c, "CURRENT", uuid ? uuid : "", err) < 0 ? -1
										  : nvz_conf_save(c, path, err);
	nvz_conf_free(c);
	return r;
}

/* What a mounted CT wrote, onto its image. */
int nvz_ct_sync_mounted(const struct nvz_ct *ct, struct nvz_error **err)
{
	cleanup_close int fd = open(ct->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *layer = nvz_ct_layer_dir(ct);
	cleanup_close int lfd = layer ? open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if ((fd >= 0 && syncfs(fd) < 0) || (lfd >= 0 && syncfs(lfd) < 0))
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "sync %s", ct->root);
	return 0;
}

/* The image copied while nothing in the CT writes: its tasks frozen and
 * its file system synced (a mounted CT's), thawed whatever happens (a CT
 * suspended before, by vzctl chkpnt --suspend, stays so). */
static int copy_consistent(struct nvz_ct *ct, const char *image, const char *dst, struct nvz_error **err)
{
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	struct nvz_cgroup *cg = NULL;
	if (st.running && nvz_ct_cgroup(ct, &cg, err) < 0)
		return -1;
	if (cg && nvz_cgroup_frozen(cg)) {
		nvz_cgroup_free(cg);
		cg = NULL;
	} else if (cg && nvz_cgroup_freeze(cg, true, err) < 0) {
		nvz_cgroup_free(cg);
		return -1;
	}
	int r = st.mounted ? nvz_ct_sync_mounted(ct, err) : 0;
	if (r == 0)
		r = copy_image(image, dst, err);
	if (cg) {
		struct nvz_error *e = NULL;
		if (nvz_cgroup_freeze(cg, false, &e) < 0) {
			nvz_log(ct->ctx, NVZ_LOG_ERROR, "thaw the container: %s", e->msg);
			nvz_error_free(e);
		}
		nvz_cgroup_free(cg);
	}
	return r;
}

/* At criu's post-dump: the CT frozen, its memory in the images. */
struct image_copy {
	struct nvz_ct *ct;
	const char *image, *dst;
};

static int copy_at_post_dump(void *arg, struct nvz_error **err)
{
	struct image_copy *c = arg;
	return nvz_ct_sync_mounted(c->ct, err) < 0 ? -1 : copy_image(c->image, c->dst, err);
}

/* The memory into dir/dump and the image into img, at one instant. The
 * dump is made beside dir and moved in, so that criu's log of a failed one
 * (snapshots/<uuid>.dump.failed.log) outlives the snapshot's removal. */
static int copy_with_memory(struct nvz_ct *ct, const char *dir, const char *image, const char *img,
			    struct nvz_error **err)
{
	cleanup_free char *tmp = NULL, *dump = NULL;
	if (asprintf(&tmp, "%s.dump", dir) < 0 || asprintf(&dump, "%s/dump", dir) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct image_copy c = { ct, image, img };
	if (nvz_ct_chkpnt_live(ct, tmp, copy_at_post_dump, &c, err) < 0) {
		if (*err)
			(*err)->status = NVZ_E_CREATE_SNAPSHOT;
		return nvz_err_wrap(err, "Failed to create snapshot (--skip-suspend makes one without the memory)");
	}
	if (rename(tmp, dump) < 0) {
		int e = errno;
		nvz_rm_rf(tmp, NULL);
		return nvz_err_sys(err, NVZ_E_CREATE_SNAPSHOT, e, "rename %s", tmp);
	}
	return 0;
}

/* ^C, or the ssh session closed, while the CT is frozen would leave it
 * frozen: those signals wait until it runs again. */
static void hold_signals(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	sigprocmask(SIG_BLOCK, &s, old);
}

static int snapshot_create(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err)
{
	char uuid[37];
	if (need_ploop(ct, NVZ_E_CREATE_SNAPSHOT, err) < 0 ||
	    (o->id ? uuid_arg(o->id, uuid, err) : new_uuid(uuid, err)) < 0)
		return -1;
	cleanup_free char *dir = snap_path(ct, uuid, NULL), *top = snap_path(ct, NULL, NULL);
	cleanup_free char *img = snap_path(ct, uuid, IMAGE), *conf = snap_path(ct, uuid, "ve.conf");
	cleanup_free char *info = snap_path(ct, uuid, "snapshot.conf"), *image = NULL;
	if (!dir || !top || !img || !conf || !info || asprintf(&image, "%s/" IMAGE, ct->private) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (!nvz_path_exists(image))
		return nvz_err(err, NVZ_E_NOPRIVATE, ENOENT, "Container image %s does not exist", image);
	if (nvz_path_exists(dir))
		return nvz_err(err, NVZ_E_VALUE, EEXIST, "Snapshot {%s} already exists", uuid);
	if (nvz_mkdir_p(top, 0700, err) < 0 || nvz_mkdir_p(dir, 0700, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Creating snapshot {%s}", uuid);
	cleanup_free char *parent = current_uuid(ct);
	char date[32], created[48];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", localtime(&now.tv_sec));
	/* For the order of snapshots made within one second. */
	snprintf(created, sizeof(created), "%020lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
	struct nvz_conf *meta = nvz_conf_new();
	int r = meta ? 0 : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (r == 0 && (nvz_conf_set(meta, "NAME", o->name ? o->name : "", err) < 0 ||
		       nvz_conf_set(meta, "DESCRIPTION", o->description ? o->description : "", err) < 0 ||
		       nvz_conf_set(meta, "DATE", date, err) < 0 || nvz_conf_set(meta, "CREATED", created, err) < 0 ||
		       nvz_conf_set(meta, "PARENT", parent ? parent : "", err) < 0))
		r = -1;
	if (r == 0 && (o->skip_config ? 0 : copy_config(ct->conf_path, conf, err)) < 0)
		r = -1;
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (r == 0)
		r = st.running && !o->skip_suspend ? copy_with_memory(ct, dir, image, img, err)
						    : copy_consistent(ct, image, img, err);
	if (r == 0)
		r = nvz_conf_save(meta, info, err);
	nvz_conf_free(meta);
	if (r < 0 || set_current(ct, uuid, err) < 0) {
		nvz_rm_rf(dir, NULL);
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Snapshot {%s} has been successfully created", uuid);
	return 0;
}

int nvz_ct_snapshot(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err)
{
	sigset_t old;
	hold_signals(&old);
	int r = snapshot_create(ct, o, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* The snapshot's directory, which must exist (status: the command's). */
static char *existing(const struct nvz_ct *ct, const char *id, char uuid[37], int status,
		      struct nvz_error **err)
{
	if (need_ploop(ct, status, err) < 0 || uuid_arg(id, uuid, err) < 0)
		return NULL;
	char *dir = snap_path(ct, uuid, NULL);
	if (!dir)
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	else if (!nvz_path_exists(dir)) {
		nvz_err(err, status, ENOENT, "Unable to find snapshot by uuid {%s}", uuid);
		free(steal_ptr(&dir));
	}
	return dir;
}

/* The snapshot's config in place, without a "CT configuration saved"
 * line: vzctl only put the file back. */
static int put_config(struct nvz_ct *ct, struct nvz_error **err)
{
	if (nvz_conf_save(ct->conf, ct->conf_path, err) < 0) {
		(*err)->status = NVZ_E_CONFIG_SAVE;
		return nvz_err_wrap(err, "save %s", ct->conf_path);
	}
	return 0;
}

/* The CT brought back from the snapshot's memory. A failure is a warning
 * (the CT stays stopped, as in vzctl) unless --must-resume. */
static int resume_from(struct nvz_ct *ct, const char *dump, const struct nvz_snapshot_opts *o,
		       struct nvz_error **err)
{
	struct nvz_restore_opts ro = { .dumpfile = dump, .keep_dump = true };
	struct nvz_error *e = NULL;
	if (nvz_ct_restore_opts(ct, &ro, &e) == 0)
		return 0;
	if (o->must_resume) {
		*err = e;
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_WARN,
		"Warning: failed to resume CT, ignoring (use --must-resume to treat as error): %s", e->msg);
	nvz_error_free(e);
	return 0;
}

/* --must-resume's failure: the image, the config and the current mark as
 * they were before the switch (the CT stays stopped). */
static void switch_back(struct nvz_ct *ct, const char *old_image, const char *image, struct nvz_conf *old_conf,
			const char *old_current)
{
	if (rename(old_image, image) < 0)
		nvz_log(ct->ctx, NVZ_LOG_ERROR, "put back %s: %s", image, strerror(errno));
	if (old_conf) {
		nvz_conf_free(ct->conf);
		ct->conf = old_conf;
		struct nvz_error *e = NULL;
		if (put_config(ct, &e) < 0 || nvz_ct_refresh_paths(ct, &e) < 0) {
			nvz_log(ct->ctx, NVZ_LOG_ERROR, "put back the config: %s", e->msg);
			nvz_error_free(e);
		}
	}
	set_current(ct, old_current, NULL);
}

int nvz_ct_snapshot_switch(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err)
{
	char uuid[37];
	cleanup_free char *dir = existing(ct, o->id, uuid, NVZ_E_SWITCH_SNAPSHOT, err);
	if (!dir)
		return -1;
	cleanup_free char *img = snap_path(ct, uuid, IMAGE), *conf = snap_path(ct, uuid, "ve.conf");
	cleanup_free char *dump = snap_path(ct, uuid, "dump"), *meta = NULL, *image = NULL, *tmp = NULL;
	cleanup_free char *old_image = NULL, *old_current = current_uuid(ct);
	if (!img || !conf || !dump || asprintf(&meta, "%s/" NVZ_CPT_META, dump) < 0 ||
	    asprintf(&image, "%s/" IMAGE, ct->private) < 0 || asprintf(&tmp, "%s/" IMAGE ".switch", ct->private) < 0 ||
	    asprintf(&old_image, "%s/" IMAGE ".old", ct->private) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	bool has_dump = nvz_path_exists(meta);
	if (o->must_resume && !has_dump)
		return nvz_err(err, NVZ_E_SWITCH_SNAPSHOT, ENOENT, "Error: no dump in snapshot, unable to resume");
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Switching to snapshot {%s}", uuid);
	/* The copy first: a failure here leaves the CT as it was, running. */
	unlink(tmp);
	if (copy_image(img, tmp, err) < 0) {
		unlink(tmp);
		return -1;
	}
	/* Its state is lost anyway: killed, as vzctl does. */
	if ((st.running && nvz_ct_stop(ct, &(struct nvz_stop_opts){ .fast = true }, err) < 0) ||
	    (st.mounted && !st.running && nvz_ct_umount(ct, err) < 0)) {
		unlink(tmp);
		return -1;
	}
	/* The image it had stays until the switch is done (--must-resume). */
	unlink(old_image);
	bool kept = link(image, old_image) == 0;
	if (rename(tmp, image) < 0) {
		int e = errno;
		unlink(tmp);
		unlink(old_image);
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "rename %s", tmp);
	}
	struct nvz_conf *old_conf = NULL;
	if (!o->skip_config && nvz_path_exists(conf)) {
		struct nvz_conf *c = NULL;
		if (nvz_conf_load(&c, conf, NVZ_E_NOVECONFIG, err) < 0)
			return -1;
		old_conf = ct->conf;
		ct->conf = c;
		if (put_config(ct, err) < 0 || nvz_ct_refresh_paths(ct, err) < 0) {
			nvz_conf_free(old_conf);
			return -1;
		}
	}
	int r = set_current(ct, uuid, err);
	if (r == 0 && has_dump && !o->skip_resume) {
		r = resume_from(ct, dump, o, err);
		if (r < 0 && kept) {
			switch_back(ct, old_image, image, steal_ptr(&old_conf), old_current);
			kept = false;
		}
		if (r < 0) {
			(*err)->status = NVZ_E_SWITCH_SNAPSHOT;
			nvz_err_wrap(err, "Failed to switch to snapshot {%s}", uuid);
		}
	} else if (r == 0 && st.running && !o->skip_resume) {
		/* A snapshot without memory: a CT that ran boots from its disk. */
		r = nvz_ct_start(ct, NULL, err);
	}
	if (kept)
		unlink(old_image);
	nvz_conf_free(old_conf);
	if (r == 0)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Container has been successfully switched to another snapshot");
	return r;
}

/* Where a snapshot is mounted (snapshot-mount), from its mount.conf. */
static char *mounted_at(const struct nvz_ct *ct, const char *uuid, char *dev, size_t devlen)
{
	cleanup_free char *path = snap_path(ct, uuid, "mount.conf");
	struct nvz_conf *c = NULL;
	if (!path || nvz_conf_load(&c, path, NVZ_E_SYSTEM, NULL) < 0)
		return NULL;
	const char *v = nvz_conf_get(c, "TARGET");
	char *target = v && *v && nvz_is_mountpoint(v) ? strdup(v) : NULL;
	if (dev)
		snprintf(dev, devlen, "%s", target ? nvz_conf_get(c, "DEVICE") ?: "" : "");
	nvz_conf_free(c);
	return target;
}

int nvz_ct_snapshot_delete(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err)
{
	char uuid[37];
	cleanup_free char *dir = existing(ct, o->id, uuid, NVZ_E_DELETE_SNAPSHOT, err);
	if (!dir)
		return -1;
	cleanup_free char *target = mounted_at(ct, uuid, NULL, 0);
	if (target)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY, "Snapshot {%s} is mounted at %s (snapshot-umount first)",
			       uuid, target);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Deleting snapshot {%s}", uuid);
	cleanup_free char *cur = current_uuid(ct);
	if (nvz_rm_rf(dir, err) < 0 || (cur && !strcmp(cur, uuid) && set_current(ct, NULL, err) < 0))
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Snapshot {%s} has been successfully deleted", uuid);
	return 0;
}

int nvz_ct_snapshot_mount(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err)
{
	char uuid[37];
	cleanup_free char *dir = existing(ct, o->id, uuid, NVZ_E_MOUNT_SNAPSHOT, err);
	if (!dir)
		return -1;
	if (!o->target || o->target[0] != '/')
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "snapshot-mount needs --target with an absolute path");
	cleanup_free char *img = snap_path(ct, uuid, IMAGE), *info = snap_path(ct, uuid, "mount.conf");
	cleanup_free char *target = mounted_at(ct, uuid, NULL, 0);
	if (!img || !info)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (target)
		return nvz_err(err, NVZ_E_FS_MOUNTED, EBUSY, "Snapshot {%s} is already mounted at %s", uuid, target);
	if (nvz_mkdir_p(o->target, 0755, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Mounting snapshot {%s} to %s", uuid, o->target);
	/* Read-only, no devices, no setuid: a look at old files, nothing more. */
	int nr;
	cleanup_close int lfd = nvz_loop_attach(img, &nr, err);
	if (lfd < 0)
		return -1;
	char dev[32];
	nvz_loop_path(nr, dev, sizeof(dev));
	if (mount(dev, o->target, "ext4", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "mount snapshot {%s} on %s", uuid, o->target);
	struct nvz_conf *c = nvz_conf_new();
	int r = c && nvz_conf_set(c, "TARGET", o->target, err) == 0 && nvz_conf_set(c, "DEVICE", dev, err) == 0
			? nvz_conf_save(c, info, err)
			: -1;
	nvz_conf_free(c);
	if (r < 0) {
		umount2(o->target, MNT_DETACH);
		return -1;
	}
	return 0;
}

int nvz_ct_snapshot_umount(struct nvz_ct *ct, const struct nvz_snapshot_opts *o, struct nvz_error **err)
{
	char uuid[37];
	cleanup_free char *dir = existing(ct, o->id, uuid, NVZ_E_UMOUNT_SNAPSHOT, err);
	if (!dir)
		return -1;
	cleanup_free char *target = mounted_at(ct, uuid, NULL, 0), *info = snap_path(ct, uuid, "mount.conf");
	if (!target)
		return nvz_err(err, NVZ_E_FS_NOT_MOUNTED, EINVAL, "Snapshot {%s} is not mounted", uuid);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Umounting snapshot {%s}", uuid);
	if (umount2(target, 0) < 0)
		return nvz_err_sys(err, NVZ_E_UMOUNT, errno, "unmount %s", target);
	if (info)
		unlink(info);
	return 0;
}

static int cmp_created(const void *a, const void *b)
{
	const struct nvz_snapshot_info *x = a, *y = b;
	int c = strcmp(x->created, y->created);
	return c ? c : strcmp(x->uuid, y->uuid);
}

int nvz_ct_snapshot_list(struct nvz_ct *ct, struct nvz_snapshot_info **out, size_t *n,
			 struct nvz_error **err)
{
	*out = NULL;
	*n = 0;
	if (need_ploop(ct, NVZ_E_LIST_SNAPSHOT, err) < 0)
		return -1;
	cleanup_free char *top = snap_path(ct, NULL, NULL), *cur = current_uuid(ct);
	cleanup_dir DIR *d = top ? opendir(top) : NULL;
	if (!d)
		return top && errno == ENOENT ? 0 : nvz_err_sys(err, NVZ_E_SYSTEM, errno, "list %s", top);
	cleanup_free struct nvz_snapshot_info *v = NULL;
	size_t cnt = 0;
	for (struct dirent *de; (de = readdir(d));) {
		cleanup_free char *info = valid_uuid(de->d_name) ? snap_path(ct, de->d_name, "snapshot.conf") : NULL;
		struct nvz_conf *c = NULL;
		if (!info || nvz_conf_load(&c, info, NVZ_E_SYSTEM, NULL) < 0)
			continue;
		struct nvz_snapshot_info *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			nvz_conf_free(c);
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		}
		v = nv;
		struct nvz_snapshot_info *s = &v[cnt++];
		memset(s, 0, sizeof(*s));
		snprintf(s->uuid, sizeof(s->uuid), "%.36s", de->d_name);
		snprintf(s->parent, sizeof(s->parent), "%.36s", nvz_conf_get(c, "PARENT") ?: "");
		snprintf(s->date, sizeof(s->date), "%.31s", nvz_conf_get(c, "DATE") ?: "");
		snprintf(s->created, sizeof(s->created), "%.47s", nvz_conf_get(c, "CREATED") ?: "");
		snprintf(s->name, sizeof(s->name), "%.255s", nvz_conf_get(c, "NAME") ?: "");
		snprintf(s->description, sizeof(s->description), "%.255s", nvz_conf_get(c, "DESCRIPTION") ?: "");
		s->current = cur && !strcmp(cur, s->uuid);
		nvz_conf_free(c);
		cleanup_free char *target = mounted_at(ct, s->uuid, s->device, sizeof(s->device));
		snprintf(s->target, sizeof(s->target), "%s", target ? target : "");
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_created);
	*out = steal_ptr(&v);
	*n = cnt;
	return 0;
}
