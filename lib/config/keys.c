/* The key table: one row per OpenVZ (or nvz) config key, with where it may
 * appear and how its value is checked. Keys not in the table are kept in
 * files untouched; they are only "unknown". */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/error.h"
#include "nvz/net.h"
#include "nvz/storage.h"

typedef int (*key_validator)(const char *key, const char *value, struct nvz_error **err);

struct key_row {
	const char *name;
	key_validator validate; /* NULL: any single-line text */
	unsigned flags;         /* enum nvz_key_flags */
};

#define CT (NVZ_KEY_CT | NVZ_KEY_GLOBAL) /* any CT key may also be a vz.conf default */
#define GL NVZ_KEY_GLOBAL
#define DEP NVZ_KEY_DEPRECATED

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* RFC 1123 host name: dot-separated labels of [A-Za-z0-9-], 1..63 bytes,
 * no '-' at either end of a label, 253 bytes in all. */
static bool valid_hostname(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_alnum(ch) && ch != '-')
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

static int v_hostname(const char *key, const char *value, struct nvz_error **err)
{
	(void)key;
	if (!valid_hostname(value, strlen(value)))
		return nvz_err(err, NVZ_E_BAD_HOSTNAME, EINVAL, "invalid hostname '%s'", value);
	return 0;
}

/* Next whitespace-separated token of *p, advancing *p; false at the end. */
static bool next_token(const char **p, const char **tok, size_t *len)
{
	const char *s = *p + strspn(*p, " \t");
	if (!*s)
		return false;
	size_t n = strcspn(s, " \t");
	*tok = s;
	*len = n;
	*p = s + n;
	return true;
}

/* "inherit" (copy the host's resolv.conf) is only meaningful alone. */
static bool is_inherit(const char *value)
{
	const char *p = value, *tok;
	size_t n;
	if (!next_token(&p, &tok, &n) || n != 7 || memcmp(tok, "inherit", 7) != 0)
		return false;
	return !next_token(&p, &tok, &n);
}

static bool valid_ip(const char *tok, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, tok, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

static int v_nameserver(const char *key, const char *value, struct nvz_error **err)
{
	(void)key;
	if (is_inherit(value))
		return 0;
	const char *p = value, *tok;
	size_t n;
	while (next_token(&p, &tok, &n))
		if (!valid_ip(tok, n))
			return nvz_err(err, NVZ_E_BAD_DNS, EINVAL, "invalid nameserver address '%.*s'",
				       (int)n, tok);
	return 0;
}

static int v_searchdomain(const char *key, const char *value, struct nvz_error **err)
{
	(void)key;
	if (is_inherit(value))
		return 0;
	const char *p = value, *tok;
	size_t n;
	while (next_token(&p, &tok, &n))
		if (!valid_hostname(tok, n))
			return nvz_err(err, NVZ_E_BAD_SEARCHDOMAIN, EINVAL,
				       "invalid search domain '%.*s'", (int)n, tok);
	return 0;
}

static int v_yesno(const char *key, const char *value, struct nvz_error **err)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: '%s' (expected yes or no)",
		       key, value);
}

static int v_autoyesno(const char *key, const char *value, struct nvz_error **err)
{
	if (strcmp(value, "auto") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL,
		       "invalid value for %s: '%s' (expected auto, yes or no)", key, value);
}

/* Container name: becomes a file name under /etc/vz/names, so no '/', no
 * leading '.' or '-', and not all digits (it would read as a CTID). Empty:
 * no name (vzctl's --name '' removes one). */
static int v_name(const char *key, const char *value, struct nvz_error **err)
{
	(void)key;
	size_t n = strlen(value);
	if (n == 0)
		return 0;
	bool digits = true, ok = n <= 64 && value[0] != '.' && value[0] != '-', vzctl_ok = true;
	for (size_t i = 0; i < n; i++) {
		char ch = value[i];
		ok = ok && (is_alnum(ch) || strchr("_.+-", ch));
		vzctl_ok = vzctl_ok && (is_alnum(ch) || strchr(" _.+-", ch));
		digits = digits && ch >= '0' && ch <= '9';
	}
	/* A character vzctl refused too is a bad value (21, as its option
	 * parser said); what only nvz refuses is a name error (131). */
	if (!ok || digits)
		return nvz_err(err, vzctl_ok ? NVZ_E_NAME : NVZ_E_VALUE, EINVAL, "invalid container name '%s'", value);
	return 0;
}

static int v_uint(const char *key, const char *value, struct nvz_error **err)
{
	size_t n = strlen(value);
	bool ok = n > 0 && n <= 10 && strspn(value, "0123456789") == n;
	if (!ok || strtoul(value, NULL, 10) > INT_MAX)
		return nvz_err(err, NVZ_E_VALUE, EINVAL,
			       "invalid value for %s: '%s' (expected a non-negative integer)", key,
			       value);
	return 0;
}

/* USERNS_MAP "HOST:COUNT": a range of host ids, never host root. */
static int v_idmap(const char *key, const char *value, struct nvz_error **err)
{
	char *end;
	unsigned long long host = strtoull(value, &end, 10), count = 0;
	bool ok = value[0] >= '0' && value[0] <= '9' && *end == ':' && end[1] >= '0' && end[1] <= '9';
	if (ok)
		count = strtoull(end + 1, &end, 10);
	if (!ok || *end || host == 0 || count == 0 || host + count > 4294967295ULL)
		return nvz_err(err, NVZ_E_VALUE, EINVAL,
			       "invalid value for %s: '%s' (expected HOST:COUNT, HOST > 0)", key, value);
	return 0;
}

/* VE_ROOT/VE_PRIVATE: absolute; in vz.conf they carry a literal $VEID. */
static int v_abspath(const char *key, const char *value, struct nvz_error **err)
{
	if (value[0] != '/')
		return nvz_err(err, NVZ_E_VALUE, EINVAL,
			       "invalid value for %s: '%s' (expected an absolute path)", key, value);
	return 0;
}

/* OpenVZ keys with no per-container switch on mainline Linux (vzctl set
 * saves them, and says so): checked as OpenVZ's vzctl checked them. */

static bool one_of(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && !strncmp(*words, s, n))
			return true;
	return false;
}

/* OpenVZ's features, in the order vzctl wrote them, then nvz's own:
 * nesting (network, UTS and IPC namespaces inside the CT; linux/seccomp.c). */
const char *const nvz_feature_names[] = {
	"sysfs", "nfs", "sit", "ipip", "ppp", "ipgre", "bridge", "nfsd", "nesting", NULL,
};

/* FEATURES "name:on|off ..." (vzctl set --features, comma-separated there). */
static int v_features(const char *key, const char *value, struct nvz_error **err)
{
	const char *const *names = nvz_feature_names;
	static const char *const states[] = { "on", "off", NULL };
	for (const char *p = value; *(p += strspn(p, " ,"));) {
		size_t n = strcspn(p, " ,");
		const char *colon = memchr(p, ':', n);
		if (!colon || !one_of(p, (size_t)(colon - p), names) ||
		    !one_of(colon + 1, n - (size_t)(colon - p) - 1, states))
			return nvz_err(err, NVZ_E_VALUE, EINVAL,
				       "invalid value for %s: '%.*s' (expected NAME:on|off, NAME one of "
				       "sysfs nfs sit ipip ppp ipgre bridge nfsd nesting)", key, (int)n, p);
		p += n;
	}
	return 0;
}

bool nvz_feature_on(const char *features, const char *name)
{
	bool on = false;
	size_t nl = strlen(name);
	/* The last entry of a name wins, as when vzctl merged them. */
	for (const char *p = features ? features : ""; *(p += strspn(p, " ,"));) {
		size_t n = strcspn(p, " ,");
		if (n > nl && p[nl] == ':' && !strncmp(p, name, nl))
			on = n - nl - 1 == 2 && !strncmp(p + nl + 1, "on", 2);
		p += n;
	}
	return on;
}

char *nvz_features_merge(const char *cur, const char *arg, struct nvz_error **err)
{
	if (v_features("FEATURES", arg, err) < 0)
		return NULL;
	enum { N = sizeof(nvz_feature_names) / sizeof(nvz_feature_names[0]) - 1 };
	int state[N]; /* -1 not given, 0 off, 1 on */
	for (size_t i = 0; i < N; i++)
		state[i] = -1;
	cleanup_free char *rest = NULL;
	char *out = NULL;
	size_t rest_len = 0, len = 0;
	FILE *fr = open_memstream(&rest, &rest_len);
	FILE *f = fr ? open_memstream(&out, &len) : NULL;
	if (!f) {
		if (fr)
			fclose(fr);
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	const char *texts[] = { cur ? cur : "", arg };
	for (size_t t = 0; t < 2; t++)
		for (const char *p = texts[t]; *(p += strspn(p, " ,"));) {
			size_t n = strcspn(p, " ,"), i = 0;
			const char *colon = memchr(p, ':', n);
			size_t nl = colon ? (size_t)(colon - p) : n;
			while (i < N && (strlen(nvz_feature_names[i]) != nl || strncmp(nvz_feature_names[i], p, nl)))
				i++;
			if (i < N && colon)
				state[i] = n - nl - 1 == 2 && !strncmp(colon + 1, "on", 2);
			else /* not vzctl's (a config written by hand): kept, last */
				fprintf(fr, " %.*s", (int)n, p);
			p += n;
		}
	fclose(fr);
	for (size_t i = 0; i < N; i++)
		if (state[i] >= 0)
			fprintf(f, " %s:%s", nvz_feature_names[i], state[i] ? "on" : "off");
	fprintf(f, "%s", rest ? rest : "");
	fclose(f);
	/* Each entry was written with a space before it. */
	if (len)
		memmove(out, out + 1, len);
	return out;
}

static int v_netfilter(const char *key, const char *value, struct nvz_error **err)
{
	static const char *const modes[] = { "disabled", "stateless", "stateful", "full", NULL };
	if (one_of(value, strlen(value), modes))
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL,
		       "invalid value for %s: '%s' (expected disabled, stateless, stateful or full)", key, value);
}

/* IPTABLES: netfilter module names (obsolete in OpenVZ already). */
static int v_modules(const char *key, const char *value, struct nvz_error **err)
{
	size_t n = strlen(value);
	if (strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ,") == n)
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: '%s' (expected module names)", key,
		       value);
}

/* vzctl's netfilter modules for --iptables, in the order it wrote them. */
static const char *const ipt_modules[] = {
	"ip_tables",	    "iptable_filter",	"iptable_mangle", "ipt_limit",	   "ipt_multiport", "ipt_tos",
	"ipt_TOS",	    "ipt_REJECT",	"ipt_TCPMSS",	  "ipt_tcpmss",	   "ipt_ttl",	    "ipt_LOG",
	"ipt_length",	    "ip_conntrack",	"ip_conntrack_ftp", "ip_conntrack_irc", "ipt_conntrack", "ipt_state",
	"ipt_helper",	    "iptable_nat",	"ip_nat_ftp",	  "ip_nat_irc",	   "ipt_REDIRECT",  "xt_mac",
	"ipt_recent",	    "ipt_owner",	NULL,
};

char *nvz_iptables_merge(const char *cur, const char *arg, struct nvz_error **err)
{
	bool on[sizeof(ipt_modules) / sizeof(ipt_modules[0])] = { false };
	const char *texts[] = { cur ? cur : "", arg };
	for (size_t t = 0; t < 2; t++)
		for (const char *p = texts[t]; *(p += strspn(p, " \t,"));) {
			size_t n = strcspn(p, " \t,"), i = 0;
			while (ipt_modules[i] && (strlen(ipt_modules[i]) != n || strncmp(ipt_modules[i], p, n)))
				i++;
			if (!ipt_modules[i]) {
				nvz_err(err, NVZ_E_VALUE, EINVAL, "Warning: Unknown iptable module: %.*s, skipped", (int)n,
					p);
				return NULL;
			}
			on[i] = true;
			p += n;
		}
	size_t len = 1;
	for (size_t i = 0; ipt_modules[i]; i++)
		len += on[i] ? strlen(ipt_modules[i]) + 1 : 0;
	char *out = calloc(1, len);
	if (!out) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	size_t at = 0;
	for (size_t i = 0; ipt_modules[i]; i++) {
		if (!on[i])
			continue;
		size_t n = strlen(ipt_modules[i]);
		if (at)
			out[at++] = ' ';
		memcpy(out + at, ipt_modules[i], n);
		at += n;
	}
	return out;
}

/* MEMINFO: none, pages:N or privvmpages:N. */
static int v_meminfo(const char *key, const char *value, struct nvz_error **err)
{
	const char *colon = strchr(value, ':');
	static const char *const modes[] = { "pages", "privvmpages", NULL };
	if (!strcmp(value, "none") ||
	    (colon && one_of(value, (size_t)(colon - value), modes) && colon[1] &&
	     strspn(colon + 1, "0123456789") == strlen(colon + 1)))
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL,
		       "invalid value for %s: '%s' (expected none, pages:N or privvmpages:N)", key, value);
}

static int v_mount_opts(const char *key, const char *value, struct nvz_error **err)
{
	(void)key;
	unsigned long flags;
	char data[512];
	return nvz_mount_opts_parse(value, &flags, data, sizeof(data), err);
}

/* NETDEV: host interface names, space separated. */
static int v_netdev(const char *key, const char *value, struct nvz_error **err)
{
	cleanup_free char *copy = strdup(value);
	char *save = NULL;
	if (!copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (!nvz_ifname_valid(t))
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: '%s' is not an interface name",
				       key, t);
	return 0;
}

/* AVNUMPROC: barrier[:limit], numbers (OpenVZ's vzsplit input). */
static int v_avnumproc(const char *key, const char *value, struct nvz_error **err)
{
	size_t a = strspn(value, "0123456789");
	bool ok = a > 0 && a <= 18 &&
		  (!value[a] || (value[a] == ':' && strspn(value + a + 1, "0123456789") == strlen(value + a + 1) &&
				 value[a + 1] && strlen(value + a + 1) <= 18));
	if (ok)
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: '%s' (expected N or N:N)", key, value);
}

/* VM_OVERCOMMIT: a positive number (1.5). */
static int v_positive(const char *key, const char *value, struct nvz_error **err)
{
	char *end;
	errno = 0;
	double d = strtod(value, &end);
	if (*value && !*end && !errno && d > 0 && d < 1e6)
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: '%s' (expected a positive number)",
		       key, value);
}

/* A template name becomes a file name in the template cache. */
static int v_ostemplate(const char *key, const char *value, struct nvz_error **err)
{
	if (!*value || strchr(value, '/') || strstr(value, ".."))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: '%s' (bad template name)",
			       key, value);
	return 0;
}

static const struct key_row key_table[] = {
	/* vz.conf only (global) */
	{"VIRTUOZZO", v_yesno, GL},
	{"LOCKDIR", v_abspath, GL},
	{"DUMPDIR", v_abspath, GL},
	{"VE0CPUUNITS", NULL, GL},
	{"VE_STOP_MODE", NULL, GL},
	{"VE_PARALLEL", NULL, GL},
	{"LOGGING", v_yesno, GL},
	{"LOGFILE", NULL, GL},
	{"LOG_LEVEL", NULL, GL},
	{"VERBOSE", NULL, GL},
	{"VZFASTBOOT", NULL, GL},
	{"MODULES_DISABLED", NULL, GL},
	{"IPTABLES_MODULES", NULL, GL},
	{"VZWDOG", NULL, GL},
	{"VE_ROUTE_SRC_DEV", NULL, GL},
	{"NEIGHBOUR_DEVS", NULL, GL},
	{"ERROR_ON_ARPFAIL", NULL, GL},
	{"SKIP_ARPDETECT", NULL, GL},
	{"FORCE_ROUTE", NULL, GL},
	{"TEMPLATE", v_abspath, GL},
	{"DEF_OSTEMPLATE", v_ostemplate, GL},
	{"SKIP_SYSCTL_SETUP", NULL, GL},
	{"CONFIG_CUSTOMIZED", NULL, GL | DEP},
	{"IP6TABLES", NULL, GL | DEP},
	{"RUNDIR", v_abspath, GL},    /* nvz: runtime state directory */
	{"CGROUP_PREFIX", NULL, GL},  /* nvz: parent cgroup of containers */
	{"LXCFS_DIR", v_abspath, GL}, /* nvz: where lxcfs serves per-CT /proc views */
	{"START_TIMEOUT", NULL, GL | CT}, /* nvz: seconds vzctl start --wait waits */
	{"CRIU", v_abspath, GL},       /* nvz: the criu binary (scripts/install-criu) */
	{"USERNS", v_yesno, CT},          /* nvz: CT in its own user namespace */
	{"MONITOR_HUB", v_yesno, CT},     /* nvz: "no": a small monitor of its own */
	{"LAZY_RESTORE", v_autoyesno, CT}, /* nvz: restore's memory after it runs */
	{"BRIDGE", NULL, CT},             /* nvz: --netif_add's bridge by default */
	{"TEMPLATE_TREE", NULL, CT},      /* nvz: the shared template below the CT */
	{"USERNS_MAP", v_idmap, CT},      /* nvz: "HOST:COUNT", the CT's ids 0.. on the host */
	{"USERNS_BASE", v_uint, GL},      /* nvz: default maps: BASE + CTID * 65536 */
	/* <CTID>.conf: misc */
	{"NAME", v_name, CT},
	{"DESCRIPTION", NULL, CT},
	{"ONBOOT", v_yesno, CT},
	{"BOOTORDER", v_uint, CT},
	{"OSTEMPLATE", v_ostemplate, CT},
	{"VE_ROOT", v_abspath, CT},
	{"VE_PRIVATE", v_abspath, CT},
	{"MOUNT_OPTS", v_mount_opts, CT},
	{"VE_LAYOUT", NULL, CT},
	{"DISABLED", v_yesno, CT},
	{"ORIGIN_SAMPLE", NULL, CT},
	{"STOP_TIMEOUT", v_uint, CT},
	{"VEID", NULL, CT},
	{"LOCAL_UID", NULL, CT},
	{"LOCAL_GID", NULL, CT},
	{"CONFIGFILE", NULL, CT},
	/* UBC (barrier:limit pairs) */
	{"KMEMSIZE", NULL, CT},
	{"LOCKEDPAGES", NULL, CT},
	{"PRIVVMPAGES", NULL, CT},
	{"SHMPAGES", NULL, CT},
	{"NUMPROC", NULL, CT},
	{"PHYSPAGES", NULL, CT},
	{"VMGUARPAGES", NULL, CT},
	{"OOMGUARPAGES", NULL, CT},
	{"NUMTCPSOCK", NULL, CT},
	{"NUMFLOCK", NULL, CT},
	{"NUMPTY", NULL, CT},
	{"NUMSIGINFO", NULL, CT},
	{"TCPSNDBUF", NULL, CT},
	{"TCPRCVBUF", NULL, CT},
	{"OTHERSOCKBUF", NULL, CT},
	{"DGRAMRCVBUF", NULL, CT},
	{"NUMOTHERSOCK", NULL, CT},
	{"NUMFILE", NULL, CT},
	{"DCACHESIZE", NULL, CT},
	{"DCACHE", NULL, CT},     /* alias of DCACHESIZE */
	{"NUMIPTENT", NULL, CT},
	{"IPTENTRIES", NULL, CT}, /* alias of NUMIPTENT */
	{"AVNUMPROC", v_avnumproc, CT},
	{"SWAPPAGES", NULL, CT},
	{"VM_OVERCOMMIT", v_positive, CT},
	{"MEMINFO", v_meminfo, CT},
	/* CPU and I/O */
	{"CPUUNITS", NULL, CT},
	{"CPUWEIGHT", NULL, CT},
	{"CPULIMIT", NULL, CT},
	{"CPUS", NULL, CT},
	{"CPUMASK", NULL, CT},
	{"NODEMASK", NULL, CT},
	{"IOPRIO", NULL, CT},
	{"IOLIMIT", NULL, CT},
	{"IOPSLIMIT", NULL, CT},
	/* disk */
	{"DISK_QUOTA", v_yesno, CT},
	{"DISKSPACE", NULL, CT},
	{"DISKINODES", NULL, CT},
	{"QUOTATIME", NULL, CT},
	{"QUOTAUGIDLIMIT", v_uint, CT},
	/* network */
	{"IP_ADDRESS", NULL, CT},
	{"HOSTNAME", v_hostname, CT},
	{"NAMESERVER", v_nameserver, CT},
	{"SEARCHDOMAIN", v_searchdomain, CT},
	{"IPV6", NULL, CT},
	{"NETIF", NULL, CT},
	{"NETDEV", v_netdev, CT},
	{"VETH", NULL, CT | DEP},
	/* security and devices; NETFILTER is per-CT only */
	{"CAPABILITY", NULL, CT},
	{"DEVICES", NULL, CT},
	{"DEVNODES", NULL, CT},
	{"PCI", NULL, CT},
	{"FEATURES", v_features, CT},
	{"NETFILTER", v_netfilter, NVZ_KEY_CT},
	{"IPTABLES", v_modules, CT | DEP},
};

static const struct key_row *lookup(const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++)
		if (strcmp(key_table[i].name, key) == 0)
			return &key_table[i];
	return NULL;
}

bool nvz_conf_key_known(const char *key)
{
	return lookup(key) != NULL;
}

unsigned nvz_conf_key_flags(const char *key)
{
	const struct key_row *row = lookup(key);
	return row ? row->flags : 0;
}

int nvz_conf_validate(const char *key, const char *value, struct nvz_error **err)
{
	const struct key_row *row = lookup(key);
	if (!row || !value)
		return 0;
	/* Every value must fit on one KEY="value" line. */
	if (strchr(value, '\n'))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid value for %s: contains a newline",
			       key);
	return row->validate ? row->validate(key, value, err) : 0;
}
