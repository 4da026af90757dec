/* vzlist's field table: one row per field, with OpenVZ's names, headers and
 * column widths. A field is a getter that turns a gathered CT (struct
 * vzl_ct) into a value; printing, JSON and sorting are generic. To add a
 * field, add a getter (or reuse get_conf/get_conf_num) and one row. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/res.h"
#include "nvz/storage.h"
#include "vzlist.h"

static const char *const status_names[] = {
	[VZL_RUNNING] = "running",
	[VZL_STOPPED] = "stopped",
	[VZL_MOUNTED] = "mounted",
	[VZL_SUSPENDED] = "suspended",
};

/* Getters. */

static const char *conf_str(const struct vzl_ct *c, const char *key)
{
	const char *s = nvz_conf_get(c->ct->conf, key);
	return s && *s ? s : NULL;
}

static void set_str(struct nvz_list_val *v, const char *s)
{
	v->set = s != NULL;
	v->str = s;
}

static void set_num(struct nvz_list_val *v, unsigned long long n)
{
	v->set = true;
	v->num = n;
}

static void get_ctid(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	(void)f;
	set_num(v, c->ct->veid);
}

static void get_private(const struct vzl_ct *c, const struct vzl_field *f,
			struct nvz_list_val *v)
{
	(void)f;
	set_str(v, c->ct->private);
}

static void get_root(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	(void)f;
	set_str(v, c->ct->root);
}

/* Text from the CT's own config file (vz.conf defaults such as
 * NAMESERVER=inherit are not this CT's values). */
static void get_conf(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	const char *s = conf_str(c, f->key);
	if (s && v->kind == NVZ_LIST_WORDS && !s[strspn(s, " \t")])
		s = NULL;
	set_str(v, s);
}

/* A number from the CT config ("25", or "25%" for CPULIMIT: per cent of
 * the whole host, as the limit applied reads it). */
static void get_conf_num(const struct vzl_ct *c, const struct vzl_field *f,
			 struct nvz_list_val *v)
{
	const char *s = conf_str(c, f->key);
	if (!s || *s < '0' || *s > '9')
		return;
	cleanup_free char *cpulimit = NULL;
	if (!strcmp(f->key, "CPULIMIT") && !(s = cpulimit = nvz_res_parse_cpulimit(s, NULL)))
		return;
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	if (*end)
		return;
	set_num(v, n);
}

/* cpulimit and cpuunits: OpenVZ knows the pair when the CT runs (from
 * the scheduler) or when its config sets either; the other is then 0, or
 * for a running CT's units the default it runs with. */
static void get_cpu(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	get_conf_num(c, f, v);
	bool running = c->status == VZL_RUNNING;
	if (v->set || !(running || conf_str(c, "CPULIMIT") || conf_str(c, "CPUUNITS")))
		return;
	unsigned long long n = 0;
	if (running && !strcmp(f->key, "CPUUNITS")) {
		const char *s = nvz_ct_get(c->ct, "CPUUNITS", NULL);
		n = s && *s >= '0' && *s <= '9' ? strtoull(s, NULL, 10) : NVZ_CPUUNITS_DEFAULT;
	}
	set_num(v, n);
}

static void get_conf_yes(const struct vzl_ct *c, const struct vzl_field *f,
			 struct nvz_list_val *v)
{
	const char *s = conf_str(c, f->key);
	set_num(v, s && !strcmp(s, "yes"));
}

/* ONBOOT: yes, no, or "-" (null) when the config does not say. */
static void get_conf_yesno(const struct vzl_ct *c, const struct vzl_field *f,
			   struct nvz_list_val *v)
{
	if (conf_str(c, f->key))
		get_conf_yes(c, f, v);
}

/* IP_ADDRESS, or what a running CT has now. */
static void get_ip(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	if (!c->live_ips) {
		get_conf(c, f, v);
		return;
	}
	const char *s = c->live_ips;
	set_str(v, s[strspn(s, " \t")] ? s : NULL);
}

static void get_name(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	(void)f;
	set_str(v, c->name);
}

/* The name if there is one, else the CT ID (a number in JSON). */
static void get_smart_name(const struct vzl_ct *c, const struct vzl_field *f,
			   struct nvz_list_val *v)
{
	if (c->name) {
		set_str(v, c->name);
		return;
	}
	v->kind = NVZ_LIST_NUM;
	get_ctid(c, f, v);
}

static void get_status(const struct vzl_ct *c, const struct vzl_field *f,
		       struct nvz_list_val *v)
{
	(void)f;
	set_str(v, status_names[c->status]);
}

static int cmp_status(const struct vzl_ct *a, const struct vzl_ct *b)
{
	return (int)a->status - (int)b->status;
}

/* Equal BOOTORDERs (or none) in descending CT ID order: OpenVZ's
 * bootorder_sort_fn breaks ties so, which -s -bootorder reverses into
 * ascending CT IDs within each boot order. */
static int cmp_bootorder(const struct vzl_ct *a, const struct vzl_ct *b)
{
	const struct vzl_field *f = vzl_field_find("bootorder");
	struct nvz_list_val va = {.kind = f->kind}, vb = {.kind = f->kind};
	get_conf_num(a, f, &va);
	get_conf_num(b, f, &vb);
	int r = nvz_list_val_cmp(&va, &vb);
	return r ? r : (a->ct->veid < b->ct->veid) - (a->ct->veid > b->ct->veid);
}

static void get_layout(const struct vzl_ct *c, const struct vzl_field *f,
		       struct nvz_list_val *v)
{
	set_str(v, nvz_ct_get(c->ct, f->key, "simfs"));
}

/* VSwap: PHYSPAGES has a real limit (OpenVZ's is_vswap_config()). */
static void get_vswap(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	(void)f;
	const struct vzl_res *r = &c->ubc[UBC_PHYSPAGES];
	unsigned long long l = r->v[VZL_LIMIT];
	set_num(v, (r->have & (1u << VZL_LIMIT)) && l != NVZ_LIST_UNLIMITED && l != INT_MAX);
}

/* Usage values of a CT that is not running are shown as "-" (and 0 in JSON). */
static bool is_usage(int index)
{
	return index != VZL_BARRIER && index != VZL_LIMIT;
}

static void get_ubc(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	const struct vzl_res *r = &c->ubc[f->res];
	if (c->status != VZL_RUNNING && is_usage(f->index))
		return;
	if (r->have & (1u << f->index))
		set_num(v, r->v[f->index]);
}

static void json_ubc(struct nvz_list_buf *b, const struct vzl_ct *c, const struct vzl_field *f)
{
	static const char *const keys[] = {"held", "maxheld", "barrier", "limit", "failcnt"};
	const struct vzl_res *r = &c->ubc[f->res];
	nvz_list_buf_puts(b, "{");
	for (int i = 0; i < 5; i++) {
		bool set = r->have & (1u << i);
		unsigned long long n = r->v[i];
		if (c->status != VZL_RUNNING && is_usage(i)) {
			set = true;
			n = 0;
		}
		nvz_list_buf_printf(b, "%s\n      \"%s\": ", i ? "," : "", keys[i]);
		nvz_list_json_num(b, set, n);
	}
	nvz_list_buf_puts(b, "\n    }");
}

static void get_dq(const struct vzl_ct *c, const struct vzl_field *f, struct nvz_list_val *v)
{
	const struct vzl_res *r = &c->dq[f->res];
	if (r->have & (1u << f->index))
		set_num(v, r->v[f->index]);
}

static void json_dq(struct nvz_list_buf *b, const struct vzl_ct *c, const struct vzl_field *f)
{
	static const char *const keys[] = {"usage", "softlimit", "hardlimit"};
	const struct vzl_res *r = &c->dq[f->res];
	if (!r->have) {
		nvz_list_buf_puts(b, "null");
		return;
	}
	nvz_list_buf_puts(b, "{");
	for (int i = 0; i < 3; i++) {
		nvz_list_buf_printf(b, "%s\n      \"%s\": ", i ? "," : "", keys[i]);
		nvz_list_json_num(b, r->have & (1u << i), r->v[i]);
	}
	nvz_list_buf_puts(b, "\n    }");
}

/* JSON: a number, 0 when unset (OpenVZ prints these from ints that
 * default to 0 or -1, never null). */
static void json_num0(struct nvz_list_buf *b, const struct vzl_ct *c, const struct vzl_field *f)
{
	struct nvz_list_val v = {.kind = f->kind};
	f->get(c, f, &v);
	nvz_list_json_num(b, true, v.set ? v.num : 0);
}

/* A positive number from the CT config; 0 is "-" (IOLIMIT, IOPSLIMIT). */
static void get_conf_pos(const struct vzl_ct *c, const struct vzl_field *f,
			 struct nvz_list_val *v)
{
	get_conf_num(c, f, v);
	if (v->set && !v->num)
		v->set = false;
}

/* The kernel keeps no load average per container: always unknown. */
static void get_laverage(const struct vzl_ct *c, const struct vzl_field *f,
			 struct nvz_list_val *v)
{
	(void)c, (void)f, (void)v;
}

static void get_uptime(const struct vzl_ct *c, const struct vzl_field *f,
		       struct nvz_list_val *v)
{
	(void)f;
	if (c->uptime < 0)
		return;
	unsigned long long t = (unsigned long long)c->uptime;
	snprintf(v->text, sizeof(v->text), "%.3llud%.2lluh:%.2llum:%.2llus", t / 86400,
		 t / 3600 % 24, t / 60 % 60, t % 60);
	set_str(v, v->text);
}

static void json_uptime(struct nvz_list_buf *b, const struct vzl_ct *c, const struct vzl_field *f)
{
	(void)f;
	nvz_list_buf_printf(b, "%.3f", c->uptime < 0 ? 0. : c->uptime);
}

/* Longest running first, CTs that do not run before them (OpenVZ). */
static int cmp_uptime(const struct vzl_ct *a, const struct vzl_ct *b)
{
	if ((a->uptime < 0) != (b->uptime < 0))
		return a->uptime < 0 ? -1 : 1;
	return (a->uptime < b->uptime) - (a->uptime > b->uptime);
}

/* FEATURES as "name:on,name:off" in OpenVZ's feature order; bit i of
 * *known: named in the config, of *on: turned on (the last word wins). */
static size_t nfeatures(void)
{
	size_t n = 0;
	while (nvz_feature_names[n])
		n++;
	return n;
}

static void parse_features(const char *s, unsigned *known, unsigned *on)
{
	*known = *on = 0;
	for (const char *p = s; p && *(p += strspn(p, " ,"));) {
		size_t n = strcspn(p, " ,");
		const char *colon = memchr(p, ':', n);
		for (unsigned i = 0; colon && i < nfeatures(); i++) {
			if (strlen(nvz_feature_names[i]) != (size_t)(colon - p) ||
			    strncmp(p, nvz_feature_names[i], (size_t)(colon - p)))
				continue;
			*known |= 1u << i;
			if ((size_t)(colon - p) + 3 == n && !strncmp(colon + 1, "on", 2))
				*on |= 1u << i;
			else
				*on &= ~(1u << i);
		}
		p += n;
	}
}

static void get_features(const struct vzl_ct *c, const struct vzl_field *f,
			 struct nvz_list_val *v)
{
	unsigned known, on;
	parse_features(conf_str(c, f->key), &known, &on);
	if (!known)
		return;
	size_t len = 0;
	v->text[0] = '\0';
	for (unsigned i = 0; i < nfeatures(); i++)
		if (known & 1u << i)
			len += (size_t)snprintf(v->text + len, sizeof(v->text) - len, "%s%s:%s",
						len ? "," : "", nvz_feature_names[i],
						on & 1u << i ? "on" : "off");
	set_str(v, v->text);
}

static void json_features(struct nvz_list_buf *b, const struct vzl_ct *c,
			  const struct vzl_field *f)
{
	unsigned known, on;
	parse_features(conf_str(c, f->key), &known, &on);
	if (!known) {
		nvz_list_buf_puts(b, "null");
		return;
	}
	bool first = true;
	for (unsigned i = 0; i < nfeatures(); i++) {
		if (!(known & 1u << i))
			continue;
		nvz_list_buf_printf(b, "%s      \"%s\": %s", first ? "{\n" : ",\n", nvz_feature_names[i],
				    on & 1u << i ? "true" : "false");
		first = false;
	}
	nvz_list_buf_puts(b, "\n    }");
}

/* VM_OVERCOMMIT as printf's %g; 0 or unset is "-". */
static double vm_overcommit(const struct vzl_ct *c, const struct vzl_field *f)
{
	const char *s = conf_str(c, f->key);
	return s ? strtod(s, NULL) : 0;
}

static void get_vm_overcommit(const struct vzl_ct *c, const struct vzl_field *f,
			      struct nvz_list_val *v)
{
	double d = vm_overcommit(c, f);
	if (d <= 0)
		return;
	snprintf(v->text, sizeof(v->text), "%g", d);
	set_str(v, v->text);
}

static void json_vm_overcommit(struct nvz_list_buf *b, const struct vzl_ct *c,
			       const struct vzl_field *f)
{
	nvz_list_buf_printf(b, "%g", vm_overcommit(c, f));
}

static int cmp_vm_overcommit(const struct vzl_ct *a, const struct vzl_ct *b)
{
	const struct vzl_field *f = vzl_field_find("vm_overcommit");
	double x = vm_overcommit(a, f), y = vm_overcommit(b, f);
	return (x > y) - (x < y);
}

/* The table. */

#define ROW(n, h, w, al, kd, g, k)                                                                \
	{.name = n, .header = h, .width = w, .align = NVZ_LIST_##al, .kind = NVZ_LIST_##kd,       \
	 .get = g, .key = k}
#define RES_ROW(n, h, g, j, r, i)                                                                 \
	{.name = n, .header = h, .width = 10, .align = NVZ_LIST_RIGHT, .kind = NVZ_LIST_NUM,      \
	 .get = g, .json = j, .res = r, .index = i}
/* A number that JSON shows as 0 when unset. */
#define NUM0_ROW(n, h, w, g, k)                                                                   \
	{.name = n, .header = h, .width = w, .align = NVZ_LIST_RIGHT, .kind = NVZ_LIST_NUM,       \
	 .get = g, .json = json_num0, .key = k}
/* A beancounter: held by default, .m maxheld, .b barrier, .l limit, .f failcnt. */
#define UBC_ROWS(r, n, h)                                                                         \
	RES_ROW(n, h, get_ubc, json_ubc, r, VZL_HELD),                                            \
	RES_ROW(n ".m", h ".M", get_ubc, json_ubc, r, VZL_MAXHELD),                               \
	RES_ROW(n ".b", h ".B", get_ubc, json_ubc, r, VZL_BARRIER),                               \
	RES_ROW(n ".l", h ".L", get_ubc, json_ubc, r, VZL_LIMIT),                                 \
	RES_ROW(n ".f", h ".F", get_ubc, json_ubc, r, VZL_FAILCNT)
/* Disk quota: usage by default, .s softlimit, .h hardlimit. */
#define DQ_ROWS(r, n, h)                                                                          \
	RES_ROW(n, h, get_dq, json_dq, r, VZL_USAGE),                                             \
	RES_ROW(n ".s", h ".S", get_dq, json_dq, r, VZL_SOFT),                                    \
	RES_ROW(n ".h", h ".H", get_dq, json_dq, r, VZL_HARD)

static const struct vzl_field fields[] = {
	ROW("ctid", "CTID", 10, RIGHT, NUM, get_ctid, NULL),
	/* veid and vpsid: OpenVZ's old names, still accepted. */
	ROW("veid", "CTID", 10, RIGHT, NUM, get_ctid, NULL),
	ROW("vpsid", "CTID", 10, RIGHT, NUM, get_ctid, NULL),
	ROW("private", "PRIVATE", 32, LEFT, STR, get_private, NULL),
	ROW("root", "ROOT", 32, LEFT, STR, get_root, NULL),
	ROW("mount_opts", "MOUNT_OPTS", 16, LEFT, STR, get_conf, "MOUNT_OPTS"),
	ROW("origin_sample", "ORIGIN_SAMPLE", 32, LEFT, STR, get_conf, "ORIGIN_SAMPLE"),
	ROW("hostname", "HOSTNAME", 32, LEFT, STR, get_conf, "HOSTNAME"),
	ROW("name", "NAME", 32, LEFT, STR, get_name, NULL),
	ROW("smart_name", "SMARTNAME", 10, RIGHT, STR, get_smart_name, NULL),
	ROW("description", "DESCRIPTION", 32, LEFT, STR, get_conf, "DESCRIPTION"),
	ROW("ostemplate", "OSTEMPLATE", 32, LEFT, STR, get_conf, "OSTEMPLATE"),
	ROW("ip", "IP_ADDR", 15, LEFT, WORDS, get_ip, "IP_ADDRESS"),
	ROW("nameserver", "NAMESERVER", 15, LEFT, WORDS, get_conf, "NAMESERVER"),
	ROW("searchdomain", "SEARCHDOMAIN", 15, LEFT, WORDS, get_conf, "SEARCHDOMAIN"),
	{.name = "status", .header = "STATUS", .width = 9, .align = NVZ_LIST_LEFT,
	 .kind = NVZ_LIST_STR, .get = get_status, .cmp = cmp_status},
	UBC_ROWS(0, "kmemsize", "KMEMSIZE"),
	UBC_ROWS(1, "lockedpages", "LOCKEDP"),
	UBC_ROWS(2, "privvmpages", "PRIVVMP"),
	UBC_ROWS(3, "shmpages", "SHMP"),
	UBC_ROWS(UBC_NUMPROC, "numproc", "NPROC"),
	UBC_ROWS(UBC_PHYSPAGES, "physpages", "PHYSP"),
	UBC_ROWS(6, "vmguarpages", "VMGUARP"),
	UBC_ROWS(7, "oomguarpages", "OOMGUARP"),
	UBC_ROWS(8, "numtcpsock", "NTCPSOCK"),
	UBC_ROWS(9, "numflock", "NFLOCK"),
	UBC_ROWS(10, "numpty", "NPTY"),
	UBC_ROWS(11, "numsiginfo", "NSIGINFO"),
	UBC_ROWS(12, "tcpsndbuf", "TCPSNDB"),
	UBC_ROWS(13, "tcprcvbuf", "TCPRCVB"),
	UBC_ROWS(14, "othersockbuf", "OTHSOCKB"),
	UBC_ROWS(15, "dgramrcvbuf", "DGRAMRB"),
	UBC_ROWS(16, "numothersock", "NOTHSOCK"),
	UBC_ROWS(17, "dcachesize", "DCACHESZ"),
	UBC_ROWS(18, "numfile", "NFILE"),
	UBC_ROWS(19, "numiptent", "NIPTENT"),
	UBC_ROWS(20, "swappages", "SWAPP"),
	DQ_ROWS(VZL_DISKSPACE, "diskspace", "DSPACE"),
	DQ_ROWS(VZL_DISKINODES, "diskinodes", "DINODES"),
	{.name = "laverage", .header = "LAVERAGE", .width = 14, .align = NVZ_LIST_RIGHT,
	 .kind = NVZ_LIST_STR, .get = get_laverage},
	{.name = "uptime", .header = "UPTIME", .width = 15, .align = NVZ_LIST_RIGHT,
	 .kind = NVZ_LIST_STR, .get = get_uptime, .json = json_uptime, .cmp = cmp_uptime},
	ROW("cpulimit", "CPULIM", 7, RIGHT, NUM, get_cpu, "CPULIMIT"),
	ROW("cpuunits", "CPUUNI", 7, RIGHT, NUM, get_cpu, "CPUUNITS"),
	NUM0_ROW("cpus", "CPUS", 5, get_conf_num, "CPUS"),
	NUM0_ROW("ioprio", "IOP", 3, get_conf_num, "IOPRIO"),
	NUM0_ROW("iolimit", "IOLIMIT", 10, get_conf_pos, "IOLIMIT"),
	NUM0_ROW("iopslimit", "IOPS", 4, get_conf_pos, "IOPSLIMIT"),
	ROW("onboot", "ONBOOT", 6, RIGHT, BOOL, get_conf_yesno, "ONBOOT"),
	{.name = "bootorder", .header = "BOOTORDER", .width = 10, .align = NVZ_LIST_RIGHT,
	 .kind = NVZ_LIST_NUM, .get = get_conf_num, .cmp = cmp_bootorder, .key = "BOOTORDER"},
	/* Never trimmed (OpenVZ's %-6s): "ploop:shared" must not become "ploop:". */
	{.name = "layout", .header = "LAYOUT", .width = 6, .nocut = true, .align = NVZ_LIST_LEFT,
	 .kind = NVZ_LIST_STR, .get = get_layout, .key = "VE_LAYOUT"},
	{.name = "features", .header = "FEATURES", .width = 15, .align = NVZ_LIST_LEFT,
	 .kind = NVZ_LIST_STR, .get = get_features, .json = json_features, .key = "FEATURES"},
	ROW("vswap", "VSWAP", 5, RIGHT, BOOL, get_vswap, NULL),
	ROW("disabled", "DISABL", 6, RIGHT, BOOL, get_conf_yes, "DISABLED"),
	{.name = "vm_overcommit", .header = "VM_OVC", .width = 6, .align = NVZ_LIST_RIGHT,
	 .kind = NVZ_LIST_STR, .get = get_vm_overcommit, .json = json_vm_overcommit,
	 .cmp = cmp_vm_overcommit, .key = "VM_OVERCOMMIT"},
	/* OpenVZ pads the header to 15 but the value to 6, and never trims it. */
	{.name = "netfilter", .header = "NETFILTER", .width = 6, .hwidth = 15, .nocut = true,
	 .align = NVZ_LIST_LEFT, .kind = NVZ_LIST_STR, .get = get_conf, .key = "NETFILTER"},
};

const struct vzl_field *vzl_fields(size_t *n)
{
	*n = sizeof(fields) / sizeof(fields[0]);
	return fields;
}

const struct vzl_field *vzl_field_find(const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

/* Data gathering that is not a getter: configured resources. */

void vzl_load_resources(struct vzl_ct *c)
{
	/* Beancounters: the config key holds BARRIER:LIMIT (lib/res parses it). */
	for (int i = 0; i < VZL_NUBC && i < UBC_COUNT; i++) {
		struct nvz_ubc_value v;
		const char *text = nvz_ct_get(c->ct, nvz_ubc_info(i)->key, NULL);
		if (!text || nvz_ubc_parse(i, text, &v, NULL) < 0)
			continue;
		c->ubc[i].v[VZL_BARRIER] = v.barrier == NVZ_UNLIMITED ? NVZ_LIST_UNLIMITED : v.barrier;
		c->ubc[i].v[VZL_LIMIT] = v.limit == NVZ_UNLIMITED ? NVZ_LIST_UNLIMITED : v.limit;
		c->ubc[i].have |= 1u << VZL_BARRIER | 1u << VZL_LIMIT;
	}
	/* DISKSPACE is in 1K blocks; a suffixed value is in bytes. */
	static const struct {
		const char *key;
		unsigned long long div;
	} dq_defs[VZL_NDQ] = {{"DISKSPACE", 1024}, {"DISKINODES", 1}};
	for (int i = 0; i < VZL_NDQ; i++) {
		unsigned long long sh[2];
		if (nvz_list_parse_2num(nvz_ct_get(c->ct, dq_defs[i].key, NULL), dq_defs[i].div,
					sh) < 0)
			continue;
		c->dq[i].v[VZL_SOFT] = sh[0];
		c->dq[i].v[VZL_HARD] = sh[1];
		c->dq[i].have |= 1u << VZL_SOFT | 1u << VZL_HARD;
	}
}

bool vzl_field_is_disk_usage(const struct vzl_field *f, bool json)
{
	return f->get == get_dq && (f->index == VZL_USAGE || json);
}

void vzl_set_disk_usage(struct vzl_ct *c, const struct nvz_disk_usage *u)
{
	c->dq[VZL_DISKSPACE].v[VZL_USAGE] = u->space_used_kb;
	c->dq[VZL_DISKINODES].v[VZL_USAGE] = u->inodes_used;
	c->dq[VZL_DISKSPACE].have |= 1u << VZL_USAGE;
	c->dq[VZL_DISKINODES].have |= 1u << VZL_USAGE;
}

void vzl_set_nproc(struct vzl_ct *c, unsigned long long n)
{
	c->ubc[UBC_NUMPROC].v[VZL_HELD] = n;
	c->ubc[UBC_NUMPROC].have |= 1u << VZL_HELD;
}

void vzl_set_usage(struct vzl_ct *c, int id, const struct nvz_cgroup_counter *cnt)
{
	if (!cnt->valid)
		return;
	struct vzl_res *r = &c->ubc[id];
	r->v[VZL_HELD] = cnt->held;
	r->v[VZL_MAXHELD] = cnt->maxheld;
	r->v[VZL_FAILCNT] = cnt->failcnt;
	r->have |= 1u << VZL_HELD | 1u << VZL_MAXHELD | 1u << VZL_FAILCNT;
}

/* Output. */

static void field_value(const struct vzl_ct *c, const struct vzl_field *f,
			struct nvz_list_val *v)
{
	*v = (struct nvz_list_val){.kind = f->kind};
	f->get(c, f, v);
}

void vzl_format_header(struct nvz_list_buf *b, const struct vzl_field *const *order, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned w = order[i]->hwidth ? order[i]->hwidth : order[i]->width;
		nvz_list_column(b, order[i]->header, strlen(order[i]->header), w, order[i]->align,
				false);
		if (i + 1 < n)
			nvz_list_buf_add(b, " ", 1);
	}
	nvz_list_buf_rtrim(b);
}

void vzl_format_row(struct nvz_list_buf *b, const struct vzl_ct *c,
		    const struct vzl_field *const *order, size_t n, bool trim)
{
	for (size_t i = 0; i < n; i++) {
		const struct vzl_field *f = order[i];
		bool cut = trim && i + 1 < n && !f->nocut;
		struct nvz_list_val v;
		field_value(c, f, &v);
		char tmp[32];
		const char *t = nvz_list_val_text(&v, tmp, sizeof(tmp));
		size_t start = 0, len = strlen(t);
		/* A trimmed list column shows its first item only. */
		if (v.set && v.kind == NVZ_LIST_WORDS && cut)
			len = nvz_list_first_word(t, &start);
		bool text = v.kind == NVZ_LIST_STR || v.kind == NVZ_LIST_WORDS;
		nvz_list_column(b, t + start, len, f->width, f->align, cut && text);
		if (i + 1 < n)
			nvz_list_buf_add(b, " ", 1);
	}
	nvz_list_buf_rtrim(b);
}

static void json_field(struct nvz_list_buf *b, const struct vzl_ct *c,
		       const struct vzl_field *f, bool first)
{
	nvz_list_buf_printf(b, "%s\n    ", first ? "" : ",");
	nvz_list_json_str(b, f->name);
	nvz_list_buf_puts(b, ": ");
	if (f->json) {
		f->json(b, c, f);
		return;
	}
	struct nvz_list_val v;
	field_value(c, f, &v);
	nvz_list_json_val(b, &v);
}

void vzl_format_json(struct nvz_list_buf *b, const struct vzl_ct *c,
		     const struct vzl_field *const *order, size_t n)
{
	nvz_list_buf_puts(b, "  {");
	bool first = true;
	if (order) {
		for (size_t i = 0; i < n; i++, first = false)
			json_field(b, c, order[i], first);
	} else {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (fields[i].index)
				continue;
			json_field(b, c, &fields[i], first);
			first = false;
		}
	}
	nvz_list_buf_puts(b, "\n  }");
}

int vzl_compare(const struct vzl_ct *a, const struct vzl_ct *b, const struct vzl_field *f,
		bool reverse)
{
	int r;
	if (f->cmp) {
		r = f->cmp(a, b);
	} else {
		struct nvz_list_val va, vb;
		field_value(a, f, &va);
		field_value(b, f, &vb);
		r = nvz_list_val_cmp(&va, &vb);
	}
	if (!r)
		r = (a->ct->veid > b->ct->veid) - (a->ct->veid < b->ct->veid);
	/* OpenVZ prints the sorted list backwards: ties too come reversed. */
	return reverse ? -r : r;
}
