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

/* The pid as the CT sees it: the last NSpid field of /proc/<pid>/status. */
static long ns_pid(const char *pid)
{
	char path[64], line[256];
	long v = -1;
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	cleanup_fclose FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6))
			for (char *t = strtok(line + 6, " \t\n"); t; t = strtok(NULL, " \t\n"))
				v = atol(t);
	return v;
}

/* "hier<TAB>rel<TAB>nspid\n" for each process in dir (rel "" = the CT's root). */
static void procs(FILE *out, const char *hier, const char *dir, const char *rel)
{
	char path[4200], pid[32];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	cleanup_fclose FILE *f = fopen(path, "re");
	while (f && fgets(pid, sizeof(pid), f)) {
		pid[strcspn(pid, "\n")] = '\0';
		long n = ns_pid(pid);
		if (n > 0)
			fprintf(out, "%s\t%s\t%ld\n", hier, rel, n);
	}
}

/* Depth-first: every directory below dir, as "hier<TAB>rel\n" lines, and
 * the processes of each into pout. */
static void walk(FILE *out, FILE *pout, const char *hier, const char *dir, const char *rel,
		 int depth)
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
		procs(pout, hier, sub, subrel);
		walk(out, pout, hier, sub, subrel, depth + 1);
	}
}

int nvz_cpt_cgroups_save(const char *cgroot, const char *file, const char *procfile,
			 struct nvz_error **err)
{
	cleanup_free char *text = NULL, *ptext = NULL;
	size_t len = 0, plen = 0;
	FILE *out = open_memstream(&text, &len);
	FILE *pout = open_memstream(&ptext, &plen);
	cleanup_dir DIR *d = opendir(CG_MNT);
	if (!out || !pout || !d) {
		if (out)
			fclose(out);
		if (pout)
			fclose(pout);
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
			walk(out, pout, e->d_name, top, "", 0);
	}
	int r1 = fclose(out), r2 = fclose(pout);
	if (r1 != 0 || r2 != 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	/* Not fsync'd: see write_meta in criu.c. */
	if (nvz_write_runtime_atomic(file, text ? text : "", len, 0600, err) < 0)
		return -1;
	return nvz_write_runtime_atomic(procfile, ptext ? ptext : "", plen, 0600, err);
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

/* Host pid of each CT pid, for the processes now in the CT's root cgroup
 * of hier (where criu put them all when the root moved). */
static pid_t host_pid(const char *hier, const char *cgroot, long nspid)
{
	char path[4200], pid[32];
	snprintf(path, sizeof(path), CG_MNT "/%s%s/cgroup.procs", hier, cgroot);
	cleanup_fclose FILE *f = fopen(path, "re");
	while (f && fgets(pid, sizeof(pid), f)) {
		pid[strcspn(pid, "\n")] = '\0';
		if (ns_pid(pid) == nspid)
			return (pid_t)atol(pid);
	}
	return -1;
}

int nvz_cpt_cgroups_move(const char *cgroot, const char *procfile)
{
	cleanup_free char *text = NULL;
	if (nvz_read_file(procfile, 1 << 22, &text, NULL, NULL) < 0)
		return 0;
	int moved = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char hier[256], rel[2048];
		long nspid;
		if (sscanf(line, "%255[^\t]\t%2047[^\t]\t%ld", hier, rel, &nspid) != 3 ||
		    strchr(hier, '/') || strstr(rel, "..") || rel[0] == '/')
			continue;
		pid_t pid = host_pid(hier, cgroot, nspid);
		char path[4200], val[32];
		snprintf(path, sizeof(path), CG_MNT "/%s%s/%s/cgroup.procs", hier, cgroot, rel);
		int n = snprintf(val, sizeof(val), "%d", (int)pid);
		cleanup_close int fd = pid > 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
		if (fd >= 0 && write(fd, val, (size_t)n) == n)
			moved++;
	}
	return moved;
}
