/* Live counters for the beancounter view (/proc/user_beancounters, vzubc):
 * held, maxheld, limit and failcnt of the parameters a memory, pids or TCP
 * cgroup counter stands for, and held alone of those memory.stat counts.
 * Pages are 4 KiB pages, as OpenVZ's were. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"

#define UBC_PAGE 4096ULL
/* v1 prints "no limit" as 9223372036854771712 (PAGE_COUNTER_MAX pages). */
#define LIMIT_HUGE (1ULL << 62)

/* A number, "max", or the value of "key N" in a flat-keyed file. */
static bool parse_value(const char *text, const char *key, uint64_t *out)
{
	const char *p = text;
	if (key) {
		size_t kl = strlen(key);
		for (p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
				break;
		if (!p)
			return false;
		p += kl + 1;
	}
	if (strncmp(p, "max", 3) == 0) {
		*out = NVZ_UNLIMITED;
		return true;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return false;
	*out = v >= LIMIT_HUGE ? NVZ_UNLIMITED : v;
	return true;
}

/* A missing file is a counter this kernel does not have: false, no error. */
static bool get(const char *dir, const char *file, const char *key, uint64_t *out)
{
	cleanup_free char *path = nvz_cg_join(dir, file);
	cleanup_free char *text = NULL;
	if (!path || nvz_cg_read_file(path, &text, NULL) < 0)
		return false;
	return parse_value(text, key, out);
}

static uint64_t to_pages(uint64_t bytes)
{
	return bytes == NVZ_UNLIMITED ? bytes : bytes / UBC_PAGE;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	if (a == NVZ_UNLIMITED)
		return a;
	return a > b ? a - b : 0;
}

/* The four files of one counter; peak may be missing (maxheld = held). */
struct files {
	const char *held, *peak, *limit, *fail, *fail_key;
};

static bool read_counter(const char *dir, const struct files *f, bool pages,
			 struct nvz_cgroup_counter *c)
{
	struct nvz_cgroup_counter v = { 0 };
	if (!get(dir, f->held, NULL, &v.held) || !get(dir, f->limit, NULL, &v.limit))
		return false;
	if (!f->peak || !get(dir, f->peak, NULL, &v.maxheld))
		v.maxheld = v.held;
	if (f->fail && !get(dir, f->fail, f->fail_key, &v.failcnt))
		v.failcnt = 0;
	if (pages) {
		v.held = to_pages(v.held);
		v.maxheld = to_pages(v.maxheld);
		v.limit = to_pages(v.limit);
	}
	v.valid = true;
	*c = v;
	return true;
}

static const char *ctrl_dir(const struct nvz_cgroup *cg, const char *ctrl, const char *file)
{
	const struct nvz_cg_hier *h = NULL;
	if (!nvz_cg_has_controller(cg, ctrl) || cg->ops->file_hier(cg, ctrl, file, &h, NULL) < 0)
		return NULL;
	return h->path;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Parameters the kernel counts in memory.stat (bytes, hierarchical) but
 * neither limits nor keeps a peak of: held only, maxheld what is held now.
 * One read of the file for all of them: on v2 each read flushes the
 * cgroup's statistics. */
struct stat_field {
	enum nvz_ubc_id id;
	const char *key;
	bool pages;
};

static void held_from_stat(const char *dir, const struct stat_field *f, size_t n,
			   struct nvz_cgroup_counter *out)
{
	cleanup_free char *path = nvz_cg_join(dir, "memory.stat");
	cleanup_free char *text = NULL;
	if (!path || nvz_cg_read_file(path, &text, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (!parse_value(text, f[i].key, &v))
			continue;
		if (f[i].pages)
			v = to_pages(v);
		out[f[i].id] = (struct nvz_cgroup_counter){ v, v, NVZ_UNLIMITED, 0, true };
	}
}

bool nvz_cgroup_ram_swap(const struct nvz_cgroup_counter c[UBC_COUNT],
			 struct nvz_cgroup_counter *out)
{
	const struct nvz_cgroup_counter *ram = &c[UBC_PHYSPAGES], *swap = &c[UBC_SWAPPAGES];
	if (!ram->valid || ram->held == NVZ_UNLIMITED)
		return false;
	*out = (struct nvz_cgroup_counter){ ram->held, ram->maxheld, NVZ_UNLIMITED, ram->failcnt,
					    true };
	if (swap->valid && swap->held != NVZ_UNLIMITED) {
		out->held += swap->held;
		out->maxheld += swap->maxheld;
	}
	return true;
}

/* ---- v1 ----------------------------------------------------------------- */

static const struct files v1_mem = { "memory.usage_in_bytes", "memory.max_usage_in_bytes",
				     "memory.limit_in_bytes", "memory.failcnt", NULL };
static const struct files v1_memsw = { "memory.memsw.usage_in_bytes",
				       "memory.memsw.max_usage_in_bytes",
				       "memory.memsw.limit_in_bytes", "memory.memsw.failcnt", NULL };
static const struct files v1_tcp = { "memory.kmem.tcp.usage_in_bytes",
				     "memory.kmem.tcp.max_usage_in_bytes",
				     "memory.kmem.tcp.limit_in_bytes", "memory.kmem.tcp.failcnt", NULL };
static const struct files v1_kmem = { "memory.kmem.usage_in_bytes",
				      "memory.kmem.max_usage_in_bytes",
				      "memory.kmem.limit_in_bytes", "memory.kmem.failcnt", NULL };
static const struct files pids = { "pids.current", "pids.peak", "pids.max", "pids.events", "max" };
/* Unevictable pages are what mlock and SHM_LOCK pin (and ramfs's). */
static const struct stat_field v1_stat[] = {
	{ UBC_SHMPAGES, "total_shmem", true },
	{ UBC_LOCKEDPAGES, "total_unevictable", true },
};

/* v1 counts swap only inside memory+swap: swap = memsw - memory. The peaks
 * need not have happened at the same moment, so maxheld is approximate. */
static void v1_swap(const char *dir, const struct nvz_cgroup_counter *mem,
		    struct nvz_cgroup_counter *out)
{
	struct nvz_cgroup_counter sw;
	if (!mem->valid || !read_counter(dir, &v1_memsw, true, &sw))
		return;
	out->held = sub0(sw.held, mem->held);
	out->maxheld = sub0(sw.maxheld, mem->maxheld);
	out->limit = mem->limit == NVZ_UNLIMITED ? NVZ_UNLIMITED : sub0(sw.limit, mem->limit);
	out->failcnt = sw.failcnt;
	out->valid = true;
}

/* With memory+swap == memory (no swap allowed) a charge fails on the memsw
 * counter first, and since 6.13 that counter keeps no failcnt: every such
 * failure ends in reclaim or an OOM kill, so the kill count is the floor. */
static void v1_mem_failcnt(const char *dir, struct nvz_cgroup_counter *mem)
{
	uint64_t sw_fail = 0, sw_limit = 0, kills = 0;
	if (!mem->valid)
		return;
	if (get(dir, "memory.memsw.limit_in_bytes", NULL, &sw_limit) &&
	    to_pages(sw_limit) == mem->limit && get(dir, "memory.memsw.failcnt", NULL, &sw_fail))
		mem->failcnt += sw_fail;
	if (get(dir, "memory.oom_control", "oom_kill", &kills) && kills > mem->failcnt)
		mem->failcnt = kills;
}

int nvz_cg_v1_counters(const struct nvz_cgroup *cg, struct nvz_cgroup_counter *out,
		       struct nvz_error **err)
{
	(void)err;
	const char *mem = ctrl_dir(cg, "memory", "memory.usage_in_bytes");
	const char *pid = ctrl_dir(cg, "pids", "pids.current");
	if (mem) {
		read_counter(mem, &v1_mem, true, &out[UBC_PHYSPAGES]);
		v1_swap(mem, &out[UBC_PHYSPAGES], &out[UBC_SWAPPAGES]);
		v1_mem_failcnt(mem, &out[UBC_PHYSPAGES]);
		/* The kernel has one counter for send and receive buffers together:
		 * the sum goes to TCPSNDBUF, TCPRCVBUF has no counter of its own. */
		read_counter(mem, &v1_tcp, false, &out[UBC_TCPSNDBUF]);
		read_counter(mem, &v1_kmem, false, &out[UBC_KMEMSIZE]);
		held_from_stat(mem, v1_stat, sizeof(v1_stat) / sizeof(v1_stat[0]), out);
	}
	if (pid)
		read_counter(pid, &pids, false, &out[UBC_NUMPROC]);
	return 0;
}

/* ---- v2 ----------------------------------------------------------------- */

static const struct files v2_mem = { "memory.current", "memory.peak", "memory.max",
				     "memory.events", "max" };
static const struct files v2_swap = { "memory.swap.current", "memory.swap.peak",
				      "memory.swap.max", "memory.swap.events", "max" };
/* Socket memory is charged to memory.max: shown, never limited. The
 * dentry and inode caches are most of the reclaimable slab. */
static const struct stat_field v2_stat[] = {
	{ UBC_TCPSNDBUF, "sock", false },
	{ UBC_SHMPAGES, "shmem", true },
	{ UBC_LOCKEDPAGES, "unevictable", true },
	{ UBC_KMEMSIZE, "kernel", false },
	{ UBC_DCACHESIZE, "slab_reclaimable", false },
};

int nvz_cg_v2_counters(const struct nvz_cgroup *cg, struct nvz_cgroup_counter *out,
		       struct nvz_error **err)
{
	(void)err;
	const char *dir = cg->hier[0].path;
	if (nvz_cg_has_controller(cg, "memory")) {
		read_counter(dir, &v2_mem, true, &out[UBC_PHYSPAGES]);
		read_counter(dir, &v2_swap, true, &out[UBC_SWAPPAGES]);
		held_from_stat(dir, v2_stat, sizeof(v2_stat) / sizeof(v2_stat[0]), out);
	}
	if (nvz_cg_has_controller(cg, "pids"))
		read_counter(dir, &pids, false, &out[UBC_NUMPROC]);
	return 0;
}

/* ---- the public call ---------------------------------------------------- */

int nvz_cgroup_counters(const struct nvz_cgroup *cg, struct nvz_cgroup_counter out[UBC_COUNT],
			struct nvz_error **err)
{
	memset(out, 0, UBC_COUNT * sizeof(*out));
	const struct nvz_cg_hier *h = cg->ops->procs_hier(cg);
	if (!h || !is_dir(h->path))
		return nvz_err(err, NVZ_E_SYSTEM, ENOENT, "counters of cgroup %s/%s: it does not exist",
			       cg->prefix, cg->name);
	if (cg->ops->counters(cg, out, err) < 0)
		return nvz_err_wrap(err, "counters of cgroup %s/%s", cg->prefix, cg->name);
	/* OpenVZ's oomguarpages held RAM and swap together; it limits nothing
	 * here, so it refused nothing. */
	struct nvz_cgroup_counter oomguar;
	if (nvz_cgroup_ram_swap(out, &oomguar)) {
		oomguar.failcnt = 0;
		out[UBC_OOMGUARPAGES] = oomguar;
	}
	return 0;
}
