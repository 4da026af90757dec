/* On cgroup v2, what a CT set below its own cgroup that criu does not carry:
 * each cgroup's cgroup.subtree_control (the CT's root one too) and the
 * limits written into them (systemd's TasksMax=, MemoryMax=...). Without
 * the controllers a systemd CT's init.scope comes back with no memory.*
 * files, and criu fails restoring systemd's inotify watch on memory.events.
 *
 * Saved at dump; written back from criu's action script (nvz-criu-action) at
 * post-setup-namespaces. Not before: criu first moves init into the CT's
 * root cgroup to root its cgroup namespace there, which the kernel refuses
 * once controllers are enabled below it (EBUSY). By post-setup-namespaces
 * init sits in its own leaf and no other task is forked yet. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

#define SUBTREE "cgroup.subtree_control"

/* The files carried, with the kernel's default (not saved). (On cgroup v1
 * the CT's controllers are mounted read-only: nothing is set below.) */
static const struct {
	const char *name, *dflt;
} limits[] = {
	{ "memory.min", "0" },
	{ "memory.low", "0" },
	{ "memory.high", "max" },
	{ "memory.max", "max" },
	{ "memory.swap.high", "max" },
	{ "memory.swap.max", "max" },
	{ "memory.zswap.max", "max" },
	{ "memory.oom.group", "0" },
	{ "pids.max", "max" },
	{ "cpu.weight", "100" },
	{ "cpu.max", "max 100000" },
	{ "cpu.idle", "0" },
	{ "cpuset.cpus", "" },
	{ "cpuset.mems", "" },
	{ "io.weight", "default 100" },
	{ "cgroup.max.descendants", "max" },
	{ "cgroup.max.depth", "max" },
};
#define N_LIMITS (sizeof(limits) / sizeof(limits[0]))

static bool carried(const char *name)
{
	if (!strcmp(name, SUBTREE))
		return true;
	for (size_t i = 0; i < N_LIMITS; i++)
		if (!strcmp(name, limits[i].name))
			return true;
	return false;
}

/* The value of dir/name on one line, or false. */
static bool read_value(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return !strchr(buf, '\t');
}

/* "rel<TAB>file<TAB>value" for dir and every cgroup below it, parents first
 * (rel "." is the CT's own cgroup, whose limits are nvz's to set). */
static void walk(FILE *out, const char *dir, const char *rel, int depth)
{
	char v[512];
	if (read_value(dir, SUBTREE, v, sizeof(v)) && *v)
		fprintf(out, "%s\t" SUBTREE "\t%s\n", rel, v);
	for (size_t i = 0; depth > 0 && i < N_LIMITS; i++)
		if (read_value(dir, limits[i].name, v, sizeof(v)) && strcmp(v, limits[i].dflt))
			fprintf(out, "%s\t%s\t%s\n", rel, limits[i].name, v);
	cleanup_dir DIR *d = depth < 32 ? opendir(dir) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.' || strchr(e->d_name, '\t') ||
		    strchr(e->d_name, '\n'))
			continue;
		cleanup_free char *sub = NULL, *subrel = NULL;
		if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0 ||
		    asprintf(&subrel, "%s%s%s", depth ? rel : "", depth ? "/" : "", e->d_name) < 0)
			return;
		walk(out, sub, subrel, depth + 1);
	}
}

int nvz_cpt_cgprops_save(const char *cgdir, const char *file, struct nvz_error **err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "out of memory");
	walk(out, cgdir, ".", 0);
	if (fclose(out) != 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	/* Nothing set below the CT (a hybrid host's cgroup2, a plain init):
	 * no file, and no action script at restore. */
	if (len == 0)
		return unlink(file) < 0 && errno != ENOENT
			       ? nvz_err_sys(err, NVZ_E_CHKPNT, errno, "remove %s", file)
			       : 0;
	/* Not fsync'd: see write_meta in criu.c. */
	return nvz_write_runtime_atomic(file, text, len, 0600, err);
}

/* Each write is one command to the kernel (O_APPEND only keeps a plain
 * file's record of them whole: the unit tests'). */
static int write_value(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	size_t n = strlen(value);
	return fd >= 0 && write(fd, value, n) == (ssize_t)n ? 0 : -1;
}

/* One controller at a time: one this host lacks does not keep the rest
 * from being enabled. */
static int enable_controllers(const char *path, const char *rel, char *words,
			      struct nvz_error **err)
{
	int r = 0;
	char *save = NULL;
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char plus[64];
		snprintf(plus, sizeof(plus), "+%s", w);
		if (write_value(path, plus) < 0)
			r = nvz_err_sys(err, NVZ_E_RESTORE, errno, "enable the %s controller below %s", w,
					rel);
	}
	return r;
}

int nvz_cpt_cgprops_apply(const char *cgdir, const char *file, struct nvz_error **err)
{
	cleanup_free char *text = NULL;
	if (nvz_read_file(file, 1 << 22, &text, NULL, err) < 0)
		return -1;
	/* Every line is tried; err keeps the first failure. */
	int r = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *name = strchr(line, '\t');
		char *value = name ? strchr(name + 1, '\t') : NULL;
		if (!value)
			continue;
		*name++ = '\0';
		*value++ = '\0';
		const char *rel = line;
		/* The list comes with the dump: never leave the CT's cgroup,
		 * never write anything but the files carried. */
		if (*rel == '/' || strstr(rel, "..") || !carried(name)) {
			r = nvz_err(err, NVZ_E_RESTORE, EINVAL, "bad line in %s: %s %s", file, rel, name);
			continue;
		}
		char path[4300];
		if (snprintf(path, sizeof(path), "%s/%s/%s", cgdir, rel, name) >= (int)sizeof(path)) {
			r = nvz_err(err, NVZ_E_RESTORE, ENAMETOOLONG, "cgroup path too long: %s", rel);
			continue;
		}
		if (!strcmp(name, SUBTREE)) {
			if (enable_controllers(path, rel, value, err) < 0)
				r = -1;
		} else if (write_value(path, value) < 0) {
			r = nvz_err_sys(err, NVZ_E_RESTORE, errno, "write %s to %s/%s", value, rel, name);
		}
	}
	return r;
}

const char *nvz_cpt_cgprops_dir(const char *cgroot, char *buf, size_t len)
{
	/* Pure v2: the hierarchy is /sys/fs/cgroup; hybrid: .../unified. */
	static const char *const mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	for (size_t i = 0; i < 2; i++) {
		char probe[4200];
		snprintf(probe, sizeof(probe), "%s/cgroup.controllers", mounts[i]);
		if (!nvz_path_exists(probe))
			continue;
		if (snprintf(buf, len, "%s%s", mounts[i], cgroot) >= (int)len)
			return NULL;
		snprintf(probe, sizeof(probe), "%s/" SUBTREE, buf);
		return nvz_path_exists(probe) ? buf : NULL;
	}
	return NULL;
}

int nvz_cpt_cgprops_dump(const char *cgroot, const char *dir, struct nvz_error **err)
{
	char cgdir[4200];
	cleanup_free char *file = NULL;
	if (!nvz_cpt_cgprops_dir(cgroot, cgdir, sizeof(cgdir)))
		return 0;
	if (asprintf(&file, "%s/" NVZ_CPT_CGPROPS, dir) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	return nvz_cpt_cgprops_save(cgdir, file, err);
}

int nvz_cpt_cgprops_action(const char *dir, const char *cgroot, const char *workdir,
			   char *script, size_t len, char ***env, struct nvz_error **err)
{
	char cgdir[4200];
	cleanup_free char *file = NULL;
	*env = NULL;
	if (asprintf(&file, "%s/" NVZ_CPT_CGPROPS, dir) < 0)
		return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	/* A dump from a host without cgroup2, or a host without it now. */
	if (!nvz_path_exists(file) || !nvz_cpt_cgprops_dir(cgroot, cgdir, sizeof(cgdir)))
		return 0;
	if (nvz_helper_path(NVZ_CPT_ACTION, script, len) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "cannot run %s", script);
	cleanup_free char *log = NULL;
	if (asprintf(&log, "%s/" NVZ_CPT_ACTION ".log", workdir) < 0)
		return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	unlink(log);
	const char *vals[][2] = {
		{ "NVZ_CPT_CGDIR", cgdir }, { "NVZ_CPT_CGPROPS", file }, { "NVZ_CPT_ACTION_LOG", log }
	};
	char **e = calloc(4, sizeof(*e));
	for (size_t i = 0; e && i < 3; i++) {
		char *kv = NULL;
		if (asprintf(&kv, "%s=%s", vals[i][0], vals[i][1]) < 0) {
			nvz_strv_free(e);
			e = NULL;
		} else {
			e[i] = kv;
		}
	}
	if (!e)
		return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	*env = e;
	return 1;
}

char *nvz_cpt_cgprops_failure(const char *workdir)
{
	cleanup_free char *log = NULL;
	char *text = NULL;
	if (asprintf(&log, "%s/" NVZ_CPT_ACTION ".log", workdir) < 0 ||
	    nvz_read_file(log, 4096, &text, NULL, NULL) < 0)
		return NULL;
	text[strcspn(text, "\n")] = '\0';
	if (!*text) {
		free(text);
		return NULL;
	}
	return text;
}
