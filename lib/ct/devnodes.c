/* --devnodes: the device nodes a CT gets, at start and live. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sync.h"
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
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "socketpair");
	pid_t c = fork();
	if (c == 0) {
		close(sv[0]);
		struct nvz_error *cerr = NULL;
		int devfd = -1;
		if (setns(pidfd, CLONE_NEWNS) < 0)
			nvz_err_sys(&cerr, NVZ_E_DEVICES, errno, "enter the container's mounts");
		else if ((devfd = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			nvz_err_sys(&cerr, NVZ_E_DEVICES, errno, "open /dev in the container");
		for (size_t i = 0; !cerr && i < count; i++)
			nvz_devnode_make(devfd, &nodes[i], &cerr);
		if (cerr)
			nvz_sync_send_error(sv[1], cerr);
		_exit(cerr ? 1 : 0);
	}
	close(sv[1]);
	cleanup_close int rd = sv[0];
	if (c < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "fork");
	int status;
	while (waitpid(c, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	nvz_sync_wait(rd, SYNC_ERROR, "create device nodes", err);
	return nvz_err(err, NVZ_E_DEVICES, EIO, "create device nodes in the container");
}
