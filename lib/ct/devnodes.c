/* --devnodes: the device nodes a CT gets, at start and live. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "linux/rootfs.h"
#include "nvz/cleanup.h"

char **nvz_ct_devnode_names(const struct nvz_ct *ct, const struct nvz_conf *changes)
{
	const char *list = changes ? nvz_conf_get(changes, "DEVNODES") : NULL;
	if (!list)
		list = nvz_ct_get(ct, "DEVNODES", NULL);
	size_t cap = 1;
	for (const char *p = list; p && *p; p++)
		cap += *p == ' ';
	char **names = calloc(cap + 1, sizeof(char *));
	cleanup_free char *copy = list ? strdup(list) : NULL;
	if (!names)
		return NULL;
	size_t n = 0;
	char *save = NULL;
	for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t && n < cap; t = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(t, ':');
		if (colon)
			*colon = '\0';
		if (strcmp(t, "none") && (names[n] = strdup(t)))
			n++;
	}
	return names;
}

struct mknod_args {
	int pidfd;
	const struct nvz_devnode *nodes;
	size_t count;
};

/* In the child: the CT's mount namespace, then its /dev. */
static int mknod_child(void *arg, struct nvz_error **err)
{
	struct mknod_args *a = arg;
	if (setns(a->pidfd, CLONE_NEWNS) < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "enter the container's mounts");
	cleanup_close int devfd = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (devfd < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "open /dev in the container");
	for (size_t i = 0; i < a->count; i++)
		if (nvz_devnode_make(devfd, &a->nodes[i], err) < 0)
			return -1;
	return 0;
}

/* Live --devnodes: the node appears in the running CT's own /dev (a tmpfs
 * in its mount namespace, entered from a child process). The host nodes are
 * looked up first, while the host's /dev is still the one we see. */
int nvz_ct_make_devnodes(struct nvz_ct *ct, char *const *names, struct nvz_error **err)
{
	size_t count = 0;
	while (names && names[count])
		count++;
	cleanup_free struct nvz_devnode *nodes = calloc(count + 1, sizeof(*nodes));
	if (!nodes)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++)
		if (nvz_devnode_lookup(names[i], &nodes[i], err) < 0)
			return -1;
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	struct mknod_args args = { pidfd, nodes, count };
	if (nvz_child_run(mknod_child, &args, "create device nodes", err) == 0)
		return 0;
	(*err)->status = NVZ_E_DEVICES;
	return -1;
}

