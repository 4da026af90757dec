/* Files nvz keeps inside a CT: /etc/hostname, /etc/hosts, /etc/resolv.conf.
 * Every write resolves the path inside the CT root, so a CT that replaced
 * /etc or /etc/hosts with a symlink to a host path gets only its own file. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "ct/internal.h"
#include "ct/netconf.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

struct strbuf {
	char *s;
	size_t len;
};

static int sb_add(struct strbuf *b, const char *s, size_t n)
{
	char *p = realloc(b->s, b->len + n + 1);
	if (!p)
		return -1;
	memcpy(p + b->len, s, n);
	b->len += n;
	p[b->len] = '\0';
	b->s = p;
	return 0;
}

static int sb_addf(struct strbuf *b, const char *a, const char *c)
{
	if (sb_add(b, a, strlen(a)) < 0 || sb_add(b, c, strlen(c)) < 0 || sb_add(b, "\n", 1) < 0)
		return -1;
	return 0;
}

/* Start rewrites these on every start: a regular file (not a symlink, which
 * a write replaces) that already says the same is left alone: no temp file,
 * fsync and rename on the start path. */
static bool same_in_root(int rootfd, const char *path, const char *text, size_t len)
{
	cleanup_close int fd =
		nvz_open_in_root(rootfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len ||
	    len > 1 << 16)
		return false;
	cleanup_free char *buf = malloc(len + 1);
	return buf && read(fd, buf, len + 1) == (ssize_t)len && !memcmp(buf, text, len);
}

static int write_if_changed(int rootfd, const char *path, const char *text, size_t len,
			    struct nvz_error **err)
{
	if (same_in_root(rootfd, path, text, len))
		return 0;
	return nvz_write_in_root(rootfd, path, text, len, 0644, err);
}

/* The name the CT has (an unsaved --hostname included): its /etc/hostname,
 * which start and every set write; NULL if none or not a host name. */
static char *current_hostname(int rootfd)
{
	char *now = NULL;
	if (nvz_read_in_root(rootfd, "/etc/hostname", 256, &now, NULL) < 0)
		return NULL;
	now[strcspn(now, "\n")] = '\0';
	if (!*now || nvz_conf_validate("HOSTNAME", now, NULL) < 0) {
		free(now);
		return NULL;
	}
	return now;
}

static int write_hostname(struct nvz_ct *ct, int rootfd, const char *hostname,
			  const struct nvz_conf *changes, struct nvz_error **err)
{
	cleanup_free char *line = NULL;
	if (asprintf(&line, "%s\n", hostname) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* The hosts line to replace names what the CT was called until now. */
	cleanup_free char *was = current_hostname(rootfd);
	cleanup_free char *ips = nvz_venet_ips(ct, nvz_ct_get_pending(ct, changes, "IP_ADDRESS"));
	if (!ips)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (write_if_changed(rootfd, "/etc/hostname", line, strlen(line), err) < 0 ||
	    nvz_netconf_write_hosts(rootfd, hostname, was ? was : nvz_ct_get(ct, "HOSTNAME", NULL), ips,
				    nvz_ct_get_pending(ct, changes, "NETIF"), err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Set hostname: %s", hostname);
	return 0;
}

/* "inherit" takes the host's own lines of that kind. */
static int add_resolv(struct strbuf *b, const char *kind, const char *value)
{
	if (strcmp(value, "inherit")) {
		cleanup_free char *copy = strdup(value);
		char *save = NULL;
		if (!copy)
			return -1;
		if (!strcmp(kind, "search "))
			return sb_addf(b, kind, value);
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			if (sb_addf(b, kind, t) < 0)
				return -1;
		return 0;
	}
	cleanup_free char *host = NULL;
	size_t len;
	if (nvz_read_file("/etc/resolv.conf", 1 << 16, &host, &len, NULL) < 0)
		return 0;
	for (char *line = host; *line;) {
		size_t n = strcspn(line, "\n");
		if (!strncmp(line, kind, strlen(kind)) && (sb_add(b, line, n) < 0 || sb_add(b, "\n", 1) < 0))
			return -1;
		line += n + (line[n] == '\n');
	}
	return 0;
}

static bool is_kind(const char *line, const char *word)
{
	size_t n = strlen(word);
	return !strncmp(line, word, n) && (line[n] == ' ' || line[n] == '\t');
}

/* As OpenVZ's set_dns script: only the kinds given change (the search line
 * first, nameservers last); the CT's other lines (options, domain, a kind
 * not given) stay. */
static int write_resolv(struct nvz_ct *ct, int rootfd, const char *ns, const char *search,
			struct nvz_error **err)
{
	struct strbuf b = { 0 };
	cleanup_free char *old = NULL;
	nvz_read_in_root(rootfd, "/etc/resolv.conf", 1 << 16, &old, NULL);
	int r = search ? add_resolv(&b, "search ", search) : 0;
	for (char *line = old; r == 0 && line && *line;) {
		size_t n = strcspn(line, "\n");
		if (!(search && is_kind(line, "search")) && !(ns && is_kind(line, "nameserver")))
			r = sb_add(&b, line, n) < 0 || sb_add(&b, "\n", 1) < 0 ? -1 : 0;
		line += n + (line[n] == '\n');
	}
	if (r == 0 && ns)
		r = add_resolv(&b, "nameserver ", ns);
	if (r < 0) {
		free(b.s);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	}
	r = write_if_changed(rootfd, "/etc/resolv.conf", b.s ? b.s : "", b.len, err);
	free(b.s);
	if (r == 0)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "File resolv.conf was modified");
	return r;
}

static int open_root(const struct nvz_ct *ct, struct nvz_error **err)
{
	int fd = open(ct->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", ct->root);
	return fd;
}

int nvz_ct_setup_files(struct nvz_ct *ct, struct nvz_error **err)
{
	cleanup_close int rootfd = open_root(ct, err);
	if (rootfd < 0)
		return -1;
	const char *hostname = nvz_ct_get(ct, "HOSTNAME", NULL);
	if (hostname && write_hostname(ct, rootfd, hostname, NULL, err) < 0)
		return -1;
	cleanup_free char *ips = nvz_venet_ips(ct, nvz_ct_get(ct, "IP_ADDRESS", NULL));
	if (!ips)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_netconf_write(rootfd, ips, nvz_ct_get(ct, "NETIF", NULL), err) < 0)
		return -1;
	const char *ns = nvz_ct_get(ct, "NAMESERVER", NULL);
	const char *search = nvz_ct_get(ct, "SEARCHDOMAIN", NULL);
	if ((ns || search) && write_resolv(ct, rootfd, ns, search, err) < 0)
		return -1;
	return 0;
}

struct uts_args {
	int pidfd;
	const char *hostname;
};

static int uts_child(void *arg, struct nvz_error **err)
{
	struct uts_args *a = arg;
	if (setns(a->pidfd, CLONE_NEWUTS) < 0)
		return nvz_err_sys(err, NVZ_E_BAD_HOSTNAME, errno, "enter the container's UTS namespace");
	if (sethostname(a->hostname, strlen(a->hostname)) < 0)
		return nvz_err_sys(err, NVZ_E_BAD_HOSTNAME, errno, "set hostname %s", a->hostname);
	return 0;
}

int nvz_ct_apply_hostname(struct nvz_ct *ct, const char *hostname, struct nvz_error **err)
{
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	cleanup_close int rootfd = open_root(ct, err);
	if (rootfd < 0 || write_hostname(ct, rootfd, hostname, NULL, err) < 0)
		return -1;
	/* sethostname acts on the caller's UTS namespace: join the CT's in a child. */
	struct uts_args args = { pidfd, hostname };
	if (nvz_child_run(uts_child, &args, "set hostname in container", err) < 0) {
		(*err)->status = NVZ_E_BAD_HOSTNAME;
		return -1;
	}
	return 0;
}

int nvz_ct_apply_dns(struct nvz_ct *ct, const char *nameservers, const char *searchdomains,
		     struct nvz_error **err)
{
	cleanup_close int rootfd = open_root(ct, err);
	if (rootfd < 0)
		return -1;
	return write_resolv(ct, rootfd, nameservers, searchdomains, err);
}

/* After a live change of addresses, interfaces or hostname: the files the
 * CT's network service reads follow the new values. */
int nvz_ct_apply_netconf(struct nvz_ct *ct, const struct nvz_conf *changes, struct nvz_error **err)
{
	cleanup_close int rootfd = open_root(ct, err);
	if (rootfd < 0)
		return -1;
	/* The addresses the CT has (an unsaved --ipadd included) unless this
	 * set changes them: a --hostname must not drop one from its files. */
	cleanup_free char *live = changes && nvz_conf_get(changes, "IP_ADDRESS") ? NULL : nvz_ct_live_ips_asked(ct);
	cleanup_free char *ips = nvz_venet_ips(ct, live ? live : nvz_ct_get_pending(ct, changes, "IP_ADDRESS"));
	if (!ips)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	cleanup_free char *live_if = changes && nvz_conf_get(changes, "NETIF") ? NULL : nvz_ct_live_netif(ct);
	const char *netif = live_if ? live_if : nvz_ct_get_pending(ct, changes, "NETIF");
	/* The name the CT has (an unsaved --hostname included), else the config's. */
	cleanup_free char *now = current_hostname(rootfd);
	const char *hostname = nvz_conf_get(changes, "HOSTNAME");
	if (!hostname)
		hostname = now ? now : nvz_ct_get(ct, "HOSTNAME", NULL);
	if (nvz_netconf_write(rootfd, ips, netif, err) < 0)
		return -1;
	if (hostname && nvz_netconf_write_hosts(rootfd, hostname, now ? now : nvz_ct_get(ct, "HOSTNAME", NULL),
						ips, netif, err) < 0)
		return -1;
	return 0;
}
