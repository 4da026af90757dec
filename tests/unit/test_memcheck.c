/* Unit tests of lib/ct/memcheck.c: vzmemcheck's and vzcalc's arithmetic and
 * text on plain numbers (the host, a CT's beancounter rows). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/memcheck.h"

#define MIB (1024.0 * 1024.0)
#define PG 4096.0
#define LMAX 9223372036854775807.0

/* Rows as an unset config gives them: everything unlimited, nothing held. */
static void blank(struct nvz_ubc_row r[UBC_COUNT])
{
	for (int i = 0; i < UBC_COUNT; i++)
		r[i] = (struct nvz_ubc_row){ .barrier = NVZ_UNLIMITED, .limit = NVZ_UNLIMITED };
}

/* --ram RAM_MIB --swap SWAP_MIB */
static void vswap(struct nvz_ubc_row r[UBC_COUNT], uint64_t ram_mib, uint64_t swap_mib)
{
	blank(r);
	r[UBC_PHYSPAGES].barrier = 0;
	r[UBC_PHYSPAGES].limit = ram_mib * 256;
	r[UBC_SWAPPAGES].barrier = 0;
	r[UBC_SWAPPAGES].limit = swap_mib * 256;
}

/* MemTotal, or LowTotal where the kernel has a low zone, x 0.4; no swap
 * line or 0 is no swap; no MemTotal is an error. */
Test(memcheck, host_parse)
{
	struct nvz_mem_host h;
	cr_assert_eq(nvz_mem_host_parse("MemTotal:       1048576 kB\nSwapTotal:             0 kB\n",
					"126000\n", 4096, &h), 0);
	cr_assert_float_eq(h.ram, 1024 * MIB, 0.5);
	cr_assert_float_eq(h.swap, 0, 0.5);
	cr_assert_float_eq(h.lowmem, 0.4 * 1024 * MIB, 0.5);
	cr_assert_float_eq(h.threads, 126000, 0.5);
	cr_assert_eq(nvz_mem_host_parse("MemTotal: 2097152 kB\nLowTotal: 786432 kB\nSwapTotal: 1048576 kB\n",
					NULL, 4096, &h), 0);
	cr_assert_float_eq(h.lowmem, 0.4 * 768 * MIB, 0.5);
	cr_assert_float_eq(h.swap, 1024 * MIB, 0.5);
	cr_assert_float_eq(h.threads, 0, 0.5);
	cr_assert_eq(nvz_mem_host_parse("MemFree: 1 kB\n", NULL, 4096, &h), -1);
}

/* Unlimited is LONG_MAX of the unit, as OpenVZ printed and summed it. */
Test(memcheck, amount_unlimited)
{
	cr_assert_float_eq(nvz_mem_amount(10, PG), 40960, 0.5);
	cr_assert_float_eq(nvz_mem_amount(NVZ_UNLIMITED, PG), LMAX * PG, 1e6);
	cr_assert_float_eq(nvz_mem_amount(NVZ_UNLIMITED, 1), LMAX, 1e3);
}

/* VSwap: RAM + swap is the commitment; unset vmguarpages and privvmpages
 * are what vzctl filled in (RAM + swap; x VM_OVERCOMMIT or unlimited);
 * kernel memory is capped by RAM; unset swap is none. Without a RAM limit
 * OpenVZ's pre-VSwap oomguarpages barrier counts. */
Test(memcheck, limits)
{
	struct nvz_ubc_row r[UBC_COUNT];
	struct nvz_mem_ct ct = { 0 };
	vswap(r, 256, 128);
	nvz_mem_limits(r, PG, 0, &ct);
	cr_assert_float_eq(ct.memsw_commit, 384 * MIB, 0.5);
	cr_assert_float_eq(ct.alloc_guar, 384 * MIB, 0.5);
	cr_assert_float_eq(ct.alloc_limit, LMAX * PG, 1e6);
	cr_assert_float_eq(ct.kmem_limit, 256 * MIB, 0.5);
	cr_assert_float_eq(ct.numproc_limit, LMAX, 1e3);
	nvz_mem_limits(r, PG, 1.5, &ct);
	cr_assert_float_eq(ct.alloc_limit, 576 * MIB, 0.5);
	r[UBC_PRIVVMPAGES].barrier = r[UBC_PRIVVMPAGES].limit = 1000;
	r[UBC_VMGUARPAGES].barrier = 500;
	r[UBC_KMEMSIZE].barrier = r[UBC_KMEMSIZE].limit = 1 << 20;
	r[UBC_TCPSNDBUF].limit = r[UBC_TCPRCVBUF].limit = r[UBC_OTHERSOCKBUF].limit =
		r[UBC_DGRAMRCVBUF].limit = 1 << 20;
	r[UBC_NUMPROC].barrier = r[UBC_NUMPROC].limit = 240;
	nvz_mem_limits(r, PG, 1.5, &ct);
	cr_assert_float_eq(ct.alloc_limit, 1000 * PG, 0.5, "a set privvmpages wins");
	cr_assert_float_eq(ct.alloc_guar, 500 * PG, 0.5);
	cr_assert_float_eq(ct.kmem_limit, 5 * MIB, 0.5);
	cr_assert_float_eq(ct.numproc_limit, 240, 0.5);
	vswap(r, 256, 0);
	r[UBC_SWAPPAGES].limit = NVZ_UNLIMITED;
	nvz_mem_limits(r, PG, 0, &ct);
	cr_assert_float_eq(ct.memsw_commit, 256 * MIB, 0.5, "unset swap of a VSwap CT is none");
	blank(r);
	nvz_mem_limits(r, PG, 2, &ct);
	cr_assert_float_eq(ct.memsw_commit, LMAX * PG, 1e6);
	cr_assert_float_eq(ct.alloc_limit, LMAX * PG, 1e6, "no VSwap fill without a RAM limit");
	cr_assert_float_eq(ct.kmem_limit, 5 * LMAX, 1e4);
	r[UBC_OOMGUARPAGES].barrier = 131072;
	nvz_mem_limits(r, PG, 0, &ct);
	cr_assert_float_eq(ct.memsw_commit, 512 * MIB, 0.5);
}

/* Held: RAM + swap; allocated is at least what is touched. */
Test(memcheck, held)
{
	struct nvz_ubc_row r[UBC_COUNT];
	struct nvz_mem_ct ct = { 0 };
	vswap(r, 256, 128);
	r[UBC_PHYSPAGES].held = 2560;
	r[UBC_SWAPPAGES].held = 256;
	r[UBC_KMEMSIZE].held = 1000;
	r[UBC_TCPSNDBUF].held = 24;
	r[UBC_NUMPROC].held = 7;
	nvz_mem_held(r, PG, &ct);
	cr_assert_float_eq(ct.ram_held, 10 * MIB, 0.5);
	cr_assert_float_eq(ct.memsw_held, 11 * MIB, 0.5);
	cr_assert_float_eq(ct.alloc_held, 11 * MIB, 0.5);
	cr_assert_float_eq(ct.kmem_held, 1024, 0.5);
	cr_assert_float_eq(ct.numproc_held, 7, 0.5);
	r[UBC_PRIVVMPAGES].held = 5120;
	nvz_mem_held(r, PG, &ct);
	cr_assert_float_eq(ct.alloc_held, 20 * MIB, 0.5);
}

static struct nvz_mem_host host_1g(void)
{
	return (struct nvz_mem_host){ .ram = 1024 * MIB, .swap = 1024 * MIB,
				      .lowmem = 0.4 * 1024 * MIB, .threads = 1000, .page = PG };
}

static struct nvz_mem_ct ct_256(unsigned long id, double held_mib, double overcommit)
{
	struct nvz_ubc_row r[UBC_COUNT];
	struct nvz_mem_ct ct = { .id = id, .running = true };
	vswap(r, 256, 256);
	r[UBC_PHYSPAGES].held = (uint64_t)(held_mib * 256);
	r[UBC_KMEMSIZE].held = 4 << 20;
	r[UBC_NUMPROC].held = 10;
	r[UBC_NUMPROC].barrier = r[UBC_NUMPROC].limit = 100;
	nvz_mem_limits(r, PG, overcommit, &ct);
	nvz_mem_held(r, PG, &ct);
	return ct;
}

/* Shares in % of the host (RAM, RAM + swap, 40% of low memory), or MiB. */
Test(memcheck, row)
{
	struct nvz_mem_host h = host_1g();
	struct nvz_mem_ct ct = ct_256(101, 128, 2);
	struct nvz_memcheck_row r;
	nvz_memcheck_row(&h, &ct, false, &r);
	cr_assert_float_eq(r.ram_util, 12.5, 1e-9);
	cr_assert_float_eq(r.memsw_util, 6.25, 1e-9);
	cr_assert_float_eq(r.memsw_commit, 25, 1e-9);
	cr_assert_float_eq(r.alloc_util, 6.25, 1e-9);
	cr_assert_float_eq(r.alloc_commit, 25, 1e-9);
	cr_assert_float_eq(r.alloc_limit, 50, 1e-9);
	cr_assert_float_eq(r.lowmem_util, 4 / (0.4 * 1024) * 100, 1e-9);
	cr_assert_float_eq(r.lowmem_commit, 256 / (0.4 * 1024) * 100, 1e-9);
	nvz_memcheck_row(&h, &ct, true, &r);
	cr_assert_float_eq(r.ram_util, 128, 1e-9);
	cr_assert_float_eq(r.memsw_commit, 512, 1e-9);
	cr_assert_float_eq(r.lowmem_util, 4, 1e-9);
	h.swap = 0; /* a host without swap: RAM + swap is RAM */
	nvz_memcheck_row(&h, &ct, false, &r);
	cr_assert_float_eq(r.memsw_util, 12.5, 1e-9);
	cr_assert_float_eq(r.memsw_commit, 50, 1e-9);
	h.ram = 0;
	nvz_memcheck_row(&h, &ct, false, &r);
	cr_assert_float_eq(r.ram_util, 0, 1e-9, "no division by zero");
}

/* OpenVZ's text: header, a row per CT (-v), dashes, Summary (the sums);
 * with -A the host's totals under it. An unlimited Alloc limit is huge. */
Test(memcheck, format)
{
	struct nvz_mem_host h = host_1g();
	struct nvz_mem_ct cts[2] = { ct_256(101, 128, 2), ct_256(2602, 64, 0) };
	char *t = nvz_memcheck_format(&h, cts, 1, true, false);
	cr_assert_str_eq(t, "Output values in %\n"
			    "CTID        LowMem  LowMem     RAM MemSwap MemSwap   Alloc   Alloc   Alloc\n"
			    "              util  commit    util    util  commit    util  commit   limit\n"
			    "101           0.98   62.50   12.50    6.25   25.00    6.25   25.00   50.00\n"
			    "--------------------------------------------------------------------------\n"
			    "Summary:      0.98   62.50   12.50    6.25   25.00    6.25   25.00   50.00\n");
	free(t);
	t = nvz_memcheck_format(&h, cts, 2, false, false);
	cr_assert_str_eq(t, "Output values in %\n"
			    " LowMem  LowMem     RAM MemSwap MemSwap   Alloc   Alloc   Alloc\n"
			    "   util  commit    util    util  commit    util  commit   limit\n"
			    "   1.95  125.00   18.75    9.38   50.00    9.38   50.00 "
			    "1759218604441650.00\n");
	free(t);
	t = nvz_memcheck_format(&h, cts, 1, true, true);
	cr_assert_str_eq(t, "Output values in Mbytes\n"
			    "CTID        LowMem  LowMem     RAM MemSwap MemSwap   Alloc   Alloc   Alloc\n"
			    "              util  commit    util    util  commit    util  commit   limit\n"
			    "101           4.00  256.00  128.00  128.00  512.00  128.00  512.00 1024.00\n"
			    "--------------------------------------------------------------------------\n"
			    "Summary:      4.00  256.00  128.00  128.00  512.00  128.00  512.00 1024.00\n"
			    "            409.60  409.60 1024.00 2048.00 2048.00 2048.00 2048.00 2048.00\n");
	free(t);
	t = nvz_memcheck_format(&h, NULL, 0, false, true);
	cr_assert_str_eq(t, "Output values in Mbytes\n"
			    " LowMem  LowMem     RAM MemSwap MemSwap   Alloc   Alloc   Alloc\n"
			    "   util  commit    util    util  commit    util  commit   limit\n"
			    "   0.00    0.00    0.00    0.00    0.00    0.00    0.00    0.00\n"
			    " 409.60  409.60 1024.00 2048.00 2048.00 2048.00 2048.00 2048.00\n");
	free(t);
}

/* vzcalc: each row, the Memory row the largest of each column, n/a for the
 * Current of a CT that does not run. */
Test(memcheck, calc)
{
	struct nvz_mem_host h = host_1g();
	struct nvz_mem_ct ct = ct_256(101, 128, 2);
	struct nvz_calc c;
	nvz_calc_compute(&h, &ct, &c);
	cr_assert_float_eq(c.tr_cur, 0.125, 1e-12);
	cr_assert_float_eq(c.np_cur, 0.01, 1e-12);
	cr_assert_float_eq(c.np_max, 0.1, 1e-12);
	cr_assert_float_eq(c.cur, 0.125, 1e-12);
	cr_assert_float_eq(c.prm, 256 / (0.4 * 1024), 1e-12);
	cr_assert_float_eq(c.max, 256 / (0.4 * 1024), 1e-12);
	char *t = nvz_calc_format(&c, true);
	cr_assert_str_eq(t, "Resource     Current(%)  Promised(%)  Max(%)\n"
			    "Low Mem          0.98      62.50      62.50\n"
			    "Total RAM       12.50        n/a        n/a \n"
			    "Mem + Swap       6.25      25.00        n/a\n"
			    "Alloc. Mem       6.25      25.00      50.00\n"
			    "Num. Proc        1.00        n/a      10.00\n"
			    "--------------------------------------------\n"
			    "Memory          12.50      62.50      62.50\n");
	free(t);
	ct.running = false;
	nvz_calc_compute(&h, &ct, &c);
	t = nvz_calc_format(&c, false);
	cr_assert_str_eq(t, "Resource     Current(%)  Promised(%)  Max(%)\n"
			    "Memory            n/a      62.50      62.50\n");
	free(t);
	t = nvz_calc_format(&c, true);
	cr_assert_not_null(strstr(t, "Total RAM         n/a        n/a        n/a \n"), "%s", t);
	free(t);
}
