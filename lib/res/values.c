/* Option values that are not beancounters: CPU, IO, plain numbers, and the
 * device access rules of --devnodes / --devices. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/res.h"
#include "res/internal.h"

#define CPULIMIT_MAX (100UL * 1024)  /* % of one CPU: up to 1024 CPUs */
#define IOLIMIT_MAX ((uint64_t)INT_MAX) /* vzctl truncates to INT_MAX (~2 GB/s) */
#define CPU_BITS 8192                /* the largest CONFIG_NR_CPUS */
#define DEV_MAJOR_MAX 4095           /* kernel dev_t: 12-bit major */
#define DEV_MINOR_MAX 1048575        /* 20-bit minor */
#define DEV_MAJOR_LOOP 7

struct cpuset {
	uint64_t bits[CPU_BITS / 64];
};

static bool cpu_isset(const struct cpuset *s, unsigned cpu)
{
	return s->bits[cpu / 64] & (1ULL << (cpu % 64));
}

static void cpu_set(struct cpuset *s, unsigned cpu)
{
	s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

/* Digits only: strtoul() would take signs, spaces and "0x". */
static int parse_ulong(const char *s, const char **end, unsigned long *out)
{
	unsigned long n = 0;
	const char *p = s;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (ULONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (p == s)
		return -1;
	*end = p;
	*out = n;
	return 0;
}

/* "--cpuunits" from "CPUUNITS" for the message. */
static void option_name(const char *key, char *buf, size_t size)
{
	size_t i = 0;
	for (; key && key[i] && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)key[i]);
	buf[i] = '\0';
}

/* vzctl's words for any option value it cannot take. */
static int invalid(struct nvz_error **err, const char *option, const char *text)
{
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad parameter for --%s: %s", option,
		       text ? text : "");
}

int nvz_res_uint_value(const char *key, const char *text, unsigned long min, unsigned long max,
		       unsigned long *out, struct nvz_error **err)
{
	char opt[64];
	const char *end = NULL;
	unsigned long v;
	option_name(key, opt, sizeof(opt));
	if (!text || parse_ulong(text, &end, &v) < 0 || *end != '\0' || v < min || v > max)
		return invalid(err, opt, text);
	*out = v;
	return 0;
}

char *nvz_res_parse_uint(const char *key, const char *text, unsigned long min, unsigned long max,
			 struct nvz_error **err)
{
	unsigned long v;
	char *s = NULL;
	if (nvz_res_uint_value(key, text, min, max, &v, err) < 0)
		return NULL;
	if (asprintf(&s, "%lu", v) < 0) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}

/* "N": per cent of one CPU (a 2-CPU host has 200); "N%": per cent of the
 * whole host, 0 to 100, stored as N times the online CPUs, as vzctl's
 * parse_cpulimit() does. */
int nvz_res_cpulimit_value(const char *text, unsigned long *out, struct nvz_error **err)
{
	const char *end = NULL;
	unsigned long v;
	if (!text || parse_ulong(text, &end, &v) < 0)
		return invalid(err, "cpulimit", text);
	if (*end == '%' && end[1] == '\0') {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (v > 100)
			return invalid(err, "cpulimit", text);
		v *= ncpu > 0 ? (unsigned long)ncpu : 1;
		end++;
	}
	if (*end != '\0' || v > CPULIMIT_MAX)
		return invalid(err, "cpulimit", text);
	*out = v;
	return 0;
}

char *nvz_res_parse_cpulimit(const char *text, struct nvz_error **err)
{
	unsigned long v;
	char *s = NULL;
	if (nvz_res_cpulimit_value(text, &v, err) < 0)
		return NULL;
	if (asprintf(&s, "%lu", v) < 0) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}

/* A cpu list "0-2,7" into set; -1 on bad syntax. */
static int parse_cpu_list(const char *s, struct cpuset *set)
{
	memset(set, 0, sizeof(*set));
	for (;;) {
		const char *end = NULL;
		unsigned long lo, hi;
		if (parse_ulong(s, &end, &lo) < 0)
			return -1;
		hi = lo;
		if (*end == '-' && parse_ulong(end + 1, &end, &hi) < 0)
			return -1;
		if (lo > hi || hi >= CPU_BITS)
			return -1;
		for (unsigned long c = lo; c <= hi; c++)
			cpu_set(set, (unsigned)c);
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

/* A CPU or node list: its option, the sysfs file of what is online, and
 * what one element is called in messages. */
struct mask_kind {
	const char *option, *online, *element;
};
static const struct mask_kind cpu_kind = { "cpumask", "/sys/devices/system/cpu/online", "CPU" };
static const struct mask_kind node_kind = { "nodemask", "/sys/devices/system/node/online", "node" };

/* What this host has online; the kernel refuses the others in cpuset.cpus
 * and cpuset.mems, so refuse them here with a message naming the option.
 * Without the file: the CPUs the C library counts, node 0 (no NUMA). */
static void online_set(const struct mask_kind *k, struct cpuset *set)
{
	char line[4096];
	cleanup_fclose FILE *f = fopen(k->online, "re");
	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (parse_cpu_list(line, set) == 0)
			return;
	}
	memset(set, 0, sizeof(*set));
	long n = k == &cpu_kind ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
	for (long c = 0; c < (n > 0 ? n : 1) && c < CPU_BITS; c++)
		cpu_set(set, (unsigned)c);
}

/* Ranges of set as "0-2,7"; -1 if it does not fit. */
static int format_cpu_list(const struct cpuset *set, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (unsigned c = 0; c < CPU_BITS; c++) {
		if (!cpu_isset(set, c))
			continue;
		unsigned hi = c;
		while (hi + 1 < CPU_BITS && cpu_isset(set, hi + 1))
			hi++;
		int n = hi == c ? snprintf(buf + len, size - len, "%s%u", len ? "," : "", c)
				: snprintf(buf + len, size - len, "%s%u-%u", len ? "," : "", c, hi);
		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += (size_t)n;
		c = hi;
	}
	return 0;
}

static int mask_value(const struct mask_kind *k, const char *text, char *buf, size_t size,
		      struct nvz_error **err)
{
	struct cpuset want, online;
	if (text && strcmp(text, "all") == 0) {
		if (size < 4)
			return invalid(err, k->option, text);
		memcpy(buf, "all", 4);
		return 0;
	}
	if (!text || parse_cpu_list(text, &want) < 0)
		return invalid(err, k->option, text);
	online_set(k, &online);
	for (unsigned c = 0; c < CPU_BITS; c++)
		if (cpu_isset(&want, c) && !cpu_isset(&online, c))
			return nvz_err(err, NVZ_E_VALUE, EINVAL,
				       "Bad parameter for --%s: %s (%s %u is not online)", k->option,
				       text, k->element, c);
	if (format_cpu_list(&want, buf, size) < 0)
		return nvz_err(err, NVZ_E_VALUE, ENOSPC,
			       "Bad parameter for --%s: %s (list too long)", k->option, text);
	return 0;
}

/* "auto" stays "auto": the CPUs of NODEMASK's nodes, found at each apply. */
int nvz_res_cpumask_value(const char *text, char *buf, size_t size, struct nvz_error **err)
{
	if (text && strcmp(text, "auto") == 0 && size >= 5) {
		memcpy(buf, "auto", 5);
		return 0;
	}
	return mask_value(&cpu_kind, text, buf, size, err);
}

int nvz_res_nodemask_value(const char *text, char *buf, size_t size, struct nvz_error **err)
{
	return mask_value(&node_kind, text, buf, size, err);
}

int nvz_res_node_cpus(const char *nodes, char *buf, size_t size, struct nvz_error **err)
{
	struct cpuset want, cpus, online;
	if (parse_cpu_list(nodes, &want) < 0)
		return invalid(err, node_kind.option, nodes);
	online_set(&cpu_kind, &online);
	memset(&cpus, 0, sizeof(cpus));
	for (unsigned n = 0; n < CPU_BITS; n++) {
		if (!cpu_isset(&want, n))
			continue;
		char path[64], line[4096];
		struct cpuset mine;
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", n);
		cleanup_fclose FILE *f = fopen(path, "re");
		if (!f && n == 0 && errno == ENOENT) { /* no NUMA: node 0 has every CPU */
			cpus = online;
			continue;
		}
		if (!f || !fgets(line, sizeof(line), f))
			return nvz_err_sys(err, NVZ_E_VALUE, f ? EIO : errno, "read '%s'", path);
		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue; /* a node with memory but no CPU */
		if (parse_cpu_list(line, &mine) < 0)
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "'%s': unexpected '%s'", path, line);
		for (size_t i = 0; i < CPU_BITS / 64; i++)
			cpus.bits[i] |= mine.bits[i] & online.bits[i];
	}
	bool none = true;
	for (size_t i = 0; i < CPU_BITS / 64; i++)
		none &= !cpus.bits[i];
	if (none)
		return nvz_err(err, NVZ_E_VALUE, EINVAL,
			       "--cpumask auto: NUMA node(s) %s have no CPU online", nodes);
	if (format_cpu_list(&cpus, buf, size) < 0)
		return nvz_err(err, NVZ_E_VALUE, ENOSPC, "--cpumask auto: the CPU list is too long");
	return 0;
}

static char *mask_option(int (*value)(const char *, char *, size_t, struct nvz_error **),
			 const char *text, struct nvz_error **err)
{
	char buf[1024];
	if (value(text, buf, sizeof(buf), err) < 0)
		return NULL;
	char *s = strdup(buf);
	if (!s)
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	return s;
}

char *nvz_res_parse_cpumask(const char *text, struct nvz_error **err)
{
	return mask_option(nvz_res_cpumask_value, text, err);
}

char *nvz_res_parse_nodemask(const char *text, struct nvz_error **err)
{
	return mask_option(nvz_res_nodemask_value, text, err);
}

static uint64_t iolimit_suffix(char c)
{
	switch (c) {
	case 'T': case 't': return 1ULL << 40;
	case 'G': case 'g': return 1ULL << 30;
	case 'M': case 'm': return 1ULL << 20;
	case 'K': case 'k': return 1ULL << 10;
	case 'B': case 'b': return 1;
	}
	return 0;
}

/* Bytes/s; 0 = no limit. Above ~2 GB/s: truncated (a config's value, as
 * vzctl warns and truncates) or, strict, refused (vzctl's command line). */
int nvz_res_iolimit_value(const char *text, uint64_t def_mul, bool strict, uint64_t *out,
			  struct nvz_error **err)
{
	const char *end = NULL;
	unsigned long n;
	if (text && strcmp(text, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	if (!text || parse_ulong(text, &end, &n) < 0)
		return invalid(err, "iolimit", text);
	uint64_t mul = def_mul;
	if (*end != '\0') {
		mul = iolimit_suffix(*end);
		if (!mul || end[1] != '\0')
			return invalid(err, "iolimit", text);
	}
	unsigned __int128 v = (unsigned __int128)n * mul;
	if (strict && v > IOLIMIT_MAX)
		return invalid(err, "iolimit", text);
	*out = v > IOLIMIT_MAX ? IOLIMIT_MAX : (uint64_t)v;
	return 0;
}

char *nvz_res_parse_iolimit(const char *text, struct nvz_error **err)
{
	uint64_t v;
	char *s = NULL;
	if (nvz_res_iolimit_value(text, 1ULL << 20, true, &v, err) < 0)
		return NULL;
	if (asprintf(&s, "%llu", (unsigned long long)v) < 0) {
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		return NULL;
	}
	return s;
}

/* "[r][w][q]" or "none"; q (vzquota management) has no meaning on
 * mainline and is accepted and ignored. Empty = none, as in vzctl. */
static int parse_dev_perm(const char *s, struct nvz_dev_rule *r)
{
	r->read = r->write = r->mknod = false;
	if (strcmp(s, "none") == 0)
		return 0;
	for (; *s; s++) {
		if (*s == 'r')
			r->read = true;
		else if (*s == 'w')
			r->write = true;
		else if (*s != 'q')
			return -1;
	}
	return 0;
}

/* A node name under /dev: relative, no empty, "." or ".." components, and
 * only characters device names use. The name is created inside the CT, so
 * it must never climb out of its /dev. */
static bool devnode_name_ok(const char *name, size_t len)
{
	static const char extra[] = "._-+@=,:/";
	if (len == 0 || len >= sizeof(((struct nvz_dev_rule *)0)->node))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && (c == '\0' || !strchr(extra, c)))
			return false;
	}
	for (const char *p = name, *end = name + len; p <= end;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((slash ? slash : end) - p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			break;
		p = slash + 1;
	}
	return true;
}

int nvz_res_parse_devnode(const char *text, struct nvz_dev_rule *out, struct nvz_error **err)
{
	struct nvz_dev_rule r = {.major = -1, .minor = -1};
	/* "none" alone: no rule (type 0); the caller drops every devnode. */
	if (text && strcmp(text, "none") == 0) {
		*out = r;
		return 0;
	}
	const char *colon = text ? strrchr(text, ':') : NULL;
	if (!colon || !devnode_name_ok(text, (size_t)(colon - text)) ||
	    parse_dev_perm(colon + 1, &r) < 0)
		return invalid(err, "devnodes", text);
	memcpy(r.node, text, (size_t)(colon - text));
	r.node[colon - text] = '\0';

	char path[80];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/%s", r.node);
	if (stat(path, &st) < 0)
		return nvz_err_sys(err, NVZ_E_DEVICES, errno, "Incorrect device name %s", path);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return nvz_err(err, NVZ_E_DEVICES, ENODEV,
			       "The %s is not block or character device", path);
	/* vzctl refuses loop devices: with one a CT can mount any image it
	 * writes, and the kernel's filesystem parsers are not hardened. */
	if (major(st.st_rdev) == DEV_MAJOR_LOOP)
		return nvz_err(err, NVZ_E_DEVICES, EPERM,
			       "Device %s is not allowed to be assigned to a CT", r.node);
	r.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
	r.major = (long)major(st.st_rdev);
	r.minor = (long)minor(st.st_rdev);
	*out = r;
	return 0;
}

/* One ':'-separated field of text into buf; -1 if too long or missing. */
static int next_field(const char **s, char *buf, size_t size)
{
	if (!*s)
		return -1;
	const char *colon = strchr(*s, ':');
	size_t n = colon ? (size_t)(colon - *s) : strlen(*s);
	if (n >= size)
		return -1;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	*s = colon ? colon + 1 : NULL;
	return 0;
}

static int parse_dev_number(const char *s, long max, long *out)
{
	const char *end = NULL;
	unsigned long v;
	if (parse_ulong(s, &end, &v) < 0 || *end != '\0' || v > (unsigned long)max)
		return -1;
	*out = (long)v;
	return 0;
}

/* "b|c:major:minor|all:[r][w][q]" (vzctl man page; "all" is any minor of
 * that major, "*" is taken as a synonym) or "none". */
int nvz_res_parse_device(const char *text, struct nvz_dev_rule *out, struct nvz_error **err)
{
	struct nvz_dev_rule r = {.major = -1, .minor = -1};
	char type[2], maj[16], min[16], perm[8];
	const char *p = text;
	if (text && strcmp(text, "none") == 0) {
		*out = r;
		return 0;
	}
	if (next_field(&p, type, sizeof(type)) < 0 || next_field(&p, maj, sizeof(maj)) < 0 ||
	    next_field(&p, min, sizeof(min)) < 0 || next_field(&p, perm, sizeof(perm)) < 0 ||
	    p != NULL || perm[0] == '\0')
		return invalid(err, "devices", text);
	if ((strcmp(type, "b") && strcmp(type, "c")) ||
	    parse_dev_number(maj, DEV_MAJOR_MAX, &r.major) < 0 ||
	    (strcmp(min, "all") && strcmp(min, "*") &&
	     parse_dev_number(min, DEV_MINOR_MAX, &r.minor) < 0) ||
	    parse_dev_perm(perm, &r) < 0)
		return invalid(err, "devices", text);
	if (r.major == DEV_MAJOR_LOOP)
		return nvz_err(err, NVZ_E_DEVICES, EPERM,
			       "Device %s is not allowed to be assigned to a CT", text);
	r.type = type[0];
	*out = r;
	return 0;
}
