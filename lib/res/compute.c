/* From a CT's OpenVZ settings to what the kernel is asked to enforce
 * (prior art: vzctl 4.x upstream mode, hooks_ct.c:ct_setlimits). */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "nvz/res.h"
#include "res/internal.h"

#define CPUUNITS_MIN 8
#define CPUUNITS_MAX 500000
#define IOPRIO_MAX 7
#define IOPRIO_DEFAULT 4

/* Limits at or above LONG_MAX mean "unlimited" (OpenVZ's spelling). */
static uint64_t saturate(unsigned __int128 v)
{
	return v >= (unsigned __int128)LONG_MAX ? NVZ_UNLIMITED : (uint64_t)v;
}

static uint64_t pages_to_bytes(uint64_t pages)
{
	if (pages == NVZ_UNLIMITED)
		return NVZ_UNLIMITED;
	return saturate((unsigned __int128)pages * nvz_res_page_size());
}

static uint64_t add_bytes(uint64_t a, uint64_t b)
{
	if (a == NVZ_UNLIMITED || b == NVZ_UNLIMITED)
		return NVZ_UNLIMITED;
	return saturate((unsigned __int128)a + b);
}

static bool is_finite(const struct nvz_ubc_value *v, uint64_t x)
{
	return v->set && x != NVZ_UNLIMITED;
}

/* Empty or missing keys are "not set"; a malformed one is an error. */
static int get_ubc(nvz_res_get_fn get, void *data, enum nvz_ubc_id id,
		   struct nvz_ubc_value *out, struct nvz_error **err)
{
	const char *s = get(data, nvz_ubc_info(id)->key);
	*out = (struct nvz_ubc_value){0};
	if (!s || !*s)
		return 0;
	return nvz_ubc_parse(id, s, out, err);
}

/*
 * Memory.
 * VSwap config (PHYSPAGES limit finite): RAM = physpages limit, RAM+swap =
 * RAM + swappages limit (unlimited swap: no RAM+swap cap). SWAPPAGES unset
 * in a VSwap config made vzctl refuse to start ("required UB parameter
 * (swap) not set"); we read it as no swap, which is the enforceable side.
 *
 * Pre-VSwap config: there was no RAM limit, only privvmpages capping what
 * a CT may allocate (RAM and swap together) and two guarantees, vmguarpages
 * and oomguarpages, promising the CT at least that much. So:
 *  - privvmpages limit, when set, is the memory limit: it is the cap;
 *  - without it, the largest guarantee set is used: no limit below what
 *    the CT was promised, and still an enforced one (the guide sets all
 *    three to 512M and expects 512M); barriers of 0 promise nothing;
 *  - RAM+swap = that limit + a finite swappages limit, otherwise the same
 *    as RAM: privvmpages capped RAM and swap together, so letting the CT
 *    swap without bound would exceed it. (Pre-VSwap swappages was only
 *    shown in /proc/meminfo; "unlimited" there meant "show no swap".)
 * A limit below a guarantee would break the promise, which is why the
 * smallest of the three is not taken.
 */
static int compute_memory(nvz_res_get_fn get, void *data, struct nvz_res_limits *out,
			  struct nvz_error **err)
{
	struct nvz_ubc_value phys, swap, privvm, vmguar, oomguar;
	int r;
	if ((r = get_ubc(get, data, UBC_PHYSPAGES, &phys, err)) < 0 ||
	    (r = get_ubc(get, data, UBC_SWAPPAGES, &swap, err)) < 0 ||
	    (r = get_ubc(get, data, UBC_PRIVVMPAGES, &privvm, err)) < 0 ||
	    (r = get_ubc(get, data, UBC_VMGUARPAGES, &vmguar, err)) < 0 ||
	    (r = get_ubc(get, data, UBC_OOMGUARPAGES, &oomguar, err)) < 0)
		return r;

	out->mem_bytes = out->memsw_bytes = NVZ_UNLIMITED;
	if (is_finite(&phys, phys.limit)) {
		out->mem_bytes = pages_to_bytes(phys.limit);
		out->memsw_bytes = swap.set ? add_bytes(out->mem_bytes, pages_to_bytes(swap.limit))
					    : out->mem_bytes;
		return 0;
	}

	uint64_t pages = NVZ_UNLIMITED;
	if (is_finite(&privvm, privvm.limit)) {
		pages = privvm.limit;
	} else {
		uint64_t guar = 0;
		if (is_finite(&vmguar, vmguar.barrier) && vmguar.barrier > guar)
			guar = vmguar.barrier;
		if (is_finite(&oomguar, oomguar.barrier) && oomguar.barrier > guar)
			guar = oomguar.barrier;
		if (guar)
			pages = guar;
	}
	if (pages == NVZ_UNLIMITED)
		return 0;
	out->mem_bytes = pages_to_bytes(pages);
	out->memsw_bytes = is_finite(&swap, swap.limit)
				   ? add_bytes(out->mem_bytes, pages_to_bytes(swap.limit))
				   : out->mem_bytes;
	return 0;
}

bool nvz_res_sets_memory(nvz_res_get_fn get, void *data, enum nvz_ubc_id id)
{
	struct nvz_ubc_value phys, privvm, v;
	if (get_ubc(get, data, UBC_PHYSPAGES, &phys, NULL) < 0 ||
	    get_ubc(get, data, UBC_PRIVVMPAGES, &privvm, NULL) < 0 ||
	    get_ubc(get, data, id, &v, NULL) < 0 || is_finite(&phys, phys.limit))
		return id == UBC_PHYSPAGES;
	switch (id) {
	case UBC_PRIVVMPAGES:
		return is_finite(&privvm, privvm.limit);
	case UBC_VMGUARPAGES:
	case UBC_OOMGUARPAGES:
		return !is_finite(&privvm, privvm.limit) && is_finite(&v, v.barrier);
	default:
		return false;
	}
}

/* TCP buffer memory is one kernel counter for both directions, so only a
 * config that limits both can be enforced: the sum of the two limits. With
 * one of them unset or unlimited nothing is enforced, rather than making
 * up a value for the missing half. */
static int compute_tcp_pids(nvz_res_get_fn get, void *data, struct nvz_res_limits *out,
			    struct nvz_error **err)
{
	struct nvz_ubc_value snd, rcv, nproc;
	int r;
	if ((r = get_ubc(get, data, UBC_TCPSNDBUF, &snd, err)) < 0 ||
	    (r = get_ubc(get, data, UBC_TCPRCVBUF, &rcv, err)) < 0 ||
	    (r = get_ubc(get, data, UBC_NUMPROC, &nproc, err)) < 0)
		return r;
	out->tcp_bytes = snd.set && rcv.set ? add_bytes(snd.limit, rcv.limit) : NVZ_UNLIMITED;
	out->pids = nproc.set ? nproc.limit : NVZ_UNLIMITED;
	return 0;
}

static int get_uint(nvz_res_get_fn get, void *data, const char *key, unsigned long min,
		    unsigned long max, unsigned long def, unsigned long *out,
		    struct nvz_error **err)
{
	const char *s = get(data, key);
	*out = def;
	if (!s || !*s)
		return 0;
	return nvz_res_uint_value(key, s, min, max, out, err);
}

static int compute_cpu(nvz_res_get_fn get, void *data, struct nvz_res_limits *out,
		       struct nvz_error **err)
{
	unsigned long units, cpus, pct = 0;
	int r;
	if ((r = get_uint(get, data, "CPUUNITS", CPUUNITS_MIN, CPUUNITS_MAX, NVZ_CPUUNITS_DEFAULT,
			  &units, err)) < 0 ||
	    (r = get_uint(get, data, "CPUS", 0, NVZ_CPUS_MAX, 0, &cpus, err)) < 0)
		return r;
	const char *s = get(data, "CPULIMIT");
	if (s && *s && (r = nvz_res_cpulimit_value(s, &pct, err)) < 0)
		return r;
	out->cpu_units = (unsigned)units;
	out->cpus = (unsigned)cpus;
	out->cpu_limit_pct = (unsigned)pct;

	out->nodemask[0] = '\0';
	s = get(data, "NODEMASK");
	if (s && *s) {
		if ((r = nvz_res_nodemask_value(s, out->nodemask, sizeof(out->nodemask), err)) < 0)
			return r;
		if (strcmp(out->nodemask, "all") == 0)
			out->nodemask[0] = '\0';
	}
	out->cpumask[0] = '\0';
	s = get(data, "CPUMASK");
	if (s && *s) {
		r = nvz_res_cpumask_value(s, out->cpumask, sizeof(out->cpumask), err);
		if (r < 0)
			return r;
		if (strcmp(out->cpumask, "all") == 0)
			out->cpumask[0] = '\0';
	}
	/* vzctl's "auto": the CPUs of the CT's NUMA nodes, as they are now. */
	if (strcmp(out->cpumask, "auto") == 0) {
		if (!out->nodemask[0])
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "--cpumask auto option requires --nodemask");
		return nvz_res_node_cpus(out->nodemask, out->cpumask, sizeof(out->cpumask), err);
	}
	return 0;
}

static int compute_io(nvz_res_get_fn get, void *data, struct nvz_res_limits *out,
		      struct nvz_error **err)
{
	unsigned long iops, prio;
	int r;
	if ((r = get_uint(get, data, "IOPSLIMIT", 0, INT_MAX, 0, &iops, err)) < 0 ||
	    (r = get_uint(get, data, "IOPRIO", 0, IOPRIO_MAX, IOPRIO_DEFAULT, &prio, err)) < 0)
		return r;
	out->io_iops = iops;
	out->io_prio = (unsigned)prio;
	out->io_bps = 0;
	/* The config holds bytes/s; only the command line defaults to MB/s. */
	const char *s = get(data, "IOLIMIT");
	if (s && *s && (r = nvz_res_iolimit_value(s, 1, false, &out->io_bps, err)) < 0)
		return r;
	return 0;
}

int nvz_res_compute(nvz_res_get_fn get, void *data, struct nvz_res_limits *out,
		    struct nvz_error **err)
{
	struct nvz_res_limits l;
	memset(&l, 0, sizeof(l));
	if (!get)
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "no config lookup for resources");
	int r;
	if ((r = compute_memory(get, data, &l, err)) < 0 ||
	    (r = compute_tcp_pids(get, data, &l, err)) < 0 ||
	    (r = compute_cpu(get, data, &l, err)) < 0 || (r = compute_io(get, data, &l, err)) < 0)
		return r;
	*out = l;
	return 0;
}
