/* Unit tests of lib/res: beancounter values and the UBC -> limits
 * computation (CPU/IO values and device rules: test_res_values.c). */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nvz/error.h"
#include "nvz/res.h"
#include "expect_err.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static uint64_t ps(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (uint64_t)p : 4096;
}

static struct nvz_ubc_value parse_ok(enum nvz_ubc_id id, const char *text)
{
	struct nvz_ubc_value v = {0};
	struct nvz_error *err = NULL;
	int r = nvz_ubc_parse(id, text, &v, &err);
	cr_assert_eq(r, 0, "parse %s '%s': %s", nvz_ubc_info(id)->name, text, err ? err->msg : "?");
	cr_assert(v.set);
	return v;
}

static void parse_bad(enum nvz_ubc_id id, const char *text, const char *msg)
{
	struct nvz_ubc_value v = {.barrier = 7, .limit = 7};
	struct nvz_error *err = NULL;
	int r = nvz_ubc_parse(id, text, &v, &err);
	expect_err(r, &err, NVZ_E_VALUE, msg, text);
	cr_assert(!v.set && v.barrier == 7, "output changed on error");
}

/* ---- table ---- */

Test(ubc, table_in_proc_order)
{
	static const char *const proc[] = {
		"kmemsize",   "lockedpages", "privvmpages",  "shmpages",     "numproc",
		"physpages",  "vmguarpages", "oomguarpages", "numtcpsock",   "numflock",
		"numpty",     "numsiginfo",  "tcpsndbuf",    "tcprcvbuf",    "othersockbuf",
		"dgramrcvbuf", "numothersock", "dcachesize", "numfile",      "numiptent",
		"swappages",
	};
	cr_assert_eq(sizeof(proc) / sizeof(proc[0]), UBC_COUNT);
	for (int i = 0; i < UBC_COUNT; i++) {
		const struct nvz_ubc_info *in = nvz_ubc_info(i);
		cr_assert_not_null(in);
		cr_assert_str_eq(in->name, proc[i]);
		for (size_t j = 0; in->name[j]; j++)
			cr_assert_eq(in->key[j], in->name[j] - 'a' + 'A');
		cr_assert_eq(nvz_ubc_lookup(in->name), i);
		cr_assert_eq(nvz_ubc_lookup(in->key), i);
		bool pages = strstr(in->name, "pages") != NULL;
		bool items = strncmp(in->name, "num", 3) == 0;
		cr_assert_eq(in->unit, pages ? NVZ_UNIT_PAGES : items ? NVZ_UNIT_ITEMS : NVZ_UNIT_BYTES,
			     "%s unit", in->name);
	}
	cr_assert_null(nvz_ubc_info(UBC_COUNT));
	cr_assert_null(nvz_ubc_info(-1));
	cr_assert(nvz_ubc_info(UBC_NUMPROC)->same_bl);
	cr_assert(!nvz_ubc_info(UBC_KMEMSIZE)->same_bl);
}

Test(ubc, lookup)
{
	cr_assert_eq(nvz_ubc_lookup("KmemSize"), UBC_KMEMSIZE);
	cr_assert_eq(nvz_ubc_lookup("DCACHE"), UBC_DCACHESIZE);
	cr_assert_eq(nvz_ubc_lookup("dcache"), UBC_DCACHESIZE);
	cr_assert_eq(nvz_ubc_lookup("IPTENTRIES"), UBC_NUMIPTENT);
	cr_assert_eq(nvz_ubc_lookup("avnumproc"), -1);
	cr_assert_eq(nvz_ubc_lookup("kmem"), -1);
	cr_assert_eq(nvz_ubc_lookup(""), -1);
	cr_assert_eq(nvz_ubc_lookup(NULL), -1);
}

/* ---- value syntax ---- */

Test(ubc, plain_and_pairs)
{
	struct nvz_ubc_value v = parse_ok(UBC_NUMPROC, "100");
	cr_assert(v.barrier == 100 && v.limit == 100);
	v = parse_ok(UBC_NUMPROC, "80:100");
	cr_assert(v.barrier == 80 && v.limit == 100);
	v = parse_ok(UBC_NUMPROC, "0");
	cr_assert(v.barrier == 0 && v.limit == 0);
	v = parse_ok(UBC_PHYSPAGES, "unlimited");
	cr_assert(v.barrier == NVZ_UNLIMITED && v.limit == NVZ_UNLIMITED);
	v = parse_ok(UBC_PHYSPAGES, "0:unlimited");
	cr_assert(v.barrier == 0 && v.limit == NVZ_UNLIMITED);
	v = parse_ok(UBC_KMEMSIZE, "14372700:14790164");
	cr_assert(v.barrier == 14372700 && v.limit == 14790164);
	v = parse_ok(UBC_NUMPROC, "1.9");
	cr_assert(v.barrier == 1 && v.limit == 1, "floats are truncated");
}

Test(ubc, suffixes_pages)
{
	struct nvz_ubc_value v = parse_ok(UBC_PRIVVMPAGES, "512M");
	cr_assert_eq(v.limit, 512 * MiB / ps());
	cr_assert_eq(v.barrier, v.limit);
	if (ps() == 4096)
		cr_assert_eq(v.limit, 131072);
	cr_assert_eq(parse_ok(UBC_PRIVVMPAGES, "10P").limit, 10);
	cr_assert_eq(parse_ok(UBC_PRIVVMPAGES, "10p").limit, 10);
	cr_assert_eq(parse_ok(UBC_PHYSPAGES, "0:256M").limit, 256 * MiB / ps());
	cr_assert_eq(parse_ok(UBC_PHYSPAGES, "0:256M").barrier, 0);
	cr_assert_eq(parse_ok(UBC_SWAPPAGES, "1.5G").limit, 3 * GiB / 2 / ps());
	cr_assert_eq(parse_ok(UBC_SWAPPAGES, "2T").limit, 2048 * GiB / ps());
	cr_assert_eq(parse_ok(UBC_SWAPPAGES, "64k").limit, 64 * 1024 / ps());
	cr_assert_eq(parse_ok(UBC_SWAPPAGES, "8192B").limit, 8192 / ps());
	cr_assert_eq(parse_ok(UBC_SWAPPAGES, "100B").limit, 0, "bytes below a page truncate");
	v = parse_ok(UBC_VMGUARPAGES, "1G:unlimited");
	cr_assert(v.barrier == GiB / ps() && v.limit == NVZ_UNLIMITED);
}

Test(ubc, suffixes_bytes)
{
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "4M").limit, 4194304);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "10P").limit, 10 * ps());
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "1K").limit, 1024);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "1.5G").limit, 1610612736);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "0.5K").limit, 512);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "3T").limit, 3 * 1024 * GiB);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "77B").limit, 77);
	struct nvz_ubc_value v = parse_ok(UBC_TCPSNDBUF, "4M:5M");
	cr_assert(v.barrier == 4 * MiB && v.limit == 5 * MiB);
}

Test(ubc, saturation_to_unlimited)
{
	/* OpenVZ wrote unlimited as LONG_MAX; that and anything above reads
	 * back as unlimited, whatever the spelling. */
	cr_assert_eq(parse_ok(UBC_NUMPROC, "9223372036854775807").limit, NVZ_UNLIMITED);
	cr_assert_eq(parse_ok(UBC_NUMPROC, "9223372036854775806").limit, 9223372036854775806ULL);
	cr_assert_eq(parse_ok(UBC_NUMPROC, "18446744073709551615").limit, NVZ_UNLIMITED);
	cr_assert_eq(parse_ok(UBC_NUMPROC, "99999999999999999999999999").limit, NVZ_UNLIMITED);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "99999999T").limit, NVZ_UNLIMITED);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "8388608T").limit, NVZ_UNLIMITED);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "8388607T").limit, 8388607ULL << 40);
	cr_assert_eq(parse_ok(UBC_KMEMSIZE, "9999999999.5T").limit, NVZ_UNLIMITED);
	struct nvz_ubc_value v = parse_ok(UBC_PHYSPAGES, "0:9223372036854775807");
	cr_assert(v.barrier == 0 && v.limit == NVZ_UNLIMITED);
	cr_assert_eq(parse_ok(UBC_PHYSPAGES, "UNLIMITED").limit, NVZ_UNLIMITED);
}

/* On the command line vzctl refuses what it would truncate to LONG_MAX
 * (ERR_LONG_TRUNC and strtoull's ERANGE are "Bad parameter", 21). */
Test(ubc, option_refuses_above_long_max)
{
	static const char *const over[] = {
		"9223372036854775808", "18446744073709551615", "99999999999999999999999999",
		"8388608T", "99999999T", "0:9223372036854775808", "9999999999.5T", "1:8388608t",
	};
	for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		struct nvz_ubc_value v = {0};
		struct nvz_error *err = NULL;
		char want[96];
		snprintf(want, sizeof(want), "Bad parameter for --kmemsize: %s", over[i]);
		expect_err(nvz_ubc_parse_option(UBC_KMEMSIZE, over[i], &v, &err), &err, NVZ_E_VALUE,
			   want, over[i]);
		cr_assert(!v.set);
	}
	struct nvz_ubc_value v = {0};
	struct nvz_error *err = NULL;
	/* LONG_MAX itself and the word are unlimited, as vzctl stores them */
	cr_assert_eq(nvz_ubc_parse_option(UBC_NUMPROC, "9223372036854775807", &v, &err), 0);
	cr_assert_eq(v.limit, NVZ_UNLIMITED);
	cr_assert_eq(nvz_ubc_parse_option(UBC_KMEMSIZE, "8388607T:unlimited", &v, &err), 0);
	cr_assert(v.barrier == 8388607ULL << 40 && v.limit == NVZ_UNLIMITED);
	cr_assert_eq(nvz_ubc_parse_option(UBC_PRIVVMPAGES, "256M:512M", &v, &err), 0);
	cr_assert(v.barrier == 256 * MiB / ps() && v.limit == 512 * MiB / ps());
	cr_assert_null(err);
	expect_err(nvz_ubc_parse_option(UBC_NUMPROC, "10K", &v, &err), &err, NVZ_E_VALUE,
		   "Bad parameter for --numproc: 10K", "suffix on items");
	expect_err(nvz_ubc_parse_option(UBC_NUMPROC, "12:10", &v, &err), &err, NVZ_E_VALUE,
		   "Bad parameter for --numproc: 12:10 (barrier 12 is greater than limit 10)",
		   "barrier above limit");
}

/* --ram/--swap: vzctl rounds bytes up to whole pages. */
Test(ubc, vswap_pages)
{
	uint64_t p = 7;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_vswap_pages("ram", "256M", &p, &err), 0);
	cr_assert_eq(p, 256 * MiB / ps());
	cr_assert_eq(nvz_vswap_pages("ram", "1", &p, &err), 0);
	cr_assert_eq(p, 1, "a byte is a page");
	cr_assert_eq(nvz_vswap_pages("swap", "0", &p, &err), 0);
	cr_assert_eq(p, 0);
	char text[32];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)ps() + 1);
	cr_assert_eq(nvz_vswap_pages("ram", text, &p, &err), 0);
	cr_assert_eq(p, 2);
	cr_assert_eq(nvz_vswap_pages("ram", "1.5K", &p, &err), 0);
	cr_assert_eq(p, 1);
	cr_assert_eq(nvz_vswap_pages("swap", "unlimited", &p, &err), 0);
	cr_assert_eq(p, NVZ_UNLIMITED);
	cr_assert_null(err);
	expect_err(nvz_vswap_pages("ram", "abc", &p, &err), &err, NVZ_E_VALUE,
		   "Bad parameter for --ram: abc", "abc");
	expect_err(nvz_vswap_pages("swap", "1:2", &p, &err), &err, NVZ_E_VALUE,
		   "Bad parameter for --swap: 1:2", "pair");
	expect_err(nvz_vswap_pages("ram", "99999999999999999999", &p, &err), &err, NVZ_E_VALUE,
		   "Bad parameter for --ram: 99999999999999999999", "overflow");
}

Test(ubc, garbage)
{
	parse_bad(UBC_NUMPROC, "abc", "Bad parameter for --numproc: abc");
	parse_bad(UBC_NUMPROC, "10K", "Bad parameter for --numproc: 10K");
	parse_bad(UBC_NUMFILE, "1P", "Bad parameter for --numfile: 1P");
	parse_bad(UBC_KMEMSIZE, "", "Bad parameter for --kmemsize: ");
	parse_bad(UBC_KMEMSIZE, NULL, "Bad parameter for --kmemsize: ");
	static const char *const bad[] = {
		"-5", "+5", " 5", "5 ", "5:", ":5", "1:2:3", "5X", "5MB", "1.", ".5", "1.5.2",
		"unlimitedK", "unlimited:", "0x10", "1e3", "5:-1", "nan", "inf", "5\n", "1,5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "Bad parameter for --privvmpages: %s", bad[i]);
		parse_bad(UBC_PRIVVMPAGES, bad[i], want);
	}
	struct nvz_ubc_value v;
	struct nvz_error *err = NULL;
	expect_err(nvz_ubc_parse(UBC_COUNT, "1", &v, &err), &err, NVZ_E_VALUE, NULL, "bad id");
}

Test(ubc, barrier_above_limit)
{
	parse_bad(UBC_NUMPROC, "100:50",
		  "Bad parameter for --numproc: 100:50 (barrier 100 is greater than limit 50)");
	parse_bad(UBC_PRIVVMPAGES, "unlimited:5",
		  "Bad parameter for --privvmpages: unlimited:5 (barrier unlimited is greater than limit 5)");
	char want[128];
	snprintf(want, sizeof(want),
		 "Bad parameter for --physpages: 2M:1M (barrier %llu is greater than limit %llu)",
		 (unsigned long long)(2 * MiB / ps()), (unsigned long long)(MiB / ps()));
	parse_bad(UBC_PHYSPAGES, "2M:1M", want);
	/* equal is fine */
	parse_ok(UBC_NUMPROC, "50:50");
}

Test(ubc, format)
{
	struct nvz_ubc_value v = {.barrier = 1, .limit = 2, .set = true};
	char *s = nvz_ubc_format(&v);
	cr_assert_str_eq(s, "1:2");
	free(s);
	v = (struct nvz_ubc_value){.barrier = 0, .limit = NVZ_UNLIMITED, .set = true};
	s = nvz_ubc_format(&v);
	cr_assert_str_eq(s, "0:unlimited");
	free(s);
	v = (struct nvz_ubc_value){.barrier = NVZ_UNLIMITED, .limit = NVZ_UNLIMITED, .set = true};
	s = nvz_ubc_format(&v);
	cr_assert_str_eq(s, "unlimited:unlimited");
	free(s);
	v = (struct nvz_ubc_value){.barrier = (uint64_t)LONG_MAX, .limit = (uint64_t)LONG_MAX};
	s = nvz_ubc_format(&v);
	cr_assert_str_eq(s, "unlimited:unlimited");
	free(s);
	cr_assert_null(nvz_ubc_format(NULL));
}

Test(ubc, format_parse_round_trip)
{
	uint64_t vals[200];
	size_t n = 0;
	static const uint64_t fixed[] = {
		0, 1, 2, 7, 100, 4095, 4096, 4097, 65536, 131072, 262144, 14372700, 14790164,
		(uint64_t)INT_MAX, (uint64_t)UINT32_MAX, (uint64_t)LONG_MAX - 1, NVZ_UNLIMITED,
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		vals[n++] = fixed[i];
	for (int sh = 0; sh < 63; sh++)
		vals[n++] = 1ULL << sh;
	uint64_t x = 0x9E3779B97F4A7C15ULL; /* deterministic pseudo-random values */
	while (n < sizeof(vals) / sizeof(vals[0])) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		vals[n++] = (x >> (x % 60)) & (uint64_t)LONG_MAX;
	}
	for (int id = 0; id < UBC_COUNT; id++) {
		for (size_t i = 0; i < n; i++) {
			for (size_t j = i; j < n && j < i + 3; j++) {
				uint64_t b = vals[i] < vals[j] ? vals[i] : vals[j];
				uint64_t l = vals[i] < vals[j] ? vals[j] : vals[i];
				if (l >= (uint64_t)LONG_MAX && l != NVZ_UNLIMITED)
					continue; /* stands for unlimited: checked above */
				struct nvz_ubc_value v = {.barrier = b, .limit = l, .set = true};
				char *s = nvz_ubc_format(&v);
				cr_assert_not_null(s);
				struct nvz_ubc_value back = parse_ok(id, s);
				cr_assert(back.barrier == b && back.limit == l, "%s: %s", nvz_ubc_info(id)->name, s);
				free(s);
			}
		}
	}
}

Test(ubc, parse_bytes)
{
	uint64_t b = 1;
	struct nvz_error *err = NULL;
	cr_assert_eq(nvz_parse_bytes("64M", &b, &err), 0);
	cr_assert_eq(b, 67108864);
	cr_assert_eq(nvz_parse_bytes("0", &b, &err), 0);
	cr_assert_eq(b, 0);
	cr_assert_eq(nvz_parse_bytes("1G", &b, &err), 0);
	cr_assert_eq(b, GiB);
	cr_assert_eq(nvz_parse_bytes("1.5K", &b, &err), 0);
	cr_assert_eq(b, 1536);
	cr_assert_eq(nvz_parse_bytes("1000", &b, &err), 0);
	cr_assert_eq(b, 1000, "default unit is bytes");
	cr_assert_eq(nvz_parse_bytes("2t", &b, &err), 0);
	cr_assert_eq(b, 2048 * GiB);
	cr_assert_eq(nvz_parse_bytes("unlimited", &b, &err), 0);
	cr_assert_eq(b, NVZ_UNLIMITED);
	cr_assert_null(err);
	static const char *const bad[] = {"64Q", "", "-1", "1:2", "M", "64M ", "abc", "1.2.3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = 5;
		err = NULL;
		expect_err(nvz_parse_bytes(bad[i], &b, &err), &err, NVZ_E_VALUE, NULL, bad[i]);
		cr_assert_eq(b, 5);
	}
	err = NULL;
	expect_err(nvz_parse_bytes(NULL, &b, &err), &err, NVZ_E_VALUE, NULL, "NULL");
}

/* ---- nvz_res_compute ---- */

struct kv {
	const char *k, *v;
};

static const char *kv_get(void *data, const char *key)
{
	for (const struct kv *p = data; p->k; p++)
		if (strcmp(p->k, key) == 0)
			return p->v;
	return NULL;
}

static struct nvz_res_limits compute_ok(const struct kv *conf)
{
	struct nvz_res_limits l;
	struct nvz_error *err = NULL;
	memset(&l, 0xa5, sizeof(l));
	int r = nvz_res_compute(kv_get, (void *)conf, &l, &err);
	cr_assert_eq(r, 0, "compute: %s", err ? err->msg : "?");
	return l;
}

static void compute_bad(const struct kv *conf, const char *msg)
{
	struct nvz_res_limits l;
	struct nvz_error *err = NULL;
	int r = nvz_res_compute(kv_get, (void *)conf, &l, &err);
	expect_err(r, &err, NVZ_E_VALUE, msg, conf[0].k);
}

Test(compute, defaults)
{
	struct kv conf[] = {{"NAME", "x"}, {"PHYSPAGES", ""}, {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, NVZ_UNLIMITED);
	cr_assert_eq(l.memsw_bytes, NVZ_UNLIMITED);
	cr_assert_eq(l.tcp_bytes, NVZ_UNLIMITED);
	cr_assert_eq(l.pids, NVZ_UNLIMITED);
	cr_assert_eq(l.cpu_units, 1000);
	cr_assert_eq(l.cpu_limit_pct, 0);
	cr_assert_eq(l.cpus, 0);
	cr_assert_str_eq(l.cpumask, "");
	cr_assert_eq(l.io_bps, 0);
	cr_assert_eq(l.io_iops, 0);
	cr_assert_eq(l.io_prio, 4);
}

Test(compute, guide_loop_512m)
{
	/* for t in vmguarpages oomguarpages privvmpages; do vzctl set --$t 512M */
	char pages[32];
	snprintf(pages, sizeof(pages), "%llu:%llu", (unsigned long long)(512 * MiB / ps()),
		 (unsigned long long)(512 * MiB / ps()));
	struct kv conf[] = {
		{"VMGUARPAGES", pages}, {"OOMGUARPAGES", pages}, {"PRIVVMPAGES", pages}, {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, 512 * MiB);
	cr_assert_eq(l.memsw_bytes, 512 * MiB);
	/* the same written with suffixes, as older tools left them */
	struct kv conf2[] = {
		{"VMGUARPAGES", "512M"}, {"OOMGUARPAGES", "512M"}, {"PRIVVMPAGES", "512M"}, {NULL, NULL}};
	l = compute_ok(conf2);
	cr_assert_eq(l.mem_bytes, 512 * MiB);
	cr_assert_eq(l.memsw_bytes, 512 * MiB);
}

Test(compute, pre_vswap_sample)
{
	/* ve-basic: privvmpages is the cap, guarantees are below it */
	struct kv conf[] = {{"PHYSPAGES", "0:9223372036854775807"},
			    {"PRIVVMPAGES", "65536:69632"},
			    {"VMGUARPAGES", "33792:9223372036854775807"},
			    {"OOMGUARPAGES", "26112:9223372036854775807"},
			    {"SWAPPAGES", "0:unlimited"},
			    {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, 69632 * ps());
	cr_assert_eq(l.memsw_bytes, 69632 * ps(), "privvmpages caps RAM+swap together");
}

Test(compute, guarantees_only)
{
	struct kv conf[] = {{"VMGUARPAGES", "33792:unlimited"},
			    {"OOMGUARPAGES", "26112:unlimited"},
			    {"PRIVVMPAGES", "unlimited"},
			    {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, 33792 * ps(), "the largest guarantee");
	struct kv zero[] = {{"VMGUARPAGES", "0:unlimited"}, {"OOMGUARPAGES", "0:unlimited"}, {NULL, NULL}};
	l = compute_ok(zero);
	cr_assert_eq(l.mem_bytes, NVZ_UNLIMITED, "a guarantee of 0 is no limit");
	cr_assert_eq(l.memsw_bytes, NVZ_UNLIMITED);
}

Test(compute, pre_vswap_with_swap)
{
	struct kv conf[] = {{"PRIVVMPAGES", "512M"}, {"SWAPPAGES", "0:256M"}, {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, 512 * MiB);
	cr_assert_eq(l.memsw_bytes, 768 * MiB);
}

Test(compute, vswap)
{
	/* vzctl set --ram 64M --swap 0 --save */
	char phys[32];
	snprintf(phys, sizeof(phys), "0:%llu", (unsigned long long)(64 * MiB / ps()));
	struct kv conf[] = {{"PHYSPAGES", phys}, {"SWAPPAGES", "0:0"}, {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, 64 * MiB);
	cr_assert_eq(l.memsw_bytes, 64 * MiB);

	/* then --swappages 2G:2G */
	struct kv conf2[] = {{"PHYSPAGES", phys}, {"SWAPPAGES", "2G:2G"}, {NULL, NULL}};
	l = compute_ok(conf2);
	cr_assert_eq(l.mem_bytes, 64 * MiB);
	cr_assert_eq(l.memsw_bytes, 64 * MiB + 2 * GiB);
	char swap[48];
	snprintf(swap, sizeof(swap), "%llu:%llu", (unsigned long long)(2 * GiB / ps()),
		 (unsigned long long)(2 * GiB / ps()));
	struct kv conf3[] = {{"PHYSPAGES", phys}, {"SWAPPAGES", swap}, {NULL, NULL}};
	l = compute_ok(conf3);
	cr_assert_eq(l.memsw_bytes, 64 * MiB + 2 * GiB);

	/* vswap-256m sample; VSwap wins over pre-VSwap parameters */
	struct kv sample[] = {{"PHYSPAGES", "0:256M"}, {"SWAPPAGES", "0:512M"},
			      {"PRIVVMPAGES", "100M"}, {NULL, NULL}};
	l = compute_ok(sample);
	cr_assert_eq(l.mem_bytes, 256 * MiB);
	cr_assert_eq(l.memsw_bytes, 768 * MiB);

	struct kv unl[] = {{"PHYSPAGES", "0:256M"}, {"SWAPPAGES", "0:unlimited"}, {NULL, NULL}};
	l = compute_ok(unl);
	cr_assert_eq(l.mem_bytes, 256 * MiB);
	cr_assert_eq(l.memsw_bytes, NVZ_UNLIMITED);

	struct kv noswap[] = {{"PHYSPAGES", "0:256M"}, {NULL, NULL}};
	l = compute_ok(noswap);
	cr_assert_eq(l.memsw_bytes, 256 * MiB, "VSwap without SWAPPAGES: no swap");
}

Test(compute, huge_pages_saturate)
{
	struct kv conf[] = {{"PHYSPAGES", "0:9223372036854775806"}, {"SWAPPAGES", "0:1"}, {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.mem_bytes, NVZ_UNLIMITED);
	cr_assert_eq(l.memsw_bytes, NVZ_UNLIMITED);
}

Test(compute, tcp_and_pids)
{
	struct kv both[] = {{"TCPSNDBUF", "4M:5M"}, {"TCPRCVBUF", "4M:6M"}, {"NUMPROC", "240:240"},
			    {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(both);
	cr_assert_eq(l.tcp_bytes, 11 * MiB);
	cr_assert_eq(l.pids, 240);
	/* one half alone cannot be enforced on one counter */
	struct kv one[] = {{"TCPSNDBUF", "4M:5M"}, {NULL, NULL}};
	l = compute_ok(one);
	cr_assert_eq(l.tcp_bytes, NVZ_UNLIMITED);
	struct kv unl[] = {{"TCPSNDBUF", "4M:5M"}, {"TCPRCVBUF", "unlimited"}, {"NUMPROC", "unlimited"},
			   {NULL, NULL}};
	l = compute_ok(unl);
	cr_assert_eq(l.tcp_bytes, NVZ_UNLIMITED);
	cr_assert_eq(l.pids, NVZ_UNLIMITED);
	struct kv bare[] = {{"TCPSNDBUF", "1720320:2703360"}, {"TCPRCVBUF", "1720320:2703360"},
			    {NULL, NULL}};
	l = compute_ok(bare);
	cr_assert_eq(l.tcp_bytes, 2 * 2703360ULL);
}

Test(compute, cpu_and_io)
{
	struct kv conf[] = {{"CPUUNITS", "2000"}, {"CPULIMIT", "25"},      {"CPUS", "1"},
			    {"CPUMASK", "0"},     {"IOLIMIT", "10485760"}, {"IOPSLIMIT", "100"},
			    {"IOPRIO", "7"},      {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(conf);
	cr_assert_eq(l.cpu_units, 2000);
	cr_assert_eq(l.cpu_limit_pct, 25);
	cr_assert_eq(l.cpus, 1);
	cr_assert_str_eq(l.cpumask, "0");
	cr_assert_eq(l.io_bps, 10485760, "IOLIMIT in config is bytes/s");
	struct kv big[] = {{"IOLIMIT", "3221225472"}, {NULL, NULL}};
	cr_assert_eq(compute_ok(big).io_bps, 2147483647, "a config's IOLIMIT is truncated");
	cr_assert_eq(l.io_iops, 100);
	cr_assert_eq(l.io_prio, 7);
	struct kv all[] = {{"CPUMASK", "all"}, {"IOPRIO", "0"}, {"IOLIMIT", "0"}, {NULL, NULL}};
	l = compute_ok(all);
	cr_assert_str_eq(l.cpumask, "");
	cr_assert_str_eq(l.nodemask, "");
	cr_assert_eq(l.io_prio, 0);
	cr_assert_eq(l.io_bps, 0);
}

/* The CPUs of node 0 as sysfs lists them (every online CPU without NUMA). */
static void node0_cpus(char *buf, size_t size)
{
	FILE *f = fopen("/sys/devices/system/node/node0/cpulist", "r");
	if (!f)
		f = fopen("/sys/devices/system/cpu/online", "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, (int)size, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

Test(compute, numa_masks)
{
	char want[256];
	node0_cpus(want, sizeof(want));
	struct kv autom[] = {{"CPUMASK", "auto"}, {"NODEMASK", "0"}, {NULL, NULL}};
	struct nvz_res_limits l = compute_ok(autom);
	cr_assert_str_eq(l.nodemask, "0");
	cr_assert_str_eq(l.cpumask, want, "auto is node 0's CPUs");
	struct kv nodes_only[] = {{"NODEMASK", "0,0"}, {NULL, NULL}};
	l = compute_ok(nodes_only);
	cr_assert_str_eq(l.nodemask, "0");
	cr_assert_str_eq(l.cpumask, "");
}

Test(compute, malformed)
{
	compute_bad((struct kv[]){{"PHYSPAGES", "garbage"}, {NULL, NULL}},
		    "Bad parameter for --physpages: garbage");
	compute_bad((struct kv[]){{"NUMPROC", "10:5"}, {NULL, NULL}},
		    "Bad parameter for --numproc: 10:5 (barrier 10 is greater than limit 5)");
	compute_bad((struct kv[]){{"CPUUNITS", "5"}, {NULL, NULL}}, "Bad parameter for --cpuunits: 5");
	compute_bad((struct kv[]){{"IOPRIO", "8"}, {NULL, NULL}}, "Bad parameter for --ioprio: 8");
	compute_bad((struct kv[]){{"CPULIMIT", "x"}, {NULL, NULL}}, "Bad parameter for --cpulimit: x");
	compute_bad((struct kv[]){{"IOLIMIT", "-1"}, {NULL, NULL}}, "Bad parameter for --iolimit: -1");
	compute_bad((struct kv[]){{"CPUMASK", "1-0"}, {NULL, NULL}}, "Bad parameter for --cpumask: 1-0");
	compute_bad((struct kv[]){{"NODEMASK", "x"}, {NULL, NULL}}, "Bad parameter for --nodemask: x");
	compute_bad((struct kv[]){{"CPUMASK", "auto"}, {NULL, NULL}},
		    "--cpumask auto option requires --nodemask");
	compute_bad((struct kv[]){{"CPUMASK", "auto"}, {"NODEMASK", "all"}, {NULL, NULL}},
		    "--cpumask auto option requires --nodemask");
	struct nvz_res_limits l;
	struct nvz_error *err = NULL;
	expect_err(nvz_res_compute(NULL, NULL, &l, &err), &err, NVZ_E_SYSTEM, NULL, "no get");
}
