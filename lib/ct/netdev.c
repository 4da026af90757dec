/* OpenVZ's NETDEV: host network devices (a NIC given to one CT) moved into
 * the CT's network namespace while it runs, by name, as vzctl did, and
 * moved back once init is gone: by vzctl stop, or by the after-exit work
 * of a CT that powered itself off. For that the namespace is pinned (a
 * bind mount of it in RUNDIR/<id>) while it holds devices: left to the
 * kernel, a namespace without processes deletes its virtual devices (a
 * VLAN, a bond, a macvlan) and hands physical ones to the first namespace
 * under another name if theirs was taken meanwhile.
 *
 * A device goes back only if it is still the one that was moved in: the
 * CT's root may rename it, delete it, or make one of that name (a veth
 * whose peer stays inside would give it a link into the host's namespace).
 * So each device is recorded once moved (RUNDIR/<id>/netdev.ids: its index
 * in the CT and what ties it, see struct nvz_link_info), found again by
 * that index, compared, and moved back under its recorded name. */
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

/* A device as moved into the CT (seen from the CT's namespace). */
struct netdev_id {
	char name[16];
	int index;
	char kind[32];
	int link;
	int link_netnsid;
	char parent[64];
};

struct netdev_ids {
	bool present; /* the file exists: the CT was started by this nvz */
	size_t n;
	struct netdev_id v[NETDEV_MAX];
};

static char *ids_path(const struct nvz_ct *ct)
{
	char *p = NULL;
	return asprintf(&p, "%s/netdev.ids", ct->rundir) < 0 ? NULL : p;
}

static const char *dash(const char *s)
{
	return *s ? s : "-";
}

static void undash(char *s)
{
	if (!strcmp(s, "-"))
		*s = '\0';
}

/* Lines "NAME INDEX KIND LINK NETNSID PARENT", "-" for an empty field. */
static void ids_load(const struct nvz_ct *ct, struct netdev_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	cleanup_free char *path = ids_path(ct), *text = NULL;
	if (!path || nvz_read_file(path, 64 * 1024, &text, NULL, NULL) < 0)
		return;
	ids->present = true;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l && ids->n < NETDEV_MAX;
	     l = strtok_r(NULL, "\n", &save)) {
		struct netdev_id *d = &ids->v[ids->n];
		if (sscanf(l, "%15s %d %31s %d %d %63s", d->name, &d->index, d->kind, &d->link,
			   &d->link_netnsid, d->parent) != 6 || !nvz_ifname_valid(d->name))
			continue;
		undash(d->kind);
		undash(d->parent);
		ids->n++;
	}
}

static int ids_save(const struct nvz_ct *ct, const struct netdev_ids *ids, struct nvz_error **err)
{
	cleanup_free char *path = ids_path(ct);
	cleanup_free char *text = calloc(ids->n + 1, 160);
	if (!path || !text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	size_t len = 0;
	for (size_t i = 0; i < ids->n; i++) {
		const struct netdev_id *d = &ids->v[i];
		len += (size_t)snprintf(text + len, 160, "%s %d %s %d %d %s\n", d->name, d->index,
					dash(d->kind), d->link, d->link_netnsid, dash(d->parent));
	}
	return nvz_write_runtime_atomic(path, text, len, 0600, err);
}

static struct netdev_id *ids_find(struct netdev_ids *ids, const char *name)
{
	for (size_t i = 0; i < ids->n; i++)
		if (!strcmp(ids->v[i].name, name))
			return &ids->v[i];
	return NULL;
}

static void ids_drop(struct netdev_ids *ids, const char *name)
{
	struct netdev_id *d = ids_find(ids, name);
	if (d)
		*d = ids->v[--ids->n];
}

/* name, just moved into ct_ns, as it is there. */
static int ids_add(struct netdev_ids *ids, int ct_ns, const char *name, struct nvz_error **err)
{
	struct nvz_link_info li;
	if (nvz_link_get(ct_ns, name, &li, err) < 0)
		return -1;
	ids_drop(ids, name);
	if (ids->n == NETDEV_MAX)
		return nvz_err(err, NVZ_E_VALUE, E2BIG, "More than %d netdevs", NETDEV_MAX);
	struct netdev_id *d = &ids->v[ids->n++];
	*d = (struct netdev_id){ .index = li.index, .link = li.link,
				 .link_netnsid = li.link_netnsid };
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->kind, sizeof(d->kind), "%s", li.kind);
	snprintf(d->parent, sizeof(d->parent), "%s", li.parent);
	return 0;
}

/* The device at the recorded index is the one moved in: a CT can give a
 * device it makes the name, the index, the MAC and the kind, but not a
 * bus device, nor an other end in a namespace it cannot reach. */
static bool same_device(const struct netdev_id *d, const struct nvz_link_info *li)
{
	return !strcmp(d->kind, li->kind) && d->link == li->link &&
	       d->link_netnsid == li->link_netnsid && !strcmp(d->parent, li->parent);
}

/* The recorded device out of ct_ns into host_ns, under its recorded name. */
static int give_back(int ct_ns, int host_ns, const struct netdev_id *d, struct nvz_error **err)
{
	struct nvz_link_info li;
	cleanup_error struct nvz_error *e = NULL;
	if (nvz_link_get_index(ct_ns, d->index, &li, &e) < 0)
		return nvz_err(err, NVZ_E_NETDEV, e->code,
			       "netdev %s is no longer in the container (deleted inside?)", d->name);
	if (!same_device(d, &li))
		return nvz_err(err, NVZ_E_NETDEV, EPERM,
			       "netdev %s: the container's device %s is not the one it was given "
			       "(made inside); not moved to the host",
			       d->name, li.name);
	if (nvz_link_move_index(ct_ns, d->index, host_ns, d->name, &e) < 0)
		return nvz_err_sys(err, NVZ_E_NETDEV, e->code, "Unable to del netdev %s", d->name);
	return 0;
}

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

char *nvz_ct_netdev_held(const struct nvz_ct *ct)
{
	char *live = nvz_ct_live_netdev(ct);
	return live ? live : strdup(nvz_ct_get(ct, "NETDEV", ""));
}

bool nvz_ct_has_netdev(const struct nvz_ct *ct)
{
	cleanup_free char *nd = nvz_ct_netdev_held(ct);
	return !nd || strspn(nd, " \t") != strlen(nd);
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

/* Out of the CT by name, for a CT started before devices were recorded:
 * only a device without a kind (a NIC's driver made it), which no CT can
 * make itself. */
static int take_back_unrecorded(int ct_ns, int host_ns, const char *name, struct nvz_error **err)
{
	struct nvz_link_info li;
	if (nvz_link_get(ct_ns, name, &li, NULL) == 0 && li.kind[0])
		return nvz_err(err, NVZ_E_NETDEV, EPERM,
			       "netdev %s: a %s device of that name is in the container, and nothing "
			       "tells it is the one it was given; not moved to the host",
			       name, li.kind);
	return move_dev(ct_ns, name, host_ns, "del", err);
}

/* del out of the CT: the recorded device, or, if there is no record of
 * this start, the kind-less device of that name. */
static int take_back(struct netdev_ids *ids, int ct_ns, int host_ns, const char *name,
		     struct nvz_error **err)
{
	const struct netdev_id *d = ids_find(ids, name);
	if (!d && ids->present)
		return nvz_err(err, NVZ_E_NETDEV, ENOENT,
			       "netdev %s was not given to the container by vzctl; not moved to "
			       "the host",
			       name);
	if (!d)
		return take_back_unrecorded(ct_ns, host_ns, name, err);
	int r = give_back(ct_ns, host_ns, d, err);
	if (r == 0)
		ids_drop(ids, name);
	return r;
}

/* Move add into the CT and del out of it (each at most NETDEV_MAX, as
 * they come from parsed lists), all or nothing, and record what is in. */
static int move_sets(const struct nvz_ct *ct, int ct_ns, char *const *add, char *const *del,
		     struct nvz_error **err)
{
	cleanup_close int host_ns = own_netns(err);
	if (host_ns < 0)
		return -1;
	struct netdev_ids ids;
	ids_load(ct, &ids);
	size_t out = 0, in = 0;
	int r = 0;
	bool moved_out[NETDEV_MAX] = { false }, moved_in[NETDEV_MAX] = { false };
	for (; r == 0 && del[out]; out++)
		if (!already(host_ns, ct_ns, del[out]) &&
		    (r = take_back(&ids, ct_ns, host_ns, del[out], err)) == 0)
			moved_out[out] = true;
	for (; r == 0 && add[in]; in++)
		if (!already(ct_ns, host_ns, add[in]) &&
		    (r = move_dev(-1, add[in], ct_ns, "add", err)) == 0) {
			moved_in[in] = true;
			r = ids_add(&ids, ct_ns, add[in], err);
		}
	if (r == 0)
		r = ids_save(ct, &ids, err);
	if (r < 0) { /* best effort: put back what moved (the CT has had no
		      * time to change them: the lock is ours) */
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
	cleanup_free char *ids = ids_path(ct);
	if (ids)
		unlink(ids);
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
	/* A fresh record: this start's devices only. */
	cleanup_free char *ids = ids_path(ct);
	if (ids)
		unlink(ids);
	char *none[] = { NULL };
	return pin_netns(ct, init_pid, err) < 0 ? -1 : move_sets(ct, ct_ns, names, none, err);
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
	struct netdev_ids ids;
	ids_load(ct, &ids);
	/* What the CT holds: the recorded devices (those moved in live
	 * without --save too); without a record, NETDEV's names. One try
	 * each: what cannot go back dies with the namespace. */
	for (size_t i = 0; ids.present && i < ids.n; i++) {
		cleanup_error struct nvz_error *e = NULL;
		if (give_back(ct_ns, host_ns, &ids.v[i], &e) < 0)
			nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: %s", e->msg);
	}
	for (size_t i = 0; !ids.present && names[i]; i++) {
		cleanup_error struct nvz_error *e = NULL;
		if (nvz_link_exists(ct_ns, names[i], NULL) != 1)
			continue; /* never moved in, or renamed inside: the kernel's */
		if (take_back_unrecorded(ct_ns, host_ns, names[i], &e) < 0)
			nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: %s", e->msg);
	}
	if (ids.present) {
		ids.n = 0;
		ids_save(ct, &ids, NULL);
	}
}

char *nvz_ct_live_netdev(const struct nvz_ct *ct)
{
	struct netdev_ids ids;
	ids_load(ct, &ids);
	if (!ids.present)
		return NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < ids.n; i++)
		fprintf(f, "%s%s", i ? " " : "", ids.v[i].name);
	fclose(f);
	return out;
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
	return move_sets(ct, ct_ns, add, del, err);
}
