/* vzmigrate: move a container to another server (OpenVZ's options, steps,
 * messages and exit codes); the work is in lib/cpt/migrate.c. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nvz/ct.h"
#include "nvz/migrate.h"

/* OpenVZ's usage text, its layout and words, with nvz's own options
 * (--no-ssh-mux, --lazy, --noiter) in the same style. */
static void usage(FILE *f)
{
	fputs("This program is used for container migration to another node.\n"
	      "Usage:\n"
	      "  vzmigrate [option ...] destination_address <CTID>\n"
	      "Options:\n"
	      "-r, --remove-area yes|no\n"
	      "\tWhether to remove container on source host after successful migration.\n"
	      "--ssh=<ssh options>\n"
	      "\tAdditional options that will be passed to ssh while establishing\n"
	      "\tconnection to destination host. Please be careful with options\n"
	      "\tpassed, DO NOT pass destination hostname.\n"
	      "--ssh-mux, --no-ssh-mux\n"
	      "\tOne ssh connection for the whole migration (the default), or\n"
	      "\ta new one for every copy.\n"
	      "--rsync=<rsync options>\n"
	      "\tAdditional options that will be passed to rsync.\n"
	      "--keep-dst\n"
	      "\tDo not clean synced destination container private area in case of some\n"
	      "\terror. It makes sense to use this option on big container migration to\n"
	      "\tavoid re-syncing container private area in case some error\n"
	      "\t(on container stop for example) occurs during first migration attempt.\n"
	      "-c, --compact\n"
	      "\tCompact a container image before migration. Works for ploop only.\n"
	      "-s, --snapshot\n"
	      "\tAccepted: nvz copies a ploop image without a snapshot.\n"
	      "--live, --online\n"
	      "\tPerform live migration: instead of restarting a container, checkpoint\n"
	      "\tand restore are used, so there is no container downtime or service\n"
	      "\tinterruption. Additional steps are performed to minimize the time\n"
	      "\twhen a container is in suspended state.\n"
	      "--lazy\n"
	      "\t(implies --live) Post-copy: the container runs on the destination at\n"
	      "\tonce and its memory follows; the freeze does not grow with the memory\n"
	      "\tsize. RISK: until the memory is copied, the container needs both\n"
	      "\tservers: if either fails then, the container is LOST.\n"
	      "--noiter\n"
	      "\t(live) No iterative memory copy: all memory is dumped and copied\n"
	      "\twhile the container is frozen.\n"
	      "--check-only, --dry-run\n"
	      "\tDo not perform actual migration, stop after preliminary checks.\n"
	      "\tThis is used to check if a CT can possibly be migrated. Combine\n"
	      "\twith --live to enable more checks for live migration case.\n"
	      "-f, --nodeps[=<check>[,<check> ...]]\n"
	      "\tContinue migration, ignoring some or all preliminary check failures.\n"
	      "\tParticular checks can be ignored by providing an argument to\n"
	      "\t--nodeps option. The following options can be used (comma-separated):\n"
	      "\t  * cpu\t\t- ignore cpu capabilities check\n"
	      "\t  * ipv6\t- ignore ipv6 module check\n"
	      "-v\n"
	      "\tVerbose mode. Causes vzmigrate to print debugging messages about\n"
	      "\tits progress (including some time statistics). Multiple -v options\n"
	      "\tincrease the verbosity. The maximum is 4.\n"
	      "-t, --times\n"
	      "\tAt the end of migration, output various timings for migration\n"
	      "\tstages.\n"
	      "\n"
	      "Examples:\n"
	      "\tOnline migration of CT #101 to foo.com:\n"
	      "\t\tvzmigrate --live foo.com 101\n"
	      "\tMigration of CT #102 to foo.com with downtime:\n"
	      "\t\tvzmigrate foo.com 102\n"
	      "Notes:\n"
	      "\tThis program uses ssh as a transport layer. You need to put ssh\n"
	      "\tpublic key to destination node and be able to connect without\n"
	      "\tentering a password.\n",
	      f);
}

/* OpenVZ's words for a bad command line, on stdout as its script printed
 * them (its heredoc went to stdout), status 1. */
__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("Invalid usage: ");
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n\nFor command line syntax, please check\n"
	       "  vzmigrate --help\n"
	       "  man vzmigrate\n");
	return NVZ_MIG_USAGE;
}

/* The first word of a --nodeps list that is not cpu, ipv6 or all (OpenVZ
 * named it), or the whole list if it is malformed otherwise. */
static const char *bad_nodeps_word(const char *list, char *buf, size_t len)
{
	snprintf(buf, len, "%s", list);
	char *save = NULL;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (nvz_migrate_parse_nodeps(w) < 0)
			return w;
	return list;
}

static void print_times(const struct nvz_migrate_times *t, bool lazy)
{
	printf("Times:\n"
	       "  Syncing private (CT running): %.2f s\n", t->sync1);
	/* Iterative memory copy: before the freeze, the CT running. */
	for (int i = 0; i < t->predump.rounds; i++)
		printf("  Memory copy round %d (CT running): %.2f s, %.1f MB\n", i + 1, t->predump.secs[i],
		       (double)t->predump.bytes[i] / (1 << 20));
	printf("  Stopping or checkpoint:       %.2f s\n"
	       "  Final sync:                   %.2f s\n"
	       "  Start or restore there:       %.2f s\n",
	       t->stop, t->sync2, t->start);
	/* Post-copy: the CT already runs there while its memory follows. */
	if (lazy)
		printf("  Copying memory (CT running):  %.2f s\n", t->pages);
	printf("  Total time CT was down:       %.2f s\n"
	       "  Total:                        %.2f s\n",
	       t->frozen, t->total);
}

static int parse(int argc, char **argv, struct nvz_migrate_opts *o, struct cli_out *out, bool *times)
{
	static const struct option opts[] = {
		{ "remove-area", required_argument, NULL, 'r' },
		{ "ssh", required_argument, NULL, 'S' },
		{ "rsync", required_argument, NULL, 'R' },
		{ "ssh-mux", no_argument, NULL, 'M' },
		{ "no-ssh-mux", no_argument, NULL, 'N' },
		{ "compact", no_argument, NULL, 'C' },
		{ "snapshot", no_argument, NULL, 'p' },
		{ "nodeps", optional_argument, NULL, 'f' },
		{ "keep-dst", no_argument, NULL, 'k' },
		{ "online", no_argument, NULL, 'o' },
		{ "live", no_argument, NULL, 'o' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "noiter", no_argument, NULL, 'I' },
		{ "check-only", no_argument, NULL, 'K' },
		{ "dry-run", no_argument, NULL, 'K' },
		{ "times", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "usage", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch, li;
	/* OpenVZ's vzmigrate with no argument at all printed its usage, status 0. */
	if (argc == 1) {
		usage(stdout);
		return -1;
	}
	/* li: the long option typed, -1 for a short one (named in messages). */
	while ((li = -1, ch = getopt_long(argc, argv, "r:csf::tvh?", opts, &li)) != -1) {
		switch (ch) {
		case 'r':
			if (strcmp(optarg, "yes") && strcmp(optarg, "no"))
				return bad_usage("Bad argument for %s: %s", li < 0 ? "-r" : "--remove-area", optarg);
			o->keep_src = !strcmp(optarg, "no");
			break;
		case 'S': o->ssh_opts = optarg; break;
		case 'R': o->rsync_opts = optarg; break;
		case 'k': o->keep_dst = true; break;
		case 'o': o->online = true; break;
		case 'L': o->online = o->lazy = true; break;
		case 'I': o->noiter = true; break;
		case 'K': o->check_only = true; break;
		case 'c':
		case 'C': o->compact = true; break;
		case 's':
		case 'p': o->snapshot = true; break;
		case 'f':
			/* OpenVZ's script took "-f=cpu" as well as "--nodeps=cpu". */
			if (optarg && *optarg == '=')
				optarg++;
			if (nvz_migrate_parse_nodeps(optarg) < 0) {
				char buf[256];
				return bad_usage("unknown %s argument: %s", li < 0 ? "-f" : "--nodeps",
						 bad_nodeps_word(optarg, buf, sizeof(buf)));
			}
			o->nodeps |= (unsigned)nvz_migrate_parse_nodeps(optarg);
			break;
		case 'M': o->no_ssh_mux = false; break;
		case 'N': o->no_ssh_mux = true; break;
		case 't': *times = true; break;
		case 'v': out->verbose++; break;
		case 'h': usage(stdout); return -1;
		case '?':
			if (!strcmp(argv[optind - 1], "-?")) { /* OpenVZ's help too */
				usage(stdout);
				return -1;
			}
			/* getopt said which option on stderr. */
			return bad_usage("unknown option %s", argv[optind - 1]);
		default: return bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	/* OpenVZ: any -v prints the times too. */
	if (out->verbose)
		*times = true;
	if (argc - optind != 2)
		return bad_usage("%s", argc - optind < 2 ? "not enough parameters" : "too many parameters");
	o->dest = argv[optind];
	struct nvz_migrate_dest d;
	struct nvz_error *err = NULL;
	if (nvz_migrate_parse_dest(o->dest, &d, &err) < 0) {
		nvz_error_free(err);
		return bad_usage("Bad destination address: %s", o->dest);
	}
	nvz_migrate_dest_free(&d);
	return 0;
}

/* OpenVZ's second error line after some of its first ones. */
static const char *follow_up(const char *msg)
{
	static const struct {
		const char *first, *then;
	} lines[] = {
		{ "Can't connect to destination address", "Please put your public key to destination node" },
		{ "OpenVZ is not running on the target machine", "Can't continue migration" },
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strncmp(msg, lines[i].first, strlen(lines[i].first)))
			return lines[i].then;
	return NULL;
}

/* A signal does not kill vzmigrate: it stops the running copy and the
 * migration rolls back (the CT runs on the source again, the target is
 * cleaned). Only SIGKILL skips that, and then the target still cleans up. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waits return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct cli_out out = { 0 };
	struct nvz_migrate_opts o = { .interrupted = &interrupted };
	bool times = false;
	int rc = parse(argc, argv, &o, &out, &times);
	if (rc)
		return rc < 0 ? cli_close_stdout(0) : rc;
	if (!cli_is_root()) {
		fprintf(stderr, "This program can only be run under root.\n");
		return NVZ_MIG_USAGE;
	}
	o.verbose = out.verbose;
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0)
		return cli_fail(err);
	unsigned long veid;
	struct nvz_ct *ct = NULL;
	struct nvz_migrate_times t;
	catch_signals();
	if (nvz_ct_resolve(ctx, argv[optind + 1], &veid, &err) < 0 ||
	    nvz_ct_open(ctx, veid, &ct, &err) < 0) {
		err->status = NVZ_MIG_NOTEXIST;
		rc = cli_fail(err);
	} else if (nvz_migrate(ct, &o, &t, &err) < 0) {
		const char *then = follow_up(err->msg);
		fputs("Error: ", stderr);
		rc = cli_fail(err);
		if (then)
			fprintf(stderr, "Error: %s\n", then);
	} else {
		rc = 0;
		if (times && !o.check_only)
			print_times(&t, o.lazy);
	}
	nvz_ct_free(ct);
	nvz_ctx_free(ctx);
	return cli_close_stdout(rc);
}
