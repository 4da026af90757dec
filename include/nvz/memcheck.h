/* vzmemcheck and vzcalc (lib/ct/memcheck.c): how much of the host's
 * memory the containers use and are promised, in OpenVZ's columns mapped
 * to VSwap and cgroup terms. Reading (the host's /proc, a CT's config and
 * beancounter view) is kept apart from the arithmetic and the text, which
 * work on plain numbers so that unit tests feed them directly. */
#ifndef NVZ_MEMCHECK_H
#define NVZ_MEMCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/ct.h"
#include "nvz/error.h"
#include "nvz/ubcview.h"

/* The host, in bytes. lowmem is OpenVZ's: 40% of LowTotal, or of MemTotal
 * where there is no low memory zone (every 64-bit kernel). */
struct nvz_mem_host {
	double ram, swap, lowmem, threads;
	double page; /* bytes per beancounter page */
};

/* One CT, in bytes (numproc in processes). An unlimited beancounter counts
 * as OpenVZ printed it, LONG_MAX of its unit, so sums and shares of it are
 * huge, as they were on OpenVZ. */
struct nvz_mem_ct {
	unsigned long id;
	bool running;
	/* held */
	double kmem_held, ram_held, memsw_held, alloc_held, numproc_held;
	/* promised */
	double kmem_limit, memsw_commit, alloc_guar, alloc_limit, numproc_limit;
};

/* One line of vzmemcheck: shares of the host in % (or MiB with -A). */
struct nvz_memcheck_row {
	double lowmem_util, lowmem_commit, ram_util, memsw_util, memsw_commit;
	double alloc_util, alloc_commit, alloc_limit;
};

/* vzcalc's figures, as fractions of the host (0.5 is 50%). */
struct nvz_calc {
	bool running; /* false: the Current column says n/a */
	double lm_cur, tr_cur, ms_cur, al_cur, np_cur;
	double lm_prm, ms_prm, al_prm;
	double lm_max, al_max, np_max;
	double cur, prm, max; /* the Memory row: the largest of each column */
};

/* /proc/meminfo and /proc/sys/kernel/threads-max texts; -1 without MemTotal. */
int nvz_mem_host_parse(const char *meminfo, const char *threads_max, double page,
		       struct nvz_mem_host *h);
/* A value of a beancounter in bytes: v units of unit bytes, LONG_MAX units
 * if unlimited. */
double nvz_mem_amount(uint64_t v, double unit);
/* What a CT is promised, from its barrier:limit rows (VSwap's unset
 * parameters filled in as vzctl did; vm_overcommit 0 when not set). */
void nvz_mem_limits(const struct nvz_ubc_row rows[UBC_COUNT], double page, double vm_overcommit,
		    struct nvz_mem_ct *ct);
/* What it holds, from its beancounter view's held values. */
void nvz_mem_held(const struct nvz_ubc_row rows[UBC_COUNT], double page, struct nvz_mem_ct *ct);

void nvz_memcheck_row(const struct nvz_mem_host *h, const struct nvz_mem_ct *ct, bool absolute,
		      struct nvz_memcheck_row *out);
/* The whole vzmemcheck output: header, a row per CT with verbose, the
 * Summary, and with absolute the host's totals. NULL when out of memory. */
char *nvz_memcheck_format(const struct nvz_mem_host *h, const struct nvz_mem_ct *cts, size_t n,
			  bool verbose, bool absolute);

void nvz_calc_compute(const struct nvz_mem_host *h, const struct nvz_mem_ct *ct,
		      struct nvz_calc *out);
char *nvz_calc_format(const struct nvz_calc *c, bool verbose);

/* The system side. The host; every running CT (a CT stopped meanwhile is
 * left out); one CT by ID (its config's promises, and what it holds if it
 * runs; status 14 "Container configuration file: ... not found"). */
int nvz_mem_host_read(struct nvz_mem_host *h, struct nvz_error **err);
int nvz_memcheck_read(struct nvz_ctx *ctx, struct nvz_mem_ct **cts, size_t *n,
		      struct nvz_error **err);
int nvz_calc_read(struct nvz_ctx *ctx, unsigned long veid, struct nvz_mem_ct *ct,
		  struct nvz_error **err);

#endif
