/* vzcalc: the share of the host's memory one container uses now, is
 * promised and may take at most (OpenVZ's vzcalc; lib/ct/memcheck.c maps
 * the rows to VSwap and cgroup terms). CTID or name; -v every row. A
 * stopped CT's Current is n/a, as OpenVZ printed it. Exit status 0, 1 on
 * error. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "nvz/cleanup.h"
#include "nvz/memcheck.h"

static int usage(FILE *f, int rc)
{
	fprintf(f, "Usage: vzcalc [-v] <veid>\n");
	return rc;
}

int main(int argc, char **argv)
{
	bool verbose = false;
	int opt;
	while ((opt = getopt(argc, argv, "vh")) != -1) {
		switch (opt) {
		case 'v': verbose = true; break;
		case 'h': return cli_close_stdout(usage(stdout, 0));
		default: return 1; /* getopt said why; OpenVZ added no usage */
		}
	}
	/* OpenVZ's vzcalc read the first CT and ignored the rest. */
	if (optind == argc)
		return usage(stderr, 1);
	const char *arg = argv[optind];
	struct cli_out out = { 0 };
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	unsigned long veid;
	struct nvz_mem_host h;
	struct nvz_mem_ct ct;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0) {
		cli_fail(err);
		return 1;
	}
	if (nvz_ct_resolve(ctx, arg, &veid, &err) < 0) {
		/* A number vzctl would not take is OpenVZ's message; a name says
		 * it has no CT. */
		if (isdigit((unsigned char)*arg) || *arg == '-')
			fprintf(stderr, "Invalid CT ID: %s\n", arg);
		else
			fprintf(stderr, "%s\n", err->msg);
		nvz_error_free(err);
		nvz_ctx_free(ctx);
		return 1;
	}
	if (nvz_mem_host_read(&h, &err) < 0 || nvz_calc_read(ctx, veid, &ct, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		nvz_error_free(err);
		nvz_ctx_free(ctx);
		return 1;
	}
	nvz_ctx_free(ctx);
	struct nvz_calc c;
	nvz_calc_compute(&h, &ct, &c);
	cleanup_free char *text = nvz_calc_format(&c, verbose);
	if (!text) {
		fprintf(stderr, "vzcalc: out of memory\n");
		return 1;
	}
	fputs(text, stdout);
	return cli_close_stdout(0);
}
