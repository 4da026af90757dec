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

static void usage(FILE *f)
{
	fprintf(f, "Usage: vzmigrate [-r yes|no] [--ssh=<options>] [--ssh-mux|--no-ssh-mux] [--rsync=<options>]\n"
		   "\t[--keep-dst] [--online [--lazy|--noiter]] [-c|--compact] [-s|--snapshot]\n"
		   "\t[-f|--nodeps[=cpu,ipv6,all]] [--check-only] [-t|--times] [-v]\n"
		   "\t<destination_address> <CTID>\n"
		   "Options:\n"
		   "  -r, --remove-area yes|no  remove the private area on the source (default yes)\n"
		   "  --ssh=<options>           additional options for ssh (-i key, -p port, -o ...)\n"
		   "  --ssh-mux                 one ssh connection for the whole migration (the default)\n"
		   "  --no-ssh-mux              a new ssh connection for every copy\n"
		   "  --rsync=<options>         additional options for rsync\n"
		   "  --keep-dst                keep the synced private area on the target on failure\n"
		   "  --online, --live          checkpoint and restore instead of stop and start\n"
		   "  --lazy                    (implies --online) post-copy: the CT runs on the\n"
		   "                            destination at once and its memory follows; the\n"
		   "                            freeze does not grow with the memory size.\n"
		   "                            RISK: until the memory is copied, the CT needs both\n"
		   "                            servers: if either fails then, the CT is LOST\n"
		   "  --noiter                  (online) no iterative memory copy: all memory is\n"
		   "                            dumped and copied while the CT is frozen (the\n"
		   "                            default copies it first while it runs, where the\n"
		   "                            kernel tracks dirty pages)\n"
		   "  -c, --compact             compact a ploop image before copying it\n"
		   "  -s, --snapshot            accepted: OpenVZ snapshotted a ploop image to copy\n"
		   "                            it while the CT ran; nvz copies it without one\n"
		   "  -f, --nodeps[=cpu,ipv6,all]  skip checks of the destination: that its CPU has\n"
		   "                            the source's features (online), that it has IPv6\n"
		   "                            if the CT has IPv6 addresses (default: all)\n"
		   "  --check-only, --dry-run   only check that the migration can be done\n"
		   "  -t, --times               print how long each step took\n"
		   "  -v, --verbose             say more\n");
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
		fputs("Error: ", stderr);
		rc = cli_fail(err);
	} else {
		rc = 0;
		if (times && !o.check_only)
			print_times(&t, o.lazy);
	}
	nvz_ct_free(ct);
	nvz_ctx_free(ctx);
	return cli_close_stdout(rc);
}
