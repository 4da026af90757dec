/* Resources: OpenVZ's beancounter parameters (UBC), CPU and IO settings,
 * parsed from options and config values, and mapped onto cgroup limits. */
#ifndef NVZ_RES_H
#define NVZ_RES_H

#include <stdbool.h>
#include <stdint.h>

#include "nvz/error.h"

#define NVZ_UNLIMITED UINT64_MAX /* OpenVZ prints it as LONG_MAX */

enum nvz_ubc_unit { NVZ_UNIT_ITEMS, NVZ_UNIT_PAGES, NVZ_UNIT_BYTES };

/* Every beancounter, in /proc/user_beancounters order. */
enum nvz_ubc_id {
	UBC_KMEMSIZE, UBC_LOCKEDPAGES, UBC_PRIVVMPAGES, UBC_SHMPAGES, UBC_NUMPROC,
	UBC_PHYSPAGES, UBC_VMGUARPAGES, UBC_OOMGUARPAGES, UBC_NUMTCPSOCK, UBC_NUMFLOCK,
	UBC_NUMPTY, UBC_NUMSIGINFO, UBC_TCPSNDBUF, UBC_TCPRCVBUF, UBC_OTHERSOCKBUF,
	UBC_DGRAMRCVBUF, UBC_NUMOTHERSOCK, UBC_DCACHESIZE, UBC_NUMFILE, UBC_NUMIPTENT,
	UBC_SWAPPAGES,
	UBC_COUNT,
};

struct nvz_ubc_info {
	const char *name;      /* "kmemsize": option --kmemsize, vzlist field */
	const char *key;       /* "KMEMSIZE": config key */
	enum nvz_ubc_unit unit;
	bool same_bl;          /* barrier and limit should be equal (man page) */
};

const struct nvz_ubc_info *nvz_ubc_info(enum nvz_ubc_id id);
/* By option/field name or config key (case-insensitive); -1 if unknown.
 * Accepts the aliases DCACHE and IPTENTRIES. */
int nvz_ubc_lookup(const char *name);

/* A barrier:limit pair in the parameter's own unit (pages for *pages). */
struct nvz_ubc_value {
	uint64_t barrier, limit;
	bool set;
};

/* Parse "B[:L]" as vzctl does: numbers with optional K/M/G/T (x1024^n), P
 * (pages) or B (bytes) suffix, or "unlimited"; a single value sets both.
 * Suffixes are refused for item counts; the result is in the param's unit;
 * numbers from LONG_MAX up read as unlimited (a config's value).
 * Errors (status 21): "Bad parameter for --NAME: X", barrier > limit. */
int nvz_ubc_parse(enum nvz_ubc_id id, const char *text, struct nvz_ubc_value *out,
		  struct nvz_error **err);
/* The same for the value of a command line option: a number above LONG_MAX
 * is refused, as vzctl refuses it ("Bad parameter for --NAME: X", 21). */
int nvz_ubc_parse_option(enum nvz_ubc_id id, const char *text, struct nvz_ubc_value *out,
			 struct nvz_error **err);
/* The same syntax, but a barrier above the limit is returned as read, not
 * refused: vzcfgvalidate reports it in OpenVZ's words and can repair it. */
int nvz_ubc_parse_pair(enum nvz_ubc_id id, const char *text, struct nvz_ubc_value *out,
		       struct nvz_error **err);
/* Config form: "B:L" in the param's unit, "unlimited" spelled out. */
char *nvz_ubc_format(const struct nvz_ubc_value *v);

/* A size in bytes with the number syntax of a byte beancounter. */
int nvz_parse_bytes(const char *text, uint64_t *bytes, struct nvz_error **err);
/* --ram / --swap (option: "ram", "swap"): bytes, rounded up to pages as
 * vzctl does, for PHYSPAGES="0:pages" / SWAPPAGES="0:pages"; NVZ_UNLIMITED
 * for "unlimited". Above LONG_MAX: "Bad parameter for --ram: X" (21). */
int nvz_vswap_pages(const char *option, const char *text, uint64_t *pages, struct nvz_error **err);

/* CPUUNITS of a CT whose configs do not set it. */
#define NVZ_CPUUNITS_DEFAULT 1000
/* The largest CPUS (the largest CONFIG_NR_CPUS). */
#define NVZ_CPUS_MAX 8192

/* What the kernel is asked to enforce, computed from a CT's settings.
 * NVZ_UNLIMITED where there is no limit; 0 for "not set" on the others. */
struct nvz_res_limits {
	uint64_t mem_bytes;        /* physpages limit (VSwap RAM), or derived */
	uint64_t memsw_bytes;      /* RAM + swap */
	uint64_t tcp_bytes;        /* tcpsndbuf + tcprcvbuf limits (v1 kmem.tcp) */
	uint64_t pids;             /* numproc limit */
	unsigned cpu_units;        /* CPUUNITS (OpenVZ 8..500000, default 1000) */
	unsigned cpu_limit_pct;    /* CPULIMIT, % of one CPU, 0 = none */
	unsigned cpus;             /* CPUS, 0 = all */
	char cpumask[256];         /* CPUMASK as a cpuset list, "" = all ("auto" resolved) */
	char nodemask[64];         /* NODEMASK, NUMA nodes for memory, "" = all */
	uint64_t io_bps;           /* IOLIMIT bytes/s, 0 = none */
	uint64_t io_iops;          /* IOPSLIMIT, 0 = none */
	unsigned io_prio;          /* IOPRIO 0..7, default 4 */
};

/* Config lookup used by the computations below (CT file, then vz.conf). */
typedef const char *(*nvz_res_get_fn)(void *data, const char *key);

/* Fill limits from a CT's effective settings, as OpenVZ did on upstream
 * kernels: PHYSPAGES limit -> memory (without VSwap: PRIVVMPAGES' limit, else
 * the largest of the OOMGUARPAGES/VMGUARPAGES barriers); memory + SWAPPAGES
 * limit -> memory+swap; TCPSNDBUF+TCPRCVBUF limits, when both are set -> TCP
 * buffer memory; NUMPROC ->
 * pids; CPU and IO keys as they are. Status 21 on a malformed value. */
/* Whether beancounter id is what the memory limit is made of in these
 * settings (PHYSPAGES in a VSwap config; without VSwap PRIVVMPAGES' limit,
 * else the guarantees' barriers). */
bool nvz_res_sets_memory(nvz_res_get_fn get, void *data, enum nvz_ubc_id id);
int nvz_res_compute(nvz_res_get_fn get, void *data, struct nvz_res_limits *out,
		    struct nvz_error **err);

/* Option values that are not beancounters. Each returns the normalised
 * config value (malloc'd) or NULL with status 21 and OpenVZ's message. */
char *nvz_res_parse_cpulimit(const char *text, struct nvz_error **err);  /* "25", "25%" */
char *nvz_res_parse_cpumask(const char *text, struct nvz_error **err);   /* "0-2,7", "all", "auto" */
char *nvz_res_parse_nodemask(const char *text, struct nvz_error **err);  /* "0-1", "all" */
char *nvz_res_parse_iolimit(const char *text, struct nvz_error **err);   /* "10" MB/s, "5M", "0" */
char *nvz_res_parse_uint(const char *key, const char *text, unsigned long min, unsigned long max,
			 struct nvz_error **err); /* CPUUNITS 8..500000, CPUS, IOPRIO 0..7, IOPSLIMIT */

/* Device access: DEVNODES "net/tun:rw ..." and DEVICES "c:10:200:rw ...". */
struct nvz_dev_rule {
	char type;             /* 'c', 'b' or 'a' (all) */
	long major, minor;     /* -1 = any */
	bool read, write, mknod;
	char node[64];         /* DEVNODES: path under /dev, "" for DEVICES rules */
};
/* Parse one --devnodes / --devices value; node names are resolved to
 * major:minor with stat(2) on the host's /dev (status 86 on error). */
int nvz_res_parse_devnode(const char *text, struct nvz_dev_rule *out, struct nvz_error **err);
int nvz_res_parse_device(const char *text, struct nvz_dev_rule *out, struct nvz_error **err);

#endif
