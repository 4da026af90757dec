/* vzmemcheck: how much of the host's memory the running containers use and
 * are promised (OpenVZ's vzmemcheck; lib/ct/memcheck.c maps its columns to
 * VSwap and cgroup terms). -v a line per CT, -A megabytes instead of %.
 * Exit status 0, 1 on error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "nvz/cleanup.h"
#include "nvz/memcheck.h"

static int usage(FILE *f, int rc)
{
	fprintf(f, "Usage: vzmemcheck [-v] [-A]\n");
	return rc;
}

int main(int argc, char **argv)
{
	bool verbose = false, absolute = false;
	int opt;
	while ((opt = getopt(argc, argv, "vAh")) != -1) {
		switch (opt) {
		case 'v': verbose = true; break;
		case 'A': absolute = true; break;
		case 'h': return cli_close_stdout(usage(stdout, 0));
		default: return usage(stderr, 1);
		}
	}
	/* Arguments after the options are ignored, as by OpenVZ's vzmemcheck. */
	struct cli_out out = { 0 };
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	struct nvz_mem_host h;
	cleanup_free struct nvz_mem_ct *cts = NULL;
	size_t n = 0;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0 || nvz_mem_host_read(&h, &err) < 0 ||
	    nvz_memcheck_read(ctx, &cts, &n, &err) < 0) {
		nvz_ctx_free(ctx);
		cli_fail(err);
		return 1;
	}
	nvz_ctx_free(ctx);
	cleanup_free char *text = nvz_memcheck_format(&h, cts, n, verbose, absolute);
	if (!text) {
		fprintf(stderr, "vzmemcheck: out of memory\n");
		return 1;
	}
	fputs(text, stdout);
	return cli_close_stdout(0);
}
