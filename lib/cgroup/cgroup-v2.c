/* cgroup v2 backend: the container's cgroup is <cgroup2 mount>/<prefix>/<name>
 * in the one unified tree; controllers reach it through the parents'
 * cgroup.subtree_control. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"

#define FREEZE_WAIT_MS 2000
#define MOUNT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* The controllers a container gets when the host offers them. */
static const char *const wanted[] = { "cpuset", "cpu", "io", "memory", "pids", NULL };

static char **read_words(const char *dir, const char *file)
{
	cleanup_free char *path = nvz_cg_join(dir, file);
	cleanup_free char *buf = NULL;
	if (!path || nvz_cg_read_file(path, &buf, NULL) < 0)
		return NULL;
	return nvz_cg_split_words(buf);
}

/* Best effort: a controller that cannot be enabled (EBUSY because the level
 * holds processes, ENOENT, a threaded subtree) is simply not available; the
 * limits that need it are refused later, by name. */
static void enable_controllers(const char *dir)
{
	cleanup_strv char **have = read_words(dir, "cgroup.controllers");
	cleanup_strv char **on = read_words(dir, "cgroup.subtree_control");
	cleanup_free char *ctl = nvz_cg_join(dir, "cgroup.subtree_control");
	if (!have || !on || !ctl)
		return;
	for (const char *const *w = wanted; *w; w++) {
		char val[32];
		if (!nvz_cg_strv_has(have, *w) || nvz_cg_strv_has(on, *w))
			continue;
		snprintf(val, sizeof(val), "+%s", *w);
		(void)nvz_cg_write_file(ctl, val, NULL);
	}
}

static int v2_level(const struct nvz_cg_hier *h, const char *parent, const char *dir,
		    bool is_ct, struct nvz_error **err)
{
	(void)h;
	(void)parent;
	(void)err;
	/* The container's own subtree_control belongs to its init. */
	if (!is_ct)
		enable_controllers(dir);
	return 0;
}

static int v2_create(struct nvz_cgroup *cg, struct nvz_error **err)
{
	const struct nvz_cg_hier *h = &cg->hier[0];
	enable_controllers(h->mnt);
	int made = nvz_cg_mkdir_levels(cg, h, v2_level, err);
	if (made < 0)
		return nvz_err_wrap(err, "create cgroup %s/%s", cg->prefix, cg->name);
	cg->fresh = made == 1;
	nvz_strv_free(cg->avail);
	cg->avail = read_words(h->path, "cgroup.controllers");
	if (!cg->avail)
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "create cgroup %s/%s: cannot read '%s/%s'",
			       cg->prefix, cg->name, h->path, "cgroup.controllers");
	return 0;
}

static int set_freeze(const struct nvz_cg_hier *h, const char *val, struct nvz_error **err)
{
	cleanup_free char *f = nvz_cg_join(h->path, "cgroup.freeze");
	if (!f)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "freeze: out of memory");
	return nvz_cg_write_file(f, val, err);
}

static int v2_freeze(struct nvz_cgroup *cg, bool frozen, struct nvz_error **err)
{
	const struct nvz_cg_hier *h = &cg->hier[0];
	cleanup_free char *events = nvz_cg_join(h->path, "cgroup.events");
	if (!events)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "freeze: out of memory");
	if (set_freeze(h, frozen ? "1" : "0", err) < 0)
		return -EIO;
	return nvz_cg_wait_line(events, frozen ? "frozen 1" : "frozen 0", FREEZE_WAIT_MS, err);
}

/* v2 lets SIGKILL through a freeze, so frozen tasks die at once; freezing
 * only stops forks and pid reuse while cgroup.procs is read. */
int nvz_cg_v2_kill_by_freeze(struct nvz_cgroup *cg, struct nvz_error **err)
{
	const struct nvz_cg_hier *h = &cg->hier[0];
	cleanup_free char *events = nvz_cg_join(h->path, "cgroup.events");
	if (!events)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "kill: out of memory");
	int r = set_freeze(h, "1", err);
	if (r == 0)
		r = nvz_cg_wait_line(events, "frozen 1", FREEZE_WAIT_MS, err);
	/* A freeze that never settles must not stop the kill; thaw in any case. */
	int k = nvz_cg_kill_tree(h->path, err);
	int t = set_freeze(h, "0", err);
	if (r < 0 || k < 0 || t < 0)
		return nvz_err_wrap(err, "kill cgroup %s/%s", cg->prefix, cg->name);
	return 0;
}

static int v2_kill(struct nvz_cgroup *cg, struct nvz_error **err)
{
	const struct nvz_cg_hier *h = &cg->hier[0];
	cleanup_free char *kill = nvz_cg_join(h->path, "cgroup.kill");
	struct stat st;
	if (!kill)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "kill: out of memory");
	if (stat(h->path, &st) < 0)
		return 0;
	/* cgroup.kill (5.14+) kills the whole subtree atomically, forks included. */
	if (stat(kill, &st) < 0)
		return nvz_cg_v2_kill_by_freeze(cg, err);
	if (nvz_cg_write_file(kill, "1", err) < 0)
		return nvz_err_wrap(err, "kill cgroup %s/%s", cg->prefix, cg->name);
	return 0;
}

/* The CT's cgroup.controllers; before it exists, what its parent hands down
 * (subtree_control), or, with no parent yet either, what create would enable
 * from the root. */
static bool v2_has_controller(const struct nvz_cgroup *cg, const char *ctrl)
{
	const struct nvz_cg_hier *h = &cg->hier[0];
	if (cg->avail)
		return nvz_cg_strv_has(cg->avail, ctrl);
	struct stat st;
	if (stat(h->path, &st) == 0) {
		cleanup_strv char **live = read_words(h->path, "cgroup.controllers");
		return nvz_cg_strv_has(live, ctrl);
	}
	cleanup_free char *parent = strdup(h->path);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	if (!slash)
		return false;
	*slash = '\0';
	if (strcmp(parent, h->mnt) != 0 && stat(parent, &st) == 0) {
		cleanup_strv char **down = read_words(parent, "cgroup.subtree_control");
		return nvz_cg_strv_has(down, ctrl);
	}
	cleanup_strv char **root = read_words(h->mnt, "cgroup.controllers");
	return nvz_cg_strv_has((char *const *)wanted, ctrl) && nvz_cg_strv_has(root, ctrl);
}

/* One tree: the controller argument is not needed, but a file of a known
 * controller that is not enabled gets a message that says so. */
static int v2_file_hier(const struct nvz_cgroup *cg, const char *controller, const char *file,
			const struct nvz_cg_hier **out, struct nvz_error **err)
{
	(void)controller;
	const struct nvz_cg_hier *h = &cg->hier[0];
	cleanup_free char *path = nvz_cg_join(h->path, file);
	cleanup_free char *ctrl = strndup(file, strcspn(file, "."));
	if (!path || !ctrl)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "cgroup file '%s': out of memory", file);
	struct stat st;
	if (stat(path, &st) < 0 && errno == ENOENT && stat(h->path, &st) == 0 &&
	    nvz_cg_strv_has((char *const *)wanted, ctrl) && !v2_has_controller(cg, ctrl))
		return nvz_err(err, NVZ_E_SYSTEM, ENOENT,
			       "cgroup file '%s': controller '%s' is not enabled for '%s'", file, ctrl,
			       h->path);
	*out = h;
	return 0;
}

static const struct nvz_cg_hier *v2_procs_hier(const struct nvz_cgroup *cg)
{
	return &cg->hier[0];
}

/* In the container's cgroup namespace cgroup2 shows the container's subtree
 * as its root; delegation options (nsdelegate) are the host mount's. */
static int v2_mount_inside(const struct nvz_cgroup *cg, int rootfd, const char *rel,
			   const char *shown, struct nvz_error **err)
{
	(void)cg;
	cleanup_close int fd = nvz_cg_open_in_root(rootfd, rel, shown, err);
	if (fd < 0)
		return fd;
	return nvz_cg_mount_fd(fd, shown, "cgroup2", "cgroup2", "cgroup2", MOUNT_FLAGS, NULL, err);
}

const struct nvz_cg_backend nvz_cg_v2_backend = {
	.version = NVZ_CGROUP_V2,
	.create = v2_create,
	.kill = v2_kill,
	.freeze = v2_freeze,
	.freezer_hier = v2_procs_hier, /* cgroup.freeze is core: every cgroup has it */
	.file_hier = v2_file_hier,
	.procs_hier = v2_procs_hier,
	.has_controller = v2_has_controller,
	.mount_inside = v2_mount_inside,
	.plan_limits = nvz_cg_v2_plan_limits,
	.set_devices = nvz_cg_v2_set_devices,
	.counters = nvz_cg_v2_counters,
	.enforces = nvz_cg_v2_enforces,
};
