/* The beancounter view: OpenVZ's /proc/user_beancounters built from the
 * kernel's cgroup counters (held, maxheld, failcnt) and the barrier:limit
 * pairs applied to a running CT (RUNDIR/<id>/resources); a parser for that
 * format; and vzubc's human-readable rendering. Only the nvz_ct_* helpers
 * at the end touch the system; everything else works on buffers. */
#ifndef NVZ_UBCVIEW_H
#define NVZ_UBCVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/cgroup.h"
#include "nvz/config.h"
#include "nvz/ct.h"
#include "nvz/error.h"
#include "nvz/res.h"

/* How OpenVZ prints "unlimited" on 64-bit kernels (LONG_MAX). */
#define NVZ_UBC_LONG_MAX 9223372036854775807ULL

/* One beancounter row. Values are in the parameter's unit (pages for
 * *pages); unlimited is NVZ_UNLIMITED. */
struct nvz_ubc_row {
	char name[24]; /* "kmemsize" */
	uint64_t held, maxheld, barrier, limit, failcnt;
};

/* Rows of one CT, indexed by enum nvz_ubc_id. held/maxheld/failcnt come
 * from counters (0 where a counter is not valid on this kernel); barrier
 * and limit from applied (a KEY="B:L" conf; NULL or a missing/malformed
 * key: the kernel limit if it has one, else unlimited). */
void nvz_ubc_rows(const struct nvz_conf *applied, const struct nvz_cgroup_counter *counters,
		  struct nvz_ubc_row rows[UBC_COUNT]);

/* A pre-VSwap config's memory limit comes from privvmpages (or from a
 * guarantee, vmguarpages or oomguarpages; lib/res nvz_res_sets_memory):
 * that row then counts what the memory limit counts, RAM and swap held
 * and the memory counter's failcnt, so that its use against its barrier
 * and what it refused show where the admin set the limit. nvz_ubc_rows
 * does it; vzlist, which reads the config itself, calls it. */
void nvz_ubc_counters_by_limits(nvz_res_get_fn get, void *data,
				struct nvz_cgroup_counter c[UBC_COUNT]);

/* The /proc/user_beancounters text of one CT: "Version: 2.5", the column
 * header, then every row with OpenVZ's widths, the first one prefixed with
 * "<uid>:" and the "dummy" placeholder rows where OpenVZ had them. */
int nvz_ubc_table(const char *uid, const struct nvz_conf *applied,
		  const struct nvz_cgroup_counter counters[UBC_COUNT], char **text,
		  struct nvz_error **err);
/* Same from rows; header false gives the block alone (several CTs). */
int nvz_ubc_table_rows(const char *uid, const struct nvz_ubc_row rows[UBC_COUNT], bool header,
		       char **text, struct nvz_error **err);

/* A parsed /proc/user_beancounters (or /proc/bc/resources) text: one block
 * per beancounter, "dummy" rows dropped, LONG_MAX read as NVZ_UNLIMITED. */
struct nvz_ubc_block {
	char uid[32]; /* "" when the text names none (/proc/bc/<id>/resources) */
	struct nvz_ubc_row *rows;
	size_t nrows;
};
struct nvz_ubc_set {
	struct nvz_ubc_block *blocks;
	size_t nblocks;
};
/* Status 21 on a version other than 2.5 or a malformed row (with its line). */
int nvz_ubc_parse_table(const char *buf, size_t len, struct nvz_ubc_set **out,
			struct nvz_error **err);
void nvz_ubc_set_free(struct nvz_ubc_set *s);

/* vzubc's rendering of one CT (bin/vzubc.in). */
struct nvz_ubc_human_opts {
	bool quiet;      /* only rows with fails or close to the barrier */
	bool verbose;    /* also rows whose barrier is unlimited */
	bool relative;   /* failcnt shown as a delta (+FAIL header) */
	/* incremental: a "+/-" column, held's change since the previous run,
	 * whose values are prev_held (per row, 0 for none); a changed row is
	 * shown even where quiet or an unlimited barrier would hide it. */
	const uint64_t *prev_held;
	bool color;      /* ANSI colours by importance */
	double qheld;    /* quiet thresholds: ratio of barrier, as given */
	double qmaxheld; /* (> 1 means percent, as vzubc) */
	/* NULL, or per row set to whether the row was printed: vzubc saved
	 * the relative mode's failcnt of printed rows only. */
	bool *shown;
};
/* prev_failcnt: NULL, or per row the failcnt of the previous run (0 if
 * none) for relative mode. Returns the block ("" when quiet hides every
 * row) without the closing dashes line, which NVZ_UBC_HUMAN_END holds. */
int nvz_ubc_human(const struct nvz_ubc_human_opts *o, const char *uid,
		  const struct nvz_ubc_row *rows, size_t nrows, const uint64_t *prev_failcnt,
		  char **text, struct nvz_error **err);
#define NVZ_UBC_HUMAN_END "----------------------------------------------------------------\n"
/* ... with the incremental column. */
#define NVZ_UBC_HUMAN_END_INC "-----------------------------------------------------------------------\n"

/* vzubc's cells: "- " for 0 or unlimited, pages as bytes, K/M/G... suffixes
 * (out >= 16 bytes); a percentage of whole, "- " if whole is 0/unlimited
 * or the result rounds to 0 (out >= 16 bytes); row importance 0, 1
 * (warning: above a threshold) or 2 (failures, or held above barrier). */
void nvz_ubc_human_value(const char *name, uint64_t v, char *out, size_t outsz);
void nvz_ubc_human_percent(uint64_t part, uint64_t whole, char *out, size_t outsz);
int nvz_ubc_importance(const struct nvz_ubc_row *r, double qheld, double qmaxheld);

/* A running CT's rows: counters of its cgroup (CGROUP_PREFIX/<id>), and
 * RUNDIR/<id>/resources. A missing resources file is not an error. */
int nvz_ct_ubc_rows(const struct nvz_ct *ct, struct nvz_ubc_row rows[UBC_COUNT],
		    struct nvz_error **err);
/* Its /proc/user_beancounters text. */
int nvz_ct_ubc_table(const struct nvz_ct *ct, char **text, struct nvz_error **err);

#endif
