/* vzctl migrate-recv: the target end of vzmigrate (hidden; run over ssh). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/migrate.h"
#include "vzctl.h"

/* stdout carries the protocol: every message goes to stderr, which ssh
 * hands to the source's terminal. Warnings too, as vzctl prints them (the
 * CT's disk limits not enforced here...). */
static void log_stderr(void *userdata, int level, const char *msg)
{
	const struct cli_out *out = userdata;
	bool warn = !strncmp(msg, "Warning", 7) || !strncmp(msg, "WARNING", 7);
	if (level == NVZ_LOG_ERROR || warn || level < out->verbose)
		fprintf(stderr, "%s\n", msg);
}

/* One line for the source: KEPT (the session committed) or NONE. */
static int recv_query(struct cmd_ctx *c)
{
	struct nvz_error *err = NULL;
	bool kept;
	if (nvz_migrate_recv_query(c->ct, &kept, &err) < 0)
		return cli_fail(err);
	printf("%s\n", kept ? "KEPT" : "NONE");
	return 0;
}

int cmd_migrate_recv(struct cmd_ctx *c)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "ips", required_argument, NULL, 'i' },
		{ "tree", required_argument, NULL, 't' },
		{ "layout", required_argument, NULL, 'l' },
		{ "keep-dst", no_argument, NULL, 'k' },
		{ "online", no_argument, NULL, 'o' },
		{ "cpuinfo", required_argument, NULL, 'c' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "check-ipv6", no_argument, NULL, '6' },
		{ "query", no_argument, NULL, 'q' },
		{ 0 },
	};
	struct nvz_migrate_recv_opts o = { .in = 0, .out = 1 };
	bool query = false;
	optind = 0;
	int ch;
	while ((ch = getopt_long(c->argc + 1, c->argv - 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.name = optarg; break;
		case 'i': o.ips = optarg; break;
		case 't': o.tree = optarg; break;
		case 'l': o.layout = optarg; break;
		case 'k': o.keep_dst = true; break;
		case 'o': o.online = true; break;
		case 'c': o.cpuinfo = optarg; break;
		case 'g': o.cgroup_version = atoi(optarg); break;
		case '6': o.check_ipv6 = true; break;
		case 'q': query = true; break;
		default: return NVZ_E_SYNTAX;
		}
	}
	if (query)
		return recv_query(c);
	c->ct->ctx->log = log_stderr;
	c->ct->ctx->log_data = c->out;
	struct nvz_error *err = NULL;
	if (nvz_ct_lock(c->ct, &err) < 0) {
		fprintf(stderr, "CT %s is locked on the destination: %s\n", c->ct->id, err->msg);
		nvz_error_free(err);
		return NVZ_MIG_LOCKED;
	}
	if (nvz_migrate_recv(c->ct, &o, &err) < 0) {
		/* The source aborted: it says why; cleaning up here is the answer. */
		if (err->code == ECANCELED) {
			int st = err->status;
			nvz_error_free(err);
			return st;
		}
		return cli_fail(err);
	}
	return 0;
}
