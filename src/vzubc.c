/* vzubc: OpenVZ's human-readable beancounter view (bin/vzubc.in). On the
 * host it reads the running CTs' counters and applied limits; with -f, or
 * inside a CT (where /run/user_beancounters or an OpenVZ kernel's
 * /proc/user_beancounters is), it reads that file.
 * Exit status 0 or 1. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "nvz/cleanup.h"
#include "nvz/ct.h"
#include "nvz/ctx.h"
#include "nvz/ubcview.h"

#define PROC_UBC "/proc/user_beancounters"
#define PROC_BC_RESOURCES "/proc/bc/resources"
/* Inside an nvz CT (mainline procfs cannot gain the OpenVZ file). */
#define RUN_UBC "/run/user_beancounters"

/* The CT's own beancounter file when vzubc runs inside a CT, else NULL. */
static const char *ct_file(void)
{
	static const char *const files[] = { PROC_BC_RESOURCES, PROC_UBC, RUN_UBC };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (access(files[i], R_OK) == 0)
			return files[i];
	return NULL;
}

struct ubc_opts {
	bool quiet, verbose, relative, incremental, color, thresholds;
	bool watch;
	const char *watch_args[8]; /* -d, -t, -n N */
	size_t nwatch;
	bool clear_store, clear_held; /* -rc, -ic */
	double qheld, qmaxheld;
	const char *storedir;
	const char *file;
	char **cts; /* CTIDs or names */
	int ncts;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vzubc [option ...] [<ctid> ...]\n"
		"\n"
		" -w, --watch:\n"
		"     Run itself under watch(1) (a la top mode, Ctrl-C to exit).\n"
		"     -wd: show differences between runs\n"
		"     -wt: do not show watch title\n"
		"     -wn <time>: refresh every <time> seconds\n"
		" -q, --quiet:\n"
		"     Quiet mode (only show beancounters with fails and close to limits).\n"
		"     -qh <ratio>: quiet threshold for held/limit ratio (default: 0.5)\n"
		"     -qm <ratio>: quiet threshold for maxheld/limit ratio (default: 0.8)\n"
		" -v, --verbose:\n"
		"     Verbose mode (show unlimited beancounters as well).\n"
		" -r, --relative:\n"
		"     Relative mode, show fail counters delta compared to previous run.\n"
		"     -rc: clear all saved fail counter data for relative mode\n"
		"     -rd <dir>: directory for storing data (default: /tmp/vzubc.store)\n"
		" -i, --incremental:\n"
		"     Incremental mode, add held value delta compared to previous run.\n"
		"     If used together with -q, beancounters with changed values are also shown.\n"
		"     -ic: clear all saved held data for incremental mode\n"
		"     -id <dir>: synonym for -rd\n"
		" -c, --color:\n"
		"     Enable color highlighting (using same thresholds as for --quiet).\n"
		"     Color mode is not compatible with --watch.\n"
		" -f, --file <file>:\n"
		"     File to read UBC values from. Defaults are the running containers\n"
		"     (inside a CT: /run/user_beancounters, or /proc/user_beancounters where it\n"
		"     exists). Use - to read from stdin.\n"
		"\n"
		" <ctid>: container name/ID to show info about (can be used multiple times)\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("Error: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 1;
}

static int fail(struct nvz_error *err)
{
	cli_fail(err);
	return 1;
}

/* A ratio, or a percentage: over 1 (the renderer divides it by 100). As
 * vzubc's awk did, "50%" is 50; it compared the text with "1", so "1%" was
 * one percent and "0.5%" the ratio 0.5. Not a number (OpenVZ's awk took it
 * as 0, every row shown) is refused. */
static int parse_ratio(const char *opt, const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	bool pct = *end == '%';
	/* strtod's inf, nan and hex were no numbers to awk. */
	if (errno || end == s || !strchr("0123456789.", s[0]) || strpbrk(s, "xX") ||
	    strcmp(end, pct ? "%" : "")) {
		bad_usage("invalid value for %s", opt);
		return -1;
	}
	if (pct && *out == 1)
		*out = 0.01;
	return 0;
}

/* vzubc's options are single-dash words (-qh, -rd), so getopt cannot parse
 * them. Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct ubc_opts *o)
{
	char **cts = calloc((size_t)argc, sizeof(*cts));
	if (!cts)
		return 1;
	o->cts = cts;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = !strcmp(a, "-wn") || !strcmp(a, "-qh") || !strcmp(a, "-qm") ||
			     !strcmp(a, "-rd") || !strcmp(a, "-id") || !strcmp(a, "-f") ||
			     !strcmp(a, "--file");
		if (takes && (!next || !*next)) /* vzubc's test -z */
			return bad_usage("option %s requires an argument", a);
		if (o->nwatch > 5)
			return bad_usage("%stoo many watch options", "");
		if (!strcmp(a, "-W"))
			o->watch = false; /* internal: already under watch */
		else if (!strcmp(a, "-w") || !strcmp(a, "--watch"))
			o->watch = true;
		else if (!strcmp(a, "-wd") || !strcmp(a, "-wt")) {
			o->watch = true;
			o->watch_args[o->nwatch++] = a[2] == 'd' ? "-d" : "-t";
		} else if (!strcmp(a, "-wn")) {
			o->watch = true;
			o->watch_args[o->nwatch++] = "-n";
			o->watch_args[o->nwatch++] = argv[++i];
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			o->quiet = true;
		else if (!strcmp(a, "-qh") || !strcmp(a, "-qm")) {
			o->thresholds = true;
			if (parse_ratio(a, argv[++i], a[2] == 'h' ? &o->qheld : &o->qmaxheld) < 0)
				return 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			o->verbose = true;
		else if (!strcmp(a, "-r") || !strcmp(a, "--relative"))
			o->relative = true;
		else if (!strcmp(a, "-rc"))
			o->clear_store = true;
		else if (!strcmp(a, "-rd") || !strcmp(a, "-id"))
			o->storedir = argv[++i];
		else if (!strcmp(a, "-c") || !strcmp(a, "--color"))
			o->color = true;
		else if (!strcmp(a, "-f") || !strcmp(a, "--file"))
			o->file = argv[++i];
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-"))
			o->file = "-"; /* vzubc before 4.0: stdin */
		else if (!strcmp(a, "-i") || !strcmp(a, "--incremental"))
			o->incremental = true;
		else if (!strcmp(a, "-ic"))
			o->clear_held = true;
		else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "Unrecognized option: %s\n", a);
			usage(stderr);
			return 1;
		} else
			cts[o->ncts++] = argv[i];
	}
	if (o->watch && o->color)
		return bad_usage("%scan't use --watch and --color together", "");
	if (o->thresholds && !o->color && !o->quiet)
		return bad_usage("%s-qh and -qm only make sense with --quiet or --color", "");
	if (o->quiet && o->verbose)
		return bad_usage("%soptions --quiet and --verbose can't be used together", "");
	return -1;
}

/* -w: run ourselves under watch(1), as vzubc did, with -W appended. */
static int exec_watch(const struct ubc_opts *o, int argc, char **argv)
{
	size_t n = 0;
	char **v = calloc((size_t)argc + 8, sizeof(*v));
	if (!v)
		return 1;
	v[n++] = "watch";
	for (size_t i = 0; i < o->nwatch; i++)
		v[n++] = (char *)o->watch_args[i];
	v[n++] = "--";
	for (int i = 0; i < argc; i++)
		v[n++] = argv[i];
	v[n++] = "-W";
	execvp("watch", v);
	fprintf(stderr, "Error: watch binary not found\n");
	free(v);
	return 1;
}

static int read_all(const char *path, char **out, size_t *len)
{
	struct nvz_error *err = NULL;
	if (strcmp(path, "-")) {
		if (nvz_read_file(path, 64 << 20, out, len, &err) < 0) {
			fprintf(stderr, "Error: %s\n", err->msg);
			nvz_error_free(err);
			return -1;
		}
		return 0;
	}
	FILE *m = open_memstream(out, len);
	if (!m)
		return -1;
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		fwrite(buf, 1, n, m);
	bool bad = ferror(stdin);
	if (fclose(m) != 0 || bad) {
		fprintf(stderr, "Error: read stdin: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int load_file(const char *path, struct nvz_ubc_set **set)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (read_all(path, &buf, &len) < 0)
		return -1;
	struct nvz_error *err = NULL;
	if (nvz_ubc_parse_table(buf, len, set, &err) < 0) {
		/* OpenVZ's one error about the table: "Error: unknown version: X". */
		if (err->code == EPROTONOSUPPORT)
			fprintf(stderr, "Error: %s\n", err->msg);
		else
			fprintf(stderr, "Error: %s: %s\n", path, err->msg);
		nvz_error_free(err);
		return -1;
	}
	return 0;
}

static bool wanted(const struct ubc_opts *o, const unsigned long *ids, const char *uid)
{
	if (!o->ncts)
		return true;
	char *end;
	unsigned long v = strtoul(uid, &end, 10);
	for (int i = 0; i < o->ncts; i++)
		if (ids[i] ? (*uid && !*end && ids[i] == v) : !strcmp(o->cts[i], uid))
			return true;
	return false;
}

static int add_ct_block(struct nvz_ubc_set *set, struct nvz_ct *ct)
{
	struct nvz_ubc_row *rows = calloc(UBC_COUNT, sizeof(*rows));
	struct nvz_ubc_block *nb = realloc(set->blocks, (set->nblocks + 1) * sizeof(*nb));
	if (!rows || !nb) {
		free(rows);
		fprintf(stderr, "Error: out of memory\n");
		return -1;
	}
	set->blocks = nb;
	struct nvz_error *err = NULL;
	if (nvz_ct_ubc_rows(ct, rows, &err) < 0) {
		fprintf(stderr, "Warning: %s\n", err->msg);
		nvz_error_free(err);
		free(rows);
		return 0;
	}
	struct nvz_ubc_block *b = &nb[set->nblocks++];
	*b = (struct nvz_ubc_block){ .rows = rows, .nrows = UBC_COUNT };
	snprintf(b->uid, sizeof(b->uid), "%s", ct->id);
	return 0;
}

/* The host's view: every running CT, in ID order. */
static int load_host(struct nvz_ctx *ctx, struct nvz_ubc_set **out)
{
	cleanup_free unsigned long *ids = NULL;
	size_t n = 0;
	struct nvz_error *err = NULL;
	struct nvz_ubc_set *set = calloc(1, sizeof(*set));
	if (!set || nvz_ct_list_ids(ctx, &ids, &n, &err) < 0) {
		free(set);
		cli_fail(err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct nvz_ct *ct = NULL;
		struct nvz_ct_state st = {0};
		if (nvz_ct_open(ctx, ids[i], &ct, &err) < 0) {
			nvz_error_clear(&err);
			continue;
		}
		int r = 0;
		if (nvz_ct_get_state(ct, &st, NULL) == 0 && st.running)
			r = add_ct_block(set, ct);
		nvz_ct_free(ct);
		if (r < 0) {
			nvz_ubc_set_free(set);
			return -1;
		}
	}
	*out = set;
	return 0;
}

/* STOREDIR/ubc.<uid>.<resource>.<kind>, kind "failcnt" (-r) or "held" (-i), as vzubc. */
static int store_path(char **p, const struct ubc_opts *o, const char *uid, const char *name,
		      const char *kind)
{
	return asprintf(p, "%s/ubc.%s.%s.%s", o->storedir, uid, name, kind) < 0 ? -1 : 0;
}

static uint64_t store_read(const struct ubc_opts *o, const char *uid, const char *name,
			   const char *kind)
{
	cleanup_free char *p = NULL;
	cleanup_fclose FILE *f = NULL;
	uint64_t v = 0;
	if (store_path(&p, o, uid, name, kind) < 0 || !(f = fopen(p, "re")) ||
	    fscanf(f, "%" SCNu64, &v) != 1)
		return 0;
	return v;
}

static void store_write(const struct ubc_opts *o, const char *uid, const char *name,
			const char *kind, uint64_t v)
{
	cleanup_free char *p = NULL;
	cleanup_fclose FILE *f = NULL;
	if (store_path(&p, o, uid, name, kind) == 0 && (f = fopen(p, "we")))
		fprintf(f, "%" PRIu64 "\n", v);
}

static void store_clear(const struct ubc_opts *o, const char *kind)
{
	cleanup_free char *pat = NULL;
	glob_t g;
	if (asprintf(&pat, "%s/ubc.*.%s", o->storedir, kind) >= 0 &&
	    glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

/* Relative and incremental modes need a private, writable store directory. */
static int prepare_store(const struct ubc_opts *o)
{
	if (o->clear_store)
		store_clear(o, "failcnt");
	if (o->clear_held)
		store_clear(o, "held");
	if (!o->relative && !o->incremental)
		return 0;
	if (mkdir(o->storedir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkdir: cannot create directory '%s': %s\n", o->storedir,
			strerror(errno));
		return -1;
	}
	cleanup_free char *probe = NULL;
	if (asprintf(&probe, "%s/ubc.test", o->storedir) < 0)
		return -1;
	int fd = open(probe, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, "touch: cannot touch '%s': %s\n", probe, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

static int show(const struct ubc_opts *o, const struct nvz_ubc_set *set, const unsigned long *ids)
{
	struct nvz_ubc_human_opts h = {
		.quiet = o->quiet, .verbose = o->verbose, .relative = o->relative,
		.color = o->color, .qheld = o->qheld, .qmaxheld = o->qmaxheld,
	};
	bool printed = false;
	for (size_t i = 0; i < set->nblocks; i++) {
		const struct nvz_ubc_block *b = &set->blocks[i];
		if (!wanted(o, ids, b->uid))
			continue;
		if ((o->relative || o->incremental) && !*b->uid) {
			fprintf(stderr, "Error: can not use relative/incremental modes: BCID is unknown\n");
			return 1;
		}
		cleanup_free uint64_t *prev = calloc(b->nrows + 1, sizeof(*prev));
		cleanup_free uint64_t *held = calloc(b->nrows + 1, sizeof(*held));
		cleanup_free bool *shown = calloc(b->nrows + 1, sizeof(*shown));
		cleanup_free char *text = NULL;
		struct nvz_error *err = NULL;
		if (!prev || !held || !shown)
			return 1;
		for (size_t r = 0; o->relative && r < b->nrows; r++)
			prev[r] = b->rows[r].failcnt ? store_read(o, b->uid, b->rows[r].name, "failcnt") : 0;
		/* No saved value counts as 0, as vzubc's first run shows "+held". */
		for (size_t r = 0; o->incremental && r < b->nrows; r++)
			held[r] = store_read(o, b->uid, b->rows[r].name, "held");
		h.prev_held = o->incremental ? held : NULL;
		h.shown = shown;
		if (nvz_ubc_human(&h, b->uid, b->rows, b->nrows, prev, &text, &err) < 0)
			return fail(err);
		if (*text) {
			printf("%s%s", printed ? "\n" : "", text);
			printed = true;
		}
		/* As vzubc: a hidden row's counter is not saved, so the next
		 * run that shows it counts from the last time it was shown. */
		for (size_t r = 0; o->relative && r < b->nrows; r++)
			if (b->rows[r].failcnt > 0 && shown[r])
				store_write(o, b->uid, b->rows[r].name, "failcnt", b->rows[r].failcnt);
		for (size_t r = 0; o->incremental && r < b->nrows; r++)
			if (b->rows[r].held != held[r])
				store_write(o, b->uid, b->rows[r].name, "held", b->rows[r].held);
	}
	if (printed)
		fputs(o->incremental ? NVZ_UBC_HUMAN_END_INC : NVZ_UBC_HUMAN_END, stdout);
	return 0;
}

/* Where the numbers come from: -f, the CT's own file, or the host's CTs. */
static int load(const struct ubc_opts *o, struct nvz_ctx *ctx, struct nvz_ubc_set **set)
{
	if (o->file)
		return load_file(o->file, set);
	if (!ctx) {
		const char *f = ct_file();
		return load_file(f ? f : PROC_UBC, set);
	}
	return load_host(ctx, set);
}

static int run(struct ubc_opts *o)
{
	struct cli_out out = {.quiet = true};
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	bool host = !o->file && !ct_file();
	/* The context resolves names; it is required only for the host view. */
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0) {
		if (host)
			return fail(err);
		nvz_error_clear(&err);
	}
	cleanup_free unsigned long *ids = calloc((size_t)o->ncts + 1, sizeof(*ids));
	int rc = ids ? 0 : 1;
	for (int i = 0; rc == 0 && i < o->ncts; i++)
		if (!ctx || nvz_ct_resolve(ctx, o->cts[i], &ids[i], NULL) < 0)
			ids[i] = 0; /* match the text as given, as vzubc did */
	struct nvz_ubc_set *set = NULL;
	if (rc == 0 && host && !cli_is_root()) {
		fprintf(stderr, "This program can only be run under root.\n");
		rc = 1;
	}
	if (rc == 0 && (prepare_store(o) < 0 || load(o, host ? ctx : NULL, &set) < 0))
		rc = 1;
	if (rc == 0)
		rc = show(o, set, ids);
	nvz_ubc_set_free(set);
	nvz_ctx_free(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	umask(0077);
	struct ubc_opts o = { .qheld = 0.5, .qmaxheld = 0.8, .storedir = "/tmp/vzubc.store" };
	int rc = parse_args(argc, argv, &o);
	if (rc < 0 && o.watch)
		rc = exec_watch(&o, argc, argv);
	if (rc < 0)
		rc = run(&o);
	free(o.cts);
	return cli_close_stdout(rc);
}
