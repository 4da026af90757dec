/* vzlist: list containers and their parameters, OpenVZ-compatible output.
 * Exit status 0 or 1, as OpenVZ's vzlist. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nvz/cgroup.h"
#include "nvz/cleanup.h"
#include "nvz/ct.h"
#include "nvz/ctx.h"
#include "nvz/storage.h"
#include "nvz/ubcview.h"
#include "vzlist.h"

#define DEFAULT_FIELDS "ctid,numproc,status,ip,hostname"
#define DEFAULT_NAME_FIELDS "smart_name,numproc,status,ip,hostname"

struct vzl_opts {
	bool all, stopped, json;
	bool header, trim;
	const char *fields; /* NULL: default (all unsuffixed fields in JSON) */
	const char *sort_arg;
	const struct vzl_field *sort;
	bool reverse;
	const char *host_pat, *name_pat, *desc_pat;
	char **ids; /* CTIDs or names from the command line */
	int nids;
};

struct vzl_list {
	struct vzl_ct *v;
	size_t n, cap;
};

static void usage(FILE *f)
{
	fputs("Usage: vzlist [-a | -S] [-n] [-H] [-t] [-j] [-o field[,field...] | -1]\n"
	      "              [-s [-]field] [-h pattern] [-N pattern] [-d pattern] [CTID|name ...]\n"
	      "       vzlist -L | --list\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all                list all containers\n"
	      "  -S, --stopped            list stopped containers\n"
	      "  -n, --name               display containers' names\n"
	      "  -H, --no-header          suppress columns header\n"
	      "  -t, --no-trim            do not trim long values\n"
	      "  -j, --json               output in JSON format\n"
	      "  -o, --output             output only specified fields\n"
	      "  -1                       synonym for -H -octid\n"
	      "  -s, --sort               sort by the specified field\n"
	      "                           ('-field' to reverse sort order)\n"
	      "  -h, --hostname           filter CTs by hostname pattern\n"
	      "  -N, --name_filter        filter CTs by name pattern\n"
	      "  -d, --description        filter CTs by description pattern\n"
	      "  -L, --list               get possible field names\n"
	      "      --help               show this help\n",
	      f);
}

static void list_fields(void)
{
	size_t n;
	const struct vzl_field *f = vzl_fields(&n);
	for (size_t i = 0; i < n; i++)
		printf("%-15s %-15s\n", f[i].name, f[i].header);
}

enum { OPT_HELP = 256 };

/* Returns -1 to go on, or the exit status (for -L, --help, bad options). */
static int parse_args(int argc, char **argv, struct vzl_opts *o)
{
	static const struct option longopts[] = {
		{"no-header", no_argument, NULL, 'H'},
		{"no-trim", no_argument, NULL, 't'},
		{"stopped", no_argument, NULL, 'S'},
		{"all", no_argument, NULL, 'a'},
		{"name", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"name_filter", required_argument, NULL, 'N'},
		{"hostname", required_argument, NULL, 'h'},
		{"description", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"sort", required_argument, NULL, 's'},
		{"list", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "HtSanjN:h:d:o:s:L1", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': o->header = false; break;
		case 't': o->trim = false; break;
		case 'S': o->stopped = true; break;
		case 'a': o->all = true; break;
		case 'n': o->fields = DEFAULT_NAME_FIELDS; break;
		case 'j': o->json = true; break;
		case 'N': o->name_pat = optarg; break;
		case 'h': o->host_pat = optarg; break;
		case 'd': o->desc_pat = optarg; break;
		case 'o': o->fields = optarg; break;
		case '1':
			/* OpenVZ's -1 is -H -o veid: the same column, JSON key "veid". */
			o->fields = "veid";
			o->header = false;
			break;
		case 's':
			o->sort_arg = optarg;
			o->reverse = optarg[0] == '-';
			o->sort = vzl_field_find(optarg + o->reverse);
			if (!o->sort) {
				fprintf(stderr, "Invalid sort field name: %s\n", optarg);
				return 1;
			}
			break;
		case 'L': list_fields(); return 0;
		case OPT_HELP: usage(stdout); return 0;
		default:
			/* getopt has said what was wrong. */
			usage(stderr);
			return 1;
		}
	}
	o->ids = argv + optind;
	o->nids = argc - optind;
	return -1;
}

/* The -o list (or the default) as field rows; NULL order for JSON's "all". */
static int build_order(const struct vzl_opts *o, const struct vzl_field ***order, size_t *n)
{
	*order = NULL;
	*n = 0;
	const char *spec = o->fields;
	if (!spec) {
		if (o->json)
			return 0;
		spec = DEFAULT_FIELDS;
	}
	cleanup_free char *copy = strdup(spec);
	cleanup_free const struct vzl_field **v = calloc(strlen(spec) + 1, sizeof(*v));
	if (!copy || !v) {
		fprintf(stderr, "Error: out of memory\n");
		return -1;
	}
	/* OpenVZ's split: every name up to a comma, and one trailing comma
	 * ends the list, so "ctid,,status" names an empty (unknown) field. */
	size_t cnt = 0;
	char *name = copy, *end = copy + strlen(copy);
	do {
		char *comma = strchr(name, ',');
		if (comma)
			*comma = '\0';
		const struct vzl_field *f = vzl_field_find(name);
		if (!f) {
			fprintf(stderr, "Unknown field: %s\n", name);
			return -1;
		}
		if (o->json && f->index) {
			fprintf(stderr, "Field `%s' is not available in JSON output\n", name);
			return -1;
		}
		v[cnt++] = f;
		name = comma ? comma + 1 : end;
	} while (name < end);
	*order = steal_ptr(&v);
	*n = cnt;
	return 0;
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

/* CTIDs and names from the command line, sorted for bsearch. */
static int resolve_ids(struct nvz_ctx *ctx, const struct vzl_opts *o, unsigned long **out)
{
	*out = NULL;
	if (!o->nids)
		return 0;
	unsigned long *v = calloc((size_t)o->nids, sizeof(*v));
	if (!v) {
		fprintf(stderr, "Error: out of memory\n");
		return -1;
	}
	for (int i = 0; i < o->nids; i++) {
		if (nvz_ct_resolve(ctx, o->ids[i], &v[i], NULL) < 0 || v[i] == 0) {
			fprintf(stderr, "CT ID %s is invalid.\n", o->ids[i]);
			free(v);
			return -1;
		}
	}
	qsort(v, (size_t)o->nids, sizeof(*v), cmp_ul);
	*out = v;
	return 0;
}

static void list_free(struct vzl_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].live_ips);
		nvz_ct_free(l->v[i].ct);
	}
	free(l->v);
	*l = (struct vzl_list){0};
}

static bool all_digits(const char *s)
{
	return *s && s[strspn(s, "0123456789")] == '\0';
}

/* The disk usage, where it is cheap to know (never a walk of a tree). */
static void fill_disk_usage(struct vzl_ct *c)
{
	struct nvz_disk_usage u;
	if (c->exists && nvz_ct_disk_usage(c->ct, false, &u, NULL) == 0)
		vzl_set_disk_usage(c, &u);
}

/* "a/64 b" -> "a b", in place. */
static char *drop_prefixes(char *ips)
{
	char *out = ips;
	for (const char *p = ips; p && *p;) {
		size_t n = strcspn(p, "/ ");
		memmove(out, p, n);
		out += n;
		p += n;
		p += strcspn(p, " ");
		if (*p)
			*out++ = *p++;
	}
	if (out)
		*out = '\0';
	return ips;
}

/* What is not a field getter: status, verified name, resources, NPROC,
 * and the disk usage if asked for. */
/* A CT's config value, for the beancounter rows a pre-VSwap limit counts. */
static const char *ct_value(void *ct, const char *key)
{
	return nvz_ct_get(ct, key, NULL);
}

static void fill(struct vzl_ct *c, const struct nvz_ct_state *st, bool disk_usage)
{
	struct nvz_ct *ct = c->ct;
	c->exists = st->exists;
	c->uptime = nvz_ct_uptime(st);
	c->status = st->running     ? VZL_RUNNING
		    : st->mounted   ? VZL_MOUNTED
		    : st->suspended ? VZL_SUSPENDED
				    : VZL_STOPPED;
	/* A NAME counts only if names/NAME leads back here (OpenVZ's rule). */
	const char *name = nvz_conf_get(ct->conf, "NAME");
	unsigned long owner;
	if (name && *name && !all_digits(name) && nvz_ct_resolve(ct->ctx, name, &owner, NULL) == 0 &&
	    owner == ct->veid)
		c->name = name;
	vzl_load_resources(c);
	if (disk_usage)
		fill_disk_usage(c);
	if (c->status != VZL_RUNNING)
		return;
	/* OpenVZ shows a running CT's addresses from the kernel: a live
	 * --ipadd without --save is listed, without its /prefix. */
	c->live_ips = drop_prefixes(nvz_ct_live_ips(ct));
	struct nvz_cgroup *cg = NULL;
	struct nvz_error *err = NULL;
	const char *prefix = nvz_ctx_get(ct->ctx, "CGROUP_PREFIX", "nvz");
	if (nvz_cgroup_open(&cg, prefix, ct->id, &err) == 0) {
		int nr = nvz_cgroup_nr_procs(cg, &err);
		if (nr >= 0)
			vzl_set_nproc(c, (unsigned long long)nr);
		/* Live beancounter values where this kernel counts them. */
		struct nvz_cgroup_counter cnt[UBC_COUNT];
		if (nvz_cgroup_counters(cg, cnt, NULL) == 0) {
			nvz_ubc_counters_by_limits(ct_value, ct, cnt);
			for (int id = 0; id < UBC_COUNT && id < VZL_NUBC; id++)
				vzl_set_usage(c, id, &cnt[id]);
		}
	}
	nvz_error_free(err);
	nvz_cgroup_free(cg);
}

/* Running CTs; with -a, -S or CTIDs every CT that has a private area. */
static int gather(struct nvz_ctx *ctx, const struct vzl_opts *o, const unsigned long *want,
		  bool disk_usage, struct vzl_list *l)
{
	cleanup_free unsigned long *ids = NULL;
	size_t n;
	struct nvz_error *err = NULL;
	if (nvz_ct_list_ids(ctx, &ids, &n, &err) < 0) {
		cli_fail(err);
		return -1;
	}
	bool every = o->all || o->stopped || want, adopted = false;
	for (size_t i = 0; i < n; i++) {
		if (want && !bsearch(&ids[i], want, (size_t)o->nids, sizeof(*want), cmp_ul))
			continue;
		struct nvz_ct *ct = NULL;
		if (nvz_ct_open(ctx, ids[i], &ct, &err) < 0) {
			fprintf(stderr, "Warning: CT %lu: %s\n", ids[i], err->msg);
			nvz_error_clear(&err);
			continue;
		}
		struct nvz_ct_state st;
		nvz_ct_get_state(ct, &st, NULL);
		/* Running without its monitor (a killed hub): the hub takes over
		 * every such CT at once, so one ask that reached it is enough. */
		if (st.running && !st.monitor_pid && !adopted) {
			int r = nvz_ct_adopt_if_orphaned(ct, &err);
			adopted = r != 0;
			if (r < 0) {
				fprintf(stderr, "Warning: %s\n", err->msg);
				nvz_error_clear(&err);
			}
		}
		if (!st.running && !(every && st.exists)) {
			nvz_ct_free(ct);
			continue;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct vzl_ct *nv = realloc(l->v, cap * sizeof(*nv));
			if (!nv) {
				nvz_ct_free(ct);
				fprintf(stderr, "Error: out of memory\n");
				return -1;
			}
			l->v = nv;
			l->cap = cap;
		}
		l->v[l->n] = (struct vzl_ct){.ct = ct};
		fill(&l->v[l->n++], &st, disk_usage);
	}
	return 0;
}

/* A config value as the fields show it: empty is unset. */
static const char *conf_value(const struct vzl_ct *c, const char *key)
{
	const char *s = nvz_conf_get(c->ct->conf, key);
	return s && *s ? s : NULL;
}

static void filter(struct vzl_list *l, const struct vzl_opts *o)
{
	for (size_t i = 0; i < l->n; i++) {
		struct vzl_ct *c = &l->v[i];
		if ((o->stopped && c->status == VZL_RUNNING) ||
		    !nvz_list_glob(o->host_pat, conf_value(c, "HOSTNAME")) ||
		    !nvz_list_glob(o->name_pat, c->name) ||
		    !nvz_list_glob(o->desc_pat, conf_value(c, "DESCRIPTION")))
			c->hidden = true;
	}
}

static int sort_cmp(const void *a, const void *b, void *arg)
{
	const struct vzl_opts *o = arg;
	return vzl_compare(a, b, o->sort, o->reverse);
}

static int emit(struct nvz_list_buf *b)
{
	if (b->oom) {
		fprintf(stderr, "Error: out of memory\n");
		return -1;
	}
	fputs(nvz_list_buf_str(b), stdout);
	nvz_list_buf_clear(b);
	return 0;
}

static int print_list(const struct vzl_list *l, const struct vzl_opts *o,
		      const struct vzl_field *const *order, size_t n)
{
	struct nvz_list_buf b = {0};
	bool any = false;
	int r = 0;
	/* JSON as OpenVZ lays it out, also when every CT is filtered out:
	 * "[", "\n  {...}" joined by ",", "\n]". */
	if (o->json) {
		nvz_list_buf_puts(&b, "[");
	} else if (o->header) {
		vzl_format_header(&b, order, n);
		nvz_list_buf_puts(&b, "\n");
	}
	r = emit(&b);
	for (size_t i = 0; i < l->n && r == 0; i++) {
		if (l->v[i].hidden)
			continue;
		if (o->json) {
			nvz_list_buf_puts(&b, any ? ",\n" : "\n");
			vzl_format_json(&b, &l->v[i], order, n);
		} else {
			vzl_format_row(&b, &l->v[i], order, n, o->trim);
			nvz_list_buf_puts(&b, "\n");
		}
		any = true;
		r = emit(&b);
	}
	if (o->json && r == 0) {
		nvz_list_buf_puts(&b, "\n]\n");
		r = emit(&b);
	}
	nvz_list_buf_free(&b);
	return r;
}

static int list_cts(struct nvz_ctx *ctx, const struct vzl_opts *o,
		    const struct vzl_field *const *order, size_t n, struct vzl_list *l)
{
	cleanup_free unsigned long *want = NULL;
	bool disk_usage = o->sort && vzl_field_is_disk_usage(o->sort, false);
	for (size_t i = 0; i < n; i++)
		disk_usage |= vzl_field_is_disk_usage(order[i], o->json);
	if (resolve_ids(ctx, o, &want) < 0 || gather(ctx, o, want, disk_usage, l) < 0)
		return 1;
	if (!l->n) {
		/* Not an error unless CTs were asked for by ID (OpenVZ bug 2149). */
		/* JSON readers get an empty array, and nothing on stderr. */
		if (o->json)
			fputs("[]\n", stdout);
		else
			fprintf(stderr, "Container(s) not found\n");
		return want ? 1 : 0;
	}
	filter(l, o);
	if (o->sort)
		qsort_r(l->v, l->n, sizeof(*l->v), sort_cmp, (void *)o);
	return print_list(l, o, order, n) < 0 ? 1 : 0;
}

static int run(const struct vzl_opts *o, const struct vzl_field *const *order, size_t n)
{
	struct cli_out out = {.quiet = true};
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0) {
		cli_fail(err);
		return 1;
	}
	struct vzl_list l = {0};
	int rc = list_cts(ctx, o, order, n, &l);
	list_free(&l);
	nvz_ctx_free(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	struct vzl_opts o = {.header = true, .trim = true};
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return cli_close_stdout(rc);
	cleanup_free const struct vzl_field **order = NULL;
	size_t n;
	if (build_order(&o, &order, &n) < 0)
		return 1;
	if (!cli_is_root()) {
		fprintf(stderr, "This program can only be run under root.\n");
		return 1;
	}
	return cli_close_stdout(run(&o, order, n));
}
