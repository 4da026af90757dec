/* vzcfgvalidate's checks: OpenVZ 4.x's src/validate.c, in its messages and
 * its order, and with its repairs (each one seen by the checks after it).
 *
 * A VSwap config (a PHYSPAGES limit, or -v yes) is checked as OpenVZ
 * checked one: PHYSPAGES and SWAPPAGES must be set, their barriers 0 and
 * their limits within the host's RAM and swap; the other beancounters are
 * optional there. Any other config gets the pre-VSwap checks: equal
 * barrier:limit where the man page says so, the guarantees' limits
 * unlimited, and the formulas between kmemsize, dcachesize, numfile and the
 * socket buffers.
 *
 * Where nvz differs, it is because of what nvz itself does with a config:
 *  - an unset beancounter is unlimited to nvz, not an error, so a check
 *    runs only when the parameters it reads are set (OpenVZ said
 *    "parameter X not found" and stopped), and a requirement computed from
 *    an unlimited value is not checked (OpenVZ's arithmetic wrapped);
 *  - what nvz refuses at start is an Error in both modes: a value its key
 *    table refuses (ONBOOT="maybe"), a beancounter it cannot read, a
 *    barrier above its limit, an unreadable DISKSPACE/DISKINODES/QUOTATIME;
 *  - a line the parser ignored is a Warning;
 *  - privvmpages' repair keeps its limit when it is high enough (OpenVZ
 *    wrote vmguarpages' limit there, unlimited in practice). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cfgvalidate.h"
#include "nvz/cleanup.h"
#include "nvz/res.h"
#include "nvz/storage.h"

#define LMAX ((uint64_t)LONG_MAX)
#define TCPBUF_MIN (64 * 1024ULL)        /* tcp{snd,rcv}buf barrier */
#define SOCKBUF_MIN (32 * 1024ULL)       /* dgramrcvbuf/othersockbuf: warning */
#define SOCKBUF_ADVISED (129 * 1024ULL)  /* and recommendation */
#define SOCKBUF_PER_SOCK 2560            /* 2.5 KB of gap per socket */
#define KMEM_PER_PROC (40 * 1024ULL)
#define DCACHE_PER_FILE 384
#define FILES_PER_PROC 32

/* What the checks share: the config, the values read from it (in their
 * units, kept up to date by repairs) and the tallies. */
struct vst {
	struct nvz_conf *c;
	const struct nvz_cfgv_opts *o;
	struct nvz_cfgv_result *res;
	struct nvz_ubc_value v[UBC_COUNT]; /* .set: in the config and readable */
	bool present[UBC_COUNT];           /* in the config, readable or not */
	bool has_avnumproc;
	uint64_t avnumproc;
	struct nvz_error **err;
	int rc;
};

enum show { SHOW_NONE, SHOW_PAIR, SHOW_BARRIER, SHOW_LIMIT };

static bool unl(uint64_t x)
{
	return x >= LMAX;
}

/* As OpenVZ printed a value: unlimited is LONG_MAX. */
static unsigned long long shown(uint64_t x)
{
	return unl(x) ? LMAX : x;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return unl(a) || unl(b) || a + b >= LMAX ? NVZ_UNLIMITED : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	if (unl(a) || unl(b))
		return NVZ_UNLIMITED;
	unsigned __int128 r = (unsigned __int128)a * b;
	return r >= LMAX ? NVZ_UNLIMITED : (uint64_t)r;
}

/* A barrier raised from bar to val takes the limit up as much (OpenVZ's
 * "lim + val - bar"), so that the gap between them stays. */
static uint64_t lift(uint64_t lim, uint64_t bar, uint64_t val)
{
	return unl(lim) || val < bar ? lim : sat_add(lim, val - bar);
}

const char *nvz_cfgv_severity_name(enum nvz_cfgv_severity s)
{
	switch (s) {
	case NVZ_CFGV_ERROR: return "Error";
	case NVZ_CFGV_WARNING: return "Warning";
	case NVZ_CFGV_RECOMMENDATION: return "Recommendation";
	}
	return "Error";
}

/* OpenVZ's is_vswap_config: a PHYSPAGES limit that is not unlimited, the
 * 32-bit unlimited (INT_MAX) of a CT moved from a 32-bit host counting as
 * unlimited too. */
bool nvz_cfgv_is_vswap(const struct nvz_conf *c)
{
	struct nvz_ubc_value v;
	const char *text = nvz_conf_get(c, nvz_ubc_info(UBC_PHYSPAGES)->key);
	return text && *text && nvz_ubc_parse_pair(UBC_PHYSPAGES, text, &v, NULL) == 0 &&
	       !unl(v.limit) && v.limit != INT_MAX;
}

static void oom(struct vst *s)
{
	if (s->rc == 0)
		s->rc = nvz_err(s->err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
}

/* Write a repaired barrier:limit back into the config. */
static void apply(struct vst *s, int id, uint64_t nb, uint64_t nl)
{
	s->v[id].barrier = nb;
	s->v[id].limit = nl;
	cleanup_free char *val = nvz_ubc_format(&s->v[id]);
	if (!val)
		return oom(s);
	if (nvz_conf_set(s->c, nvz_ubc_info(id)->key, val, s->err) < 0 && s->rc == 0)
		s->rc = -1;
	s->res->repaired++;
}

/* Hand one finding over; true if its repair is to be made. One not
 * repaired fails the validation, unless it is a recommendation. */
static bool report(struct vst *s, enum nvz_cfgv_severity sev, const char *text, const char *repair)
{
	struct nvz_cfgv_finding f = { .severity = sev, .text = text, .repair = repair };
	bool yes = s->o->report && s->o->report(s->o->data, &f);
	if (repair && yes)
		return true;
	if (sev != NVZ_CFGV_RECOMMENDATION)
		s->res->failed++;
	return false;
}

/* One finding. With repairs offered and show != SHOW_NONE, its repair is
 * the barrier:limit nb:nl of beancounter id; "set to" names the part show
 * says, as OpenVZ's messages did. */
__attribute__((format(printf, 7, 8)))
static void found(struct vst *s, enum nvz_cfgv_severity sev, int id, uint64_t nb, uint64_t nl,
		  enum show show, const char *fmt, ...)
{
	if (s->rc < 0)
		return;
	cleanup_free char *text = NULL, *repair = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return oom(s);
	if (!s->o->repair || id < 0)
		show = SHOW_NONE;
	if ((show == SHOW_PAIR && asprintf(&repair, "set to %llu:%llu", shown(nb), shown(nl)) < 0) ||
	    (show == SHOW_BARRIER && asprintf(&repair, "set to %llu", shown(nb)) < 0) ||
	    (show == SHOW_LIMIT && asprintf(&repair, "set to %llu", shown(nl)) < 0))
		return oom(s);
	if (report(s, sev, text, repair))
		apply(s, id, nb, nl);
}

static bool has(const struct vst *s, int id)
{
	return s->v[id].set;
}

static const char *name(int id)
{
	return nvz_ubc_info(id)->name;
}

/* --- what nvz refuses or ignores when it reads the file --- */

static void check_lines(struct vst *s)
{
	for (const char *const *w = nvz_conf_warnings(s->c); *w; w++)
		found(s, NVZ_CFGV_WARNING, -1, 0, 0, SHOW_NONE, "%s", *w);
}

/* nvz's key table, on the value that counts (the last of a key's lines). */
static void check_keys(struct vst *s)
{
	const char *key, *value;
	for (size_t i = 0; nvz_conf_entry(s->c, i, &key, &value); i++) {
		if (nvz_conf_get(s->c, key) != value)
			continue;
		cleanup_error struct nvz_error *e = NULL;
		if (nvz_conf_validate(key, value, &e) < 0)
			found(s, NVZ_CFGV_ERROR, -1, 0, 0, SHOW_NONE, "%s", e->msg);
	}
}

static void read_ubcs(struct vst *s)
{
	for (int id = 0; id < UBC_COUNT; id++) {
		const char *key = nvz_ubc_info(id)->key;
		const char *text = nvz_conf_get(s->c, key);
		if (!text || !*text)
			continue;
		s->present[id] = true;
		if (nvz_ubc_parse_pair(id, text, &s->v[id], NULL) < 0) {
			s->v[id].set = false;
			found(s, NVZ_CFGV_ERROR, -1, 0, 0, SHOW_NONE,
			      "invalid value for %s: '%s' (expected barrier[:limit])", key, text);
		}
	}
	/* OpenVZ: avnumproc, or half the numproc barrier. */
	const char *av = nvz_conf_get(s->c, "AVNUMPROC");
	if (av && *av && nvz_conf_validate("AVNUMPROC", av, NULL) == 0) {
		s->has_avnumproc = true;
		s->avnumproc = strtoull(av, NULL, 10);
	} else if (has(s, UBC_NUMPROC)) {
		s->has_avnumproc = true;
		s->avnumproc = unl(s->v[UBC_NUMPROC].barrier) ? NVZ_UNLIMITED
							       : s->v[UBC_NUMPROC].barrier / 2;
	}
}

/* One part of a DISKSPACE/DISKINODES pair, in its unit (0: no limit). */
static bool disk_part(bool space, const char *text, size_t len, uint64_t *v)
{
	cleanup_free char *part = strndup(text, len);
	struct nvz_disk_limits l;
	if (!part || nvz_disk_limits_parse(space ? part : NULL, space ? NULL : part, NULL, &l, NULL) < 0)
		return false;
	*v = space ? l.space_hard_kb : l.inodes_hard;
	return true;
}

/* OpenVZ's barrier <= limit of diskspace and diskinodes (its repair: the
 * limit up to the barrier); true if the value is readable so. */
static bool check_disk_order(struct vst *s, bool space)
{
	const char *key = space ? "DISKSPACE" : "DISKINODES";
	const char *text = nvz_conf_get(s->c, key);
	const char *colon = text ? strchr(text, ':') : NULL;
	uint64_t bar, lim;
	if (!colon || !disk_part(space, text, (size_t)(colon - text), &bar) ||
	    !disk_part(space, colon + 1, strlen(colon + 1), &lim))
		return false;
	if (!lim || bar <= lim)
		return true;
	cleanup_free char *msg = NULL, *repair = NULL, *val = NULL;
	if (asprintf(&msg, "barrier should be <= limit for %s (currently, %llu:%llu)",
		     space ? "diskspace" : "diskinodes", (unsigned long long)bar, (unsigned long long)lim) < 0 ||
	    (s->o->repair && asprintf(&repair, "set to %llu:%llu", (unsigned long long)bar,
				      (unsigned long long)bar) < 0) ||
	    asprintf(&val, "%llu:%llu", (unsigned long long)bar, (unsigned long long)bar) < 0) {
		oom(s);
		return true;
	}
	if (s->rc < 0 || !report(s, NVZ_CFGV_ERROR, msg, repair))
		return true;
	if (nvz_conf_set(s->c, key, val, s->err) < 0 && s->rc == 0)
		s->rc = -1;
	s->res->repaired++;
	return true;
}

/* After the beancounters' barrier:limit checks, as OpenVZ; what else nvz
 * refuses in DISKSPACE, DISKINODES and QUOTATIME is an error of its own. */
static void check_disk(struct vst *s)
{
	bool space_ok = check_disk_order(s, true), inodes_ok = check_disk_order(s, false);
	struct nvz_disk_limits l;
	cleanup_error struct nvz_error *e = NULL;
	if (nvz_disk_limits_parse(space_ok ? NULL : nvz_conf_get(s->c, "DISKSPACE"),
				  inodes_ok ? NULL : nvz_conf_get(s->c, "DISKINODES"),
				  nvz_conf_get(s->c, "QUOTATIME"), &l, &e) < 0)
		found(s, NVZ_CFGV_ERROR, -1, 0, 0, SHOW_NONE, "%s", e->msg);
}

/* --- OpenVZ's per-parameter checks --- */

static void check_bl(struct vst *s, int id)
{
	const struct nvz_ubc_value *v = &s->v[id];
	if (has(s, id) && v->barrier > v->limit)
		found(s, NVZ_CFGV_ERROR, id, v->barrier, v->barrier, SHOW_PAIR,
		      "barrier should be <= limit for %s (currently, %llu:%llu)", name(id),
		      shown(v->barrier), shown(v->limit));
}

static void check_b(struct vst *s, int id)
{
	const struct nvz_ubc_value *v = &s->v[id];
	uint64_t m = v->barrier > v->limit ? v->barrier : v->limit;
	if (has(s, id) && v->barrier != v->limit)
		found(s, NVZ_CFGV_ERROR, id, m, m, SHOW_PAIR,
		      "barrier should be equal to limit for %s (currently, %llu:%llu)", name(id),
		      shown(v->barrier), shown(v->limit));
}

/* A guarantee: only the barrier means anything, the limit is unlimited. */
static void check_unlimited(struct vst *s, int id)
{
	const struct nvz_ubc_value *v = &s->v[id];
	if (has(s, id) && !unl(v->limit))
		found(s, NVZ_CFGV_ERROR, id, v->barrier, NVZ_UNLIMITED, SHOW_LIMIT,
		      "limit should be = %llu for %s (currently, %llu)", (unsigned long long)LMAX,
		      name(id), shown(v->limit));
}

/* Without VSwap physpages only counts: 0:unlimited. */
static void check_physpages(struct vst *s)
{
	const struct nvz_ubc_value *v = &s->v[UBC_PHYSPAGES];
	if (!has(s, UBC_PHYSPAGES))
		return;
	if (v->barrier != 0)
		found(s, NVZ_CFGV_ERROR, UBC_PHYSPAGES, 0, v->limit, SHOW_BARRIER,
		      "barrier should be = 0 for physpages (currently, %llu)", shown(v->barrier));
	check_unlimited(s, UBC_PHYSPAGES);
}

static void check_pairs(struct vst *s)
{
	/* primary */
	check_b(s, UBC_NUMPROC);
	check_b(s, UBC_NUMTCPSOCK);
	check_b(s, UBC_NUMOTHERSOCK);
	check_unlimited(s, UBC_VMGUARPAGES);
	/* secondary */
	check_bl(s, UBC_KMEMSIZE);
	check_bl(s, UBC_TCPSNDBUF);
	check_bl(s, UBC_TCPRCVBUF);
	check_bl(s, UBC_OTHERSOCKBUF);
	check_bl(s, UBC_DGRAMRCVBUF);
	check_unlimited(s, UBC_OOMGUARPAGES);
	check_bl(s, UBC_PRIVVMPAGES);
	/* auxiliary */
	check_bl(s, UBC_LOCKEDPAGES);
	check_b(s, UBC_SHMPAGES);
	check_physpages(s);
	check_b(s, UBC_NUMFILE);
	check_bl(s, UBC_NUMFLOCK);
	check_b(s, UBC_NUMPTY);
	check_b(s, UBC_NUMSIGINFO);
	check_bl(s, UBC_DCACHESIZE);
	check_b(s, UBC_NUMIPTENT);
}

/* --- OpenVZ's formulas --- */

/* barrier of id >= val, else raise it (and the limit as much). */
static void need_barrier(struct vst *s, enum nvz_cfgv_severity sev, int id, uint64_t val,
			 const char *what)
{
	const struct nvz_ubc_value *v = &s->v[id];
	if (unl(val) || v->barrier >= val)
		return;
	found(s, sev, id, val, lift(v->limit, v->barrier, val), SHOW_PAIR,
	      "%s should be > %llu (currently, %llu)", what, shown(val), shown(v->barrier));
}

/* limit - barrier of a socket buffer >= 2.5 KB per socket of sock. */
static void need_gap(struct vst *s, enum nvz_cfgv_severity sev, int id, int sock)
{
	if (!has(s, id) || !has(s, sock))
		return;
	const struct nvz_ubc_value *v = &s->v[id];
	uint64_t val = sat_mul(s->v[sock].barrier, SOCKBUF_PER_SOCK);
	if (unl(val) || unl(v->limit) || (v->limit >= v->barrier && v->limit - v->barrier >= val))
		return;
	found(s, sev, id, v->barrier, sat_add(v->barrier, val), SHOW_PAIR,
	      "%s.lim-%s.bar should be > %llu (currently, %llu-%llu=%lld)", name(id), name(id),
	      shown(val), shown(v->limit), shown(v->barrier),
	      (long long)shown(v->limit) - (long long)shown(v->barrier));
}

/* Two floors: below min a warning, below advised a recommendation. */
static void need_sockbuf(struct vst *s, int id)
{
	if (!has(s, id))
		return;
	char what[48];
	snprintf(what, sizeof(what), "%s.bar", name(id));
	if (s->v[id].barrier < SOCKBUF_MIN)
		need_barrier(s, NVZ_CFGV_WARNING, id, SOCKBUF_MIN, what);
	else
		need_barrier(s, NVZ_CFGV_RECOMMENDATION, id, SOCKBUF_ADVISED, what);
}

static void check_dcache_kmem(struct vst *s)
{
	if (has(s, UBC_NUMFILE) && has(s, UBC_DCACHESIZE)) {
		const struct nvz_ubc_value *d = &s->v[UBC_DCACHESIZE];
		uint64_t val = sat_mul(s->v[UBC_NUMFILE].barrier, DCACHE_PER_FILE);
		if (!unl(val) && d->limit < val)
			found(s, NVZ_CFGV_WARNING, UBC_DCACHESIZE, d->barrier, val, SHOW_LIMIT,
			      "dcachesize.lim should be > %llu (currently, %llu)", shown(val),
			      shown(d->limit));
	}
	if (has(s, UBC_KMEMSIZE) && has(s, UBC_DCACHESIZE) && s->has_avnumproc)
		need_barrier(s, NVZ_CFGV_ERROR, UBC_KMEMSIZE,
			     sat_add(sat_mul(KMEM_PER_PROC, s->avnumproc), s->v[UBC_DCACHESIZE].limit),
			     "kmemsize.bar");
}

static void check_privvm(struct vst *s)
{
	if (!has(s, UBC_PRIVVMPAGES) || !has(s, UBC_VMGUARPAGES))
		return;
	const struct nvz_ubc_value *p = &s->v[UBC_PRIVVMPAGES];
	uint64_t val = s->v[UBC_VMGUARPAGES].barrier;
	if (unl(val) || p->barrier >= val)
		return;
	found(s, NVZ_CFGV_WARNING, UBC_PRIVVMPAGES, val, p->limit < val ? val : p->limit, SHOW_BARRIER,
	      "privvmpages.bar should be > %llu (currently, %llu)", shown(val), shown(p->barrier));
}

static void check_numfile(struct vst *s)
{
	if (!has(s, UBC_NUMFILE) || !s->has_avnumproc || !has(s, UBC_NUMTCPSOCK) ||
	    !has(s, UBC_NUMOTHERSOCK) || !has(s, UBC_NUMPTY))
		return;
	uint64_t val = sat_mul(s->avnumproc, FILES_PER_PROC);
	uint64_t socks = sat_add(sat_add(s->v[UBC_NUMTCPSOCK].barrier, s->v[UBC_NUMOTHERSOCK].barrier),
				 s->v[UBC_NUMPTY].barrier);
	need_barrier(s, NVZ_CFGV_WARNING, UBC_NUMFILE, socks > val ? socks : val, "numfile");
}

static void check_formulas(struct vst *s)
{
	check_dcache_kmem(s);
	check_privvm(s);
	need_gap(s, NVZ_CFGV_ERROR, UBC_TCPSNDBUF, UBC_NUMTCPSOCK);
	need_gap(s, NVZ_CFGV_ERROR, UBC_OTHERSOCKBUF, UBC_NUMOTHERSOCK);
	need_gap(s, NVZ_CFGV_WARNING, UBC_TCPRCVBUF, UBC_NUMTCPSOCK);
	if (has(s, UBC_TCPRCVBUF))
		need_barrier(s, NVZ_CFGV_WARNING, UBC_TCPRCVBUF, TCPBUF_MIN, "tcprcvbuf.bar");
	if (has(s, UBC_TCPSNDBUF))
		need_barrier(s, NVZ_CFGV_WARNING, UBC_TCPSNDBUF, TCPBUF_MIN, "tcpsndbuf.bar");
	need_sockbuf(s, UBC_DGRAMRCVBUF);
	need_sockbuf(s, UBC_OTHERSOCKBUF);
	check_numfile(s);
}

/* --- VSwap --- */

/* RAM or swap: set, barrier 0, limit within what the host has. */
static void check_vswap_one(struct vst *s, int id, uint64_t host_pages)
{
	const struct nvz_ubc_value *v = &s->v[id];
	if (!has(s, id)) {
		if (!s->present[id]) /* an unreadable one was reported already */
			found(s, NVZ_CFGV_ERROR, -1, 0, 0, SHOW_NONE, "parameter %s not found", name(id));
		return;
	}
	if (v->barrier != 0)
		found(s, NVZ_CFGV_ERROR, id, 0, v->limit, SHOW_BARRIER,
		      "%s.bar should be = 0 (currently, %llu)", name(id), shown(v->barrier));
	if (v->limit > host_pages)
		found(s, NVZ_CFGV_WARNING, id, v->barrier, host_pages, SHOW_LIMIT,
		      "%s.lim should be <= %llu (currently, %llu)", name(id),
		      (unsigned long long)host_pages, shown(v->limit));
}

static void check_vswap(struct vst *s)
{
	const struct nvz_mem_host *h = s->o->host;
	double page = h && h->page > 0 ? h->page : 4096;
	check_vswap_one(s, UBC_PHYSPAGES, h ? (uint64_t)(h->ram / page) : NVZ_UNLIMITED);
	check_vswap_one(s, UBC_SWAPPAGES, h ? (uint64_t)(h->swap / page) : NVZ_UNLIMITED);
	/* nvz refuses a barrier above its limit whatever the mode. */
	for (int id = 0; id < UBC_COUNT; id++)
		if (id != UBC_PHYSPAGES && id != UBC_SWAPPAGES)
			check_bl(s, id);
}

int nvz_cfg_validate(struct nvz_conf *c, const struct nvz_cfgv_opts *o, struct nvz_cfgv_result *res,
		     struct nvz_error **err)
{
	*res = (struct nvz_cfgv_result){ .vswap = o->vswap < 0 ? nvz_cfgv_is_vswap(c) : o->vswap > 0 };
	struct vst s = { .c = c, .o = o, .res = res, .err = err };
	check_lines(&s);
	check_keys(&s);
	read_ubcs(&s);
	if (res->vswap) {
		check_vswap(&s);
		check_disk(&s);
	} else {
		check_pairs(&s);
		check_disk(&s);
		check_formulas(&s);
	}
	return s.rc;
}
