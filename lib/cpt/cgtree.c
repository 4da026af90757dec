/* The cgroups a CT made below its own (a systemd CT: system.slice/...),
 * saved with a dump and made again before restore. criu re-creates only
 * the cgroups that hold tasks, but systemd also watches empty ones (a
 * slice's cgroup.events through inotify), and a watch on a directory that
 * is gone fails the restore. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

#define CG_MNT "/sys/fs/cgroup"

/* Depth-first: every directory below dir, as "hier<TAB>rel\n" lines. */
static void walk(FILE *out, const char *hier, const char *dir, const char *rel, int depth)
{
	cleanup_dir DIR *d = depth < 32 ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		cleanup_free char *sub = NULL, *subrel = NULL;
		if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0 ||
		    asprintf(&subrel, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0)
			return;
		fprintf(out, "%s\t%s\n", hier, subrel);
		walk(out, hier, sub, subrel, depth + 1);
	}
}

int nvz_cpt_cgroups_save(const char *cgroot, const char *file, struct nvz_error **err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cleanup_dir DIR *d = opendir(CG_MNT);
	if (!out || !d) {
		if (out)
			fclose(out);
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "list " CG_MNT);
	}
	struct dirent *e;
	/* "." is the v2 root itself; v1 has one directory per hierarchy. */
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".."))
			continue;
		cleanup_free char *top = NULL;
		struct stat st;
		if (asprintf(&top, CG_MNT "/%s%s", e->d_name, cgroot) < 0)
			break;
		if (stat(top, &st) == 0 && S_ISDIR(st.st_mode))
			walk(out, e->d_name, top, "", 0);
	}
	if (fclose(out) != 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	return nvz_write_file_atomic(file, text ? text : "", len, 0600, err);
}

int nvz_cpt_cgroups_restore(const char *cgroot, const char *file, struct nvz_error **err)
{
	cleanup_free char *text = NULL;
	if (nvz_read_file(file, 1 << 22, &text, NULL, NULL) < 0)
		return 0; /* a dump without the list: criu's own cgroups only */
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		const char *hier = line, *rel = tab + 1;
		/* The list comes with the dump: never leave the CT's cgroup. */
		if (strchr(hier, '/') || strstr(rel, "..") || *rel == '/')
			return nvz_err(err, NVZ_E_RESTORE, EINVAL, "bad cgroup path in %s: %s", file, rel);
		cleanup_free char *path = NULL;
		struct stat st;
		if (asprintf(&path, CG_MNT "/%s%s", hier, cgroot) < 0)
			return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
		/* Only in hierarchies this host has for the CT. */
		if (stat(path, &st) < 0)
			continue;
		free(path);
		path = NULL;
		if (asprintf(&path, CG_MNT "/%s%s/%s", hier, cgroot, rel) < 0)
			return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return nvz_err_sys(err, NVZ_E_RESTORE, errno, "create cgroup %s", path);
	}
	return 0;
}
