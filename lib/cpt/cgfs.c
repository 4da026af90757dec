/* The CT's /sys/fs/cgroup tmpfs (v1: nvz's read-only tmpfs holding one
 * mountpoint per hierarchy and the host's aliases, cpu -> cpu,cpuacct) as an
 * external mount: it holds no data, only those names. criu would tar + gzip
 * it in the freeze window (three execs) and untar it at restore; instead the
 * dump records the names and the restore binds a tmpfs made from them,
 * read-only as at start, under the cgroup mounts criu restores. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* A name we write into the dump's meta file and make again: one component,
 * no separator of the list ("dir" or "link>target"), no quote. */
static bool plain_name(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/ >\"'\\$`\n");
}

char *nvz_cpt_cgfs_list(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	cleanup_close int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = rootfd < 0 ? -1 : nvz_open_in_root(rootfd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY, 0);
	cleanup_dir DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	bool ok = m != NULL, first = true;
	for (struct dirent *de; ok && (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char target[NAME_MAX + 1];
		ssize_t n = -1;
		if (de->d_type == DT_LNK &&
		    (n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1)) > 0)
			target[n] = '\0';
		/* Anything but mountpoints and aliases means content: criu
		 * must carry the mount as it is. */
		if (!plain_name(de->d_name) || (de->d_type != DT_DIR && (n <= 0 || !plain_name(target))))
			ok = false;
		else if (de->d_type == DT_DIR)
			fprintf(m, "%s%s", first ? "" : " ", de->d_name);
		else
			fprintf(m, "%s%s>%s", first ? "" : " ", de->d_name, target);
		first = false;
	}
	if (m && fclose(m) != 0)
		ok = false;
	if (!ok || !out || !*out) {
		free(out);
		return NULL;
	}
	return out;
}

/* A tmpfs, as at start: systemd tells the v1/hybrid layout by the file
 * system type of /sys/fs/cgroup. Mounted here on the host side (the
 * monitor's namespace) only for criu to bind it; nvz_cpt_cgfs_release
 * detaches it once criu is done, the CT's bind keeps it. */
int nvz_cpt_cgfs_make(const char *dir, const char *list, struct nvz_error **err)
{
	nvz_cpt_cgfs_release(dir);
	if (mkdir(dir, 0755) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "mkdir '%s'", dir);
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (mount("tmpfs", dir, "tmpfs", flags, "mode=755") < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "mount tmpfs on '%s'", dir);
	cleanup_close int fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_free char *copy = strdup(list);
	if (fd < 0 || !copy)
		return nvz_err_sys(err, NVZ_E_RESTORE, fd < 0 ? errno : ENOMEM, "open '%s'", dir);
	char *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *gt = strchr(w, '>');
		if (gt)
			*gt++ = '\0';
		if (!plain_name(w) || (gt && !plain_name(gt)))
			return nvz_err(err, NVZ_E_RESTORE, EINVAL, "bad cgroup mountpoint name '%s' in the dump", w);
		if ((gt ? symlinkat(gt, fd, w) : mkdirat(fd, w, 0755)) < 0)
			return nvz_err_sys(err, NVZ_E_RESTORE, errno, "create '%s/%s'", dir, w);
	}
	if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY | flags, "mode=755") < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "remount '%s' read-only", dir);
	return 0;
}

void nvz_cpt_cgfs_release(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}
