/* Bridged networking, OpenVZ's "veth": per NETIF entry a veth pair, the
 * host side in the entry's bridge, the CT side named ifname with its MAC,
 * addresses and gateways. The CT's own network service may configure it
 * again from the files nvz writes; nvz makes it work at start on its own. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"
#include "nvz/netif.h"

/* `SCRIPT init veth IF` with VEID and VE_CONFFILE added to our environment.
 * Its environment is built before the clone, which has no exit signal: in
 * the monitor hub this runs in a start's thread beside one that reaps every
 * child with one (hub.c), and the child of a threaded process may only exec. */
static int run_hook(const struct nvz_ct *ct, const char *script, const char *host_if,
		    struct nvz_error **err)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	cleanup_free char **envp = calloc(n + 3, sizeof(*envp));
	cleanup_free char *veid = NULL, *conffile = NULL;
	if (!envp || asprintf(&veid, "VEID=%s", ct->id) < 0 ||
	    asprintf(&conffile, "VE_CONFFILE=%s", ct->conf_path) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "VEID=", 5) && strncmp(environ[i], "VE_CONFFILE=", 12))
			envp[k++] = environ[i];
	envp[k++] = veid;
	envp[k++] = conffile;
	char *const argv[] = { (char *)script, "init", "veth", (char *)host_if, NULL };
	pid_t p = (pid_t)syscall(SYS_clone, 0, NULL, NULL, NULL, 0);
	if (p == 0) {
		/* An exec makes the exit signal SIGCHLD again: __WCLONE would
		 * miss the script (its failure passed for success) and the
		 * hub's reaper could take it. So the script is the child of
		 * this one, which never execs and passes its status on. */
		pid_t s = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
		if (s == 0) {
			nvz_signals_default();
			execve(script, argv, envp);
			_exit(127);
		}
		int sst = 0;
		while (s > 0 && waitpid(s, &sst, 0) < 0 && errno == EINTR)
			;
		_exit(s < 0 || !WIFEXITED(sst) ? 126 : WEXITSTATUS(sst));
	}
	int st = 0, w = 0;
	while (p > 0 && (w = waitpid(p, &st, __WCLONE)) < 0 && errno == EINTR)
		;
	if (p < 0 || w < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return nvz_err(err, NVZ_E_VETH, EIO, "%s exited with error", script);
	return 0;
}

/* An admin's hook from OpenVZ days: vznet.conf beside vz.conf naming
 * EXTERNAL_SCRIPT, run as `SCRIPT init veth <host_ifname>` with VEID set. */
static int external_script(const struct nvz_ct *ct, const char *host_if, struct nvz_error **err)
{
	cleanup_free char *path = NULL;
	struct nvz_conf *c = NULL;
	if (asprintf(&path, "%s/vznet.conf", ct->ctx->conf_dir) < 0 ||
	    nvz_conf_load(&c, path, NVZ_E_SYSTEM, NULL) < 0)
		return 0;
	const char *script = nvz_conf_get(c, "EXTERNAL_SCRIPT");
	int r = 0;
	if (script && *script)
		r = run_hook(ct, script, host_if, err);
	nvz_conf_free(c);
	return r;
}

int nvz_ct_open_netns(pid_t pid, struct nvz_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", path);
	return fd;
}

/* The interface's addresses, announced once both ends pass traffic; best
 * effort, like the routed mode's announcements. */
static void announce(int ct_ns, const struct nvz_netif *f)
{
	if (!f->nips || nvz_link_wait_running(-1, f->host_ifname, 2000, NULL) < 0 ||
	    nvz_link_wait_running(ct_ns, f->ifname, 2000, NULL) < 0)
		return;
	for (size_t i = 0; i < f->nips; i++) {
		struct nvz_addr a;
		if (nvz_addr_parse(f->ips[i], &a, NULL) == 0)
			nvz_net_announce(ct_ns, f->ifname, &a, NULL);
	}
}

static int route_default(int ct_ns, const char *ifname, const char *gw, struct nvz_error **err)
{
	struct nvz_addr a;
	if (!*gw)
		return 0;
	if (nvz_addr_parse(gw, &a, err) < 0)
		return -1;
	struct nvz_route r = { .family = a.family, .gw = &a, .dev = ifname, .flags = NVZ_ROUTE_ONLINK };
	return nvz_route_add(ct_ns, &r, err);
}

/* mac_filter=on: the host side, a bridge port, lets only the CT's MAC in.
 * Without a bridge the host side is routed by the host and there is no
 * port to filter on: said once at start. */
static int mac_filter(const struct nvz_ct *ct, const struct nvz_netif *f, struct nvz_error **err)
{
	if (!f->mac_filter)
		return 0;
	if (!*f->bridge || !f->has_mac) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: mac_filter of %s does nothing without %s", f->ifname,
			*f->bridge ? "its MAC (mac=)" : "a bridge");
		return 0;
	}
	return nvz_bridge_port_mac_filter(-1, f->host_ifname, f->mac, true, err);
}

static int one_netif(const struct nvz_ct *ct, int ct_ns, const struct nvz_netif *f,
		     struct nvz_error **err)
{
	if (*f->bridge) {
		int e = nvz_link_exists(-1, f->bridge, err);
		if (e <= 0)
			return e < 0 ? -1 : nvz_err(err, NVZ_E_VALUE, ENODEV, "unknown bridge '%s'", f->bridge);
	}
	if (nvz_link_veth_add(-1, f->host_ifname, f->ifname, ct_ns, f->has_host_mac ? f->host_mac : NULL,
			      f->has_mac ? f->mac : NULL, 0, err) < 0)
		return -1;
	if ((*f->bridge && nvz_link_set_master(-1, f->host_ifname, f->bridge, err) < 0) ||
	    mac_filter(ct, f, err) < 0 || nvz_link_set_up(-1, f->host_ifname, true, err) < 0 ||
	    external_script(ct, f->host_ifname, err) < 0 || nvz_link_set_up(ct_ns, f->ifname, true, err) < 0)
		return -1;
	for (size_t i = 0; i < f->nips; i++) {
		struct nvz_addr a;
		if (nvz_addr_parse(f->ips[i], &a, err) < 0 ||
		    nvz_addr_add(ct_ns, f->ifname, &a, NVZ_ADDR_NODAD, err) < 0)
			return -1;
	}
	announce(ct_ns, f);
	return route_default(ct_ns, f->ifname, f->gw, err) < 0 ||
			       route_default(ct_ns, f->ifname, f->gw6, err) < 0
		       ? -1
		       : 0;
}

/* RUNDIR/<id>/netif: the interfaces the running CT has, an unsaved
 * --netif_add or --netif_del included: the base of the next live change
 * (the config would not delete an unsaved interface, nor find it). None
 * is no file: on a tmpfs /run each file is a page per running CT. */
static int netif_record(const struct nvz_ct *ct, const char *netif, struct nvz_error **err)
{
	cleanup_free char *path = NULL, *text = NULL;
	if (asprintf(&path, "%s/netif", ct->rundir) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (!netif || !*netif) {
		if (unlink(path) < 0 && errno != ENOENT)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "remove %s", path);
		return 0;
	}
	if (asprintf(&text, "NETIF=\"%s\"\n", netif) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return -1;
	return nvz_write_runtime_atomic(path, text, strlen(text), 0600, err);
}

int nvz_ct_netifs(const struct nvz_ct *ct, const char *text, struct nvz_netifs *out, struct nvz_error **err)
{
	return nvz_netif_parse(text, out, err) < 0 || nvz_netif_fill_host_names(out, ct->veid, err) < 0 ? -1 : 0;
}

char *nvz_ct_live_netif(const struct nvz_ct *ct)
{
	char *live = nvz_ct_runtime_value(ct, "netif", "NETIF");
	struct nvz_runstate rs;
	/* A running CT without the record has no interface, whatever its
	 * config says (an unsaved --netif_del, or an edit by hand). */
	if (!live && nvz_runstate_read(ct, &rs) == 0 && nvz_proc_alive(rs.init_pid, rs.init_start))
		live = strdup("");
	return live;
}

int nvz_veth_start(struct nvz_ct *ct, pid_t init_pid, const char *netif, struct nvz_error **err)
{
	struct nvz_netifs all;
	if (netif_record(ct, netif, err) < 0)
		return -1;
	if (!netif || !*netif)
		return 0;
	if (nvz_ct_netifs(ct, netif, &all, err) < 0)
		return -1;
	cleanup_close int ct_ns = nvz_ct_open_netns(init_pid, err);
	if (ct_ns < 0)
		return -1;
	for (size_t i = 0; i < all.n; i++)
		if (one_netif(ct, ct_ns, &all.v[i], err) < 0) {
			for (size_t j = 0; j <= i; j++)
				nvz_link_del(-1, all.v[j].host_ifname, NULL);
			return nvz_err_wrap(err, "Configure veth devices");
		}
	return 0;
}

static void append_word(char *buf, size_t len, const char *word)
{
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used ? " " : "", word);
}

void nvz_veth_messages(const struct nvz_ct *ct)
{
	struct nvz_netifs all;
	if (nvz_ct_netifs(ct, nvz_ct_get(ct, "NETIF", NULL), &all, NULL) < 0 || !all.n)
		return;
	char list[512] = "";
	for (size_t i = 0; i < all.n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "",
			 all.v[i].host_ifname);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Configure veth devices: %s", list);
	for (size_t i = 0; i < all.n; i++) {
		const struct nvz_netif *f = &all.v[i];
		if (*f->bridge)
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Adding interface %s to the bridge %s.",
				f->host_ifname, f->bridge);
		for (size_t j = 0; j < f->nips; j++)
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Adding an IP %s to the %s for CT%s.", f->ips[j],
				f->ifname, ct->id);
		if (*f->gw)
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting %s as a default gateway for CT%s.", f->gw, ct->id);
		if (*f->gw6)
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting %s as a default gateway for CT%s.", f->gw6, ct->id);
	}
}

/* Live: interfaces in `now` but not in `before` are created, the others
 * removed (their host side deleted, which removes the CT side), and those
 * whose settings changed are recreated. */
int nvz_ct_set_netif(struct nvz_ct *ct, const char *before, const char *now, struct nvz_error **err)
{
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	struct nvz_netifs old, new;
	if (nvz_ct_netifs(ct, before, &old, err) < 0 || nvz_ct_netifs(ct, now, &new, err) < 0)
		return -1;
	cleanup_close int ct_ns = nvz_ct_open_netns(pid, err);
	if (ct_ns < 0)
		return -1;
	char gone[512] = "", made[512] = "";
	for (size_t i = 0; i < old.n; i++) {
		struct nvz_netif *n = nvz_netif_find(&new, old.v[i].ifname);
		if (!n)
			append_word(gone, sizeof(gone), old.v[i].host_ifname);
		if (!n || memcmp(n, &old.v[i], sizeof(*n)))
			nvz_link_del(-1, old.v[i].host_ifname, NULL);
	}
	for (size_t i = 0; i < new.n; i++) {
		struct nvz_netif *o = nvz_netif_find(&old, new.v[i].ifname);
		if (!o || memcmp(o, &new.v[i], sizeof(*o)))
			append_word(made, sizeof(made), new.v[i].host_ifname);
	}
	/* vzctl's veth_ctl lines: the interfaces removed, then those (re)made. */
	if (*gone)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Deleting veth devices: %s", gone);
	if (*made)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Configure veth devices: %s", made);
	for (size_t i = 0; i < new.n; i++) {
		struct nvz_netif *o = nvz_netif_find(&old, new.v[i].ifname);
		if (o && !memcmp(o, &new.v[i], sizeof(*o)))
			continue;
		if (*new.v[i].bridge)
			nvz_log(ct->ctx, NVZ_LOG_INFO, "Adding interface %s to the bridge %s.", new.v[i].host_ifname,
				new.v[i].bridge);
		if (one_netif(ct, ct_ns, &new.v[i], err) < 0) {
			nvz_link_del(-1, new.v[i].host_ifname, NULL);
			return -1;
		}
	}
	return netif_record(ct, now, err);
}

/* Restore into a network namespace nvz made: each pair with the CT side
 * configured as at start; the host side is left down until criu restored
 * the sockets (nvz_veth_restored puts it on its bridge and up). */
int nvz_veth_prepare(struct nvz_ct *ct, int ct_ns, const char *netif, struct nvz_error **err)
{
	struct nvz_netifs all;
	if (!netif || !*netif)
		return 0;
	if (nvz_ct_netifs(ct, netif, &all, err) < 0)
		return -1;
	for (size_t i = 0; i < all.n; i++) {
		const struct nvz_netif *f = &all.v[i];
		int r = nvz_link_veth_add(-1, f->host_ifname, f->ifname, ct_ns,
					  f->has_host_mac ? f->host_mac : NULL, f->has_mac ? f->mac : NULL,
					  0, err);
		if (r == 0)
			r = nvz_link_set_up(ct_ns, f->ifname, true, err);
		for (size_t j = 0; r == 0 && j < f->nips; j++) {
			struct nvz_addr a;
			if (nvz_addr_parse(f->ips[j], &a, err) < 0 ||
			    nvz_addr_add(ct_ns, f->ifname, &a, NVZ_ADDR_NODAD, err) < 0)
				r = -1;
		}
		if (r == 0 && (route_default(ct_ns, f->ifname, f->gw, err) < 0 ||
			       route_default(ct_ns, f->ifname, f->gw6, err) < 0))
			r = -1;
		if (r < 0) {
			for (size_t j = 0; j <= i; j++)
				nvz_link_del(-1, all.v[j].host_ifname, NULL);
			return nvz_err_wrap(err, "Configure veth devices");
		}
	}
	return 0;
}

int nvz_veth_restored(struct nvz_ct *ct, pid_t init_pid, const char *netif, struct nvz_error **err)
{
	struct nvz_netifs all;
	if (netif_record(ct, netif, err) < 0)
		return -1;
	if (!netif || !*netif)
		return 0;
	if (nvz_ct_netifs(ct, netif, &all, err) < 0)
		return -1;
	cleanup_close int ct_ns = nvz_ct_open_netns(init_pid, NULL);
	for (size_t i = 0; i < all.n; i++) {
		const struct nvz_netif *f = &all.v[i];
		if ((f->has_host_mac && nvz_link_set_mac(-1, f->host_ifname, f->host_mac, err) < 0) ||
		    (*f->bridge && nvz_link_set_master(-1, f->host_ifname, f->bridge, err) < 0) ||
		    mac_filter(ct, f, err) < 0 ||
		    nvz_link_set_up(-1, f->host_ifname, true, err) < 0 ||
		    external_script(ct, f->host_ifname, err) < 0)
			return nvz_err_wrap(err, "Configure veth devices");
		/* The CT may now be behind another switch port (or server). */
		if (ct_ns >= 0)
			announce(ct_ns, f);
	}
	return 0;
}
