/* criu's cgroup yard: the host's own hierarchies under /sys/fs/cgroup.
 *
 * With --manage-cgroups criu mounts every hierarchy of the tree in a yard of
 * its own at dump (inside the freeze) and again at restore. Mounting cgroup2
 * takes 10-15 ms here each time (v1 hierarchies: ~0.1 ms): criu's yard cost
 * ~10 ms of the frozen time and ~14 ms of the restore. A hybrid host already
 * has each hierarchy mounted at /sys/fs/cgroup/<name>, the names criu gives
 * its yard's directories ("cpu,cpuacct", "systemd" for name=systemd,
 * "unified" for cgroup2): that directory is passed as --cgroup-yard when it
 * has them all, each with its whole hierarchy (root "/"). criu neither
 * mounts nor unmounts a yard it is given. A pure cgroup2 host (no
 * "unified" directory) keeps criu's own yard. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

#define YARD "/sys/fs/cgroup"

/* Is path the root of a whole cgroup hierarchy in our mount namespace? */
static bool mounted_whole(const char *path)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		char root[512], mnt[512], fstype[64];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(mnt, path))
			return !strcmp(root, "/") && (!strcmp(fstype, "cgroup") || !strcmp(fstype, "cgroup2"));
	}
	return false;
}

/* A pure cgroup2 host: criu would mount cgroup2 again for its yard, from
 * the host's cgroup namespace, and such a mount sets the hierarchy's root
 * options for the whole host: nsdelegate, memory_recursiveprot and the
 * rest were gone after one chkpnt or restore. A bind of the host's own
 * mount (no new mount of cgroup2) at RUNDIR/cgyard/unified is its yard
 * instead, made on first use and kept. */
static const char *v2_yard(const char *rundir)
{
	static char yard[4096];
	char unified[4200];
	if (!rundir || snprintf(yard, sizeof(yard), "%s/cgyard", rundir) >= (int)sizeof(yard))
		return NULL;
	snprintf(unified, sizeof(unified), "%s/unified", yard);
	if (mounted_whole(unified))
		return yard;
	if (nvz_mkdir_p(unified, 0700, NULL) < 0 || mount(YARD, unified, NULL, MS_BIND, NULL) < 0)
		return NULL;
	return yard;
}

const char *nvz_cpt_cgroup_yard(const char *rundir)
{
	cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	bool any = false, v1 = false;
	while (f && fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':');
		char *end = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!end)
			return NULL;
		*end = '\0';
		ctrls++;
		v1 = v1 || *ctrls;
		/* criu's directory name: "name=" dropped, cgroup2 is "unified". */
		const char *name = !*ctrls ? "unified" : !strncmp(ctrls, "name=", 5) ? ctrls + 5 : ctrls;
		char path[600];
		snprintf(path, sizeof(path), YARD "/%s", name);
		if (!strstr(name, "name=") && mounted_whole(path)) {
			any = true;
			continue;
		}
		if (*ctrls || !mounted_whole(YARD))
			return NULL;
		any = true;
	}
	if (!any)
		return NULL;
	/* Every hierarchy at YARD/<name>, or cgroup2 alone, at YARD itself. */
	return v1 || mounted_whole(YARD "/unified") ? YARD : v2_yard(rundir);
}
