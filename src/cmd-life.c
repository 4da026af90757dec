/* create, destroy, start, stop, restart, status, mount, umount. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "nvz/net.h"
#include "nvz/storage.h"
#include "vzctl.h"

/* getopt over the arguments after the CT ID. An unknown option or a
 * missing argument is getopt's own line, as in vzctl, then status bad. */
#define PARSE_OPTS_WITH(c, longopts, shortopts, bad, extra, body)                           \
	do {                                                                               \
		cleanup_free char **_av = cmd_getopt_argv(c);                              \
		if (!_av)                                                                  \
			return NVZ_E_SYSTEM;                                               \
		optind = 1;                                                                \
		opterr = 1;                                                                \
		int _o;                                                                    \
		while ((_o = getopt_long((c)->argc + 1, _av, shortopts, longopts, NULL)) != -1) { \
			switch (_o) {                                                      \
				body                                                       \
			default:                                                           \
				return bad;                                                \
			}                                                                  \
		}                                                                          \
		if (optind <= (c)->argc)                                                   \
			return extra;                                                      \
	} while (0)
/* nvz's: options first, an argument after them is one too many (20). */
#define PARSE_OPTS(c, longopts, bad, body)                                                 \
	PARSE_OPTS_WITH(c, longopts, "+", bad,                                             \
			cmd_bad_args("Invalid extra arguments: %s", _av[optind]), body)
/* vzctl's parse_opt (create, convert): 21 after getopt's line, and
 * arguments among the options are "non-option ARGV-elements" (20). */
#define PARSE_OPTS_VZ(c, longopts, body)                                                   \
	PARSE_OPTS_WITH(c, longopts, "", NVZ_E_VALUE, cmd_non_options(_av, (c)->argc + 1), body)

static int done(struct nvz_error *err, int r)
{
	return r < 0 ? cli_fail(err) : 0;
}

static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p; p += strcspn(p, " "), p += strspn(p, " "))
		if (!strncmp(p, word, n) && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* --ipadd of create (vzctl 4's; fog and panels pass it): each address
 * checked as set's, kept once, the list space-separated. */
static int add_create_ip(char **list, const char *arg)
{
	cleanup_free char *copy = strdup(arg);
	char *save = NULL;
	if (!copy)
		return NVZ_E_SYSTEM;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		struct nvz_error *err = NULL;
		struct nvz_addr a;
		if (nvz_addr_parse(t, &a, &err) < 0) {
			nvz_error_free(err);
			return cli_bad_value("ipadd", t, NULL);
		}
		const char *why = nvz_addr_unusable(&a);
		if (why)
			return cli_bad_value("ipadd", t, why);
		char *more = NULL;
		if (in_list(*list, t))
			continue;
		if (asprintf(&more, "%s%s%s", *list ? *list : "", *list ? " " : "", t) < 0)
			return NVZ_E_SYSTEM;
		free(*list);
		*list = more;
	}
	return 0;
}

/* --local_uid / --local_gid: a number, as vzctl parsed them. */
static int uid_arg(const char **dst, const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	strtoul(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-')
		return cli_bad_value(opt, arg, NULL);
	*dst = arg;
	return 0;
}

/* A create option the key table checks: refused as vzctl's parse_opt
 * refused a value (21), before anything is made; why: nvz's reason is
 * given (vzctl took the value). */
static int key_arg(const char **dst, const char *key, const char *opt, const char *arg, bool why)
{
	cleanup_error struct nvz_error *err = NULL;
	if (nvz_conf_validate(key, arg, &err) < 0)
		return cli_bad_parameter(opt, arg, why ? err : NULL);
	*dst = arg;
	return 0;
}

static int disk_arg(const char **dst, const char *opt, const char *arg)
{
	struct nvz_error *err = NULL;
	cleanup_free char *v = nvz_disk_option_value(opt, arg, &err);
	if (!v)
		return cli_fail(err);
	*dst = arg;
	return 0;
}

static int layout_arg(const char **dst, int o, const char *arg)
{
	const struct nvz_layout *l;
	cleanup_error struct nvz_error *err = NULL;
	if (nvz_layout_get(arg, &l, &err) < 0)
		return cli_bad_parameter(o == 'l' ? "layout" : o == 'L' ? "ve_layout" : "velayout", arg, NULL);
	*dst = arg;
	return 0;
}

int cmd_create(struct cmd_ctx *c)
{
	static const struct option opts[] = {
		{ "ostemplate", required_argument, NULL, 't' }, { "config", required_argument, NULL, 'c' },
		{ "private", required_argument, NULL, 'p' },    { "root", required_argument, NULL, 'r' },
		{ "hostname", required_argument, NULL, 'h' },   { "name", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' }, { "layout", required_argument, NULL, 'l' },
		{ "ve_layout", required_argument, NULL, 'L' },  { "velayout", required_argument, NULL, 'V' },
		{ "diskspace", required_argument, NULL, 's' },  { "diskinodes", required_argument, NULL, 'i' },
		{ "ipadd", required_argument, NULL, 'a' },      { "local_uid", required_argument, NULL, 'U' },
		{ "local_gid", required_argument, NULL, 'G' },  { NULL, 0, NULL, 0 },
	};
	struct nvz_create_opts o = { 0 };
	const char *layout = NULL;
	cleanup_free char *ips = NULL;
	int r;
	PARSE_OPTS_VZ(c, opts,
		   case 't': o.ostemplate = optarg; break;
		   case 'c': o.config = optarg; break;
		   case 'p': if ((r = key_arg(&o.private, "VE_PRIVATE", "private", optarg, true))) return r; break;
		   case 'r': if ((r = key_arg(&o.root, "VE_ROOT", "root", optarg, true))) return r; break;
		   case 'h': o.hostname = optarg; break;
		   case 'n': if ((r = key_arg(&o.name, "NAME", "name", optarg, false))) return r; break;
		   case 'd': o.description = optarg; break;
		   case 'l': case 'L': case 'V': if ((r = layout_arg(&layout, _o, optarg))) return r; break;
		   case 's': if ((r = disk_arg(&o.diskspace, "diskspace", optarg))) return r; break;
		   case 'i': if ((r = disk_arg(&o.diskinodes, "diskinodes", optarg))) return r; break;
		   case 'a': if ((r = add_create_ip(&ips, optarg))) return r; break;
		   case 'U': if ((r = uid_arg(&o.local_uid, "local_uid", optarg))) return r; break;
		   case 'G': if ((r = uid_arg(&o.local_gid, "local_gid", optarg))) return r; break;);
	struct nvz_error *err = NULL;
	o.layout = layout;
	o.ipadd = ips;
	if (nvz_ct_create(c->ct, &o, &err) == 0)
		return 0;
	/* vzctl ended every failed create (44, 91, 29, 82, ...) with this
	 * line, which panels and scripts look for. */
	static const char failed[] = "Creation of container private area failed";
	bool said = err && strstr(err->msg, failed);
	int status = cli_fail(err);
	if (!said)
		cli_error_line(failed);
	return status;
}

int cmd_destroy(struct cmd_ctx *c)
{
	int r = cmd_no_options(c);
	if (r)
		return r;
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_destroy(c->ct, &err));
}

static const struct option start_opts[] = {
	{ "wait", no_argument, NULL, 'w' },	   { "force", no_argument, NULL, 'f' },
	{ "fast", no_argument, NULL, 'F' },	   { "skip-umount", no_argument, NULL, 'u' },
	{ "skip-fsck", no_argument, NULL, 'k' },   { "skip-remount", no_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 },
};

struct life_opts {
	struct nvz_start_opts start;
	struct nvz_stop_opts stop;
};

/* An option of the other command: vzctl's message, status 20. */
static int not_applicable(const char *opt, const char *cmd)
{
	fprintf(stderr, "Option --%s is not applicable to %s command\n", opt, cmd);
	return NVZ_E_SYNTAX;
}

static int parse_life(struct cmd_ctx *c, struct life_opts *o, bool allow_start, bool allow_stop)
{
	memset(o, 0, sizeof(*o));
	const char *cmd = allow_start ? "start" : "stop";
	PARSE_OPTS(c, start_opts, NVZ_E_SYNTAX,
		   case 'w': if (!allow_start) return not_applicable("wait", cmd);
			     o->start.wait = true; break;
		   case 'f': if (!allow_start) return not_applicable("force", cmd);
			     o->start.force = true; break;
		   case 'F': if (!allow_stop) return not_applicable("fast", cmd);
			     o->stop.fast = true; break;
		   case 'u': if (!allow_stop) return not_applicable("skip-umount", cmd);
			     o->stop.skip_umount = true; break;
		   case 'k': break;);
	return 0;
}

int cmd_start(struct cmd_ctx *c)
{
	struct life_opts o;
	int r = parse_life(c, &o, true, false);
	if (r)
		return r;
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_start(c->ct, &o.start, &err));
}

int cmd_stop(struct cmd_ctx *c)
{
	struct life_opts o;
	int r = parse_life(c, &o, false, true);
	if (r)
		return r;
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_stop(c->ct, &o.stop, &err));
}

int cmd_restart(struct cmd_ctx *c)
{
	struct life_opts o;
	int r = parse_life(c, &o, true, true);
	if (r)
		return r;
	struct nvz_error *err = NULL;
	nvz_log(c->ct->ctx, NVZ_LOG_INFO, "Restarting container");
	/* As vzctl: a CT that does not run is only started (no "Unable to
	 * stop" line in a restart that succeeds). */
	struct nvz_ct_state st;
	nvz_ct_get_state(c->ct, &st, NULL);
	if (st.running && nvz_ct_stop(c->ct, &o.stop, &err) < 0)
		return cli_fail(err);
	return done(err, nvz_ct_start(c->ct, &o.start, &err));
}

int cmd_status(struct cmd_ctx *c)
{
	int r = cmd_no_options(c);
	if (r)
		return r;
	struct nvz_ct_state st;
	nvz_ct_get_state(c->ct, &st, NULL);
	printf("CTID %s %s %s %s%s\n", c->ct->id, st.exists ? "exist" : "deleted",
	       st.mounted ? "mounted" : "unmounted", st.running ? "running" : "down",
	       st.suspended ? " suspended" : "");
	return 0;
}

int cmd_mount(struct cmd_ctx *c)
{
	int r = cmd_no_options(c);
	if (r)
		return r;
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_mount(c->ct, false, &err));
}

int cmd_umount(struct cmd_ctx *c)
{
	int r = cmd_no_options(c);
	if (r)
		return r;
	struct nvz_ct_state st;
	nvz_ct_get_state(c->ct, &st, NULL);
	if (st.running) {
		fprintf(stderr, "Container is running -- stop it first\n");
		return NVZ_E_RUNNING;
	}
	if (!st.mounted) {
		/* vzctl 4's own words here (its other lines say "Container"). */
		fprintf(stderr, "CT is not mounted\n");
		return NVZ_E_FS_NOT_MOUNTED;
	}
	struct nvz_error *err = NULL;
	if (nvz_ct_umount(c->ct, &err) < 0)
		return cli_fail(err);
	nvz_log(c->ct->ctx, NVZ_LOG_INFO, "Container is unmounted");
	return 0;
}

int cmd_compact(struct cmd_ctx *c)
{
	int r = cmd_no_options(c);
	if (r)
		return r;
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_compact(c->ct, &err));
}

int cmd_convert(struct cmd_ctx *c)
{
	static const struct option opts[] = { { "layout", required_argument, NULL, 'l' },
					      { "velayout", required_argument, NULL, 'l' },
					      { "ve_layout", required_argument, NULL, 'l' },
					      { NULL, 0, NULL, 0 } };
	const char *layout = NULL;
	PARSE_OPTS_VZ(c, opts, case 'l': layout = optarg; break;);
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_convert(c->ct, layout, &err));
}

/* OpenVZ's stage flags of chkpnt and restore (its old vzmigrate drove
 * the kernel's checkpoint stage by stage; admins used --suspend and
 * --resume to hold a CT still, for a backup). */
enum cpt_stage { STAGE_ALL, STAGE_SUSPEND, STAGE_RESUME, STAGE_KILL, STAGE_DUMP, STAGE_UNDUMP };

/* As vzctl: two stages (--suspend --kill) are refused, not the last run. */
static int pick_stage(enum cpt_stage *stage, enum cpt_stage s)
{
	if (*stage != STAGE_ALL)
		return cmd_bad_args("%s", "Invalid syntax: only one sub command may be used");
	*stage = s;
	return 0;
}

/* After getopt's line, vzctl's chkpnt and restore parsers said "Invalid
 * option -%c" of the '?' getopt returned (they never had the option's
 * name), status 20. */
static int cpt_bad_option(void)
{
	fputs("Invalid option -?\n", stderr);
	return NVZ_E_SYNTAX;
}

/* chkpnt/suspend and restore/resume: --dumpfile, the stages, OpenVZ's
 * hidden flags that only tuned the old kernel's stages (accepted, no
 * effect); restore also takes nvz's --lazy / --no-lazy (post-copy or not,
 * see README). */
static int parse_cpt(struct cmd_ctx *c, struct nvz_restore_opts *o, bool *predump, enum cpt_stage *stage)
{
	static const struct option opts[] = {
		{ "dumpfile", required_argument, NULL, 'd' }, { "skip_arpdetect", no_argument, NULL, 'x' },
		{ "skip-arpdetect", no_argument, NULL, 'x' }, { "skip-remount", no_argument, NULL, 'x' },
		{ "skip-fsck", no_argument, NULL, 'x' },      { "lazy", no_argument, NULL, 'l' },
		{ "no-lazy", no_argument, NULL, 'n' },        { "pre-dump", no_argument, NULL, 'p' },
		{ "flags", required_argument, NULL, 'x' },    { "context", required_argument, NULL, 'x' },
		{ "suspend", no_argument, NULL, 'S' },        { "resume", no_argument, NULL, 'R' },
		{ "kill", no_argument, NULL, 'K' },           { "dump", no_argument, NULL, 'D' },
		{ "undump", no_argument, NULL, 'U' },         { NULL, 0, NULL, 0 },
	};
	*o = (struct nvz_restore_opts){ 0 };
	*predump = false;
	*stage = STAGE_ALL;
	int r;
	PARSE_OPTS(c, opts, cpt_bad_option(),
		   case 'd': o->dumpfile = optarg; break;
		   case 'l': o->lazy = NVZ_LAZY_YES; break;
		   case 'n': o->lazy = NVZ_LAZY_NO; break;
		   case 'p': *predump = true; break;
		   case 'S': if ((r = pick_stage(stage, STAGE_SUSPEND))) return r; break;
		   case 'R': if ((r = pick_stage(stage, STAGE_RESUME))) return r; break;
		   case 'K': if ((r = pick_stage(stage, STAGE_KILL))) return r; break;
		   case 'D': if ((r = pick_stage(stage, STAGE_DUMP))) return r; break;
		   case 'U': if ((r = pick_stage(stage, STAGE_UNDUMP))) return r; break;
		   case 'x': break;);
	return 0;
}

/* --suspend, --resume, --kill on their own; a dump or undump stage alone
 * has no equivalent with criu (which dumps a tree it froze itself). */
static int run_stage(struct cmd_ctx *c, enum cpt_stage stage, int status)
{
	struct nvz_error *err = NULL;
	switch (stage) {
	case STAGE_SUSPEND:
	case STAGE_RESUME:
		return done(err, nvz_ct_suspend(c->ct, stage == STAGE_SUSPEND, &err));
	case STAGE_KILL: {
		/* vzctl: a CT that does not run cannot be killed (31). */
		struct nvz_ct_state st;
		nvz_ct_get_state(c->ct, &st, NULL);
		if (!st.running) {
			cli_error_line("Container is not running");
			return NVZ_E_NOT_RUNNING;
		}
		/* vzctl's one line; the CT stays mounted. */
		nvz_log(c->ct->ctx, NVZ_LOG_INFO, "Killing...");
		struct nvz_stop_opts kill = { .fast = true, .skip_umount = true, .quiet = true };
		return done(err, nvz_ct_stop(c->ct, &kill, &err));
	}
	default:
		fprintf(stderr, "Error: the %s stage alone is not supported: vzctl chkpnt suspends, dumps and "
				"kills in one, vzctl restore undumps and resumes in one (vzctl snapshot keeps a "
				"running CT's memory and leaves it running)\n",
			stage == STAGE_DUMP ? "--dump" : "--undump");
		return status;
	}
}

int cmd_chkpnt(struct cmd_ctx *c)
{
	struct nvz_restore_opts o;
	bool predump;
	enum cpt_stage stage;
	int r = parse_cpt(c, &o, &predump, &stage);
	if (r)
		return r;
	if (o.lazy != NVZ_LAZY_CONF)
		return cmd_bad_args("Invalid option: %s (an option of restore)",
				    o.lazy == NVZ_LAZY_YES ? "--lazy" : "--no-lazy");
	if (stage == STAGE_UNDUMP)
		return cmd_bad_args("Invalid option: %s (an option of restore)", "--undump");
	if (stage != STAGE_ALL)
		return run_stage(c, stage, NVZ_E_CHKPNT);
	struct nvz_error *err = NULL;
	/* --pre-dump: one round of the memory while the CT runs, then the
	 * freeze dumps only what it dirtied since (where the kernel tracks
	 * dirty pages; elsewhere the plain checkpoint). */
	struct nvz_predump_stats st;
	int rounds = predump ? nvz_ct_predump_rounds(c->ct, o.dumpfile, 1, NULL, NULL, &st) : 0;
	if (rounds > 0)
		return done(err, nvz_ct_chkpnt_after(c->ct, o.dumpfile, rounds, &err));
	return done(err, nvz_ct_chkpnt(c->ct, o.dumpfile, &err));
}

int cmd_restore(struct cmd_ctx *c)
{
	struct nvz_restore_opts o;
	bool predump;
	enum cpt_stage stage;
	int r = parse_cpt(c, &o, &predump, &stage);
	if (r)
		return r;
	if (predump)
		return cmd_bad_args("Invalid option: %s (an option of chkpnt)", "--pre-dump");
	if (stage == STAGE_SUSPEND || stage == STAGE_DUMP)
		return cmd_bad_args("Invalid option: %s (an option of chkpnt)",
				    stage == STAGE_SUSPEND ? "--suspend" : "--dump");
	if (stage != STAGE_ALL)
		return run_stage(c, stage, NVZ_E_RESTORE);
	struct nvz_error *err = NULL;
	return done(err, nvz_ct_restore_opts(c->ct, &o, &err));
}
