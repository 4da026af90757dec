/* vzctl: OpenVZ's container control command, on mainline Linux. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct/hub.h"
#include "linux/sealed.h"
#include "quota.h"
#include "vzctl.h"

static const struct cmd commands[] = {
	{ "create", cmd_create, CMD_LOCK,
	  "create <CTID> [--ostemplate <name>] [--config <name>] [--private <path>] [--root <path>]\n"
	  "\t[--hostname <name>] [--name <name>] [--description <text>] [--ipadd <addr>]\n"
	  "\t[--layout simfs|ploop|simfs:shared|ploop:shared] [--diskspace <soft>[:<hard>]]\n"
	  "\t[--diskinodes <soft>[:<hard>]] [--local_uid <uid>] [--local_gid <gid>]" },
	{ "destroy", cmd_destroy, CMD_LOCK | CMD_NEEDS_CONFIG, "destroy | delete <CTID>" },
	{ "delete", cmd_destroy, CMD_LOCK | CMD_NEEDS_CONFIG, NULL },
	{ "start", cmd_start, CMD_LOCK | CMD_NEEDS_CONFIG, "start <CTID> [--wait] [--force]" },
	{ "stop", cmd_stop, CMD_LOCK | CMD_NEEDS_CONFIG, "stop <CTID> [--fast] [--skip-umount]" },
	{ "restart", cmd_restart, CMD_LOCK | CMD_NEEDS_CONFIG, "restart <CTID> [--wait] [--force] [--fast]" },
	{ "chkpnt", cmd_chkpnt, CMD_LOCK | CMD_NEEDS_CONFIG, "chkpnt | suspend <CTID> [--dumpfile <dir>] [--pre-dump]" },
	{ "suspend", cmd_chkpnt, CMD_LOCK | CMD_NEEDS_CONFIG, NULL },
	{ "restore", cmd_restore, CMD_LOCK | CMD_NEEDS_CONFIG, "restore | resume <CTID> [--dumpfile <dir>] [--lazy | --no-lazy]" },
	{ "resume", cmd_restore, CMD_LOCK | CMD_NEEDS_CONFIG, NULL },
	{ "status", cmd_status, CMD_ADOPTS, "status <CTID>" },
	{ "mount", cmd_mount, CMD_LOCK | CMD_NEEDS_CONFIG, "mount <CTID>" },
	{ "umount", cmd_umount, CMD_LOCK | CMD_NEEDS_CONFIG, "umount <CTID>" },
	{ "exec", cmd_exec, CMD_NEEDS_CONFIG | CMD_ADOPTS, "exec <CTID> <command> [arg ...] | -" },
	{ "exec2", cmd_exec, CMD_NEEDS_CONFIG | CMD_ADOPTS, "exec2 <CTID> <command> [arg ...]" },
	{ "exec3", cmd_exec, CMD_NEEDS_CONFIG | CMD_ADOPTS, NULL },
	{ "enter", cmd_enter, CMD_NEEDS_CONFIG | CMD_ADOPTS, "enter <CTID> [--exec <command> [arg ...]]" },
	{ "quotaon", cmd_quota, CMD_LOCK | CMD_NEEDS_CONFIG, "quotaon | quotaoff | quotainit <CTID>" },
	{ "quotaoff", cmd_quota, CMD_LOCK | CMD_NEEDS_CONFIG, NULL },
	{ "quotainit", cmd_quota, CMD_LOCK | CMD_NEEDS_CONFIG, NULL },
	{ "compact", cmd_compact, CMD_LOCK | CMD_NEEDS_CONFIG, "compact <CTID>" },
	{ "convert", cmd_convert, CMD_LOCK | CMD_NEEDS_CONFIG, "convert <CTID> [--layout ploop]" },
	{ "snapshot", cmd_snapshot, CMD_LOCK | CMD_NEEDS_CONFIG,
	  "snapshot <CTID> [--id <uuid>] [--name <name>] [--description <desc>] [--skip-suspend] [--skip-config]" },
	{ "snapshot-switch", cmd_snapshot, CMD_LOCK | CMD_NEEDS_CONFIG,
	  "snapshot-switch <CTID> --id <uuid> [--skip-resume | --must-resume] [--skip-config]" },
	{ "snapshot-delete", cmd_snapshot, CMD_LOCK | CMD_NEEDS_CONFIG, "snapshot-delete <CTID> --id <uuid>" },
	{ "snapshot-mount", cmd_snapshot, CMD_LOCK | CMD_NEEDS_CONFIG,
	  "snapshot-mount <CTID> --id <uuid> --target <dir>" },
	{ "snapshot-umount", cmd_snapshot, CMD_LOCK | CMD_NEEDS_CONFIG, "snapshot-umount <CTID> --id <uuid>" },
	{ "snapshot-list", cmd_snapshot, CMD_NEEDS_CONFIG,
	  "snapshot-list <CTID> [-H] [-o field[,field...]] [--id <uuid>] | -L" },
	/* The target end of vzmigrate, run over ssh: not for people. */
	{ "migrate-recv", cmd_migrate_recv, 0, NULL },
	/* A CT's small monitor hands the after-exit work back: not for people. */
	{ "monitor-exit", cmd_monitor_exit, 0, NULL },
	{ "console", cmd_console, CMD_NEEDS_CONFIG | CMD_ADOPTS, "console <CTID>" },
	{ "runscript", cmd_runscript, CMD_LOCK | CMD_NEEDS_CONFIG | CMD_JOINS_CT | CMD_ADOPTS, "runscript <CTID> <script>" },
	{ "set", cmd_set, CMD_LOCK | CMD_ADOPTS, /* a missing config: cmd-set.c */
	  "set <CTID> [--save] [--force] [--setmode restart|ignore] [--reset_ub]\n"
	  "\t[--ipadd <addr>[/<prefix>]] [--ip <addr>] [--ipdel <addr>|all] [--hostname <name>]\n"
	  "\t[--nameserver <addr>|inherit] [--searchdomain <name>|inherit]\n"
	  "\t[--onboot yes|no] [--bootorder <N>] [--disabled yes|no] [--name <name>]\n"
	  "\t[--description <text>] [--ostemplate <name>] [--stop-timeout <seconds>]\n"
	  "\t[--userpasswd <user>:<password>] [--applyconfig <name>] [--applyconfig_map name]\n"
	  "\t[--root <path>] [--private <path>] [--mount_opts <opt>[,<opt>...]]\n"
	  "\t[--ram <bytes>] [--swap <bytes>] [--cpuunits <N>] [--cpulimit <N>[%]] [--cpus <N>]\n"
	  "\t[--cpumask <cpus>|all|auto] [--nodemask <nodes>|all]\n"
	  "\t[--iolimit <N>[B|K|M|G]] [--iopslimit <N>] [--ioprio <0-7>]\n"
	  "\t[--diskspace <soft>[:<hard>]] [--diskinodes <soft>[:<hard>]] [--quotatime <seconds>]\n"
	  "\t[--offline-resize] [--offline]\n"
	  "\t[--capability <name>:on|off[,...]] [--devnodes <device>:r|w|rw|q|none]\n"
	  "\t[--devices b|c:<major>:<minor>|all:r|w|rw|q|none] [--userns yes|no]\n"
	  "\t[--netif_add <ifname>[,<mac>,<host_ifname>,<host_mac>,<bridge>]] [--netif_del <ifname>|all]\n"
	  "\t[--ifname <ifname> [--mac <mac>] [--host_ifname <name>] [--host_mac <mac>]\n"
	  "\t [--bridge <name>] [--gw <addr>] [--gw6 <addr>] [--mac_filter on|off]]\n"
	  "\t[--netdev_add <device>] [--netdev_del <device>] [--skip_arpdetect]\n"
	  "\t[--features <name>:on|off[,...]] [--netfilter disabled|stateless|stateful|full]\n"
	  "\t[--iptables <module>[,...]] [--vm_overcommit <float>] [--meminfo none|pages:<N>|privvmpages:<N>]\n"
	  "\t[--quotaugidlimit <N>] [--diskquota yes|no] [--avnumproc <N>[:<N>]]\n"
	  "\t[UBC parameters]\n"
	  "\nUBC parameters (N - items, P - pages, B - bytes):\n"
	  "Two numbers divided by colon means barrier:limit.\n"
	  "In case the limit is not given it is set to the same value as the barrier.\n"
	  "Numbers take a K, M, G, T (or P for pages, B for bytes) suffix; \"unlimited\" is none.\n"
	  "   --numproc N[:N]      --numtcpsock N[:N]      --numothersock N[:N]\n"
	  "   --vmguarpages P[:P]  --kmemsize B[:B]        --tcpsndbuf B[:B]\n"
	  "   --tcprcvbuf B[:B]    --othersockbuf B[:B]    --dgramrcvbuf B[:B]\n"
	  "   --oomguarpages P[:P] --lockedpages P[:P]     --privvmpages P[:P]\n"
	  "   --shmpages P[:P]     --numfile N[:N]         --numflock N[:N]\n"
	  "   --numpty N[:N]       --numsiginfo N[:N]      --dcachesize B[:B]\n"
	  "   --numiptent N[:N]    --physpages P[:P]       --swappages P[:P]" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vzctl [options] <command> <CTID> [parameters]\n"
		   "Options: --quiet --verbose --skiplock --version --help\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].usage)
			fprintf(f, "vzctl %s\n", commands[i].usage);
}

int cmd_bad_args(const char *fmt, const char *arg)
{
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return NVZ_E_SYNTAX;
}

char **cmd_getopt_argv(const struct cmd_ctx *c)
{
	char **v = calloc((size_t)c->argc + 2, sizeof(*v));
	if (!v)
		return NULL;
	v[0] = program_invocation_name;
	memcpy(v + 1, c->argv, (size_t)c->argc * sizeof(*v));
	return v;
}

int cmd_non_options(char **av, int argc)
{
	printf("non-option ARGV-elements: ");
	while (optind < argc)
		printf("%s ", av[optind++]);
	printf("\n");
	return NVZ_E_SYNTAX;
}

int cmd_no_options(const struct cmd_ctx *c)
{
	if (!c->argc)
		return 0;
	fputs("Invalid options: ", stderr);
	for (int i = 0; i < c->argc; i++)
		fprintf(stderr, "%s ", c->argv[i]);
	fputc('\n', stderr);
	return NVZ_E_SYNTAX;
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int run_cmd(const struct cmd *cmd, const char *ctarg, int argc, char **argv,
		   struct cli_out *out, bool skiplock)
{
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	if (nvz_ctx_open(&ctx, cli_log, out, &err) < 0)
		return cli_fail(err);
	ctx->skiplock = skiplock;
	cli_log_errors_to(ctx);
	const char *verbose = nvz_ctx_get(ctx, "VERBOSE", "0");
	out->verbose += atoi(verbose);
	unsigned long veid;
	struct nvz_ct *ct = NULL;
	int rc;
	if (nvz_ct_resolve(ctx, ctarg, &veid, &err) < 0 || nvz_ct_open(ctx, veid, &ct, &err) < 0) {
		rc = cli_fail(err);
	} else if (veid == 0 && strcmp(cmd->name, "set")) {
		fprintf(stderr, "Only set actions are allowed for CT0\n");
		rc = NVZ_E_VALUE;
	} else if ((cmd->flags & CMD_NEEDS_CONFIG) && !ct->conf_exists) {
		fprintf(stderr, "Container config file does not exist\n");
		rc = NVZ_E_NOVECONFIG;
	} else if ((cmd->flags & CMD_LOCK) && nvz_ct_lock(ct, &err) < 0) {
		rc = cli_fail(err);
	} else {
		if ((cmd->flags & CMD_ADOPTS) && nvz_ct_adopt_if_orphaned(ct, &err) < 0) {
			fprintf(stderr, "Warning: %s\n", err->msg);
			nvz_error_clear(&err);
		}
		struct cmd_ctx c = { .ct = ct, .argc = argc, .argv = argv, .name = cmd->name, .out = out };
		rc = cmd->run(&c);
	}
	nvz_ct_free(ct);
	cli_log_errors_to(NULL);
	nvz_ctx_free(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_out out = { 0 };
	bool skiplock = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--quiet"))
			out.quiet = true;
		else if (!strcmp(o, "--verbose"))
			out.verbose++;
		else if (!strcmp(o, "--skiplock"))
			skiplock = true;
		else if (!strcmp(o, "--version")) {
			printf("vzctl version %s (nvz)\n", NVZ_VERSION);
			return cli_close_stdout(0);
		} else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return cli_close_stdout(0);
		} else {
			/* vzctl took it for the command's name. */
			return cmd_bad_args("Bad command: %s", o);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return NVZ_E_SYNTAX;
	}
	const struct cmd *cmd = find_cmd(argv[i]);
	if (!cmd)
		return cmd_bad_args("Bad command: %s", argv[i]);
	if (i + 1 >= argc) {
		fprintf(stderr, "CT ID missing\n");
		return NVZ_E_VALUE;
	}
	if (!cli_is_root()) {
		fprintf(stderr, "This program can only be run under root.\n");
		return NVZ_E_NOACCESS;
	}
	if (cmd->flags & CMD_JOINS_CT) {
		extern char **environ;
		int r = nvz_reexec_sealed(argv, environ);
		if (r < 0)
			fprintf(stderr, "warning: cannot re-execute from a sealed copy (%d)\n", -r);
	}
	int rc = run_cmd(cmd, argv[i + 1], argc - i - 2, argv + i + 2, &out, skiplock);
	return cli_close_stdout(rc);
}
