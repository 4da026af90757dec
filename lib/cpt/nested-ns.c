/* Namespaces a CT's process made for itself that a checkpoint cannot take
 * along. criu refuses to dump a nested UTS or IPC namespace; it dumps a
 * nested network namespace but cannot restore it, because nvz runs criu
 * inside the CT's own (criu.c, ct_netns): found only after criu killed
 * the CT. The CT's seccomp filter refuses to make them (linux/seccomp.c);
 * this finds what was made anyway (a CT started by an older nvz, a process
 * put there from the host) before anything is frozen. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cpt/taskfd.h"
#include "linux/userns.h"
#include "nvz/cleanup.h"

static const struct {
	const char *ns, *name;
} checked[] = { { "net", "network" }, { "uts", "UTS" }, { "ipc", "IPC" } };

struct nested {
	ino_t init[sizeof(checked) / sizeof(checked[0])];
	char *why;
	size_t len;
	bool found;
};

static bool ns_ino(pid_t pid, const char *ns, ino_t *ino)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(path, &st) < 0)
		return false;
	*ino = st.st_ino;
	return true;
}

static bool check_task(pid_t pid, void *arg)
{
	struct nested *n = arg;
	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		ino_t ino;
		/* A process gone meanwhile holds nothing. */
		if (!ns_ino(pid, checked[i].ns, &ino) || ino == n->init[i])
			continue;
		char path[64], comm[32] = "?";
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		cleanup_fclose FILE *f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		snprintf(n->why, n->len, "%s[%d] has a %s namespace of its own", comm, (int)pid,
			 checked[i].name);
		n->found = true;
		return false;
	}
	return true;
}

bool nvz_cpt_nested_ns(pid_t init_pid, char *why, size_t len)
{
	struct nested n = { .why = why, .len = len };
	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++)
		if (!ns_ino(init_pid, checked[i].ns, &n.init[i]))
			return false;
	nvz_cpt_each_task(init_pid, check_task, &n);
	return n.found;
}

bool nvz_cpt_own_userns(pid_t init_pid)
{
	return nvz_ns_cmp(init_pid, "user") == 1;
}
