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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"

#define YARD "/sys/fs/cgroup"

/* Is YARD/name the root of a cgroup hierarchy in our mount namespace? */
static bool mounted_whole(const char *name)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		char root[512], mnt[512], fstype[64];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		if (!strncmp(mnt, YARD "/", strlen(YARD) + 1) && !strcmp(mnt + strlen(YARD) + 1, name))
			return !strcmp(root, "/") && (!strcmp(fstype, "cgroup") || !strcmp(fstype, "cgroup2"));
	}
	return false;
}

const char *nvz_cpt_cgroup_yard(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	bool any = false;
	while (f && fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':');
		char *end = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!end)
			return NULL;
		*end = '\0';
		ctrls++;
		/* criu's directory name: "name=" dropped, cgroup2 is "unified". */
		const char *name = !*ctrls ? "unified" : !strncmp(ctrls, "name=", 5) ? ctrls + 5 : ctrls;
		if (strstr(name, "name=") || !mounted_whole(name))
			return NULL;
		any = true;
	}
	return any ? YARD : NULL;
}
