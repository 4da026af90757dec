/* The beancounter view: see include/nvz/ubcview.h. The formats follow the
 * OpenVZ kernel (kernel/bc/proc.c: "%10s  %-12s %20lu ..." on 64 bits) and
 * bin/vzubc.in, whose awk rounding quirks are reproduced on purpose:
 * scripts compare this output with what they saw on OpenVZ. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/listfmt.h"
#include "nvz/ubcview.h"

#define DUMMY (-1)

/* /proc/user_beancounters row order: the enum plus OpenVZ's placeholders
 * (UB_DUMMY at 4, three unused slots at 20..22). */
static const int table_layout[] = {
	UBC_KMEMSIZE,     UBC_LOCKEDPAGES,  UBC_PRIVVMPAGES, UBC_SHMPAGES,     DUMMY,
	UBC_NUMPROC,      UBC_PHYSPAGES,    UBC_VMGUARPAGES, UBC_OOMGUARPAGES, UBC_NUMTCPSOCK,
	UBC_NUMFLOCK,     UBC_NUMPTY,       UBC_NUMSIGINFO,  UBC_TCPSNDBUF,    UBC_TCPRCVBUF,
	UBC_OTHERSOCKBUF, UBC_DGRAMRCVBUF,  UBC_NUMOTHERSOCK, UBC_DCACHESIZE,  UBC_NUMFILE,
	DUMMY,            DUMMY,            DUMMY,           UBC_NUMIPTENT,    UBC_SWAPPAGES,
};

static int oom(struct nvz_error **err)
{
	return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
}

static int take_buf(struct nvz_list_buf *b, char **text, struct nvz_error **err)
{
	if (b->oom || !b->data) {
		nvz_list_buf_free(b);
		return b->oom ? oom(err) : ((*text = strdup("")) ? 0 : oom(err));
	}
	*text = steal_ptr(&b->data);
	nvz_list_buf_free(b);
	return 0;
}

/* Rows */

void nvz_ubc_counters_by_limits(nvz_res_get_fn get, void *data,
				struct nvz_cgroup_counter c[UBC_COUNT])
{
	static const enum nvz_ubc_id pre_vswap[] = { UBC_PRIVVMPAGES, UBC_VMGUARPAGES,
						     UBC_OOMGUARPAGES };
	struct nvz_cgroup_counter ram_swap;
	if (!nvz_cgroup_ram_swap(c, &ram_swap))
		return;
	for (size_t i = 0; i < sizeof(pre_vswap) / sizeof(pre_vswap[0]); i++)
		if (nvz_res_sets_memory(get, data, pre_vswap[i]))
			c[pre_vswap[i]] = ram_swap;
}

static const char *conf_value(void *conf, const char *key)
{
	return nvz_conf_get(conf, key);
}

void nvz_ubc_rows(const struct nvz_conf *applied, const struct nvz_cgroup_counter *counters,
		  struct nvz_ubc_row rows[UBC_COUNT])
{
	struct nvz_cgroup_counter by_limits[UBC_COUNT];
	if (counters && applied) {
		memcpy(by_limits, counters, sizeof(by_limits));
		nvz_ubc_counters_by_limits(conf_value, (void *)applied, by_limits);
		counters = by_limits;
	}
	for (int id = 0; id < UBC_COUNT; id++) {
		const struct nvz_ubc_info *info = nvz_ubc_info(id);
		const struct nvz_cgroup_counter *c = counters ? &counters[id] : NULL;
		struct nvz_ubc_row *r = &rows[id];
		*r = (struct nvz_ubc_row){ .barrier = NVZ_UNLIMITED, .limit = NVZ_UNLIMITED };
		snprintf(r->name, sizeof(r->name), "%s", info->name);
		if (c && c->valid) {
			r->held = c->held;
			r->maxheld = c->maxheld;
			r->failcnt = c->failcnt;
			r->barrier = r->limit = c->limit;
		}
		/* A view, not a validator: a value that does not parse is shown
		 * as if it were absent rather than failing the whole table. */
		const char *text = applied ? nvz_conf_get(applied, info->key) : NULL;
		struct nvz_ubc_value v;
		if (text && nvz_ubc_parse(id, text, &v, NULL) == 0) {
			r->barrier = v.barrier;
			r->limit = v.limit;
		}
	}
}

/* /proc/user_beancounters text */

static uint64_t proc_value(uint64_t v)
{
	return v > NVZ_UBC_LONG_MAX ? NVZ_UBC_LONG_MAX : v;
}

static void table_row(struct nvz_list_buf *b, const char *uid, const char *name, uint64_t held,
		      uint64_t maxheld, uint64_t barrier, uint64_t limit, uint64_t failcnt)
{
	nvz_list_buf_printf(b, "%10s  %-12s %20" PRIu64 " %20" PRIu64 " %20" PRIu64 " %20" PRIu64
			       " %20" PRIu64 "\n",
			    uid, name, proc_value(held), proc_value(maxheld), proc_value(barrier),
			    proc_value(limit), proc_value(failcnt));
}

int nvz_ubc_table_rows(const char *uid, const struct nvz_ubc_row rows[UBC_COUNT], bool header,
		       char **text, struct nvz_error **err)
{
	struct nvz_list_buf b = {0};
	if (header) {
		nvz_list_buf_puts(&b, "Version: 2.5\n");
		nvz_list_buf_printf(&b, "%10s  %-12s %20s %20s %20s %20s %20s\n", "uid", "resource",
				    "held", "maxheld", "barrier", "limit", "failcnt");
	}
	char first[40];
	snprintf(first, sizeof(first), "%s:", uid);
	for (size_t i = 0; i < sizeof(table_layout) / sizeof(table_layout[0]); i++) {
		const char *u = i == 0 ? first : "";
		int id = table_layout[i];
		if (id == DUMMY) {
			table_row(&b, u, "dummy", 0, 0, 0, 0, 0);
			continue;
		}
		const struct nvz_ubc_row *r = &rows[id];
		table_row(&b, u, r->name, r->held, r->maxheld, r->barrier, r->limit, r->failcnt);
	}
	return take_buf(&b, text, err);
}

int nvz_ubc_table(const char *uid, const struct nvz_conf *applied,
		  const struct nvz_cgroup_counter counters[UBC_COUNT], char **text,
		  struct nvz_error **err)
{
	struct nvz_ubc_row rows[UBC_COUNT];
	nvz_ubc_rows(applied, counters, rows);
	return nvz_ubc_table_rows(uid, rows, true, text, err);
}

/* Parser */

static int parse_u64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v >= NVZ_UBC_LONG_MAX ? NVZ_UNLIMITED : v;
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= sizeof(((struct nvz_ubc_row *)0)->name))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static struct nvz_ubc_block *add_block(struct nvz_ubc_set *s, const char *uid)
{
	struct nvz_ubc_block *nb = realloc(s->blocks, (s->nblocks + 1) * sizeof(*nb));
	if (!nb)
		return NULL;
	s->blocks = nb;
	struct nvz_ubc_block *b = &nb[s->nblocks++];
	*b = (struct nvz_ubc_block){0};
	snprintf(b->uid, sizeof(b->uid), "%s", uid);
	return b;
}

/* One row's fields: name held maxheld barrier limit failcnt. */
static int parse_row(struct nvz_ubc_block *b, char **f, size_t nf, unsigned line,
		     struct nvz_error **err)
{
	if (nf != 6 || !valid_name(f[0]))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "line %u: malformed beancounter row", line);
	if (!strcmp(f[0], "dummy"))
		return 0;
	struct nvz_ubc_row r = {0};
	snprintf(r.name, sizeof(r.name), "%s", f[0]);
	uint64_t *v[] = { &r.held, &r.maxheld, &r.barrier, &r.limit, &r.failcnt };
	for (size_t i = 0; i < 5; i++)
		if (parse_u64(f[i + 1], v[i]) < 0)
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "line %u: bad number %s", line,
				       f[i + 1]);
	struct nvz_ubc_row *nr = realloc(b->rows, (b->nrows + 1) * sizeof(*nr));
	if (!nr)
		return oom(err);
	b->rows = nr;
	b->rows[b->nrows++] = r;
	return 0;
}

static int parse_line(struct nvz_ubc_set *s, char *line, unsigned lineno, struct nvz_error **err)
{
	char *f[8];
	size_t nf = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (nf == 8)
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "line %u: malformed beancounter row",
				       lineno);
		f[nf++] = t;
	}
	if (!nf || !strcmp(f[0], "uid"))
		return 0;
	if (!strcmp(f[0], "Version:")) {
		if (nf != 2 || strcmp(f[1], "2.5"))
			/* Its own code: vzubc prints it as OpenVZ's did, bare. */
			return nvz_err(err, NVZ_E_VALUE, EPROTONOSUPPORT, "unknown version: %s",
				       nf > 1 ? f[1] : "");
		return 0;
	}
	struct nvz_ubc_block *b = s->nblocks ? &s->blocks[s->nblocks - 1] : NULL;
	size_t n0 = strlen(f[0]);
	if (n0 > 1 && f[0][n0 - 1] == ':') {
		f[0][n0 - 1] = '\0';
		if (n0 - 1 >= sizeof(b->uid))
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "line %u: beancounter id too long",
				       lineno);
		if (!(b = add_block(s, f[0])))
			return oom(err);
		return parse_row(b, f + 1, nf - 1, lineno, err);
	}
	if (!b && !(b = add_block(s, "")))
		return oom(err);
	return parse_row(b, f, nf, lineno, err);
}

void nvz_ubc_set_free(struct nvz_ubc_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nblocks; i++)
		free(s->blocks[i].rows);
	free(s->blocks);
	free(s);
}

int nvz_ubc_parse_table(const char *buf, size_t len, struct nvz_ubc_set **out,
			struct nvz_error **err)
{
	*out = NULL;
	struct nvz_ubc_set *s = calloc(1, sizeof(*s));
	cleanup_free char *copy = malloc(len + 1);
	if (!s || !copy) {
		free(s);
		return oom(err);
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	unsigned lineno = 0;
	char *p = copy;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (parse_line(s, p, ++lineno, err) < 0) {
			nvz_ubc_set_free(s);
			return -1;
		}
		p = nl ? nl + 1 : NULL;
	}
	*out = s;
	return 0;
}

/* vzubc rendering */

/* vzubc's hr() and dp() treat both LONG_MAX values as unlimited. */
static bool human_unlimited(uint64_t v)
{
	return v >= NVZ_UBC_LONG_MAX || v == 2147483647ULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

void nvz_ubc_human_value(const char *name, uint64_t v, char *out, size_t outsz)
{
	if (v == 0 || human_unlimited(v)) {
		snprintf(out, outsz, "- ");
		return;
	}
	static const char suffix[] = " KMGTPEZY";
	size_t i = 0;
	double d = (double)v;
	/* vzubc assumes 4 KiB pages, as every OpenVZ x86 host had. */
	if (ends_with(name, "pages")) {
		d *= 4;
		i++;
	}
	while (d >= 1024 && i < sizeof(suffix) - 2) {
		d /= 1024;
		i++;
	}
	if (d < 100)
		snprintf(out, outsz, "%.3g%c", d, suffix[i]);
	else
		snprintf(out, outsz, "%lld%c", (long long)d, suffix[i]);
}

void nvz_ubc_human_percent(uint64_t part, uint64_t whole, char *out, size_t outsz)
{
	if (whole == 0 || human_unlimited(whole)) {
		snprintf(out, outsz, "- ");
		return;
	}
	char r[64], s[64];
	snprintf(r, sizeof(r), "%.1f", (double)part / (double)whole * 100);
	/* awk compares the sprintf'd string with 10 as strings: only "0.x"
	 * and "1.x" sort below "10" and get one significant digit; the rest
	 * is truncated to an integer. */
	if (strcmp(r, "10") < 0)
		snprintf(s, sizeof(s), "%.1g", strtod(r, NULL));
	else
		snprintf(s, sizeof(s), "%lld", (long long)strtod(r, NULL));
	if (!strcmp(s, "0"))
		snprintf(out, outsz, "- ");
	else
		snprintf(out, outsz, "%s%%", s);
}

int nvz_ubc_importance(const struct nvz_ubc_row *r, double qheld, double qmaxheld)
{
	if (r->failcnt > 0)
		return 2;
	double barrier = (double)(r->barrier ? r->barrier : r->limit);
	if ((double)r->held > barrier)
		return 2;
	if ((double)r->held > barrier * qheld || (double)r->maxheld > barrier * qmaxheld)
		return 1;
	return 0;
}

#define C_HEAD "\033[1;32m"
#define C_ERROR "\033[1;31m"
#define C_WARN "\033[1;33m"
#define C_NORMAL "\033[0;39m"

static void human_header(struct nvz_list_buf *b, const struct nvz_ubc_human_opts *o,
			 const char *uid)
{
	const char *n = o->color ? C_NORMAL : "";
	const char *inc = o->prev_held ? "-------" : "";
	nvz_list_buf_printf(b, "%s----------------------------------------------------------------%s\n",
			    o->color ? C_HEAD : "", inc);
	nvz_list_buf_printf(b, "CT %-10s| HELD%s Bar%% Lim%%| MAXH Bar%% Lim%%| BAR | LIM |%cFAIL\n",
			    uid, o->prev_held ? "  +/-  " : "", o->relative ? '+' : ' ');
	nvz_list_buf_printf(b, "-------------+-%s--------------+---------------+-----+-----+------%s\n",
			    inc, n);
}

/* The incremental cell: held's change, signed, right-aligned in 7. */
static void held_delta(const struct nvz_ubc_row *r, uint64_t prev, char *out, size_t outsz)
{
	char v[16];
	if (r->held == prev) {
		snprintf(out, outsz, "%7s", "");
		return;
	}
	nvz_ubc_human_value(r->name, r->held > prev ? r->held - prev : prev - r->held, v, sizeof(v));
	char sv[20];
	snprintf(sv, sizeof(sv), "%c%s", r->held > prev ? '+' : '-', v);
	snprintf(out, outsz, "%7s", sv);
}

static void human_row(struct nvz_list_buf *b, const struct nvz_ubc_human_opts *o,
		      const struct nvz_ubc_row *r, const char *delta, int imp)
{
	char h[16], hb[16], hl[16], m[16], mb[16], ml[16], bar[16], lim[16], fc[16];
	nvz_ubc_human_value(r->name, r->held, h, sizeof(h));
	nvz_ubc_human_percent(r->held, r->barrier, hb, sizeof(hb));
	nvz_ubc_human_percent(r->held, r->limit, hl, sizeof(hl));
	nvz_ubc_human_value(r->name, r->maxheld, m, sizeof(m));
	nvz_ubc_human_percent(r->maxheld, r->barrier, mb, sizeof(mb));
	nvz_ubc_human_percent(r->maxheld, r->limit, ml, sizeof(ml));
	nvz_ubc_human_value(r->name, r->barrier, bar, sizeof(bar));
	nvz_ubc_human_value(r->name, r->limit, lim, sizeof(lim));
	nvz_ubc_human_value("", r->failcnt, fc, sizeof(fc));
	const char *c = !o->color ? "" : imp == 2 ? C_ERROR : imp == 1 ? C_WARN : C_NORMAL;
	nvz_list_buf_printf(b, "%s%13s|%5s%s %4s %4s|%5s %4s %4s|%5s|%5s| %5s\n%s", c, r->name, h,
			    delta, hb, hl, m, mb, ml, bar, lim, fc, o->color ? C_NORMAL : "");
}

int nvz_ubc_human(const struct nvz_ubc_human_opts *o, const char *uid,
		  const struct nvz_ubc_row *rows, size_t nrows, const uint64_t *prev_failcnt,
		  char **text, struct nvz_error **err)
{
	double qheld = o->qheld > 1 ? o->qheld / 100 : o->qheld;
	double qmaxheld = o->qmaxheld > 1 ? o->qmaxheld / 100 : o->qmaxheld;
	if (qheld > qmaxheld)
		qheld = qmaxheld;
	struct nvz_list_buf b = {0};
	bool header = false;
	for (size_t i = 0; i < nrows; i++) {
		struct nvz_ubc_row r = rows[i];
		if (o->shown)
			o->shown[i] = false;
		if (!strcmp(r.name, "dummy"))
			continue;
		/* A counter lower than last time means the CT restarted. */
		if (o->relative && prev_failcnt && r.failcnt > 0 && prev_failcnt[i] > 0 &&
		    prev_failcnt[i] <= r.failcnt)
			r.failcnt -= prev_failcnt[i];
		char delta[32] = "";
		bool changed = o->prev_held && r.held != o->prev_held[i];
		if (o->prev_held)
			held_delta(&r, o->prev_held[i], delta, sizeof(delta));
		int imp = nvz_ubc_importance(&r, qheld, qmaxheld);
		if (((o->quiet && !imp) || (!o->verbose && human_unlimited(r.barrier))) && !changed)
			continue;
		if (!header)
			human_header(&b, o, uid);
		header = true;
		human_row(&b, o, &r, delta, imp);
		if (o->shown)
			o->shown[i] = true;
	}
	return take_buf(&b, text, err);
}

/* A running CT */

int nvz_ct_ubc_rows(const struct nvz_ct *ct, struct nvz_ubc_row rows[UBC_COUNT],
		    struct nvz_error **err)
{
	struct nvz_cgroup *cg = NULL;
	struct nvz_cgroup_counter c[UBC_COUNT];
	memset(c, 0, sizeof(c));
	int r = nvz_ct_cgroup(ct, &cg, err);
	if (r == 0)
		r = nvz_cgroup_counters(cg, c, err);
	nvz_cgroup_free(cg);
	if (r < 0)
		return nvz_err_wrap(err, "CT %s: beancounters", ct->id);
	struct nvz_conf *applied = NULL;
	if (nvz_runstate_read_applied(ct, &applied, err) < 0)
		return nvz_err_wrap(err, "CT %s", ct->id);
	nvz_ubc_rows(applied, c, rows);
	nvz_conf_free(applied);
	return 0;
}

int nvz_ct_ubc_table(const struct nvz_ct *ct, char **text, struct nvz_error **err)
{
	struct nvz_ubc_row rows[UBC_COUNT];
	if (nvz_ct_ubc_rows(ct, rows, err) < 0)
		return -1;
	return nvz_ubc_table_rows(ct->id, rows, true, text, err);
}
