/* The CT's own network files, written from IP_ADDRESS and NETIF so that its
 * network service agrees with what nvz set up from the host: ifup/ifdown
 * (Debian's ifupdown or busybox) and systemd-networkd configure the same
 * addresses and routes again, and /etc/hosts names the CT by its address.
 * The ifupdown stanzas are "manual" with idempotent `ip ... replace`
 * commands: at boot the addresses are already there, and an `ifup -a`
 * that tried to add them again would fail. Every path is resolved in-root. */
#include <dirent.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/internal.h"
#include "ct/netconf.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"

#define BLOCK_BEGIN "# BEGIN nvz"
#define BLOCK_END "# END nvz"
#define NETWORKD_DIR "/etc/systemd/network"
#define NETWORKD_PREFIX "10-nvz-"
#define VENET_IF "venet0"

/* Close a memstream: its text (*out is only valid after fclose), or NULL
 * (freed) if writing failed. */
static char *memstream_done(FILE *f, char **out)
{
	if (fclose(f) != 0) {
		free(*out);
		return NULL;
	}
	return *out;
}

/* A word list of addresses into normalised "addr/prefix" strings. */
static size_t split_addrs(const char *list, char out[][64], size_t max)
{
	cleanup_free char *copy = list ? strdup(list) : NULL;
	char *save = NULL;
	size_t n = 0;
	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w && n < max;
	     w = strtok_r(NULL, " \t", &save)) {
		struct nvz_addr a;
		if (nvz_addr_parse(w, &a, NULL) == 0 && nvz_addr_format(&a, out[n], 64) == 0)
			n++;
	}
	return n;
}

static bool any_family(char addrs[][64], size_t n, bool v6)
{
	for (size_t i = 0; i < n; i++)
		if ((strchr(addrs[i], ':') != NULL) == v6)
			return true;
	return false;
}

/* The IPv6 prefixes (network/len, each once) of venet0's addresses that
 * have one: they go via the host side, as the host sets them up (venet.c). */
static size_t venet_v6_nets(const char *ifname, char addrs[][64], size_t n, char out[][64])
{
	size_t k = 0;
	for (size_t i = 0; strcmp(ifname, VENET_IF) == 0 && i < n; i++) {
		struct nvz_addr a;
		if (nvz_addr_parse(addrs[i], &a, NULL) < 0 || a.family != AF_INET6 || a.prefix >= 128)
			continue;
		nvz_addr_network(&a);
		char net[64];
		nvz_addr_format(&a, net, sizeof(net));
		size_t j = 0;
		while (j < k && strcmp(out[j], net))
			j++;
		if (j == k)
			memcpy(out[k++], net, sizeof(net));
	}
	return k;
}

/* Everything of old but a previous nvz block. */
static void copy_without_block(FILE *f, const char *old)
{
	bool inside = false;
	for (const char *line = old; line && *line;) {
		size_t n = strcspn(line, "\n");
		if (!strncmp(line, BLOCK_BEGIN, strlen(BLOCK_BEGIN)))
			inside = true;
		else if (inside && !strncmp(line, BLOCK_END, strlen(BLOCK_END)))
			inside = false;
		else if (!inside)
			fprintf(f, "%.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
}

static void ifupdown_stanza(FILE *f, const char *ifname, char addrs[][64], size_t n,
			    const char *gw, const char *gw6)
{
	fprintf(f, "auto %s\niface %s inet manual\n\tup ip link set %s up\n", ifname, ifname, ifname);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\tup ip addr replace %s dev %s\n", addrs[i], ifname);
	if (gw && *gw)
		fprintf(f, "\tup ip route replace default via %s dev %s onlink\n", gw, ifname);
	if (gw6 && *gw6)
		fprintf(f, "\tup ip -6 route replace default via %s dev %s\n", gw6, ifname);
	char nets[64][64];
	for (size_t i = 0, k = gw6 && *gw6 ? venet_v6_nets(ifname, addrs, n, nets) : 0; i < k; i++)
		fprintf(f, "\tup ip -6 route replace %s via %s dev %s metric 1\n", nets[i], gw6, ifname);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\tdown ip addr del %s dev %s\n", addrs[i], ifname);
	fprintf(f, "\tdown ip link set %s down\n", ifname);
}

char *nvz_netconf_ifupdown(const char *old, const char *venet_ips, const struct nvz_netifs *nifs)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	copy_without_block(f, old);
	char addrs[64][64];
	size_t n = split_addrs(venet_ips, addrs, 64);
	bool any = n > 0;
	for (size_t i = 0; nifs && i < nifs->n; i++)
		any = any || nifs->v[i].nips > 0;
	if (any) {
		fputs(BLOCK_BEGIN ": written by vzctl from the container's IP_ADDRESS and NETIF.\n"
		      "# Change them with vzctl set; edits inside this block are replaced.\n",
		      f);
		if (n)
			ifupdown_stanza(f, VENET_IF, addrs, n, any_family(addrs, n, false) ? "169.254.0.1" : NULL,
					any_family(addrs, n, true) ? "fe80::1" : NULL);
		for (size_t i = 0; nifs && i < nifs->n; i++) {
			const struct nvz_netif *x = &nifs->v[i];
			if (x->nips)
				ifupdown_stanza(f, x->ifname, (char (*)[64])x->ips, x->nips, x->gw, x->gw6);
		}
		fputs(BLOCK_END "\n", f);
	}
	return memstream_done(f, &out);
}

char *nvz_netconf_networkd(const char *ifname, char addrs[][64], size_t n, const char *gw,
			   const char *gw6)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	fprintf(f, "# Written by vzctl from the container's config; change it with vzctl set.\n"
		   "[Match]\nName=%s\n\n[Network]\n",
		ifname);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "Address=%s\n", addrs[i]);
	/* The host configured it before init ran: networkd must not flush it. */
	fputs("KeepConfiguration=static\nIPv6AcceptRA=no\n", f);
	if (gw && *gw)
		fprintf(f, "\n[Route]\nGateway=%s\nGatewayOnLink=yes\n", gw);
	if (gw6 && *gw6)
		fprintf(f, "\n[Route]\nGateway=%s\nGatewayOnLink=yes\n", gw6);
	char nets[64][64];
	for (size_t i = 0, k = gw6 && *gw6 ? venet_v6_nets(ifname, addrs, n, nets) : 0; i < k; i++)
		fprintf(f, "\n[Route]\nDestination=%s\nGateway=%s\nGatewayOnLink=yes\nMetric=1\n", nets[i],
			gw6);
	return memstream_done(f, &out);
}

/* Does a hosts line (after its address) name host? */
static bool line_names(const char *line, size_t n, const char *host)
{
	size_t hl = host ? strlen(host) : 0;
	if (!hl)
		return false;
	for (size_t i = strcspn(line, " \t"); i < n;) {
		i += strspn(line + i, " \t");
		size_t w = strcspn(line + i, " \t");
		if (i + w > n)
			w = n - i;
		if (w == hl && !strncmp(line + i, host, hl))
			return true;
		i += w;
	}
	return false;
}

char *nvz_netconf_hosts(const char *old, const char *hostname, const char *old_hostname,
			const char *addr)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	/* Drop Debian's 127.0.1.1 line and any other line for this CT's name,
	 * but never the localhost lines. */
	for (const char *line = old; line && *line;) {
		size_t n = strcspn(line, "\n");
		bool local = !strncmp(line, "127.0.0.1", 9) || !strncmp(line, "::1", 3);
		bool ours = !strncmp(line, "127.0.1.1", 9) ||
			    (!local && (line_names(line, n, hostname) || line_names(line, n, old_hostname)));
		if (!ours)
			fprintf(f, "%.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
	size_t shortlen = strcspn(hostname, ".");
	fprintf(f, "%s %s", addr && *addr ? addr : "127.0.1.1", hostname);
	if (hostname[shortlen])
		fprintf(f, " %.*s", (int)shortlen, hostname);
	fputc('\n', f);
	return memstream_done(f, &out);
}

/* The CT's main address: the first routed one, else the first bridged one. */
void nvz_netconf_main_addr(const char *venet_ips, const struct nvz_netifs *nifs, char *buf,
			   size_t len)
{
	char first[1][64] = { "" };
	if (!split_addrs(venet_ips, first, 1))
		for (size_t i = 0; nifs && i < nifs->n; i++)
			if (nifs->v[i].nips) {
				snprintf(first[0], sizeof(first[0]), "%s", nifs->v[i].ips[0]);
				break;
			}
	snprintf(buf, len, "%.*s", (int)strcspn(first[0], "/"), first[0]);
}

static bool dir_in_root(int rootfd, const char *path)
{
	cleanup_close int fd = nvz_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
	return fd >= 0;
}

static bool file_in_root(int rootfd, const char *path)
{
	cleanup_close int fd = nvz_open_in_root(rootfd, path, O_PATH, 0);
	return fd >= 0;
}

static int write_if_changed(int rootfd, const char *path, const char *old, const char *text,
			    struct nvz_error **err)
{
	if (old && !strcmp(old, text))
		return 0;
	return nvz_write_in_root(rootfd, path, text, strlen(text), 0644, err);
}

static int write_ifupdown(int rootfd, const char *ips, const struct nvz_netifs *nifs,
			  struct nvz_error **err)
{
	if (!dir_in_root(rootfd, "/etc/network") && !file_in_root(rootfd, "/sbin/ifup") &&
	    !file_in_root(rootfd, "/usr/sbin/ifup"))
		return 0;
	if (nvz_mkdir_in_root(rootfd, "/etc/network", 0755, err) < 0)
		return -1;
	cleanup_free char *old = NULL;
	nvz_read_in_root(rootfd, "/etc/network/interfaces", 1 << 20, &old, NULL);
	cleanup_free char *text = nvz_netconf_ifupdown(old, ips, nifs);
	if (!text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (!old && !*text)
		return 0;
	return write_if_changed(rootfd, "/etc/network/interfaces", old, text, err);
}

static int write_networkd_one(int rootfd, const char *ifname, char addrs[][64], size_t n,
			      const char *gw, const char *gw6, struct nvz_error **err)
{
	char path[96];
	snprintf(path, sizeof(path), NETWORKD_DIR "/" NETWORKD_PREFIX "%s.network", ifname);
	cleanup_free char *text = nvz_netconf_networkd(ifname, addrs, n, gw, gw6);
	if (!text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	cleanup_free char *old = NULL;
	nvz_read_in_root(rootfd, path, 1 << 16, &old, NULL);
	return write_if_changed(rootfd, path, old, text, err);
}

/* Remove our files for interfaces that no longer have addresses. */
static void networkd_sweep(int rootfd, const char *keep)
{
	int fd = nvz_open_in_root(rootfd, NETWORKD_DIR, O_RDONLY | O_DIRECTORY, 0);
	cleanup_dir DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		char word[300];
		snprintf(word, sizeof(word), " %s ", e->d_name);
		if (!strncmp(e->d_name, NETWORKD_PREFIX, strlen(NETWORKD_PREFIX)) && l > 8 &&
		    !strcmp(e->d_name + l - 8, ".network") && !strstr(keep, word))
			unlinkat(dirfd(d), e->d_name, 0);
	}
}

static int write_networkd(int rootfd, const char *ips, const struct nvz_netifs *nifs,
			  struct nvz_error **err)
{
	if (!dir_in_root(rootfd, "/etc/systemd"))
		return 0;
	char keep[NVZ_NETIF_MAX * 32 + 32] = " ";
	char addrs[64][64];
	size_t n = split_addrs(ips, addrs, 64);
	if ((n || nifs->n) && nvz_mkdir_in_root(rootfd, NETWORKD_DIR, 0755, err) < 0)
		return -1;
	if (n) {
		if (write_networkd_one(rootfd, VENET_IF, addrs, n,
				       any_family(addrs, n, false) ? "169.254.0.1" : NULL,
				       any_family(addrs, n, true) ? "fe80::1" : NULL, err) < 0)
			return -1;
		strcat(keep, NETWORKD_PREFIX VENET_IF ".network ");
	}
	for (size_t i = 0; i < nifs->n; i++) {
		const struct nvz_netif *x = &nifs->v[i];
		if (!x->nips)
			continue;
		if (write_networkd_one(rootfd, x->ifname, (char (*)[64])x->ips, x->nips, x->gw, x->gw6,
				       err) < 0)
			return -1;
		snprintf(keep + strlen(keep), sizeof(keep) - strlen(keep), NETWORKD_PREFIX "%s.network ",
			 x->ifname);
	}
	networkd_sweep(rootfd, keep);
	return 0;
}

int nvz_netconf_write(int rootfd, const char *ips, const char *netif, struct nvz_error **err)
{
	struct nvz_netifs nifs;
	if (nvz_netif_parse(netif, &nifs, err) < 0)
		return -1;
	if (write_ifupdown(rootfd, ips, &nifs, err) < 0 || write_networkd(rootfd, ips, &nifs, err) < 0)
		return nvz_err_wrap(err, "write the container's network configuration");
	return 0;
}

int nvz_netconf_write_hosts(int rootfd, const char *hostname, const char *old_hostname,
			    const char *ips, const char *netif, struct nvz_error **err)
{
	struct nvz_netifs nifs = { .n = 0 };
	nvz_netif_parse(netif, &nifs, NULL);
	char addr[64];
	nvz_netconf_main_addr(ips, &nifs, addr, sizeof(addr));
	cleanup_free char *old = NULL;
	nvz_read_in_root(rootfd, "/etc/hosts", 1 << 20, &old, NULL);
	cleanup_free char *text =
		nvz_netconf_hosts(old ? old : "127.0.0.1 localhost\n", hostname, old_hostname, addr);
	if (!text)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return write_if_changed(rootfd, "/etc/hosts", old, text, err);
}
