/* vzquota: OpenVZ's disk quota tool (kolyshkin/vzquota, man vzquota.8) for
 * simfs containers on mainline Linux, where a CT's disk quota is the
 * kernel's project quota with project id = CT ID (lib/storage/quota.h).
 * There is no quota file: the limits live in the CT config (DISKSPACE,
 * DISKINODES, QUOTATIME) and in the kernel, usage in the kernel or, where
 * the filesystem keeps no project quota, it is counted by walking the tree.
 * Exit codes are vzquota's: 0 ok, 1 system, 2 usage, 3 quota syscall,
 * 6 not running, 7 cannot lock, 11 no quota (no CT config and no -p). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nvz/ct.h"
#include "nvz/ctx.h"
#include "nvz/storage.h"
#include "storage/quota.h"

enum {
	EC_OK = 0, EC_SYSTEM = 1, EC_USAGE = 2, EC_VZCALL = 3, EC_NOTRUN = 6, EC_LOCK = 7,
	EC_NOQUOTAFILE = 11,
};

enum vzq_cmd { Q_INIT, Q_ON, Q_OFF, Q_DROP, Q_SETLIMIT, Q_STAT, Q_SHOW };

static const struct {
	const char *name;
	enum vzq_cmd cmd;
	bool locks;
} commands[] = {
	{ "init", Q_INIT, true },	  { "on", Q_ON, true },	      { "off", Q_OFF, true },
	{ "drop", Q_DROP, true },	  { "setlimit", Q_SETLIMIT, true },
	{ "stat", Q_STAT, false },	  { "show", Q_SHOW, false },
};

struct vzq_opts {
	int verbose;   /* -1 quiet */
	bool batch;
	enum vzq_cmd cmd;
	const char *id;
	const char *path; /* -p */
	/* -b -B -i -I and the grace times -e -n; set: which were given */
	uint64_t bsoft, bhard, isoft, ihard, bgrace, igrace;
	unsigned set;
};

enum { SET_BSOFT = 1, SET_BHARD = 2, SET_ISOFT = 4, SET_IHARD = 8, SET_BGRACE = 16, SET_IGRACE = 32 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vzquota [options] command quotaid [command-options]\n"
		"Options: -h, --help  -V, --version  -q (quiet)  -v (verbose)  -b (batch output)\n"
		"Commands:\n"
		"  init | on | setlimit <CTID> [-p path] [-b N] [-B N] [-i N] [-I N] [-e time] [-n time]\n"
		"  off | drop <CTID> [-f]\n"
		"  stat | show <CTID> [-f]\n"
		"<CTID> is a CT ID or name; limits default to DISKSPACE, DISKINODES and QUOTATIME\n"
		"of its config (-b/-B: 1K blocks; time: seconds, dd:hh:mm:ss, or Nh/Nd/Nw/Nm/Ny).\n"
		"The quota is the kernel's project quota with the CT ID as project id.\n");
}

__attribute__((format(printf, 2, 3)))
static int error(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("vzquota : (error) ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return status;
}

__attribute__((format(printf, 3, 4)))
static void note(const struct vzq_opts *o, int level, const char *fmt, ...)
{
	if (o->verbose < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs(level > 0 ? "vzquota : (info) " : "vzquota : (warning) ", level > 0 ? stdout : stderr);
	vfprintf(level > 0 ? stdout : stderr, fmt, ap);
	fputc('\n', level > 0 ? stdout : stderr);
	va_end(ap);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s < '0' || *s > '9')
		return -1;
	*out = v;
	return 0;
}

/* vzquota's times: seconds, [[[dd:]hh:]mm:]ss, or N with h/d/w/m/y. */
static int parse_time(const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	if (!len)
		return -1;
	static const struct { char c; uint64_t mul; } units[] = {
		{ 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 }, { 'm', 30 * 86400 }, { 'y', 365 * 86400 },
	};
	char last = s[len - 1] | 0x20;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (last == units[i].c) {
			char num[32];
			uint64_t v;
			if (len - 1 >= sizeof(num) || len == 1)
				return -1;
			memcpy(num, s, len - 1);
			num[len - 1] = '\0';
			if (parse_u64(num, &v) < 0)
				return -1;
			*out = v * units[i].mul;
			return 0;
		}
	/* Fields from the right: seconds, minutes, hours, days. */
	static const uint64_t mul[] = { 1, 60, 3600, 86400 }, max[] = { 60, 60, 24, 0 };
	char buf[64];
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	uint64_t total = 0;
	for (int f = 0;; f++) {
		char *colon = strrchr(buf, ':');
		const char *field = colon ? colon + 1 : buf;
		uint64_t v;
		if (f > 3 || parse_u64(field, &v) < 0 || (colon && max[f] && v >= max[f]))
			return -1;
		total += v * mul[f];
		if (!colon)
			break;
		*colon = '\0';
	}
	*out = total;
	return 0;
}

/* Command options after "<cmd> <id>"; returns -1 to go on or an exit code. */
static int parse_cmd_opts(int argc, char **argv, struct vzq_opts *o)
{
	static const struct option longopts[] = {
		{ "block-softlimit", required_argument, NULL, 'b' },
		{ "block-hardlimit", required_argument, NULL, 'B' },
		{ "block-exptime", required_argument, NULL, 'e' },
		{ "inode-softlimit", required_argument, NULL, 'i' },
		{ "inode-hardlimit", required_argument, NULL, 'I' },
		{ "inode-exptime", required_argument, NULL, 'n' },
		{ "quota-file", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ "user-group", no_argument, NULL, 't' },
		{ "nocheck", no_argument, NULL, 'N' },
		{ "sub-quotas", required_argument, NULL, 's' },
		{ "ugid-limit", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+p:b:B:e:i:I:n:c:r:s:u:ftR", longopts, NULL)) != -1) {
		uint64_t *dst = NULL;
		unsigned bit = 0;
		bool time = false;
		switch (c) {
		case 'p': o->path = optarg; continue;
		case 'b': dst = &o->bsoft; bit = SET_BSOFT; break;
		case 'B': dst = &o->bhard; bit = SET_BHARD; break;
		case 'i': dst = &o->isoft; bit = SET_ISOFT; break;
		case 'I': dst = &o->ihard; bit = SET_IHARD; break;
		case 'e': dst = &o->bgrace; bit = SET_BGRACE; time = true; break;
		case 'n': dst = &o->igrace; bit = SET_IGRACE; time = true; break;
		/* Quota file, relative path, rescan, force: nvz has no quota file. */
		case 'c': case 'r': case 'f': case 'R': case 'N': continue;
		/* "-s 0" and "-u 0" ask for no second-level quota, which is what
		 * there is (vzctl's QUOTAUGIDLIMIT=0); "stat -t" adds the user and
		 * group records, of which there are none. */
		case 's': case 'u':
			if (strcmp(optarg, "0") == 0)
				continue;
			return error(EC_USAGE, "user/group (second-level) quota is not supported");
		case 't':
			if (o->cmd == Q_STAT || o->cmd == Q_SHOW)
				continue;
			return error(EC_USAGE, "user/group (second-level) quota is not supported");
		default:
			return error(EC_USAGE, "invalid option: %s", argv[optind - 1]);
		}
		if ((time ? parse_time(optarg, dst) : parse_u64(optarg, dst)) < 0)
			return error(EC_USAGE, "invalid value for -%c: %s", c, optarg);
		o->set |= bit;
	}
	if (optind < argc)
		return error(EC_USAGE, "extra argument: %s", argv[optind]);
	return -1;
}

static int parse_args(int argc, char **argv, struct vzq_opts *o)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EC_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("Vzquota version %s (nvz)\n", NVZ_VERSION);
			return EC_OK;
		} else if (!strcmp(a, "-q")) {
			o->verbose = -1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "-vv")) {
			o->verbose += a[2] ? 2 : 1;
		} else if (!strcmp(a, "-b")) {
			o->batch = true;
		} else {
			usage(stderr);
			return EC_USAGE;
		}
	}
	if (i + 1 >= argc) {
		usage(stderr);
		return EC_USAGE;
	}
	size_t k = 0;
	while (k < sizeof(commands) / sizeof(commands[0]) && strcmp(commands[k].name, argv[i]))
		k++;
	if (k == sizeof(commands) / sizeof(commands[0]))
		return error(EC_USAGE, "unknown command: %s (setlimit2, reload2: user/group quota is "
				       "not supported)", argv[i]);
	o->cmd = commands[k].cmd;
	o->id = argv[i + 1];
	return parse_cmd_opts(argc - i - 1, argv + i + 1, o);
}

/* The exit code of vzquota for a library error. */
static int fail(struct nvz_error *err)
{
	int st = err ? err->status : NVZ_E_SYSTEM;
	int ec = st == NVZ_E_LOCKED ? EC_LOCK
		 : st == NVZ_QS_ON || st == NVZ_QS_INIT || st == NVZ_QS_SETLIMIT || st == NVZ_QS_OFF
		 ? EC_VZCALL
		 : EC_SYSTEM;
	error(0, "%s", err ? err->msg : "internal error");
	nvz_error_free(err);
	return ec;
}

/* Config limits with the command line's on top. */
static int limits_of(const struct nvz_ct *ct, const struct vzq_opts *o, struct nvz_disk_limits *l)
{
	struct nvz_error *err = NULL;
	if (nvz_disk_limits_parse(nvz_ct_get(ct, "DISKSPACE", NULL), nvz_ct_get(ct, "DISKINODES", NULL),
				  nvz_ct_get(ct, "QUOTATIME", NULL), l, &err) < 0)
		return fail(err);
	if (o->set & SET_BSOFT)
		l->space_soft_kb = o->bsoft;
	if (o->set & SET_BHARD)
		l->space_hard_kb = o->bhard;
	if (o->set & SET_ISOFT)
		l->inodes_soft = o->isoft;
	if (o->set & SET_IHARD)
		l->inodes_hard = o->ihard;
	/* One grace time per filesystem and limit kind in the kernel, one
	 * QUOTATIME in the config: -e, else -n. */
	if (o->set & (SET_BGRACE | SET_IGRACE))
		l->quotatime = (o->set & SET_BGRACE) ? o->bgrace : o->igrace;
	/* vzquota refused limits given with the hard one below the soft one,
	 * before it touched anything. */
	if ((o->set & (SET_BSOFT | SET_BHARD)) && l->space_hard_kb < l->space_soft_kb)
		return error(EC_USAGE, "block_hard_limit [%" PRIu64 "] < block_soft_limit [%" PRIu64 "]",
			     l->space_hard_kb, l->space_soft_kb);
	if ((o->set & (SET_ISOFT | SET_IHARD)) && l->inodes_hard < l->inodes_soft)
		return error(EC_USAGE, "inode_hard_limit [%" PRIu64 "] < inode_soft_limit [%" PRIu64 "]",
			     l->inodes_hard, l->inodes_soft);
	if ((o->set & (SET_BGRACE | SET_IGRACE)) == (SET_BGRACE | SET_IGRACE) && o->bgrace != o->igrace)
		note(o, 0, "one grace time is kept for blocks and inodes: using %" PRIu64 " s",
		     o->bgrace);
	return -1;
}

/* vzquota's grace column: time left, "none" once expired, "" if not over. */
static void grace_str(int64_t expires, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!expires)
		return;
	int64_t left = expires - (int64_t)time(NULL);
	if (left <= 0) {
		snprintf(buf, size, "none");
		return;
	}
	uint64_t minutes = ((uint64_t)left + 30) / 60, hours = minutes / 60, days = hours / 24;
	if (days)
		snprintf(buf, size, "%" PRIu64 "days", days);
	else
		snprintf(buf, size, "%02" PRIu64 ":%02" PRIu64, hours % 24, minutes % 60);
}

static void print_row(const struct vzq_opts *o, const char *name, uint64_t use, uint64_t soft,
		      uint64_t hard, int64_t expires, uint64_t grace)
{
	if (use <= soft || !soft)
		expires = 0;
	if (o->batch) {
		printf("%14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRId64 " %14" PRIu64 "\n", use,
		       soft, hard, expires, grace);
		return;
	}
	char g[32];
	grace_str(expires, g, sizeof(g));
	char over = (soft && use > soft) || (hard && use > hard) ? '*' : ' ';
	printf("%11s %14" PRIu64 "%c %14" PRIu64 " %14" PRIu64 " %8s\n", name, use, over, soft, hard,
	       g);
}

/* stat: the kernel's limits where it keeps them; show: the configured ones. */
static int report(const struct vzq_opts *o, const char *private, uint32_t id,
		  const struct nvz_disk_limits *cfg)
{
	struct nvz_quota_report r;
	struct nvz_error *err = NULL;
	if (nvz_quota_report(private, id, true, &r, &err) < 0)
		return fail(err);
	struct nvz_quota_dq q = r.dq;
	if (!r.from_kernel || o->cmd == Q_SHOW) {
		q.bsoft_kb = cfg->space_soft_kb;
		q.bhard_kb = cfg->space_hard_kb;
		q.isoft = cfg->inodes_soft;
		q.ihard = cfg->inodes_hard;
		q.bgrace = q.igrace = cfg->quotatime;
	}
	if (!r.from_kernel)
		note(o, 1, "usage counted by walking %s: %s", private, r.fs.why);
	if (!o->batch)
		printf("%11s %14s  %14s %14s %8s\n", "resource", "usage", "softlimit", "hardlimit",
		       "grace");
	print_row(o, "1k-blocks", (q.space_bytes + 1023) / 1024, q.bsoft_kb, q.bhard_kb, q.btime,
		  q.bgrace);
	print_row(o, "inodes", q.inodes, q.isoft, q.ihard, q.itime, q.igrace);
	return EC_OK;
}

static int run_cmd(const struct vzq_opts *o, struct nvz_ct *ct, const char *private)
{
	struct nvz_disk_limits l;
	int rc = limits_of(ct, o, &l);
	if (rc >= 0)
		return rc;
	uint32_t id = (uint32_t)ct->veid;
	struct nvz_error *err = NULL;
	bool done = false;
	switch (o->cmd) {
	case Q_STAT:
	case Q_SHOW:
		return report(o, private, id, &l);
	case Q_INIT:
	case Q_ON:
	case Q_SETLIMIT: {
		int status = o->cmd == Q_INIT ? NVZ_QS_INIT : o->cmd == Q_ON ? NVZ_QS_ON : NVZ_QS_SETLIMIT;
		if (nvz_quota_apply(private, id, &l, o->cmd == Q_INIT, status, &err) < 0)
			return fail(err);
		return EC_OK;
	}
	case Q_DROP:
		if (nvz_quota_retag(private, id, &done, &err) < 0)
			return fail(err);
		if (!done)
			note(o, 1, "nothing is cached for %s: its usage is counted afresh each time",
			     o->id);
		return EC_OK;
	case Q_OFF:
		if (nvz_quota_clear(private, id, &done, &err) < 0)
			return fail(err);
		return done ? EC_OK : error(EC_NOTRUN, "Quota is not running for id %s", o->id);
	}
	return EC_SYSTEM;
}

static bool is_ploop(const char *layout)
{
	return layout && !strncmp(layout, "ploop", 5);
}

static int run(const struct vzq_opts *o)
{
	struct cli_out out = { .quiet = o->verbose < 0, .verbose = o->verbose };
	struct nvz_ctx *ctx = NULL;
	struct nvz_ct *ct = NULL;
	struct nvz_error *err = NULL;
	unsigned long veid;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0)
		return fail(err);
	int rc = EC_OK;
	if (nvz_ct_resolve(ctx, o->id, &veid, &err) < 0 || veid == 0 || veid > UINT32_MAX) {
		rc = error(EC_USAGE, "invalid quota id: %s%s%s", o->id, err ? ": " : "",
			   err ? err->msg : "");
		nvz_error_free(err);
	} else if (nvz_ct_open(ctx, veid, &ct, &err) < 0) {
		rc = fail(err);
	} else if (!ct->conf_exists && !o->path) {
		rc = error(EC_NOQUOTAFILE, "no quota for id %s: CT %s has no config (give -p path)",
			   o->id, ct->id);
	} else {
		const char *layout = nvz_ct_get(ct, "VE_LAYOUT", "simfs");
		bool locks = false;
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			locks |= commands[i].cmd == o->cmd && commands[i].locks;
		if (is_ploop(layout) && !o->path) {
			note(o, 0, "CT %s is on ploop, disk quota is obsoleted, skipping operation",
			     ct->id);
		} else if (strcmp(layout, "simfs") && !o->path) {
			note(o, 0, "CT %s uses the %s layout: disk quota is not supported, skipping "
				   "operation", ct->id, layout);
		} else if (locks && nvz_ct_lock(ct, &err) < 0) {
			rc = error(EC_LOCK, "can't lock quota id %s: %s", o->id, err->msg);
			nvz_error_free(err);
		} else {
			rc = run_cmd(o, ct, o->path ? o->path : ct->private);
		}
	}
	nvz_ct_free(ct);
	nvz_ctx_free(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	struct vzq_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc < 0 && !cli_is_root())
		rc = error(EC_SYSTEM, "this program can only be run under root");
	if (rc < 0)
		rc = run(&o);
	return cli_close_stdout(rc);
}
