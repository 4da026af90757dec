/* vzcpucheck: the CPU units promised to the host (VE0CPUUNITS) and to the
 * running containers, against the node's power (OpenVZ's
 * bin/vzcpucheck.in, with the units nvz applied instead of fairsched's).
 * -v lists them. Exit status 0, 1 on error, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nvz/ct.h"

/* OpenVZ's vzcpucheck was awk: the power passed through print, which
 * writes a non-integral number with OFMT "%.6g", and then int(). So
 * 229999.5 was shown, and compared, as 230000; 1839995.75 as 1840000. */
static double as_openvz_printed(double v)
{
	if (v == (double)(long long)v)
		return v;
	char buf[64];
	snprintf(buf, sizeof(buf), "%.6g", v);
	return (double)(long long)strtod(buf, NULL);
}

int main(int argc, char **argv)
{
	bool verbose = argc == 2 && !strcmp(argv[1], "-v");
	if (argc > 2 || (argc == 2 && !verbose)) {
		fprintf(stderr, "Usage: vzcpucheck [-v]\n");
		return 2;
	}
	struct cli_out out = { 0 };
	struct nvz_ctx *ctx = NULL;
	struct nvz_error *err = NULL;
	struct nvz_cpucheck c;
	if (nvz_ctx_open(&ctx, cli_log, &out, &err) < 0 || nvz_cpucheck(ctx, &c, &err) < 0) {
		nvz_ctx_free(ctx);
		cli_fail(err);
		return 1;
	}
	if (verbose) {
		printf("VEID\t\tCPUUNITS\n-------------------------\n");
		printf("0\t\t%lu\n", c.host_units);
		for (size_t i = 0; i < c.n; i++)
			printf("%lu\t\t%lu\n", c.cts[i].id, c.cts[i].units);
	}
	printf("Current CPU utilization: %lu\n", c.total);
	double power = as_openvz_printed(c.power);
	printf("Power of the node: %lu\n", (unsigned long)power);
	if ((double)c.total > power)
		printf("Warning: hardware node is overcommitted\n");
	free(c.cts);
	nvz_ctx_free(ctx);
	return cli_close_stdout(0);
}
