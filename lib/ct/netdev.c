/* OpenVZ's NETDEV: host network devices (a NIC given to one CT) moved into
 * the CT's network namespace while it runs, by name, as vzctl did, and
 * moved back once init is gone: by vzctl stop, or by the after-exit work
 * of a CT that powered itself off. For that the namespace is pinned (a
 * bind mount of it in RUNDIR/<id>) while it holds devices: left to the
 * kernel, a namespace without processes deletes its virtual devices (a
 * VLAN, a bond, a macvlan) and hands physical ones to the first namespace
 * under another name if theirs was taken meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"

#define NETDEV_MAX 64 /* names in NETDEV; more would be a typo, not a server */

/* NETDEV's names, each a valid interface name (space separated). */
static int netdev_names(const char *list, char ***out, struct nvz_error **err)
{
	cleanup_strv char **v = calloc(1, sizeof(*v));
	cleanup_free char *copy = strdup(list ? list : "");
	if (!v || !copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "netdev: out of memory");
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (!nvz_ifname_valid(t))
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "Invalid netdev name: %s", t);
		if (n == NETDEV_MAX)
			return nvz_err(err, NVZ_E_VALUE, E2BIG, "More than %d netdevs", NETDEV_MAX);
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "netdev: out of memory");
		v = nv;
		v[n + 1] = NULL;
		if (!(v[n] = strdup(t)))
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "netdev: out of memory");
		n++;
	}
	*out = steal_ptr(&v);
	return 0;
}

bool nvz_ct_has_netdev(const struct nvz_ct *ct)
{
	const char *nd = nvz_ct_get(ct, "NETDEV", "");
	return strspn(nd, " \t") != strlen(nd);
}

static bool listed(char *const *v, const char *name)
{
	for (; v && *v; v++)
		if (!strcmp(*v, name))
			return true;
	return false;
}

/* One device from namespace `from` to `to` (-1: ours), with vzctl's words. */
static int move_dev(int from, const char *name, int to, const char *verb, struct nvz_error **err)
{
	cleanup_error struct nvz_error *e = NULL;
	if (nvz_link_move(from, name, to, &e) == 0)
		return 0;
	return nvz_err_sys(err, NVZ_E_NETDEV, e ? e->code : EIO, "Unable to %s netdev %s", verb, name);
}

static int own_netns(struct nvz_error **err)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open /proc/self/ns/net");
	return fd;
}

/* name is in namespace `there` and not in `here` already: a live change
 * made before without --save, which the config does not show. */
static bool already(int there, int here, const char *name)
{
	return nvz_link_exists(there, name, NULL) == 1 && nvz_link_exists(here, name, NULL) == 0;
}

/* Move add into the CT and del out of it (each at most NETDEV_MAX, as
 * they come from parsed lists), all or nothing. */
static int move_sets(int ct_ns, char *const *add, char *const *del, struct nvz_error **err)
{
	cleanup_close int host_ns = own_netns(err);
	if (host_ns < 0)
		return -1;
	size_t out = 0, in = 0;
	int r = 0;
	bool moved_out[NETDEV_MAX] = { false }, moved_in[NETDEV_MAX] = { false };
	for (; r == 0 && del[out]; out++)
		if (!already(host_ns, ct_ns, del[out]) &&
		    (r = move_dev(ct_ns, del[out], host_ns, "del", err)) == 0)
			moved_out[out] = true;
	for (; r == 0 && add[in]; in++)
		if (!already(ct_ns, host_ns, add[in]) &&
		    (r = move_dev(-1, add[in], ct_ns, "add", err)) == 0)
			moved_in[in] = true;
	if (r < 0) { /* best effort: put back what moved */
		for (size_t i = 0; i < in; i++)
			if (moved_in[i])
				nvz_link_move(ct_ns, add[i], host_ns, NULL);
		for (size_t i = 0; i < out; i++)
			if (moved_out[i])
				nvz_link_move(-1, del[i], ct_ns, NULL);
	}
	return r;
}

static char *pin_path(const struct nvz_ct *ct)
{
	char *p = NULL;
	return asprintf(&p, "%s/netdev.ns", ct->rundir) < 0 ? NULL : p;
}

/* Pin the namespace of init_pid (once; a pin of an earlier init is
 * replaced). */
static int pin_netns(const struct nvz_ct *ct, pid_t init_pid, struct nvz_error **err)
{
	cleanup_free char *pin = pin_path(ct);
	char src[64];
	snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)init_pid);
	struct stat now, pinned;
	if (!pin)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_is_mountpoint(pin)) {
		if (stat(src, &now) == 0 && stat(pin, &pinned) == 0 && now.st_ino == pinned.st_ino &&
		    now.st_dev == pinned.st_dev)
			return 0;
		umount2(pin, MNT_DETACH);
	}
	if (nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return -1;
	cleanup_close int fd = open(pin, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || mount(src, pin, NULL, MS_BIND, NULL) < 0)
		return nvz_err_sys(err, NVZ_E_NETDEV, errno, "pin the CT's network namespace on %s", pin);
	return 0;
}

void nvz_netdev_release(const struct nvz_ct *ct)
{
	cleanup_free char *pin = pin_path(ct);
	if (!pin)
		return;
	if (nvz_is_mountpoint(pin)) {
		cleanup_close int ns = open(pin, O_RDONLY | O_CLOEXEC);
		nvz_netdev_return(ct, ns);
		if (umount2(pin, MNT_DETACH) < 0)
			nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: unmount %s: %s", pin, strerror(errno));
	}
	unlink(pin);
}

int nvz_netdev_start(struct nvz_ct *ct, pid_t init_pid, struct nvz_error **err)
{
	cleanup_strv char **names = NULL;
	if (netdev_names(nvz_ct_get(ct, "NETDEV", ""), &names, err) < 0)
		return -1;
	if (!names[0])
		return 0;
	cleanup_close int ct_ns = nvz_ct_open_netns(init_pid, err);
	if (ct_ns < 0)
		return -1;
	char *none[] = { NULL };
	return pin_netns(ct, init_pid, err) < 0 ? -1 : move_sets(ct_ns, names, none, err);
}

int nvz_netdev_hold(struct nvz_ct *ct, pid_t init_pid)
{
	cleanup_strv char **names = NULL;
	if (netdev_names(nvz_ct_get(ct, "NETDEV", ""), &names, NULL) < 0 || !names[0])
		return -1;
	return nvz_ct_open_netns(init_pid, NULL);
}

void nvz_netdev_return(const struct nvz_ct *ct, int ct_ns)
{
	cleanup_strv char **names = NULL;
	cleanup_close int host_ns = own_netns(NULL);
	if (ct_ns < 0 || host_ns < 0 || netdev_names(nvz_ct_get(ct, "NETDEV", ""), &names, NULL) < 0)
		return;
	for (size_t i = 0; names[i]; i++) {
		cleanup_error struct nvz_error *e = NULL;
		if (nvz_link_exists(ct_ns, names[i], NULL) != 1)
			continue; /* never moved in, or renamed inside: the kernel's */
		if (move_dev(ct_ns, names[i], host_ns, "del", &e) < 0)
			nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: %s", e->msg);
	}
}

int nvz_ct_set_netdev(struct nvz_ct *ct, const char *before, const char *now, struct nvz_error **err)
{
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	cleanup_strv char **old = NULL, **new = NULL;
	if (netdev_names(before, &old, err) < 0 || netdev_names(now, &new, err) < 0)
		return -1;
	size_t n = 0;
	while (old[n])
		n++;
	for (size_t i = 0; new[i]; i++)
		n++;
	/* The names stay the lists'; add and del only point at them. */
	cleanup_free char **add = calloc(n + 1, sizeof(char *)), **del = calloc(n + 1, sizeof(char *));
	if (!add || !del)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "netdev: out of memory");
	size_t na = 0, nd = 0;
	for (size_t i = 0; old[i]; i++)
		if (!listed(new, old[i]))
			del[nd++] = old[i];
	for (size_t i = 0; new[i]; i++)
		if (!listed(old, new[i]))
			add[na++] = new[i];
	cleanup_close int ct_ns = nvz_ct_open_netns(pid, err);
	if (ct_ns < 0 || (na && pin_netns(ct, pid, err) < 0))
		return -1;
	return move_sets(ct_ns, add, del, err);
}
