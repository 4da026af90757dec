/* vzlist: the field table (src/cli-vzlist-fields.c) and the command
 * (src/vzlist.c) share these. */
#ifndef NVZ_VZLIST_H
#define NVZ_VZLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "nvz/cgroup.h"
#include "nvz/ct.h"
#include "nvz/listfmt.h"

/* In OpenVZ's order; `-s status` sorts by it. */
enum vzl_status { VZL_RUNNING, VZL_STOPPED, VZL_MOUNTED, VZL_SUSPENDED };

/* One resource: UBC held, maxheld, barrier, limit, failcnt; disk quota
 * usage, softlimit, hardlimit. Bit i of have: v[i] is known. */
enum { VZL_HELD, VZL_MAXHELD, VZL_BARRIER, VZL_LIMIT, VZL_FAILCNT };
enum { VZL_USAGE, VZL_SOFT, VZL_HARD };
struct vzl_res {
	unsigned long long v[5];
	unsigned have;
};

#define VZL_NUBC 21
enum { VZL_DISKSPACE, VZL_DISKINODES, VZL_NDQ };

/* Everything printed about one container, gathered once. */
struct vzl_ct {
	struct nvz_ct *ct;
	enum vzl_status status;
	bool exists;      /* private area present */
	bool hidden;      /* filtered out */
	const char *name; /* NAME, only if names/NAME leads back to this CT */
	double uptime;    /* seconds, < 0: not running */
	char *live_ips;   /* a running CT's addresses now (malloc'd), or NULL */
	struct vzl_res ubc[VZL_NUBC];
	struct vzl_res dq[VZL_NDQ];
};

struct vzl_field;
/* Fill *v (kind preset from the row, set=false) from the CT. */
typedef void (*vzl_get_fn)(const struct vzl_ct *c, const struct vzl_field *f,
			   struct nvz_list_val *v);
/* JSON value when it is not a plain value (resource objects). */
typedef void (*vzl_json_fn)(struct nvz_list_buf *b, const struct vzl_ct *c,
			    const struct vzl_field *f);
/* Sort order when it is not the order of the values (status). */
typedef int (*vzl_cmp_fn)(const struct vzl_ct *a, const struct vzl_ct *b);

struct vzl_field {
	const char *name;
	const char *header;
	unsigned width;
	unsigned hwidth;  /* header width when it is not width (netfilter) */
	bool nocut;       /* text OpenVZ never trims */
	enum nvz_list_align align;
	enum nvz_list_kind kind;
	vzl_get_fn get;
	vzl_json_fn json; /* NULL: nvz_list_json_val of get */
	vzl_cmp_fn cmp;   /* NULL: nvz_list_val_cmp of get */
	const char *key;  /* config key read by the generic getters */
	int res;          /* resource number for UBC/quota rows */
	int index;        /* which value of the resource; != 0: a suffixed variant */
};

/* The table, in `vzlist -L` order. */
const struct vzl_field *vzl_fields(size_t *n);
const struct vzl_field *vzl_field_find(const char *name);

/* Read the CT's configured resources (barrier:limit, disk quota) into c. */
void vzl_load_resources(struct vzl_ct *c);
/* Whether f shows a disk usage (diskspace, diskinodes; in JSON their
 * suffixed forms too, whose objects carry the usage). */
bool vzl_field_is_disk_usage(const struct vzl_field *f, bool json);
/* Disk space (1K blocks) and inodes in use. */
struct nvz_disk_usage;
void vzl_set_disk_usage(struct vzl_ct *c, const struct nvz_disk_usage *u);
/* NPROC of a running CT (the numproc UBC's held value). */
void vzl_set_nproc(struct vzl_ct *c, unsigned long long n);
/* held, maxheld and failcnt of beancounter id from the kernel's counters. */
void vzl_set_usage(struct vzl_ct *c, int id, const struct nvz_cgroup_counter *cnt);

void vzl_format_header(struct nvz_list_buf *b, const struct vzl_field *const *order, size_t n);
/* trim: cut long text in every column but the last (no -t). */
void vzl_format_row(struct nvz_list_buf *b, const struct vzl_ct *c,
		    const struct vzl_field *const *order, size_t n, bool trim);
/* One JSON object; order NULL: every unsuffixed field. */
void vzl_format_json(struct nvz_list_buf *b, const struct vzl_ct *c,
		     const struct vzl_field *const *order, size_t n);
/* Order by field f, then by ascending CT ID; reverse: that order backwards. */
int vzl_compare(const struct vzl_ct *a, const struct vzl_ct *b, const struct vzl_field *f,
		bool reverse);

#endif
