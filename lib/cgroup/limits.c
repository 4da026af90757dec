/* Resource limits: each backend turns struct nvz_res_limits into a plan of
 * file writes, every old value read first; the plan is then written in
 * order and undone in reverse on the first failure, so nothing is left
 * half-applied. A cgroup made by this start holds the kernel's defaults,
 * which need no reading, and a limit left at its default no writing. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"

#define CFS_PERIOD_US 100000ULL
#define SHARES_MIN 2U
#define SHARES_MAX 262144U
/* v1 shows "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 bytes
 * with 4 KiB pages); anything this large is no limit at all. */
#define LIMIT_HUGE (1ULL << 62)

/* ---- the transaction ---------------------------------------------------- */

static void write_clear(struct nvz_cg_write *w)
{
	free(w->path);
	free(w->value);
	free(w->old);
	free(w->what);
}

void nvz_cg_plan_free(struct nvz_cg_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		write_clear(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* The file's value without its final newline. */
static int read_value(const char *path, char **out, struct nvz_error **err)
{
	int len = nvz_cg_read_file(path, out, err);
	if (len < 0)
		return len;
	if (len > 0 && (*out)[len - 1] == '\n')
		(*out)[len - 1] = '\0';
	return 0;
}

/* What a file holds in a cgroup just made, written as the plan writes it
 * (v1's "-1" reads back as PAGE_COUNTER_MAX); NULL where it depends on
 * more than the file (cpuset.cpus, per-device files). */
static const char *fresh_value(const char *path)
{
	static const struct {
		const char *file, *value;
	} v[] = {
		{ "memory.limit_in_bytes", "-1" }, { "memory.memsw.limit_in_bytes", "-1" },
		{ "memory.kmem.tcp.limit_in_bytes", "-1" }, { "pids.max", "max" },
		{ "cpu.shares", "1024" }, { "cpu.cfs_period_us", "100000" }, { "cpu.cfs_quota_us", "-1" },
		{ "memory.max", "max" }, { "memory.swap.max", "max" }, { "cpu.weight", "100" },
		{ "cpu.max", "max 100000" },
	};
	const char *slash = strrchr(path, '/'), *file = slash ? slash + 1 : path;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(file, v[i].file) == 0)
			return v[i].value;
	return NULL;
}

int nvz_cg_plan_add(struct nvz_cg_plan *p, const struct nvz_cg_step *s, struct nvz_error **err)
{
	struct nvz_cg_write w = { .status = s->status, .usage = s->usage, .bytes = s->bytes };
	const char *fresh = p->fresh && !s->old ? fresh_value(s->path) : NULL;
	if (fresh && strcmp(fresh, s->value) == 0)
		return 0; /* the default: nothing to write */
	if (fresh)
		w.old = strdup(fresh);
	else if (s->old)
		w.old = strdup(s->old);
	else if (read_value(s->path, &w.old, err) < 0)
		return -EIO;
	w.path = strdup(s->path);
	w.value = strdup(s->value);
	w.what = strdup(s->what);
	struct nvz_cg_write *nv = NULL;
	if (w.old && w.path && w.value && w.what)
		nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
	if (!nv) {
		write_clear(&w);
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set limits: out of memory");
	}
	p->v = nv;
	p->v[p->n++] = w;
	return 0;
}

static int write_failed(const struct nvz_cg_write *w, int code, struct nvz_error **err)
{
	const char *unit = w->bytes && isdigit((unsigned char)w->value[0]) ? " bytes" : "";
	if (code == EBUSY && w->usage)
		return nvz_err(err, w->status, code,
			       "unable to set %s to %s%s: the container uses more (%s)", w->what,
			       w->value, unit, strerror(code));
	return nvz_err_sys(err, w->status, code, "unable to set %s to %s%s (%s)", w->what,
			   *w->value ? w->value : "\"\"", unit, w->path);
}

int nvz_cg_plan_apply(struct nvz_cg_plan *p, struct nvz_error **err)
{
	size_t done = 0;
	int r = 0;
	for (; done < p->n; done++) {
		const struct nvz_cg_write *w = &p->v[done];
		if (strcmp(w->value, w->old) == 0)
			continue;
		struct nvz_error *e = NULL;
		if (nvz_cg_write_file(w->path, w->value, &e) < 0) {
			r = write_failed(w, e->code, err);
			nvz_error_free(e);
			break;
		}
	}
	if (r == 0)
		return 0;
	/* Reverse order passes through the same intermediate states the
	 * forward writes did, which the kernel already accepted. */
	while (done-- > 0) {
		const struct nvz_cg_write *w = &p->v[done];
		if (strcmp(w->value, w->old) != 0)
			(void)nvz_cg_write_file(w->path, w->old, NULL);
	}
	return r;
}

/* ---- helpers shared by both versions ------------------------------------ */

static uint64_t limit_of(uint64_t v)
{
	/* 0 is "not set" for these: no limit rather than nothing allowed. */
	return v == 0 || v >= LIMIT_HUGE ? NVZ_UNLIMITED : v;
}

static void fmt_limit(char buf[32], uint64_t v, const char *unlimited)
{
	if (v == NVZ_UNLIMITED)
		snprintf(buf, 32, "%s", unlimited);
	else
		snprintf(buf, 32, "%llu", (unsigned long long)v);
}

/* <dir of controller>/<file>; NULL with *err set. */
static char *cg_path(const struct nvz_cgroup *cg, const char *ctrl, const char *file,
		     struct nvz_error **err)
{
	const struct nvz_cg_hier *h = NULL;
	if (cg->ops->file_hier(cg, ctrl, file, &h, err) < 0)
		return NULL;
	char *p = nvz_cg_join(h->path, file);
	if (!p)
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set limits: out of memory");
	return p;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* usage: a memory limit in bytes, which the kernel may refuse with EBUSY. */
static int add(struct nvz_cg_plan *p, const struct nvz_cgroup *cg, const char *ctrl,
	       const char *file, const char *value, const char *what, int status, bool usage,
	       struct nvz_error **err)
{
	cleanup_free char *path = cg_path(cg, ctrl, file, err);
	if (!path)
		return -ENOENT;
	struct nvz_cg_step s = { path, value, NULL, what, status, usage, usage };
	return nvz_cg_plan_add(p, &s, err);
}

static int no_controller(const char *ctrl, const char *what, int status, struct nvz_error **err)
{
	return nvz_err(err, status, EOPNOTSUPP,
		       "%s need the '%s' cgroup controller, which is not available on this host",
		       what, ctrl);
}

static int no_swap_accounting(struct nvz_error **err)
{
	return nvz_err(err, NVZ_E_SETUBC, EOPNOTSUPP,
		       "swap accounting is not enabled on this kernel (swapaccount=1)");
}

/* OpenVZ: 1000 units are the default share, 1024; 0 means not set. */
static unsigned cpu_shares(unsigned units)
{
	unsigned long long s = (unsigned long long)(units ? units : 1000) * 1024 / 1000;
	return s < SHARES_MIN ? SHARES_MIN : s > SHARES_MAX ? SHARES_MAX : (unsigned)s;
}

/* The shares-to-weight mapping systemd and crun use: 2..262144 -> 1..10000. */
static unsigned cpu_weight(unsigned units)
{
	unsigned long long w = 1 + ((unsigned long long)(cpu_shares(units) - 2) * 9999) / 262142;
	return w < 1 ? 1 : w > 10000 ? 10000 : (unsigned)w;
}

/* CFS quota in microseconds per CFS_PERIOD_US, 0 for none: CPULIMIT in % of
 * one CPU, capped by CPUS (which alone also limits). */
static unsigned long long cfs_quota(const struct nvz_res_limits *l)
{
	unsigned long long pct = l->cpu_limit_pct, cap = (unsigned long long)l->cpus * 100;
	if (l->cpus && (!pct || pct > cap))
		pct = cap;
	return pct * CFS_PERIOD_US / 100;
}

static bool cpu_default(const struct nvz_res_limits *l)
{
	return (l->cpu_units == 0 || l->cpu_units == 1000) && cfs_quota(l) == 0;
}

static bool cpumask_all(const char *m)
{
	return !*m || strcmp(m, "all") == 0;
}

static bool skip_blockdev(const char *name)
{
	/* Loop and RAM disks are backed by something else the CT already pays for. */
	static const char *const pfx[] = { "loop", "ram", "zram" };
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (strncmp(name, pfx[i], strlen(pfx[i])) == 0)
			return true;
	return name[0] == '.';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "MAJ:MIN" of every whole disk in /sys/block (loop/ram excluded). IO limits
 * go to all of them: the device under VE_ROOT is not known at this level
 * and throttling a disk the CT never touches costs nothing. */
static int block_devices(char ***out, struct nvz_error **err)
{
	cleanup_dir DIR *d = opendir("/sys/block");
	if (!d)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "list '/sys/block'");
	cleanup_strv char **v = calloc(1, sizeof(*v));
	size_t n = 0;
	for (struct dirent *de; v && (de = readdir(d));) {
		if (skip_blockdev(de->d_name))
			continue;
		char path[300];
		cleanup_free char *dev = NULL;
		snprintf(path, sizeof(path), "/sys/block/%s/dev", de->d_name);
		if (read_value(path, &dev, NULL) < 0 || !strchr(dev, ':'))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "list block devices: out of memory");
		v = nv;
		v[n++] = steal_ptr(&dev);
		v[n] = NULL;
	}
	if (!v)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "list block devices: out of memory");
	qsort(v, n, sizeof(*v), cmp_str);
	*out = steal_ptr(&v);
	return 0;
}

/* The line of a per-device file ("8:0 1048576", "8:0 rbps=...") for dev. */
static const char *dev_line(char *text, const char *dev, size_t *len)
{
	size_t dl = strlen(dev);
	for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, dev, dl) == 0 && p[dl] == ' ') {
			*len = strcspn(p, "\n");
			return p;
		}
	}
	return NULL;
}

static int add_pids(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		    const struct nvz_res_limits *l, struct nvz_error **err)
{
	uint64_t pids = limit_of(l->pids);
	if (!nvz_cg_has_controller(cg, "pids"))
		return pids == NVZ_UNLIMITED ? 0 : no_controller("pids", "process limits", NVZ_E_SETUBC, err);
	char val[32];
	fmt_limit(val, pids, "max");
	return add(p, cg, "pids", "pids.max", val, "process limit", NVZ_E_SETUBC, false, err);
}

/* path's parent cgroup's file named effective, into *val. */
static int read_parent_file(const char *path, const char *effective, char **val,
			    struct nvz_error **err)
{
	cleanup_free char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!slash)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set limits: out of memory");
	*slash = '\0';
	cleanup_free char *parent = nvz_cg_join(dir, "..");
	cleanup_free char *file = parent ? nvz_cg_join(parent, effective) : NULL;
	if (!file)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set limits: out of memory");
	return read_value(file, val, err) < 0 ? -EIO : 0;
}

/* One cpuset list (cpuset.cpus or cpuset.mems); "all" is the parent's
 * effective list. On v2 an empty list inherits the parent's, but the
 * kernel refuses to empty a populated cpuset (ENOSPC): empty stays empty,
 * a list goes back to the parent's. */
static int add_cpuset_list(struct nvz_cg_plan *p, const struct nvz_cgroup *cg, const char *list,
			   const char *file, const char *effective, bool v1, const char *what,
			   struct nvz_error **err)
{
	cleanup_free char *path = cg_path(cg, "cpuset", file, err);
	if (!path)
		return -ENOENT;
	cleanup_free char *val = NULL;
	if (!cpumask_all(list)) {
		val = strdup(list);
	} else if (!v1) {
		cleanup_free char *now = NULL;
		if (read_value(path, &now, NULL) < 0 || !*now)
			val = strdup("");
		else if (read_parent_file(path, effective, &val, err) < 0)
			return -EIO;
	} else if (read_parent_file(path, effective, &val, err) < 0) {
		return -EIO;
	}
	if (!val)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "set limits: out of memory");
	return add(p, cg, "cpuset", file, val, what, NVZ_E_SYSTEM, false, err);
}

/* CPUMASK and NODEMASK. */
static int add_cpuset(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		      const struct nvz_res_limits *l, bool v1, struct nvz_error **err)
{
	if (!nvz_cg_has_controller(cg, "cpuset"))
		return cpumask_all(l->cpumask) && cpumask_all(l->nodemask)
			       ? 0
			       : no_controller("cpuset", "CPU and NUMA node masks", NVZ_E_SYSTEM, err);
	if (add_cpuset_list(p, cg, l->cpumask, "cpuset.cpus",
			    v1 ? "cpuset.effective_cpus" : "cpuset.cpus.effective", v1, "CPU mask",
			    err) < 0)
		return -EIO;
	return add_cpuset_list(p, cg, l->nodemask, "cpuset.mems",
			       v1 ? "cpuset.effective_mems" : "cpuset.mems.effective", v1,
			       "NUMA node mask", err);
}

/* ---- v1 ----------------------------------------------------------------- */

static int read_limit(const char *path, uint64_t *out, struct nvz_error **err)
{
	cleanup_free char *s = NULL;
	if (read_value(path, &s, err) < 0)
		return -EIO;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	*out = errno || end == s ? NVZ_UNLIMITED : limit_of(v);
	return 0;
}

/* memory+swap >= memory at every step or the kernel refuses (EINVAL):
 * raising the memory limit, memsw goes first; lowering it, memory does. */
static int v1_memory(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		     const struct nvz_res_limits *l, struct nvz_error **err)
{
	uint64_t mem = limit_of(l->mem_bytes), sw = limit_of(l->memsw_bytes);
	uint64_t tcp = limit_of(l->tcp_bytes);
	if (!nvz_cg_has_controller(cg, "memory")) {
		bool none = mem == NVZ_UNLIMITED && sw == NVZ_UNLIMITED && tcp == NVZ_UNLIMITED;
		return none ? 0 : no_controller("memory", "memory limits", NVZ_E_SETUBC, err);
	}
	cleanup_free char *mem_path = cg_path(cg, "memory", "memory.limit_in_bytes", err);
	cleanup_free char *sw_path = cg_path(cg, "memory", "memory.memsw.limit_in_bytes", err);
	cleanup_free char *tcp_path = cg_path(cg, "memory", "memory.kmem.tcp.limit_in_bytes", err);
	if (!mem_path || !sw_path || !tcp_path)
		return -ENOENT;
	bool has_sw = exists(sw_path);
	if (!has_sw && sw != NVZ_UNLIMITED)
		return no_swap_accounting(err);
	if (!exists(tcp_path) && tcp != NVZ_UNLIMITED)
		return nvz_err(err, NVZ_E_SETUBC, EOPNOTSUPP,
			       "TCP buffer limits are not supported by this kernel");
	uint64_t cur = NVZ_UNLIMITED;
	if (!p->fresh && read_limit(mem_path, &cur, err) < 0)
		return -EIO;
	char mv[32], sv[32], tv[32];
	fmt_limit(mv, mem, "-1");
	fmt_limit(sv, sw, "-1");
	fmt_limit(tv, tcp, "-1");
	struct nvz_cg_step ms = { mem_path, mv, NULL, "memory limit", NVZ_E_SETUBC, true, true };
	struct nvz_cg_step ss = { sw_path, sv, NULL, "memory+swap limit", NVZ_E_SETUBC, true, true };
	struct nvz_cg_step ts = { tcp_path, tv, NULL, "TCP buffer limit", NVZ_E_SETUBC, true, true };
	bool raising = mem > cur;
	int r = 0;
	if (has_sw && raising)
		r = nvz_cg_plan_add(p, &ss, err);
	if (r == 0)
		r = nvz_cg_plan_add(p, &ms, err);
	if (r == 0 && has_sw && !raising)
		r = nvz_cg_plan_add(p, &ss, err);
	if (r == 0 && exists(tcp_path))
		r = nvz_cg_plan_add(p, &ts, err);
	return r;
}

static int v1_cpu(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		  const struct nvz_res_limits *l, struct nvz_error **err)
{
	if (!nvz_cg_has_controller(cg, "cpu"))
		return cpu_default(l) ? 0 : no_controller("cpu", "CPU limits", NVZ_E_SYSTEM, err);
	char shares[32], period[32], quota[32];
	unsigned long long q = cfs_quota(l);
	snprintf(shares, sizeof(shares), "%u", cpu_shares(l->cpu_units));
	snprintf(period, sizeof(period), "%llu", CFS_PERIOD_US);
	if (q)
		snprintf(quota, sizeof(quota), "%llu", q);
	else
		snprintf(quota, sizeof(quota), "-1");
	int r = add(p, cg, "cpu", "cpu.shares", shares, "CPU units", NVZ_E_SYSTEM, false, err);
	/* The period first: a quota is checked against the period in place. */
	if (r == 0)
		r = add(p, cg, "cpu", "cpu.cfs_period_us", period, "CPU period", NVZ_E_SYSTEM, false, err);
	if (r == 0)
		r = add(p, cg, "cpu", "cpu.cfs_quota_us", quota, "CPU limit", NVZ_E_SYSTEM, false, err);
	return r;
}

/* One blkio.throttle file for every disk: "MAJ:MIN value", 0 removes. */
static int v1_blkio_file(struct nvz_cg_plan *p, const struct nvz_cgroup *cg, char **devs,
			 const char *file, uint64_t val, const char *what, struct nvz_error **err)
{
	cleanup_free char *path = cg_path(cg, "blkio", file, err);
	cleanup_free char *cur = NULL;
	if (!path || read_value(path, &cur, err) < 0)
		return -EIO;
	for (char **d = devs; *d; d++) {
		char value[96], old[96];
		size_t len = 0;
		const char *line = dev_line(cur, *d, &len);
		snprintf(value, sizeof(value), "%s %llu", *d, (unsigned long long)val);
		if (line)
			snprintf(old, sizeof(old), "%.*s", (int)len, line);
		else
			snprintf(old, sizeof(old), "%s 0", *d);
		struct nvz_cg_step s = { path, value, old, what, NVZ_E_SYSTEM, false, false };
		if (nvz_cg_plan_add(p, &s, err) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int v1_blkio(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		    const struct nvz_res_limits *l, struct nvz_error **err)
{
	if (!nvz_cg_has_controller(cg, "blkio"))
		return l->io_bps || l->io_iops ? no_controller("blkio", "IO limits", NVZ_E_SYSTEM, err) : 0;
	if (p->fresh && !l->io_bps && !l->io_iops)
		return 0; /* no rule for any disk yet, none wanted */
	cleanup_strv char **devs = NULL;
	if (block_devices(&devs, err) < 0)
		return -EIO;
	static const struct {
		const char *file, *what;
		bool iops;
	} files[] = {
		{ "blkio.throttle.read_bps_device", "IO read limit", false },
		{ "blkio.throttle.write_bps_device", "IO write limit", false },
		{ "blkio.throttle.read_iops_device", "IO read operations limit", true },
		{ "blkio.throttle.write_iops_device", "IO write operations limit", true },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		uint64_t v = files[i].iops ? l->io_iops : l->io_bps;
		if (v1_blkio_file(p, cg, devs, files[i].file, v, files[i].what, err) < 0)
			return -EIO;
	}
	return 0;
}

/* IOPRIO has no cgroup v1 file (blkio.weight is CFQ's and gone): the start
 * and exec paths set the IO priority of the CT's init instead. */
int nvz_cg_v1_plan_limits(const struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			  struct nvz_cg_plan *plan, struct nvz_error **err)
{
	if (v1_memory(plan, cg, l, err) < 0 || add_pids(plan, cg, l, err) < 0 ||
	    v1_cpu(plan, cg, l, err) < 0 || add_cpuset(plan, cg, l, true, err) < 0 ||
	    v1_blkio(plan, cg, l, err) < 0)
		return -1;
	return 0;
}

/* kmem.limit_in_bytes is deprecated: 6.x kernels accept writes and ignore
 * them, so KMEMSIZE is never enforced. */
bool nvz_cg_v1_enforces(const struct nvz_cgroup *cg, enum nvz_ubc_id id)
{
	const char *file = NULL;
	switch (id) {
	case UBC_PHYSPAGES:
		file = "memory.limit_in_bytes";
		break;
	case UBC_SWAPPAGES:
		file = "memory.memsw.limit_in_bytes";
		break;
	case UBC_TCPSNDBUF:
	case UBC_TCPRCVBUF:
		file = "memory.kmem.tcp.limit_in_bytes";
		break;
	case UBC_NUMPROC:
		return nvz_cg_has_controller(cg, "pids");
	default:
		return false;
	}
	if (!nvz_cg_has_controller(cg, "memory"))
		return false;
	/* Per-kernel files: the hierarchy's root has them whenever a child does. */
	const struct nvz_cg_hier *h = NULL;
	if (cg->ops->file_hier(cg, "memory", file, &h, NULL) < 0)
		return false;
	cleanup_free char *path = nvz_cg_join(h->mnt, file);
	return path && exists(path);
}

/* ---- v2 ----------------------------------------------------------------- */

/* memory.swap.max is swap alone: memory+swap minus memory. Socket buffers
 * are charged to memory.max, there is no separate TCP limit to set. */
static int v2_memory(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		     const struct nvz_res_limits *l, struct nvz_error **err)
{
	uint64_t mem = limit_of(l->mem_bytes), sw = limit_of(l->memsw_bytes);
	if (!nvz_cg_has_controller(cg, "memory")) {
		bool none = mem == NVZ_UNLIMITED && sw == NVZ_UNLIMITED;
		return none ? 0 : no_controller("memory", "memory limits", NVZ_E_SETUBC, err);
	}
	cleanup_free char *sw_path = cg_path(cg, "memory", "memory.swap.max", err);
	if (!sw_path)
		return -ENOENT;
	bool has_sw = exists(sw_path);
	if (!has_sw && sw != NVZ_UNLIMITED)
		return no_swap_accounting(err);
	/* v1 refuses a limit below the usage (EBUSY); v2 accepts it and then
	 * reclaims or OOM-kills. Refuse it here as v1 does, so that a typo
	 * in --ram does not kill the CT. */
	cleanup_free char *cur = NULL;
	if (mem != NVZ_UNLIMITED && nvz_cgroup_exists(cg) &&
	    nvz_cgroup_read(cg, "memory", "memory.current", &cur, NULL) == 0 &&
	    strtoull(cur, NULL, 10) > mem)
		return nvz_err(err, NVZ_E_SETUBC, EBUSY,
			       "unable to set memory limit to %llu bytes: the container uses more (%s bytes)",
			       (unsigned long long)mem, cur);
	char mv[32], sv[32];
	fmt_limit(mv, mem, "max");
	fmt_limit(sv, sw == NVZ_UNLIMITED ? sw : sw - mem, "max");
	int r = add(p, cg, "memory", "memory.max", mv, "memory limit", NVZ_E_SETUBC, true, err);
	if (r == 0 && has_sw)
		r = add(p, cg, "memory", "memory.swap.max", sv, "swap limit", NVZ_E_SETUBC, true, err);
	return r;
}

static int v2_cpu(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		  const struct nvz_res_limits *l, struct nvz_error **err)
{
	if (!nvz_cg_has_controller(cg, "cpu"))
		return cpu_default(l) ? 0 : no_controller("cpu", "CPU limits", NVZ_E_SYSTEM, err);
	char weight[32], max[64];
	unsigned long long q = cfs_quota(l);
	snprintf(weight, sizeof(weight), "%u", cpu_weight(l->cpu_units));
	if (q)
		snprintf(max, sizeof(max), "%llu %llu", q, CFS_PERIOD_US);
	else
		snprintf(max, sizeof(max), "max %llu", CFS_PERIOD_US);
	int r = add(p, cg, "cpu", "cpu.weight", weight, "CPU units", NVZ_E_SYSTEM, false, err);
	if (r == 0)
		r = add(p, cg, "cpu", "cpu.max", max, "CPU limit", NVZ_E_SYSTEM, false, err);
	return r;
}

static void fmt_io(char buf[32], uint64_t v)
{
	fmt_limit(buf, v ? v : NVZ_UNLIMITED, "max");
}

static int v2_io(struct nvz_cg_plan *p, const struct nvz_cgroup *cg,
		 const struct nvz_res_limits *l, struct nvz_error **err)
{
	if (!nvz_cg_has_controller(cg, "io"))
		return l->io_bps || l->io_iops ? no_controller("io", "IO limits", NVZ_E_SYSTEM, err) : 0;
	if (p->fresh && !l->io_bps && !l->io_iops)
		return 0; /* no rule for any disk yet, none wanted */
	cleanup_strv char **devs = NULL;
	cleanup_free char *path = cg_path(cg, "io", "io.max", err);
	cleanup_free char *cur = NULL;
	if (!path || read_value(path, &cur, err) < 0 || block_devices(&devs, err) < 0)
		return -EIO;
	char bps[32], iops[32];
	fmt_io(bps, l->io_bps);
	fmt_io(iops, l->io_iops);
	for (char **d = devs; *d; d++) {
		char value[192], old[192];
		size_t len = 0;
		const char *line = dev_line(cur, *d, &len);
		snprintf(value, sizeof(value), "%s rbps=%s wbps=%s riops=%s wiops=%s", *d, bps, bps,
			 iops, iops);
		if (line)
			snprintf(old, sizeof(old), "%.*s", (int)len, line);
		else
			snprintf(old, sizeof(old), "%s rbps=max wbps=max riops=max wiops=max", *d);
		struct nvz_cg_step s = { path, value, old, "IO limit", NVZ_E_SYSTEM, false, false };
		if (nvz_cg_plan_add(p, &s, err) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* IOPRIO: io.weight needs the BFQ scheduler's io.bfq.weight to matter; as on
 * v1, the start and exec paths set the IO priority of the CT's init. */
int nvz_cg_v2_plan_limits(const struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			  struct nvz_cg_plan *plan, struct nvz_error **err)
{
	if (v2_memory(plan, cg, l, err) < 0 || add_pids(plan, cg, l, err) < 0 ||
	    v2_cpu(plan, cg, l, err) < 0 || add_cpuset(plan, cg, l, false, err) < 0 ||
	    v2_io(plan, cg, l, err) < 0)
		return -1;
	return 0;
}

bool nvz_cg_v2_enforces(const struct nvz_cgroup *cg, enum nvz_ubc_id id)
{
	switch (id) {
	case UBC_PHYSPAGES:
		return nvz_cg_has_controller(cg, "memory");
	case UBC_SWAPPAGES: {
		/* memory.swap.* exist only where swap is accounted. */
		cleanup_free char *path = nvz_cg_join(cg->hier[0].path, "memory.swap.max");
		if (!nvz_cg_has_controller(cg, "memory") || !path)
			return false;
		return !exists(cg->hier[0].path) || exists(path);
	}
	case UBC_NUMPROC:
		return nvz_cg_has_controller(cg, "pids");
	default:
		return false;
	}
}

/* ---- the public API ----------------------------------------------------- */

bool nvz_cgroup_has_controller(const struct nvz_cgroup *cg, const char *controller)
{
	return cg->ops->has_controller(cg, controller);
}

bool nvz_cgroup_enforces(const struct nvz_cgroup *cg, enum nvz_ubc_id id)
{
	return (unsigned)id < UBC_COUNT && cg->ops->enforces(cg, id);
}

int nvz_cgroup_set_limits(struct nvz_cgroup *cg, const struct nvz_res_limits *l,
			  struct nvz_error **err)
{
	uint64_t mem = limit_of(l->mem_bytes), sw = limit_of(l->memsw_bytes);
	if (sw < mem)
		return nvz_err(err, NVZ_E_SETUBC, EINVAL,
			       "set limits of cgroup %s/%s: memory+swap limit %llu is below the "
			       "memory limit %llu", cg->prefix, cg->name, (unsigned long long)sw,
			       (unsigned long long)mem);
	struct nvz_cg_plan plan = { .fresh = cg->fresh };
	int r = cg->ops->plan_limits(cg, l, &plan, err);
	if (r == 0)
		r = nvz_cg_plan_apply(&plan, err);
	nvz_cg_plan_free(&plan);
	cg->fresh = false;
	if (r < 0)
		return nvz_err_wrap(err, "set limits of cgroup %s/%s", cg->prefix, cg->name);
	return 0;
}
