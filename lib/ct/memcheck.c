/* vzmemcheck and vzcalc (OpenVZ's src/vzmemcheck.c and src/vzcalc.c, with
 * their output) in VSwap terms. OpenVZ computed each column from
 * beancounters; on a mainline kernel the CT's memory cgroup is the
 * beancounter view's source (lib/ct/ubcview.c), so the columns map so:
 *
 *  LowMem    kernel memory (kmemsize + socket buffers, held or limits)
 *            against 40% of the low memory, as OpenVZ; 64-bit kernels have
 *            no low zone and OpenVZ then used MemTotal: all RAM is "low".
 *            On VSwap kernel memory is charged to the CT's RAM, so what a
 *            VSwap CT is promised of it is at most its RAM limit.
 *  RAM       physpages held (memory.usage_in_bytes / memory.current: page
 *            cache, tmpfs and kernel memory included) / host RAM.
 *  MemSwap   util: RAM + swap held / (RAM + swap); commit: PHYSPAGES +
 *            SWAPPAGES limits (VSwap's hard cap), or without a RAM limit
 *            the oomguarpages barrier, OpenVZ's pre-VSwap figure.
 *  Alloc     util: privvmpages held / (RAM + swap). The kernel keeps no
 *            per-cgroup count of allocated-but-untouched memory, so it is
 *            at least the RAM + swap held (what is touched was allocated).
 *            commit: vmguarpages barrier; limit: privvmpages limit. An
 *            unset one on a VSwap CT is what vzctl's fill_vswap_ub() gave:
 *            vmguarpages = RAM + swap, privvmpages = (RAM + swap) x
 *            VM_OVERCOMMIT, unlimited without it.
 *
 * Unlimited is LONG_MAX of the unit, as OpenVZ printed it and summed it,
 * so a CT without a limit shows a huge commitment rather than none; it is
 * also why nothing here rounds or caps. Shares are of MemTotal and
 * SwapTotal; a host without swap has RAM + swap = RAM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/listfmt.h"
#include "nvz/memcheck.h"

#define MIB (1024.0 * 1024.0)
#define LOWMEM_SHARE 0.4 /* OpenVZ: what of the low memory kernel memory may take */

static double meminfo_kb(const char *text, const char *key)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, strlen(key)))
			return strtod(p + strlen(key), NULL);
	return -1;
}

int nvz_mem_host_parse(const char *meminfo, const char *threads_max, double page,
		       struct nvz_mem_host *h)
{
	memset(h, 0, sizeof(*h));
	h->ram = meminfo_kb(meminfo, "MemTotal:") * 1024;
	if (h->ram <= 0)
		return -1;
	double swap = meminfo_kb(meminfo, "SwapTotal:");
	h->swap = swap > 0 ? swap * 1024 : 0;
	double low = meminfo_kb(meminfo, "LowTotal:");
	h->lowmem = (low > 0 ? low * 1024 : h->ram) * LOWMEM_SHARE;
	h->threads = threads_max ? strtod(threads_max, NULL) : 0;
	h->page = page > 0 ? page : 4096;
	return 0;
}

double nvz_mem_amount(uint64_t v, double unit)
{
	return (v == NVZ_UNLIMITED ? (double)NVZ_UBC_LONG_MAX : (double)v) * unit;
}

void nvz_mem_limits(const struct nvz_ubc_row r[UBC_COUNT], double page, double vm_overcommit,
		    struct nvz_mem_ct *ct)
{
	bool vswap = r[UBC_PHYSPAGES].limit != NVZ_UNLIMITED;
	double ram = nvz_mem_amount(r[UBC_PHYSPAGES].limit, page);
	/* nvz enforces an unset SWAPPAGES of a VSwap CT as no swap
	 * (lib/res/compute.c); the applied record writes unset as unlimited. */
	double swap = vswap && r[UBC_SWAPPAGES].limit == NVZ_UNLIMITED
			      ? 0
			      : nvz_mem_amount(r[UBC_SWAPPAGES].limit, page);
	ct->kmem_limit = nvz_mem_amount(r[UBC_KMEMSIZE].limit, 1) +
			 nvz_mem_amount(r[UBC_TCPSNDBUF].limit, 1) +
			 nvz_mem_amount(r[UBC_TCPRCVBUF].limit, 1) +
			 nvz_mem_amount(r[UBC_OTHERSOCKBUF].limit, 1) +
			 nvz_mem_amount(r[UBC_DGRAMRCVBUF].limit, 1);
	if (vswap && ct->kmem_limit > ram)
		ct->kmem_limit = ram;
	ct->memsw_commit = vswap ? ram + swap : nvz_mem_amount(r[UBC_OOMGUARPAGES].barrier, page);
	ct->alloc_guar = vswap && r[UBC_VMGUARPAGES].barrier == NVZ_UNLIMITED
				 ? ram + swap
				 : nvz_mem_amount(r[UBC_VMGUARPAGES].barrier, page);
	if (vswap && r[UBC_PRIVVMPAGES].limit == NVZ_UNLIMITED && vm_overcommit > 0)
		ct->alloc_limit = (ram + swap) * vm_overcommit;
	else
		ct->alloc_limit = nvz_mem_amount(r[UBC_PRIVVMPAGES].limit, page);
	/* OpenVZ's vzcalc took numproc's barrier (the two are the same). */
	ct->numproc_limit = nvz_mem_amount(r[UBC_NUMPROC].barrier, 1);
}

void nvz_mem_held(const struct nvz_ubc_row r[UBC_COUNT], double page, struct nvz_mem_ct *ct)
{
	ct->kmem_held = (double)r[UBC_KMEMSIZE].held + (double)r[UBC_TCPSNDBUF].held +
			(double)r[UBC_TCPRCVBUF].held + (double)r[UBC_OTHERSOCKBUF].held +
			(double)r[UBC_DGRAMRCVBUF].held;
	ct->ram_held = (double)r[UBC_PHYSPAGES].held * page;
	ct->memsw_held = ct->ram_held + (double)r[UBC_SWAPPAGES].held * page;
	double privvm = (double)r[UBC_PRIVVMPAGES].held * page;
	ct->alloc_held = privvm > ct->memsw_held ? privvm : ct->memsw_held;
	ct->numproc_held = (double)r[UBC_NUMPROC].held;
}

/* A share of whole in %, or MiB when absolute (OpenVZ's -A). */
static double share(double part, double whole, bool absolute)
{
	if (absolute)
		return part / MIB;
	return whole > 0 ? part / whole * 100 : 0;
}

void nvz_memcheck_row(const struct nvz_mem_host *h, const struct nvz_mem_ct *ct, bool absolute,
		      struct nvz_memcheck_row *out)
{
	double rs = h->ram + h->swap;
	out->lowmem_util = share(ct->kmem_held, h->lowmem, absolute);
	out->lowmem_commit = share(ct->kmem_limit, h->lowmem, absolute);
	out->ram_util = share(ct->ram_held, h->ram, absolute);
	out->memsw_util = share(ct->memsw_held, rs, absolute);
	out->memsw_commit = share(ct->memsw_commit, rs, absolute);
	out->alloc_util = share(ct->alloc_held, rs, absolute);
	out->alloc_commit = share(ct->alloc_guar, rs, absolute);
	out->alloc_limit = share(ct->alloc_limit, rs, absolute);
}

static void eight(struct nvz_list_buf *b, double a, double c, double d, double e, double f,
		  double g, double i, double j)
{
	nvz_list_buf_printf(b, "%7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f\n", a, c, d, e, f,
			    g, i, j);
}

static void values(struct nvz_list_buf *b, const struct nvz_memcheck_row *r)
{
	eight(b, r->lowmem_util, r->lowmem_commit, r->ram_util, r->memsw_util, r->memsw_commit,
	      r->alloc_util, r->alloc_commit, r->alloc_limit);
}

static char *take(struct nvz_list_buf *b)
{
	char *text = b->oom ? NULL : strdup(nvz_list_buf_str(b));
	nvz_list_buf_free(b);
	return text;
}

char *nvz_memcheck_format(const struct nvz_mem_host *h, const struct nvz_mem_ct *cts, size_t n,
			  bool verbose, bool absolute)
{
	struct nvz_list_buf b = { 0 };
	const char *pad = verbose ? "           " : "";
	nvz_list_buf_puts(&b, absolute ? "Output values in Mbytes\n" : "Output values in %\n");
	nvz_list_buf_printf(&b, "%s LowMem  LowMem     RAM MemSwap MemSwap   Alloc   Alloc   Alloc\n",
			    verbose ? "CTID       " : "");
	nvz_list_buf_printf(&b, "%s   util  commit    util    util  commit    util  commit   limit\n",
			    pad);
	struct nvz_memcheck_row sum = { 0 };
	for (size_t i = 0; i < n; i++) {
		struct nvz_memcheck_row r;
		nvz_memcheck_row(h, &cts[i], absolute, &r);
		if (verbose) {
			nvz_list_buf_printf(&b, "%-10lu ", cts[i].id);
			values(&b, &r);
		}
		sum.lowmem_util += r.lowmem_util;
		sum.lowmem_commit += r.lowmem_commit;
		sum.ram_util += r.ram_util;
		sum.memsw_util += r.memsw_util;
		sum.memsw_commit += r.memsw_commit;
		sum.alloc_util += r.alloc_util;
		sum.alloc_commit += r.alloc_commit;
		sum.alloc_limit += r.alloc_limit;
	}
	if (verbose)
		nvz_list_buf_puts(&b, "----------------------------------------------------------"
				      "----------------\nSummary:   ");
	values(&b, &sum);
	if (absolute) {
		/* The denominators of the line above (OpenVZ's man page). */
		double lm = h->lowmem / MIB, r = h->ram / MIB, rs = (h->ram + h->swap) / MIB;
		nvz_list_buf_puts(&b, pad);
		eight(&b, lm, lm, r, rs, rs, rs, rs, rs);
	}
	return take(&b);
}

static double max3(double a, double b, double c)
{
	double m = a > b ? a : b;
	return m > c ? m : c;
}

void nvz_calc_compute(const struct nvz_mem_host *h, const struct nvz_mem_ct *ct,
		      struct nvz_calc *c)
{
	memset(c, 0, sizeof(*c));
	double rs = h->ram + h->swap;
	double thr = h->threads > 0 ? h->threads : 1;
	c->running = ct->running;
	if (ct->running) {
		c->lm_cur = share(ct->kmem_held, h->lowmem, false) / 100;
		c->tr_cur = share(ct->ram_held, h->ram, false) / 100;
		c->ms_cur = share(ct->memsw_held, rs, false) / 100;
		c->al_cur = share(ct->alloc_held, rs, false) / 100;
		c->np_cur = ct->numproc_held / thr;
	}
	c->lm_max = c->lm_prm = share(ct->kmem_limit, h->lowmem, false) / 100;
	c->ms_prm = share(ct->memsw_commit, rs, false) / 100;
	c->al_prm = share(ct->alloc_guar, rs, false) / 100;
	c->al_max = share(ct->alloc_limit, rs, false) / 100;
	c->np_max = ct->numproc_limit / thr;
	c->cur = max3(max3(c->lm_cur, c->tr_cur, c->ms_cur), c->al_cur, c->np_cur);
	c->prm = max3(c->lm_prm, c->ms_prm, c->al_prm);
	c->max = max3(c->lm_max, c->al_max, c->np_max);
}

/* The Current cell: OpenVZ said n/a for a CT that does not run. */
static const char *cur_cell(const struct nvz_calc *c, double v, char *buf, size_t len)
{
	if (!c->running)
		return "n/a";
	snprintf(buf, len, "%10.2f", v * 100);
	return buf;
}

char *nvz_calc_format(const struct nvz_calc *c, bool verbose)
{
	struct nvz_list_buf b = { 0 };
	char cell[64];
	nvz_list_buf_puts(&b, "Resource     Current(%)  Promised(%)  Max(%)\n");
	if (verbose) {
		nvz_list_buf_printf(&b, "Low Mem    %10s %10.2f %10.2f\n",
				    cur_cell(c, c->lm_cur, cell, sizeof(cell)), c->lm_prm * 100,
				    c->lm_max * 100);
		/* The trailing blank is OpenVZ's. */
		nvz_list_buf_printf(&b, "Total RAM  %10s        n/a        n/a \n",
				    cur_cell(c, c->tr_cur, cell, sizeof(cell)));
		nvz_list_buf_printf(&b, "Mem + Swap %10s %10.2f        n/a\n",
				    cur_cell(c, c->ms_cur, cell, sizeof(cell)), c->ms_prm * 100);
		nvz_list_buf_printf(&b, "Alloc. Mem %10s %10.2f %10.2f\n",
				    cur_cell(c, c->al_cur, cell, sizeof(cell)), c->al_prm * 100,
				    c->al_max * 100);
		nvz_list_buf_printf(&b, "Num. Proc  %10s        n/a %10.2f\n",
				    cur_cell(c, c->np_cur, cell, sizeof(cell)), c->np_max * 100);
		nvz_list_buf_puts(&b, "--------------------------------------------\n");
	}
	nvz_list_buf_printf(&b, "Memory     %10s %10.2f %10.2f\n",
			    cur_cell(c, c->cur, cell, sizeof(cell)), c->prm * 100, c->max * 100);
	return take(&b);
}

/* The system side */

int nvz_mem_host_read(struct nvz_mem_host *h, struct nvz_error **err)
{
	cleanup_free char *mem = NULL, *threads = NULL;
	if (nvz_read_file("/proc/meminfo", 1 << 16, &mem, NULL, err) < 0)
		return nvz_err_wrap(err, "host memory");
	nvz_read_file("/proc/sys/kernel/threads-max", 64, &threads, NULL, NULL);
	long page = sysconf(_SC_PAGESIZE);
	if (nvz_mem_host_parse(mem, threads, page > 0 ? (double)page : 4096, h) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "no MemTotal in /proc/meminfo");
	return 0;
}

/* Hand a local error up, unless one is already there (never overwritten). */
static int pass_up(struct nvz_error **err, struct nvz_error *e)
{
	int code = e->code;
	if (err && !*err)
		*err = e;
	else
		nvz_error_free(e);
	return -code;
}

static double overcommit(const struct nvz_ct *ct)
{
	return strtod(nvz_ct_get(ct, "VM_OVERCOMMIT", "0"), NULL);
}

int nvz_memcheck_read(struct nvz_ctx *ctx, struct nvz_mem_ct **cts, size_t *n,
		      struct nvz_error **err)
{
	*cts = NULL;
	*n = 0;
	cleanup_free unsigned long *ids = NULL;
	size_t nids = 0;
	if (nvz_ct_list_ids(ctx, &ids, &nids, err) < 0)
		return -1;
	struct nvz_mem_ct *out = calloc(nids ? nids : 1, sizeof(*out));
	if (!out)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	double page = (double)sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < nids; i++) {
		struct nvz_ct *ct = NULL;
		struct nvz_ct_state st = { 0 };
		struct nvz_ubc_row rows[UBC_COUNT];
		struct nvz_error *e = NULL;
		if (nvz_ct_open(ctx, ids[i], &ct, NULL) < 0)
			continue;
		/* Only running CTs count (OpenVZ bug 1757); one that stops
		 * while we look has no cgroup left to read. */
		bool got = nvz_ct_get_state(ct, &st, NULL) == 0 && st.running &&
			   nvz_ct_ubc_rows(ct, rows, &e) == 0;
		if (got) {
			struct nvz_mem_ct *m = &out[(*n)++];
			m->id = ids[i];
			m->running = true;
			nvz_mem_limits(rows, page, overcommit(ct), m);
			nvz_mem_held(rows, page, m);
		}
		nvz_ct_free(ct);
		if (e && e->code != ENOENT) {
			free(out);
			*n = 0;
			return pass_up(err, e);
		}
		nvz_error_free(e);
	}
	*cts = out;
	return 0;
}

/* A CT's promises as its config states them (vzcalc reads the config, as
 * OpenVZ's did, so a stopped CT has them too). */
static void conf_rows(const struct nvz_ct *ct, struct nvz_ubc_row rows[UBC_COUNT])
{
	for (int id = 0; id < UBC_COUNT; id++) {
		const struct nvz_ubc_info *info = nvz_ubc_info(id);
		rows[id] = (struct nvz_ubc_row){ .barrier = NVZ_UNLIMITED, .limit = NVZ_UNLIMITED };
		snprintf(rows[id].name, sizeof(rows[id].name), "%s", info->name);
		const char *text = nvz_ct_get(ct, info->key, NULL);
		struct nvz_ubc_value v;
		if (text && nvz_ubc_parse(id, text, &v, NULL) == 0) {
			rows[id].barrier = v.barrier;
			rows[id].limit = v.limit;
		}
	}
}

int nvz_calc_read(struct nvz_ctx *ctx, unsigned long veid, struct nvz_mem_ct *m,
		  struct nvz_error **err)
{
	memset(m, 0, sizeof(*m));
	m->id = veid;
	struct nvz_ct *ct = NULL;
	if (nvz_ct_open(ctx, veid, &ct, err) < 0)
		return -1;
	int r = 0;
	if (!ct->conf_exists) {
		r = nvz_err(err, NVZ_E_NOVECONFIG, ENOENT, "Container configuration file: %s not found",
			    ct->conf_path);
		nvz_ct_free(ct);
		return r;
	}
	double page = (double)sysconf(_SC_PAGESIZE);
	struct nvz_ubc_row rows[UBC_COUNT];
	conf_rows(ct, rows);
	nvz_mem_limits(rows, page, overcommit(ct), m);
	struct nvz_ct_state st = { 0 };
	struct nvz_error *e = NULL;
	if (nvz_ct_get_state(ct, &st, NULL) == 0 && st.running) {
		if (nvz_ct_ubc_rows(ct, rows, &e) == 0) {
			m->running = true;
			nvz_mem_held(rows, page, m);
		} else if (e->code != ENOENT) {
			r = pass_up(err, e);
			e = NULL;
		}
	}
	nvz_error_free(e);
	nvz_ct_free(ct);
	return r;
}
